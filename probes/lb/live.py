"""SNAT, live: the outbound load balancer's and the node subnets' NAT gateways' Azure Monitor metrics over the last
hour, joined with the capacity model (outbound.py), so "13 nodes fit" also says what the nodes really used.

LB007 a node ran out of ports (failed SNAT connections), LB008 a node came close, LB009 a NAT gateway on a node
subnet failed SNAT connections, LB010 it dropped packets (a NAT gateway that overrides the outbound rule is the
outbound probe's EG018). Metrics that cannot be read (404 in a world without them, 403 without Monitoring Reader, a timeout) are
a quiet note on the metrics hop, never a warning nor an `error` status: the capacity model stands without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from aksdiag.probes.lb.frontends import ID
from aksdiag.probes.lb.outbound import Capacity

from aksdiag import codes, snat
from aksdiag.armview import name_of, parse_id
from aksdiag.azfacts import AzureFacts
from aksdiag.facts import AzureDocument, AzureGetNeed
from aksdiag.model import Finding, Gauge, Hop, Status, Table

INTERVAL = "PT1M"
"""One point a minute: a burst that exhausts ports for a few minutes is not averaged away."""
TOP = 50
"""Series per metric when split by backend IP: Azure Monitor returns 10 unless `top` says more, ordered by `orderby`
(the busiest, the most failed first); past 50 nodes the table shows the 50 busiest."""
_LB_PORTS = ("AllocatedSnatPorts,UsedSnatPorts", "Maximum,Average", "BackendIPAddress eq '*'", "Maximum desc")
_LB_FAILED = ("SnatConnectionCount", "Total", "BackendIPAddress eq '*' and ConnectionState eq 'Failed'", "Total desc")
_NAT_FAILED = ("SNATConnectionCount", "Total", "ConnectionState eq 'Failed'", "")
_NAT_COUNTS = ("TotalConnectionCount,PacketDropCount", "Total,Maximum", "", "")


@dataclass(frozen=True)
class Target:
    """A resource whose metrics are read: the outbound load balancer, or a NAT gateway on node subnets."""

    kind: str  # "lb" | "nat"
    id: str
    needs: tuple[AzureGetNeed, AzureGetNeed]
    subnets: tuple[str, ...] = ()
    """A NAT gateway's node subnets."""
    pools: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return name_of(self.id)


def _need(resource_id: str, span: str, endpoint: str, spec: tuple[str, str, str, str]) -> AzureGetNeed:
    names, aggregation, where, order = spec
    query = [("timespan", span), ("interval", INTERVAL), ("metricnames", names), ("aggregation", aggregation)]
    if where:
        query.append(("$filter", where))
    if order:
        query += [("top", str(TOP)), ("orderby", order)]
    return AzureGetNeed(f"{resource_id}/providers/Microsoft.Insights/metrics", snat.METRICS_API, tuple(query),
                        endpoint=endpoint)  # fmt: skip


def targets(arm: AzureFacts, utc: str) -> list[Target]:
    """The load balancers with outbound rules and the NAT gateways on the node pools' subnets, with their reads."""
    span, endpoint = snat.timespan(utc), arm.need.endpoint
    out = [
        Target("lb", lb.id, (_need(lb.id, span, endpoint, _LB_PORTS), _need(lb.id, span, endpoint, _LB_FAILED)))
        for lb in arm.load_balancers
        if lb.outbound_rules and lb.id
    ]
    gateways: dict[str, tuple[str, list[str], list[str]]] = {}
    for pool in arm.cluster.pools if arm.cluster else ():
        subnet = arm.subnet(pool.vnet_subnet_id) if pool.vnet_subnet_id else None
        if subnet is None or not subnet.nat_gateway_id:
            continue
        nat_id, subnets, pools = gateways.setdefault(subnet.nat_gateway_id.lower(), (subnet.nat_gateway_id, [], []))
        if subnet.id not in subnets:
            subnets.append(subnet.id)
        pools.append(pool.name)
    for nat_id, subnets, pools in gateways.values():
        needs = (_need(nat_id, span, endpoint, _NAT_FAILED), _need(nat_id, span, endpoint, _NAT_COUNTS))
        out.append(Target("nat", nat_id, needs, tuple(subnets), tuple(pools)))
    return out


def needs(arm: AzureFacts, utc: str) -> list[AzureGetNeed]:
    return [n for t in targets(arm, utc) for n in t.needs]


@dataclass
class Live:
    """What the metrics add to the probe's judgement."""

    hops: list[Hop] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    gauges: list[Gauge] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)


def judge(
    arm: AzureFacts,
    docs: Mapping[Any, Any],
    utc: str | None,
    caps: list[Capacity],
    nodes: Mapping[str, str],
    fields: dict[str, str],
    index: int,
) -> Live:
    """Hops (numbered from `index`), findings and tables of the metrics read into `docs` (the run's facts:
    AzureGetNeed → AzureDocument); `nodes` maps a node's private IP to its name (when kube is read)."""
    live = Live()
    found = targets(arm, utc) if utc else []
    lb_rows: list[list[str]] = []
    nat_rows: list[list[str]] = []
    for target in found:
        hop_index = index + len(live.hops)
        got = [docs.get(n) for n in target.needs]
        missing = _unavailable(got)
        if missing:
            live.hops.append(Hop(hop_index, "metrics", target.name, Status.SKIPPED, server=_KIND[target.kind],
                                 detail=f"Azure Monitor metrics not available: {missing}"))  # fmt: skip
            live.facts.append({"resource": target.id, "available": False, "reason": missing})
            continue
        first, second = (d.body if d else None for d in got)
        if target.kind == "lb":
            hop, findings = _lb_hop(hop_index, target, first, second, caps, nodes, fields, live, lb_rows)
        else:
            hop, findings = _nat_hop(hop_index, target, first, second, arm, fields, live, nat_rows)
        live.hops.append(hop)
        live.findings += findings
    if lb_rows:
        live.tables.append(Table("SNAT use, last hour", ("load balancer", "node", "address", "ports allocated",
                                 "peak used", "share", "at", "failed connections"), tuple(map(tuple, lb_rows))))  # fmt: skip
    if nat_rows:
        live.tables.append(Table("NAT gateways, last hour", ("NAT gateway", "failed SNAT connections",
                                 "dropped packets", "most connections", "at"), tuple(map(tuple, nat_rows))))  # fmt: skip
    return live


_KIND = {"lb": "load balancer", "nat": "NAT gateway"}


def _unavailable(got: list[AzureDocument | None]) -> str:
    """Why the metrics could not be read ("" when they were): the first failed read's status and words."""
    for doc in got:
        if doc is None:
            return "not read"
        if doc.error is not None:
            e = doc.error
            if e.status == 403:
                return f"403 {e.code}: reading metrics needs {e.action or 'Microsoft.Insights/metrics/read'} (Monitoring Reader)"  # fmt: skip
            return f"{e.status} {e.code}".strip() if e.refusal else f"{e.kind.value}: {e.message or e.code}"
        if not (doc.body or {}).get("value"):  # Azure Monitor names every metric asked for, even without data
            return "the answer held none of the metrics asked for"
    return ""


# ---------------------------------------------------------------- the outbound load balancer


def _node(ip: str, nodes: Mapping[str, str]) -> str:
    if not ip:
        return "(all nodes: the metric is not split by backend)"
    return f"{ip} ({nodes[ip]})" if ip in nodes else ip


def _model(lb: str, caps: list[Capacity]) -> tuple[str, Capacity | None]:
    """The capacity model's sentence for `lb` (outbound.py), which the metrics join."""
    cap = next((c for c in caps if c.lb == lb), None)
    if cap is None:
        return "", None
    how = "explicit" if cap.explicit else "Azure's default by pool size"
    fits = "fit" if cap.peak <= cap.max_nodes else "do not fit"
    return (
        f"The capacity model: {cap.ports:,} ports per node ({how}) on {cap.ips} IP(s) fit {cap.max_nodes} nodes; "
        f"{cap.now} now and {cap.peak} at the peak {fits}.",
        cap,
    )


def _lb_hop(
    index: int,
    target: Target,
    ports: dict[str, Any] | None,
    failed: dict[str, Any] | None,
    caps: list[Capacity],
    nodes: Mapping[str, str],
    fields: dict[str, str],
    live: Live,
    rows: list[list[str]],
) -> tuple[Hop, list[Finding]]:
    uses = snat.backend_use(ports, failed)
    model, cap = _model(target.name, caps)
    live.facts.append({"resource": target.id, "available": True, "backends": [asdict(u) for u in uses]})
    for u in uses:
        rows.append([target.name, nodes.get(u.ip, ""), u.ip or "(all)", f"{u.allocated:,}", f"{u.used:,}",
                     f"{u.share:.0%}" if u.allocated else "?", snat.clock_text(u.used_at) if u.used_at else "",
                     f"{u.failed:,}"])  # fmt: skip
    if not uses:
        return Hop(index, "metrics", target.name, Status.OK, server=_KIND["lb"],
                   detail="no SNAT metrics in the last hour (no outbound connections through it)"), []  # fmt: skip
    busiest = max(uses, key=lambda u: (u.share, u.used))
    if busiest.allocated:
        live.gauges.append(Gauge(f"SNAT ports used, busiest node, last hour ({target.name})", busiest.used,
                                 busiest.allocated, "ports", f"{_node(busiest.ip, nodes)} at "
                                 f"{snat.clock_text(busiest.used_at)}"))  # fmt: skip
    failing = [u for u in uses if u.failed]
    nodes_at_peak = cap.peak if cap else len(uses)
    findings: list[Finding] = []
    if failing:
        worst = failing[0]
        findings.append(_finding(codes.LB007, index, target, worst, failing[1:], model, cap, nodes, nodes_at_peak,
                                 fields))  # fmt: skip
        status = Status.FAIL
        detail = (f"{len(failing)} of {len(uses)} nodes failed SNAT connections; worst {_node(worst.ip, nodes)}: "
                  f"{worst.failed:,} failed, {_share(worst)} of its ports used at the peak")  # fmt: skip
    elif busiest.share >= snat.HIGH_USE:
        findings.append(_finding(codes.LB008, index, target, busiest, [], model, cap, nodes, nodes_at_peak, fields))
        status = Status.WARN
        detail = (
            f"busiest {_node(busiest.ip, nodes)}: {_share(busiest)} of its ports at the peak; no failed connections"
        )
    else:
        status = Status.OK
        detail = (f"{len(uses)} nodes; busiest {_node(busiest.ip, nodes)}: {_share(busiest)} of its ports at the "
                  f"peak; no failed connections")  # fmt: skip
    return Hop(index, "metrics", target.name, status, server=_KIND["lb"], detail=detail), findings


def _share(u: snat.BackendUse) -> str:
    return f"{u.share:.0%} of {u.allocated:,}" if u.allocated else f"{u.used:,} (allocation not reported)"


def _finding(
    code: Any,
    index: int,
    target: Target,
    u: snat.BackendUse,
    others: list[snat.BackendUse],
    model: str,
    cap: Capacity | None,
    nodes: Mapping[str, str],
    peak_nodes: int,
    fields: dict[str, str],
) -> Finding:
    allocated = u.allocated or (cap.ports if cap else 0)
    ports_next = snat.more_ports(allocated)
    named = "; ".join(f"{_node(o.ip, nodes)}: {o.failed:,}" for o in others[:3])
    more = f" and {len(others) - 3} more" if len(others) > 3 else ""
    return code.at(
        ID,
        hop=index,
        lb=target.name,
        node=_node(u.ip, nodes),
        share=f"{u.share:.0%}" if u.allocated else "all it could",
        allocated=allocated,
        used=u.used,
        used_at=snat.clock_text(u.used_at),
        failed=u.failed,
        failed_peak=u.failed_peak,
        failed_at=snat.clock_text(u.failed_at),
        others=f" {len(others)} other node(s) failed too: {named}{more}." if others else "",
        model=model,
        ports_next=ports_next,
        ips_next=snat.ips_for(peak_nodes, ports_next),
        nodes=peak_nodes,
        **fields,
        evidence={
            "backend": asdict(u),
            "others": [asdict(o) for o in others],
            "node_name": nodes.get(u.ip, ""),
            "capacity": asdict(cap) if cap else None,
            "window": "PT1H",
            "interval": INTERVAL,
        },
    )


# ---------------------------------------------------------------- NAT gateways on node subnets


def _nat_hop(
    index: int,
    target: Target,
    failed: dict[str, Any] | None,
    counts: dict[str, Any] | None,
    arm: AzureFacts,
    fields: dict[str, str],
    live: Live,
    rows: list[list[str]],
) -> tuple[Hop, list[Finding]]:
    use = snat.nat_use(failed, counts)
    gateway = arm.nat_gateways.get(target.id.lower())
    ips = len(gateway.public_ip_ids) if gateway else 0
    capacity = (f"{ips} public IP(s) give {ips * 64_512:,} ports" if gateway and not gateway.public_prefix_ids
                else "its public IPs and prefixes give 64,512 ports each" if gateway
                else "its public IPs were not read")  # fmt: skip
    nat = {"name": target.name, "nat_resource_group": parse_id(target.id).get("resourcegroups", ""),
           "idle": str(gateway.idle_timeout_minutes) if gateway else "?", "capacity": capacity}  # fmt: skip
    live.facts.append({"resource": target.id, "available": True, "nat": asdict(use)})
    at = use.failed_at or use.dropped_at or use.connections_at
    rows.append([target.name, f"{use.failed:,}", f"{use.dropped:,}", f"{use.connections:,}",
                 snat.clock_text(at) if at else ""])  # fmt: skip
    evidence = {"nat_gateway": target.id, "use": asdict(use), "subnets": list(target.subnets),
                "pools": list(target.pools)}  # fmt: skip
    pools = ", ".join(target.pools)
    if use.failed:
        finding = codes.LB009.at(ID, hop=index, failed=use.failed, failed_peak=use.failed_peak,
                                 failed_at=snat.clock_text(use.failed_at), **nat, **fields, evidence=evidence)  # fmt: skip
        detail = f"{use.failed:,} failed SNAT connections in the last hour (pools {pools})"
        return Hop(index, "metrics", target.name, Status.FAIL, server=_KIND["nat"], detail=detail), [finding]
    if use.dropped:
        finding = codes.LB010.at(ID, hop=index, dropped=use.dropped, dropped_peak=use.dropped_peak,
                                 dropped_at=snat.clock_text(use.dropped_at), **nat, **fields, evidence=evidence)  # fmt: skip
        detail = f"{use.dropped:,} packets dropped in the last hour; no failed SNAT connections (pools {pools})"
        return Hop(index, "metrics", target.name, Status.WARN, server=_KIND["nat"], detail=detail), [finding]
    busiest = (
        f"; at most {use.connections:,} connections ({snat.clock_text(use.connections_at)})" if use.connections else ""
    )
    detail = f"no failed SNAT connections nor dropped packets in the last hour{busiest} (pools {pools})"
    return Hop(index, "metrics", target.name, Status.OK, server=_KIND["nat"], detail=detail), []
