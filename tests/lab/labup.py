"""`aksdiag lab up|arm|kube …` as the tests run them: a real process, what it prints until it says how to stop it
(`lab up`'s servers as role → port on 127.0.0.1), stopped with Ctrl-C (SIGINT) at the end; every wait is bounded."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

AKSDIAG = [sys.executable, "-m", "aksdiag"]


@dataclass
class LabUp:
    text: str = ""
    """What the lab printed until it said how to stop it."""
    ports: dict[str, int] = field(default_factory=dict)
    returncode: int | None = None
    stderr: str = ""
    """Set once the lab has stopped (after the `with` block)."""


def lab_up(scenario: str) -> contextlib.AbstractContextManager[LabUp]:
    return lab("up", "--scenario", scenario)


@contextlib.contextmanager
def lab(*args: str, timeout: float = 60.0) -> Iterator[LabUp]:
    proc = subprocess.Popen(
        [*AKSDIAG, "lab", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    up = LabUp()
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_read, args=(proc, lines), daemon=True)
    reader.start()
    try:
        up.text = _until(lines, "Ctrl-C", timeout)
        up.ports = {m[1]: int(m[2]) for m in re.finditer(r"^\s+(\S+)\s+127\.0\.0\.1:(\d+)\s*$", up.text, re.M)}
        yield up
    finally:
        proc.send_signal(signal.SIGINT)
        try:  # not communicate(): the reader thread owns stdout; stderr is a few lines
            up.returncode = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            up.returncode = proc.wait()
        reader.join(timeout=10)  # the lab has exited: its stdout is at its end
        assert proc.stderr is not None
        up.stderr = proc.stderr.read()
        proc.stderr.close()


def _read(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    """Every stdout line into `lines`, then "" at its end (a buffered pipe cannot be polled line by line)."""
    assert proc.stdout is not None
    with proc.stdout as stdout:
        for line in stdout:
            lines.put(line)
    lines.put("")


def _until(lines: queue.Queue[str], marker: str, timeout: float) -> str:
    """The lines up to the one holding `marker`; an AssertionError with what came when it does not in `timeout` s."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if not line:
            break  # the lab ended
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"`aksdiag lab` did not say {marker!r} within {timeout:g} s: {''.join(seen)!r}")
