"""The private zones on the path: the record (DNS012), a BYO zone's name (DNS016), another zone shadowing the
name (DNS019)."""

from __future__ import annotations

import re

from aksdiag.probes.private_dns.common import ID, unique
from aksdiag.probes.private_dns.paths import Resolvers

from aksdiag import codes
from aksdiag.armview import name_of, same_id
from aksdiag.azfacts import AzureFacts, Cluster, RecordSet
from aksdiag.model import Finding

BYO_ZONE = re.compile(r"^(?:(?P<sub>[a-z0-9-]+)\.)?(?P<kind>privatelink|private)\.(?P<region>[a-z0-9]+)\.azmk8s\.io$")


def dns012_record(arm: AzureFacts, cluster: Cluster) -> list[Finding]:
    zone = arm.zone
    fqdn = cluster.private_fqdn.lower()
    if not zone or zone.records is None or not fqdn:
        return []
    relative = fqdn[: -len(zone.name) - 1] if fqdn.endswith("." + zone.name.lower()) else fqdn
    record = next((r for r in zone.records if r.name.lower() == relative), None)
    have = list(record.addresses) if record else []
    want = arm.endpoint_ips
    endpoint = arm.endpoints[0].id if arm.endpoints else "(not found in the node resource group)"
    if record is None:
        detail = f"{zone.name} has no A record {relative} for {fqdn}"
    elif want and not set(have) & set(want):
        detail = f"the A record {relative} holds {', '.join(have) or 'no address'}; the private endpoint has {', '.join(want)}"
    else:
        return []
    return [
        codes.DNS012.at(
            ID,
            detail=detail,
            record=relative,
            zone=zone.name,
            zone_rg=zone.resource_group,
            endpoint_ip=", ".join(want) or "<endpoint-ip>",
            endpoint=endpoint,
            evidence={"record": have, "endpoint_ips": want},
        )
    ]


def dns016_zone_name(mode: str | None, cluster: Cluster) -> list[Finding]:
    if not (mode or "").lower().startswith("/subscriptions/"):
        return []  # system or none: AKS names the zone itself
    assert mode is not None
    zone = name_of(mode).lower()
    region = cluster.location.replace(" ", "").lower()
    kind = "private" if cluster.vnet_integration else "privatelink"
    expected = f"{kind}.{region}.azmk8s.io"
    m = BYO_ZONE.match(zone)
    problem = None
    if not m:
        problem = f"not of the form {expected} or <subzone>.{expected}"
    elif m.group("region") != region:
        problem = f"the zone is for region {m.group('region')}, the cluster is in {region}"
    elif m.group("kind") != kind:
        problem = f"{m.group('kind')}.… zones are not for {'VNet-integrated' if cluster.vnet_integration else 'private-endpoint'} clusters"
    elif m.group("sub") and len(m.group("sub")) > 32:
        problem = f"the subzone {m.group('sub')} is longer than 32 characters"
    if not problem:
        return []
    return [codes.DNS016.at(ID, zone=zone, problem=problem, expected=expected, evidence={"zone_id": mode})]


def dns019_shadowed(arm: AzureFacts, cluster: Cluster, resolvers: Resolvers) -> list[Finding]:
    fqdn = cluster.private_fqdn.lower()
    own = arm.zone.name.lower() if arm.zone else ""
    resolving = [v for _, v in resolvers if v is not None]
    findings = []
    for other in arm.other_zones:
        name = other.name.lower()
        if own and not name.endswith("." + own):
            continue  # less specific than the cluster's zone: the cluster's zone wins
        if other.records is None or any(_holds(name, r, fqdn) for r in other.records):
            continue
        for link in other.links or ():
            vnet = next((v for v in resolving if same_id(v.id, link.vnet_id)), None)
            if vnet is None:
                continue
            findings.append(
                codes.DNS019.at(
                    ID,
                    other_zone=other.name,
                    other_rg=other.resource_group,
                    vnet_name=vnet.name,
                    link_name=link.name,
                    link_state=link.state,
                    policy=link.resolution_policy,
                    zone=own or "the cluster's zone",
                    fqdn=fqdn,
                    evidence={"zone": other.id, "link": link.id},
                )
            )
    return unique(findings)


def _holds(zone: str, record: RecordSet, fqdn: str) -> bool:
    relative = record.name.lower()
    return (fqdn == zone and relative == "@") or fqdn == f"{relative}.{zone}"
