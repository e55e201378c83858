"""The fleet run: discover through Resource Graph, assemble each cluster's facts, judge them with the probes `check`
runs, confirm every error by GET, group by shared cause. One deadline for the whole run.

The steps (each told to `progress`):
1. GET /subscriptions: what the identity can read; a --subscription it does not list is GET on its own (ARM's
   words for why: 403, 404) and becomes a fleet-level AZ001.
2. Resource Graph: the clusters over the scope (the subscriptions, the management groups, or every listed one),
   the resources their paths depend on over every listed subscription (a hub's zone sits in a connectivity
   subscription outside a workload scope; `check --cluster` searches it too).
3. One Index of the rows; GETs of what Resource Graph does not index (record sets, forwarding rules).
4. One AzureContext per cluster (assemble), judged by the fleet's probes (judging), all clusters at once.
5. Clusters with an error finding: GETs of what those findings rest on (dedup), the index overlaid with what ARM
   said, those clusters assembled and judged again: a code gone is `lagged` (Resource Graph lagged ARM), what
   stands is `confirmed` — unless a confirming GET failed (not 404): then it stands unconfirmed, said in a note.
6. Cause groups (grouping); fleet-level AZ001 and notes on what Resource Graph could not tell (notes).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aksdiag import __version__
from aksdiag.facts import AzureContext, AzureDocument, AzureGetNeed, AzureReadError
from aksdiag.fleet import assemble, grouping, judging
from aksdiag.fleet import notes as said
from aksdiag.fleet.index import Index
from aksdiag.fleet.model import FleetCluster, FleetReport, FleetScope, QueryStat
from aksdiag.fleet.notes import count
from aksdiag.fleet.queries import fleet_queries
from aksdiag.model import Finding, Report

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

READABLE_STATES = {"enabled", "warned", "pastdue", ""}
"""A Disabled or Deleted subscription answers reads with errors: it is not searched."""


async def run(plan: FleetPlan, progress: Progress | None = None) -> FleetReport:
    with _few_collections():
        return await _Run(plan, progress or (lambda _line: None)).run()


@contextmanager
def _few_collections() -> Iterator[None]:
    """A fleet run makes millions of small objects that live to its end (rows, contexts, typed facts, reports):
    Python's cyclic collector, run every 700 allocations, scans them again and again — a third of the run's time on
    1,000 clusters. Here it runs every 100,000; what the run holds once Resource Graph has answered, and what it
    hands back at the end (the report), is frozen: never scanned again (refcounting still frees it when it goes;
    only a reference cycle among frozen objects would outlive it). The threshold is put back at the end."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.freeze()  # else the next full collection scans every object of the report once more (a second or so)
        gc.set_threshold(*before)


@dataclass
class _Run:
    plan: FleetPlan
    say: Progress
    started: float = field(default_factory=time.perf_counter)
    deadline: float = 0.0
    requests: dict[str, int] = field(default_factory=lambda: {"subscriptions": 0, "graph": 0, "get": 0, "confirm": 0})
    findings: list[Finding] = field(default_factory=list)
    stats: list[QueryStat] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)

    async def run(self) -> FleetReport:
        plan, scope = self.plan, self.plan.scope
        self.deadline = time.monotonic() + plan.settings.deadline
        listed, names, clusters_in, around = await self._scope()
        index = await self._ask(clusters_in, around)
        import gc

        gc.freeze()  # the rows stay to the end: no collection need look at them again
        failed = {s.name: s.error for s in self.stats if s.error}
        found = index.clusters()
        searched = frozenset(around) | {said.subscription_of(str(r["id"])) for r in found}
        visible = assemble.Visible(subscriptions=tuple(listed or ()), searched=searched)

        gets = assemble.gets_for(index, found, plan.endpoint) if found else []
        self.say(f"reading what Resource Graph does not index: {count(len(gets), 'GET')}")
        fetched = await self._fetch(gets, "get")
        self.say(f"judging {count(len(found), 'cluster')}")
        contexts = {str(c["id"]).lower(): assemble.context_of(c, index, fetched, visible, plan.endpoint) for c in found}
        reports = await judging.judge_all(contexts, plan.settings, failed)
        lagged, confirmed, unconfirmed = await self._confirm(index, found, fetched, visible, contexts, reports, failed)

        clusters = tuple(_fleet_cluster(c, reports[str(c["id"]).lower()], lagged, confirmed) for c in found)
        self.findings += said.hidden(contexts, searched, {c.id.lower(): c.name for c in clusters})
        notes = said.notes(gets, fetched, clusters, self.truncated, failed, list(scope.management_groups), unconfirmed)
        self.say(f"grouping the findings of {count(len(clusters), 'cluster')}")
        return FleetReport(
            scope=scope.describe() + (f" where {scope.filter}" if scope.filter else ""),
            clusters=clusters,
            groups=tuple(grouping.groups(list(clusters), names)),
            findings=tuple(self.findings),
            queries=tuple(self.stats),
            requests=self.requests,
            elapsed_ms=(time.perf_counter() - self.started) * 1000,
            version=__version__,
            subscriptions=tuple(sorted(searched)),
            notes=tuple(notes),
            names=names,
        )

    async def _scope(self) -> tuple[list[Body] | None, dict[str, str], list[str], list[str]]:
        """(the subscription list, display names, where the clusters are looked for, where what they depend on is):
        the given subscriptions the list has (the others read on their own: AZ001), or every listed one."""
        scope = self.plan.scope
        self.say("listing the subscriptions the identity can read")
        listed, errors, n = await _subscriptions(self.plan, self.deadline)
        self.requests["subscriptions"] += n
        self.findings += [said.az001(e, "listing the subscriptions the identity can read") for e in errors]
        readable = [str(s["subscriptionId"]).lower() for s in listed or [] if _readable(s)]
        if listed is not None and not readable and not scope.subscriptions and not scope.management_groups:
            from aksdiag.errors import AksdiagError

            raise AksdiagError(  # nothing was looked at: an empty fleet here would be a false all-clear
                "the identity can read no enabled subscription: there is no fleet to judge",
                "grant it Reader on the subscriptions (or a management group), sign in as another identity, or "
                "pass --subscription / --management-group",
            )
        names = {str(s.get("subscriptionId")).lower(): str(s.get("displayName") or "") for s in listed or []}
        unlisted = [s for s in scope.subscriptions if listed is not None and s not in readable]
        if unlisted:
            docs = await self._fetch([_subscription_need(s, self.plan.endpoint) for s in unlisted], "subscriptions")
            self.findings += [said.unlisted(s, docs[_subscription_need(s, self.plan.endpoint)].error) for s in unlisted]
        clusters_in = [s for s in scope.subscriptions if s not in unlisted] if scope.subscriptions else readable
        return listed, names, clusters_in, list(dict.fromkeys([*clusters_in, *readable]))

    async def _ask(self, clusters_in: list[str], around: list[str]) -> Index:
        """The four queries: the clusters over the scope, the rest over `around` (or the groups when the list
        failed); one Index of their rows."""
        from aksdiag.sources.azure import graph

        groups = list(self.plan.scope.management_groups)
        queries = fleet_queries(self.plan.scope.filter)
        where = f"management group {', '.join(groups)}" if groups else count(len(clusters_in), "subscription")
        self.say(f"asking Resource Graph: {len(queries)} queries over {where}")
        ask = functools.partial(graph.query_all, endpoint=self.plan.endpoint, settings=self.plan.settings,
                                deadline=self.deadline)  # fmt: skip
        if groups:
            jobs = [ask(queries[:1], [], groups), ask(queries[1:], around, [] if around else groups)]
        elif set(clusters_in) != set(around):
            jobs = [ask(queries[:1], clusters_in, []), ask(queries[1:], around, [])]
        else:
            jobs = [ask(queries, around, [])] if around else []
        rows: dict[str, list[Body]] = {}
        for result in await asyncio.gather(*jobs):
            rows.update(result.rows)
            self.stats += result.stats
            self.truncated += result.truncated
            self.requests["graph"] += result.requests
            self.findings += [said.az001(e, "asking Resource Graph") for e in result.errors]
        return Index.of([r for q in ("clusters", "dns", "network") for r in rows.get(q, [])], rows.get("links", []))

    async def _confirm(
        self, index: Index, found: list[Body], fetched: dict[AzureGetNeed, AzureDocument], visible: assemble.Visible,
        contexts: dict[str, AzureContext], reports: dict[str, Report], failed: dict[str, str],
    ) -> tuple[dict[str, tuple[str, ...]], set[str], tuple[int, int]]:  # fmt: skip
        """GET what the error findings rest on, judge those clusters again from what ARM said; `reports` takes the
        new reports. (lagged codes by cluster, the confirmed clusters, (failed GETs, clusters left unconfirmed))."""
        suspects = [cid for cid, report in reports.items() if judging.has_errors(report)]
        if not suspects:
            return {}, set(), (0, 0)
        rests = {cid: judging.confirming(contexts[cid], reports[cid]) for cid in suspects}
        needs = list(dict.fromkeys(n for cid in suspects for n in rests[cid]))
        self.say(f"confirming the errors of {count(len(suspects), 'cluster')} by GET ({count(len(needs), 'read')})")
        docs = await self._fetch(needs, "confirm")
        fresh, lists, unsure = _fresh(docs)
        again = index.overlaid(fresh, lists)
        rows = {str(c["id"]).lower(): c for c in found}
        known = {**fetched, **docs}
        endpoint = self.plan.endpoint
        recheck = {cid: assemble.context_of(again.get(cid) or rows[cid], again, known, visible, endpoint)
                   for cid in suspects}  # fmt: skip
        judged = await judging.judge_all(recheck, self.plan.settings, failed)
        lagged, confirmed, left = {}, set(), 0
        for cid in suspects:
            after = judging.alarms(judged[cid])
            lagged[cid] = tuple(c for c in judging.alarms(reports[cid]) if c not in after)
            reports[cid] = judged[cid]
            if not judging.has_errors(judged[cid]):
                continue
            if {n.path.lower() for n in rests[cid]} & unsure:
                left += 1
            else:
                confirmed.add(cid)
        return lagged, confirmed, (len(unsure), left)

    async def _fetch(self, needs: list[AzureGetNeed], kind: str) -> dict[AzureGetNeed, AzureDocument]:
        """The GETs, all at once (sources.azure.documents), counted under `kind`."""
        if not needs:
            return {}
        from aksdiag.sources.azure import documents

        docs = await documents.fetch(needs, self.plan.settings, self.deadline)
        self.requests[kind] += sum(d.requests for d in docs.values())
        return docs


async def _subscriptions(plan: FleetPlan, deadline: float) -> tuple[list[Body] | None, list[AzureReadError], int]:
    """GET /subscriptions through the pipeline every read has (a 401 stops the command: exit 3)."""
    from aksdiag.errors import AksdiagError
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
            raise AksdiagError(
                f"Azure refused the credentials ({e.code}: {e.message})",
                "run `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or AKSDIAG_ARM_TOKEN",
            )
    return listed, reads.errors, reads.requests


def _subscription_need(subscription: str, endpoint: str) -> AzureGetNeed:
    return AzureGetNeed(f"/subscriptions/{subscription}", "2022-12-01", endpoint=endpoint)


def _fresh(
    docs: dict[AzureGetNeed, AzureDocument],
) -> tuple[dict[str, Body | None], dict[str, list[Body] | None], set[str]]:
    """What the confirming GETs said: bodies by id (None: 404, gone), lists by collection path (a 404: empty), and
    the paths whose GET failed otherwise (their rows stay as Resource Graph had them)."""
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


def _fleet_cluster(row: Body, report: Report, lagged: dict[str, tuple[str, ...]], confirmed: set[str]) -> FleetCluster:
    cid = str(row["id"])
    parts = cid.split("/")
    return FleetCluster(
        id=cid,
        name=str(row.get("name") or parts[-1]),
        subscription=str(row.get("subscriptionId") or said.subscription_of(cid)).lower(),
        resource_group=str(row.get("resourceGroup") or (parts[4] if len(parts) > 4 else "")),
        location=str(row.get("location") or ""),
        report=report,
        lagged=lagged.get(cid.lower(), ()),
        confirmed=cid.lower() in confirmed,
    )


def _readable(s: Body) -> bool:
    return bool(s.get("subscriptionId")) and str(s.get("state") or "").lower() in READABLE_STATES
