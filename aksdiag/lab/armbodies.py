"""ARM's own bodies and words, for the fake ARM (aksdiag.lab.arm): subscriptions and resource groups as ARM lists
them, the built-in role definitions it serves at every scope, and how it words a refusal (AuthorizationFailed with
the action and scope) and a missing resource (ResourceNotFound)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).parent / "arm_seeds"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
"""The lab's tenant: every subscription body carries it."""
CALLER = ("aksdiag-lab", "00000000-0000-0000-0000-0000000000aa")
"""The client id and object id ARM names in an AuthorizationFailed message."""


def subscription_body(subscription: str, name: str = "") -> dict[str, Any]:
    """A subscription as GET /subscriptions lists it (arm_seeds/subscription.json, the REST example's shape)."""
    body = json.loads((SEEDS / "subscription.json").read_text())
    body["id"], body["subscriptionId"] = f"/subscriptions/{subscription}", subscription
    body["displayName"], body["tenantId"] = name or f"sub-{subscription[:8]}", TENANT
    return body


def builtin_role(rid: str) -> dict[str, Any] | None:
    """A built-in role definition's GET body at `rid` (…/providers/Microsoft.Authorization/roleDefinitions/<guid>),
    with the permissions Azure publishes (arm_seeds/builtin_roles.json); None when `rid` names no built-in role."""
    head, _, guid = rid.rpartition("/")
    if not head.lower().endswith("/providers/microsoft.authorization/roledefinitions"):
        return None
    role = json.loads((SEEDS / "builtin_roles.json").read_text()).get(guid.lower())
    if role is None:
        return None
    body = json.loads((SEEDS / "role_definition.json").read_text())
    body["id"], body["name"] = rid, guid.lower()
    body["properties"].update(roleName=role["roleName"], description=role["description"])
    body["properties"]["permissions"] = [{"actions": role["actions"], "notActions": role["notActions"],
                                          "dataActions": [], "notDataActions": []}]  # fmt: skip
    return body


def resource_group_body(rg_id: str, location: str = "koreacentral") -> dict[str, Any]:
    """A resource group's GET body (the REST API's ResourceGroup shape)."""
    return {"id": rg_id, "name": rg_id.rsplit("/", 1)[-1], "type": "Microsoft.Resources/resourceGroups",
            "location": location, "properties": {"provisioningState": "Succeeded"}}  # fmt: skip


def denied(path: str) -> tuple[str, str, str]:
    """The action, scope and message of ARM's 403 for a GET of `path` by a caller who holds no role for it."""
    action, scope = _read_action(path.rstrip("/").split("/"))
    client, oid = CALLER
    message = (f"The client '{client}' with object id '{oid}' does not have authorization to perform action "
               f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please "
               "refresh your credentials.")  # fmt: skip
    return action, scope, message


def not_found(path: str) -> str:
    """ARM's words for a GET of a resource that does not exist."""
    parts = path.rstrip("/").split("/")
    lower = [p.lower() for p in parts]
    if "providers" in lower and "resourcegroups" in lower:
        at = lower.index("providers")
        kind = "/".join(parts[at + 1 :])
        return (f"The Resource '{kind}' under resource group '{parts[lower.index('resourcegroups') + 1]}' was not "
                "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")  # fmt: skip
    return f"The Resource '{path}' was not found."


def _read_action(parts: list[str]) -> tuple[str, str]:
    """The `…/read` action and the scope ARM names for a GET of `parts` (the path's segments, original case)."""
    lower = [p.lower() for p in parts]
    if "providers" not in lower:
        kind = "subscriptions/resourceGroups" if len(parts) > 3 else "subscriptions"
        scope = "/".join(parts[:5] if len(parts) > 4 else parts[:3])
        return f"Microsoft.Resources/{kind}/read", scope
    at = len(lower) - 1 - lower[::-1].index("providers")
    namespace, rest = parts[at + 1], parts[at + 2 :]
    types = rest[0::2]
    # a resource is read over itself; a list over its parent resource, or the scope the provider sits under
    scope = "/".join(parts if len(rest) % 2 == 0 else parts[:-1] if len(rest) > 1 else parts[:at])
    return f"{namespace}/{'/'.join(types)}/read", scope or "/"


def error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
