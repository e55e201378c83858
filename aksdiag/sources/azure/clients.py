"""The SDK clients' common parts: the credential, the read-only pipeline policy, the client keywords, the endpoint.

Read-only by construction: every client carries a pipeline policy that refuses any method but GET before the
request leaves the process, save one: a POST to Azure Resource Graph's query path (a query reads; `aksdiag fleet`).
It sits twice: per call, and per retry — behind azure-mgmt-core's auto-registration policy, which answers a 409
MissingSubscriptionRegistration by sending its own POST …/providers/NS/register (refused: the command stops, saying so).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from aksdiag.errors import AksdiagError
from aksdiag.sources import route

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken
    from azure.core.pipeline import PipelineRequest
    from azure.core.pipeline.policies import SansIOHTTPPolicy
    from azure.identity.aio import DefaultAzureCredential

    from aksdiag.settings import Settings

ENV_ENDPOINT = "AKSDIAG_ARM_ENDPOINT"
ENV_TOKEN = "AKSDIAG_ARM_TOKEN"
CLOUDS = {
    "AzureCloud": "https://management.azure.com",
    "AzureChinaCloud": "https://management.chinacloudapi.cn",
    "AzureUSGovernment": "https://management.usgovcloudapi.net",
}


class WriteRefused(AksdiagError):
    """aksdiag is read-only against Azure: a non-GET request is a bug, stopped before it is sent."""


class StaticToken:
    """An AsyncTokenCredential for a bearer token the user already has (az account get-access-token)."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> StaticToken:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


def endpoint_for(cloud: str | None = None) -> str:
    return os.environ.get(ENV_ENDPOINT) or CLOUDS.get(cloud or "AzureCloud", CLOUDS["AzureCloud"])


def read_only_policy() -> SansIOHTTPPolicy[Any, Any]:
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class ReadOnlyPolicy(SansIOHTTPPolicy[Any, Any]):
        def on_request(self, request: PipelineRequest[Any]) -> None:
            method = request.http_request.method.upper()
            if method != "GET" and not is_graph_query(method, str(request.http_request.url)):
                raise WriteRefused(
                    f"refused to send {method} {request.http_request.url}: aksdiag only reads Azure",
                    _register_hint(str(request.http_request.url)),
                )

    return ReadOnlyPolicy()


def _register_hint(url: str) -> str:
    """For the POST …/providers/NS/register that azure-mgmt-core sends on a 409 MissingSubscriptionRegistration:
    what ARM said, and the command that registers the provider (a write aksdiag leaves to the user)."""
    import re

    found = re.search(r"/subscriptions/([^/]+)/providers/([^/?]+)/register(?:\?|$)", url, re.IGNORECASE)
    if not found:
        return ""
    sub, namespace = found.groups()
    return (f"ARM answered 409 MissingSubscriptionRegistration: subscription {sub} has not registered {namespace}; "
            f"az provider register --namespace {namespace} --subscription {sub}")  # fmt: skip


def is_graph_query(method: str, url: str) -> bool:
    """A POST to exactly Resource Graph's query path (`/providers/Microsoft.ResourceGraph/resources`): the one
    non-GET aksdiag sends. Any other path, a sub-path, another method: refused."""
    from urllib.parse import urlsplit

    from aksdiag.fleet.queries import GRAPH_PATH

    return method.upper() == "POST" and urlsplit(url).path.rstrip("/").lower() == GRAPH_PATH.lower()


def credential(settings: Settings | None = None) -> StaticToken | DefaultAzureCredential:
    """settings.arm_token, else AKSDIAG_ARM_TOKEN, else DefaultAzureCredential."""
    token = (settings.arm_token if settings else "") or os.environ.get(ENV_TOKEN)
    if token:
        return StaticToken(token)
    try:
        from azure.identity.aio import DefaultAzureCredential
    except ImportError as e:  # pragma: no cover - a broken install
        raise AksdiagError("azure-identity is not installed", "pip install aksdiag") from e
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def client_kwargs(settings: Settings | None = None, deadline: float | None = None) -> dict[str, Any]:
    """`deadline` (time.monotonic()): the run's; retries, Retry-After and reads stay inside it."""
    kwargs: dict[str, Any] = {
        "per_call_policies": [read_only_policy()],
        # again past azure-mgmt-core's auto-registration policy, which answers a 409 with its own POST …/register
        "per_retry_policies": [read_only_policy()],
        "retry_total": 3,
        "retry_backoff_max": 4,
    }
    if deadline is not None:
        from aksdiag.sources.azure import retry

        kwargs.update(retry_policy=retry.policy(deadline), **retry.read_timeouts(deadline))
    env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    bundle = (settings.ca_bundle if settings else "") or env_bundle
    if bundle:
        kwargs["connection_verify"] = bundle
    return kwargs


def endpoint_kwargs(endpoint: str, settings: Settings | None = None, deadline: float | None = None) -> dict[str, Any]:
    """client_kwargs, aimed at one ARM endpoint (its base URL and its token scope)."""
    kw = client_kwargs(settings, deadline)
    kw.update(base_url=endpoint, credential_scopes=[endpoint.rstrip("/") + "/.default"])
    kw["per_retry_policies"] = [*kw.get("per_retry_policies", []), same_host_policy(endpoint)]
    return kw


class OffHost(Exception):
    """ARM pointed a read at another host (a redirect, a nextLink): not followed, and no token sent there.

    Not an AzureError, so no retry policy tries it again; the read that met it is a failed read (reads.Reads)."""


def same_host_policy(endpoint: str) -> SansIOHTTPPolicy[Any, Any]:
    """Refuses, before the token is added (it sits after the retry policy, before authentication), every request
    that would leave `endpoint`'s scheme, host and port: each hop of a redirect and each nextLink pass through it."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    expected = _origin(endpoint)

    class SameHostPolicy(SansIOHTTPPolicy[Any, Any]):
        def on_request(self, request: PipelineRequest[Any]) -> None:
            url = str(request.http_request.url)
            if _origin(url) != expected:
                raise OffHost(
                    f"refused to follow Azure Resource Manager to {_origin(url) or url[:200]} (a redirect or nextLink "
                    f"away from {expected}): no request and no token were sent there"
                )

    return SameHostPolicy()


def _origin(url: str) -> str:
    """scheme://host:port of a URL, lower-cased with the default port filled in ("" when it does not parse)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower(), 0)
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    return f"{parts.scheme.lower()}://{f'[{host}]' if ':' in host else host}:{port}" if host else ""


def guard(endpoint: str, settings: Settings | None = None) -> None:
    refused = route.refused_url(endpoint, settings)
    if refused:
        raise AksdiagError(f"Azure Resource Manager {refused}", "point AKSDIAG_ARM_ENDPOINT at the lab")
