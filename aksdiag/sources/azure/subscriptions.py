"""One SDK client per (subscription, SDK), opened on first use and closed together; which subscriptions to search.

Every read goes to the subscription named in the resource's id (a landing zone's hub, zone, firewall and resolver
live in the connectivity subscription, the cluster in its workload one): asking the wrong subscription answers
404 for a resource that exists. Reads the SDKs have no operation for (the subscription list, a VM, a user-assigned
identity) go through a client's own pipeline (`send_request`), so the read-only and same-host policies, the retry
policy and the deadline apply to them as to every other read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aksdiag import azfacts_dns
from aksdiag.armview import MAX_SEARCHED, READABLE_STATES, to_search  # noqa: F401  (moved to the pure layer)
from aksdiag.sources.azure import retry
from aksdiag.sources.azure.clients import endpoint_kwargs

if TYPE_CHECKING:
    from types import ModuleType

    from aksdiag.settings import Settings
    from aksdiag.sources.azure.reads import Reads

SUBSCRIPTIONS_API = "2022-12-01"

_SDKS = {
    "aks": ("azure.mgmt.containerservice.aio", "ContainerServiceClient"),
    "net": ("azure.mgmt.network.aio", "NetworkManagementClient"),
    "dns": ("azure.mgmt.privatedns.aio", "PrivateDnsManagementClient"),
    "auth": ("azure.mgmt.authorization.aio", "AuthorizationManagementClient"),
    "resolver": ("azure.mgmt.dnsresolver.aio", "DnsResolverManagementClient"),
}
LATER_SDKS = tuple(m for kind, (m, _) in _SDKS.items() if kind != "aks")
"""Imported in threads while the cluster is read: the network SDK alone takes about half a second to import."""


class Clients:
    """The command's SDK clients, keyed by (SDK, lower-cased subscription); `close` closes every one opened."""

    def __init__(self, cred: Any, endpoint: str, settings: Settings | None, deadline: float | None) -> None:
        self.cred, self.endpoint, self.settings, self.deadline = cred, endpoint, settings, deadline
        self._open: dict[tuple[str, str], Any] = {}
        self._session: Any = None
        self._transport: Any = None

    def get(self, kind: str, subscription: str) -> Any:
        """The `kind` client ("aks", "net", "dns", "auth", "resolver") for `subscription`, opened once."""
        key = (kind, subscription.lower())
        if key not in self._open:
            import importlib

            module_name, class_name = _SDKS[kind]
            module: ModuleType = importlib.import_module(module_name)
            kw = endpoint_kwargs(self.endpoint, self.settings, self.deadline)  # a pipeline's policies are its own
            if self.deadline is not None:
                kw["per_retry_policies"] = [*kw["per_retry_policies"], retry.timeouts_policy(self.deadline)]
            self._open[key] = getattr(module, class_name)(self.cred, subscription, transport=self._shared(kw), **kw)
        return self._open[key]

    def _shared(self, kw: dict[str, Any]) -> Any:
        """One HTTP transport for every client: its connections (TLS handshakes), its TLS context (the CA bundle
        loaded once, not per request) and its DNS cache serve every subscription's reads. The transport takes
        the connection and read timeouts and the CA bundle out of `kw`; the pipelines keep their own policies."""
        timeouts = {k: kw.pop(k) for k in ("connection_timeout", "read_timeout") if k in kw}
        verify = kw.pop("connection_verify", True)
        if self._transport is None:
            import ssl

            import aiohttp
            from azure.core.pipeline.transport import AioHttpTransport

            context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context), cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False, trust_env=True,
            )  # fmt: skip
            self._transport = AioHttpTransport(session=self._session, session_owner=False, **timeouts)
        return self._transport

    def opened(self) -> list[tuple[str, str]]:
        return sorted(self._open)

    async def close(self) -> None:
        import asyncio

        await asyncio.gather(*(c.close() for c in self._open.values()), return_exceptions=True)
        self._open.clear()
        if self._session is not None:
            await self._session.close()
            self._session = self._transport = None


async def rest_get(client: Any, url: str) -> dict[str, Any]:
    """GET `url` (relative to the endpoint, with its api-version) through `client`'s pipeline; an error status
    raises the HttpResponseError every SDK read raises."""
    from azure.core.rest import HttpRequest

    response = await client.send_request(HttpRequest("GET", url))
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    if not isinstance(found, dict):
        raise ValueError(f"not a JSON object: {str(found)[:100]}")
    return found


class RestPager:
    """A list read through send_request, paged by nextLink, shaped as the SDK pagers Reads.list_all consumes."""

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url: str | None = url
        self.continuation_token: str | None = None

    def by_page(self) -> RestPager:
        return self

    def __aiter__(self) -> RestPager:
        return self

    async def __anext__(self) -> Any:
        if self.url is None:
            raise StopAsyncIteration
        page = await rest_get(self.client, self.url)
        values = page.get("value")
        if not isinstance(values, list):
            raise ValueError("a list page without `value`")
        self.url = self.continuation_token = page.get("nextLink") or None
        return _Items(values)


class _Items:
    def __init__(self, values: list[Any]) -> None:
        self._values = iter(values)

    def __aiter__(self) -> _Items:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._values)
        except StopIteration:
            raise StopAsyncIteration from None


async def list_subscriptions(reads: Reads, client: Any) -> list[dict[str, Any]] | None:
    """GET /subscriptions: what the identity can see (None where the list failed; its error is in `reads`)."""
    return await reads.list_all(
        "/subscriptions", RestPager(client, f"/subscriptions?api-version={SUBSCRIPTIONS_API}"),
        "Microsoft.Resources/subscriptions/read",
    )  # fmt: skip


def subscription_of(resource_id: str, default: str) -> str:
    """The subscription in a resource id (lower-cased); `default` for an id that names none (a tenant-level one)."""
    return azfacts_dns.subscription_of(resource_id) or default
