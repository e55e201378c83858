"""The lab's ports: named before they are bound, so chosen where no client socket's source port can land."""

from __future__ import annotations

import itertools
import socket
from pathlib import Path

import pytest

from aksdiag.lab.dnsserver import free_port, lab_port_band


@pytest.mark.parametrize(
    ("first", "last", "band"),
    [
        (32768, 60999, (20768, 32768)),  # Linux's default: below the ephemeral range
        (10000, 40000, (1024, 10000)),  # a low ephemeral range: what is left below it
        (1024, 50000, (50001, 65536)),  # nothing below: above it
        (1024, 65535, (20000, 30000)),  # everything ephemeral (some containers): a fixed band, clashes rare
    ],
)
def test_band_avoids_the_ephemeral_range(first: int, last: int, band: tuple[int, int]) -> None:
    assert lab_port_band(first, last) == band


def test_free_port_is_outside_this_machines_ephemeral_range_and_bindable() -> None:
    first, last = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[:2])
    ports = {free_port() for _ in range(20)}
    assert len(ports) == 20, "a port is never handed out twice"
    if lab_port_band(first, last) != (20000, 30000):
        assert all(not first <= p <= last for p in ports)
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as t:
            u.bind(("127.0.0.1", port))
            t.bind(("127.0.0.1", port))


def test_each_worker_names_ports_from_its_own_slice_of_the_band() -> None:
    """AKSDIAG_LAB_PORTS=K/N (tests/conftest.py sets it per pytest-xdist worker): disjoint slices, all in the band."""
    from aksdiag.lab.dnsserver import port_slice

    band = (20768, 32768)
    slices = [port_slice(band, f"{k}/3") for k in range(3)]
    assert slices[0][0] == band[0] and all(a[1] <= b[0] for a, b in itertools.pairwise(slices))
    assert all(band[0] <= low < high <= band[1] for low, high in slices)
    for spec in ("", "x", "3/3", "-1/2", "1/0"):
        assert port_slice(band, spec) == band, spec


def test_a_long_run_that_handed_out_its_whole_slice_gets_ports_again(monkeypatch) -> None:
    """The suite's worker hands out ports for hours: once its slice was all handed out, the older half (whose servers
    closed) is handed out again instead of 'no free port on loopback' with the slice free."""
    from aksdiag.lab import ports

    low = ports._lab_port_range()[0]
    monkeypatch.setattr(ports, "_lab_port_range", lambda: (low, low + 40))
    monkeypatch.setattr(ports, "_handed_out", {})
    got = [ports.free_port() for _ in range(120)]
    assert all(low <= p < low + 40 for p in got)
    assert len(set(got[-20:])) == 20, "recent ports are not handed out twice"
