"""The private zones that could answer the name, judged by what they would answer: the cluster zone's record
(DNS012), a BYO zone's name (DNS016), and every other zone of the name: one linked to a querying VNet answers
there instead (no record: DNS019; a record no endpoint reachable there holds: DNS012), one elsewhere (a jump box's
own zone) is judged by its record for its own VNets (DNS012).

The address expected of a record is that of a cluster endpoint reachable from the VNets asking: an endpoint whose
NIC sits in one of them, or in a VNet peered with one. A cluster may have several endpoints (the node resource
group's, and others from privateEndpointConnections), so a jump box zone holding its own endpoint's address is no
stale record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aksdiag.probes.private_dns.common import ID, unique
from aksdiag.probes.private_dns.paths import Resolvers

from aksdiag import codes
from aksdiag.armview import name_of, same_id, vnet_of_subnet
from aksdiag.azfacts import ApiEndpoint, AzureFacts, Cluster, RecordSet, VNet, Zone
from aksdiag.azfacts_dns import subscription_of
from aksdiag.dnsnames import is_suffix, relative_record
from aksdiag.model import Finding

BYO_ZONE = re.compile(r"^(?:(?P<sub>[a-z0-9-]+)\.)?(?P<kind>privatelink|private)\.(?P<region>[a-z0-9]+)\.azmk8s\.io$")


# ---------------------------------------------------------------- which endpoint a VNet reaches


def _connected(arm: AzureFacts, a: str, b: str) -> bool:
    """The same VNet, or a peering one side read reports Connected (a broken peering is DNS014's to say)."""
    if same_id(a, b):
        return True
    for x, y in ((a, b), (b, a)):
        vnet = arm.vnets.get(x.lower())
        peering = vnet.peering_to(y) if vnet else None
        if peering and peering.state == "Connected":
            return True
    return False


def _reachable(arm: AzureFacts, endpoint: ApiEndpoint, vnet_ids: Iterable[str]) -> bool:
    homes = {vnet_of_subnet(s).lower() for s in endpoint.subnet_ids}
    if not homes:
        return True  # where it sits is unknown: no guess
    return any(_connected(arm, home, v) for home in homes for v in vnet_ids)


def reachable_endpoints(arm: AzureFacts, vnet_ids: Iterable[str]) -> list[ApiEndpoint]:
    """The cluster endpoints reachable from `vnet_ids`; every endpoint when none is (ARM shows no path from there:
    any endpoint's address is then accepted, and the missing link or peering is another code's to say)."""
    ids = list(vnet_ids)
    near = [e for e in arm.endpoints if e.ips and _reachable(arm, e, ids)]
    return near or [e for e in arm.endpoints if e.ips]


def _record(zone: Zone, fqdn: str) -> RecordSet | None:
    relative = relative_record(fqdn, zone.name).lower()
    return next((r for r in zone.records or () if r.name.lower() == relative), None)


def _linked(zone: Zone) -> list[str]:
    return [link.vnet_id for link in zone.links or () if link.vnet_id]


def _names(arm: AzureFacts, vnet_ids: Iterable[str]) -> str:
    names = [(arm.vnets[v.lower()].name if v.lower() in arm.vnets else name_of(v)) for v in vnet_ids]
    return ", ".join(dict.fromkeys(names)) or "no VNet"


# ---------------------------------------------------------------- DNS012


def _dns012(arm: AzureFacts, zone: Zone, fqdn: str, vnet_ids: list[str], *, own: bool) -> list[Finding]:
    """The zone's record for `fqdn` against the endpoints reachable from `vnet_ids`. A missing record is DNS012 only
    in the cluster's own zone (another zone without it: DNS019 where it answers, nobody's business elsewhere)."""
    if zone.records is None:
        return []  # unreadable: AZ001
    relative = relative_record(fqdn, zone.name)
    record = _record(zone, fqdn)
    have = list(record.addresses) if record else []
    near = reachable_endpoints(arm, vnet_ids)
    want = [ip for e in near for ip in e.ips]
    where = f"{zone.name} (resource group {zone.resource_group}, subscription {subscription_of(zone.id) or '?'})"
    if record is None:
        if not own:
            return []
        detail = f"{where} has no A record {relative} for {fqdn}"
    elif want and not set(have) & set(want):
        seen_from = (
            f" reachable from {_names(arm, vnet_ids)}" if len(near) < len([e for e in arm.endpoints if e.ips]) else ""
        )
        detail = (
            f"the A record {relative} in {where} holds {', '.join(have) or 'no address'}; the private endpoint"
            f"{seen_from} has {', '.join(want)}"
        )
    else:
        return []
    stale = [ip for ip in have if ip not in want]
    remove = "".join(
        f" && az network private-dns record-set a remove-record --resource-group {zone.resource_group} "
        f"--zone-name {zone.name} --record-set-name {relative} --ipv4-address {ip} "
        f"--subscription {subscription_of(zone.id)}"
        for ip in stale
    )
    return [
        codes.DNS012.at(
            ID,
            detail=detail,
            record=relative,
            zone=zone.name,
            zone_rg=zone.resource_group,
            zone_sub=subscription_of(zone.id) or "<subscription>",
            endpoint_ip=want[0] if want else "<endpoint-ip>",
            endpoint=", ".join(e.id for e in near) or "(no private endpoint found)",
            remove=remove,
            evidence={"zone": zone.id, "record": have, "endpoint_ips": want, "vnets": vnet_ids},
        )
    ]


def dns012_record(arm: AzureFacts, cluster: Cluster) -> list[Finding]:
    """The cluster's own zone: its record must hold an endpoint's address reachable from the zone's linked VNets."""
    zone, fqdn = arm.zone, cluster.private_fqdn.lower()
    if not zone or not fqdn or any(e.status == 404 and same_id(e.scope, zone.id) for e in arm.errors):
        return []  # no zone, or it is gone (AZ002 says so): no record to judge
    return _dns012(arm, zone, fqdn, _linked(zone), own=True)


# ---------------------------------------------------------------- DNS016


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


# ---------------------------------------------------------------- the other zones of the name (DNS019, DNS012)


def _answering(arm: AzureFacts, vnet: VNet, fqdn: str) -> Zone | None:
    """The zone Azure DNS answers `fqdn` from for `vnet`: the most specific linked zone holding the name's suffix.
    None when the cluster's zone would answer, or when that cannot be told (its links unreadable)."""
    own = arm.zone
    candidates = [
        z for z in arm.other_zones if is_suffix(z.name, fqdn) and any(same_id(v, vnet.id) for v in _linked(z))
    ]
    if own and (own.links is None or any(same_id(v, vnet.id) for v in _linked(own))):
        if own.links is None:  # the cluster zone may be linked there: only a more specific zone surely wins
            candidates = [z for z in candidates if z.name.lower().endswith("." + own.name.lower())]
        else:
            candidates.insert(0, own)  # first among equals: two zones of one name cannot both be linked to a VNet
    best = max(candidates, key=lambda z: len(z.name), default=None)
    return None if best is None or best is own else best


def dns019_shadowed(arm: AzureFacts, cluster: Cluster, resolvers: Resolvers) -> list[Finding]:
    """Every other private zone of the name, by what it would answer. Where it answers for a querying VNet (it is
    more specific than the cluster's zone, or the cluster's zone is not linked there): no record is DNS019, a
    record no endpoint reachable from that VNet holds is DNS012. Elsewhere (linked to other VNets only), a record it
    holds for the name must be an endpoint's reachable from its own VNets (DNS012)."""
    fqdn = cluster.private_fqdn.lower()
    if not fqdn:
        return []
    own = arm.zone.name.lower() if arm.zone else ""
    querying = list({v.id.lower(): v for _, v in resolvers if v is not None}.values())
    answers: dict[str, list[VNet]] = {}
    for vnet in querying:
        zone = _answering(arm, vnet, fqdn)
        if zone is not None:
            answers.setdefault(zone.id.lower(), []).append(vnet)
    findings = []
    for other in arm.other_zones:
        if not is_suffix(other.name, fqdn) or other.records is None:
            continue
        on_path = answers.get(other.id.lower(), [])
        if not on_path:
            findings += _dns012(arm, other, fqdn, _linked(other), own=False)
        elif _record(other, fqdn) is not None:
            findings += _dns012(arm, other, fqdn, [v.id for v in on_path], own=False)
        else:
            findings += _dns019(other, on_path, own, fqdn)
    return unique(findings)


def _dns019(other: Zone, vnets: list[VNet], own: str, fqdn: str) -> list[Finding]:
    more_specific = bool(own) and other.name.lower().endswith("." + own)
    rank = f"is more specific than {own}" if more_specific else f"answers there instead of {own or 'the cluster zone'}"
    findings = []
    for vnet in vnets:
        for link in other.links or ():
            if not same_id(link.vnet_id, vnet.id):
                continue
            findings.append(
                codes.DNS019.at(
                    ID,
                    other_zone=other.name,
                    other_rg=other.resource_group,
                    other_sub=subscription_of(other.id) or "<subscription>",
                    vnet_name=vnet.name,
                    link_name=link.name,
                    link_state=link.state,
                    policy=link.resolution_policy,
                    rank=rank,
                    fqdn=fqdn,
                    evidence={"zone": other.id, "link": link.id},
                )
            )
    return findings
