"""One read through an SDK client: counted, a 403 or 404 recorded as a fact, a 401 stopping the command (exit 3)."""

from __future__ import annotations

from typing import Any

from aksdiag.errors import AksdiagError
from aksdiag.facts import AzureReadError
from aksdiag.sources.azure.errors import read_error, short


class Reads:
    """The reads of one command: how many were issued, and which Azure refused (the others go on)."""

    def __init__(self) -> None:
        self.errors: list[AzureReadError] = []
        self.requests = 0

    async def get(self, scope: str, call: Any, action: str) -> dict[str, Any] | None:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        self.requests += 1
        try:
            result = await call
        except ClientAuthenticationError as e:
            raise AksdiagError(
                f"Azure refused the credentials ({short(e)})",
                "run `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or AKSDIAG_ARM_TOKEN",
            ) from None
        except HttpResponseError as e:
            self.errors.append(read_error(scope, e, action))
            return None
        return body(result) if result is not None else None

    async def list_all(self, scope: str, pager: Any, action: str) -> list[dict[str, Any]] | None:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        self.requests += 1
        try:
            return [body(item) async for item in pager]
        except ClientAuthenticationError as e:
            raise AksdiagError(f"Azure refused the credentials ({short(e)})", "run `az login`") from None
        except HttpResponseError as e:
            self.errors.append(read_error(scope, e, action))
            return None


def body(model: Any) -> dict[str, Any]:
    """The REST body of an SDK model: newer SDKs' models are their wire dict; older (msrest) ones serialize."""
    if hasattr(model, "serialize"):
        serialized: dict[str, Any] = model.serialize(keep_readonly=True)
        return serialized
    return dict(model.as_dict())
