"""DNS Private Resolvers and forwarding rulesets of one subscription, each with its endpoints, rules and links.

GET lists only: `dnsResolvers` and `dnsForwardingRulesets` by subscription, then each one's inbound/outbound
endpoints, forwarding rules and virtual network links. Never `list_by_virtual_network`
(`virtualNetworks/listDnsForwardingRulesets`): it is a POST that Reader does not grant, and the read-only policy
would refuse it, stopping the command.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aksdiag.armview import parse_id

if TYPE_CHECKING:
    from aksdiag.sources.azure.reads import Reads

_NS = "Microsoft.Network"


async def resolvers_in(reads: Reads, client: Any, subscription: str) -> list[dict[str, Any]] | None:
    """{"resolver", "inbound", "outbound"} for every resolver of the subscription; None where the list failed."""
    found = await reads.list_all(
        f"/subscriptions/{subscription}/providers/{_NS}/dnsResolvers", client.dns_resolvers.list(),
        f"{_NS}/dnsResolvers/read",
    )  # fmt: skip
    if found is None:
        return None

    async def one(resolver: dict[str, Any]) -> dict[str, Any]:
        rid = str(resolver.get("id") or "")
        p = parse_id(rid)
        rg, name = p.get("resourcegroups", ""), p.get("dnsresolvers", "")
        inbound, outbound = await asyncio.gather(
            reads.list_all(rid + "/inboundEndpoints", client.inbound_endpoints.list(rg, name),
                           f"{_NS}/dnsResolvers/inboundEndpoints/read"),
            reads.list_all(rid + "/outboundEndpoints", client.outbound_endpoints.list(rg, name),
                           f"{_NS}/dnsResolvers/outboundEndpoints/read"),
        )  # fmt: skip
        return {"resolver": resolver, "inbound": inbound, "outbound": outbound}

    return list(await asyncio.gather(*(one(r) for r in found)))


async def rulesets_in(reads: Reads, client: Any, subscription: str) -> list[dict[str, Any]] | None:
    """{"ruleset", "rules", "links"} for every forwarding ruleset of the subscription; None where the list failed."""
    found = await reads.list_all(
        f"/subscriptions/{subscription}/providers/{_NS}/dnsForwardingRulesets", client.dns_forwarding_rulesets.list(),
        f"{_NS}/dnsForwardingRulesets/read",
    )  # fmt: skip
    if found is None:
        return None

    async def one(ruleset: dict[str, Any]) -> dict[str, Any]:
        rid = str(ruleset.get("id") or "")
        p = parse_id(rid)
        rg, name = p.get("resourcegroups", ""), p.get("dnsforwardingrulesets", "")
        rules, links = await asyncio.gather(
            reads.list_all(rid + "/forwardingRules", client.forwarding_rules.list(rg, name),
                           f"{_NS}/dnsForwardingRulesets/forwardingRules/read"),
            reads.list_all(rid + "/virtualNetworkLinks", client.virtual_network_links.list(rg, name),
                           f"{_NS}/dnsForwardingRulesets/virtualNetworkLinks/read"),
        )  # fmt: skip
        return {"ruleset": ruleset, "rules": rules, "links": links}

    return list(await asyncio.gather(*(one(r) for r in found)))
