"""Kubernetes source: lists what probes ask for from the API server, concurrently, as raw JSON, with paging.

It speaks the API server's REST protocol over httpx, with the kubeconfig (or the pod's service account) read by
aksdiag.sources.kubeconfig, on the official client's loader. Why not the official client for the requests too:
importing it (its API client, pydantic, the dynamic client) takes about half a second, half the budget of a whole
`aksdiag whois` on a 5,000-node cluster. The official client and kubectl remain the independent clients the fake
API server is tested with. Selectors run on the server; a 403 or 404 is a fact; a missing kubeconfig stops the
command (exit 3).
"""

from __future__ import annotations

import asyncio
import ssl
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
    from aksdiag.sources import kubeconfig

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
    """An httpx client speaking to the API server as the kubeconfig's user: its CA and tls-server-name, its
    proxy-url, and its token or client certificate (an exec plugin's answer included). A plugin that gives no
    credential, a proxy off loopback under the guard, or a SOCKS proxy without socksio is an AksdiagError."""
    import httpx

    from aksdiag.errors import AksdiagError
    from aksdiag.sources.kubeconfig import with_credentials
    from aksdiag.sources.net import _refused_proxy, client_tls_context

    if config.exec_command and not (config.token or config.client_cert_pem):
        config, why = await asyncio.to_thread(with_credentials, config)
        if why:
            raise AksdiagError(
                why, "`kubectl get nodes` runs the same plugin; `az aks get-credentials` refreshes the kubeconfig"
            )
    refused = _refused_proxy(config)
    if refused:
        raise AksdiagError(f"the proxy {config.proxy_url}: {refused}")
    try:
        context = client_tls_context(config, verify=not config.insecure)
    except ssl.SSLError as e:
        raise AksdiagError(f"the kubeconfig's client certificate and key do not load: {e}", config.source) from None
    headers = {"Accept": "application/json", "User-Agent": "aksdiag"}
    if config.token:
        headers["Authorization"] = f"Bearer {config.token}"
    try:
        return httpx.AsyncClient(base_url=config.server, verify=context, headers=headers, timeout=timeout,
                                 trust_env=False, proxy=config.proxy_url)  # fmt: skip
    except ImportError as e:  # socks5:// needs the socksio package
        raise AksdiagError(
            f"the kubeconfig's proxy-url {config.proxy_url}: {e}", "pip install 'httpx[socks]'"
        ) from None


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
