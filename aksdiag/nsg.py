"""Network security group evaluation with Azure's semantics. Pure: typed NSGs (or their ARM bodies) in, a decision out.

Rules are taken by priority, lowest first, the first match deciding; the default rules (65000 VNet, 65001
AzureLoadBalancer / Internet, 65500 deny all) close every list. Addresses match CIDR prefixes, `*` and the
service tags VirtualNetwork (the address spaces given as the VNet's, peered VNets' included), AzureLoadBalancer
(168.63.129.16) and Internet (anything outside VirtualNetwork). Inbound traffic meets the subnet's NSG first
and then the NIC's; outbound the NIC's first; each present NSG must allow it. A rule naming application
security groups cannot be matched from ARM bodies alone: it is skipped and reported as unknown. The rules are
`aksdiag.azfacts_network.NsgRule`s; a raw body is digested first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aksdiag.azfacts_network import Nsg, NsgRule

AZURE_LOAD_BALANCER = "168.63.129.16"

DEFAULT_INBOUND = [
    {"name": "AllowVnetInBound", "priority": 65000, "access": "Allow", "protocol": "*",
     "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "VirtualNetwork"},
    {"name": "AllowAzureLoadBalancerInBound", "priority": 65001, "access": "Allow", "protocol": "*",
     "sourceAddressPrefix": "AzureLoadBalancer", "destinationAddressPrefix": "*"},
    {"name": "DenyAllInBound", "priority": 65500, "access": "Deny", "protocol": "*",
     "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"},
]  # fmt: skip
DEFAULT_OUTBOUND = [
    {"name": "AllowVnetOutBound", "priority": 65000, "access": "Allow", "protocol": "*",
     "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "VirtualNetwork"},
    {"name": "AllowInternetOutBound", "priority": 65001, "access": "Allow", "protocol": "*",
     "sourceAddressPrefix": "*", "destinationAddressPrefix": "Internet"},
    {"name": "DenyAllOutBound", "priority": 65500, "access": "Deny", "protocol": "*",
     "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"},
]  # fmt: skip


@dataclass(frozen=True)
class Flow:
    direction: str  # Inbound | Outbound
    protocol: str  # Tcp | Udp | Icmp
    source: str  # an IP address
    destination: str
    destination_port: int
    source_port: int = 49152


@dataclass(frozen=True)
class Decision:
    allowed: bool
    nsg: str
    rule: str
    priority: int
    default: bool
    unknown: tuple[str, ...] = field(default=())
    """Rules with application security groups, passed over because their membership is not known."""

    def describe(self) -> str:
        verb = "allows" if self.allowed else "denies"
        kind = "default rule" if self.default else "rule"
        return f"{self.nsg} {verb} it: {kind} {self.rule} (priority {self.priority})"


_DEFAULTS = {
    "Inbound": tuple(NsgRule.from_arm(r) for r in DEFAULT_INBOUND),
    "Outbound": tuple(NsgRule.from_arm(r) for r in DEFAULT_OUTBOUND),
}
NsgLike = Nsg | Mapping[str, Any]
"""A typed NSG, or its ARM body."""


def evaluate(nsg: NsgLike, flow: Flow, vnet_prefixes: list[str]) -> Decision:
    """The decision of one NSG for `flow`."""
    if not isinstance(nsg, Nsg):
        nsg = Nsg.from_arm(nsg)
    defaults = nsg.default_rules or _DEFAULTS["Inbound" if flow.direction == "Inbound" else "Outbound"]
    rules = [(r, False) for r in nsg.rules] + [(r, True) for r in defaults]
    rules.sort(key=lambda item: item[0].priority)
    unknown: list[str] = []
    networks = [ipaddress.ip_network(p, strict=False) for p in vnet_prefixes]
    for rule, is_default in rules:
        if rule.direction and rule.direction.lower() != flow.direction.lower():
            continue
        if rule.application_groups:
            unknown.append(rule.name)
            continue
        if not _protocol(rule.protocol, flow.protocol):
            continue
        if not _addresses(rule.sources, flow.source, networks):
            continue
        if not _addresses(rule.destinations, flow.destination, networks):
            continue
        if not _ports(rule.source_ports, flow.source_port) or not _ports(rule.destination_ports, flow.destination_port):
            continue
        return Decision(rule.allows, nsg.name, rule.name, rule.priority, is_default, tuple(unknown))
    return Decision(False, nsg.name, "(no rule)", 65500, True, tuple(unknown))


def evaluate_path(
    flow: Flow, vnet_prefixes: list[str], subnet_nsg: NsgLike | None, nic_nsg: NsgLike | None = None
) -> list[Decision]:
    """Each present NSG's decision in the order Azure applies them; traffic passes only if all allow."""
    order = [subnet_nsg, nic_nsg] if flow.direction == "Inbound" else [nic_nsg, subnet_nsg]
    decisions = []
    for nsg in order:
        if nsg is None:
            continue
        decision = evaluate(nsg, flow, vnet_prefixes)
        decisions.append(decision)
        if not decision.allowed:
            break
    return decisions


def _protocol(rule_protocol: str, protocol: str) -> bool:
    return rule_protocol in ("*", "Any") or rule_protocol.lower() == protocol.lower()


def _addresses(prefixes: tuple[str, ...], ip: str, networks: list[Any]) -> bool:
    return any(_address_matches(p, ip, networks) for p in prefixes)


def _address_matches(prefix: str, ip: str, networks: list[Any]) -> bool:
    address = ipaddress.ip_address(ip)
    in_vnet = any(address in n for n in networks)
    tag = prefix.strip()
    if tag in ("*", "Any", "0.0.0.0/0"):
        return True
    if tag == "VirtualNetwork":
        return in_vnet
    if tag == "AzureLoadBalancer":
        return ip == AZURE_LOAD_BALANCER
    if tag == "Internet":
        return not in_vnet and ip != AZURE_LOAD_BALANCER
    try:
        return address in ipaddress.ip_network(tag, strict=False)
    except ValueError:
        return False  # another service tag (Storage, AzureCloud…): its addresses are not known here


def _ports(ranges: tuple[str, ...], port: int) -> bool:
    if not ranges:
        return True
    for r in ranges:
        r = str(r).strip()
        if r in ("*", "Any"):
            return True
        low, _, high = r.partition("-")
        if low.isdigit() and int(low) <= port <= int(high or low):
            return True
    return False
