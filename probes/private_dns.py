"""private_dns: the management plane of a private cluster's DNS, as ARM describes it.

Hops: the cluster (private FQDN, zone mode) → the DNS servers of its VNet → the private DNS zone and its VNet
links → the A record → the API server's private endpoint. Judged: the zone not linked to the VNet that
resolves (DNS011), the record missing or stale (DNS012), the DNS VNet's peering (DNS014), the cluster identity's roles (DNS015), a BYO zone's name
(DNS016), another linked zone shadowing the name (DNS019), and reads that failed (AZ001 403, AZ002 404) — a failed read leaves its checks out, never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from aksdiag import codes
from aksdiag.armview import name_of, same_id
from aksdiag.azfacts import ApiEndpoint, AzureFacts, Cluster, RecordSet, VNet, Zone, digest
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import AZURE_DNS, Settings

ID = "private_dns"
_BYO_ZONE = re.compile(r"^(?:(?P<sub>[a-z0-9-]+)\.)?(?P<kind>privatelink|private)\.(?P<region>[a-z0-9]+)\.azmk8s\.io$")


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure is None:
        raise Skip("no Azure context: pass --cluster and --resource-group (and --subscription)")
    return [settings.azure]


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.azure is not None
    arm = digest(facts[settings.azure])
    findings = _read_errors(arm)
    unread = tuple(e.reason for e in arm.errors if not e.refusal)  # could not look there: the probe is `error`
    if arm.cluster is None:
        return Judgement(findings=tuple(findings), facts=_facts(arm), unread=unread)
    cluster, cluster_vnets = arm.cluster, arm.cluster_vnets
    resolvers = _resolving_vnets(arm, cluster_vnets)
    findings += _dns011_not_linked(arm.zone, resolvers)
    findings += _dns012_record(arm, cluster)
    findings += _dns014_peering(cluster_vnets, resolvers)
    findings += _dns015_roles(arm, cluster)
    findings += _dns016_zone_name(arm.zone_mode, cluster)
    findings += _dns019_shadowed(arm, cluster, resolvers)
    hops = _hops(arm, cluster, cluster_vnets, resolvers, findings)
    return Judgement(hops=tuple(hops), findings=tuple(findings), facts=_facts(arm), unread=unread)


Resolvers = list[tuple[str, "VNet | None"]]
"""(DNS server, the VNet it lives in, None when no VNet read holds it) for each cluster VNet's DNS servers."""


# ---------------------------------------------------------------- what the cluster depends on


def _resolving_vnets(arm: AzureFacts, cluster_vnets: list[VNet]) -> Resolvers:
    """Each cluster VNet's DNS servers and where they live; Azure DNS resolves in the VNet itself."""
    out: Resolvers = []
    for vnet in cluster_vnets:
        if not vnet.dns_servers:
            out.append((AZURE_DNS.host, vnet))
        for server in vnet.dns_servers:
            out.append((server, vnet if server == AZURE_DNS.host else arm.owning_vnet(server)))
    return out


# ---------------------------------------------------------------- rules


def _read_errors(arm: AzureFacts) -> list[Finding]:
    findings = []
    for e in arm.errors:
        if not e.refusal:
            continue  # not a finding about a role or a resource: `unread`, the probe's error
        if e.status == 404:
            findings.append(codes.AZ002.at(ID, code=e.code, scope=e.scope, evidence=e.to_dict()))
        else:
            findings.append(
                codes.AZ001.at(
                    ID,
                    status=e.status,
                    code=e.code,
                    scope=e.scope,
                    message=e.message,
                    action=e.action or "read access",
                    evidence=e.to_dict(),
                )
            )
    return findings


def _dns011_not_linked(zone: Zone | None, resolvers: Resolvers) -> list[Finding]:
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


def _dns012_record(arm: AzureFacts, cluster: Cluster) -> list[Finding]:
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


def _dns014_peering(cluster_vnets: list[VNet], resolvers: Resolvers) -> list[Finding]:
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
    return _unique(findings)


# Built-in role definition ids (the same in every tenant).
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"
ROLE_NAMES = {
    OWNER: "Owner", CONTRIBUTOR: "Contributor", NETWORK_CONTRIBUTOR: "Network Contributor",
    PRIVATE_DNS_ZONE_CONTRIBUTOR: "Private DNS Zone Contributor",
}  # fmt: skip


def _dns015_roles(arm: AzureFacts, cluster: Cluster) -> list[Finding]:
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


def _dns016_zone_name(mode: str | None, cluster: Cluster) -> list[Finding]:
    if not (mode or "").lower().startswith("/subscriptions/"):
        return []  # system or none: AKS names the zone itself
    assert mode is not None
    zone = name_of(mode).lower()
    region = cluster.location.replace(" ", "").lower()
    kind = "private" if cluster.vnet_integration else "privatelink"
    expected = f"{kind}.{region}.azmk8s.io"
    m = _BYO_ZONE.match(zone)
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


def _dns019_shadowed(arm: AzureFacts, cluster: Cluster, resolvers: Resolvers) -> list[Finding]:
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
    return _unique(findings)


def _holds(zone: str, record: RecordSet, fqdn: str) -> bool:
    relative = record.name.lower()
    return (fqdn == zone and relative == "@") or fqdn == f"{relative}.{zone}"


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        if f.detail not in seen:
            seen.add(f.detail)
            out.append(f)
    return out


# ---------------------------------------------------------------- hops and facts


def _hops(
    arm: AzureFacts, cluster: Cluster, cluster_vnets: list[VNet], resolvers: Resolvers, findings: list[Finding]
) -> list[Hop]:
    failed = {f.id for f in findings if f.severity.value == "error"}
    hops = [
        Hop(1, "cluster", cluster.name or "cluster", Status.OK,
            answers=tuple(filter(None, [cluster.private_fqdn])),
            detail=_cluster_detail(arm.zone_mode, cluster, cluster_vnets)),
        Hop(2, "vnet-dns", "VNet DNS servers", Status.FAIL if "DNS014" in failed else Status.OK,
            answers=tuple(s for s, _ in resolvers),
            detail="; ".join(f"{s} in {v.name if v else 'a VNet not read (on-premises or not peered)'}"
                             for s, v in resolvers)),
    ]  # fmt: skip
    zone = arm.zone
    if zone:
        link_text = (
            "links unreadable"
            if zone.links is None
            else "; ".join(
                f"{link.name} → {name_of(link.vnet_id or '?')} ({link.state}, resolution policy "
                f"{link.resolution_policy})"
                for link in zone.links
            )
            or "no links"
        )
        status = Status.FAIL if {"DNS011", "DNS016"} & failed else Status.SKIPPED if zone.links is None else Status.OK
        hops.append(Hop(3, "private-zone", zone.name, status, detail=link_text))
        records = zone.records or ()
        hops.append(
            Hop(
                4,
                "record",
                "A records",
                Status.FAIL if "DNS012" in failed else Status.OK,
                answers=tuple(a for r in records for a in r.addresses),
                detail=", ".join(r.name or "?" for r in records) or "none readable",
            )
        )
    ips = arm.endpoint_ips
    hops.append(
        Hop(
            len(hops) + 1,
            "endpoint",
            "API server internal load balancer" if cluster.vnet_integration else "API server private endpoint",
            Status.OK if ips else Status.SKIPPED,
            answers=tuple(ips),
            detail="; ".join(_endpoint_detail(e) for e in arm.endpoints)
            or "no private endpoint found in the node resource group",
        )
    )
    return hops


def _cluster_detail(zone_mode: str | None, cluster: Cluster, cluster_vnets: list[VNet]) -> str:
    parts = [f"private DNS zone mode: {zone_mode or 'not private'}"]
    if cluster.private:
        parts.append(
            f"public FQDN {cluster.fqdn}" if cluster.private_public_fqdn and cluster.fqdn else "no public FQDN"
        )
    if cluster.vnet_integration:
        parts.append(f"API Server VNet Integration, subnet {name_of(cluster.api_subnet_id) or 'AKS-managed'}")
    parts.append("VNets: " + (", ".join(v.name for v in cluster_vnets) or "AKS-managed"))
    return "; ".join(parts)


def _endpoint_detail(endpoint: ApiEndpoint) -> str:
    """Where the API server's address sits: AKS puts the private endpoint in the first node pool's subnet, and
    may recreate it elsewhere on a stop/start (then records and firewall rules pinned to the old IP go stale)."""
    where = ", ".join(f"subnet {name_of(s)}" for s in endpoint.subnet_ids)
    return f"{endpoint.name} in {where or 'an unknown subnet'}"


def _facts(arm: AzureFacts) -> dict[str, Any]:
    return {
        "cluster": arm.cluster.id or None if arm.cluster else None,
        "private_fqdn": arm.cluster.private_fqdn or None if arm.cluster else None,
        "zone": arm.zone.id or None if arm.zone else None,
        "zone_mode": arm.zone_mode,
        "endpoint_ips": arm.endpoint_ips,
        "vnets": sorted(v.id or k for k, v in arm.vnets.items()),
        "errors": [e.to_dict() for e in arm.errors],
        "arm_requests": arm.requests,
    }


PROBE = Probe(
    id=ID,
    title="Private DNS zone (Azure)",
    codes=("DNS011", "DNS012", "DNS014", "DNS015", "DNS016", "DNS019", "AZ001", "AZ002"),
    plan=plan,
    judge=judge,
    commands=("dns", "check"),
    optional_in=("dns",),
    order=20,
)
