"""Lab ports on loopback: chosen outside the kernel's ephemeral range, in per-process slices, before they are bound.

Separate from the servers (dnsserver) because every lab server — DNS, the fake ARM, the fake Kubernetes API — names
its ports with it.
"""

from __future__ import annotations

import functools
import os
import random
import socket
from pathlib import Path

_handed_out: dict[int, None] = {}
"""The ports this process handed out, oldest first: not handed out again while the rest of the slice has room."""


def lab_port_band(first: int, last: int) -> tuple[int, int]:
    """[low, high) outside the kernel's ephemeral range first..last (where client sockets get their source ports):
    below it (the usual 32768-60999 leaves 20768-32767), else above it, else — when it spans nearly every port, as
    in some containers — a fixed band inside it, where a clash stays possible but rare."""
    if first - 1024 >= 2000:
        return max(1024, first - 12000), first
    if 65535 - last >= 2000:
        return last + 1, 65536
    return 20000, 30000


def port_slice(band: tuple[int, int], spec: str) -> tuple[int, int]:
    """Slice K of N of the band (AKSDIAG_LAB_PORTS=K/N): processes that run labs side by side — the test suite's
    workers — each pick from their own slice, so two never name the same port before either binds it."""
    try:
        k, n = (int(v) for v in spec.split("/"))
    except ValueError:
        return band
    if not 0 <= k < n:
        return band
    low, high = band
    width = (high - low) // n
    return low + k * width, low + (k + 1) * width


@functools.cache
def _lab_port_range() -> tuple[int, int]:
    try:
        first, last = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[:2])
    except (OSError, ValueError):
        first, last = 32768, 60999
    return port_slice(lab_port_band(first, last), os.environ.get("AKSDIAG_LAB_PORTS", ""))


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on `host`, chosen outside the ephemeral range.

    The lab must name ports before it binds them (servers forward to each other), so a port
    from the ephemeral range could be taken meanwhile by any client socket's source port;
    ports outside that range are only ever taken by an explicit bind.
    """
    low, high = _lab_port_range()
    for attempt in range(2):
        if attempt:  # a long run (the whole suite in one worker) handed out most of its slice once: the older half
            for old in list(_handed_out)[: len(_handed_out) // 2]:  # is free again where its servers closed
                del _handed_out[old]
        for _ in range(200):
            port = random.randrange(low, high)
            if port not in _handed_out and _bindable(host, port):
                _handed_out[port] = None
                return port
    raise OSError("no free port on loopback")


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        try:
            u.bind((host, port))
            t.bind((host, port))
        except OSError:
            return False
    return True
