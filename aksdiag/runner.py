"""The one engine: runs a Plan's probes concurrently, shares their reads, streams each result as it finishes.

Each probe is a task on one event loop: plan → fetch what is missing → plan again (a need may depend on an earlier
fact) → judge. A read two probes need (the cluster's Azure context, a Kubernetes list, a DNS answer) is fetched
once, by whichever asks first, and the other awaits the same answer. Every read of every round stops at the run's
one deadline. One probe that breaks, cannot run, or is cancelled never stops the others: it is reported as `error`
or `skipped` with the reason. Sources are imported here, lazily, by the kind of need.

The CLI calls `run(plan)`; the TUI runs `Run(plan).stream(on_result)` in a worker thread and may `cancel(probe_id)`
from its own.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Any

from aksdiag import __version__
from aksdiag.errors import AksdiagError
from aksdiag.facts import (
    AzureContextNeed,
    AzureGetNeed,
    AzureVmssNicsNeed,
    ClockNeed,
    DnsQuery,
    HttpNeed,
    KubeListNeed,
    ResolverConfigNeed,
    TcpConnectNeed,
    TlsNeed,
)
from aksdiag.model import ProbeResult, Report, Severity, Status
from aksdiag.plan import FactSource, Plan
from aksdiag.probe import CouldNotLook, Judgement, Probe, Skip
from aksdiag.settings import Settings

MAX_ROUNDS = 6
"""Plan → fetch rounds per probe: each round may ask for needs that depend on the previous round's facts."""

CANCELLED = "cancelled"
"""The reason of a probe stopped by the user (the TUI's `c`): reported as skipped, not as failed."""

GRACE_S = 0.5
"""How long past the deadline a source may take to hand back what it has (its own waits end at the deadline)."""


class DeadlinePassed(Exception):
    """The run's deadline passed before a source answered: the probe is reported as error with this reason."""


async def fetch(needs: Iterable[Hashable], settings: Settings, deadline: float) -> dict[Hashable, Any]:
    """Fetch every need concurrently through its source; no wait outlasts `deadline` (time.monotonic())."""
    needs = list(needs)
    facts: dict[Hashable, Any] = {}
    left = max(0.0, deadline - time.monotonic())
    wait = min(settings.timeout, left)  # one question (a DNS query, a TCP connect, a TLS handshake) waits this
    if left <= 0 and any(not isinstance(n, ResolverConfigNeed | ClockNeed) for n in needs):
        raise DeadlinePassed(f"the run's deadline ({settings.deadline:g} s) passed before these reads could start")

    for need in needs:
        if isinstance(need, ResolverConfigNeed):
            from aksdiag.sources import resolvconf

            facts[need] = resolvconf.read(need.path, settings.resolved_upstreams)
        elif isinstance(need, ClockNeed):  # the time a probe judges by (certificate dates) is a fact
            from aksdiag.sources import clock

            facts[need] = clock.read()
    jobs: list[Awaitable[Mapping[Any, Any]]] = []
    queries = [n for n in needs if isinstance(n, DnsQuery)]
    if queries:
        from aksdiag.sources import dns

        jobs.append(dns.fetch(queries, wait, settings))
    net_needs: list[Hashable] = [n for n in needs if isinstance(n, TcpConnectNeed | TlsNeed | HttpNeed)]
    if net_needs:
        from aksdiag.sources import net

        jobs.append(net.fetch(net_needs, wait, settings.apiserver, settings, deadline))
    kube_needs: list[Hashable] = [n for n in needs if isinstance(n, KubeListNeed)]
    if kube_needs:
        from aksdiag.sources import kube

        jobs.append(kube.fetch(kube_needs, left, settings, deadline))
    for need in needs:
        if isinstance(need, AzureContextNeed):
            from aksdiag.sources import azure

            jobs.append(_one(need, azure.fetch(need, settings, deadline)))
        elif isinstance(need, AzureVmssNicsNeed):
            from aksdiag.sources import azure

            jobs.append(_one(need, azure.fetch_vmss_nics(need, settings, deadline)))
    documents = [n for n in needs if isinstance(n, AzureGetNeed)]
    if documents:
        from aksdiag.sources.azure import documents as azure_documents

        jobs.append(azure_documents.fetch(documents, settings, deadline))
    try:
        found = await asyncio.wait_for(asyncio.gather(*jobs), left + GRACE_S)
    except asyncio.TimeoutError:
        kinds = sorted({type(n).__name__ for n in needs if n not in facts})
        raise DeadlinePassed(
            f"the run's deadline ({settings.deadline:g} s) passed before {', '.join(kinds)} was answered"
        ) from None
    for part in found:
        facts.update(part)
    unknown = [n for n in needs if n not in facts]
    if unknown:
        raise TypeError(f"no source for {type(unknown[0]).__name__}")
    return facts


async def _one(need: Hashable, read: Any) -> dict[Hashable, Any]:
    return {need: await read}


def from_snapshot(saved: dict[Hashable, Any]) -> FactSource:
    """A fact source that answers from a snapshot; a need it lacks stops the run with the reason."""

    async def source(needs: Iterable[Hashable], settings: Settings, deadline: float) -> dict[Hashable, Any]:
        out = {}
        for need in needs:
            if need not in saved:
                raise AksdiagError(f"the snapshot has no fact for {need}", "take the snapshot with the same flags")
            out[need] = saved[need]
        return out

    return source


class Run:
    """One run of a plan. `stream()` runs it on the current event loop; `cancel(probe_id)` may come from any thread.

    `facts` holds every fact fetched (what `aksdiag snapshot` saves)."""

    def __init__(self, plan: Plan, source: FactSource | None = None) -> None:
        self.plan = plan
        self.source: FactSource = source or plan.source or fetch
        self.facts: dict[Hashable, Any] = {}
        self.results: dict[str, ProbeResult] = {}
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}
        self._batches: set[asyncio.Future[dict[Hashable, Any]]] = set()
        self._tasks: dict[str, asyncio.Task[ProbeResult]] = {}
        self._cancelled: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.started = time.perf_counter()
        self.deadline = 0.0

    async def stream(
        self,
        on_result: Callable[[ProbeResult], None] | None = None,
        on_left_out: Callable[[str], None] | None = None,
    ) -> list[ProbeResult]:
        """Run every probe at once; `on_result` gets each result the moment it is final, `on_left_out` the id of a
        probe the command runs only when it can and that could not (a face that showed it takes it away).
        Results in plan order."""
        self.started = time.perf_counter()
        self.deadline = time.monotonic() + self.plan.settings.deadline
        with self._lock:
            self._loop = asyncio.get_running_loop()
            for probe in self.plan.probes:
                self._tasks[probe.id] = asyncio.create_task(self._probe(probe), name=f"probe {probe.id}")
            for probe_id in self._cancelled:
                self._tasks[probe_id].cancel()

        async def report(probe: Probe, task: asyncio.Task[ProbeResult]) -> None:
            try:
                result = await task
            except asyncio.CancelledError:
                if probe.id not in self._cancelled:
                    raise  # the whole run is cancelled, not this probe
                result = self._result(probe, Status.SKIPPED, reason=CANCELLED)
            if probe.id in self._cancelled and result.status is not Status.SKIPPED:
                result = self._result(probe, Status.SKIPPED, reason=CANCELLED)
            if result.status is Status.SKIPPED and self.plan.optional(probe) and result.reason != CANCELLED:
                if on_left_out is not None:
                    on_left_out(probe.id)
                return  # a probe the command runs only when it can: left out, not shown as skipped
            self.results[probe.id] = result
            if on_result is not None:
                on_result(result)

        try:
            await asyncio.gather(*(report(p, self._tasks[p.id]) for p in self.plan.probes))
        finally:
            for task in self._tasks.values():
                task.cancel()
            for batch in self._batches:
                batch.cancel()  # a read only a cancelled probe waited for stops here, sockets closed
            for future in self._pending.values():
                future.cancel()
        return [self.results[p.id] for p in self.plan.probes if p.id in self.results]

    def cancel(self, probe_id: str) -> None:
        """Stop one probe (thread-safe): it is reported as skipped, "cancelled"; reads others await go on."""
        with self._lock:
            self._cancelled.add(probe_id)
            task, loop = self._tasks.get(probe_id), self._loop
        if task is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)

    def report(self, elapsed_ms: float | None = None) -> Report:
        """The report of the results so far, in plan order (a probe still running is left out)."""
        elapsed = (time.perf_counter() - self.started) * 1000 if elapsed_ms is None else elapsed_ms
        return report_of(self.plan, [self.results[p] for p in self.plan.probe_ids if p in self.results], elapsed)

    # ------------------------------------------------------------------ one probe

    async def _probe(self, probe: Probe) -> ProbeResult:
        if probe.id in self.plan.skip:
            return self._result(probe, Status.SKIPPED, reason=self.plan.skip[probe.id])
        target, settings = self.plan.target, self.plan.settings
        for _ in range(MAX_ROUNDS):
            try:
                needs = probe.plan(target, settings, self.facts)
            except Skip as e:
                return self._result(probe, Status.SKIPPED, reason=str(e))
            except CouldNotLook as e:
                return self._result(probe, Status.ERROR, reason=str(e))
            except Exception as e:  # a broken probe must not stop the others
                return self._result(probe, Status.ERROR, reason=f"{type(e).__name__}: {e}")
            missing = [n for n in dict.fromkeys(needs) if n not in self.facts]
            if not missing:
                break
            try:
                await self._read(missing)
            except asyncio.CancelledError:
                raise
            except AksdiagError:
                raise  # no credential, no kubeconfig, a snapshot without the fact: the run stops, saying what to do
            except Exception as e:  # a source that broke, or the deadline: this probe could not see
                reason = str(e) if isinstance(e, DeadlinePassed) else f"{type(e).__name__}: {e}"
                return self._result(probe, Status.ERROR, reason=reason)
        try:
            judgement = probe.judge(target, settings, self.facts)
        except Exception as e:
            return self._result(probe, Status.ERROR, reason=f"{type(e).__name__}: {e}")
        unread = "; ".join(judgement.unread) or None  # what it could not look at: its `error` reason
        return self._result(probe, _status(judgement), reason=unread, judgement=judgement)

    async def _read(self, needs: list[Hashable]) -> None:
        """Fetch what no probe has asked for yet, a batch per kind of need; await what another probe's batch is
        fetching (a batch is shared whole: its waiters get their answers when its slowest need is answered)."""
        kinds: dict[type, list[Hashable]] = {}
        for need in needs:
            if need not in self._pending:
                kinds.setdefault(type(need), []).append(need)
        for new in kinds.values():  # one batch per kind: a slow ARM read never holds a DNS answer
            batch = asyncio.ensure_future(self.source(new, self.plan.settings, self.deadline))
            self._batches.add(batch)
            batch.add_done_callback(self._batches.discard)
            for need in new:
                self._pending[need] = asyncio.get_running_loop().create_future()
            batch.add_done_callback(functools.partial(self._settle, new))
        # shield: cancelling this probe stops its wait, not the read another probe awaits
        await asyncio.shield(asyncio.gather(*(self._pending[n] for n in needs)))

    def _settle(self, needs: list[Hashable], batch: asyncio.Future[dict[Hashable, Any]]) -> None:
        for need in needs:
            future = self._pending[need]
            if future.done():
                continue
            if batch.cancelled():
                future.cancel()
            elif (error := batch.exception()) is not None:
                future.set_exception(error)
                future.exception()  # every waiter sees it; no "exception was never retrieved" for the unawaited
            else:
                self.facts[need] = batch.result()[need]
                future.set_result(None)

    def _result(
        self, probe: Probe, status: Status, reason: str | None = None, judgement: Judgement | None = None
    ) -> ProbeResult:
        j = judgement or Judgement()
        return ProbeResult(
            probe=probe.id,
            title=probe.title,
            status=status,
            elapsed_ms=(time.perf_counter() - self.started) * 1000,
            hops=j.hops,
            findings=j.findings,
            facts=j.facts,
            reason=reason,
            tables=j.tables,
            gauges=j.gauges,
            graph=j.graph,
        )


def _status(judgement: Judgement) -> Status:
    severities = {f.severity for f in judgement.findings}
    if Severity.ERROR in severities:
        return Status.FAIL
    if judgement.unread:
        return Status.ERROR  # it could not look: its silence is no all-clear
    if Severity.WARNING in severities:
        return Status.WARN
    return Status.OK


def report_of(plan: Plan, results: list[ProbeResult], elapsed_ms: float) -> Report:
    """The report of `results`, findings that point at other probes joined with theirs (aksdiag.joins)."""
    from aksdiag.joins import relate

    return Report(
        command=plan.command,
        target=plan.shown_target,
        probes=relate(results),
        elapsed_ms=elapsed_ms,
        version=__version__,
    )


def run(
    plan: Plan, on_result: Callable[[ProbeResult], None] | None = None, facts: dict[Hashable, Any] | None = None
) -> Report:
    """Run a plan to its Report (the synchronous entry point for the CLI); `facts` collects what was fetched."""
    engine = Run(plan)
    results = asyncio.run(engine.stream(on_result))
    if facts is not None:
        facts.update(engine.facts)
    return report_of(plan, results, (time.perf_counter() - engine.started) * 1000)
