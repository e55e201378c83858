"""The TUI's watch (`w`): the plan again every interval on the lab's relay-cached-nxdomain world, the hops and
findings updating live as the forwarder is added and CoreDNS's cached NXDOMAIN runs out (the relay's clock moved
on, never slept), the DNS tab saying when the cache expires; `w` again stops it. Real servers, probes, runner."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static
from tuihelp import run, wait_final, wait_for

from aksdiag.lab import world as lab_world
from aksdiag.lab.scenarios import ENDPOINT_IP, FORWARD_ZONE
from aksdiag.tui.app import make_app
from aksdiag.tui.session import plan_of
from aksdiag.tui.widgets.pipeline import HopPipeline


@pytest.fixture
def world(tmp_path: Path) -> Iterator[lab_world.World]:
    with lab_world.start("relay-cached-nxdomain", "python", tmp_path / "world") as running:
        running.live.clock.freeze()
        yield running


def watch_text(app: Any) -> str:
    return str(app.query_one("#watch", Static).render())


def hop_answers(app: Any) -> dict[str, tuple[str, ...]]:
    result = app.query_one(HopPipeline).result
    return {h.server: h.answers or (h.rcode,) for h in result.hops if h.server} if result else {}


def test_w_watches_the_fix_reach_each_layer_and_w_again_stops(world: lab_world.World, tmp_path: Path) -> None:
    plan = plan_of("dns", world.scenario.fqdn, world.settings(timeout=2.0), ["dns_chain"])
    app = make_app(plan, export_dir=tmp_path, watch_interval=0.3)
    relay, custom = str(world.endpoints["coredns"]), str(world.endpoints["custom"])

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_final(pilot, app)
            assert "w" in app.active_bindings, "the footer offers the watch"
            await pilot.press("2")
            assert not app.query_one("#watch").display, "no watch line until w"
            await pilot.press("w")
            await wait_for(pilot, lambda: "· verdict broken" in watch_text(app))
            assert "custom DNS still answers NXDOMAIN (TTL 60 s" in watch_text(app)
            assert "DNS001" in {f.id for f in app.report.findings}

            world.add_forward("custom", FORWARD_ZONE, "azure")  # the engineer adds the forwarder
            await wait_for(pilot, lambda: hop_answers(app).get(custom) == (ENDPOINT_IP,))
            assert hop_answers(app)[relay] == ("NXDOMAIN",), "CoreDNS still answers its cached NXDOMAIN"
            assert "DNS001" not in {f.id for f in app.report.findings}, "the findings follow the round"
            shown = watch_text(app)
            assert f"{custom}" in shown and ENDPOINT_IP in shown, shown
            assert "verdict broken → " in shown

            world.live.clock.advance(20)  # CoreDNS's `cache 30`: 10 s left
            await wait_for(pilot, lambda: "cached NXDOMAIN expires in 10 s" in watch_text(app))
            world.live.clock.advance(10)
            await wait_for(pilot, lambda: hop_answers(app).get(relay) == (ENDPOINT_IP,))
            await wait_for(pilot, lambda: "· verdict ok" in watch_text(app))
            assert app.report.verdict.value == "ok"

            await pilot.press("w")
            assert not app.query_one("#watch").display
            generation = app._generation
            await pilot.pause(0.8)
            assert app._generation == generation, "no round after the watch stopped"

    run(go())


def test_r_while_watching_runs_once_and_the_watch_goes_on(world: lab_world.World, tmp_path: Path) -> None:
    plan = plan_of("dns", world.scenario.fqdn, world.settings(timeout=2.0), ["dns_chain"])
    app = make_app(plan, export_dir=tmp_path, watch_interval=0.3)

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("w")
            await wait_for(pilot, lambda: app.watcher is not None and app.watcher.rounds >= 2)
            await pilot.press("r")
            began = time.monotonic()
            rounds = app.watcher.rounds
            await wait_for(pilot, lambda: app.watcher.rounds >= rounds + 3)
            assert time.monotonic() - began >= 0.6, "rounds an interval apart, not piled up"
            assert app.engine is not None and app.engine.done.wait(5)

    run(go())
