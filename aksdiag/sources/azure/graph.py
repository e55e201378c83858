"""Azure Resource Graph (FIELD.md E13): the fleet's queries through azure-mgmt-resourcegraph's aio client, on the
same pipeline every ARM read has (read-only policy: the one POST allowed is to queries.GRAPH_PATH; same-host;
retry within the run's deadline). Each query is sent per batch of at most SUBSCRIPTION_BATCH subscriptions (or for
the management groups), paged by `$skipToken` with `$top` PAGE_ROWS; the batches and queries run concurrently.
A failed query is a GraphResult error (an AzureReadError: 400 for a query Resource Graph refuses, 403, 429…), not
an exception; a 401 stops the command (exit 3) as every read does.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from aksdiag.facts import AzureReadError
from aksdiag.fleet import queries as q
from aksdiag.fleet.model import QueryStat
from aksdiag.sources.azure import retry
from aksdiag.sources.azure.clients import credential, endpoint_kwargs, guard
from aksdiag.sources.azure.reads import MAX_PAGES, PagingLoop, Reads

if TYPE_CHECKING:
    from aksdiag.fleet.queries import GraphQuery
    from aksdiag.settings import Settings

ACTION = "Microsoft.ResourceGraph/resources/read"
"""The RBAC action a Resource Graph query needs, as Azure names it."""


@dataclass(frozen=True)
class GraphResult:
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Each query's rows by query name (every batch's, every page's)."""
    stats: tuple[QueryStat, ...] = ()
    errors: tuple[AzureReadError, ...] = ()
    requests: int = 0
    truncated: tuple[str, ...] = ()
    """Queries Resource Graph said it truncated (`resultTruncated`: rows left out)."""


async def query_all(
    queries: list[GraphQuery],
    subscriptions: list[str],
    management_groups: list[str],
    endpoint: str,
    settings: Settings | None = None,
    deadline: float | None = None,
) -> GraphResult:
    """Every query over `subscriptions` (batched) or, when given, `management_groups`.

    No subscription and no management group: nothing is in scope, nothing is sent (the caller resolves "every
    subscription" to the listed ones: a query without a scope would be the whole tenant, unannounced). A query
    one of whose batches failed has no rows at all (a part of a fleet is not the fleet) and one error."""
    guard(endpoint, settings)
    scopes = _scopes(subscriptions, management_groups)
    if not scopes or not queries:
        return GraphResult(
            rows={query.name: [] for query in queries}, stats=tuple(QueryStat(x.name, x.text) for x in queries)
        )
    from azure.mgmt.resourcegraph.aio import ResourceGraphClient

    kw = endpoint_kwargs(endpoint, settings, deadline)
    if deadline is not None:  # each page's timeouts as of when it is sent, not as of when the client opened
        kw["per_retry_policies"] = [*kw["per_retry_policies"], retry.timeouts_policy(deadline)]
    cred = credential(settings)
    async with cred, ResourceGraphClient(cred, **kw) as client:
        done = await asyncio.gather(*(_query(client, query, scopes) for query in queries), return_exceptions=True)
    stopped = [d for d in done if isinstance(d, BaseException)]
    if stopped:
        raise stopped[0]
    answers = [d for d in done if isinstance(d, _Answer)]
    return GraphResult(
        rows={a.stat.name: a.rows for a in answers if a.error is None},
        stats=tuple(a.stat for a in answers),
        errors=tuple(a.error for a in answers if a.error is not None),
        requests=sum(a.requests for a in answers),
        truncated=tuple(a.stat.name for a in answers if a.truncated),
    )


@dataclass
class _Answer:
    stat: QueryStat
    rows: list[dict[str, Any]]
    error: AzureReadError | None
    requests: int
    truncated: bool


Scope = dict[str, list[str]]
"""One batch's scope: QueryRequest's `subscriptions` or `management_groups` keyword."""


def _scopes(subscriptions: list[str], management_groups: list[str]) -> list[Scope]:
    if management_groups:
        return [{"management_groups": list(management_groups)}]
    n = q.SUBSCRIPTION_BATCH  # read when called: a test makes the batches small
    subs = list(dict.fromkeys(subscriptions))
    return [{"subscriptions": subs[i : i + n]} for i in range(0, len(subs), n)]


async def _query(client: Any, query: GraphQuery, scopes: list[Scope]) -> _Answer:
    """One query over every batch, concurrently; its rows in batch order."""
    started = time.monotonic()
    reads = Reads()
    done = await asyncio.gather(*(_batch(client, query, scope, reads) for scope in scopes), return_exceptions=True)
    stopped = [d for d in done if isinstance(d, BaseException)]
    if stopped:
        raise stopped[0]  # a 401, a write refused: the command stops (Reads._failed raised it)
    batches = [d for d in done if isinstance(d, _Batch)]
    rows = [row for b in batches for row in b.rows]
    error = _named(query, reads.errors[0]) if reads.errors else None
    stat = QueryStat(
        query.name, query.text, batches=len(scopes), pages=sum(b.pages for b in batches),
        rows=0 if error else len(rows), elapsed_ms=(time.monotonic() - started) * 1000,
        error=error.reason if error else "",
    )  # fmt: skip
    return _Answer(stat, [] if error else rows, error, reads.requests, any(b.truncated for b in batches))


@dataclass
class _Batch:
    rows: list[dict[str, Any]]
    pages: int
    truncated: bool


async def _batch(client: Any, query: GraphQuery, scope: Scope, reads: Reads) -> _Batch:
    """One batch's pages, following `$skipToken` until Resource Graph gives none; a failure goes into `reads`."""
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    out = _Batch([], 0, False)
    token: str | None = None
    seen: set[str] = set()
    while True:
        options = QueryRequestOptions(top=q.PAGE_ROWS, skip_token=token, result_format="objectArray")
        reads.requests += 1
        try:
            response = await client.resources(QueryRequest(query=query.text, options=options, **scope))
            out.rows += _rows(response.data)
        except Exception as e:
            reads._failed(q.GRAPH_PATH, e, ACTION)
            reads.errors[-1] = _detailed(reads.errors[-1], e)
            return out
        out.pages += 1
        out.truncated = out.truncated or str(response.result_truncated or "").lower() == "true"
        token = response.skip_token or None
        if token is None:
            return out
        if token in seen or len(seen) >= MAX_PAGES:
            reads._failed(
                q.GRAPH_PATH, PagingLoop(f"the $skipToken repeats after {out.pages} pages ({token[:200]})"), ACTION
            )
            return out
        seen.add(token)


def _rows(data: Any) -> list[dict[str, Any]]:
    """A page's rows (resultFormat objectArray: a list of objects); anything else is not Resource Graph's answer."""
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ValueError(f"Resource Graph's `data` is not a list of objects: {str(data)[:100]}")
    return data


def _named(query: GraphQuery, found: AzureReadError) -> AzureReadError:
    return replace(found, message=f"Resource Graph query {query.name!r}: {found.message}")


def _detailed(found: AzureReadError, error: Exception) -> AzureReadError:
    """Resource Graph's own reason first (its error's `details`: InvalidQuery, "Query is invalid…"), then the
    generic top-level message ("Please provide below info when asking for support: …")."""
    details = getattr(getattr(error, "error", None), "details", None) or []
    first = details[0] if details else None
    code, message = getattr(first, "code", None), getattr(first, "message", None)
    if not code or not message:
        return found
    return replace(found, code=str(code), message=f"{code}: {str(message)[:400]} ({found.code}: {found.message})")
