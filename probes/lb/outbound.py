"""Outbound SNAT: whether the outbound rule's ports hold the nodes now, during an upgrade and at the peak.

64,000 ports per outbound IP, shared as allocatedOutboundPorts per node, or Azure's default by pool size
(aksdiag.snat). LB001 when the peak does not fit, LB002 when each node gets fewer than 1,024 ports.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from aksdiag.probes.lb.frontends import ID

from aksdiag import codes, snat
from aksdiag.azfacts import AzureFacts, Cluster
from aksdiag.model import Finding, Gauge, Hop, Status

LOW_PORTS = 1024
"""What each node gets by default in a pool of up to 50: fewer is what LB002 calls low."""


@dataclass(frozen=True)
class Capacity:
    rule: str
    lb: str
    ports: int  # per node, at the peak
    explicit: bool
    ips: int
    now: int
    upgrade: int
    peak: int
    peak_label: str
    max_nodes: int


def node_counts(cluster: Cluster) -> tuple[int, int, int, str]:
    """Nodes now, during an upgrade (now + surge) and at the peak (autoscaler maximum + surge), from the pools."""
    now = upgrade = peak = 0
    for pool in cluster.pools:
        now += pool.count
        upgrade += pool.count + pool.surge(pool.count)
        peak += pool.peak + pool.surge(pool.peak)
    autoscaled = any(pool.autoscaling for pool in cluster.pools)
    return now, upgrade, peak, "the autoscaler maximum plus upgrade surge" if autoscaled else "an upgrade surge"


def capacities(arm: AzureFacts, cluster: Cluster) -> list[Capacity]:
    now, upgrade, peak, peak_label = node_counts(cluster)
    out = []
    for lb in arm.load_balancers:
        for rule in lb.outbound_rules:
            ips = len(rule.frontend_ids)
            now = max(now, lb.pool_size(rule.backend_pool_id))  # the pool is the truth when the pools' counts lag
            ports = rule.allocated_ports
            if ports:
                cap = snat.capacity(ports, ips, peak)
                out.append(Capacity(rule.name, lb.name, ports, True, ips, now, upgrade, peak, peak_label,
                                    cap.max_nodes))  # fmt: skip
            else:
                out.append(Capacity(rule.name, lb.name, snat.default_ports(peak), False, max(ips, 1), now,
                                    upgrade, peak, peak_label, 1000))  # fmt: skip
    return out


_NOT_THE_LB = {
    "managedNATGateway": "a managed NAT gateway: SNAT ports are the gateway's (64,512 per public IP)",
    "userAssignedNATGateway": "your NAT gateway: SNAT ports are the gateway's (64,512 per public IP)",
    "userDefinedRouting": "your route table (a firewall or appliance): SNAT happens there",
}


def outbound_hop(
    index: int, outbound_type: str, caps: list[Capacity], fields: dict[str, str]
) -> tuple[Hop, list[Finding]]:
    if outbound_type != "loadBalancer":
        why = _NOT_THE_LB.get(outbound_type, outbound_type)
        return Hop(index, "outbound", outbound_type, Status.OK, detail=f"egress through {why}, not the load balancer"), []  # fmt: skip
    if not caps:
        return Hop(index, "outbound", outbound_type, Status.WARN, detail="no outbound rule read on the load balancers"), []  # fmt: skip
    findings = []
    status = Status.OK
    for c in caps:
        if c.peak > c.max_nodes or c.ports == 0:
            status = Status.FAIL
            findings.append(_lb001_ports_run_out(index, c, fields))
        elif c.ports < LOW_PORTS:
            status = Status.WARN if status is Status.OK else status
            findings.append(_lb002_few_ports(index, c, fields))
    detail = "; ".join(_capacity_text(c) for c in caps)
    return Hop(index, "outbound", "loadBalancer", status, detail=detail), findings


def _lb001_ports_run_out(index: int, c: Capacity, fields: dict[str, str]) -> Finding:
    when = "the peak" if c.upgrade <= c.max_nodes else "an upgrade" if c.now <= c.max_nodes else "now"
    nodes = c.peak if when == "the peak" else c.upgrade if when == "an upgrade" else c.now
    ports = c.ports or snat.DEFAULT_ALLOCATION[-1][1]
    return codes.LB001.at(
        ID,
        hop=index,
        lb=c.lb,
        rule=c.rule,
        ports=ports,
        nodes=nodes,
        when=f"{when} ({c.peak_label})" if when == "the peak" else when,
        needed=nodes * ports,
        available=c.ips * snat.PORTS_PER_IP,
        ips=c.ips,
        max_nodes=c.max_nodes,
        ips_needed=_ips_for(nodes, ports),
        ports_fit=_ports_fit(nodes, c.ips),
        **fields,
        evidence=asdict(c) | {"needed_nodes": nodes},
    )


def _lb002_few_ports(index: int, c: Capacity, fields: dict[str, str]) -> Finding:
    how = "explicit allocatedOutboundPorts" if c.explicit else f"Azure's default for a pool of {c.peak}"
    return codes.LB002.at(
        ID,
        hop=index,
        lb=c.lb,
        rule=c.rule,
        ports=c.ports,
        nodes=c.peak,
        when=f"the peak ({c.peak_label})",
        how=how,
        ips_needed=_ips_for(c.peak, LOW_PORTS),
        **fields,
        evidence=asdict(c),
    )


def _capacity_text(c: Capacity) -> str:
    how = "explicit" if c.explicit else "default by pool size"
    return (
        f"{c.lb}/{c.rule}: {c.ports:,} ports per node ({how}) on {c.ips} IP(s): fits {c.max_nodes} nodes; "
        f"{c.now} now, {c.upgrade} in an upgrade, {c.peak} at the peak"
    )


def _ips_for(nodes: int, ports: int) -> int:
    per_ip = snat.PORTS_PER_IP // max(ports, 8)
    return max(1, math.ceil(nodes / max(per_ip, 1)))


def _ports_fit(nodes: int, ips: int) -> int:
    return max(0, snat.PORTS_PER_IP // max(math.ceil(nodes / max(ips, 1)), 1) // 8 * 8)


def capacity_rows(c: Capacity) -> list[list[str]]:
    """The SNAT capacity table's rows for one outbound rule: now, during an upgrade, at the peak."""
    rows = []
    for when, nodes in (("now", c.now), ("upgrade", c.upgrade), ("peak", c.peak)):
        ports = c.ports if c.explicit else snat.default_ports(nodes)
        rows.append([f"{c.lb}/{c.rule}", when, str(nodes), f"{ports:,}", f"{nodes * ports:,}",
                     f"{c.ips * snat.PORTS_PER_IP:,}", "yes" if nodes <= c.max_nodes and ports else "NO"])  # fmt: skip
    return rows


def gauge(c: Capacity) -> Gauge:
    available = c.ips * snat.PORTS_PER_IP
    needed = c.peak * (c.ports or snat.DEFAULT_ALLOCATION[-1][1])
    return Gauge(
        title=f"SNAT ports at the peak ({c.lb}/{c.rule})",
        value=needed,
        maximum=available,
        unit="ports",
        label=f"{c.peak} nodes × {c.ports:,} ports of {c.ips} IP(s) × 64,000; fits {c.max_nodes} nodes",
    )
