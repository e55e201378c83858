"""The fleet's judging: every cluster's assembled AzureContext judged by the fleet's probes (Probe.commands has
"fleet") through the one runner, every cluster concurrently in the running event loop, from a fact source that
answers from memory; and what a cluster's error findings rest on, for the confirming GETs.

The fact source answers the cluster's AzureContextNeed (whatever its load_balancers flag), the run's one clock
(ClockNeed: read once), and Azure Monitor metrics (the lb probe's AzureGetNeeds) as not read — a 404 refusal whose
words say so, so the lb probe shows one skipped hop and no metrics GET leaves: live SNAT is `aksdiag lb`'s.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

from aksdiag.facts import AzureContext, AzureContextNeed, AzureDocument, AzureGetNeed, AzureReadError, ClockNeed
from aksdiag.fleet import assemble
from aksdiag.model import ProbeResult, Report, Severity, Status

if TYPE_CHECKING:
    from aksdiag.settings import Settings

NOT_READ = "not read by aksdiag fleet: `aksdiag lb --cluster` reads live SNAT"
"""Why a fleet run answers Azure Monitor metrics as not read."""
NOT_READ_CODE = "NotReadByFleet: `aksdiag lb --cluster` reads live SNAT"
"""The code the lb probe's skipped hop shows ("Azure Monitor metrics not available: 404 NotReadByFleet: …")."""
QUERY_PROBES = {
    "clusters": ("cluster_state", "private_dns", "ipplan", "outbound", "lb"),
    "dns": ("private_dns",),
    "links": ("private_dns",),
    "network": ("private_dns", "ipplan", "outbound", "lb"),
}
"""The probes that could not look when a Resource Graph query failed (cluster_state reads the cluster's row alone)."""
_DNS_PATH = {"managedclusters", "virtualnetworks", "privatednszones", "virtualnetworklinks", "a", "privateendpoints",
             "networkinterfaces", "dnsresolvers", "inboundendpoints", "outboundendpoints", "dnsforwardingrulesets",
             "forwardingrules", "azurefirewalls", "firewallpolicies", "virtualmachines"}  # fmt: skip
READS = {"private_dns": _DNS_PATH, "cluster_state": {"managedclusters"}}
"""The ARM types a probe's findings rest on, where that is less than the whole context (private_dns reads no load
balancer, NSG or scale set): the confirming GETs of a cluster whose errors are only theirs are those."""
ENDPOINT_CODES = {"DNS012"}
"""The codes that rest on the API server's private endpoint, its NIC and the zone's A records (the address the name
must resolve to): a cluster whose errors are none of them is confirmed without reading those again."""


async def judge_all(
    contexts: dict[str, AzureContext], settings: Settings, failed: dict[str, str] | None = None
) -> dict[str, Report]:
    """Every cluster's Report by its key in `contexts`. `failed`: Resource Graph queries that failed (name → why):
    the probes that need them are `error` with that reason, not judged from a partial index."""
    from aksdiag import probe
    from aksdiag.plan import Plan
    from aksdiag.runner import Run
    from aksdiag.sources import clock

    probes = tuple(probe.for_command("fleet"))
    now = clock.read()
    blind = {p: f"Resource Graph's {q!r} query failed: {why}" for q, why in (failed or {}).items()
             for p in QUERY_PROBES[q]}  # fmt: skip

    async def one(context: AzureContext) -> Report:
        engine = Run(Plan("fleet", "", dataclasses.replace(settings, azure=context.need), probes),
                     source=source(context, now))  # fmt: skip
        await engine.stream()
        report = engine.report()
        return dataclasses.replace(report, probes=_could_not(report.probes, blind)) if blind else report

    from aksdiag.armview import shared_bodies

    with shared_bodies():  # the hub's VNet, the shared zone's records: made typed once, not once per cluster
        reports = await asyncio.gather(*(one(c) for c in contexts.values()))
    return dict(zip(contexts, reports, strict=True))


def _could_not(results: Iterable[ProbeResult], blind: dict[str, str]) -> tuple[ProbeResult, ...]:
    out = []
    for r in results:
        if r.probe in blind and r.status is not Status.SKIPPED:
            r = dataclasses.replace(r, status=Status.ERROR, reason=blind[r.probe], findings=(), hops=())
        out.append(r)
    return tuple(out)


def source(context: AzureContext, now: Any) -> Callable[..., Any]:
    """One cluster's facts from memory (see the module docstring); any other need is a bug: TypeError."""

    async def answer(needs: Iterable[Hashable], settings: Settings, deadline: float) -> dict[Hashable, Any]:
        out: dict[Hashable, Any] = {}
        for need in needs:
            if isinstance(need, AzureContextNeed):
                out[need] = context if need == context.need else dataclasses.replace(context, need=need)
            elif isinstance(need, ClockNeed):
                out[need] = now
            elif isinstance(need, AzureGetNeed):
                error = AzureReadError(need.path, 404, NOT_READ_CODE, NOT_READ, "Microsoft.Insights/metrics/read",
                                       "not-found")  # fmt: skip
                out[need] = AzureDocument(error=error)
            else:
                raise TypeError(f"aksdiag fleet reads no {type(need).__name__}")
        return out

    return answer


def confirming(context: AzureContext, report: Report) -> list[AzureGetNeed]:
    """The GETs that confirm the report's error findings: what the context rests on (assemble.rests_on), less what
    their probes never read when they are all private_dns's or cluster_state's; else everything."""
    needs = assemble.rests_on(context)
    probes = {f.probe for f in report.findings if f.severity is Severity.ERROR}
    if not probes <= READS.keys():
        return needs
    kinds = set().union(*(READS[p] for p in probes))
    kept = [n for n in needs if kind(n) in kinds]
    codes = {f.id for f in report.findings if f.severity is Severity.ERROR}
    if codes & ENDPOINT_CODES or "cluster_state" in probes:
        return kept
    endpoints = {str((e.get("endpoint") or {}).get("id") or "").lower() for e in context.endpoints}
    endpoints |= {str(n.get("id") or "").lower() for e in context.endpoints for n in e.get("nics") or []}
    return [n for n in kept if n.path.lower() not in endpoints and kind(n) != "a"]


def kind(need: AzureGetNeed) -> str:
    """The ARM type a GET reads (its last type segment, lower-cased): `virtualnetworks`, `virtualnetworklinks`."""
    parts = need.path.strip("/").lower().split("/")
    return parts[-1] if need.paged else parts[-2] if len(parts) > 1 else ""


def has_errors(report: Report) -> bool:
    return any(f.severity is Severity.ERROR for f in report.findings)


def alarms(report: Report) -> list[str]:
    """The warning and error codes of a report, each once."""
    return list(dict.fromkeys(f.id for f in report.findings if f.severity is not Severity.INFO))
