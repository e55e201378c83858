"""The real lb probe in the TUI: the fake ARM and the fake Kubernetes API of an LB world behind the session."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, ProgressBar
from tuihelp import run, wait_final

from aksdiag import settings as settings_mod
from aksdiag.facts import AzureContextNeed, KubeContextNeed
from aksdiag.lab import arm, armworld, lbworld
from aksdiag.lab.kube import FakeKubeApi, KubeWorld
from aksdiag.tui.session import plan_of
from aksdiag.tui.widgets.facts import ProbeDetail
from aksdiag.tui.widgets.findings import FindingsPane


@pytest.fixture
def lb_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[object, object]]]:
    """lb_session(world) → (the fake ARM, settings with its Azure and Kubernetes context); servers stop after."""
    stack = contextlib.ExitStack()

    def start(world: str) -> tuple[object, object]:
        w = arm.ArmWorld()
        for body in armworld.build(world):
            w.add(body)
        kw = KubeWorld()
        kw.add_all(lbworld.kube(world))
        fake = stack.enter_context(arm.FakeArm(w, tmp_path / "arm"))
        kube = stack.enter_context(FakeKubeApi(kw, tmp_path / "pki"))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        azure = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, fake.endpoint,
                                 load_balancers=True)  # fmt: skip
        config = kube.kubeconfig(tmp_path / "kubeconfig")
        return fake, settings_mod.from_env(azure=azure, kube=KubeContextNeed(str(config), None))

    with stack:
        yield start


def test_lb_tables_and_the_snat_gauge_of_a_capped_cluster(lb_session, app_for) -> None:
    fake, settings = lb_session("lb-explicit-capped")
    app = app_for(plan_of("lb", "", settings, ["lb"]))

    async def go() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_final(pilot, app)
            app.tiles["lb"].focus()
            await pilot.press("enter")
            detail = app.screen.query_one(ProbeDetail)
            tables = list(detail.query(".facts-table").results(DataTable))
            snat = tables[-1]  # SNAT capacity: now, upgrade, peak
            assert [snat.get_row_at(i)[1:3] for i in range(snat.row_count)] == [
                ["now", "10"], ["upgrade", "11"], ["peak", "21"],
            ]  # fmt: skip
            assert snat.get_row_at(2)[-1] == "NO"
            (bar,) = detail.query(".gauge-bar").results(ProgressBar)
            assert bar.total == 64_000 and bar.progress == 64_000  # 84,000 needed: the bar is full
            await pilot.press("escape")
            await pilot.press("3")
            assert [f.id for f in app.query_one(FindingsPane).findings] == ["LB001"]

    run(go())
    assert fake.writes() == []


def test_probes_of_one_run_share_the_azure_and_kubernetes_reads(lb_session, app_for) -> None:
    """private_dns, ipplan and lb all need the cluster's Azure context: the TUI reads it once per run (r reads again)."""
    fake, settings = lb_session("lb-healthy")
    app = app_for(plan_of("check", "", settings, ["private_dns", "ipplan", "lb"]))

    def cluster_reads() -> int:
        return sum(r.path.endswith(f"/managedClusters/{armworld.CLUSTER}") for r in fake.requests)

    async def go() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_final(pilot, app)
            assert {p: r.status.value for p, r in app.results.items()} == {
                "private_dns": "ok", "ipplan": "ok", "lb": "ok",
            }  # fmt: skip
            assert cluster_reads() == 1
            await pilot.press("r")
            await wait_final(pilot, app)
            assert cluster_reads() == 2

    run(go())
    assert fake.writes() == []
