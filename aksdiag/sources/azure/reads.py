"""One read through an SDK client: counted, a failure recorded as a classified fact, a 401 stopping the command.

Every failure is an AzureReadError with its ReadFailure kind (unreachable, TLS, 403, 404, 429, 5xx, garbage…):
only 403 and 404 are findings; the rest tell the probe it could not look. Paging stops at a nextLink seen before.
"""

from __future__ import annotations

from typing import Any

from aksdiag.errors import AksdiagError
from aksdiag.facts import AzureReadError, ReadFailure
from aksdiag.sources.azure.errors import read_error, short

MAX_PAGES = 1000
"""A list longer than this many pages is taken as a paging loop (ARM pages hold 100-1000 items)."""


class PagingLoop(Exception):
    """ARM's nextLink pointed back at a page already read."""


class Reads:
    """The reads of one command: how many were issued, and which failed (the others go on)."""

    def __init__(self) -> None:
        self.errors: list[AzureReadError] = []
        self.requests = 0
        self.names: dict[str, str] = {}
        """Subscription display names by lower-cased id (from the subscription list): errors name them."""

    async def get(self, scope: str, call: Any, action: str) -> dict[str, Any] | None:
        self.requests += 1
        try:
            result = await call
        except Exception as e:
            self._failed(scope, e, action)
            return None
        return body(result) if result is not None else None

    async def list_all(self, scope: str, pager: Any, action: str) -> list[dict[str, Any]] | None:
        self.requests += 1
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        try:
            pages = pager.by_page()
            async for page in pages:
                items += [body(item) async for item in page]
                token = getattr(pages, "continuation_token", None)
                if token is None:
                    continue
                if token in seen or len(seen) >= MAX_PAGES:
                    raise PagingLoop(f"the nextLink repeats after {len(seen) + 1} pages ({str(token)[:200]})")
                seen.add(token)
        except Exception as e:
            self._failed(scope, e, action)
            return None
        return items

    def _failed(self, scope: str, error: Exception, action: str) -> None:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        if isinstance(error, ClientAuthenticationError):
            raise AksdiagError(
                f"Azure refused the credentials ({short(error)})",
                "run `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or AKSDIAG_ARM_TOKEN",
            ) from None
        if isinstance(error, AksdiagError):
            raise error  # a write refused, a host the guard refuses: the command stops, saying why
        if isinstance(error, HttpResponseError) and getattr(error, "status_code", None):
            found = read_error(scope, error, action)
            kind = ReadFailure.of_status(found.status)
            if kind is ReadFailure.THROTTLED and _retry_after(error):
                found = _with(
                    found, message=f"{found.message} (Retry-After {_retry_after(error)} s: past the run's deadline)"
                )
            self.errors.append(_with(found, message=self._naming(found), failure=kind.value))
            return
        kind = classify(error)
        message = f"{type(error).__name__}: {short(error)}"
        self.errors.append(AzureReadError(scope, 0, type(error).__name__, message, action, kind.value))

    def _naming(self, found: AzureReadError) -> str:
        """The message, naming the subscription the refused scope is in when Azure's own words do not."""
        parts = found.scope.split("/")
        sub = parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""
        if not sub or sub.lower() in found.message.lower():
            return found.message
        name = self.names.get(sub.lower())
        return f"{found.message} (subscription {sub}{f' {name}' if name else ''})"


def classify(error: BaseException) -> ReadFailure:
    """A failure without an HTTP status: the connection, TLS, the deadline, or a body that does not parse."""
    import ssl

    from azure.core.exceptions import DecodeError, ServiceRequestError, ServiceResponseError

    chain: list[BaseException] = []
    e: BaseException | None = error
    while e is not None and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__ or getattr(e, "inner_exception", None)
    text = " ".join(str(x) for x in chain)
    if isinstance(error, PagingLoop | DecodeError | ValueError | KeyError | TypeError | AttributeError):
        return ReadFailure.GARBAGE
    if any(isinstance(x, TimeoutError) for x in chain) or "timeout" in text.lower() or "timed out" in text:
        return ReadFailure.TIMEOUT  # before TLS: a read timeout's context may be an SSL want-read
    if any(isinstance(x, ssl.SSLError | ssl.CertificateError) for x in chain) or "[SSL" in text:
        return ReadFailure.TLS
    if isinstance(error, ServiceRequestError | ServiceResponseError | OSError):
        return ReadFailure.UNREACHABLE
    return ReadFailure.GARBAGE


def _retry_after(error: Any) -> str:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    return str(headers.get("Retry-After") or "")


def _with(found: AzureReadError, **changes: Any) -> AzureReadError:
    from dataclasses import replace

    return replace(found, **changes)


def body(model: Any) -> dict[str, Any]:
    """The REST body of an SDK model: newer SDKs' models are their wire dict; older (msrest) ones serialize;
    a read through send_request is its JSON already."""
    if isinstance(model, dict):
        return model
    if hasattr(model, "serialize"):
        serialized: dict[str, Any] = model.serialize(keep_readonly=True)
        return serialized
    return dict(model.as_dict())
