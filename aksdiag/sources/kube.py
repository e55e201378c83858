"""Kubernetes source: lists what probes ask for from the API server, concurrently, as raw JSON, with paging.

It speaks the API server's REST protocol over httpx, with the kubeconfig (or the pod's service account) read by
aksdiag.kubeconfig. Why not the official Python client: its current release takes over two seconds to import
(pydantic models for the whole API), more than a whole `aksdiag whois` may take on a 5,000-node cluster. The
official client and kubectl remain the independent clients the fake API server is tested with. Selectors run on
the server; a 403 or 404 is a fact; a missing kubeconfig stops the command (exit 3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from aksdiag.facts import KubeContextNeed, KubeList, KubeListNeed
from aksdiag.sources import route

if TYPE_CHECKING:
    from aksdiag.settings import Settings

PAGE = 2000
"""Items per list request: fewer round trips on big clusters, still bounded memory per response."""
PATHS = {
    "pods": "/api/v1/pods",
    "nodes": "/api/v1/nodes",
    "services": "/api/v1/services",
    "events": "/api/v1/events",
    "nodenetworkconfigs": "/apis/acn.azure.com/v1alpha/nodenetworkconfigs",
}


def config_for(context: KubeContextNeed) -> Any:
    from aksdiag import kubeconfig

    found = kubeconfig.in_cluster() if context.in_cluster else None
    return found or kubeconfig.load(context.kubeconfig, context.context)


async def fetch(needs: list[Hashable], timeout: float = 30.0, settings: Settings | None = None) -> dict[Hashable, Any]:
    """`settings` route the requests (address map, loopback guard: aksdiag.sources.route)."""
    lists = [n for n in needs if isinstance(n, KubeListNeed)]
    for ctx in {n.context for n in lists}:
        refused = route.refused_url(route.url(config_for(ctx).server, settings), settings)
        if refused:
            return {n: KubeList(status=0, error=refused) for n in lists}
    clients = {ctx: await _client(config_for(ctx), timeout) for ctx in {n.context for n in lists}}
    for client in clients.values():
        _route_client(client, settings)
    try:
        results = await asyncio.gather(*(_list(clients[n.context], n) for n in lists))
    finally:
        for c in clients.values():
            await c.aclose()
    return dict(zip(lists, results, strict=True))


def _route_client(client: Any, settings: Settings | None) -> None:
    """Send the client's requests where the address map says, still verifying the server as the kubeconfig names it."""
    shown = client.base_url
    real = route.url(str(shown), settings)
    if real.rstrip("/") == str(shown).rstrip("/"):
        return
    client.base_url = real

    async def sni(request: Any) -> None:
        request.extensions.setdefault("sni_hostname", shown.host)  # a kubeconfig's tls-server-name wins

    client.event_hooks = {**client.event_hooks, "request": [*client.event_hooks.get("request", []), sni]}


async def _client(config: Any, timeout: float) -> Any:
    import httpx

    from aksdiag.kubeconfig import exec_token
    from aksdiag.sources.net import client_tls_context

    context = client_tls_context(config, verify=not config.insecure)
    headers = {"Accept": "application/json", "User-Agent": "aksdiag"}
    token = config.token
    if not token and config.exec_command:
        token, _ = await asyncio.to_thread(exec_token, config)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(base_url=config.server, verify=context, headers=headers, timeout=timeout, trust_env=False)


async def _list(client: Any, need: KubeListNeed) -> KubeList:
    import httpx

    items: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": str(PAGE)}
    if need.field_selector:
        params["fieldSelector"] = need.field_selector
    if need.label_selector:
        params["labelSelector"] = need.label_selector
    try:
        while True:
            response = await client.get(PATHS[need.resource], params=params)
            if response.status_code != 200:
                return KubeList(status=response.status_code, error=_message(response))
            page = response.json()
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return KubeList(tuple(items))
            params["continue"] = token
    except httpx.HTTPError as e:
        return KubeList(status=0, error=f"cannot reach the API server: {type(e).__name__}: {e}")


def _message(response: Any) -> str:
    try:
        return str(response.json().get("message") or response.reason_phrase)
    except ValueError:
        return f"HTTP {response.status_code} {response.reason_phrase}"
