"""Azure Resource Graph (FIELD.md E13): the fleet's queries through azure-mgmt-resourcegraph's aio client, on the
same pipeline every ARM read has (read-only policy: the one POST allowed is to queries.GRAPH_PATH; same-host;
retry within the run's deadline). Each query is sent per batch of at most SUBSCRIPTION_BATCH subscriptions (or for
the management groups), paged by `$skipToken` with `$top` PAGE_ROWS; the batches and queries run concurrently.
A failed query is a GraphResult error (an AzureReadError: 400 for a query Resource Graph refuses, 403, 429…), not
an exception; a 401 stops the command (exit 3) as every read does. Pages are kept as the JSON they came as (the
SDK's models would cost seconds of CPU for a tenant's rows: `_page`).
"""

from __future__ import annotations

import asyncio
import math
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
    kw["per_retry_policies"] = [*kw["per_retry_policies"], quota_policy()]
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


QUOTA_RESETS = "x-ms-user-quota-resets-after"
"""Resource Graph's throttling header (hh:mm:ss until the caller's quota, 15 queries per 5 s by default, resets)."""


def quota_policy() -> Any:
    """A 429 from Resource Graph says when to come back in `x-ms-user-quota-resets-after`, which azure-core's retry
    does not read: copied into Retry-After (when that is absent), so the deadline-bounded retry waits exactly that
    long — or, when that is past the deadline, the 429 is the answer at once."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class QuotaPolicy(SansIOHTTPPolicy[Any, Any]):
        def on_response(self, request: Any, response: Any) -> None:
            http = response.http_response
            if http.status_code != 429 or "retry-after" in http.headers:
                return
            wait = _seconds(str(http.headers.get(QUOTA_RESETS) or ""))
            if wait is not None:
                http.headers["Retry-After"] = str(max(1, math.ceil(wait)))

    return QuotaPolicy()


def _seconds(text: str) -> float | None:
    """`hh:mm:ss` (the seconds may have a fraction) in seconds; None for anything else."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        return None
    try:
        h, m, sec = (float(p) for p in parts)
    except ValueError:
        return None
    return h * 3600 + m * 60 + sec


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
    subs = list(dict.fromkeys(s.lower() for s in subscriptions if s))
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
    out = _Batch([], 0, False)
    token: str | None = None
    seen: set[str] = set()
    while True:
        reads.requests += 1
        try:
            page = await _page(client, query, scope, token)
            out.rows += _rows(page.get("data"))
        except Exception as e:
            reads._failed(q.GRAPH_PATH, e, ACTION)
            reads.errors[-1] = _detailed(reads.errors[-1], e)
            return out
        out.pages += 1
        out.truncated = out.truncated or str(page.get("resultTruncated") or "").lower() == "true"
        token = page.get("$skipToken") or None
        if token is None:
            return out
        if token in seen or len(seen) >= MAX_PAGES:
            loop = PagingLoop(f"the $skipToken repeats after {out.pages} pages ({str(token)[:200]})")
            reads._failed(q.GRAPH_PATH, loop, ACTION)
            return out
        seen.add(token)


async def _page(client: Any, query: GraphQuery, scope: Scope, token: str | None) -> dict[str, Any]:
    """One page as Resource Graph's JSON: the SDK's `resources` operation, less its model deserialization.

    The request body is the SDK's own QueryRequest, sent through the client's pipeline (its policies: read-only,
    same-host, retry, the credential) with the SDK's error mapping; the answer's rows are kept as the JSON they
    came as. The SDK would walk every value of every row into a model (`data` is typed `object`): for a tenant's
    10,000 rows that is seconds of CPU, to give back the same dicts."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, map_error
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    options = QueryRequestOptions(top=q.PAGE_ROWS, skip_token=token, result_format="objectArray")
    asked = QueryRequest(
        query=query.text, options=options,
        subscriptions=scope.get("subscriptions"), management_groups=scope.get("management_groups"),
    )  # fmt: skip
    body = asked.serialize()
    request = HttpRequest("POST", f"{q.GRAPH_PATH}?api-version={q.GRAPH_API}", json=body)
    response = await client._send_request(request, stream=True)  # not decoded in the pipeline, then again here
    await response.read()
    if response.status_code != 200:
        map_error(status_code=response.status_code, response=response, error_map={401: ClientAuthenticationError})
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    found = _decode(response.content)
    if not isinstance(found, dict):
        raise ValueError(f"Resource Graph's answer is not a JSON object: {str(found)[:100]}")
    return found


def _decode(raw: bytes) -> Any:
    """json.loads with the cyclic garbage collector paused: a page of 1,000 rows is some 100,000 new dicts and
    lists, and each full collection they set off walks the whole heap (in `aksdiag fleet`, the index and the
    reports): measured, five times the decode itself. Nothing awaits in between, so no other task runs meanwhile."""
    import gc
    import json

    paused = gc.isenabled()
    gc.disable()
    try:
        return json.loads(raw)
    finally:
        if paused:
            gc.enable()


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
