"""Runs probes: plans their needs, fetches all of them concurrently under one deadline, judges each probe.

One probe that breaks (or cannot run) never stops the others: it is reported as `error` or `skipped` with the
reason. Sources are imported here, lazily, by the kind of need.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from aksdiag import __version__
from aksdiag.facts import (
    AzureContextNeed,
    AzureVmssNicsNeed,
    DnsQuery,
    HttpNeed,
    KubeListNeed,
    ResolverConfigNeed,
    TcpConnectNeed,
    TlsNeed,
)
from aksdiag.model import ProbeResult, Report, Severity, Status
from aksdiag.probe import Judgement, Probe, Skip
from aksdiag.settings import Settings

MAX_ROUNDS = 6
"""Plan → fetch rounds: each round may ask for needs that depend on the previous round's facts."""


async def fetch(needs: Iterable[Hashable], settings: Settings) -> dict[Hashable, Any]:
    """Fetch every need concurrently through its source."""
    needs = list(needs)
    facts: dict[Hashable, Any] = {}
    from aksdiag.facts import ClockNeed  # (belongs with the imports at the top)

    for need in needs:
        if isinstance(need, ResolverConfigNeed):
            from aksdiag.sources import resolvconf

            facts[need] = resolvconf.read(need.path, settings.resolved_upstreams)
        elif isinstance(need, ClockNeed):  # the time a probe judges by (certificate dates) is a fact
            from aksdiag.sources import clock

            facts[need] = clock.read()
    jobs = []
    queries = [n for n in needs if isinstance(n, DnsQuery)]
    if queries:
        from aksdiag.sources import dns

        jobs.append(dns.fetch(queries, settings.timeout))
    net_needs = [n for n in needs if isinstance(n, TcpConnectNeed | TlsNeed | HttpNeed)]
    if net_needs:
        from aksdiag.sources import net

        jobs.append(net.fetch(net_needs, settings.timeout, settings.apiserver))
    kube_needs = [n for n in needs if isinstance(n, KubeListNeed)]
    if kube_needs:
        from aksdiag.sources import kube

        jobs.append(kube.fetch(kube_needs, max(settings.timeout, 10.0)))
    azure_needs = [n for n in needs if isinstance(n, AzureContextNeed)]
    if azure_needs:
        from aksdiag.sources import azure

        async def read(need: AzureContextNeed) -> dict[Hashable, Any]:
            return {need: await azure.fetch(need)}

        jobs += [read(n) for n in azure_needs]
    vmss_needs = [n for n in needs if isinstance(n, AzureVmssNicsNeed)]
    if vmss_needs:
        from aksdiag.sources import azure as azure_source

        async def nics(need: AzureVmssNicsNeed) -> dict[Hashable, Any]:
            return {need: await azure_source.fetch_vmss_nics(need)}

        jobs += [nics(n) for n in vmss_needs]
    for found in await asyncio.gather(*jobs):
        facts.update(found)
    unknown = [n for n in needs if n not in facts]
    if unknown:
        raise TypeError(f"no source for {type(unknown[0]).__name__}")
    return facts


FactSource = Callable[[Iterable[Hashable], Settings], Awaitable[dict[Hashable, Any]]]


async def run_probes(
    probes: list[Probe],
    target: str,
    settings: Settings,
    on_result: Callable[[ProbeResult], None] | None = None,
    source: FactSource = fetch,
    facts: dict[Hashable, Any] | None = None,
) -> list[ProbeResult]:
    """Plan, fetch through `source` (the live sources, or a snapshot), judge. `facts` collects what was fetched."""
    started = time.perf_counter()
    facts = {} if facts is None else facts
    finished: dict[str, ProbeResult] = {}
    active = list(probes)
    for _ in range(MAX_ROUNDS):
        missing: dict[Hashable, None] = {}
        for probe in list(active):
            try:
                needs = probe.plan(target, settings, facts)
            except Skip as e:
                finished[probe.id] = _result(probe, Status.SKIPPED, started, reason=str(e))
                active.remove(probe)
                continue
            except Exception as e:  # a broken probe must not stop the others
                finished[probe.id] = _result(probe, Status.ERROR, started, reason=f"{type(e).__name__}: {e}")
                active.remove(probe)
                continue
            missing.update(dict.fromkeys(n for n in needs if n not in facts))
        if not missing:
            break
        facts.update(await source(missing, settings))
    for probe in active:
        finished[probe.id] = _judge(probe, target, settings, facts, started)
    results = [finished[p.id] for p in probes]
    if on_result:
        for r in results:
            on_result(r)
    return results


def from_snapshot(saved: dict[Hashable, Any]) -> FactSource:
    """A fact source that answers from a snapshot; a need it lacks stops the run with the reason."""

    async def source(needs: Iterable[Hashable], settings: Settings) -> dict[Hashable, Any]:
        out = {}
        for need in needs:
            if need not in saved:
                from aksdiag.errors import AksdiagError

                raise AksdiagError(f"the snapshot has no fact for {need}", "take the snapshot with the same flags")
            out[need] = saved[need]
        return out

    return source


def _judge(probe: Probe, target: str, settings: Settings, facts: dict[Hashable, Any], started: float) -> ProbeResult:
    try:
        judgement = probe.judge(target, settings, facts)
    except Exception as e:
        return _result(probe, Status.ERROR, started, reason=f"{type(e).__name__}: {e}")
    return _result(probe, _status(judgement), started, judgement=judgement)


def _status(judgement: Judgement) -> Status:
    severities = {f.severity for f in judgement.findings}
    if Severity.ERROR in severities:
        return Status.FAIL
    if Severity.WARNING in severities:
        return Status.WARN
    return Status.OK


def _result(
    probe: Probe,
    status: Status,
    started: float,
    reason: str | None = None,
    judgement: Judgement | None = None,
) -> ProbeResult:
    j = judgement or Judgement()
    return ProbeResult(
        probe=probe.id,
        title=probe.title,
        status=status,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        hops=j.hops,
        findings=j.findings,
        facts=j.facts,
        reason=reason,
    )


def run(
    command: str,
    probes: list[Probe],
    target: str,
    settings: Settings,
    source: FactSource = fetch,
    facts: dict[Hashable, Any] | None = None,
) -> Report:
    """Run probes to a Report (synchronous entry point for the CLI)."""
    started = time.perf_counter()
    results = asyncio.run(run_probes(probes, target, settings, source=source, facts=facts))
    return Report(
        command=command,
        target=target,
        probes=tuple(results),
        elapsed_ms=(time.perf_counter() - started) * 1000,
        version=__version__,
    )
