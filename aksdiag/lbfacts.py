"""Typed facts for the node resource group's load balancers and public IPs, digested from their ARM bodies.

Frontends, load-balancing rules, health probes, backend pools and outbound rules as `aksdiag lb` and
`aksdiag whois` read them; `aksdiag.azfacts.digest` builds them with the rest of an AzureContext. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aksdiag.armview import as_int, props, ref_id, ref_ids, same_id

Body = Mapping[str, Any]


@dataclass(frozen=True)
class PublicIp:
    id: str
    name: str
    address: str

    @classmethod
    def from_arm(cls, body: Body) -> PublicIp:
        return cls(ref_id(body), str(body.get("name") or ""), str(props(body).get("ipAddress") or ""))


@dataclass(frozen=True)
class Frontend:
    """A load balancer frontend IP configuration: a private address, or a public IP (by id)."""

    id: str
    name: str
    private_ip: str = ""
    public_ip_id: str = ""
    subnet_id: str = ""

    @property
    def public(self) -> bool:
        return bool(self.public_ip_id)

    @classmethod
    def from_arm(cls, body: Body) -> Frontend:
        p = props(body)
        return cls(ref_id(body), str(body.get("name") or ""), str(p.get("privateIPAddress") or ""),
                   ref_id(p.get("publicIPAddress")), ref_id(p.get("subnet")))  # fmt: skip


@dataclass(frozen=True)
class LbRule:
    id: str
    name: str
    protocol: str = ""
    frontend_port: int | None = None
    backend_port: int | None = None
    frontend_id: str = ""
    probe_id: str = ""
    backend_pool_id: str = ""

    @classmethod
    def from_arm(cls, body: Body) -> LbRule:
        p = props(body)
        return cls(ref_id(body), str(body.get("name") or ""), str(p.get("protocol") or ""), as_int(p.get("frontendPort")),
                   as_int(p.get("backendPort")), ref_id(p.get("frontendIPConfiguration")), ref_id(p.get("probe")),
                   ref_id(p.get("backendAddressPool")))  # fmt: skip


@dataclass(frozen=True)
class HealthProbe:
    id: str
    name: str
    protocol: str = ""
    port: int | None = None
    request_path: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The probe's properties as ARM returned them: evidence only (a finding shows the probe as Azure has it)."""

    @classmethod
    def from_arm(cls, body: Body) -> HealthProbe:
        p = props(body)
        return cls(ref_id(body), str(body.get("name") or ""), str(p.get("protocol") or ""), as_int(p.get("port")),
                   str(p.get("requestPath") or ""), p)  # fmt: skip


@dataclass(frozen=True)
class BackendPool:
    id: str
    name: str
    members: int = 0
    """Its NIC IP configurations (VMSS nodes), or else its addresses (IP-based pools)."""

    @classmethod
    def from_arm(cls, body: Body) -> BackendPool:
        p = props(body)
        members = len(p.get("backendIPConfigurations") or []) or len(p.get("loadBalancerBackendAddresses") or [])
        return cls(ref_id(body), str(body.get("name") or ""), members)


@dataclass(frozen=True)
class OutboundRule:
    id: str
    name: str
    frontend_ids: tuple[str, ...] = ()
    backend_pool_id: str = ""
    allocated_ports: int = 0
    """allocatedOutboundPorts per instance; 0 is Azure's default by pool size."""
    idle_timeout: int | None = None
    tcp_reset: bool | None = None

    @classmethod
    def from_arm(cls, body: Body) -> OutboundRule:
        p = props(body)
        reset = p.get("enableTcpReset")
        return cls(ref_id(body), str(body.get("name") or ""), ref_ids(p.get("frontendIPConfigurations")),
                   ref_id(p.get("backendAddressPool")), as_int(p.get("allocatedOutboundPorts")) or 0,
                   as_int(p.get("idleTimeoutInMinutes")), reset if isinstance(reset, bool) else None)  # fmt: skip


@dataclass(frozen=True)
class LoadBalancer:
    id: str
    name: str
    sku: str | None = None
    frontends: tuple[Frontend, ...] = ()
    rules: tuple[LbRule, ...] = ()
    probes: tuple[HealthProbe, ...] = ()
    pools: tuple[BackendPool, ...] = ()
    outbound_rules: tuple[OutboundRule, ...] = ()

    def pool_size(self, pool_id: str) -> int:
        """Members of the pool with this id (0 when it is not on this load balancer)."""
        return next((p.members for p in self.pools if same_id(p.id, pool_id)), 0)

    def probe(self, probe_id: str) -> HealthProbe | None:
        return next((p for p in self.probes if same_id(p.id, probe_id)), None)

    @classmethod
    def from_arm(cls, body: Body) -> LoadBalancer:
        p = props(body)
        return cls(
            ref_id(body),
            str(body.get("name") or ""),
            (body.get("sku") or {}).get("name"),
            tuple(Frontend.from_arm(b) for b in p.get("frontendIPConfigurations") or []),
            tuple(LbRule.from_arm(b) for b in p.get("loadBalancingRules") or []),
            tuple(HealthProbe.from_arm(b) for b in p.get("probes") or []),
            tuple(BackendPool.from_arm(b) for b in p.get("backendAddressPools") or []),
            tuple(OutboundRule.from_arm(b) for b in p.get("outboundRules") or []),
        )
