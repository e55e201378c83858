"""The fleet view (aksdiag.tui.fleet) driven by Textual's pilot on a ready FleetReport: the cause groups and the
clusters table, a group and the text filter narrowing it, drill-in to one cluster's full report and back, export,
quit with the fleet's exit code. The clusters' reports are the fleet probes' results with findings of the real codes
(`Code.at`), the shapes `aksdiag fleet` produces; no ARM is needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input
from tuihelp import run, wait_for

from aksdiag import codes
from aksdiag.cli import build_parser
from aksdiag.commands.fleet import fleet_plan
from aksdiag.fleet.model import CauseGroup, FleetCluster, FleetReport, QueryStat
from aksdiag.lab.armworld import fleetworld
from aksdiag.model import Finding, ProbeResult, Report, Status
from aksdiag.probe import for_command
from aksdiag.tui.fleet import ClusterScreen, FleetApp, FleetExportScreen, exit_code
from aksdiag.tui.screens.probe import ProbeScreen
from aksdiag.tui.widgets.findings import FindingsPane

HUB = "00000000-0000-0000-0000-0000000000a1"
SPOKE = "00000000-0000-0000-0000-0000000000b2"
DEV = "00000000-0000-0000-0000-0000000000c3"
ZONE = "privatelink.westeurope.azmk8s.io"
HUB_VNET = f"/subscriptions/{HUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub-weu"
ZONE_ID = f"/subscriptions/{HUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/{ZONE}"


def cluster_id(name: str, sub: str = SPOKE) -> str:
    return f"/subscriptions/{sub}/resourceGroups/rg-{name}/providers/Microsoft.ContainerService/managedClusters/{name}"


def dns011() -> Finding:
    return codes.DNS011.at(
        "private_dns", zone=ZONE, zone_rg="rg-dns", linked="vnet-spoke-1", vnet=HUB_VNET, vnet_name="vnet-hub-weu",
        why="the DNS server's VNet", link_name="link-hub", evidence={"zone": ZONE_ID, "vnet": HUB_VNET},
    )  # fmt: skip


def cl001(name: str) -> Finding:
    return codes.CL001.at(
        "cluster_state", cluster=name, resource_group=f"rg-{name}", nodes=0, pools="nodepool1", provisioning="Succeeded",
        starting="az aks start",
    )  # fmt: skip


def cluster(
    name: str, findings: dict[str, list[Finding]] | None = None, sub: str = SPOKE, **kw: object
) -> FleetCluster:
    """A cluster judged by the fleet's probes: `findings` by probe id (those probes fail), the others ok."""
    findings = findings or {}
    results = tuple(
        ProbeResult(
            probe=p.id, title=p.title, status=Status.FAIL if findings.get(p.id) else Status.OK, elapsed_ms=1.0,
            findings=tuple(findings.get(p.id, ())), facts={"cluster": name},
        )
        for p in for_command("fleet")
    )  # fmt: skip
    report = Report(command="fleet", target=cluster_id(name), probes=results, elapsed_ms=5.0)
    return FleetCluster(cluster_id(name, sub), name, sub, f"rg-{name}", "westeurope", report, **kw)  # type: ignore[arg-type]


def fleet() -> FleetReport:
    """Six clusters: three behind the hub's unlinked zone (one cause), one stopped, one lagged, one healthy; and a
    subscription the identity could not read."""
    broken = [cluster(f"aks-weu-{i}", {"private_dns": [dns011()]}, confirmed=True) for i in (1, 2, 3)]
    stopped = cluster("aks-stopped", {"cluster_state": [cl001("aks-stopped")]}, confirmed=True)
    lagged = cluster("aks-lagged", lagged=("DNS011",))
    healthy = cluster("aks-healthy", sub=DEV)
    groups = (
        CauseGroup("DNS011", codes.DNS011.severity, codes.DNS011.title,
                   f"all in subscription conn-prod, zone {ZONE} not linked to vnet-hub-weu",
                   tuple(c.id for c in broken), shared=(ZONE_ID, HUB_VNET), subscriptions=(SPOKE,),
                   remediation=dns011().remediation),
        CauseGroup("CL001", codes.CL001.severity, codes.CL001.title, "each its own cause", (stopped.id,),
                   subscriptions=(SPOKE,)),
    )  # fmt: skip
    az001 = codes.AZ001.at(
        "fleet", scope=f"/subscriptions/{HUB}", status=403, code="AuthorizationFailed", message="not listed",
        action="Microsoft.Resources/subscriptions/read",
    )  # fmt: skip
    return FleetReport(
        scope="every subscription the identity can read",
        clusters=(healthy, lagged, *broken, stopped),
        groups=groups,
        findings=(az001,),
        queries=(QueryStat("clusters", "resources | …", 1, 1, 6),),
        requests={"subscriptions": 1, "graph": 4, "get": 2, "confirm": 5},
        elapsed_ms=812.0,
        subscriptions=(SPOKE,),
        names={SPOKE: "lz-orders-prod", DEV: "lz-search-dev", HUB: "conn-prod"},
        notes=("Resource Graph does not index record sets: 1 zone's A records were read by GET",),
    )


def rows(app: FleetApp) -> list[str]:
    """The clusters table's cluster names, in the order shown."""
    table = app.clusters_table
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


def text_of(widget: object) -> str:
    return str(widget.render())  # type: ignore[attr-defined]


def test_the_table_lists_every_cluster_worst_first_with_its_codes_and_the_groups_above(tmp_path: Path) -> None:
    app = FleetApp(report=fleet(), export_dir=tmp_path)

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            assert rows(app) == ["aks-stopped", "aks-weu-1", "aks-weu-2", "aks-weu-3", "aks-healthy", "aks-lagged"]
            table = app.clusters_table
            first = table.get_row_at(0)
            assert [str(v) for v in first] == [
                "BROKEN",
                "aks-stopped",
                "CL001",
                "lz-orders-prod",
                "rg-aks-stopped",
                "westeurope",
            ]
            assert str(table.get_row_at(5)[2]) == "(lagged: DNS011)", "a lagged code is said, not an error"
            assert str(table.get_row_at(4)[0]) == "OK"
            groups = app.groups_table
            assert [str(groups.get_row_at(i)[0]) for i in range(groups.row_count)] == ["all", "DNS011", "CL001"]
            assert str(groups.get_row_at(1)[2]) == "3 of 6"
            assert "not linked to vnet-hub-weu" in str(groups.get_row_at(1)[3])
            status = text_of(app.query_one("#fleet-status"))
            assert "verdict BROKEN" in status and "6 clusters: 4 broken, 2 healthy" in status
            notes = text_of(app.query_one("#fleet-notes"))
            assert "AZ001" in notes and "record sets" in notes and "graph 4" in notes
            assert app.focused is table
            await pilot.press("q")
        assert app.return_value == 1, "a broken cluster: exit 1"

    run(go())


def test_selecting_a_group_filters_the_table_to_its_clusters_and_escape_shows_all_again() -> None:
    app = FleetApp(report=fleet())

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            app.groups_table.focus()
            cause = app.query_one("#fleet-cause")
            assert not cause.display, "the row 'all' has no cause to say"
            await pilot.press("down")
            said = text_of(cause)
            assert cause.display and "DNS011 error on 3 of 6 clusters" in said
            assert f"zone {ZONE} not linked to vnet-hub-weu" in said, "the cause in full, not cut by the column"
            assert "Fix: Link the private DNS zone" in said
            assert not app.query_one("#fleet-notes").display, "the cause or the notes: the clusters keep their rows"
            await pilot.press("enter")
            assert app.group == "g0"
            assert rows(app) == ["aks-weu-1", "aks-weu-2", "aks-weu-3"]
            assert "showing 3 (DNS011; escape clears)" in text_of(app.query_one("#fleet-status"))
            assert app.focused is app.clusters_table, "after choosing a group, the keys move in its clusters"
            await pilot.press("escape")
            assert app.group is None and len(rows(app)) == 6
            app.groups_table.focus()
            await pilot.press("down", "down", "enter")
            assert rows(app) == ["aks-stopped"]
            app.groups_table.focus()
            await pilot.press("up", "up", "enter")
            assert len(rows(app)) == 6, "the first row, all, is every cluster"
            assert app.query_one("#fleet-notes").display and not cause.display

    run(go())


def test_slash_filters_by_text_combined_with_the_group_and_escape_clears_it() -> None:
    app = FleetApp(report=fleet())

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await pilot.press("slash", *"weu-2")
            box = app.query_one("#fleet-filter", Input)
            assert box.display and box.value == "weu-2"
            assert rows(app) == ["aks-weu-2"]
            await pilot.press("enter")
            assert app.focused is app.clusters_table
            await pilot.press("slash")
            box.value = ""
            await pilot.press(*"cl001")
            assert rows(app) == ["aks-stopped"], "a code matches"
            await pilot.press("escape")
            assert not box.display and len(rows(app)) == 6
            await pilot.press("slash", *"search-dev")
            assert rows(app) == ["aks-healthy"], "a subscription's display name matches"
            await pilot.press("escape", "slash", *"lagged")
            assert rows(app) == ["aks-lagged"]
            app.select_group("g0")
            assert rows(app) == [], "the group and the text both apply"

    run(go())


def test_enter_on_a_cluster_drills_into_its_report_and_escape_comes_back() -> None:
    app = FleetApp(report=fleet())

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await pilot.press("down", "enter")  # aks-weu-1
            await wait_for(pilot, lambda: isinstance(app.screen, ClusterScreen))
            screen = app.screen
            assert isinstance(screen, ClusterScreen) and screen.cluster.name == "aks-weu-1"
            tiles = screen.tiles
            assert list(tiles) == [p.id for p in for_command("fleet")]
            assert tiles["private_dns"].state == "fail" and tiles["cluster_state"].state == "ok"
            pane = screen.query_one(FindingsPane)
            await wait_for(pilot, lambda: len(pane.findings) == 1)
            detail = text_of(pane.detail)
            assert (
                "DNS011" in detail and "vnet-hub-weu" in detail and "az network private-dns link vnet create" in detail
            )
            head = text_of(screen.query_one("#cluster-head"))
            assert "aks-weu-1 BROKEN" in head and "confirmed by GET" in head
            bindings = app.active_bindings.values()
            assert not [b for b in bindings if b.binding.action == "cancel" and b.enabled], "nothing runs: no c"
            await pilot.press("tab", "enter")  # the private_dns tile
            await wait_for(pilot, lambda: isinstance(app.screen, ProbeScreen))
            assert app.screen.probe_id == "private_dns"  # type: ignore[attr-defined]
            bindings = app.active_bindings.values()
            assert not [b for b in bindings if b.binding.action == "cancel" and b.enabled]
            await pilot.press("escape")
            assert app.screen is screen
            await pilot.press("slash")
            assert app.screen is screen, "no filter box on a cluster's screen"
            await pilot.press("escape")
            assert not isinstance(app.screen, ClusterScreen)
            assert app.focused is app.clusters_table
            await pilot.press("up", "up", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ClusterScreen))
            assert app.screen.cluster.name == "aks-stopped"  # type: ignore[attr-defined]

    run(go())


def test_a_lagged_cluster_says_resource_graph_lagged() -> None:
    app = FleetApp(report=fleet())

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await pilot.press(*["down"] * 5, "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ClusterScreen))
            head = text_of(app.screen.query_one("#cluster-head"))
            assert "aks-lagged OK" in head and "Resource Graph lagged ARM: DNS011" in head

    run(go())


def test_a_healthy_fleet_shows_no_group_and_quits_0() -> None:
    healthy = FleetReport(scope="2 subscriptions", clusters=(cluster("aks-a"), cluster("aks-b")))
    app = FleetApp(report=healthy)

    async def go() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert rows(app) == ["aks-a", "aks-b"]
            assert app.groups_table.row_count == 1, "only 'all': no cause group"
            assert "verdict OK" in text_of(app.query_one("#fleet-status"))
            assert not app.query_one("#fleet-notes").display
            await pilot.press("q")
        assert app.return_value == 0

    run(go())


def test_exit_code_policy() -> None:
    assert exit_code(fleet()) == 1
    assert exit_code(FleetReport(scope="s", clusters=(cluster("a"),))) == 0
    failed = FleetReport(scope="s", clusters=(), queries=(QueryStat("clusters", "q", error="400 InvalidQuery"),))
    assert exit_code(failed) == 3, "every query failed: nothing was judged"


def test_e_exports_the_fleet_report_as_json(tmp_path: Path) -> None:
    app = FleetApp(report=fleet(), export_dir=tmp_path)

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, FleetExportScreen))
            path = app.screen.query_one("#export-path", Input)
            assert Path(path.value).parent == tmp_path and path.value.endswith(".json")
            path.value = str(tmp_path / "fleet.json")
            await pilot.press("enter")
            await wait_for(pilot, lambda: (tmp_path / "fleet.json").exists())

    run(go())
    back = FleetReport.from_dict(json.loads((tmp_path / "fleet.json").read_text()))
    assert [c.name for c in back.clusters] == [c.name for c in fleet().clusters]
    assert back.groups == fleet().groups


def test_e_exports_markdown_for_a_ticket(tmp_path: Path) -> None:
    app = FleetApp(report=fleet(), export_dir=tmp_path)

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, FleetExportScreen))
            app.screen.query_one("#export-path", Input).value = str(tmp_path / "fleet.md")
            await pilot.press("enter")
            await wait_for(pilot, lambda: (tmp_path / "fleet.md").exists())

    run(go())
    text = (tmp_path / "fleet.md").read_text()
    assert "DNS011" in text and "aks-weu-1" in text and "AZ001" in text
    assert not text.lstrip().startswith("{")


# ---------------------------------------------------------------- the real run: engine, Resource Graph, fake ARM


def fleet_plan_on(fake_arm: Any, monkeypatch: pytest.MonkeyPatch, world: str, faults: dict[str, Any] | None = None):
    """`aksdiag fleet`'s plan against the fake ARM serving fleet world `world` (GET-only asserted at teardown)."""
    fake = fake_arm(fleetworld.build(world), faults=fleetworld.faults(world) if faults is None else faults)
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    return fleet_plan(build_parser().parse_args(["fleet", "--tui"]))


def codes_shown(app: FleetApp) -> dict[str, set[str]]:
    """Cluster id (lower) → the codes its row shows, for the rows that are not OK."""
    table = app.clusters_table
    shown = {}
    for i, row in enumerate(table.ordered_rows):
        cells = table.get_row_at(i)
        if str(cells[0]) != "OK":
            shown[str(row.key.value).lower()] = set(str(cells[2]).split())
    return shown


def test_the_view_runs_the_fleet_and_lists_exactly_the_planted_clusters(fake_arm: Any, monkeypatch) -> None:
    plan = fleet_plan_on(fake_arm, monkeypatch, "fleet-small")
    app = FleetApp(plan)
    planted = {cid.lower(): codes for cid, codes in fleetworld.planted("fleet-small").items()}

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.report is not None, timeout=90)
            assert any(line.startswith("asking Resource Graph") for line in app.progress_lines), app.progress_lines
            assert len(rows(app)) == 30
            assert codes_shown(app) == planted
            groups = app.groups_table
            codes_of_groups = [str(groups.get_row_at(i)[0]) for i in range(1, groups.row_count)]
            assert codes_of_groups[0] == "DNS011", "the hub's unlinked zone: the largest cause first"
            app.groups_table.focus()
            await pilot.press("down", "enter")
            assert set(codes_shown(app)) == {k for k, v in planted.items() if "DNS011" in v}
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ClusterScreen))
            pane = app.screen.query_one(FindingsPane)
            await wait_for(pilot, lambda: bool(pane.findings))
            assert pane.findings[0].id == "DNS011" and "DNS011" in text_of(pane.detail)
            await pilot.press("escape", "q")
        assert app.return_value == 1

    run(go())


def test_a_healthy_fleet_run_raises_no_alarm(fake_arm: Any, monkeypatch) -> None:
    app = FleetApp(fleet_plan_on(fake_arm, monkeypatch, "fleet-healthy"))

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.report is not None, timeout=90)
            assert len(rows(app)) == 30 and codes_shown(app) == {}
            assert app.groups_table.row_count == 1
            assert "verdict OK" in text_of(app.query_one("#fleet-status"))
            await pilot.press("q")
        assert app.return_value == 0

    run(go())


def test_credentials_azure_refuses_say_so_and_quit_3(fake_arm: Any, monkeypatch) -> None:
    refused = {"status": 401, "code": "InvalidAuthenticationToken", "message": "The access token is invalid."}
    app = FleetApp(fleet_plan_on(fake_arm, monkeypatch, "fleet-small", faults={"/subscriptions": refused}))

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.failed is not None, timeout=60)
            status = text_of(app.query_one("#fleet-status"))
            assert status.startswith("could not run: ") and "Azure refused the credentials" in status
            assert "Traceback" not in status
            await pilot.press("q")
        assert app.return_value == 3

    run(go())


def test_q_while_the_run_goes_quits_3_and_stops_the_run(fake_arm: Any, monkeypatch) -> None:
    app = FleetApp(fleet_plan_on(fake_arm, monkeypatch, "fleet-small"))

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.progress_lines), timeout=30)
            assert app.report is None
            await pilot.press("q")
        assert app.return_value == 3, "quit before the fleet was judged: no verdict"

    run(go())
    assert app._run is not None and app._run.done.wait(30), "the engine's loop ended with the app"
    assert app._run.cancelled


def test_a_cluster_a_probe_could_not_look_at_is_incomplete_not_ok() -> None:
    ok = cluster("aks-ok")
    probes = tuple(
        p if p.probe != "private_dns" else ProbeResult(
            probe=p.probe, title=p.title, status=Status.ERROR, elapsed_ms=1.0,
            reason="AZ001: the zone's subscription could not be read",
        )
        for p in ok.report.probes
    )  # fmt: skip
    blind = FleetCluster(cluster_id("aks-blind"), "aks-blind", SPOKE, "rg-aks-blind", "westeurope",
                         Report("fleet", cluster_id("aks-blind"), probes, 5.0))  # fmt: skip
    app = FleetApp(report=FleetReport(scope="1 subscription", clusters=(ok, blind)))

    async def go() -> None:
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            assert rows(app) == ["aks-blind", "aks-ok"]
            assert [str(c) for c in app.clusters_table.get_row_at(0)[:3]] == [
                "INCOMPLETE", "aks-blind", "(could not look: private_dns)"
            ]  # fmt: skip
            assert "verdict INCOMPLETE" in text_of(app.query_one("#fleet-status")), "no OK over a blind spot"

    run(go())


def test_a_thousand_clusters_list_the_worst_300_and_the_filter_reaches_the_rest() -> None:
    clusters = tuple(cluster(f"aks-{i:04d}", {"private_dns": [dns011()]} if i % 10 == 0 else None) for i in range(1000))
    app = FleetApp(report=FleetReport(scope="40 subscriptions", clusters=clusters))

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            shown = rows(app)
            assert len(shown) == 300 and shown[:100] == [f"aks-{i:04d}" for i in range(0, 1000, 10)], "broken first"
            assert "the first 300 of 1000 listed" in text_of(app.query_one("#fleet-status"))
            await pilot.press("slash", *"aks-09")
            await wait_for(pilot, lambda: len(rows(app)) == 100, timeout=30)
            assert rows(app)[:10] == [f"aks-09{i}0" for i in range(10)] and rows(app)[10] == "aks-0901"
            assert "of 1000 listed" not in text_of(app.query_one("#fleet-status"))

    run(go())
