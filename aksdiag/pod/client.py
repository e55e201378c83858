"""The few API server calls `aksdiag pod` makes — nodes, pod create/list/watch/log/delete — over httpx.

Same transport as aksdiag.sources.kube (httpx with the kubeconfig's CA and credentials; the official client's
API half takes about half a second to import). A refusal becomes an ApiError that names the verb and the resource, so the user learns which
permission to ask for instead of reading a stack trace.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from aksdiag.errors import AksdiagError
from aksdiag.sources.kube import _message

RUNNER_ROLE = (
    "a Role in the namespace with create, get, list, watch, delete on pods and get on pods/log (and list on nodes "
    "for --all-nodes): see container/rbac.yaml"
)


class ApiError(AksdiagError):
    """The API server refused a request: `status`, and the verb and resource it was for."""

    def __init__(self, status: int, verb: str, resource: str, namespace: str, server_message: str) -> None:
        self.status, self.verb, self.resource, self.namespace = status, verb, resource, namespace
        self.server_message = server_message
        where = f" in namespace {namespace}" if namespace else ""
        if status == 403 and "error looking up service account" in server_message:
            message = f"cannot {verb} {resource}{where}: the service account aksdiag does not exist there"
            hint = "kubectl apply -f container/rbac.yaml creates it (in namespace aksdiag), or pass --namespace aksdiag"
        elif status == 403:
            message = f"cannot {verb} {resource}{where}: the API server says {server_message!r}"
            hint = f"grant {verb} on {resource}{where} to your user: {RUNNER_ROLE}"
        elif status == 401:
            message = f"the API server refused the credentials (401) to {verb} {resource}"
            hint = "refresh them: az aks get-credentials, or kubelogin"
        elif status == 404 and "namespaces" in server_message:
            message = f"namespace {namespace} does not exist"
            hint = "kubectl apply -f container/rbac.yaml creates namespace aksdiag, or pass --namespace"
        else:
            message = f"cannot {verb} {resource}{where}: HTTP {status}: {server_message}"
            hint = ""
        super().__init__(message, hint)


class KubeApi:
    """One connection pool to the API server for a run; use as `async with KubeApi(config) as api`."""

    def __init__(self, config: Any, timeout: float = 15.0) -> None:
        self.config, self.timeout = config, timeout
        self.client: Any = None

    async def __aenter__(self) -> KubeApi:
        from aksdiag.sources import route
        from aksdiag.sources.kube import _client, cleartext_credentials

        if not self.config.server.startswith("https://"):
            raise AksdiagError(f"the API server {self.config.server!r} ({self.config.source}) is not an https:// URL")
        cleartext = cleartext_credentials(self.config)
        if cleartext:
            raise AksdiagError(cleartext)
        refused = route.refused_url(self.config.server)
        if refused:
            raise AksdiagError(f"the API server {self.config.server}: {refused}")
        self.client = await _client(self.config, self.timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def _call(self, method: str, path: str, verb: str, resource: str, namespace: str = "", **kwargs: Any) -> Any:
        import httpx

        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError as e:
            raise AksdiagError(
                f"cannot reach the API server {self.config.server} to {verb} {resource}: {type(e).__name__}: {e}",
                "is this machine in (or peered with) the cluster's VNet? `aksdiag apiserver` checks the path",
            ) from None
        if response.status_code >= 400:
            raise ApiError(response.status_code, verb, resource, namespace, _message(response))
        return response

    async def node(self, name: str) -> dict[str, Any]:
        return dict((await self._call("GET", f"/api/v1/nodes/{name}", "get", "nodes")).json())

    async def nodes(self) -> list[dict[str, Any]]:
        return list((await self._call("GET", "/api/v1/nodes", "list", "nodes")).json().get("items") or [])

    async def create_pod(self, pod: dict[str, Any]) -> dict[str, Any]:
        ns = pod["metadata"]["namespace"]
        return dict((await self._call("POST", f"/api/v1/namespaces/{ns}/pods", "create", "pods", ns, json=pod)).json())

    async def pods(self, namespace: str, selector: str) -> tuple[list[dict[str, Any]], str]:
        """The pods matching `selector` (all namespaces for ""), and the list's resourceVersion to watch from."""
        path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
        body = (await self._call("GET", path, "list", "pods", namespace, params={"labelSelector": selector})).json()
        return list(body.get("items") or []), str((body.get("metadata") or {}).get("resourceVersion") or "")

    async def watch_pods(
        self, namespace: str, selector: str, resource_version: str, seconds: float
    ) -> AsyncGenerator[dict[str, Any], None]:
        """The watch events ({"type", "object"}) after `resource_version`, until the server ends the stream."""
        import httpx

        params = {"watch": "true", "labelSelector": selector, "resourceVersion": resource_version,
                  "timeoutSeconds": str(max(1, int(seconds))), "allowWatchBookmarks": "true"}  # fmt: skip
        path = f"/api/v1/namespaces/{namespace}/pods"
        try:
            async with self.client.stream("GET", path, params=params, timeout=httpx.Timeout(self.timeout,
                                                                                            read=seconds + 5)) as r:  # fmt: skip
                if r.status_code >= 400:
                    await r.aread()
                    raise ApiError(r.status_code, "watch", "pods", namespace, _message(r))
                async for line in r.aiter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.HTTPError as e:
            raise AksdiagError(f"the watch on pods in namespace {namespace} broke: {type(e).__name__}: {e}") from None

    async def logs(self, namespace: str, name: str, container: str) -> str:
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/log"
        response = await self._call("GET", path, "get", "pods/log", namespace, params={"container": container})
        return str(response.text)

    async def delete_pod(self, namespace: str, name: str) -> bool:
        """Delete now (grace period 0: the pod only diagnoses); False when it was already gone."""
        try:
            await self._call("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}", "delete", "pods", namespace,
                             params={"gracePeriodSeconds": "0"})  # fmt: skip
        except ApiError as e:
            if e.status == 404:
                return False
            raise
        return True
