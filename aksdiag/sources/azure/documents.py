"""ARM GETs the SDKs have no typed operation for (AzureGetNeed): a cluster's outboundNetworkDependenciesEndpoints, an
AKS detector, Azure Monitor metrics. All of a round's are sent at once, each through the pipeline of the
subscription in its path (subscriptions.Clients), so the read-only, same-host and retry policies and the run's
deadline apply to them as to every other read. A failure is the document's `error`; a 401 stops the command.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aksdiag.facts import AzureDocument, AzureGetNeed
from aksdiag.sources.azure.clients import credential, guard
from aksdiag.sources.azure.reads import Reads
from aksdiag.sources.azure.subscriptions import Clients, RestPager, rest_get, subscription_of

if TYPE_CHECKING:
    from aksdiag.settings import Settings


async def fetch(
    needs: list[AzureGetNeed], settings: Settings | None = None, deadline: float | None = None
) -> dict[AzureGetNeed, AzureDocument]:
    by_endpoint: dict[str, list[AzureGetNeed]] = {}
    for need in needs:
        by_endpoint.setdefault(need.endpoint, []).append(need)
    out: dict[AzureGetNeed, AzureDocument] = {}
    for endpoint, group in by_endpoint.items():
        guard(endpoint, settings)
        out.update(await _fetch_at(endpoint, group, settings, deadline))
    return out


async def _fetch_at(
    endpoint: str, needs: list[AzureGetNeed], settings: Settings | None, deadline: float | None
) -> dict[AzureGetNeed, AzureDocument]:
    cred = credential(settings)
    async with cred:
        clients = Clients(cred, endpoint, settings, deadline)
        try:
            found = await asyncio.gather(*(_one(need, clients) for need in needs))
        finally:
            await clients.close()
    return dict(zip(needs, found, strict=True))


async def _one(need: AzureGetNeed, clients: Clients) -> AzureDocument:
    reads = Reads()
    client = clients.get("aks", subscription_of(need.path, "") or "00000000-0000-0000-0000-000000000000")
    action = _action(need.path)
    if need.paged:
        items = await reads.list_all(need.path, RestPager(client, need.url), action)
        if items is None:
            return AzureDocument(error=reads.errors[0] if reads.errors else None, requests=reads.requests)
        return AzureDocument(items=tuple(items), requests=reads.requests)
    body: Any = await reads.get(need.path, rest_get(client, need.url), action)
    if body is None:
        return AzureDocument(error=reads.errors[0] if reads.errors else None, requests=reads.requests)
    return AzureDocument(body=body, requests=reads.requests)


def _action(path: str) -> str:
    """The RBAC action a GET of `path` needs, as ARM names it in a 403 (`…/detectors/read`)."""
    parts = [p for p in path.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return "Microsoft.Resources/subscriptions/read"
    i = len(lowered) - 1 - lowered[::-1].index("providers")
    namespace, rest = parts[i + 1] if i + 1 < len(parts) else "", parts[i + 2 :]
    types = [rest[k] for k in range(0, len(rest), 2)]
    return "/".join([namespace, *types, "read"])
