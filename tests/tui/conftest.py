"""Fixtures of the TUI tests: the demo session on a running lab world, and the app with its export directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from aksdiag.lab import world as lab_world
from aksdiag.tui.app import AksdiagApp, make_app
from aksdiag.tui.session import Session, demo_session
from aksdiag.tui.view import View


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Callable[..., Session]]:
    """lab(scenario, probes=None, **settings) → the demo session on a running lab world (stopped after the test);
    `probes` replaces the demo's probe list (every probe module but whois)."""
    worlds: list[lab_world.World] = []

    def start(scenario: str = "no-forwarder", probes: tuple[str, ...] | None = None, **overrides: object) -> Session:
        world = lab_world.start(scenario, "python", tmp_path / f"world-{len(worlds)}")
        worlds.append(world)
        session = demo_session(world)
        if probes is not None:
            from aksdiag.probe import load

            session = replace(session, probes=tuple(load(p) for p in probes))
        if overrides:
            session = replace(session, settings=replace(session.settings, **overrides))
        return session

    yield start
    for w in worlds:
        w.close()


@pytest.fixture
def app_for(tmp_path: Path) -> Callable[..., AksdiagApp]:
    def build(session: Session, view: View | None = None, theme: str = "textual-dark") -> AksdiagApp:
        return make_app(session, view=view, theme=theme, export_dir=tmp_path)

    return build
