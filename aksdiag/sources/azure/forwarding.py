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
    return await _each_with_children(
        reads, subscription, "dnsResolvers", client.dns_resolvers.list(), "resolver",
        {"inbound": ("inboundEndpoints", client.inbound_endpoints.list),
         "outbound": ("outboundEndpoints", client.outbound_endpoints.list)},
    )  # fmt: skip


async def rulesets_in(reads: Reads, client: Any, subscription: str) -> list[dict[str, Any]] | None:
    """{"ruleset", "rules", "links"} for every forwarding ruleset of the subscription; None where the list failed."""
    return await _each_with_children(
        reads, subscription, "dnsForwardingRulesets", client.dns_forwarding_rulesets.list(), "ruleset",
        {"rules": ("forwardingRules", client.forwarding_rules.list),
         "links": ("virtualNetworkLinks", client.virtual_network_links.list)},
    )  # fmt: skip


async def _each_with_children(
    reads: Reads, subscription: str, kind: str, pager: Any, key: str, children: dict[str, tuple[str, Any]]
) -> list[dict[str, Any]] | None:
    """Every `kind` resource of the subscription as {key: body, child key: [bodies] | None …}: the list, then each
    resource's child collections (`children`: child key → (REST segment, the SDK's list(rg, name))), concurrently."""
    found = await reads.list_all(f"/subscriptions/{subscription}/providers/{_NS}/{kind}", pager, f"{_NS}/{kind}/read")
    if found is None:
        return None

    async def one(body: dict[str, Any]) -> dict[str, Any]:
        rid = str(body.get("id") or "")
        p = parse_id(rid)
        rg, name = p.get("resourcegroups", ""), p.get(kind.lower(), "")
        lists = await asyncio.gather(
            *(reads.list_all(f"{rid}/{segment}", list_of(rg, name), f"{_NS}/{kind}/{segment}/read")
              for segment, list_of in children.values())
        )  # fmt: skip
        return {key: body, **dict(zip(children, lists, strict=True))}

    return list(await asyncio.gather(*(one(b) for b in found)))
