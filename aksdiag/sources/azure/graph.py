"""Azure Resource Graph (FIELD.md E13): the fleet's queries through azure-mgmt-resourcegraph's aio client, on the
same pipeline every ARM read has (read-only policy: the one POST allowed is to queries.GRAPH_PATH; same-host;
retry within the run's deadline). Each query is sent per batch of at most SUBSCRIPTION_BATCH subscriptions (or for
the management groups), paged by `$skipToken` with `$top` PAGE_ROWS; the batches and queries run concurrently.
A failed query is a GraphResult error (an AzureReadError: 400 for a query Resource Graph refuses, 403, 429…), not
an exception; a 401 stops the command (exit 3) as every read does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aksdiag.facts import AzureReadError
from aksdiag.fleet.model import QueryStat

if TYPE_CHECKING:
    from aksdiag.fleet.queries import GraphQuery
    from aksdiag.settings import Settings


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
    """Every query over `subscriptions` (batched) or, when given, `management_groups`."""
    raise NotImplementedError
