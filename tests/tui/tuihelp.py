"""TUI test helpers: waiting for every tile to be final, a stable view (no ports, paths or timings).

Everything runs for real: the lab's DNS servers on loopback, the probes, the runner, the worker threads.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from aksdiag.tui.app import AksdiagApp
from aksdiag.tui.view import View

_MASKS = (
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"/\S*?/resolv\.conf"), "/LAB/resolv.conf"),
    (re.compile(r"\b\d+(\.\d+)? ?ms\b"), "N ms"),
    (re.compile(r'"elapsed_ms": [\d.]+'), '"elapsed_ms": N'),
)


def stable(text: str) -> str:
    """The lab's random ports, temporary paths and timings, normalised (for snapshots)."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


STABLE = View(show_timings=False, mask=stable)


async def wait_for(pilot: object, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll (letting the app run) until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s: {condition}")
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def wait_final(pilot: object, app: AksdiagApp, timeout: float = 30.0) -> None:
    await wait_for(pilot, lambda: app.all_final, timeout)


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]
