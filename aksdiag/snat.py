"""SNAT port arithmetic for an AKS load balancer's outbound rule, as Azure documents it. Pure.

Each outbound frontend IP gives 64,000 ports. With `allocatedOutboundPorts` 0 (AKS's default) Azure allocates
by backend pool size (the table below, per instance and per frontend IP); otherwise every instance gets the
explicit number (a multiple of 8, at most 64,000), and the pool fits as many instances as the ports allow:
64,000 / ports per instance × frontend IPs.
"""

from __future__ import annotations

from dataclasses import dataclass

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
