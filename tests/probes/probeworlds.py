"""The facts the sources would read from a lab world, built from its raw payloads without a server.

ARM bodies come from aksdiag.lab.armworld (real REST payloads, the load balancer worlds of lbworld included);
Kubernetes objects from kubeworlds and lbworld (the official client's models in wire shape). The facts are the
raw AzureContext / KubeList a snapshot saves, so every test goes through the probes' one digest.

The landing-zone fields (subscriptions, resolvers, rulesets, firewalls, server hosts, role definitions,
identities) are filled from what the world holds, as the Azure source reads them: a world without subscription
bodies (every world but lz-*) keeps `subscriptions` None and `searched_subscriptions` empty. A subscription the
world hides (lz-denied-sub) is absent, and the 403s the fake ARM answers for it stand in for its bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from aksdiag import armview
from aksdiag.facts import AzureContext, AzureContextNeed, AzureReadError, AzureVmssNics, KubeContextNeed, KubeList
from aksdiag.lab import arm, armworld

NEED = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, "https://127.0.0.1:1")
LB_NEED = replace(NEED, load_balancers=True)
KUBE = KubeContextNeed(kubeconfig="/nonexistent/kubeconfig")

Body = dict[str, Any]


def bodies(world: str, patch: Callable[[Body], None] | None = None) -> dict[str, list[Body]]:
    """The world's ARM bodies by lower-cased type, each passed through `patch` first."""
    by_type: dict[str, list[Body]] = {}
    for b in armworld.build(world):
        if b.get("_document"):  # a document the fake ARM serves at its path (no resource, no type): not a body
            continue
        if patch is not None:
            patch(b)
        by_type.setdefault(b["type"].lower(), []).append(b)
    return by_type


def azure_context(
    world: str,
    errors: tuple[AzureReadError, ...] = (),
    drop: str = "",
    patch: Callable[[Body], None] | None = None,
    need: AzureContextNeed = NEED,
) -> AzureContext:
    """The AzureContext the Azure source would read from `world` (bodies as ARM serves them). `drop` leaves a
    read out as a failed read leaves it: "links" (the zone's links), "load_balancers"."""
    by_type = bodies(world, patch)
    hidden = {str(s).lower() for s in armworld.faults(world).get(arm.HIDDEN) or ()}
    by_type = {t: [b for b in bs if _sub(b["id"]) not in hidden] for t, bs in by_type.items()}
    cluster = by_type["microsoft.containerservice/managedclusters"][0]
    own_id = armview.cluster_zone_id(cluster) or ""
    fqdn = str(cluster["properties"].get("privateFQDN") or cluster["properties"].get("fqdn") or "").lower()
    zones = by_type.get("microsoft.network/privatednszones", [])
    zone = next((z for z in zones if z["id"].lower() == own_id.lower()), None)
    endpoints = by_type.get("microsoft.network/privateendpoints", [])
    nics = by_type.get("microsoft.network/networkinterfaces", [])
    connections = by_type.get("microsoft.network/privatelinkservices/privateendpointconnections", [])
    own_name = own_id.rsplit("/", 1)[-1].lower()

    def under(z: Body, kind: str) -> list[Body]:
        return [b for b in by_type.get(kind, []) if b["id"].lower().startswith(z["id"].lower() + "/")]

    def zone_entry(z: Body, links: list[Body] | None) -> Body:
        return {
            "id": z["id"],
            "name": z["name"],
            "resource_group": z["id"].split("/")[4],
            "zone": z,
            "links": links,
            "records": under(z, "microsoft.network/privatednszones/a"),
        }

    def could_answer(z: Body) -> bool:
        """A zone that could answer the FQDN: its name a suffix of it, or the cluster zone's own name."""
        name = z["name"].lower()
        return fqdn == name or fqdn.endswith("." + name) or name == own_name

    def endpoint_entry(e: Body) -> Body:
        entry = {
            "endpoint": e,
            "nics": [n for n in nics if any(r["id"] == n["id"] for r in e["properties"]["networkInterfaces"])],
        }
        connection = next((c for c in connections if _same(c["properties"]["privateEndpoint"]["id"], e["id"])), None)
        if connection is not None:
            entry["connection"] = connection
        return entry

    vnets = {v["id"].lower(): v for v in by_type["microsoft.network/virtualnetworks"]}
    roles = _roles(cluster, own_id, by_type.get("microsoft.authorization/roleassignments", []), hidden)
    node_rg = cluster["properties"]["nodeResourceGroup"].lower()
    in_node_rg = f"/resourcegroups/{node_rg}/"
    return AzureContext(
        need=need,
        cluster=cluster,
        vnets=vnets,
        zone=None
        if zone is None
        else zone_entry(
            zone, None if drop == "links" else under(zone, "microsoft.network/privatednszones/virtualnetworklinks")
        ),
        endpoints=[endpoint_entry(e) for e in endpoints],
        other_zones=[
            zone_entry(z, under(z, "microsoft.network/privatednszones/virtualnetworklinks"))
            for z in zones
            if z is not zone and could_answer(z)
        ],
        load_balancers=[]
        if not need.load_balancers or drop == "load_balancers"
        else [b for b in by_type.get("microsoft.network/loadbalancers", []) if in_node_rg in b["id"].lower()],
        public_ips=[]
        if not need.load_balancers
        else [b for b in by_type.get("microsoft.network/publicipaddresses", []) if in_node_rg in b["id"].lower()],
        role_assignments=roles,
        zone_mode=cluster["properties"]["apiServerAccessProfile"].get("privateDNSZone") or "system",
        errors=errors + _denied(by_type, own_id, vnets, roles, hidden),
        **_landing(by_type, cluster, vnets, roles, hidden),
    )


def _roles(
    cluster: Body, zone_id: str, assignments: list[Body], hidden: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """Assignments at each checked scope or above it (inherited), as ARM lists them for the source; None at a
    scope in a subscription the caller cannot read."""
    byo = str(cluster["properties"]["apiServerAccessProfile"].get("privateDNSZone", "")).startswith("/subscriptions/")
    scopes = [zone_id] if byo else []
    scopes.append(armworld.AKS_VNET)
    return {
        scope: None
        if _sub(scope) in hidden
        else [a for a in assignments if scope.lower().startswith(a["properties"]["scope"].lower())]
        for scope in scopes
    }


def _landing(
    by_type: dict[str, list[Body]], cluster: Body, vnets: dict[str, Body], roles: dict[str, Any], hidden: set[str]
) -> dict[str, Any]:
    """The landing-zone fields of the AzureContext, as the Azure source fills them (see the module docstring)."""

    def of(kind: str) -> list[Body]:
        return by_type.get(kind, [])

    def children(parent: Body, kind: str) -> list[Body]:
        return [b for b in of(kind) if b["id"].lower().startswith(parent["id"].lower() + "/")]

    def by_id(rid: str) -> Body | None:
        return next((b for bs in by_type.values() for b in bs if _same(b["id"], rid)), None)

    servers = {s for v in vnets.values() for s in v["properties"].get("dhcpOptions", {}).get("dnsServers") or []}
    firewalls = []
    for fw in of("microsoft.network/azurefirewalls"):
        ips = {c["properties"].get("privateIPAddress") for c in fw["properties"].get("ipConfigurations") or []}
        if ips & servers:
            policy = by_id(fw["properties"].get("firewallPolicy", {}).get("id", ""))
            firewalls.append({"firewall": fw, "policy": policy})
            servers |= set(((policy or {}).get("properties", {}).get("dnsSettings") or {}).get("servers") or [])
    hosts: dict[str, Body] = {}
    for nic in of("microsoft.network/networkinterfaces"):
        for config in nic["properties"].get("ipConfigurations") or []:
            ip = config["properties"].get("privateIPAddress")
            if ip in servers:
                vm = nic["properties"].get("virtualMachine")
                hosts[ip] = {"nic": nic, "vm": by_id(vm["id"]) if vm else None}
    assigned = {str(a["properties"]["roleDefinitionId"]) for found in roles.values() for a in found or []}
    definitions = {d["name"].lower(): d for d in of("microsoft.authorization/roledefinitions")
                   if any(_same(d["id"], rid) for rid in assigned)}  # fmt: skip
    identities = {}
    for rid in (cluster.get("identity") or {}).get("userAssignedIdentities") or {}:
        body = by_id(rid)
        if body is not None:
            identities[rid.lower()] = body
    subscriptions = [
        {k: v for k, v in b.items() if k not in ("name", "type")} for b in of("microsoft.resources/subscriptions")
    ]
    return {
        "subscriptions": subscriptions or None,
        "searched_subscriptions": tuple(b["subscriptionId"].lower() for b in subscriptions),
        "resolvers": [
            {"resolver": r, "inbound": children(r, "microsoft.network/dnsresolvers/inboundendpoints"),
             "outbound": children(r, "microsoft.network/dnsresolvers/outboundendpoints")}
            for r in of("microsoft.network/dnsresolvers")
        ],
        "rulesets": [
            {"ruleset": r, "rules": children(r, "microsoft.network/dnsforwardingrulesets/forwardingrules"),
             "links": children(r, "microsoft.network/dnsforwardingrulesets/virtualnetworklinks")}
            for r in of("microsoft.network/dnsforwardingrulesets")
        ],
        "firewalls": firewalls,
        "server_hosts": hosts,
        "role_definitions": definitions,
        "identities": identities,
    }  # fmt: skip


def _denied(
    by_type: dict[str, list[Body]], zone_id: str, vnets: dict[str, Body], roles: dict[str, Any], hidden: set[str]
) -> tuple[AzureReadError, ...]:
    """The refusals the fake ARM answers for the source's reads: 403 for those into a hidden subscription (the
    cluster's zone, the VNets peered with the cluster's, the role assignments at a scope there); in a landing-zone
    world (one with subscription bodies), 404 for a BYO zone that is gone (lz-zone-gone)."""
    zones = {z["id"].lower() for z in by_type.get("microsoft.network/privatednszones", [])}
    landing = "microsoft.resources/subscriptions" in by_type
    if (
        landing
        and zone_id.startswith("/subscriptions/")
        and zone_id.lower() not in zones
        and _sub(zone_id) not in hidden
    ):
        return (AzureReadError(zone_id, 404, "ResourceNotFound", arm.not_found(zone_id), "", "not-found"),)
    if not hidden:
        return ()
    reads = [zone_id] if zone_id and _sub(zone_id) in hidden else []
    for v in vnets.values():
        for peering in v["properties"].get("virtualNetworkPeerings") or []:
            remote = peering["properties"]["remoteVirtualNetwork"]["id"]
            if _sub(remote) in hidden and remote not in reads:
                reads.append(remote)
    reads += [
        f"{scope}/providers/Microsoft.Authorization/roleAssignments" for scope, found in roles.items() if found is None
    ]
    out = []
    for path in reads:
        action, scope, message = arm.denied(path)
        out.append(AzureReadError(scope, 403, "AuthorizationFailed", message, action, "forbidden"))
    return tuple(out)


def _sub(resource_id: str) -> str:
    parts = resource_id.lower().split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "subscriptions" else ""


def _same(a: str, b: str) -> bool:
    return a.lower().rstrip("/") == b.lower().rstrip("/")


def vmss_nics(world: str = "healthy") -> AzureVmssNics:
    """The node scale set's NICs, as the VMSS NIC list returns them (classic Azure CNI's pre-allocated IPs)."""
    nics = bodies(world).get("microsoft.network/networkinterfaces", [])
    return AzureVmssNics(tuple(n for n in nics if "/virtualmachinescalesets/" in n["id"].lower()))


def kube_list(objects: Iterable[Body], kind: str, where: Callable[[Body], bool] = lambda o: True) -> KubeList:
    """The objects of `kind`, filtered as a server-side selector would (`where`)."""
    return KubeList(tuple(o for o in objects if o.get("kind") == kind and where(o)))


def forbidden(resource: str) -> KubeList:
    """What the Kubernetes source returns for a list RBAC denies."""
    message = f'{resource} is forbidden: User "aksdiag" cannot list resource "{resource}" in API group "" at the cluster scope'
    return KubeList(status=403, error=message)
