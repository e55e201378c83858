"""SNAT arithmetic against Azure's documented default table and examples, boundary by boundary."""

from __future__ import annotations

import pytest

from aksdiag.snat import capacity, default_ports, valid_explicit_ports


@pytest.mark.parametrize(
    ("pool", "ports"),
    [(1, 1024), (50, 1024), (51, 512), (100, 512), (101, 256), (200, 256), (201, 128), (400, 128), (401, 64),
     (800, 64), (801, 32), (1000, 32), (1001, 0)],
)  # fmt: skip
def test_default_allocation_table(pool: int, ports: int) -> None:
    assert default_ports(pool) == ports


@pytest.mark.parametrize(
    ("ports", "ips", "max_nodes"),
    [(1000, 2, 128), (1000, 7, 448), (4000, 2, 32), (4000, 7, 112)],  # the AKS documentation's own examples
)
def test_explicit_ports_max_nodes(ports: int, ips: int, max_nodes: int) -> None:
    c = capacity(ports, ips, pool_size=10)
    assert (c.max_nodes, c.explicit, c.ports_per_node) == (max_nodes, True, ports)


def test_surge_headroom_example() -> None:
    """100 nodes × 4,000 ports need 400,000; 7 IPs give 448,000: 112 nodes fit, so a surge of 2 does too."""
    c = capacity(4000, 7, pool_size=100)
    assert c.fits(100 + 2) and not c.fits(113)


def test_validation() -> None:
    assert valid_explicit_ports(1000) is None
    assert valid_explicit_ports(1001) == "must be a multiple of 8"
    assert valid_explicit_ports(64_008) == "must be 0 to 64,000"
