"""Typed facts of the cluster's way out (issue 15): route tables, NAT gateways, the node pools' scale sets (the NSGs
on their NICs) and the endpoints the cluster needs (outboundNetworkDependenciesEndpoints). Pure, no I/O; each
`from_arm` is the one reader of its raw keys, a key ARM left out becoming the field's empty value.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aksdiag.armview import as_int, props, ref_id, ref_ids

Body = Mapping[str, Any]


@dataclass(frozen=True)
class Route:
    """One user-defined route: traffic to `prefix` goes to `next_hop_type` (VirtualAppliance with
    `next_hop_ip`, Internet, VnetLocal, VirtualNetworkGateway or None: dropped)."""

    name: str
    prefix: str
    next_hop_type: str
    next_hop_ip: str = ""

    def covers(self, ip: str) -> bool:
        """The route's prefix holds `ip` (a service tag prefix, such as AzureCloud, holds nothing known here)."""
        try:
            return ipaddress.ip_address(ip) in ipaddress.ip_network(self.prefix, strict=False)
        except ValueError:
            return False

    @property
    def length(self) -> int:
        try:
            return ipaddress.ip_network(self.prefix, strict=False).prefixlen
        except ValueError:
            return -1

    @classmethod
    def from_arm(cls, body: Body) -> Route:
        p = props(body) or dict(body)
        return cls(str(body.get("name") or ""), str(p.get("addressPrefix") or ""), str(p.get("nextHopType") or ""),
                   str(p.get("nextHopIpAddress") or ""))  # fmt: skip


@dataclass(frozen=True)
class RouteTable:
    id: str
    name: str
    routes: tuple[Route, ...] = ()
    bgp_propagation_disabled: bool = False
    """disableBgpRoutePropagation: routes learned from a VPN or ExpressRoute gateway are not used on the subnet."""

    def route_for(self, ip: str) -> Route | None:
        """The user-defined route Azure picks for `ip`: the longest prefix that holds it (None: the system routes)."""
        matching = [r for r in self.routes if r.covers(ip)]
        return max(matching, key=lambda r: r.length) if matching else None

    @classmethod
    def from_arm(cls, body: Body) -> RouteTable:
        p = props(body)
        return cls(ref_id(body), str(body.get("name") or ""), tuple(Route.from_arm(r) for r in p.get("routes") or []),
                   bool(p.get("disableBgpRoutePropagation")))  # fmt: skip


@dataclass(frozen=True)
class NatGateway:
    id: str
    name: str
    public_ip_ids: tuple[str, ...] = ()
    public_prefix_ids: tuple[str, ...] = ()
    idle_timeout_minutes: int = 4
    """idleTimeoutInMinutes (4 by default, 4-120)."""
    sku: str = "Standard"

    PORTS_PER_IP = 64_512
    """SNAT ports each public IP gives a NAT gateway (Learn "Azure NAT Gateway SNAT")."""

    @classmethod
    def from_arm(cls, body: Body) -> NatGateway:
        p = props(body)
        return cls(ref_id(body), str(body.get("name") or ""), ref_ids(p.get("publicIpAddresses")),
                   ref_ids(p.get("publicIpPrefixes")), as_int(p.get("idleTimeoutInMinutes")) or 4,
                   str((body.get("sku") or {}).get("name") or "Standard"))  # fmt: skip


@dataclass(frozen=True)
class ScaleSet:
    """A node pool's virtual machine scale set: the subnets and NSGs of its NIC configurations (AKS puts its own NSG
    on the NICs of a BYO-subnet pool: the NIC-level NSG the evaluator joins with the subnet's)."""

    id: str
    name: str
    pool: str = ""
    """The aks-managed-poolName tag: which agent pool it carries."""
    subnet_ids: tuple[str, ...] = ()
    nsg_ids: tuple[str, ...] = ()

    @classmethod
    def from_arm(cls, body: Body) -> ScaleSet:
        p = props(body)
        configs = ((p.get("virtualMachineProfile") or {}).get("networkProfile") or {}).get(
            "networkInterfaceConfigurations"
        ) or []
        subnets = tuple(
            ref_id(props(ip).get("subnet")) for c in configs for ip in props(c).get("ipConfigurations") or []
        )
        nsgs = tuple(ref_id(props(c).get("networkSecurityGroup")) for c in configs)
        tags = body.get("tags") or {}
        return cls(ref_id(body), str(body.get("name") or ""), str(tags.get("aks-managed-poolName") or ""),
                   tuple(s for s in subnets if s), tuple(n for n in nsgs if n))  # fmt: skip


@dataclass(frozen=True)
class OutboundEndpoint:
    """One endpoint the cluster needs (`az aks egress-endpoints list`): its category, name and port."""

    category: str
    domain: str
    port: int = 443
    protocol: str = "Https"
    description: str = ""

    @classmethod
    def from_list(cls, items: tuple[Body, ...] | list[Body]) -> tuple[OutboundEndpoint, ...]:
        """The items of the outboundNetworkDependenciesEndpoints list ({category, endpoints[{domainName,
        endpointDetails[{port, protocol, description}]}]}), one per name and port."""
        out: list[OutboundEndpoint] = []
        for item in items:
            category = str(item.get("category") or "")
            for e in item.get("endpoints") or []:
                details = e.get("endpointDetails") or [{}]
                for d in details:
                    out.append(cls(category, str(e.get("domainName") or ""), as_int(d.get("port")) or 443,
                                   str(d.get("protocol") or "Https"), str(d.get("description") or "")))  # fmt: skip
        return tuple(dict.fromkeys(o for o in out if o.domain))
