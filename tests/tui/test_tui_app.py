"""Pilot-driven tests of every tab, screen and key, on the real probes against the lab's worlds on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from textual.widgets import DataTable, Input, ProgressBar, TabbedContent
from tuihelp import run, wait_final, wait_for

from aksdiag import codes
from aksdiag.tui.screens.export import ExportScreen
from aksdiag.tui.screens.help import HelpScreen
from aksdiag.tui.screens.probe import ProbeScreen
from aksdiag.tui.widgets.facts import ProbeDetail
from aksdiag.tui.widgets.findings import FindingsPane
from aksdiag.tui.widgets.pipeline import HopPipeline
from aksdiag.tui.widgets.tile import ProbeTile
from aksdiag.tui.widgets.whois import WhoisBox


def text_of(widget: object) -> str:
    """What a Static shows, as plain text."""
    return str(widget.render())  # type: ignore[attr-defined]


def test_overview_tiles_turn_final_with_the_finding_and_the_reasons(lab, app_for) -> None:
    app = app_for(lab("no-forwarder"))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            tiles = app.tiles
            assert list(tiles)[:6] == ["cluster_state", "dns_chain", "cluster_dns", "private_dns", "apiserver", "signin"]
            assert tiles["cluster_state"].state == "skipped", "no Azure context in a DNS lab"
            assert tiles["dns_chain"].state == "fail"
            assert "DNS001" in text_of(tiles["dns_chain"].query_one(".tile-summary"))
            assert "1 finding" in text_of(tiles["dns_chain"].query_one(".tile-status"))
            assert tiles["private_dns"].state == "skipped"
            assert text_of(tiles["private_dns"].query_one(".tile-summary")).startswith(
                "no Azure context: pass --cluster"
            )
            assert tiles["apiserver"].result.reason.startswith("the DNS lab has no API server")
            verdict = text_of(app.query_one("#verdict"))
            assert "BROKEN" in verdict and "1 finding" in verdict
            assert "DNS001" in text_of(app.query_one("#top-findings"))
            assert app.focused is tiles["cluster_state"], "the first tile has the focus: the keyboard works at once"

    run(go())


def test_dns_chain_pipeline_select_a_hop_to_see_its_evidence(lab, app_for) -> None:
    session = lab("no-forwarder")
    app = app_for(session)

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("2")
            assert app.query_one(TabbedContent).active == "dns"
            pipeline = app.query_one(HopPipeline)
            hops = pipeline.hops
            assert app.focused is hops
            assert [item.hop.kind for item in hops.children] == ["resolver", "custom-dns", "azure-dns", "endpoint"]
            assert hops.index == 0, "the first failing hop is selected"
            await pilot.press("down")
            evidence = text_of(pipeline.evidence)
            custom = hops.children[1].hop.server
            assert custom.startswith("127.0.0.1:") and custom != str(session.settings.azure_dns)
            assert "2 custom-dns" in evidence and f"server      {custom}" in evidence
            assert "rcode       NXDOMAIN" in evidence and "answers     —" in evidence
            await pilot.press("down")
            evidence = text_of(pipeline.evidence)
            assert "3 azure-dns" in evidence and "answers     10.224.0.4" in evidence
            assert str(session.settings.azure_dns) in evidence and "time" in evidence

    run(go())


def test_findings_detail_says_what_it_means_the_evidence_the_fix_and_copies_the_command(lab, app_for) -> None:
    session = lab("mixed-resolver")
    app = app_for(session)

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("3")
            pane = app.query_one(FindingsPane)
            assert app.focused is pane.list
            found = [f.id for f in pane.findings]
            assert set(found) >= {"DNS001", "DNS018"}
            severities = [f.severity.rank for f in pane.findings]
            assert severities == sorted(severities, reverse=True), "sorted by severity, errors first"
            detail = text_of(pane.detail)
            first = pane.findings[0]
            assert first.id == "DNS001"
            assert "What it means" in detail and codes.DNS001.summary[:60] in detail
            assert "Evidence" in detail and "answered NXDOMAIN" in detail
            assert "Fix" in detail and "Add a conditional forwarder" in detail
            assert first.command and first.command in detail.replace("\n", " ")
            assert codes.DNS001.docs in detail
            await pilot.press("y")
            assert app.clipboard == first.command
            await pilot.press("down")
            assert pane.selected is not None and pane.selected.id == pane.findings[1].id
            assert pane.findings[1].id in text_of(pane.detail)

    run(go())


def test_api_server_tab_and_whois_box(lab, app_for) -> None:
    app = app_for(lab("healthy"))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("4")
            api = app.query_one("#api-detail", ProbeDetail)
            assert api.result is not None and api.result.status.value == "skipped"
            assert "no API server" in " ".join(text_of(s) for s in api.query(".detail-reason"))
            await pilot.press("5")
            assert isinstance(app.focused, Input) and app.focused.id == "whois-ip"
            await pilot.press(*"10.0.0.300", "enter")  # not an IP: said, not asked
            box = app.query_one(WhoisBox)
            assert box.detail.result is None
            app.focused.value = ""
            await pilot.press(*"10.244.3.17", "enter")
            await wait_for(pilot, lambda: box.detail.result is not None)
            assert box.detail.result.probe == "whois"
            assert box.detail.result.reason == "no Kubernetes context: pass --kubeconfig (or run in a pod)"

    run(go())


def test_whois_box_asks_the_cluster_with_the_sessions_context(lab, app_for, tmp_path: Path) -> None:
    from dataclasses import replace

    from aksdiag import settings as settings_mod
    from aksdiag.facts import KubeContextNeed
    from aksdiag.lab import kubeworlds
    from aksdiag.lab.kube import FakeKubeApi, KubeWorld

    world = KubeWorld()
    world.add_all(kubeworlds.build("kubenet"))
    with FakeKubeApi(world, tmp_path / "pki") as api:
        kubeconfig = str(api.kubeconfig(tmp_path / "kubeconfig"))
        whois_settings = settings_mod.from_env(kube=KubeContextNeed(kubeconfig, None))
        app = app_for(replace(lab("healthy"), whois=whois_settings))

        async def go() -> None:
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.press("5", *"10.244.1.3", "enter")
                box = app.query_one(WhoisBox)
                await wait_for(pilot, lambda: box.detail.result is not None)
                result = box.detail.result
                assert result.status.value == "ok" and result.hops[0].kind == "pod"
                table = box.detail.query_one(".hop-table", DataTable)
                assert table.row_count == len(result.hops)
                assert "aks-nodepool1-12345678-vmss000001" in result.hops[0].detail
                await wait_final(pilot, app)

        run(go())


def test_enter_on_a_tile_opens_the_probe_in_full_and_escape_comes_back(lab, app_for) -> None:
    app = app_for(lab("no-forwarder"))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("tab", "enter")  # past the cluster's state (no Azure context here) to the DNS chain
            screen = app.screen
            assert isinstance(screen, ProbeScreen) and screen.probe_id == "dns_chain"
            detail = screen.query_one(ProbeDetail)
            table = detail.query_one(".hop-table", DataTable)
            assert table.row_count == 4
            assert "DNS001" in text_of(detail.query_one(".detail-findings"))
            await pilot.press("escape")
            assert not isinstance(app.screen, ProbeScreen)
            await pilot.press("tab", "enter")  # the next tile: the cluster's relays, none on a jump box's path
            assert isinstance(app.screen, ProbeScreen) and app.screen.probe_id == "cluster_dns"
            reason = text_of(app.screen.query_one(".detail-reason"))
            assert reason.startswith("no cluster DNS relay on this path")

    run(go())


def test_probe_tables_and_gauges_render_generically(lab, app_for) -> None:
    """Any probe's tables become DataTables and its gauges bars (the LB probe's rules, SNAT)."""
    from dataclasses import replace

    from aksdiag.model import Gauge, Table
    from aksdiag.probe import Judgement, Probe

    tables = (
        Table("Load balancing rules", ("frontend", "port", "backend", "Service"),
              (("10.224.0.100", "443/TCP", "kubernetes", "default/web"),
               ("10.224.0.101", "80/TCP", "kubernetes", "default/api"))),
        Table("Outbound rules", ("rule", "ports per node"), (("aksOutboundRule", "1024"),)),
    )  # fmt: skip
    gauges = (Gauge("SNAT ports at the autoscaler maximum", 48128, 64000, "ports",
                    "47 nodes × 1024 of 64,000 (1 frontend IP)"),)  # fmt: skip
    judgement = Judgement(tables=tables, gauges=gauges)
    probe = Probe("lbfacts", "Load balancers and SNAT", (), lambda n, s, f: [], lambda n, s, f: judgement)
    session = lab("healthy")
    app = app_for(replace(session, probes=(*session.probes, probe)))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            app.tiles["lbfacts"].focus()
            await pilot.press("enter")
            detail = app.screen.query_one(ProbeDetail)
            tables = list(detail.query(".facts-table").results(DataTable))
            assert [t.row_count for t in tables] == [2, 1]
            assert [str(c.label) for c in tables[0].columns.values()] == ["frontend", "port", "backend", "Service"]
            assert tables[0].get_row_at(0) == ["10.224.0.100", "443/TCP", "kubernetes", "default/web"]
            (bar,) = detail.query(".gauge-bar").results(ProgressBar)
            assert (bar.progress, bar.total) == (48128, 64000) and bar.percentage == 48128 / 64000
            labels = " ".join(text_of(label) for label in detail.query("GaugeBar Label"))
            assert "48128 / 64000 ports" in labels and "47 nodes × 1024" in labels

    run(go())


def test_r_reruns_every_probe_and_the_tiles_go_through_running_again(lab, app_for) -> None:
    app = app_for(lab("no-forwarder"))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            first, tile = app.results["dns_chain"], app.tiles["dns_chain"]
            states: list[str] = []
            set_state = tile._set_state

            def recorded(state: str) -> None:
                states.append(state)
                set_state(state)

            tile._set_state = recorded
            await pilot.press("r")
            await wait_final(pilot, app)
            assert app.results["dns_chain"] is not first
            assert states == ["running", "fail"], "the tile goes through running again, then shows the new result"

    run(go())


def test_c_cancels_a_slow_probe_it_is_skipped_as_cancelled(lab, app_for) -> None:
    app = app_for(lab("dead-server", timeout=20.0))  # the dead server would hold the chain for 20 s

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            tile = app.tiles["dns_chain"]
            await pilot.press("tab")  # from the first tile (the cluster's state) to the DNS chain
            await wait_for(pilot, lambda: app.focused is tile and tile.state == "running")
            assert tile.query_one(".tile-progress", ProgressBar).display
            engine = app.engine
            await pilot.press("c")
            assert tile.state == "skipped" and tile.result.reason == "cancelled"
            assert not tile.query_one(".tile-progress", ProgressBar).display
            assert engine.done.wait(10), "the probe's fetches stopped, the engine's thread ended"
            await wait_final(pilot, app, timeout=5)
            report = app.report
            assert {p.probe: p.reason for p in report.probes}["dns_chain"] == "cancelled"

    run(go())


def test_e_exports_json_and_markdown_with_the_renderers(lab, app_for, tmp_path: Path) -> None:
    app = app_for(lab("no-forwarder"))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("e")
            assert isinstance(app.screen, ExportScreen)
            path_box = app.screen.query_one("#export-path", Input)
            assert path_box.value.startswith(str(tmp_path / "aksdiag-report-")) and path_box.value.endswith(".json")
            await pilot.press("enter")
            (json_file,) = tmp_path.glob("aksdiag-report-*.json")
            doc = json.loads(json_file.read_text())
            assert doc["schema"] == "aksdiag.report/v1" and doc["verdict"] == "broken"
            assert [f["id"] for f in doc["findings"]] == ["DNS001"]
            assert [p["probe"] for p in doc["probes"]][:5] == [
                "cluster_state",
                "dns_chain",
                "cluster_dns",
                "private_dns",
                "apiserver",
            ]
            await pilot.press("e", "shift+tab", "down", "enter")  # the radio: Markdown
            assert app.screen.query_one("#export-path", Input).value.endswith(".md")
            await pilot.press("tab", "enter")
            (md_file,) = tmp_path.glob("aksdiag-report-*.md")
            md = md_file.read_text()
            assert md.startswith("## aksdiag demo ") and "**BROKEN**" in md and "#### DNS001 error" in md
            await pilot.press("e", "escape")
            assert not isinstance(app.screen, ExportScreen)

    run(go())


def test_slash_filters_tiles_and_findings_escape_clears(lab, app_for) -> None:
    app = app_for(lab("mixed-resolver"))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("slash")
            assert app.focused is app.query_one("#filter", Input)
            await pilot.press(*"dns018")
            assert [t.probe_id for t in app.query(ProbeTile) if t.display] == ["dns_chain"]
            assert [f.id for f in app.query_one(FindingsPane).findings] == ["DNS018"]
            assert "DNS001" not in text_of(app.query_one("#top-findings"))
            await pilot.press("enter")
            assert isinstance(app.focused, ProbeTile)
            await pilot.press("escape")
            assert all(t.display for t in app.query(ProbeTile))
            assert {f.id for f in app.query_one(FindingsPane).findings} >= {"DNS001", "DNS018"}
            assert not app.query_one("#filter", Input).display

    run(go())


def test_help_theme_and_tabs_by_number(lab, app_for) -> None:
    app = app_for(lab("healthy"))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            assert "export the report" in " ".join(text_of(s) for s in app.screen.query("Static"))
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
            assert app.theme == "textual-dark"
            await pilot.press("t")
            assert app.theme == "textual-light"
            await pilot.press("t")
            assert app.theme == "textual-dark"
            for key, tab in zip("23451", ("dns", "findings", "api", "whois", "overview"), strict=True):
                if tab == "overview":
                    await pilot.press("escape")  # leave the whois box
                await pilot.press(key)
                assert app.query_one(TabbedContent).active == tab
            assert isinstance(app.focused, ProbeTile)
            keys = {key for key, b in app.active_bindings.items() if b.binding.show}
            assert {"r", "e", "slash", "question_mark", "q"} <= keys, "the footer shows the keys"

    run(go())


def test_q_quits_with_the_reports_exit_code(lab, app_for) -> None:
    for scenario, code in (("no-forwarder", 1), ("healthy", 0)):
        app = app_for(lab(scenario))

        async def go(app=app) -> None:
            async with app.run_test(size=(80, 24)) as pilot:
                await wait_final(pilot, app)
                await pilot.press("q")

        run(go())
        assert app.return_value == code, scenario


def test_healthy_world_has_no_fault(lab, app_for) -> None:
    app = app_for(lab("healthy"))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            assert app.tiles["dns_chain"].state == "ok"
            assert "OK" in text_of(app.query_one("#verdict"))
            await pilot.press("3")
            assert "No fault found" in text_of(app.query_one(FindingsPane).detail)
            assert len(app.query_one(FindingsPane).list.children) == 0
            shown = [(i.hop.kind, i.hop.status.value) for i in app.query_one(HopPipeline).hops.children]
            assert shown == [("resolver", "ok"), ("custom-dns", "ok"), ("azure-dns", "ok"), ("endpoint", "ok")]

    run(go())


def test_results_streaming_in_at_once_list_each_finding_and_hop_once(lab, app_for) -> None:
    """Two refreshes racing (results stream in while the lists are being redrawn) must not append twice."""
    import asyncio

    app = app_for(lab("no-forwarder"))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            findings = app.report.findings
            pane, pipeline = app.query_one(FindingsPane), app.query_one(HopPipeline)
            chain = app.results["dns_chain"]
            await asyncio.gather(pane.show(findings), pane.show(findings), pipeline.show(chain), pipeline.show(chain))
            await pilot.pause()
            assert len(pane.list.children) == len(findings) > 0
            assert len(pipeline.hops.children) == len(chain.hops) > 0

    run(go())


def test_a_probe_the_command_leaves_out_loses_its_tile_and_the_run_ends(lab, app_for) -> None:
    """`aksdiag demo --world none` runs what `dns` runs: without Azure the private zone probe is left out, so its
    tile goes and every other tile turns final (it used to spin as "running" for ever)."""
    from aksdiag.plan import Plan

    session = lab("no-forwarder")
    app = app_for(Plan.of("dns", session.target, session.settings, ["dns_chain", "private_dns"]))

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app, timeout=30)
            assert not app.tiles["private_dns"].display and app.tiles["dns_chain"].display
            assert app.running == [] and app.left_out == {"private_dns"}
            assert [p.probe for p in app.report.probes] == ["dns_chain"]

    run(go())


def test_findings_follow_the_most_severe_until_the_user_chooses_and_a_stale_list_is_skipped(lab, app_for) -> None:
    """Findings arrive as probes end, in any order: with the list focused but the selection still the pane's own
    (the top one), a more severe finding arriving takes the top and the selection; a finding the user moved to
    stays; a list asked for before a newer one is not drawn over it."""
    session = lab("mixed-resolver")
    app = app_for(session)

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app)
            await pilot.press("3")
            pane = app.query_one(FindingsPane)
            assert app.focused is pane.list
            error, *rest = pane.findings
            assert error.severity.rank > rest[-1].severity.rank
            await pane.show(tuple(rest))  # as if the error's probe had not ended yet: the pane picks the top
            assert pane.selected == rest[0]
            await pane.show((error, *rest))  # the error arrives: the user chose nothing, so it is selected
            assert pane.selected == error, "the pane's own choice follows the most severe"
            await pilot.press("down")  # the user moves: that choice is kept when the list is redrawn
            chosen = pane.selected
            await pane.show((error, *rest))
            assert pane.selected == chosen
            stale, newest = tuple(rest), (error, *rest)
            await asyncio.gather(pane.show(stale), pane.show(newest))
            assert pane.findings == newest, "the stale list queued first is skipped, the newest is shown"

    run(go())
