"""What the TUI runs and how, with no Textual in it: a plan run by the one engine (aksdiag.runner.Run) on its own
event loop in a worker thread, so the UI never waits on a socket or a judge; each result streams to the UI the
moment its probe finishes, and one probe — or the whole run — can be cancelled from the UI thread. The engine
shares the reads two probes need (the cluster's Azure context, Kubernetes lists): Azure and the API server are
asked once per run, whichever probe asks first. Also: the export of a report through the CLI's renderers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from aksdiag import runner
from aksdiag.model import ProbeResult, Report, Status
from aksdiag.plan import Plan
from aksdiag.probe import Probe
from aksdiag.runner import CANCELLED

__all__ = ["CANCELLED", "EngineThread", "export", "export_path", "plan_of", "skipped"]

EXPORT_FORMATS = {"json": "json", "markdown": "md"}


plan_of = Plan.of
"""A plan of these probes by id."""


def skipped(p: Probe, reason: str, elapsed_ms: float = 0.0) -> ProbeResult:
    return ProbeResult(probe=p.id, title=p.title, status=Status.SKIPPED, elapsed_ms=elapsed_ms, reason=reason)


class EngineThread:
    """One run of a plan on its own event loop; `execute()` runs in a worker thread, `cancel()` and
    `cancel_probe()` may come from any thread. Each result goes to `on_result` from the worker thread."""

    def __init__(
        self,
        plan: Plan,
        on_result: Callable[[ProbeResult], None] | None = None,
        on_left_out: Callable[[str], None] | None = None,
    ) -> None:
        self.plan = plan
        self.engine = runner.Run(plan)
        self.on_result = on_result
        self.on_left_out = on_left_out
        self.started = time.perf_counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[list[ProbeResult]] | None = None
        self._cancelled = False
        self.error: str | None = None
        """Why the run stopped short (a source that stopped the whole run), if it did."""
        self.done = threading.Event()

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel_probe(self, probe_id: str) -> None:
        self.engine.cancel(probe_id)

    def cancel(self) -> None:
        """Stop the whole run at once (a re-run replaces it, or the app quits)."""
        with self._lock:
            self._cancelled = True
            if self._loop is not None and self._task is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._task.cancel)

    def execute(self) -> list[ProbeResult]:
        self.started = time.perf_counter()
        loop = asyncio.new_event_loop()
        try:
            with self._lock:
                if self._cancelled:
                    return []
                self._loop = loop
                self._task = loop.create_task(self.engine.stream(self._emit, self._left_out))
            try:
                return loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                return []
            except Exception as e:  # a source that stops the run (a kubeconfig that vanished): every probe left
                self.error = f"{type(e).__name__}: {e}" if not str(e) else str(e)
                left = [p for p in self.plan.probes if p.id not in self.engine.results]
                for p in left:
                    self._emit(
                        ProbeResult(
                            probe=p.id,
                            title=p.title,
                            status=Status.ERROR,
                            elapsed_ms=self.elapsed_ms,
                            reason=self.error,
                        )
                    )
                return []
        finally:
            with self._lock:
                self._loop = None
            try:
                _drain(loop)
            finally:
                loop.close()
                self.done.set()

    def _left_out(self, probe_id: str) -> None:
        if self.on_left_out is not None and not self._cancelled:
            self.on_left_out(probe_id)

    def _emit(self, result: ProbeResult) -> None:
        if self.on_result is not None and not self._cancelled:
            self.on_result(result)


def run_one(plan: Plan) -> ProbeResult:
    """Run a one-probe plan to its result, in this (worker) thread: the whois box."""
    found: list[ProbeResult] = []
    EngineThread(plan, found.append).execute()
    if found:
        return found[0]
    (p,) = plan.probes
    return skipped(p, CANCELLED)


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Let cancelled tasks finish their cleanup (closing sockets) before the loop closes."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())


def report(plan: Plan, results: Mapping[str, ProbeResult], elapsed_ms: float) -> Report:
    """The report of the results so far, in the plan's probe order (a probe still running is left out)."""
    return runner.report_of(plan, [results[p] for p in plan.probe_ids if p in results], elapsed_ms)


def export_path(fmt: str, directory: Path | str = ".", now: float | None = None, what: str = "report") -> Path:
    """aksdiag-<what>-<timestamp>.<ext> in `directory` (`what`: report, fleet)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    return Path(directory) / f"aksdiag-{what}-{stamp}.{EXPORT_FORMATS[fmt]}"


def export(rep: Report, fmt: str, path: Path | str) -> Path:
    """Write the report with the CLI's renderer for `fmt` (json or markdown)."""
    from aksdiag.render import render

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"cannot export as {fmt!r}: json or markdown")
    path = Path(path).expanduser()
    with path.open("w", encoding="utf-8") as out:
        render(rep, fmt, out)
    return path
