"""The TUI's headless part: the engine run in its own thread and loop, one probe or the run cancelled from another;
the export; the plans `aksdiag tui` and the lab build."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from tuihelp import run, wait_final

from aksdiag import commands
from aksdiag.cli import build_parser
from aksdiag.model import Status
from aksdiag.tui.app import make_app
from aksdiag.tui.session import CANCELLED, EngineThread, export, export_path, plan_of, report, run_one


def test_a_run_answers_like_the_cli(lab) -> None:
    session = lab("no-forwarder")
    result = run_one(plan_of("dns", session.target, session.settings, ["dns_chain"]))
    assert result.status is Status.FAIL and [f.id for f in result.findings] == ["DNS001"]


def test_cancel_one_probe_from_another_thread_stops_it_at_once(lab) -> None:
    session = lab("dead-server", timeout=30.0, deadline=60.0)
    streamed = []
    engine = EngineThread(plan_of("dns", session.target, session.settings, ["dns_chain"]), streamed.append)
    worker = threading.Thread(target=engine.execute)
    worker.start()
    threading.Timer(0.3, engine.cancel_probe, ["dns_chain"]).start()
    worker.join(10)
    assert not worker.is_alive(), "a 30 s timeout held the cancelled probe"
    (result,) = streamed
    assert result.status is Status.SKIPPED and result.reason == CANCELLED and result.elapsed_ms < 10_000


def test_cancel_the_run_before_start_runs_nothing(lab) -> None:
    session = lab("healthy")
    streamed = []
    engine = EngineThread(plan_of("dns", session.target, session.settings, ["dns_chain"]), streamed.append)
    engine.cancel()
    assert engine.execute() == [] and streamed == [] and engine.done.is_set()


def test_export_writes_the_renderers_output(lab, tmp_path: Path) -> None:
    session = lab("no-forwarder")
    result = run_one(plan_of("dns", session.target, session.settings, ["dns_chain"]))
    rep = report(session, {"dns_chain": result}, 12.0)
    path = export(rep, "json", export_path("json", tmp_path, now=0))
    assert path.name == f"aksdiag-report-{path.stem.split('-', 2)[2]}.json" and path.parent == tmp_path
    assert json.loads(path.read_text())["findings"][0]["id"] == "DNS001"
    md = export(rep, "markdown", tmp_path / "r.md").read_text()
    assert "#### DNS001 error" in md
    with pytest.raises(ValueError):
        export(rep, "yaml", tmp_path / "r.yaml")


def test_the_dns_lab_plan_runs_checks_probes_and_says_why_the_api_server_is_skipped(lab) -> None:
    session = lab("healthy")
    assert session.command == "demo" and session.shown_target == session.target
    assert session.probe_ids[:5] == ["cluster_state", "dns_chain", "cluster_dns", "private_dns", "apiserver"]
    assert "whois" not in session.probe_ids
    assert "apiserver" in session.skip


def test_tui_command_builds_the_check_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`aksdiag tui --fqdn NAME`: the same plan as `check`, and whois asks with the kubeconfig's context."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    args = build_parser().parse_args(["tui", "--fqdn", "aks-x.privatelink.koreacentral.azmk8s.io", "--timeout", "1"])
    session = commands.plan("tui", args)
    assert session.command == "check" and session.shown_target == "aks-x.privatelink.koreacentral.azmk8s.io"
    assert session.probe_ids == ["cluster_state", "dns_chain", "cluster_dns", "private_dns", "apiserver", "signin",
                                 "egress", "outbound", "tunnel", "ipplan", "lb", "detectors"]  # fmt: skip
    assert session.whois is session.settings and session.settings.kube is None  # no kubeconfig: whois says so
    app = make_app(session, export_dir=tmp_path)

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app, timeout=60)
            assert app.tiles["private_dns"].result.reason.startswith("no Azure context")
            chain = app.tiles["dns_chain"]  # conftest's resolv.conf and Azure DNS name loopback ports nobody serves
            assert chain.state == "fail" and [f.id for f in chain.result.findings] == ["DNS005", "DNS010"]

    run(go())


def test_help_names_tui_and_no_tui(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["tui", "--help"], ["demo", "--help"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(argv)
    out = capsys.readouterr().out
    assert "--cluster" in out and "--kubeconfig" in out and "--no-tui" in out
