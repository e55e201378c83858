"""The landing zone's DNS plane: one scenario per `lz-*` ARM world (aksdiag.lab.armworld.landing), so the DNS lab
breaks the way the fake ARM says the topology is broken.

The model, and why it is the simplest faithful one:
- Azure DNS (168.63.129.16) answers as the VNet the query comes from sees it, so each VNet that asks gets its own
  view, a server on its own loopback port: `azure` is the spoke's (where the jump box and the nodes are: the
  address aksdiag knows as 168.63.129.16), `azure-hub` the hub's (what the firewall's proxy and vm-dns01 reach),
  `azure-jumpbox` the jump box VNet's. A view answers in Learn's order ("DNS query process"): a private zone
  linked to the VNet that holds the name answers (NXDOMAIN included); else the rules of the rulesets linked to the
  VNet (the longest enabled suffix; a catch-all leaves Azure's reserved domains such as azmk8s.io alone); else
  public DNS. So a view is a zones server in front of a rules server (`<view>-rules`), and BIND serves it the
  same way (primary zones in one named, forward zones in another).
- `resolver` is the Private Resolver's inbound endpoint (10.1.2.4): it resolves as Azure DNS in its VNet, the hub
  (the hub's zones, then the hub's rules).
- `firewall` is Azure Firewall's DNS proxy (10.1.1.4): it forwards every query to its policy's servers, to Azure DNS
  of its own VNet (the hub) when the list is empty, to one of several chosen at random per query, and with the
  proxy off it does not answer at all (nothing listens on 53: silent).
- `custom` is vm-dns01 (10.1.0.4): with its forwarders, privatelink.koreacentral.azmk8s.io and everything else go
  to the hub's Azure DNS; without them it resolves from the root, as a fresh Windows DNS does (public DNS, which
  has no privatelink answer). `onprem` (192.168.10.4) knows only the on-premises names (corp.contoso.com and
  onprem.internal, which no rule names: a catch-all shows there) and recurses to public DNS for the rest.

`expected` lists the error and warning codes the DNS chain must name from a jump box in the spoke with the Azure
context (`aksdiag dns --cluster`): the DNS plane's share of the table in tests/test_enterprise_e2e.py (the ARM
side's codes are the private_dns probe's). What the lab cannot model: a rule's several targets are tried in order (Azure
does not say how it picks); the firewall's random choice is per query, by a seeded generator, not by Azure's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aksdiag.lab.armworld import landing
from aksdiag.lab.scenarios import (
    CLUSTER_FQDN,
    ENDPOINT_IP,
    FORWARD_ZONE,
    PUBLIC,
    Rule,
    Scenario,
    ServerSpec,
    ZoneSpec,
)

SHOWN = {
    "azure": "168.63.129.16",
    "firewall": landing.FIREWALL_IP,
    "resolver": landing.INBOUND_IP,
    "custom": landing.DNS_VM_IP,
    "onprem": landing.ONPREM_DNS_IP,
}
"""Lab role → the address the landing zone knows it by (from the spoke); the address map sends each to its server."""

FIREWALL_SEED = 2
"""random.Random(2) picks vm-dns01 for the first three queries: the chain's UDP and TCP queries both meet the
server without the forwarder, so the lz-proxy-servers world is repeatable."""

ZONE = ZoneSpec(FORWARD_ZONE, a={CLUSTER_FQDN: (ENDPOINT_IP,)})
JUMP_ZONE = ZoneSpec(FORWARD_ZONE, a={CLUSTER_FQDN: (landing.JUMP_ENDPOINT_IP,)})
CORP = ZoneSpec(landing.ONPREM_DOMAIN, a={f"dc01.{landing.ONPREM_DOMAIN}": ("192.168.10.10",)})
ONPREM_ONLY = ZoneSpec("onprem.internal", a={"files.onprem.internal": ("192.168.10.20",)})

CORP_RULE = Rule(f"{landing.ONPREM_DOMAIN}.", ("onprem",))
CATCH_ALL = Rule(".", ("onprem",))
PARENT_RULE = Rule("azmk8s.io.", ("onprem",))
ZONE_TO_ONPREM = Rule(f"{FORWARD_ZONE}.", ("onprem",))
ZONE_TO_INBOUND = Rule(f"{FORWARD_ZONE}.", ("resolver",))


@dataclass(frozen=True)
class Landing:
    """One lz world's DNS plane, as the ARM world lays it out."""

    spoke_dns: str = "firewall"
    """The role the spoke's VNet names as DNS server; "azure": none (Azure DNS)."""
    zone_links: tuple[str, ...] = ("hub",)
    """The VNets (hub, spoke) the zone is linked to."""
    spoke_rules: tuple[Rule, ...] = (CORP_RULE,)
    """The rules of the rulesets linked to the spoke."""
    hub_rules: tuple[Rule, ...] = (CORP_RULE,)
    proxy: str = "azure"
    """The firewall's DNS proxy: azure (servers []), off, or servers (vm-dns01 and the inbound endpoint)."""
    dns_vm_forwards: bool = True
    jumpbox: bool = False


def servers(lz: Landing) -> tuple[ServerSpec, ...]:
    """The servers of a landing zone's DNS plane (see the module's docstring)."""
    hub_zones = (ZONE,) if "hub" in lz.zone_links else ()
    spoke_zones = (ZONE,) if "spoke" in lz.zone_links else ()
    hub = _view("azure-hub", lz.hub_rules, hub_zones)
    out = [
        PUBLIC,
        ServerSpec("onprem", zones=(CORP, ONPREM_ONLY), default_forward="public"),
        *_view("azure", lz.spoke_rules, spoke_zones),
        *hub,
        replace(hub[0], role="resolver"),  # the inbound endpoint: Azure DNS as the hub sees it
    ]
    if lz.dns_vm_forwards:
        out.append(ServerSpec("custom", forwards=((FORWARD_ZONE, "azure-hub"),), default_forward="azure-hub"))
    else:
        out.append(ServerSpec("custom", forwards=((landing.ONPREM_DOMAIN, "onprem"),), default_forward="public"))
    if lz.proxy == "off":
        out.append(ServerSpec("firewall", behaviour="dead"))
    elif lz.proxy == "servers":
        out.append(
            ServerSpec("firewall", behaviour="random-forward", upstreams=("custom", "resolver"), seed=FIREWALL_SEED)
        )
    else:
        out.append(ServerSpec("firewall", default_forward="azure-hub"))
    if lz.jumpbox:
        out += _view("azure-jumpbox", (), (JUMP_ZONE,))
    return tuple(out)


def _view(role: str, rules: tuple[Rule, ...], zones: tuple[ZoneSpec, ...]) -> tuple[ServerSpec, ...]:
    """Azure DNS as one VNet sees it: its linked zones, then its rules, then public DNS."""
    if not rules:
        return (ServerSpec(role, zones=zones, default_forward="public"),)
    return (
        ServerSpec(role, zones=zones, default_forward=f"{role}-rules"),
        ServerSpec(f"{role}-rules", rules=rules, default_forward="public"),
    )


@dataclass(frozen=True)
class LzScenario(Scenario):
    landing: Landing = Landing()


def _lz(name: str, summary: str, expected: set[str], lz: Landing) -> LzScenario:
    return LzScenario(
        name,
        summary,
        CLUSTER_FQDN,
        servers(lz),
        (lz.spoke_dns,),
        frozenset(expected),
        expect=(ENDPOINT_IP,),
        landing=lz,
    )


SPOKE_AZURE = Landing(spoke_dns="azure", zone_links=("hub", "spoke"))
RULES = Landing(spoke_dns="azure", hub_rules=())
"""The rule worlds: the spoke uses Azure DNS, the zone is linked to the hub only, rs-hub to the spoke only (so the
spoke's view has no zone for the name: its rules decide)."""
FIXED = (CORP_RULE, CATCH_ALL, ZONE_TO_INBOUND)
DISABLED = (CORP_RULE, CATCH_ALL, replace(ZONE_TO_INBOUND, enabled=False))
ZONE_LINKED = (CORP_RULE, CATCH_ALL, PARENT_RULE, ZONE_TO_ONPREM)


def _scenarios() -> list[LzScenario]:
    return [
        _lz("lz-healthy", "the spoke asks the hub firewall's DNS proxy, which asks Azure DNS in the hub", set(),
            Landing()),
        _lz("lz-resolver", "the spoke asks the Private Resolver's inbound endpoint in the hub", set(),
            Landing(spoke_dns="resolver")),
        _lz("lz-azure-dns", "the spoke uses Azure DNS and the zone is linked to it too", set(), SPOKE_AZURE),
        _lz("lz-catch-all", "a catch-all rule linked to the spoke, no rule for the zone: the catch-all leaves "
            "azmk8s.io to the spoke's Azure DNS, where the zone is not linked", {"DNS002"},
            replace(RULES, spoke_rules=(CORP_RULE, CATCH_ALL))),
        _lz("lz-parent-rule", "a rule for azmk8s.io linked to the spoke takes the zone's name on premises",
            {"DNS002"}, replace(RULES, spoke_rules=(CORP_RULE, PARENT_RULE))),
        _lz("lz-rule-target", "the zone's own rule linked to the spoke forwards on premises", {"DNS002"},
            replace(RULES, spoke_rules=(CORP_RULE, ZONE_TO_ONPREM))),
        _lz("lz-rule-fixed", "the catch-all, and the zone's rule to the inbound endpoint (the fix)", set(),
            replace(RULES, spoke_rules=FIXED)),
        _lz("lz-rule-disabled", "the zone's rule is Disabled: the catch-all leaves azmk8s.io to the spoke's Azure "
            "DNS, where the zone is not linked", {"DNS002"}, replace(RULES, spoke_rules=DISABLED)),
        _lz("lz-rules-zone-linked", "rules send '.', azmk8s.io and the zone on premises, but the zone linked to "
            "the spoke answers before any rule", set(),
            replace(RULES, zone_links=("hub", "spoke"), spoke_rules=ZONE_LINKED)),
        _lz("lz-inbound-unlinked", "the spoke asks the inbound endpoint; the zone is linked to no VNet",
            {"DNS002"}, Landing(spoke_dns="resolver", zone_links=())),
        _lz("lz-firewall-unlinked", "the spoke asks the firewall's proxy; the zone is not linked to its VNet",
            {"DNS002"}, Landing(zone_links=())),
        _lz("lz-proxy-off", "the spoke's DNS server is the firewall, whose DNS proxy is off: nothing answers",
            {"DNS005"}, Landing(proxy="off")),
        _lz("lz-proxy-servers", "the firewall's proxy picks vm-dns01 (no forwarder) or the inbound endpoint",
            {"DNS001"}, Landing(proxy="servers", dns_vm_forwards=False)),
        _lz("lz-windows-dns", "the spoke asks vm-dns01 (Windows DNS), which has no conditional forwarder",
            {"DNS001"}, Landing(spoke_dns="custom", dns_vm_forwards=False)),
        _lz("lz-linux-dns", "the spoke asks vm-dns01 (Linux: BIND or unbound), which has no forwarder",
            {"DNS001"}, Landing(spoke_dns="custom", dns_vm_forwards=False)),
        _lz("lz-second-endpoint", "lz-healthy, and a jump box VNet with its own endpoint and zone", set(),
            Landing(jumpbox=True)),
    ]  # fmt: skip


LZ_SCENARIOS: dict[str, LzScenario] = {s.name: s for s in _scenarios()}
