"""TUI test helpers: waiting for every tile to be final, a stable view (no ports, paths or timings).

Everything runs for real: the lab's DNS servers on loopback, the probes, the runner, the worker threads.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from aksdiag.model import Graph, GraphEdge, GraphNode, Status
from aksdiag.plan import Plan
from aksdiag.tui.app import AksdiagApp
from aksdiag.tui.view import View

_MASKS = (
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"/\S*?/resolv\.conf"), "/LAB/resolv.conf"),
    (re.compile(r"\b\d+(\.\d+)? ?ms\b"), "N ms"),
    (re.compile(r'"elapsed_ms": [\d.]+'), '"elapsed_ms": N'),
)


def stable(text: str) -> str:
    """The lab's random ports, temporary paths and timings, normalised (for snapshots)."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


STABLE = View(show_timings=False, mask=stable)


async def wait_for(pilot: object, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll (letting the app run) until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s: {condition}")
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def wait_final(pilot: object, app: AksdiagApp, timeout: float = 30.0) -> None:
    await wait_for(pilot, lambda: app.all_final, timeout)


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def path_graph() -> Graph:
    """A landing zone's resolution path with its broken edge: the zone not linked to the resolver's VNet."""
    nodes = (
        GraphNode("vnet:spoke", "vnet", "vnet-aks"),
        GraphNode("dns:10.1.2.4", "resolver-inbound", "dnspr-hub inbound 10.1.2.4"),
        GraphNode("view:hub", "azure-dns", "Azure DNS in vnet-hub"),
        GraphNode("zone:z", "zone", "privatelink.koreacentral.azmk8s.io"),
    )
    edges = (
        GraphEdge("vnet:spoke", "dns:10.1.2.4", "DNS server (peering Connected)"),
        GraphEdge("dns:10.1.2.4", "view:hub", "answers from its VNet"),
        GraphEdge("view:hub", "zone:z", "no link", Status.FAIL),
    )
    return Graph(nodes, edges, title="How aks-lab.privatelink.koreacentral.azmk8s.io resolves")


def with_path(session: Plan, graph: Graph | None = None) -> Plan:
    """The session with private_dns replaced by a probe that reports `graph` (the DNS lab has no Azure)."""
    from dataclasses import replace

    from aksdiag import codes
    from aksdiag.probe import Judgement, Probe

    finding = codes.DNS011.at(
        "private_dns", zone="privatelink.koreacentral.azmk8s.io", zone_rg="rg-dns", vnet="/subscriptions/s/vnet-hub",
        vnet_name="vnet-hub", linked="no VNet", why="the inbound endpoint 10.1.2.4 answers from there",
        link_name="link-vnet-hub",
    )  # fmt: skip
    judgement = Judgement(findings=(finding,), graph=graph or path_graph())
    fake = Probe("private_dns", "Private DNS zone (Azure)", (), lambda n, s, f: [], lambda n, s, f: judgement)
    return replace(session, probes=tuple(fake if p.id == "private_dns" else p for p in session.probes))
