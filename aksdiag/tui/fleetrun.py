"""What the fleet view runs and writes, with no widgets laid out: `engine.run` on its own event loop in a worker
thread, the messages it posts to the app, the fleet's exit code, and the export (`e`) through the fleet renderer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from aksdiag.exitcodes import ExitCode
from aksdiag.fleet.model import FleetReport
from aksdiag.tui.screens.export import ExportScreen
from aksdiag.tui.session import _drain

if TYPE_CHECKING:
    from aksdiag.fleet.engine import FleetPlan


def exit_code(report: FleetReport) -> ExitCode:
    """The CLI's exit code for this report (one policy: aksdiag.cli.fleetface.exit_code)."""
    from aksdiag.cli.fleetface import exit_code as policy

    return policy(report)


class FleetProgress(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class FleetDone(Message):
    def __init__(self, report: FleetReport) -> None:
        super().__init__()
        self.report = report


class FleetFailed(Message):
    """The run stopped (no credential: exit 3); `reason` is the one line the CLI would print."""

    def __init__(self, reason: str, code: int) -> None:
        super().__init__()
        self.reason = reason
        self.code = code


class FleetRun:
    """One `engine.run` on its own event loop in a worker thread, so the screen never waits on Resource Graph or
    on judging a thousand clusters; `cancel()` may come from any thread (q while it runs)."""

    def __init__(self, plan: FleetPlan, progress: Callable[[str], None]) -> None:
        self.plan = plan
        self.progress = progress
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[FleetReport] | None = None
        self.cancelled = False
        self.done = threading.Event()
        """Set when the run's loop is closed: finished, failed or cancelled."""

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._loop is not None and self._task is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._task.cancel)

    def execute(self) -> FleetReport | None:
        from aksdiag.fleet import engine

        loop = asyncio.new_event_loop()
        try:
            with self._lock:
                if self.cancelled:
                    return None
                self._loop = loop
                self._task = loop.create_task(engine.run(self.plan, self.progress))
            try:
                return loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                return None
        finally:
            with self._lock:
                self._loop = None
            try:
                _drain(loop)
            finally:
                loop.close()
                self.done.set()


class FleetExportScreen(ExportScreen):
    """The check TUI's export screen, for the fleet's report (aksdiag.fleet/v1, aksdiag-fleet-<timestamp>.json)."""

    HEADING = "Export the fleet report"
    WHAT = "fleet"
    SCHEMA = "aksdiag.fleet/v1"


def export(report: FleetReport, fmt: str, path: Path | str) -> Path:
    """Write the fleet report with the CLI's fleet renderer (json or markdown)."""
    from aksdiag.render.fleet import render

    if fmt not in ("json", "markdown"):
        raise ValueError(f"cannot export as {fmt!r}: json or markdown")
    path = Path(path).expanduser()
    with path.open("w", encoding="utf-8") as out:
        render(report, fmt, out)
    return path
