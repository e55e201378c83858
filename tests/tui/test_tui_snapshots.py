"""Snapshot tests (pytest-textual-snapshot): each screen on the lab's scenarios, at 80×24, dark and light.

The probes run for real against the lab; the view hides timings and normalises the lab's random loopback ports and
temporary paths (`tuihelp.STABLE`), so the SVGs are the same on every run. The snapshots are drawn by the Textual
version the test extra pins: `pytest --snapshot-update tests/tui` redraws them after a deliberate change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from tuihelp import STABLE, wait_final, wait_for, with_path

from aksdiag.probe import Judgement, Probe

PROBES = ("dns_chain", "private_dns", "apiserver", "ipplan")
"""A fixed probe list: a probe module added later changes the demo, not these snapshots."""

pytest.importorskip("pytest_textual_snapshot", reason="pytest-textual-snapshot is not installed (the test extra)")


def after(*keys: str, then: Callable[[object], None] | None = None) -> Callable[[object], object]:
    """run_before: wait for every tile to be final, press the keys, then settle."""

    async def run_before(pilot: object) -> None:
        app = pilot.app  # type: ignore[attr-defined]
        await wait_final(pilot, app)
        for key in keys:
            await pilot.press(key)  # type: ignore[attr-defined]
            await pilot.pause()  # type: ignore[attr-defined]
        if then is not None:
            then(app)
        await pilot.pause()  # type: ignore[attr-defined]

    return run_before


@pytest.mark.parametrize(
    "scenario", ["no-forwarder", "healthy", "not-linked", "stale-copy", "servfail", "mixed-resolver", "public-leak"]
)
def test_overview(scenario: str, lab, app_for, snap_compare) -> None:
    assert snap_compare(app_for(lab(scenario, PROBES), view=STABLE), run_before=after())


@pytest.mark.parametrize("scenario", ["no-forwarder", "healthy", "not-linked", "stale-copy", "public-leak"])
def test_dns_chain(scenario: str, lab, app_for, snap_compare) -> None:
    assert snap_compare(app_for(lab(scenario, PROBES), view=STABLE), run_before=after("2"))


def test_dns_chain_second_hop_selected(lab, app_for, snap_compare) -> None:
    assert snap_compare(app_for(lab("no-forwarder", PROBES), view=STABLE), run_before=after("2", "down"))


@pytest.mark.parametrize("scenario", ["no-forwarder", "mixed-resolver", "healthy"])
def test_findings(scenario: str, lab, app_for, snap_compare) -> None:
    assert snap_compare(app_for(lab(scenario, PROBES), view=STABLE), run_before=after("3"))


def test_api_server(lab, app_for, snap_compare) -> None:
    assert snap_compare(app_for(lab("no-forwarder", PROBES), view=STABLE), run_before=after("4"))


def test_whois_answer(lab, app_for, snap_compare) -> None:
    async def run_before(pilot: object) -> None:
        app = pilot.app  # type: ignore[attr-defined]
        await wait_final(pilot, app)
        await pilot.press("5", *"10.244.3.17", "enter", "escape")  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: app.query_one("#whois-result").result is not None)

    assert snap_compare(app_for(lab("no-forwarder", PROBES), view=STABLE), run_before=run_before)


def test_probe_detail(lab, app_for, snap_compare) -> None:
    assert snap_compare(app_for(lab("no-forwarder", PROBES), view=STABLE), run_before=after("enter"))


def test_lb_tables_and_snat_gauge(lab, app_for, snap_compare) -> None:
    from aksdiag.model import Gauge, Table

    judgement = Judgement(
        tables=(Table("Frontends", ("name", "address", "Service"),
                      (("a1b2c3", "10.224.0.100", "default/web"), ("d4e5f6", "10.224.0.101", "—"))),),
        gauges=(Gauge("SNAT ports at the autoscaler maximum", 48128, 64000, "ports",
                      "47 nodes × 1024 ports of 64,000"),),
    )  # fmt: skip
    probe = Probe("lb", "Load balancers and SNAT", (), lambda n, s, f: [], lambda n, s, f: judgement)
    session = lab("healthy", PROBES)
    session = replace(session, probes=(*session.probes, probe))

    async def run_before(pilot: object) -> None:
        app = pilot.app  # type: ignore[attr-defined]
        await wait_final(pilot, app)
        app.tiles["lb"].focus()
        await pilot.press("enter")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]

    assert snap_compare(app_for(session, view=STABLE), run_before=run_before)


def test_dns_chain_with_the_azure_path(lab, app_for, snap_compare) -> None:
    """The DNS tab with private_dns's graph under the evidence, its broken edge red."""
    session = with_path(lab("no-forwarder", PROBES))
    assert snap_compare(app_for(session, view=STABLE), run_before=after("2"), terminal_size=(100, 30))


def test_probe_detail_with_a_graph(lab, app_for, snap_compare) -> None:
    session = with_path(lab("no-forwarder", PROBES))

    async def run_before(pilot: object) -> None:
        app = pilot.app  # type: ignore[attr-defined]
        await wait_final(pilot, app)
        app.tiles["private_dns"].focus()
        await pilot.press("enter")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]

    assert snap_compare(app_for(session, view=STABLE), run_before=run_before)


def test_help(lab, app_for, snap_compare) -> None:
    assert snap_compare(app_for(lab("healthy", PROBES), view=STABLE), run_before=after("question_mark"))


def test_export_dialog(lab, app_for, snap_compare) -> None:
    def fixed_path(app: object) -> None:
        app.screen.query_one("#export-path").value = "aksdiag-report-20261123-110000.json"  # type: ignore[attr-defined]

    assert snap_compare(app_for(lab("no-forwarder", PROBES), view=STABLE), run_before=after("e", then=fixed_path))


def test_light_theme(lab, app_for, snap_compare) -> None:
    assert snap_compare(app_for(lab("no-forwarder", PROBES), view=STABLE, theme="textual-light"), run_before=after("3"))
