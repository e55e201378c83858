"""The TUI's headless part: a probe run in its own thread and loop, cancelled from another; the export; the
sessions `aksdiag tui` and `aksdiag demo` build."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from tuihelp import run, wait_final

from aksdiag.cli import build_parser, check_plan, whois_settings
from aksdiag.model import Status
from aksdiag.probe import load
from aksdiag.tui.app import make_app
from aksdiag.tui.session import CANCELLED, ProbeRun, Session, export, export_path, report


def test_a_probe_run_answers_like_the_runner(lab) -> None:
    session = lab("no-forwarder")
    result = ProbeRun(load("dns_chain"), session.target, session.settings).execute()
    assert result.status is Status.FAIL and [f.id for f in result.findings] == ["DNS001"]


def test_cancel_from_another_thread_stops_a_slow_probe_at_once(lab) -> None:
    session = lab("dead-server", timeout=30.0)
    probe_run = ProbeRun(load("dns_chain"), session.target, session.settings)
    results = []
    worker = threading.Thread(target=lambda: results.append(probe_run.execute()))
    worker.start()
    threading.Timer(0.3, probe_run.cancel).start()
    worker.join(10)
    assert not worker.is_alive(), "a 30 s deadline did not hold the cancelled probe"
    (result,) = results
    assert result.status is Status.SKIPPED and result.reason == CANCELLED and result.elapsed_ms < 10_000


def test_cancel_before_start_never_runs(lab) -> None:
    session = lab("healthy")
    probe_run = ProbeRun(load("dns_chain"), session.target, session.settings)
    probe_run.cancel()
    assert probe_run.execute().reason == CANCELLED


def test_export_writes_the_renderers_output(lab, tmp_path: Path) -> None:
    session = lab("no-forwarder")
    result = ProbeRun(load("dns_chain"), session.target, session.settings).execute()
    rep = report(session, {"dns_chain": result}, 12.0)
    path = export(rep, "json", export_path("json", tmp_path, now=0))
    assert path.name == f"aksdiag-report-{path.stem.split('-', 2)[2]}.json" and path.parent == tmp_path
    assert json.loads(path.read_text())["findings"][0]["id"] == "DNS001"
    md = export(rep, "markdown", tmp_path / "r.md").read_text()
    assert "#### DNS001 error" in md
    with pytest.raises(ValueError):
        export(rep, "yaml", tmp_path / "r.yaml")


def test_demo_session_runs_every_probe_but_whois(lab) -> None:
    session = lab("healthy")
    assert session.command == "demo" and session.label == session.target
    assert session.probe_ids[:4] == ["dns_chain", "private_dns", "apiserver", "ipplan"]
    assert "whois" not in session.probe_ids
    assert "apiserver" in session.skip


def test_tui_command_builds_the_check_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`aksdiag tui --fqdn NAME`: the same plan as `check`, and whois asks with the kubeconfig's context."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    args = build_parser().parse_args(["tui", "--fqdn", "aks-x.privatelink.koreacentral.azmk8s.io", "--timeout", "1"])
    name, settings, probes = check_plan(args)
    session = Session.of("check", name, settings, probes, whois_settings=whois_settings(args))  # type: ignore[arg-type]
    assert session.label == "aks-x.privatelink.koreacentral.azmk8s.io"
    assert session.probe_ids[:4] == ["dns_chain", "private_dns", "apiserver", "ipplan"]
    assert session.whois_settings is not None and session.whois_settings.kube is not None
    app = make_app(session, export_dir=tmp_path)

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_final(pilot, app, timeout=60)
            assert app.tiles["private_dns"].result.reason.startswith("no Azure context")
            assert app.tiles["dns_chain"].state in ("fail", "warn", "ok")

    run(go())


def test_help_names_tui_and_no_tui(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["tui", "--help"], ["demo", "--help"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(argv)
    out = capsys.readouterr().out
    assert "--cluster" in out and "--kubeconfig" in out and "--no-tui" in out
