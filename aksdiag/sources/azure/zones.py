"""Private DNS zones: one zone with its links and A records (read in the zone's own subscription), and the search of
every searched subscription for other zones that could answer the cluster's name.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aksdiag.armview import could_answer, parse_id  # noqa: F401  (could_answer: moved to the pure layer)
from aksdiag.sources.azure.subscriptions import subscription_of

if TYPE_CHECKING:
    from aksdiag.sources.azure.reads import Reads
    from aksdiag.sources.azure.subscriptions import Clients

_ZONES = "Microsoft.Network/privateDnsZones"


async def zone(reads: Reads, clients: Clients, zone_id: str | None, default_sub: str) -> dict[str, Any] | None:
    """{"id", "name", "resource_group", "zone", "links", "records"}: the zone, its links, its A records."""
    if not zone_id:
        return None
    p = parse_id(zone_id)
    rg, name = p.get("resourcegroups", ""), p.get("privatednszones", "")
    dns = clients.get("dns", subscription_of(zone_id, default_sub))
    body, links, records = await asyncio.gather(
        reads.get(zone_id, dns.private_zones.get(rg, name), f"{_ZONES}/read"),
        reads.list_all(zone_id + "/virtualNetworkLinks", dns.virtual_network_links.list(rg, name),
                       f"{_ZONES}/virtualNetworkLinks/read"),
        reads.list_all(zone_id + "/A", dns.record_sets.list_by_type(rg, name, "A"), f"{_ZONES}/A/read"),
    )  # fmt: skip
    return {"id": zone_id, "name": name, "resource_group": rg, "zone": body, "links": links, "records": records}


async def zones_in(reads: Reads, clients: Clients, subscription: str) -> list[dict[str, Any]] | None:
    """Every private zone of the subscription (bodies); None where the list failed."""
    return await reads.list_all(
        f"/subscriptions/{subscription}/providers/{_ZONES}", clients.get("dns", subscription).private_zones.list(),
        f"{_ZONES}/read",
    )  # fmt: skip
