"""The cluster identity's roles on a BYO zone and its VNets (DNS015)."""

from __future__ import annotations

from aksdiag.probes.private_dns.common import ID

from aksdiag import codes
from aksdiag.azfacts import AzureFacts, Cluster
from aksdiag.model import Finding

# Built-in role definition ids (the same in every tenant).
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"
ROLE_NAMES = {
    OWNER: "Owner", CONTRIBUTOR: "Contributor", NETWORK_CONTRIBUTOR: "Network Contributor",
    PRIVATE_DNS_ZONE_CONTRIBUTOR: "Private DNS Zone Contributor",
}  # fmt: skip


def dns015_roles(arm: AzureFacts, cluster: Cluster) -> list[Finding]:
    principal = cluster.principal_id or "<cluster identity>"
    findings = []
    for scope, held in arm.role_assignments.items():
        if held is None:
            continue  # unreadable: AZ001
        needed = PRIVATE_DNS_ZONE_CONTRIBUTOR if "/privatednszones/" in scope.lower() else NETWORK_CONTRIBUTOR
        if {needed, CONTRIBUTOR, OWNER} & set(held):
            continue
        if any(h not in ROLE_NAMES for h in held):
            continue  # a custom role may grant it: aksdiag cannot tell without reading its definition
        findings.append(
            codes.DNS015.at(
                ID,
                principal=principal,
                scope=scope,
                role=ROLE_NAMES[needed],
                held=", ".join(ROLE_NAMES[h] for h in held) or "no role",
                evidence={"scope": scope, "role_definitions": list(held)},
            )
        )
    return findings
