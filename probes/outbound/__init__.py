"""outbound: the Azure side of the nodes' way out — the outbound type, each node subnet's route table (the default
route, routes that send the API server's or the nodes' own addresses away, BGP propagation), NAT gateway, the NSGs
on the pools' NICs and subnets, and the cluster's HTTP proxy (EG010–EG021).

From ARM alone (the shared AzureContextNeed): what the configuration does with the packets, not whether an
appliance lets them through — the egress probe tests the endpoints themselves and names what `aksdiag.egresspath`
finds in their way. A cluster in an AKS-managed VNet has no subnet of its own to judge: the hop says so.
"""

from __future__ import annotations

from collections.abc import Hashable

from aksdiag.probes.outbound.rules import (
    ID,
    Way,
    bgp_needed,
    default_route,
    nat_gateway,
    no_way_out,
    nsg_denies,
    proxy_wildcards,
    routes_away,
    ways,
)

from aksdiag import codes
from aksdiag.azfacts import AzureFacts, Cluster, NatGateway, digest
from aksdiag.facts import AzureReadError
from aksdiag.model import Finding, Hop, Severity, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

__all__ = ["ID", "PROBE", "judge", "plan"]

OWN_READS = ("/routetables/", "/natgateways/", "/virtualmachinescalesets")
"""The reads only this probe judges: a refused one is its AZ001/AZ002 finding."""
SHARED_READS = ("/networksecuritygroups/", "/virtualnetworks/")
"""Reads its verdicts rest on that the DNS probes report when refused: here they are only left unjudged."""


def plan(target: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure is None:
        raise Skip("no Azure context: pass --cluster and --resource-group (and --subscription)")
    return [settings.azure]


def judge(target: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.azure is not None
    arm = digest(facts[settings.azure])
    relevant = _relevant(arm)
    findings: list[Finding] = [_refused(e) for e in relevant if e.refusal and not _shared(e)]
    unread = tuple(e.reason for e in relevant if not e.refusal)
    cluster = arm.cluster
    if cluster is None:
        hop = Hop(1, "cluster", settings.azure.cluster, Status.SKIPPED, detail="not read")
        return Judgement(hops=(hop,), findings=tuple(findings), unread=unread)
    names = {"resource_group": settings.azure.resource_group, "cluster": settings.azure.cluster}
    found = ways(arm, cluster)
    for way in found:
        findings += default_route(arm, cluster, way, names)
        findings += routes_away(arm, way)
        findings += bgp_needed(arm, cluster, way)
        findings += nat_gateway(arm, cluster, way, names)
        findings += no_way_out(cluster, way)
        findings += nsg_denies(arm, way)
    findings += proxy_wildcards(cluster, names)
    hops = [_outbound_hop(cluster, findings)]
    hops += [_way_hop(i + 2, w, findings) for i, w in enumerate(found)]
    if not found:
        hops.append(Hop(2, "subnet", "AKS-managed VNet", Status.SKIPPED,
                        detail="no node pool names a subnet of its own (vnetSubnetID): AKS manages the route "
                        "table and NSG, nothing of the user's to judge"))  # fmt: skip
    if cluster.http_proxy or cluster.https_proxy:
        hops.append(_proxy_hop(len(hops) + 1, cluster, findings))
    return Judgement(hops=tuple(hops), findings=tuple(findings), facts=_facts(cluster, found), unread=unread)


def _relevant(arm: AzureFacts) -> list[AzureReadError]:
    cluster_id = arm.need.cluster_id.lower()
    return [
        e
        for e in arm.errors
        if e.scope.lower() == cluster_id or _shared(e) or any(k in e.scope.lower() for k in OWN_READS)
    ]


def _shared(e: AzureReadError) -> bool:
    return any(k in e.scope.lower() for k in SHARED_READS)


def _refused(e: AzureReadError) -> Finding:
    code = codes.AZ002 if e.status == 404 else codes.AZ001
    return code.at(ID, status=e.status, code=e.code, scope=e.scope, message=e.message,
                   action=e.action or "read access", evidence=e.to_dict())  # fmt: skip


def _status(findings: list[Finding]) -> Status:
    severities = {f.severity for f in findings}
    return Status.FAIL if Severity.ERROR in severities else Status.WARN if Severity.WARNING in severities else Status.OK


def _outbound_hop(cluster: Cluster, findings: list[Finding]) -> Hop:
    return Hop(1, "outbound-type", cluster.outbound_type, Status.OK, detail=f"outboundType {cluster.outbound_type}")


def _way_hop(index: int, way: Way, findings: list[Finding]) -> Hop:
    mine = [f for f in findings if f.evidence.get("subnet") == way.subnet_id]
    parts = []
    if way.subnet is None:
        parts.append("its VNet was not read")
    elif way.routes_unread:
        parts.append(f"route table {way.subnet.route_table_id.rsplit('/', 1)[-1]} not read")
    elif way.table:
        bgp = "BGP propagation off" if way.table.bgp_propagation_disabled else "BGP propagation on"
        parts.append(f"route table {way.table.name} ({len(way.table.routes)} routes, {bgp})")
    else:
        parts.append("no route table")
    parts.append(f"the internet by {way.internet.describe()}")
    if way.nat:
        ips = len(way.nat.public_ip_ids)
        parts.append(f"NAT gateway {way.nat.name}: {ips} public IP(s) × {NatGateway.PORTS_PER_IP:,} = "
                     f"{ips * NatGateway.PORTS_PER_IP:,} SNAT ports, idle timeout {way.nat.idle_timeout_minutes} min"
                     + (f", {len(way.nat.public_prefix_ids)} public prefix(es)" if way.nat.public_prefix_ids else ""))  # fmt: skip
    if way.subnet and way.subnet.default_outbound_access is False:
        parts.append("private subnet (defaultOutboundAccess false)")
    return Hop(index, "subnet", way.name, _status(mine), server=", ".join(way.pools), detail="; ".join(parts))


def _proxy_hop(index: int, cluster: Cluster, findings: list[Finding]) -> Hop:
    mine = [f for f in findings if f.id == "EG019"]
    detail = (
        f"httpProxy {cluster.http_proxy or '-'}, httpsProxy {cluster.https_proxy or '-'}, noProxy "
        + (", ".join(cluster.no_proxy) or "-")
        + (", a trusted CA" if cluster.proxy_trusted_ca else "")
    )
    return Hop(index, "proxy", cluster.https_proxy or cluster.http_proxy, _status(mine), detail=detail)


def _facts(cluster: Cluster, found: list[Way]) -> dict[str, object]:
    return {
        "outbound_type": cluster.outbound_type,
        "subnets": [
            {
                "subnet": w.subnet_id,
                "pools": list(w.pools),
                "route_table": w.table.id if w.table else None,
                "internet_next_hop": w.internet.describe(),
                "nat_gateway": w.nat.id if w.nat else None,
            }
            for w in found
        ],
    }


PROBE = Probe(
    id=ID,
    title="The Azure side of egress",
    codes=tuple(f"EG0{n}" for n in range(10, 22)),  # also AZ001/AZ002, owned elsewhere
    plan=plan,
    judge=judge,
    commands=("check", "egress", "fleet"),
    optional_in=("egress",),
    order=36,
)
