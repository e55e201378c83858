"""Private DNS zones: one zone with its links and A records (read in the zone's own subscription), and the search of
every searched subscription for other zones that could answer the cluster's name.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aksdiag.armview import parse_id
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


def could_answer(found: list[dict[str, Any]], fqdn: str, cluster_zone: str | None) -> list[str]:
    """The ids of the zones that could answer `fqdn`: named as a suffix of it, or named as the cluster's zone (a
    jump box's own zone of the same name), other than the cluster's zone itself."""
    fqdn = fqdn.lower().rstrip(".")
    own = (cluster_zone or "").lower()
    own_name = own.rsplit("/", 1)[-1] if own else ""
    out = []
    for z in found:
        name, zid = str(z.get("name") or "").lower(), str(z.get("id") or "")
        if not name or zid.lower() == own:
            continue
        if fqdn == name or fqdn.endswith("." + name) or (own_name and name == own_name):
            out.append(zid)
    return list(dict.fromkeys(out))
