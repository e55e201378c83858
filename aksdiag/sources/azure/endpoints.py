"""The API server's private endpoints: the node resource group's, and every endpoint of the cluster's
`privateEndpointConnections` (a jump box's, another spoke's: Learn "use a private endpoint connection"), each read
in its own subscription with its NICs, each once; with API Server VNet Integration, the internal load balancer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aksdiag.armview import is_apiserver_endpoint, joined, parse_id  # noqa: F401  (moved to the pure layer)
from aksdiag.sources.azure.subscriptions import subscription_of

if TYPE_CHECKING:
    from aksdiag.facts import AzureContextNeed
    from aksdiag.sources.azure.reads import Reads
    from aksdiag.sources.azure.subscriptions import Clients

_NS = "Microsoft.Network"


async def connections(reads: Reads, clients: Clients, need: AzureContextNeed) -> list[dict[str, Any]] | None:
    """The cluster's private endpoint connections (bodies); needs only the cluster's name, so it starts at once."""
    aks = clients.get("aks", need.subscription)
    call = aks.private_endpoint_connections.list(need.resource_group, need.cluster)
    found = await reads.get(
        need.cluster_id + "/privateEndpointConnections", call,
        "Microsoft.ContainerService/managedClusters/privateEndpointConnections/read",
    )  # fmt: skip
    return None if found is None else list(found.get("value") or [])


async def in_node_rg(
    reads: Reads, clients: Clients, sub: str, node_rg: str | None, vnet_integration: bool
) -> list[dict[str, Any]]:
    """The node resource group's API server endpoint(s) (bodies); with VNet Integration the `kube-apiserver` ILB."""
    if not node_rg:
        return []
    net = clients.get("net", sub)
    scope = f"/subscriptions/{sub}/resourceGroups/{node_rg}/providers/{_NS}"
    if vnet_integration:
        lb = await reads.get(scope + "/loadBalancers/kube-apiserver",
                             net.load_balancers.get(node_rg, "kube-apiserver"), f"{_NS}/loadBalancers/read")  # fmt: skip
        return [lb] if lb else []
    found = await reads.list_all(scope + "/privateEndpoints", net.private_endpoints.list(node_rg),
                                 f"{_NS}/privateEndpoints/read")  # fmt: skip
    return [e for e in found or [] if is_apiserver_endpoint(e)]


async def of_connections(
    reads: Reads, clients: Clients, conns: list[dict[str, Any]] | None, default_sub: str
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(connection, endpoint body) for each connection whose endpoint could be read (GET in its subscription)."""

    async def one(conn: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        pe_id = str(((conn.get("properties") or {}).get("privateEndpoint") or {}).get("id") or "")
        if not pe_id:
            return None
        p = parse_id(pe_id)
        net = clients.get("net", subscription_of(pe_id, default_sub))
        body = await reads.get(pe_id, net.private_endpoints.get(p.get("resourcegroups", ""),
                                                                p.get("privateendpoints", "")),
                               f"{_NS}/privateEndpoints/read")  # fmt: skip
        return (conn, body) if body else None

    return [x for x in await asyncio.gather(*(one(c) for c in conns or [])) if x]


async def with_nics(
    reads: Reads, clients: Clients, endpoint: dict[str, Any], default_sub: str, connection: dict[str, Any] | None
) -> dict[str, Any]:
    """{"endpoint", "nics"[, "connection"]}: the NICs read concurrently, each in its own subscription."""

    async def nic(ref: dict[str, Any]) -> dict[str, Any] | None:
        nid = str(ref.get("id") or "")
        p = parse_id(nid)
        net = clients.get("net", subscription_of(nid, default_sub))
        return await reads.get(nid, net.network_interfaces.get(p.get("resourcegroups", ""),
                                                               p.get("networkinterfaces", "")),
                               f"{_NS}/networkInterfaces/read")  # fmt: skip

    refs = (endpoint.get("properties") or {}).get("networkInterfaces") or []
    nics = [n for n in await asyncio.gather(*(nic(r) for r in refs if r.get("id"))) if n]
    entry: dict[str, Any] = {"endpoint": endpoint, "nics": nics}
    if connection is not None:
        entry["connection"] = connection
    return entry
