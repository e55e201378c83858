"""The cluster identity's roles on a BYO zone and its VNets (DNS015), judged by what the role definitions permit.

Each assignment's definition is read (`arm.role_definitions`): a custom role that grants what AKS needs is as good
as the built-in one, and one that grants less is not, whatever it is called. A definition that could not be read
is never guessed at (AZ001 or the probe's `unread` says so); the built-in GUIDs below decide only for snapshots
taken before definitions were read.
"""

from __future__ import annotations

from aksdiag.probes.private_dns.common import ID

from aksdiag import codes
from aksdiag.armview import same_id
from aksdiag.azfacts import AzureFacts, Cluster
from aksdiag.model import Finding

# Built-in role definition ids (the same in every tenant): the fallback for snapshots without definitions.
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"
ROLE_NAMES = {
    OWNER: "Owner", CONTRIBUTOR: "Contributor", NETWORK_CONTRIBUTOR: "Network Contributor",
    PRIVATE_DNS_ZONE_CONTRIBUTOR: "Private DNS Zone Contributor",
}  # fmt: skip

ZONE_ACTIONS = (
    "Microsoft.Network/privateDnsZones/read",
    "Microsoft.Network/privateDnsZones/write",
    "Microsoft.Network/privateDnsZones/A/read",
    "Microsoft.Network/privateDnsZones/A/write",
    "Microsoft.Network/privateDnsZones/A/delete",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks/write",
)
"""What AKS does on a BYO zone: read it, write the API server's A record (and replace it after a stop/start), link
the cluster VNet. Learn's AKS permissions list Microsoft.Network/privateDnsZones/*, as Private DNS Zone
Contributor grants."""
VNET_ACTIONS = (
    "Microsoft.Network/virtualNetworks/subnets/read",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
)
"""What AKS does on a BYO VNet: read the node subnets and join them (Network Contributor grants it)."""


def _is_zone(scope: str) -> bool:
    return "/privatednszones/" in scope.lower()


def principal_of(arm: AzureFacts, cluster: Cluster) -> str:
    """The object id AKS acts as: the system-assigned identity's, else the user-assigned identity's principal (read
    from the identity resource). When neither was read: a shell expression that looks it up, never a placeholder."""
    if cluster.principal_id:
        return cluster.principal_id
    assigned = cluster.assigned_identities or tuple((i.id or k, "") for k, i in sorted(arm.identities.items()))
    if len(assigned) == 1:  # AKS's control plane has one identity: the system-assigned or one user-assigned
        (iid, principal), read = assigned[0], arm.identities.get(assigned[0][0].lower())
        if read and read.principal_id:
            return read.principal_id
        if principal:
            return principal
        return f"$(az identity show --ids {iid} --query principalId -o tsv)"
    rg, name = _rg_name(cluster.id)
    return f"$(az aks show --resource-group {rg} --name {name} --query identity.principalId -o tsv)"


def _rg_name(cluster_id: str) -> tuple[str, str]:
    parts = cluster_id.split("/")
    return (parts[4] if len(parts) > 4 else "<resource-group>"), (parts[-1] or "<cluster>")


def dns015_roles(arm: AzureFacts, cluster: Cluster) -> list[Finding]:
    findings = []
    gone = [e.scope for e in arm.errors if e.status == 404]
    for scope, held in arm.role_assignments.items():
        if held is None or any(same_id(scope, g) for g in gone):
            continue  # unreadable (AZ001), or the scope itself is gone (AZ002)
        missing = _missing(arm, scope, held) if arm.role_definitions else _missing_by_name(scope, held)
        if not missing:
            continue
        role = "Private DNS Zone Contributor" if _is_zone(scope) else "Network Contributor"
        names = [_name(arm, h) for h in held]
        principal = principal_of(arm, cluster)
        findings.append(
            codes.DNS015.at(
                ID,
                principal=principal,
                who=principal if not principal.startswith("$(") else "(its principal id was not read)",
                scope=scope,
                role=role,
                held=", ".join(names) or "no role",
                missing=", ".join(missing),
                evidence={"scope": scope, "role_definitions": list(held), "missing_actions": missing},
            )
        )
    return findings


def _missing(arm: AzureFacts, scope: str, held: tuple[str, ...]) -> list[str]:
    """The needed actions none of the read definitions grants; none when one held definition is unread (it might)."""
    if any(h not in arm.role_definitions for h in held):
        return []  # no guess: AZ001 or `unread` names the definition
    needed = ZONE_ACTIONS if _is_zone(scope) else VNET_ACTIONS
    return [a for a in needed if not any(arm.role_definitions[h].allows(a) for h in held)]


def _missing_by_name(scope: str, held: tuple[str, ...]) -> list[str]:
    """A snapshot without definitions: the built-in roles by GUID, a custom one not judged."""
    needed = PRIVATE_DNS_ZONE_CONTRIBUTOR if _is_zone(scope) else NETWORK_CONTRIBUTOR
    if {needed, CONTRIBUTOR, OWNER} & set(held) or any(h not in ROLE_NAMES for h in held):
        return []
    return list(ZONE_ACTIONS if _is_zone(scope) else VNET_ACTIONS)


def _name(arm: AzureFacts, guid: str) -> str:
    found = arm.role_definitions.get(guid)
    if found and found.name:
        return f"{found.name} (custom)" if found.custom else found.name
    return ROLE_NAMES.get(guid, guid)


def unread_roles(arm: AzureFacts) -> tuple[str, ...]:
    """The held role definitions neither read nor reported as a failed read: DNS015 could not judge them."""
    if not arm.role_definitions:
        return ()  # a snapshot from before definitions were read: judged by name
    failed = " ".join(e.scope.lower() for e in arm.errors)
    out = []
    for scope, held in arm.role_assignments.items():
        for guid in held or ():
            if guid not in arm.role_definitions and f"/roledefinitions/{guid}" not in failed:
                out.append(f"the role definition {guid} held on {scope} was not read: its permissions were not judged")
    return tuple(dict.fromkeys(out))
