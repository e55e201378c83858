"""The resolution paths ARM describes: which DNS server each cluster VNet uses and the VNet that server lives in;
the peerings those paths need (DNS014); the zone linked where each path resolves (DNS011)."""

from __future__ import annotations

from aksdiag.probes.private_dns.common import ID, unique

from aksdiag import codes
from aksdiag.armview import name_of, same_id
from aksdiag.azfacts import AzureFacts, VNet, Zone
from aksdiag.model import Finding
from aksdiag.settings import AZURE_DNS

Resolvers = list[tuple[str, "VNet | None"]]
"""(DNS server, the VNet it lives in, None when no VNet read holds it) for each cluster VNet's DNS servers."""


def resolving_vnets(arm: AzureFacts, cluster_vnets: list[VNet]) -> Resolvers:
    """Each cluster VNet's DNS servers and where they live; Azure DNS resolves in the VNet itself."""
    out: Resolvers = []
    for vnet in cluster_vnets:
        if not vnet.dns_servers:
            out.append((AZURE_DNS.host, vnet))
        for server in vnet.dns_servers:
            out.append((server, vnet if server == AZURE_DNS.host else arm.owning_vnet(server)))
    return out


def dns014_peering(cluster_vnets: list[VNet], resolvers: Resolvers) -> list[Finding]:
    findings = []
    for local in cluster_vnets:
        for _, remote in resolvers:
            if remote is None or same_id(remote.id, local.id):
                continue
            for a, b in ((local, remote), (remote, local)):
                peering = a.peering_to(b.id)
                state = peering.state if peering else "no peering"
                if state == "Connected":
                    continue
                findings.append(
                    codes.DNS014.at(
                        ID,
                        local=a.id,
                        remote=b.id,
                        local_name=a.name,
                        remote_name=b.name,
                        local_rg=a.resource_group or "<rg>",
                        state=state,
                        evidence={"peering": peering.id if peering else None, "state": state},
                    )
                )
    return unique(findings)


def dns011_not_linked(zone: Zone | None, resolvers: Resolvers) -> list[Finding]:
    if not zone or zone.links is None:
        return []  # no zone (privateDNSZone none) or links unreadable (AZ001 says so)
    linked = [link.vnet_id for link in zone.links]
    findings = []
    seen: set[str] = set()
    for server, vnet in resolvers:
        if vnet is None or vnet.id.lower() in seen or any(same_id(vnet.id, v) for v in linked):
            continue
        seen.add(vnet.id.lower())
        why = "it uses Azure DNS" if server == AZURE_DNS.host else f"DNS server {server} lives there"
        findings.append(
            codes.DNS011.at(
                ID,
                zone=zone.name,
                zone_rg=zone.resource_group,
                vnet=vnet.id,
                vnet_name=vnet.name,
                linked=", ".join(name_of(v) for v in linked) or "no VNet",
                why=why,
                link_name=f"link-{vnet.name}",
                evidence={"links": linked, "dns_server": server},
            )
        )
    return findings
