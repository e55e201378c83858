"""`aksdiag demo` in a real terminal: tmux runs it, send-keys navigates, capture-pane shows what a person sees."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """tmux on its own socket (its own server, started with this test's loopback-only environment)."""
    if TMUX is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is required in CI: .ci/run installs it (apt-get install tmux)")
        pytest.skip("tmux is not installed: apt-get install tmux (CI installs it)")
    socket = str(tmp_path / "tmux.sock")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TMUX, "-S", socket, *args], capture_output=True, text=True, timeout=30)

    yield run
    run("kill-server")


def poll(what: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(why)
        time.sleep(0.2)


def test_demo_in_tmux_shows_the_finding_navigates_and_quits(tmux, tmp_path: Path) -> None:
    rc_file = tmp_path / "rc"
    aksdiag = shutil.which("aksdiag")
    command = f"{aksdiag} demo" if aksdiag else f"{sys.executable} -m aksdiag demo"
    # tmux gives a detached session's first process LINES=24 COLUMNS=80, which would win over the pane's real size
    shell = f"cd {tmp_path} && unset LINES COLUMNS && {command}; echo $? > {rc_file}"
    started = tmux("new-session", "-d", "-s", "demo", "-x", "120", "-y", "45", shell)
    assert started.returncode == 0, started.stderr

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "demo").stdout

    # every tile final (no "running" left): findings stream in as each probe ends, and the list keeps its choice
    poll(lambda: "DNS001" in screen() and "running" not in screen(), 90, f"the demo never finished:\n{screen()}")
    overview = screen()
    assert "DNS resolution chain" in overview and "BROKEN" in overview
    assert "Custom DNS server does not forward the private zone to Azure DNS" in overview

    tmux("send-keys", "-t", "demo", "3")
    poll(lambda: "What it means" in screen(), 30, f"the findings tab did not open:\n{screen()}")
    findings = screen()
    assert "Add a conditional forwarder" in findings and "Add-DnsServerConditionalForwarderZone" in findings, findings

    tmux("send-keys", "-t", "demo", "2")
    # the pipeline's own line: "custom-dns" alone is also on the findings tab (the DNS001 docs link)
    poll(lambda: "select a hop to see its evidence" in screen(), 30, f"the DNS chain tab did not open:\n{screen()}")
    tmux("send-keys", "-t", "demo", "Down")
    poll(lambda: "2 custom-dns: custom DNS" in screen(), 30, f"the second hop's evidence is not shown:\n{screen()}")

    tmux("send-keys", "-t", "demo", "q")
    poll(lambda: rc_file.exists(), 30, f"q did not quit:\n{screen()}")
    assert rc_file.read_text().strip() == "1", "the demo's world is broken: exit code 1"
    poll(lambda: tmux("has-session", "-t", "demo").returncode != 0, 30, "the tmux session did not end")


@pytest.mark.parametrize(("signame", "code"), [("TERM", 143), ("HUP", 129)])
def test_a_signal_to_the_demo_tui_quits_restores_and_cleans_up(tmux, tmp_path: Path, signame: str, code: int) -> None:
    """SIGTERM or SIGHUP (a closed terminal, `timeout`) end the TUI as q does: exit 128 + the signal, the lab's
    temporary directory gone, the terminal given back."""
    rc_file, scratch = tmp_path / "rc", tmp_path / "tmp"
    scratch.mkdir()
    aksdiag = shutil.which("aksdiag")
    command = f"{aksdiag} demo" if aksdiag else f"{sys.executable} -m aksdiag demo"
    shell = f"cd {tmp_path} && unset LINES COLUMNS && TMPDIR={scratch} {command}; echo $? > {rc_file}"
    assert tmux("new-session", "-d", "-s", "sig", "-x", "120", "-y", "45", shell).returncode == 0

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "sig").stdout

    poll(lambda: "DNS001" in screen(), 90, f"the demo never showed DNS001:\n{screen()}")
    assert any(scratch.iterdir()), "the demo's lab keeps its files in TMPDIR while it runs"
    shell_pid = tmux("list-panes", "-t", "sig", "-F", "#{pane_pid}").stdout.split()[0]
    children = subprocess.run(["pgrep", "-P", shell_pid], capture_output=True, text=True).stdout.split()
    assert children, "aksdiag runs as the pane shell's child"
    subprocess.run(["kill", f"-{signame}", *children], check=True)
    poll(lambda: rc_file.exists(), 30, f"SIG{signame} did not end the TUI:\n{screen()}")
    assert rc_file.read_text().strip() == str(code)
    assert not any(scratch.iterdir()), f"left behind: {sorted(p.name for p in scratch.iterdir())}"
    assert "Traceback" not in screen()
