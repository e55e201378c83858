"""Typed network facts: NICs, VNets with their subnets and peerings, and NSGs with their rules. Pure, no I/O.

The network half of `aksdiag.azfacts` (which re-exports these names and builds them in `digest`), kept apart
because the security rules alone are a small vocabulary: `aksdiag.nsg` evaluates them with Azure's semantics.
A key ARM left out becomes the field's empty value, never an exception.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aksdiag.armview import as_int, once, parse_id, props, ref_id, subscription_in

Body = Mapping[str, Any]


# ---------------------------------------------------------------- NICs


@dataclass(frozen=True)
class IpConfig:
    name: str
    private_ip: str = ""
    primary: bool = False
    subnet_id: str = ""

    @classmethod
    def from_arm(cls, body: Body) -> IpConfig:
        p = props(body)
        return cls(str(body.get("name") or ""), str(p.get("privateIPAddress") or ""), bool(p.get("primary")),
                   ref_id(p.get("subnet")))  # fmt: skip


@dataclass(frozen=True)
class Nic:
    id: str
    name: str
    vm_id: str = ""
    """The VM (or VMSS instance) the NIC is attached to."""
    configs: tuple[IpConfig, ...] = ()

    @classmethod
    def from_arm(cls, body: Body) -> Nic:
        p = props(body)
        return cls(ref_id(body), str(body.get("name") or ""), ref_id(p.get("virtualMachine")),
                   tuple(IpConfig.from_arm(c) for c in p.get("ipConfigurations") or []))  # fmt: skip


# ---------------------------------------------------------------- VNets


@dataclass(frozen=True)
class Subnet:
    id: str
    name: str
    prefix: str = ""
    nsg_id: str = ""
    """The network security group on the subnet; "" when none is."""
    delegations: tuple[str, ...] = ()
    """The service names the subnet is delegated to (Microsoft.ContainerService/managedClusters…)."""
    ip_configurations: int = 0
    """How many IP configurations (NICs, load balancer frontends) take an address in it."""
    route_table_id: str = ""
    """The route table on the subnet (user-defined routes); "" when none is."""
    nat_gateway_id: str = ""
    """The NAT gateway on the subnet; "" when none is."""
    default_outbound_access: bool | None = None
    """defaultOutboundAccess: False for a private subnet (no default outbound access); None when ARM leaves it out."""

    @classmethod
    def from_arm(cls, body: Body) -> Subnet:
        p = props(body)
        prefix = p.get("addressPrefix") or (p.get("addressPrefixes") or [""])[0]
        delegations = tuple(str(props(d).get("serviceName") or "") for d in p.get("delegations") or [])
        outbound = p.get("defaultOutboundAccess")
        return cls(ref_id(body), str(body.get("name") or ""), str(prefix or ""), ref_id(p.get("networkSecurityGroup")),
                   delegations, len(p.get("ipConfigurations") or []), ref_id(p.get("routeTable")),
                   ref_id(p.get("natGateway")), outbound if isinstance(outbound, bool) else None)  # fmt: skip


@dataclass(frozen=True)
class Peering:
    id: str
    remote_vnet_id: str = ""
    state: str | None = None

    @classmethod
    def from_arm(cls, body: Body) -> Peering:
        p = props(body)
        return cls(ref_id(body), ref_id(p.get("remoteVirtualNetwork")), p.get("peeringState"))


@dataclass(frozen=True)
class VNet:
    id: str
    name: str
    resource_group: str = ""
    prefixes: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    """dhcpOptions.dnsServers; empty means Azure DNS."""
    subnets: tuple[Subnet, ...] = ()
    peerings: tuple[Peering, ...] = ()

    def holds(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(p, strict=False) for p in self.prefixes)

    def peering_to(self, vnet_id: str) -> Peering | None:
        return self._peerings.get(vnet_id.lower().rstrip("/")) if vnet_id else None

    @functools.cached_property
    def _peerings(self) -> dict[str, Peering]:
        """Its peerings by remote VNet (first of each): a hub peers with hundreds of spokes."""
        found: dict[str, Peering] = {}
        for p in self.peerings:
            if p.remote_vnet_id:
                found.setdefault(p.remote_vnet_id.lower().rstrip("/"), p)
        return found

    @functools.cached_property
    def peer_subscriptions(self) -> frozenset[str]:
        """The subscriptions its peers live in (lower-cased)."""
        return frozenset(s for p in self.peerings if (s := subscription_in(p.remote_vnet_id)))

    @classmethod
    @once
    def from_arm(cls, body: Body) -> VNet:
        p = props(body)
        return cls(
            ref_id(body),
            str(body.get("name") or ""),
            parse_id(ref_id(body)).get("resourcegroups", ""),
            tuple((p.get("addressSpace") or {}).get("addressPrefixes") or []),
            tuple((p.get("dhcpOptions") or {}).get("dnsServers") or []),
            tuple(Subnet.from_arm(s) for s in p.get("subnets") or []),
            tuple(Peering.from_arm(s) for s in p.get("virtualNetworkPeerings") or []),
        )


# ---------------------------------------------------------------- network security groups


def _both(p: Body, key: str) -> tuple[str, ...]:
    """A rule's plural field and its singular one together (`sourceAddressPrefixes` + `sourceAddressPrefix`)."""
    values = [str(v) for v in p.get(f"{key}es" if key.endswith("Prefix") else f"{key}s") or []]
    return (*values, str(p[key])) if p.get(key) else tuple(values)


@dataclass(frozen=True)
class NsgRule:
    """One security rule. Addresses are prefixes or service tags; ports are ranges as written ("443", "80-90",
    "*"); no ports means any."""

    name: str = "?"
    priority: int = 65500
    direction: str = ""
    """Inbound or Outbound; "" (Azure's built-in defaults as written here) applies to both."""
    access: str = "Deny"
    protocol: str = "*"
    sources: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()
    source_ports: tuple[str, ...] = ()
    destination_ports: tuple[str, ...] = ()
    application_groups: bool = False
    """It names application security groups, whose members ARM bodies do not list: it cannot be matched."""

    @property
    def allows(self) -> bool:
        return self.access.lower() == "allow"

    @classmethod
    @once
    def from_arm(cls, body: Body) -> NsgRule:
        """A rule body as ARM nests it (`properties`), or flat."""
        p = body.get("properties") or body
        priority = as_int(p.get("priority"))
        return cls(
            str(body.get("name", "?")),
            65500 if priority is None else priority,
            str(p.get("direction") or ""),
            str(p.get("access") or "Deny"),
            str(p.get("protocol") or "*"),
            _both(p, "sourceAddressPrefix"),
            _both(p, "destinationAddressPrefix"),
            _both(p, "sourcePortRange"),
            _both(p, "destinationPortRange"),
            bool(p.get("sourceApplicationSecurityGroups") or p.get("destinationApplicationSecurityGroups")),
        )


@dataclass(frozen=True)
class Nsg:
    id: str
    name: str = "?"
    rules: tuple[NsgRule, ...] = ()
    default_rules: tuple[NsgRule, ...] = ()
    """defaultSecurityRules as ARM lists them; empty: `aksdiag.nsg` applies Azure's defaults."""

    @classmethod
    def from_arm(cls, body: Body) -> Nsg:
        p = props(body)
        return cls(ref_id(body), str(body.get("name", "?")),
                   tuple(NsgRule.from_arm(r) for r in p.get("securityRules") or []),
                   tuple(NsgRule.from_arm(r) for r in p.get("defaultSecurityRules") or []))  # fmt: skip
