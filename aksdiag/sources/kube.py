"""Kubernetes source: lists what probes ask for from the API server, concurrently, as raw JSON, with paging.

It speaks the API server's REST protocol over httpx, with the kubeconfig (or the pod's service account) read by
aksdiag.sources.kubeconfig, on the official client's loader. Why not the official client for the requests too:
importing it (its API client, pydantic, the dynamic client) takes about half a second, half the budget of a whole
`aksdiag whois` on a 5,000-node cluster. The official client and kubectl remain the independent clients the fake
API server is tested with. A need lists a resource across namespaces or in one (`namespace`), or GETs one object
(`name`: what RBAC's `resourceNames` can grant, never a list). Selectors run on the server; a 403 or 404 is a fact
(the API server's message, which names the object and the missing rule); a missing kubeconfig stops the
command (exit 3). Credentials go only over verified TLS (cleartext_credentials): else the lists are not read, and
say why.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aksdiag.facts import KubeContextNeed, KubeList, KubeListNeed, ReadFailure
from aksdiag.sources import route

if TYPE_CHECKING:
    from aksdiag.settings import Settings

PAGE = 2000
"""Items per list request: fewer round trips on big clusters, still bounded memory per response."""
EXEC_TIMEOUT = 20.0
"""An exec plugin's own bound (kubectl has none); what is left of the run's deadline, when that is less."""
RESOURCES = {
    "pods": ("/api/v1", True),
    "nodes": ("/api/v1", False),
    "services": ("/api/v1", True),
    "events": ("/api/v1", True),
    "configmaps": ("/api/v1", True),
    "endpointslices": ("/apis/discovery.k8s.io/v1", True),
    "nodenetworkconfigs": ("/apis/acn.azure.com/v1alpha", True),
}
"""Resource → (its group-version's path, whether it lives in namespaces)."""
PLUGIN_HINT = "`kubectl get nodes` runs the same plugin; `az aks get-credentials` refreshes the kubeconfig"


def path_of(need: KubeListNeed) -> str:
    """The REST path of the need: `/api/v1/pods`, `/api/v1/namespaces/kube-system/pods`,
    `/api/v1/namespaces/kube-system/configmaps/coredns`. A cluster-scoped resource ignores the namespace, as
    kubectl does; names and namespaces are escaped, so a strange one cannot reach another path."""
    prefix, namespaced = RESOURCES[need.resource]
    scope = f"/namespaces/{quote(need.namespace, safe='')}" if namespaced and need.namespace else ""
    named = f"/{quote(need.name, safe='')}" if need.name else ""
    return f"{prefix}{scope}/{need.resource}{named}"


def config_for(context: KubeContextNeed) -> Any:
    from aksdiag.sources import kubeconfig

    found = kubeconfig.in_cluster() if context.in_cluster else None
    return found or kubeconfig.load(context.kubeconfig, context.context)


def _config_or_why(context: KubeContextNeed) -> tuple[Any, str]:
    """The context's config, or why the pod's implied service account cannot be used (no token mounted): a command
    that needs Kubernetes checks an explicit kubeconfig before it runs (exit 3); a probe that only may use the
    cluster (cluster_dns in a pod) gets the reason as its facts instead."""
    from aksdiag.errors import AksdiagError

    implied = context.in_cluster and not (context.kubeconfig or context.context)
    try:
        return config_for(context), ""
    except AksdiagError as e:
        if not implied:
            raise
        return None, str(e)  # with its hint: what to do


async def fetch(
    needs: list[Hashable], timeout: float = 30.0, settings: Settings | None = None, deadline: float | None = None
) -> dict[Hashable, Any]:
    """`settings` route the requests (address map, loopback guard: aksdiag.sources.route); `deadline`
    (time.monotonic()) bounds the exec plugin and every read (`timeout` when it is not given)."""
    if deadline is not None:
        timeout = max(0.05, deadline - time.monotonic())
    lists = [n for n in needs if isinstance(n, KubeListNeed)]
    configs: dict[KubeContextNeed, Any] = {}
    for ctx in {n.context for n in lists}:
        config, unusable = _config_or_why(ctx)
        if unusable:  # the pod's own service account, implied and not there: the reads fail, the run goes on
            return {n: KubeList(status=0, error=unusable, failure=ReadFailure.NO_CREDENTIALS.value) for n in lists}
        refused = route.refused_url(route.url(config.server, settings), settings) or cleartext_credentials(config)
        if refused:
            return {n: KubeList(status=0, error=refused) for n in lists}
        configs[ctx], why = await _signed_in(config, timeout)
        if why:  # the exec plugin gave no credential: a fact of every read (the signin probe says why), the run goes on
            failed = f"{why} ({PLUGIN_HINT})"
            return {n: KubeList(status=0, error=failed, failure=ReadFailure.NO_CREDENTIALS.value) for n in lists}
    clients = {ctx: await _client(config, timeout) for ctx, config in configs.items()}
    for client in clients.values():
        _route_client(client, settings)
    try:
        results = await asyncio.gather(*(_list(clients[n.context], n) for n in lists))
    finally:
        for c in clients.values():
            await c.aclose()
    return dict(zip(lists, results, strict=True))


async def _signed_in(config: Any, timeout: float) -> tuple[Any, str | None]:
    """The config with its exec plugin's credential in place (the plugin runs once per run's context), or why the
    plugin gave none."""
    if not config.exec_command or config.token or config.client_cert_pem:
        return config, None
    from aksdiag.sources.kubeconfig import with_credentials

    filled, why = await asyncio.to_thread(with_credentials, config, min(EXEC_TIMEOUT, timeout))
    return filled, why


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


def cleartext_credentials(config: Any) -> str | None:
    """Why the kubeconfig's credentials may not be sent to its server, or None: a bearer token or client
    certificate (or the exec plugin that would give one) leaves aksdiag only over TLS verified against the
    cluster's CA, never to an http:// server or one the kubeconfig says not to verify (insecure-skip-tls-verify)."""
    if not (config.token or config.client_cert_pem or config.exec_command):
        return None
    if not str(config.server).lower().startswith("https://"):
        return (
            f"the kubeconfig's credentials are not sent to {config.server}: it is not an https:// server, so the "
            f"token would cross the network in cleartext ({config.source}: use the cluster's https:// address)"
        )
    if config.insecure:
        return (
            f"the kubeconfig's credentials are not sent to {config.server}: it says insecure-skip-tls-verify, so "
            f"anyone in the path could take them ({config.source}: give the cluster's certificate-authority-data)"
        )
    return None


async def _client(config: Any, timeout: float) -> Any:
    """An httpx client speaking to the API server as the kubeconfig's user: its CA and tls-server-name, its
    proxy-url, and its token or client certificate (an exec plugin's answer included). A plugin that gives no
    credential, a proxy off loopback under the guard, or a SOCKS proxy without socksio is an AksdiagError."""
    import httpx

    from aksdiag.errors import AksdiagError
    from aksdiag.sources.kubeconfig import with_credentials
    from aksdiag.sources.net import _refused_proxy, client_tls_context

    cleartext = cleartext_credentials(config)
    if cleartext:
        raise AksdiagError(cleartext)
    if config.exec_command and not (config.token or config.client_cert_pem):
        config, why = await asyncio.to_thread(with_credentials, config, min(EXEC_TIMEOUT, timeout))
        if why:
            raise AksdiagError(why, PLUGIN_HINT)
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
    if need.name:
        return await _get(client, need)
    import httpx

    items: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": str(PAGE)}
    if need.field_selector:
        params["fieldSelector"] = need.field_selector
    if need.label_selector:
        params["labelSelector"] = need.label_selector
    seen: set[str] = set()
    path = path_of(need)
    try:
        while True:
            response = await client.get(path, params=params)
            if response.status_code != 200:
                kind = ReadFailure.of_status(response.status_code)
                return KubeList(status=response.status_code, error=_message(response), failure=kind.value)
            page = response.json()
            if not isinstance(page, dict) or not isinstance(page.get("items") or [], list):
                return _garbage(response.status_code, f"the list is not a Kubernetes list ({type(page).__name__})")
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return KubeList(tuple(items))
            if token in seen:
                return _garbage(200, f"the continue token repeats after {len(seen) + 1} pages: a paging loop")
            seen.add(token)
            params["continue"] = token
    except ValueError as e:  # the body is not JSON
        return _garbage(200, f"the answer is not JSON: {e}")
    except httpx.HTTPError as e:
        return _unanswered(e)


async def _get(client: Any, need: KubeListNeed) -> KubeList:
    """One object by name: a KubeList holding it alone, or the API server's 403/404 (its message names the object,
    and for a 403 the user, verb, resource and namespace the missing rule is about)."""
    import httpx

    try:
        response = await client.get(path_of(need))
        if response.status_code != 200:
            kind = ReadFailure.of_status(response.status_code)
            return KubeList(status=response.status_code, error=_message(response), failure=kind.value)
        obj = response.json()
    except ValueError as e:  # the body is not JSON
        return _garbage(200, f"the answer is not JSON: {e}")
    except httpx.HTTPError as e:
        return _unanswered(e)
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        return _garbage(200, f"the answer is not a Kubernetes object ({type(obj).__name__})")
    return KubeList((obj,))


def _unanswered(e: Exception) -> KubeList:
    kind = classify(e)
    said = str(e) or ("no answer before the run's deadline" if kind is ReadFailure.TIMEOUT else "no detail")
    return KubeList(status=0, error=f"{type(e).__name__}: {said}", failure=kind.value)


def _garbage(status: int, why: str) -> KubeList:
    return KubeList(status=status or 200, error=why, failure=ReadFailure.GARBAGE.value)


def classify(error: Exception) -> ReadFailure:
    """An httpx failure without a response: TLS, a timeout, a refused or closed connection, or a broken answer."""
    import httpx

    chain: list[BaseException] = []
    e: BaseException | None = error
    while e is not None and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__
    if isinstance(error, httpx.TimeoutException):  # before TLS: a read timeout's context is an SSL want-read
        return ReadFailure.TIMEOUT
    if any(isinstance(x, ssl.SSLError | ssl.CertificateError) for x in chain) or "[SSL" in str(error):
        return ReadFailure.TLS
    if isinstance(error, httpx.DecodingError | httpx.TooManyRedirects):
        return ReadFailure.GARBAGE
    return ReadFailure.UNREACHABLE  # refused, reset, closed before an answer, no route


def _message(response: Any) -> str:
    try:
        body = response.json()
        return str((body.get("message") if isinstance(body, dict) else None) or response.reason_phrase)
    except ValueError:
        return f"HTTP {response.status_code} {response.reason_phrase}"
