"""SNAT port arithmetic for an AKS load balancer's outbound rule, as Azure documents it. Pure.

Each outbound frontend IP gives 64,000 ports. With `allocatedOutboundPorts` 0 (AKS's default) Azure allocates
by backend pool size (the table below, per instance and per frontend IP); otherwise every instance gets the
explicit number (a multiple of 8, at most 64,000), and the pool fits as many instances as the ports allow:
64,000 / ports per instance × frontend IPs.

The live side (issue 15) reads Azure Monitor metrics answers into what each node used of its ports, its failed SNAT
connections and a NAT gateway's failures and drops over the window (`backend_use`, `nat_use`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

PORTS_PER_IP = 64_000
DEFAULT_ALLOCATION = (  # (largest pool size, ports per instance per frontend IP)
    (50, 1024),
    (100, 512),
    (200, 256),
    (400, 128),
    (800, 64),
    (1000, 32),
)


def default_ports(pool_size: int) -> int:
    """Ports each instance gets by default for a pool of `pool_size` instances (0 beyond 1,000: no default)."""
    for largest, ports in DEFAULT_ALLOCATION:
        if pool_size <= largest:
            return ports
    return 0


@dataclass(frozen=True)
class Capacity:
    ports_per_node: int
    frontend_ips: int
    max_nodes: int
    explicit: bool

    def fits(self, nodes: int) -> bool:
        return nodes <= self.max_nodes


def capacity(allocated_outbound_ports: int, frontend_ips: int, pool_size: int) -> Capacity:
    """Ports per node and the most nodes the outbound rule can serve."""
    ips = max(frontend_ips, 1)
    if allocated_outbound_ports:
        return Capacity(allocated_outbound_ports, ips, PORTS_PER_IP // allocated_outbound_ports * ips, True)
    ports = default_ports(pool_size)
    # the default table shrinks ports as the pool grows: it serves at most 1,000 instances
    return Capacity(ports, ips, 1000 if ports else 0, False)


def valid_explicit_ports(ports: int) -> str | None:
    """Why an allocatedOutboundPorts value would be refused by Azure, or None."""
    if ports < 0 or ports > PORTS_PER_IP:
        return "must be 0 to 64,000"
    if ports % 8:
        return "must be a multiple of 8"
    return None


def ips_for(nodes: int, ports: int) -> int:
    """Outbound IPs that give `nodes` nodes `ports` ports each."""
    per_ip = PORTS_PER_IP // max(ports, 8)
    return max(1, -(-nodes // max(per_ip, 1)))


def more_ports(ports: int) -> int:
    """The next allocation to try for a node that ran out: twice its ports, a multiple of 8, at most 64,000."""
    return min(PORTS_PER_IP, max(1024, ports * 2) // 8 * 8)


# ---------------------------------------------------------------- live: Azure Monitor metrics (issue 15)
# The metrics REST API (GET {resource}/providers/Microsoft.Insights/metrics) answers {timespan, interval,
# value: [{name: {value}, timeseries: [{metadatavalues: [{name: {value}, value}], data: [{timeStamp, <agg>}]}]}]};
# dimension names come back lower-cased ("backendipaddress"). Pure: bodies in, numbers out.

METRICS_API = "2023-10-01"
"""The metrics REST API version (Microsoft.Insights, stable)."""
HIGH_USE = 0.8
"""A node that used this share of its SNAT ports at its peak is close to running out (LB008)."""


@dataclass(frozen=True)
class Point:
    at: str
    value: float


@dataclass(frozen=True)
class Series:
    """One metric's time series for one combination of dimension values (lower-cased names)."""

    metric: str
    dims: dict[str, str]
    points: tuple[Point, ...]

    @property
    def peak(self) -> Point | None:
        return max(self.points, key=lambda p: p.value) if self.points else None

    @property
    def total(self) -> float:
        return sum(p.value for p in self.points)


def series(body: dict[str, Any] | None, metric: str, prefer: tuple[str, ...]) -> list[Series]:
    """The time series of `metric` in a metrics answer, each point the first aggregation of `prefer` it has."""
    out = []
    for m in (body or {}).get("value") or []:
        if str((m.get("name") or {}).get("value") or "").lower() != metric.lower():
            continue
        for ts in m.get("timeseries") or []:
            dims = {
                str((d.get("name") or {}).get("value") or "").lower(): str(d.get("value") or "")
                for d in ts.get("metadatavalues") or []
            }
            points = []
            for d in ts.get("data") or []:
                value = next((d[a] for a in prefer if isinstance(d.get(a), int | float)), None)
                if value is not None:
                    points.append(Point(str(d.get("timeStamp") or ""), float(value)))
            out.append(Series(str((m.get("name") or {}).get("value")), dims, tuple(points)))
    return out


def _failed(s: Series) -> bool:
    """A series of failed connections: split by ConnectionState, it must be the Failed one (the request's $filter
    asks for Failed only, but a series that says otherwise is not counted)."""
    state = s.dims.get("connectionstate")
    return state is None or state.lower() == "failed"


@dataclass(frozen=True)
class BackendUse:
    """One backend instance (a node, by private IP) of the outbound load balancer over the window."""

    ip: str
    allocated: int = 0
    used: int = 0
    used_at: str = ""
    failed: int = 0
    failed_peak: int = 0
    failed_at: str = ""

    @property
    def share(self) -> float:
        """The share of its allocated ports it used at its peak (0 when nothing is allocated)."""
        return self.used / self.allocated if self.allocated else 0.0


def backend_use(ports: dict[str, Any] | None, failed: dict[str, Any] | None) -> list[BackendUse]:
    """Per backend IP: its allocated and peak used SNAT ports (AllocatedSnatPorts, UsedSnatPorts) and its failed
    SNAT connections (SnatConnectionCount, ConnectionState Failed); the busiest first."""
    rows: dict[str, dict[str, Any]] = {}

    def row(s: Series) -> dict[str, Any]:
        return rows.setdefault(s.dims.get("backendipaddress", ""), {})

    for s in series(ports, "AllocatedSnatPorts", ("maximum", "average")):
        if s.peak:
            r = row(s)
            r["allocated"] = max(r.get("allocated", 0), int(s.peak.value))
    for s in series(ports, "UsedSnatPorts", ("maximum", "average")):
        if s.peak and s.peak.value >= row(s).get("used", 0):
            row(s).update(used=int(s.peak.value), used_at=s.peak.at)
    for s in series(failed, "SnatConnectionCount", ("total", "count")):
        if _failed(s) and s.total:
            r, peak = row(s), s.peak
            r["failed"] = r.get("failed", 0) + int(s.total)
            if peak and peak.value > r.get("failed_peak", 0):
                r.update(failed_peak=int(peak.value), failed_at=peak.at)
    allocations = [r["allocated"] for r in rows.values() if r.get("allocated")]
    typical = max(sorted(set(allocations)), key=allocations.count) if allocations else 0
    for r in rows.values():  # a node the top-N of AllocatedSnatPorts left out: one outbound rule gives all the same
        r.setdefault("allocated", typical)
    found = [BackendUse(ip, **r) for ip, r in rows.items()]
    return sorted(found, key=lambda b: (-b.failed, -b.share, b.ip))


@dataclass(frozen=True)
class NatUse:
    """A NAT gateway over the window: failed SNAT connections, dropped packets, its busiest minute."""

    failed: int = 0
    failed_peak: int = 0
    failed_at: str = ""
    dropped: int = 0
    dropped_peak: int = 0
    dropped_at: str = ""
    connections: int = 0
    """The most connections (TotalConnectionCount) in one interval."""
    connections_at: str = ""


def nat_use(failed: dict[str, Any] | None, counts: dict[str, Any] | None) -> NatUse:
    """A NAT gateway's SNATConnectionCount (ConnectionState Failed), PacketDropCount and TotalConnectionCount."""
    fields: dict[str, Any] = {}
    for key, body, metric in (("failed", failed, "SNATConnectionCount"), ("dropped", counts, "PacketDropCount")):
        found = [s for s in series(body, metric, ("total", "count")) if key != "failed" or _failed(s)]
        peaks = [s.peak for s in found if s.peak]
        top = max(peaks, key=lambda p: p.value) if peaks else None
        fields[key] = int(sum(s.total for s in found))
        if top and top.value:
            fields[f"{key}_peak"], fields[f"{key}_at"] = int(top.value), top.at
    peaks = [s.peak for s in series(counts, "TotalConnectionCount", ("maximum", "total")) if s.peak]
    if peaks:
        top = max(peaks, key=lambda p: p.value)
        fields.update(connections=int(top.value), connections_at=top.at)
    return NatUse(**fields)


def timespan(utc: str, hours: int = 1) -> str:
    """The metrics `timespan` of the last `hours` ending at the run's clock (`start/end`, ISO 8601, UTC)."""
    end = datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone(timezone.utc).replace(microsecond=0)
    start = end - timedelta(hours=hours)
    return f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}"


def clock_text(at: str) -> str:
    """A metric's timestamp as people read it ("14:20 UTC")."""
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return at or "?"
    return f"{when:%H:%M} UTC"
