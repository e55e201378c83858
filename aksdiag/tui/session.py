"""What the TUI runs and how, with no Textual in it: the session (target, settings, probes), one probe run on its
own event loop in a worker thread (so the UI never waits on a socket or a judge) that can be cancelled from the UI
thread, the report built from the results so far, and the export of that report through the existing renderers.

Each probe runs alone (`runner.run_probes([probe], ...)`) so its tile turns final the moment it finishes; the
reads two probes share (the cluster's Azure context, Kubernetes lists) go through one `SharedFetch` per run, so
Azure and the API server are asked once, whichever probe asks first.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aksdiag import __version__, runner
from aksdiag.facts import AzureContextNeed, AzureVmssNicsNeed, KubeListNeed
from aksdiag.model import ProbeResult, Report, Status
from aksdiag.probe import Probe, load
from aksdiag.settings import Settings

if TYPE_CHECKING:
    from aksdiag.lab.world import World

CANCELLED = "cancelled"
"""The reason of a probe stopped by the user (key `c`): it is reported as skipped, not as failed."""

EXPORT_FORMATS = {"json": "json", "markdown": "md"}


@dataclass(frozen=True)
class Session:
    """One diagnosis: the probes to run on `target` with `settings`; `whois_settings` is the context the whois box
    asks with (None: no Kubernetes context, the whois probe says so); `skip` pre-marks probes that cannot run here."""

    command: str
    target: str
    settings: Settings
    probes: tuple[Probe, ...]
    whois_settings: Settings | None = None
    skip: Mapping[str, str] = field(default_factory=dict)
    label: str = ""
    """The target as shown (the cluster's resource group/name when the target is found from Azure)."""

    @classmethod
    def of(
        cls,
        command: str,
        target: str,
        settings: Settings,
        probe_ids: Iterable[str],
        whois_settings: Settings | None = None,
        skip: Mapping[str, str] | None = None,
    ) -> Session:
        azure = settings.azure
        label = target or (f"{azure.resource_group}/{azure.cluster}" if azure else "")
        probes = tuple(load(p) for p in probe_ids)
        return cls(command, target, settings, probes, whois_settings, dict(skip or {}), label)

    @property
    def probe_ids(self) -> list[str]:
        return [p.id for p in self.probes]


def skipped(probe: Probe, reason: str, elapsed_ms: float = 0.0) -> ProbeResult:
    return ProbeResult(probe=probe.id, title=probe.title, status=Status.SKIPPED, elapsed_ms=elapsed_ms, reason=reason)


SHARED_NEEDS = (AzureContextNeed, AzureVmssNicsNeed, KubeListNeed)
"""Reads worth sharing between the probes of one run: slow, rate-limited, the same answer for every probe."""


class SharedFetch:
    """A fact source for the probes of one run, each on its own thread and event loop: a shared read is fetched
    once, on this object's own background loop, and every probe that needs it awaits that one answer. Cancelling
    a probe stops its wait, not the read the other probes are waiting for. Everything else is fetched per probe."""

    def __init__(self, source: runner.FactSource = runner.fetch) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._pending: dict[Hashable, concurrent.futures.Future[object]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _background(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=_serve, args=(self._loop,), name="aksdiag-shared-reads", daemon=True
                )
                self._thread.start()
            return self._loop

    async def __call__(self, needs: Iterable[Hashable], settings: Settings) -> dict[Hashable, object]:
        needs = list(needs)
        own = [n for n in needs if not isinstance(n, SHARED_NEEDS)]
        shared = [n for n in needs if isinstance(n, SHARED_NEEDS)]
        loop = self._background() if shared else None
        futures: dict[Hashable, concurrent.futures.Future[object]] = {}
        with self._lock:
            for need in shared:
                if need not in self._pending:
                    self._pending[need] = asyncio.run_coroutine_threadsafe(self._one(need, settings), loop)  # type: ignore[arg-type]
                futures[need] = self._pending[need]
        facts: dict[Hashable, object] = dict(await self._source(own, settings)) if own else {}
        for need, future in futures.items():
            facts[need] = await asyncio.shield(asyncio.wrap_future(future))
        return facts

    async def _one(self, need: Hashable, settings: Settings) -> object:
        return (await self._source([need], settings))[need]

    def close(self) -> None:
        """Stop the background loop; reads still in flight are cancelled (their run was replaced or has ended)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """The shared reads' thread: run the loop until close(), then cancel what is left and close it, here."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            _drain(loop)
        finally:
            loop.close()


class ProbeRun:
    """One probe on its own event loop; `execute()` runs in a worker thread, `cancel()` may come from any thread
    and stops the probe's fetches at once (the result is then skipped with the reason "cancelled")."""

    def __init__(self, probe: Probe, target: str, settings: Settings, source: runner.FactSource = runner.fetch) -> None:
        self.probe = probe
        self.target = target
        self.settings = settings
        self.source = source
        self.started = time.perf_counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[list[ProbeResult]] | None = None
        self._cancelled = False
        self.done = threading.Event()

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._loop is not None and self._task is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._task.cancel)

    def execute(self) -> ProbeResult:
        self.started = time.perf_counter()
        loop = asyncio.new_event_loop()
        try:
            with self._lock:
                if self._cancelled:
                    return skipped(self.probe, CANCELLED, self.elapsed_ms)
                self._loop = loop
                self._task = loop.create_task(
                    runner.run_probes([self.probe], self.target, self.settings, source=self.source)
                )
            try:
                (result,) = loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                return skipped(self.probe, CANCELLED, self.elapsed_ms)
            except Exception as e:  # the runner keeps probe errors in the result; this is a source that broke
                return ProbeResult(
                    probe=self.probe.id,
                    title=self.probe.title,
                    status=Status.ERROR,
                    elapsed_ms=self.elapsed_ms,
                    reason=f"{type(e).__name__}: {e}",
                )
            return skipped(self.probe, CANCELLED, self.elapsed_ms) if self._cancelled else result
        finally:
            with self._lock:
                self._loop = None
            try:
                _drain(loop)
            finally:
                loop.close()
                self.done.set()


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Let cancelled tasks finish their cleanup (closing sockets) before the loop closes."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())


def report(session: Session, results: Mapping[str, ProbeResult], elapsed_ms: float) -> Report:
    """The report of the results so far, in the session's probe order (a probe still running is left out)."""
    return Report(
        command=session.command,
        target=session.label,
        probes=tuple(results[p] for p in session.probe_ids if p in results),
        elapsed_ms=elapsed_ms,
        version=__version__,
    )


def export_path(fmt: str, directory: Path | str = ".", now: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    return Path(directory) / f"aksdiag-report-{stamp}.{EXPORT_FORMATS[fmt]}"


def export(rep: Report, fmt: str, path: Path | str) -> Path:
    """Write the report with the CLI's renderer for `fmt` (json or markdown)."""
    from aksdiag.render import render

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"cannot export as {fmt!r}: json or markdown")
    path = Path(path).expanduser()
    with path.open("w", encoding="utf-8") as out:
        render(rep, fmt, out)
    return path


DEMO_ORDER = ("dns_chain", "private_dns", "apiserver", "ipplan")
DEMO_SKIP = {"apiserver": "the DNS lab has no API server: `aksdiag tui --kubeconfig …` tests a real one"}


def demo_session(world: World) -> Session:
    """Every probe that takes a name (whois takes an IP: it has its box) on a running DNS lab world."""
    from aksdiag.probe import probe_ids

    ids = [p for p in probe_ids() if p != "whois"]
    ordered = [p for p in DEMO_ORDER if p in ids] + sorted(p for p in ids if p not in DEMO_ORDER)
    settings = world.settings(timeout=2.0)
    return Session.of("demo", world.scenario.fqdn, settings, ordered, whois_settings=settings, skip=DEMO_SKIP)
