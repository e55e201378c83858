"""The TUI in a real terminal (tmux) fed bytes that are not UTF-8 and random bytes: it survives, q and Ctrl-C quit
with the report's exit code, and the terminal is given back (no mouse reporting, no alternate screen).

`aksdiag demo` runs the lab (no-forwarder DNS, lb-pending world): its report is broken, so the exit code is 1
(a crash would be 0 or 3, and a panic leaves a traceback on the screen).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
QUITS = {0x03, ord("q"), 0x11}  # Ctrl-C, q, Ctrl-Q
UNSAFE = {0x1A, 0x1C, 0x13}  # Ctrl-Z, Ctrl-\, Ctrl-S: job control and flow control belong to the terminal
RERUN = {ord("r"), ord("c")}  # re-run and cancel change the report on purpose: its exit code would not be 1
RANDOM_BYTES = bytes(b for b in random.Random(12).randbytes(400) if b not in QUITS | UNSAFE | RERUN)


@pytest.fixture
def tui(tmp_path: Path) -> Iterator[Callable[[], tuple[Callable[..., str], Path]]]:
    """Start the demo's TUI in tmux; yields (keys(*args) → the screen after them, the exit code's file)."""
    if TMUX is None:
        pytest.skip("tmux is not installed: apt-get install tmux (CI installs it)")
    socket = str(tmp_path / "tmux.sock")

    def tmux(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TMUX, "-S", socket, *args], capture_output=True, text=True, timeout=30)

    def start() -> tuple[Callable[..., str], Path]:
        rc_file = tmp_path / "rc"
        command = f"{sys.executable} -m aksdiag demo"
        # the pane outlives aksdiag (sleep), so its modes can be read after the app gave the terminal back
        shell = f"cd {tmp_path} && unset LINES COLUMNS && {command}; echo $? > {rc_file}; exec sleep 120"
        started = tmux("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", shell)
        assert started.returncode == 0, started.stderr
        poll(lambda: "DNS001" in screen() and "running" not in screen(), 90, "the demo never finished", screen)
        return keys, rc_file

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "t").stdout

    def keys(*args: str) -> str:
        if args:
            assert tmux("send-keys", "-t", "t", *args).returncode == 0
        return screen()

    keys.modes = lambda: tmux("display", "-p", "-t", "t", "#{mouse_any_flag}#{mouse_button_flag}"  # type: ignore[attr-defined]
                              "#{mouse_standard_flag}#{mouse_sgr_flag}#{alternate_on}").stdout.strip()  # fmt: skip
    yield start
    tmux("kill-server")


def poll(what: Callable[[], bool], timeout: float, why: str, screen: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"{why}:\n{screen()}")
        time.sleep(0.2)


def hexes(data: bytes) -> list[str]:
    return [f"{b:02x}" for b in data]


def quit_with(keys: Callable[..., str], rc_file: Path, *how: str) -> None:
    keys(*how)
    # a bound, not a timing: a loaded CI box tears the lab down slowly
    poll(rc_file.exists, 90, f"{how} did not quit", keys)
    assert rc_file.read_text().strip() == "1", f"the report is broken: exit 1, not {rc_file.read_text()!r}"
    assert "Traceback" not in keys(), "no traceback on the screen"
    assert keys.modes() == "00000", "the terminal is restored: no mouse reporting, no alternate screen"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("0xff", b"\xff"),
        ("alt-a-8-bit-meta", b"\xe1"),
        ("lone-continuation", b"\x80\xbf"),
        ("overlong", b"\xc0\xaf"),
        ("surrogate", b"\xed\xa0\x80"),
        ("truncated-then-ascii", b"\xf0\x9f\x98"),
        ("0xfe-0xff-run", b"\xfe\xff" * 50),
    ],
)
def test_invalid_utf8_is_survived_and_q_quits(tui, name: str, data: bytes) -> None:
    keys, rc_file = tui()
    keys("-H", *hexes(data))
    keys("3")  # the app still answers keys: the findings tab opens
    poll(lambda: "What it means" in keys(), 30, f"the app stopped answering after {name}", keys)
    assert "Traceback" not in keys()
    quit_with(keys, rc_file, "q")


def test_random_bytes_are_survived_and_ctrl_c_quits(tui) -> None:
    keys, rc_file = tui()
    for i in range(0, len(RANDOM_BYTES), 40):
        keys("-H", *hexes(RANDOM_BYTES[i : i + 40]))
    time.sleep(1)
    assert not rc_file.exists(), f"the app ended on random bytes:\n{keys()}"
    quit_with(keys, rc_file, "C-c")


def test_ctrl_c_quits_with_the_reports_exit_code(tui) -> None:
    keys, rc_file = tui()
    assert keys.modes() != "00000", "while the app runs, the pane is in mouse mode and the alternate screen"  # type: ignore[attr-defined]
    quit_with(keys, rc_file, "C-c")


def test_ctrl_c_quits_from_the_whois_box_too(tui) -> None:
    """Ctrl-C is the app's (priority), not the Input's copy: it quits with the focus in a text box."""
    keys, rc_file = tui()
    # "/" and "q" in one write, as a fast typist sends them: q is not the quit key once / was pressed (the box once
    # took the focus only after q was handled: the app quit, and the test's Ctrl-C after that reached the shell)
    keys("/", "q")
    poll(lambda: "filter tiles and findings" in keys() or "▊  q" in keys(), 60, "/ never opened the box", keys)
    keys("x")  # typed into the open box: the app still answers keys (a quitting one would not draw it)
    poll(lambda: "▊  x" in keys() or "▊  qx" in keys(), 60, "the filter box never showed what was typed", keys)
    assert not rc_file.exists(), "q typed after / is text, not quit"
    quit_with(keys, rc_file, "C-c")


def test_enter_escape_enter_typed_fast_opens_the_probe_again(tui) -> None:
    """Enter, Escape, Enter in one write: the second probe screen opens before the first is gone (they once shared
    an id: the app died with DuplicateIds, exit 3)."""
    keys, rc_file = tui()
    for _ in range(6):
        keys("-H", "0d", "1b", "0d", "1b", "0d")
        time.sleep(0.3)
    time.sleep(1)
    assert not rc_file.exists(), f"the app ended:\n{keys()}"
    assert "Traceback" not in keys()
    quit_with(keys, rc_file, "C-c")  # from whichever probe screen is on top
