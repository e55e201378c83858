"""The resolution path in the TUI: the DNS tab draws private_dns's graph under the chain's evidence, the probe's
detail view draws it too, the broken edge marked; a run without a graph shows no path at all."""

from __future__ import annotations

from textual.widgets import Static
from tuihelp import path_graph, run, wait_final, with_path

from aksdiag.tui.screens.probe import ProbeScreen
from aksdiag.tui.widgets.facts import ProbeDetail


def text_of(widget: object) -> str:
    return str(widget.render())  # type: ignore[attr-defined]


def test_dns_tab_draws_the_path_with_the_broken_edge_marked(lab, app_for) -> None:
    app = app_for(with_path(lab("no-forwarder")))

    async def go() -> None:
        async with app.run_test(size=(100, 40)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("2")
            path = app.query_one("#pipeline-path", Static)
            assert path.display
            shown = text_of(path).splitlines()
            assert shown[0] == "How aks-lab.privatelink.koreacentral.azmk8s.io resolves · 1 broken"
            assert shown[1] == "✔ vnet-aks ─DNS server (peering Connected)→ dnspr-hub inbound 10.1.2.4"
            assert shown[3] == "✘ Azure DNS in vnet-hub ─no link→ privatelink.koreacentral.azmk8s.io"
            broken = path.render().spans  # type: ignore[attr-defined]
            assert any("red" in str(s.style) for s in broken), "the broken edge is red"

    run(go())


def test_no_graph_no_path(lab, app_for) -> None:
    app = app_for(lab("no-forwarder"))  # private_dns skipped: no Azure context, no graph

    async def go() -> None:
        async with app.run_test(size=(100, 40)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("2")
            assert not app.query_one("#pipeline-path", Static).display

    run(go())


def test_probe_detail_draws_any_probes_graph(lab, app_for) -> None:
    app = app_for(with_path(lab("no-forwarder")))

    async def go() -> None:
        async with app.run_test(size=(100, 40)) as pilot:
            await wait_final(pilot, app)
            app.tiles["private_dns"].focus()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ProbeScreen)
            detail = app.screen.query_one(ProbeDetail)
            graph = detail.query_one(".path-graph", Static)
            lines = text_of(graph).splitlines()
            assert len(lines) == len(path_graph().edges)
            assert lines[2].startswith("✘ Azure DNS in vnet-hub ─no link→")
            assert "DNS011" in text_of(detail.query_one(".detail-findings"))

    run(go())
