"""The cluster identity's roles: its user-assigned identities, its role assignments on each scope (listed with the
scope's subscription's client, a BYO zone in the connectivity subscription too), and each assignment's role
definition (its permissions decide, not its name).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aksdiag.sources.azure.subscriptions import rest_get, subscription_of

if TYPE_CHECKING:
    from aksdiag.sources.azure.reads import Reads
    from aksdiag.sources.azure.subscriptions import Clients

IDENTITY_API = "2023-01-31"


async def identities(reads: Reads, clients: Clients, cluster: dict[str, Any], default_sub: str) -> dict[str, Any]:
    """The cluster's user-assigned identities (Microsoft.ManagedIdentity bodies) by lower-cased id."""
    ids = list((cluster.get("identity") or {}).get("userAssignedIdentities") or {})

    async def one(iid: str) -> tuple[str, dict[str, Any] | None]:
        net = clients.get("net", subscription_of(iid, default_sub))
        found = await reads.get(iid, rest_get(net, f"{iid}?api-version={IDENTITY_API}"),
                                "Microsoft.ManagedIdentity/userAssignedIdentities/read")  # fmt: skip
        return iid.lower(), found

    return {k: v for k, v in await asyncio.gather(*(one(i) for i in ids)) if v is not None}


def principal(cluster: dict[str, Any], found: dict[str, Any] | None = None) -> str | None:
    """The object id AKS acts as: the system-assigned identity, or the single user-assigned one (its principal id
    from the cluster's body, else from the identity resource in `found`)."""
    identity = cluster.get("identity") or {}
    if identity.get("principalId"):
        return str(identity["principalId"])
    assigned = identity.get("userAssignedIdentities") or {}
    if len(assigned) != 1:
        return None
    ((iid, ref),) = assigned.items()
    if (ref or {}).get("principalId"):
        return str(ref["principalId"])
    body = (found or {}).get(iid.lower()) or {}
    return str((body.get("properties") or {}).get("principalId") or "") or None


async def assignments(
    reads: Reads, clients: Clients, who: str | None, scopes: list[str], default_sub: str
) -> dict[str, list[dict[str, Any]] | None]:
    """The identity's role assignments (inherited ones too) at each scope."""
    if not who or not scopes:
        return {}

    async def one(scope: str) -> tuple[str, list[dict[str, Any]] | None]:
        auth = clients.get("auth", subscription_of(scope, default_sub))
        pager = auth.role_assignments.list_for_scope(scope, filter=f"assignedTo('{who}')")
        return scope, await reads.list_all(scope, pager, "Microsoft.Authorization/roleAssignments/read")

    return dict(await asyncio.gather(*(one(s) for s in scopes)))


async def definitions(
    reads: Reads, clients: Clients, found: dict[str, list[dict[str, Any]] | None], default_sub: str
) -> dict[str, dict[str, Any]]:
    """The role definition of every assignment, by lower-cased GUID, each read once."""
    ids: dict[str, str] = {}
    for listed in found.values():
        for a in listed or []:
            rid = str((a.get("properties") or {}).get("roleDefinitionId") or "")
            if rid:
                ids.setdefault(rid.rsplit("/", 1)[-1].lower(), rid)

    async def one(guid: str, rid: str) -> tuple[str, dict[str, Any] | None]:
        auth = clients.get("auth", subscription_of(rid, default_sub))
        at = rid.lower().rfind("/providers/microsoft.authorization/roledefinitions/")
        scope = rid[:at] if at > 0 else f"/subscriptions/{default_sub}"  # a tenant-level id: any scope reads it
        call = auth.role_definitions.get(scope, guid)
        return guid, await reads.get(rid, call, "Microsoft.Authorization/roleDefinitions/read")

    return {k: v for k, v in await asyncio.gather(*(one(g, r) for g, r in ids.items())) if v is not None}
