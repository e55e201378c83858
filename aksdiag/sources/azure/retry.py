"""The one ARM retry policy: azure-core's, honouring Retry-After and backing off only within the run's deadline.

A 429 whose Retry-After reaches past the deadline is not waited for: the 429 is the answer (a `throttled` read
failure), so one `Retry-After: 3600` costs nothing instead of an hour.
"""

from __future__ import annotations

import time
from typing import Any


def policy(deadline: float, total: int = 3, backoff_max: float = 4) -> Any:
    """An AsyncRetryPolicy bounded by `deadline` (time.monotonic()): no wait outlasts it, and no request starts
    with less than nothing left."""
    from azure.core.pipeline.policies import AsyncRetryPolicy

    class DeadlineRetryPolicy(AsyncRetryPolicy):
        def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
            if not super().is_retry(settings, response):
                return False
            wait = self.get_retry_after(response)
            return (wait if wait is not None else self.get_backoff_time(settings)) < _left(deadline)

        def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
            found: dict[str, Any] = super().configure_retries(options)
            found["timeout"] = max(0.001, _left(deadline))  # azure-core's own absolute timeout, in seconds
            return found

        async def sleep(self, settings: dict[str, Any], transport: Any, response: Any = None) -> None:
            wait = self.get_retry_after(response) if response is not None else None
            wait = self.get_backoff_time(settings) if wait is None else wait
            left = _left(deadline)
            if wait >= left:
                raise TimeoutError(
                    f"no answer before the run's deadline (a retry would wait {wait:g} s, {left:.1f} s left)"
                )
            await transport.sleep(wait)

    return DeadlineRetryPolicy(retry_total=total, retry_backoff_max=backoff_max)


def read_timeouts(deadline: float) -> dict[str, float]:
    """The transport's connect and read timeouts: what is left of the deadline, less a margin, so the SDK ends a
    slow read itself (closing its connection) before the runner's own bound cancels it mid-flight."""
    left = max(0.05, _left(deadline) - MARGIN_S)
    return {"connection_timeout": min(left, 30.0), "read_timeout": left}


def timeouts_policy(deadline: float) -> Any:
    """A per-retry policy giving each attempt read_timeouts(deadline) as of when it is sent: with one transport
    shared by every client (subscriptions.Clients), the timeouts cannot be the transport's, fixed when it opened."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class DeadlineTimeouts(SansIOHTTPPolicy[Any, Any]):
        def on_request(self, request: Any) -> None:
            request.context.options.update(read_timeouts(deadline))

    return DeadlineTimeouts()


MARGIN_S = 0.3
"""Less than the runner's grace past the deadline (runner.GRACE_S)."""


def _left(deadline: float) -> float:
    return deadline - time.monotonic()
