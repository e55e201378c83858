"""Azure's refusals as facts: an HttpResponseError becomes an AzureReadError naming the scope and the action."""

from __future__ import annotations

import re
from typing import Any

from aksdiag.facts import AzureReadError

_ACTION = re.compile(r"perform action '([^']+)' over scope '([^']+)'")


def read_error(scope: str, error: Any, action: str) -> AzureReadError:
    """The scope and action Azure names in an AuthorizationFailed message win over the ones we asked for."""
    message = short(error)
    found = _ACTION.search(message)
    return AzureReadError(
        scope=found.group(2) if found else scope,
        status=int(getattr(error, "status_code", 0) or 0),
        code=getattr(getattr(error, "error", None), "code", None) or type(error).__name__,
        message=message,
        action=found.group(1) if found else action,
    )


def short(error: Any) -> str:
    text = getattr(getattr(error, "error", None), "message", None) or str(error)
    return text.splitlines()[0][:800]
