"""The lb probe's tables for the renderers and the TUI: frontends, rules, probes, pools, outbound rules,
Services and SNAT capacity, as rows of strings (the report's `facts.tables`)."""

from __future__ import annotations

from aksdiag.probes.lb.frontends import FrontendRow, owner_uid
from aksdiag.probes.lb.outbound import Capacity, capacity_rows

from aksdiag.armview import name_of
from aksdiag.azfacts import AzureFacts
from aksdiag.kubefacts import Service
from aksdiag.lbfacts import LbRule, OutboundRule
from aksdiag.model import Table


def _table(title: str, columns: list[str], rows: list[list[str]]) -> Table:
    return Table(title, tuple(columns), tuple(tuple(r) for r in rows))


def tables(
    arm: AzureFacts, rows: list[FrontendRow], capacities: list[Capacity], services: tuple[Service, ...] | None
) -> tuple[Table, ...]:
    unknown = "?" if services is None else "none"
    owners = {owner_uid(f.name): f.owner for f in rows if owner_uid(f.name)}
    rules, probes, pools, outbound = [], [], [], []
    for lb in arm.load_balancers:
        for rule in lb.rules:
            rules.append([lb.name, rule.name, f"{rule.frontend_port} → {rule.backend_port}", rule.protocol,
                          _probe_cell(rule), owners.get(owner_uid(rule.name), "") or unknown])  # fmt: skip
        for probe in lb.probes:
            port = "" if probe.port is None else str(probe.port)
            probes.append([lb.name, probe.name, probe.protocol, port, probe.request_path])
        for pool in lb.pools:
            pools.append([lb.name, pool.name, str(pool.members)])
        for o in lb.outbound_rules:
            outbound.append([lb.name, o.name, *_outbound_cells(o)])
    out = [
        _table("Frontends", ["load balancer", "frontend", "address", "kind", "owner"],
               [[f.lb, f.name, f.address, "public" if f.public else "private", f.owner or unknown] for f in rows]),
        _table("Load-balancing rules", ["load balancer", "rule", "ports", "protocol", "probe", "owner"], rules),
        _table("Health probes", ["load balancer", "probe", "protocol", "port", "path"], probes),
        _table("Backend pools", ["load balancer", "pool", "members"], pools),
        _table("Outbound rules", ["load balancer", "rule", "ports per node", "frontend IPs", "idle timeout",
                                  "TCP reset", "pool"], outbound),
    ]  # fmt: skip
    if services is not None:
        out.append(_table("LoadBalancer Services", ["service", "kind", "policy", "external IP"],
                          [[s.ref, "internal" if s.internal else "public", s.external_traffic_policy,
                            ", ".join(s.ingress) or "<pending>"] for s in services]))  # fmt: skip
    out.append(_table("SNAT capacity", ["outbound rule", "when", "nodes", "ports per node", "ports needed",
                                        "ports available", "fits"], [r for c in capacities for r in capacity_rows(c)]))  # fmt: skip
    return tuple(out)


def _probe_cell(rule: LbRule) -> str:
    probe = name_of(rule.probe_id)
    return "none" if not probe else "(same name)" if probe == rule.name else probe


def _outbound_cells(o: OutboundRule) -> list[str]:
    ports = f"{o.allocated_ports:,}" if o.allocated_ports else "0 (default by pool size)"
    idle = "?" if o.idle_timeout is None else str(o.idle_timeout)
    reset = "?" if o.tcp_reset is None else str(o.tcp_reset).lower()
    return [ports, str(len(o.frontend_ids)), f"{idle} min", reset, name_of(o.backend_pool_id)]
