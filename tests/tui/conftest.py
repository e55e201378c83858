"""Fixtures of the TUI tests: the demo session on a running lab world, and the app with its export directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from aksdiag.lab import world as lab_world
from aksdiag.plan import Plan
from aksdiag.probe import for_command
from aksdiag.tui.app import AksdiagApp, make_app
from aksdiag.tui.session import plan_of
from aksdiag.tui.view import View

NO_APISERVER = "the DNS lab has no API server: `aksdiag tui --kubeconfig …` tests a real one"


def dns_lab_plan(world: lab_world.World) -> Plan:
    """check's probes on a running DNS lab world: no cluster, so the API server is skipped (saying why)."""
    settings = world.settings(timeout=2.0)
    ids = [p.id for p in for_command("check")]
    return plan_of("demo", world.scenario.fqdn, settings, ids, whois=settings, skip={"apiserver": NO_APISERVER})


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Callable[..., Plan]]:
    """lab(scenario, probes=None, **settings) → the demo session on a running lab world (stopped after the test);
    `probes` replaces the plan's probe list (check's probes)."""
    worlds: list[lab_world.World] = []

    def start(scenario: str = "no-forwarder", probes: tuple[str, ...] | None = None, **overrides: object) -> Plan:
        world = lab_world.start(scenario, "python", tmp_path / f"world-{len(worlds)}")
        worlds.append(world)
        session = dns_lab_plan(world)
        if probes is not None:
            from aksdiag.probe import load

            session = replace(session, probes=tuple(load(p) for p in probes))
        # no TUI test is about latency: a loaded CI box must not turn a 300 ms answer into DNS009 (--slow-ms)
        overrides.setdefault("slow_ms", 10_000.0)
        session = replace(session, settings=replace(session.settings, **overrides))
        return session

    yield start
    for w in worlds:
        w.close()


@pytest.fixture
def app_for(tmp_path: Path) -> Callable[..., AksdiagApp]:
    def build(session: Plan, view: View | None = None, theme: str = "textual-dark") -> AksdiagApp:
        return make_app(session, view=view, theme=theme, export_dir=tmp_path)

    return build
