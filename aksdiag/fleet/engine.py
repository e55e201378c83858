"""The fleet run: discover through Resource Graph, assemble each cluster's facts, judge them with the probes `check`
runs, confirm every error by GET, group by shared cause. One deadline for the whole run.

The steps (each told to `progress`):
1. GET /subscriptions: what the identity can read; a --subscription it does not list is GET on its own (ARM's
   words for why: 403, 404) and becomes a fleet-level AZ001.
2. Resource Graph: the clusters over the scope (the subscriptions, the management groups, or every listed one),
   the resources their paths depend on over every listed subscription (a hub's zone sits in a connectivity
   subscription outside a workload scope, as `check --cluster` searches it too).
3. One Index of the rows; GETs of what Resource Graph does not index (record sets, forwarding rules).
4. One AzureContext per cluster (assemble), judged by the fleet's probes through the one runner, every cluster
   concurrently in this event loop, from a fact source that answers from memory.
5. Clusters with an error finding: GETs of what their contexts rest on (dedup), the index overlaid with what ARM
   said, those clusters assembled and judged again: a code gone is `lagged` (Resource Graph lagged ARM), what
   stands is `confirmed` — unless a confirming GET failed (not 404): then it stands unconfirmed, said in a note.
6. Cause groups; fleet-level AZ001 for subscriptions a cluster depends on that could not be read, and for failed
   queries; notes on what Resource Graph could not tell.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aksdiag import __version__
from aksdiag.facts import AzureContext, AzureContextNeed, AzureDocument, AzureGetNeed, AzureReadError, ClockNeed
from aksdiag.fleet import assemble, grouping
from aksdiag.fleet.index import Index
from aksdiag.fleet.model import FleetCluster, FleetReport, FleetScope, QueryStat
from aksdiag.fleet.queries import GRAPH_PATH, fleet_queries
from aksdiag.model import Finding, ProbeResult, Report, Severity, Status

if TYPE_CHECKING:
    from aksdiag.settings import Settings

Body = dict[str, Any]


@dataclass(frozen=True)
class FleetPlan:
    """What one fleet run looks at, built once from the flags (aksdiag.commands.fleet)."""

    scope: FleetScope
    settings: Settings
    endpoint: str
    """The ARM endpoint (clients.endpoint_for)."""


Progress = Callable[[str], None]
"""Told each step as it starts ("asking Resource Graph: 4 queries over 40 subscriptions", "judging 1,000 clusters",
"confirming 37 findings by GET"): the CLI shows it on stderr, the TUI in its status line."""

NOT_READ = "not read by aksdiag fleet: `aksdiag lb --cluster` reads live SNAT"
NOT_READ_CODE = "NotReadByFleet: `aksdiag lb --cluster` reads live SNAT"
"""The code the lb probe's skipped hop shows ("Azure Monitor metrics not available: 404 NotReadByFleet: …")."""
"""Why a fleet run answers Azure Monitor metrics as not read: one skipped hop per load balancer, no metrics GETs."""
QUERY_PROBES = {
    "clusters": ("cluster_state", "private_dns", "ipplan", "outbound", "lb"),
    "dns": ("private_dns",),
    "links": ("private_dns",),
    "network": ("private_dns", "ipplan", "outbound", "lb"),
}
"""The probes that could not look when a query failed (cluster_state reads the cluster's row alone)."""
READABLE_STATES = {"enabled", "warned", "pastdue", ""}
_DNS_PATH = {"managedclusters", "virtualnetworks", "privatednszones", "virtualnetworklinks", "a", "privateendpoints",
             "networkinterfaces", "dnsresolvers", "inboundendpoints", "outboundendpoints", "dnsforwardingrulesets",
             "forwardingrules", "azurefirewalls", "firewallpolicies", "virtualmachines"}  # fmt: skip
READS = {"private_dns": _DNS_PATH, "cluster_state": {"managedclusters"}}
"""The ARM types a probe's findings rest on, where that is less than the whole context (confirming GETs)."""


async def run(plan: FleetPlan, progress: Progress | None = None) -> FleetReport:
    from aksdiag.sources.azure import graph

    say = progress or (lambda _line: None)
    started = time.perf_counter()
    deadline = time.monotonic() + plan.settings.deadline
    requests = {"subscriptions": 0, "graph": 0, "get": 0, "confirm": 0}
    scope = plan.scope
    fleet_findings: list[Finding] = []
    notes: list[str] = []

    say("listing the subscriptions the identity can read")
    listed, list_errors, n = await _subscriptions(plan, deadline)
    requests["subscriptions"] += n
    fleet_findings += [_az001(e, "listing the subscriptions the identity can read") for e in list_errors]
    readable = [str(s["subscriptionId"]).lower() for s in listed or [] if _readable(s)]
    names = {str(s.get("subscriptionId")).lower(): str(s.get("displayName") or "") for s in listed or []}
    unlisted = [s for s in scope.subscriptions if listed is not None and s not in readable]
    if unlisted:
        errors, n = await _read_subscriptions(plan, unlisted, deadline)
        requests["subscriptions"] += n
        fleet_findings += [_unlisted(sub, errors.get(sub)) for sub in unlisted]
    cluster_scope = [s for s in scope.subscriptions if s not in unlisted] if scope.subscriptions else readable
    if listed is None and not scope.subscriptions:
        cluster_scope = []
    around = list(dict.fromkeys([*cluster_scope, *readable]))
    groups = list(scope.management_groups)

    queries = fleet_queries(scope.filter)
    where = f"management group {', '.join(groups)}" if groups else _count(len(cluster_scope), "subscription")
    say(f"asking Resource Graph: {len(queries)} queries over {where}")
    ask = functools.partial(graph.query_all, endpoint=plan.endpoint, settings=plan.settings, deadline=deadline)
    if groups:  # the clusters under the groups; what they depend on wherever the identity can read
        jobs = [ask(queries[:1], [], groups), ask(queries[1:], around, [] if around else groups)]
    elif set(cluster_scope) != set(around):
        jobs = [ask(queries[:1], cluster_scope, []), ask(queries[1:], around, [])]
    elif cluster_scope:
        jobs = [ask(queries, around, [])]
    else:
        jobs = []
    results = await asyncio.gather(*jobs)
    rows: dict[str, list[Body]] = {}
    stats: list[QueryStat] = []
    truncated: list[str] = []
    for result in results:
        rows.update(result.rows)
        stats += result.stats
        truncated += result.truncated
        requests["graph"] += result.requests
        fleet_findings += [_az001(e, "asking Resource Graph") for e in result.errors]
    failed = {s.name: s.error for s in stats if s.error}
    index = Index.of([r for name in ("clusters", "dns", "network") for r in rows.get(name, [])], rows.get("links", []))
    found = index.clusters()
    searched = frozenset(around) | {_sub(r) for r in found}
    visible = assemble.Visible(subscriptions=tuple(listed or ()), searched=frozenset(searched))

    gets = assemble.gets_for(index, found, plan.endpoint) if found else []
    say(f"reading what Resource Graph does not index: {_count(len(gets), 'GET')}")
    fetched = await _fetch(gets, plan.settings, deadline)
    requests["get"] += sum(d.requests for d in fetched.values())

    say(f"judging {_count(len(found), 'cluster')}")
    contexts = {str(c["id"]).lower(): assemble.context_of(c, index, fetched, visible, plan.endpoint) for c in found}
    reports = await _judge_all(contexts, plan, failed)

    suspects = [cid for cid, report in reports.items() if _errors(report)]
    lagged: dict[str, tuple[str, ...]] = {}
    confirmed: set[str] = set()
    if suspects:
        rests = {cid: _confirming(contexts[cid], reports[cid]) for cid in suspects}
        needs = list(dict.fromkeys(n for cid in suspects for n in rests[cid]))
        say(f"confirming the errors of {_count(len(suspects), 'cluster')} by GET ({_count(len(needs), 'read')})")
        fresh_docs = await _fetch(needs, plan.settings, deadline)
        requests["confirm"] += sum(d.requests for d in fresh_docs.values())
        fresh, lists, unsure = _fresh(fresh_docs)
        again = index.overlaid(fresh, lists)
        by_id = {str(c["id"]).lower(): c for c in found}
        contexts2 = {
            cid: assemble.context_of(again.get(cid) or by_id[cid], again, {**fetched, **fresh_docs}, visible,
                                     plan.endpoint)
            for cid in suspects
        }  # fmt: skip
        judged = await _judge_all(contexts2, plan, failed)
        unconfirmed = 0
        for cid in suspects:
            before, after = _alarms(reports[cid]), _alarms(judged[cid])
            lagged[cid] = tuple(c for c in before if c not in after)
            reports[cid] = judged[cid]
            rested = {n.path.lower() for n in rests[cid]}
            if _errors(judged[cid]):
                if rested & unsure:
                    unconfirmed += 1
                else:
                    confirmed.add(cid)
        if unconfirmed:
            notes.append(f"{_count(len(unsure), 'confirming GET')} failed (not 404): the errors of "
                         f"{_count(unconfirmed, 'cluster')} stand as Resource Graph showed them, unconfirmed")  # fmt: skip

    clusters = tuple(_fleet_cluster(c, reports[str(c["id"]).lower()], lagged, confirmed) for c in found)
    fleet_findings += _hidden(contexts, searched, {c.id.lower(): c.name for c in clusters})
    notes += _notes(gets, fetched, clusters, truncated, failed, groups)
    say(f"grouping the findings of {_count(len(clusters), 'cluster')}")
    return FleetReport(
        scope=scope.describe() + (f" where {scope.filter}" if scope.filter else ""),
        clusters=clusters,
        groups=tuple(grouping.groups(list(clusters), names)),
        findings=tuple(fleet_findings),
        queries=tuple(stats),
        requests=requests,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        version=__version__,
        subscriptions=tuple(sorted(searched)),
        notes=tuple(notes),
        names=names,
    )


# ---------------------------------------------------------------- reads


async def _subscriptions(plan: FleetPlan, deadline: float) -> tuple[list[Body] | None, list[AzureReadError], int]:
    """GET /subscriptions through the pipeline every read has (a 401 stops the command: exit 3)."""
    from aksdiag.sources.azure.clients import credential, guard
    from aksdiag.sources.azure.reads import Reads
    from aksdiag.sources.azure.subscriptions import Clients, list_subscriptions

    guard(plan.endpoint, plan.settings)
    reads = Reads()
    cred = credential(plan.settings)
    async with cred:
        clients = Clients(cred, plan.endpoint, plan.settings, deadline)
        try:
            listed = await list_subscriptions(reads, clients.get("aks", "00000000-0000-0000-0000-000000000000"))
        finally:
            await clients.close()
    for e in reads.errors:
        if e.status == 401:  # a pipeline read (send_request) meets a 401 as a status, not as the SDKs' auth error
            from aksdiag.errors import AksdiagError

            raise AksdiagError(
                f"Azure refused the credentials ({e.code}: {e.message})",
                "run `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or AKSDIAG_ARM_TOKEN",
            )
    return listed, reads.errors, reads.requests


async def _read_subscriptions(
    plan: FleetPlan, subscriptions: list[str], deadline: float
) -> tuple[dict[str, AzureReadError | None], int]:
    """GET /subscriptions/S of each given subscription the list left out: ARM's own words for why (403, 404)."""
    needs = {s: AzureGetNeed(f"/subscriptions/{s}", "2022-12-01", endpoint=plan.endpoint) for s in subscriptions}
    docs = await _fetch(list(needs.values()), plan.settings, deadline)
    return {s: docs[n].error for s, n in needs.items()}, sum(d.requests for d in docs.values())


async def _fetch(needs: list[AzureGetNeed], settings: Settings, deadline: float) -> dict[AzureGetNeed, AzureDocument]:
    if not needs:
        return {}
    from aksdiag.sources.azure import documents

    return await documents.fetch(needs, settings, deadline)


def _fresh(
    docs: dict[AzureGetNeed, AzureDocument],
) -> tuple[dict[str, Body | None], dict[str, list[Body] | None], set[str]]:
    """What the confirming GETs said: bodies by id (None: 404, gone), lists by collection path, and the paths
    whose GET failed otherwise (their rows stay as Resource Graph had them)."""
    fresh: dict[str, Body | None] = {}
    lists: dict[str, list[Body] | None] = {}
    unsure: set[str] = set()
    for need, doc in docs.items():
        gone = doc.error is not None and doc.error.status == 404
        if doc.error is not None and not gone:
            unsure.add(need.path.lower())
        elif need.paged:
            lists[need.path] = [] if gone else list(doc.items or ())
        else:
            fresh[need.path] = None if gone else doc.body
    return fresh, lists, unsure


# ---------------------------------------------------------------- judging


async def _judge_all(contexts: dict[str, AzureContext], plan: FleetPlan, failed: dict[str, str]) -> dict[str, Report]:
    """Every cluster's Report, judged concurrently by the fleet's probes from its assembled context."""
    from aksdiag import probe
    from aksdiag.plan import Plan
    from aksdiag.runner import Run
    from aksdiag.sources import clock

    probes = tuple(probe.for_command("fleet"))
    now = clock.read()
    cannot = {p: f"Resource Graph's {q!r} query failed: {why}" for q, why in failed.items() for p in QUERY_PROBES[q]}

    async def one(context: AzureContext) -> Report:
        settings = dataclasses.replace(plan.settings, azure=context.need)
        engine = Run(Plan("fleet", "", settings, probes), source=_source(context, now))
        await engine.stream()
        report = engine.report()
        return dataclasses.replace(report, probes=_could_not(report.probes, cannot)) if cannot else report

    reports = await asyncio.gather(*(one(c) for c in contexts.values()))
    return dict(zip(contexts, reports, strict=True))


def _could_not(results: Iterable[ProbeResult], cannot: dict[str, str]) -> tuple[ProbeResult, ...]:
    """The results, those of probes a failed query left blind turned to `error` with the query's reason (their
    verdicts from a partial index would be guesses)."""
    out = []
    for r in results:
        if r.probe in cannot and r.status is not Status.SKIPPED:
            r = dataclasses.replace(r, status=Status.ERROR, reason=cannot[r.probe], findings=(), hops=())
        out.append(r)
    return tuple(out)


def _source(context: AzureContext, now: Any) -> Callable[..., Any]:
    """The facts of one cluster from memory: its context for any AzureContextNeed of it, the run's one clock, and
    Azure Monitor metrics as not read (a 404 refusal whose words say so: one skipped hop, no GET)."""

    async def source(needs: Iterable[Hashable], settings: Settings, deadline: float) -> dict[Hashable, Any]:
        out: dict[Hashable, Any] = {}
        for need in needs:
            if isinstance(need, AzureContextNeed):
                out[need] = dataclasses.replace(context, need=need)
            elif isinstance(need, ClockNeed):
                out[need] = now
            elif isinstance(need, AzureGetNeed):
                error = AzureReadError(need.path, 404, NOT_READ_CODE, NOT_READ, "Microsoft.Insights/metrics/read",
                                       "not-found")  # fmt: skip
                out[need] = AzureDocument(error=error)
            else:
                raise TypeError(f"aksdiag fleet reads no {type(need).__name__}")
        return out

    return source


def _confirming(context: AzureContext, report: Report) -> list[AzureGetNeed]:
    """What the cluster's error findings rest on (assemble.rests_on), less what their probes never read: the DNS
    path's and the cluster state's errors (most of a fleet's: a hub's zone unlinked) need no node resource group's
    load balancers, NSGs or scale sets read again. Errors of the other probes: everything the context holds."""
    needs = assemble.rests_on(context)
    probes = {f.probe for f in report.findings if f.severity is Severity.ERROR}
    if not probes <= READS.keys():
        return needs
    kinds = set().union(*(READS[p] for p in probes))
    return [n for n in needs if _kind(n) in kinds]


def _kind(need: AzureGetNeed) -> str:
    """The ARM type a GET reads (its last type segment, lower-cased): `virtualnetworks`, `virtualnetworklinks`."""
    parts = need.path.strip("/").lower().split("/")
    return parts[-1] if need.paged else parts[-2] if len(parts) > 1 else ""


def _errors(report: Report) -> bool:
    return any(f.severity is Severity.ERROR for f in report.findings)


def _alarms(report: Report) -> list[str]:
    return list(dict.fromkeys(f.id for f in report.findings if f.severity is not Severity.INFO))


def _fleet_cluster(row: Body, report: Report, lagged: dict[str, tuple[str, ...]], confirmed: set[str]) -> FleetCluster:
    cid = str(row["id"])
    parts = cid.split("/")
    return FleetCluster(
        id=cid,
        name=str(row.get("name") or parts[-1]),
        subscription=_sub(row),
        resource_group=str(row.get("resourceGroup") or (parts[4] if len(parts) > 4 else "")),
        location=str(row.get("location") or ""),
        report=report,
        lagged=lagged.get(cid.lower(), ()),
        confirmed=cid.lower() in confirmed,
    )


# ---------------------------------------------------------------- fleet-level findings and notes


def _az001(e: AzureReadError, doing: str) -> Finding:
    from aksdiag import codes

    return codes.AZ001.at("fleet", status=e.status, code=e.code, scope=e.scope, message=f"{e.message} ({doing})",
                          action=e.action or "read access", evidence=e.to_dict())  # fmt: skip


def _unlisted(sub: str, error: AzureReadError | None) -> Finding:
    """A --subscription the identity's list left out: what ARM said when it was read on its own."""
    why = "Resource Graph leaves subscriptions the identity cannot read out silently: its clusters are not judged"
    if error is None:
        error = AzureReadError(f"/subscriptions/{sub}", 403, "NotListed",
                               "GET /subscriptions does not list it (disabled, or not readable)",
                               "Microsoft.Resources/subscriptions/read", "forbidden")  # fmt: skip
    return _az001(dataclasses.replace(error, message=f"{error.message}; {why}"), "given with --subscription")


def _hidden(contexts: dict[str, AzureContext], searched: frozenset[str], names: dict[str, str]) -> list[Finding]:
    """AZ001 per subscription the clusters' resources name (a hub's zone, a peered VNet, a ruleset) that could not
    be read, naming the clusters that depend on it."""
    by_sub: dict[str, tuple[AzureReadError, list[str]]] = {}
    for cid, context in contexts.items():
        for e in context.errors:
            sub = _sub({"id": e.scope})
            if e.status == 403 and sub and sub not in searched:
                _first, dependents = by_sub.setdefault(sub, (e, []))
                if names.get(cid, cid) not in dependents:
                    dependents.append(names.get(cid, cid))
    out = []
    for sub, (e, dependents) in sorted(by_sub.items()):
        shown = ", ".join(dependents[:5]) + (f" and {len(dependents) - 5} more" if len(dependents) > 5 else "")
        verb = "depends" if len(dependents) == 1 else "depend"
        message = (f"{e.message}; {_count(len(dependents), 'cluster')} {verb} on it ({shown}); Resource Graph "
                   "leaves subscriptions the identity cannot read out silently")  # fmt: skip
        scope = f"/subscriptions/{sub}"
        out.append(_az001(dataclasses.replace(e, scope=scope, message=message), "a cluster's resources name it"))
    return out


def _notes(
    gets: list[AzureGetNeed], fetched: dict[AzureGetNeed, AzureDocument], clusters: tuple[FleetCluster, ...],
    truncated: list[str], failed: dict[str, str], groups: list[str],
) -> list[str]:  # fmt: skip
    zones = sum(1 for n in gets if n.path.lower().endswith("/a"))
    rules = sum(1 for n in gets if n.path.lower().endswith("/forwardingrules"))
    out = [
        f"Resource Graph does not index record sets or forwarding rules: the A records of {_count(zones, 'zone')} "
        f"and the rules of {_count(rules, 'ruleset')} were read by GET "
        f"({_count(sum(d.requests for d in fetched.values()), 'request')})",
        "role assignments (DNS015) and live SNAT metrics are not judged in fleet: "
        "`aksdiag check --cluster NAME -g RG --subscription S` reads them for one cluster",
    ]
    lagged = [c for c in clusters if c.lagged]
    if lagged:
        codes_gone = sorted({code for c in lagged for code in c.lagged})
        out.append(f"Resource Graph lagged ARM for {_count(len(lagged), 'cluster')}: {', '.join(codes_gone)} went "
                   "away when what they rest on was read by GET (dropped from their reports)")  # fmt: skip
    out += [f"Resource Graph truncated the {q!r} query: some rows are missing" for q in truncated]
    out += [f"the {q!r} query failed ({why}): the probes that need it could not look" for q, why in failed.items()]
    if groups:
        out.append(f"clusters searched under management group {', '.join(groups)}; what they depend on in every "
                   "subscription the identity can list")  # fmt: skip
    return out


def _readable(s: Body) -> bool:
    return bool(s.get("subscriptionId")) and str(s.get("state") or "").lower() in READABLE_STATES


def _sub(row: Body) -> str:
    parts = str(row.get("id") or "").split("/")
    found = row.get("subscriptionId") or (parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" else "")
    return str(found or "").lower()


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


__all__ = ["GRAPH_PATH", "FleetPlan", "Progress", "run"]
