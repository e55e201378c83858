"""Typed Azure facts: the ARM objects the probes read, digested once from their REST bodies. Pure, no I/O.

`AzureContext` keeps the raw bodies (snapshots save those); `digest(ctx)` turns them into frozen dataclasses,
and each `from_arm` is the one place that knows a raw key. Probes call `digest` once and read attributes, as
prowler's services flatten SDK objects for its checks. A key ARM left out becomes the field's empty value
("", 0, None or ()), never an exception. NICs, VNets and NSGs live in `aksdiag.azfacts_network` (re-exported here).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aksdiag.armview import as_int, once, props, ref_id, same_id, vnet_of_subnet
from aksdiag.azfacts_dns import Firewall, ForwardingRule, Identity, Resolver, RoleDefinition, Ruleset, ServerHost
from aksdiag.azfacts_egress import NatGateway, OutboundEndpoint, Route, RouteTable, ScaleSet
from aksdiag.azfacts_network import IpConfig, Nic, Nsg, NsgRule, Peering, Subnet, VNet
from aksdiag.facts import AzureContext, AzureContextNeed, AzureReadError
from aksdiag.lbfacts import Frontend, LoadBalancer, PublicIp

__all__ = [
    "ApiEndpoint", "AzureFacts", "Cluster", "Firewall", "ForwardingRule", "Identity", "IpConfig", "Link", "NatGateway", "Nic",
    "NodePool", "Nsg", "NsgRule", "OutboundEndpoint", "Peering", "RecordSet", "Resolver", "RoleDefinition", "Route",
    "RouteTable", "Ruleset", "ScaleSet", "ServerHost", "Subnet", "VNet", "Zone", "digest",
]  # fmt: skip

Body = Mapping[str, Any]


# ---------------------------------------------------------------- the API server's endpoint


@dataclass(frozen=True)
class ApiEndpoint:
    """Where the API server's private address lives: its private endpoint (with its NICs), or with API Server
    VNet Integration its internal load balancer (with its frontends)."""

    id: str
    name: str
    frontends: tuple[Frontend, ...] = ()
    nics: tuple[Nic, ...] = ()

    @property
    def ips(self) -> tuple[str, ...]:
        """Its private IPs: the load balancer's frontends, then the NICs' IP configurations."""
        return tuple(f.private_ip for f in self.frontends if f.private_ip) + tuple(
            c.private_ip for n in self.nics for c in n.configs if c.private_ip
        )

    @property
    def subnet_ids(self) -> tuple[str, ...]:
        return tuple(c.subnet_id for n in self.nics for c in n.configs if c.subnet_id) + tuple(
            f.subnet_id for f in self.frontends if f.subnet_id
        )

    @classmethod
    def from_arm(cls, entry: Body) -> ApiEndpoint:
        """`entry` is the source's {"endpoint": body, "nics": [bodies]}."""
        body = entry.get("endpoint") or {}
        return cls(ref_id(body), str(body.get("name") or "?"),
                   tuple(Frontend.from_arm(f) for f in props(body).get("frontendIPConfigurations") or []),
                   tuple(Nic.from_arm(n) for n in entry.get("nics") or []))  # fmt: skip


# ---------------------------------------------------------------- private DNS zones


@dataclass(frozen=True)
class Link:
    """A private zone's virtual network link."""

    id: str
    name: str
    vnet_id: str = ""
    state: str = "?"
    resolution_policy: str = "Default"

    @classmethod
    @once
    def from_arm(cls, body: Body) -> Link:
        p = props(body)
        return cls(ref_id(body), str(body.get("name") or ""), ref_id(p.get("virtualNetwork")),
                   str(p.get("virtualNetworkLinkState") or "?"), str(p.get("resolutionPolicy") or "Default"))  # fmt: skip


@dataclass(frozen=True)
class RecordSet:
    """An A record set: its name relative to the zone (`@` for the apex) and its addresses."""

    id: str
    name: str
    addresses: tuple[str, ...] = ()

    @classmethod
    @once
    def from_arm(cls, body: Body) -> RecordSet:
        a = tuple(str(r.get("ipv4Address")) for r in props(body).get("aRecords") or [] if r.get("ipv4Address"))
        return cls(ref_id(body), str(body.get("name") or ""), a)


@dataclass(frozen=True)
class Zone:
    """A private DNS zone with its links and A records; None where that read failed (AZ001 says so)."""

    id: str
    name: str
    resource_group: str = ""
    links: tuple[Link, ...] | None = None
    records: tuple[RecordSet, ...] | None = None

    def linked_to(self, vnet_id: str) -> bool:
        """Whether one of its links names `vnet_id` (ids compared without case)."""
        return vnet_id.lower().rstrip("/") in self._linked

    @functools.cached_property
    def _linked(self) -> frozenset[str]:
        return frozenset(link.vnet_id.lower().rstrip("/") for link in self.links or () if link.vnet_id)

    @classmethod
    @once
    def from_arm(cls, entry: Body) -> Zone:
        """`entry` is the source's {"id", "name", "resource_group", "zone", "links", "records"}."""
        links, records = entry.get("links"), entry.get("records")
        return cls(
            ref_id(entry),
            str(entry.get("name") or ""),
            str(entry.get("resource_group") or ""),
            None if links is None else tuple(Link.from_arm(b) for b in links),
            None if records is None else tuple(RecordSet.from_arm(b) for b in records),
        )


# ---------------------------------------------------------------- the cluster


@dataclass(frozen=True)
class NodePool:
    name: str
    count: int = 0
    autoscaling: bool = False
    max_count: int = 0
    max_pods: int | None = None
    max_surge: str = "1"
    """upgradeSettings.maxSurge as written: a count ("1") or a percentage ("33%")."""
    vnet_subnet_id: str = ""
    pod_subnet_id: str = ""
    provisioning_state: str = ""
    """The pool's provisioningState (Succeeded, Failed, Creating, Updating, Upgrading, Scaling, Deleting…)."""
    power_state: str = ""
    """powerState.code: Running or Stopped ("" when ARM leaves it out)."""
    error_code: str = ""
    """status.provisioningError.code of a failed pool (VMExtensionProvisioningError, …); "" when none."""
    error_message: str = ""
    """status.provisioningError.message: where the node bootstrap's (CSE) exit status is written."""
    mode: str = ""
    """System or User."""

    @property
    def peak(self) -> int:
        """Nodes at the peak: the autoscaler maximum when it is on (never below the count now)."""
        return max(self.count, self.max_count) if self.autoscaling else self.count

    def surge(self, nodes: int) -> int:
        """Extra nodes while `nodes` nodes upgrade (maxSurge as a count or a percentage; default 1)."""
        text = self.max_surge
        if text.endswith("%"):
            return max(1, math.ceil(nodes * float(text[:-1]) / 100))
        return int(text) if text.isdigit() else 1

    @classmethod
    def from_arm(cls, body: Body) -> NodePool:
        surge = str((body.get("upgradeSettings") or {}).get("maxSurge") or "1").strip()
        error = _provisioning_error(body)
        return cls(str(body.get("name") or "?"), as_int(body.get("count")) or 0, bool(body.get("enableAutoScaling")),
                   as_int(body.get("maxCount")) or 0, as_int(body.get("maxPods")), surge,
                   str(body.get("vnetSubnetID") or ""), str(body.get("podSubnetID") or ""),
                   provisioning_state=str(body.get("provisioningState") or ""),
                   power_state=str((body.get("powerState") or {}).get("code") or ""),
                   error_code=str(error.get("code") or ""), error_message=str(error.get("message") or ""),
                   mode=str(body.get("mode") or ""))  # fmt: skip


def _provisioning_error(p: Body) -> Body:
    """status.provisioningError (a CloudErrorBody: code, message, target, details) of a cluster's or a pool's
    properties; {} when there is none."""
    error = (p.get("status") or {}).get("provisioningError")
    return error if isinstance(error, Mapping) else {}


@dataclass(frozen=True)
class Cluster:
    id: str
    name: str
    location: str = ""
    node_resource_group: str = ""
    private_fqdn: str = ""
    fqdn: str = ""
    private: bool = False
    """apiServerAccessProfile.enablePrivateCluster."""
    private_public_fqdn: bool = False
    """A private cluster that keeps a public FQDN (enablePrivateClusterPublicFQDN)."""
    vnet_integration: bool = False
    api_subnet_id: str = ""
    """With API Server VNet Integration, the subnet the API server's internal load balancer sits in."""
    authorized_ip_ranges: tuple[str, ...] = ()
    principal_id: str = ""
    """The cluster identity's principal (identity.principalId)."""
    network_plugin: str = ""
    network_plugin_mode: str = ""
    outbound_type: str = "loadBalancer"
    pools: tuple[NodePool, ...] = ()
    assigned_identities: tuple[tuple[str, str], ...] = ()
    """The user-assigned identities (id, principal id as the cluster's body gives it, "" when it does not)."""
    power_state: str = ""
    """powerState.code: Running or Stopped ("" when ARM leaves it out)."""
    provisioning_state: str = ""
    """Succeeded, Failed, or an operation in progress (Creating, Updating, Upgrading, Starting, Stopping, …)."""
    error_code: str = ""
    """status.provisioningError.code of the cluster's last operation; "" when none."""
    error_message: str = ""
    aad_managed: bool = False
    """aadProfile.managed: an Entra ID (AKS-managed Microsoft Entra integration) cluster; kubeconfigs use kubelogin."""
    azure_rbac: bool = False
    """aadProfile.enableAzureRBAC: Azure role assignments, not Kubernetes RoleBindings, authorize Entra users."""
    admin_group_ids: tuple[str, ...] = ()
    """aadProfile.adminGroupObjectIDs: the Entra groups bound to cluster-admin."""
    disable_local_accounts: bool = False
    """disableLocalAccounts: no static (admin certificate) credential; every user signs in with Entra ID."""
    enable_rbac: bool = True
    """enableRBAC: Kubernetes RBAC on (ARM leaves it out only on very old clusters)."""
    http_proxy: str = ""
    """httpProxyConfig.httpProxy / httpsProxy / noProxy / whether a trustedCa is set: the nodes' HTTP proxy."""
    https_proxy: str = ""
    no_proxy: tuple[str, ...] = ()
    proxy_trusted_ca: bool = False

    @property
    def api_fqdn(self) -> str:
        """The name clients use: the private FQDN of a private cluster, else the public one (lower-cased)."""
        return (self.private_fqdn or self.fqdn).lower()

    @property
    def node_subnet_ids(self) -> list[str]:
        """The subnets of the node pools (BYO VNet), in pool order."""
        return [p.vnet_subnet_id for p in self.pools if p.vnet_subnet_id]

    @property
    def vnet_ids(self) -> list[str]:
        """The lower-cased ids of the VNets the node pools sit in (BYO VNet), sorted."""
        return sorted({vnet_of_subnet(s).lower() for s in self.node_subnet_ids})

    @classmethod
    def from_arm(cls, body: Body) -> Cluster:
        p = props(body)
        access = p.get("apiServerAccessProfile") or {}
        network = p.get("networkProfile") or {}
        aad, proxy = p.get("aadProfile") or {}, p.get("httpProxyConfig") or {}
        return cls(
            ref_id(body),
            str(body.get("name") or ""),
            str(body.get("location") or ""),
            str(p.get("nodeResourceGroup") or ""),
            str(p.get("privateFQDN") or ""),
            str(p.get("fqdn") or ""),
            bool(access.get("enablePrivateCluster")),
            bool(access.get("enablePrivateClusterPublicFQDN")),
            bool(access.get("enableVnetIntegration")),
            str(access.get("subnetId") or ""),
            tuple(str(r) for r in access.get("authorizedIPRanges") or []),
            str((body.get("identity") or {}).get("principalId") or ""),
            str(network.get("networkPlugin") or ""),
            str(network.get("networkPluginMode") or ""),
            str(network.get("outboundType") or "loadBalancer"),
            tuple(NodePool.from_arm(b) for b in p.get("agentPoolProfiles") or []),
            tuple(
                (str(k), str((v or {}).get("principalId") or ""))
                for k, v in ((body.get("identity") or {}).get("userAssignedIdentities") or {}).items()
            ),
            power_state=str((p.get("powerState") or {}).get("code") or ""),
            provisioning_state=str(p.get("provisioningState") or ""),
            error_code=str(_provisioning_error(p).get("code") or ""),
            error_message=str(_provisioning_error(p).get("message") or ""),
            aad_managed=bool(aad.get("managed")),
            azure_rbac=bool(aad.get("enableAzureRBAC")),
            admin_group_ids=tuple(str(g) for g in aad.get("adminGroupObjectIDs") or []),
            disable_local_accounts=bool(p.get("disableLocalAccounts")),
            enable_rbac=p.get("enableRBAC") is not False,
            http_proxy=str(proxy.get("httpProxy") or ""),
            https_proxy=str(proxy.get("httpsProxy") or ""),
            no_proxy=tuple(str(n) for n in proxy.get("noProxy") or []),
            proxy_trusted_ca=bool(proxy.get("trustedCa")),
        )


# ---------------------------------------------------------------- everything one AzureContext read


@dataclass(frozen=True)
class AzureFacts:
    """An AzureContext digested: typed objects by lower-cased id where the probes look them up."""

    need: AzureContextNeed
    cluster: Cluster | None = None
    vnets: dict[str, VNet] = field(default_factory=dict)
    zone: Zone | None = None
    other_zones: tuple[Zone, ...] = ()
    endpoints: tuple[ApiEndpoint, ...] = ()
    load_balancers: tuple[LoadBalancer, ...] = ()
    public_ips: dict[str, PublicIp] = field(default_factory=dict)
    nsgs: dict[str, Nsg] = field(default_factory=dict)
    """The NSGs on the cluster's subnets by lower-cased id."""
    role_assignments: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    """The role definition ids (the last id segment, lower-cased) held at each scope; None where unreadable."""
    zone_mode: str | None = None
    errors: tuple[AzureReadError, ...] = ()
    requests: int = 0
    subscriptions: tuple[str, ...] | None = None
    """The lower-cased ids of the subscriptions the identity can list; None where the list failed."""
    searched_subscriptions: tuple[str, ...] = ()
    resolvers: tuple[Resolver, ...] = ()
    rulesets: tuple[Ruleset, ...] = ()
    firewalls: tuple[Firewall, ...] = ()
    server_hosts: dict[str, ServerHost] = field(default_factory=dict)
    """A custom DNS server's address → the NIC (and VM) that holds it."""
    role_definitions: dict[str, RoleDefinition] = field(default_factory=dict)
    identities: dict[str, Identity] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    """The route tables on the cluster's subnets, by lower-cased id."""
    nat_gateways: dict[str, NatGateway] = field(default_factory=dict)
    scale_sets: tuple[ScaleSet, ...] = ()

    def route_table_of(self, subnet_id: str) -> RouteTable | None:
        subnet = self.subnet(subnet_id)
        return self.route_tables.get(subnet.route_table_id.lower()) if subnet and subnet.route_table_id else None

    def nat_gateway_of(self, subnet_id: str) -> NatGateway | None:
        subnet = self.subnet(subnet_id)
        return self.nat_gateways.get(subnet.nat_gateway_id.lower()) if subnet and subnet.nat_gateway_id else None

    def nic_nsgs_of(self, pool: str) -> list[Nsg]:
        """The NSGs on the NICs of `pool`'s scale sets (read ones only), each once."""
        ids = dict.fromkeys(i.lower() for s in self.scale_sets if s.pool.lower() == pool.lower() for i in s.nsg_ids)
        return [self.nsgs[i] for i in ids if i in self.nsgs]

    def resolver_at(self, ip: str) -> Resolver | None:
        """The Private Resolver whose inbound endpoint holds `ip`."""
        return next((r for r in self.resolvers if ip in r.inbound_ips), None)

    def firewall_at(self, ip: str) -> Firewall | None:
        """The Azure Firewall whose private address is `ip`."""
        return next((f for f in self.firewalls if ip in f.private_ips), None)

    def rulesets_linked_to(self, vnet_id: str) -> list[Ruleset]:
        return [r for r in self.rulesets if r.linked_to(vnet_id)]

    @property
    def cluster_vnets(self) -> list[VNet]:
        """The VNets of the cluster's node pools that could be read, in id order."""
        return [self.vnets[i] for i in self.cluster.vnet_ids if i in self.vnets] if self.cluster else []

    @property
    def endpoint_ips(self) -> list[str]:
        """The API server's private addresses: its private endpoints' or internal load balancer's."""
        return [ip for e in self.endpoints for ip in e.ips]

    @property
    def vnet_dns_servers(self) -> list[str]:
        """The DNS servers of the cluster's VNets (dhcpOptions), each once; empty means Azure DNS."""
        return list(dict.fromkeys(s for v in self.cluster_vnets for s in v.dns_servers))

    @property
    def vnet_prefixes(self) -> list[str]:
        """Every address space read: what the VirtualNetwork service tag covers from the cluster's point of view."""
        return [p for v in self.vnets.values() for p in v.prefixes]

    def subnet(self, subnet_id: str) -> Subnet | None:
        vnet = self.vnets.get(vnet_of_subnet(subnet_id).lower())
        return next((s for s in vnet.subnets if same_id(s.id, subnet_id)), None) if vnet else None

    def owning_vnet(self, ip: str) -> VNet | None:
        """The VNet read whose address space holds `ip`."""
        return next((v for v in self.vnets.values() if v.holds(ip)), None)

    def address(self, frontend: Frontend) -> str:
        """A frontend's address: its public IP's (when that was read), else its private one; "" if unknown."""
        if frontend.public_ip_id:
            pip = self.public_ips.get(frontend.public_ip_id.lower())
            return pip.address if pip else ""
        return frontend.private_ip


def _role(assignment: Body) -> str:
    return str(props(assignment).get("roleDefinitionId") or "").rsplit("/", 1)[-1].lower()


_DIGESTS: dict[int, tuple[Any, AzureFacts]] = {}
"""digest's memo: (a weak reference to the context, its facts) by id(context), dropped with the context."""


def digest(ctx: AzureContext) -> AzureFacts:
    """The typed view of one AzureContext: the only reader of its raw bodies. Each probe of a run digests the
    run's one context (lb in every planning round): the facts are made once per context object (a fleet judges
    1,000 contexts whose shared zone holds hundreds of records and whose hub VNet hundreds of peerings)."""
    import weakref

    key = id(ctx)
    memo = _DIGESTS.get(key)
    if memo is not None and memo[0]() is ctx:
        return memo[1]
    facts = _digest(ctx)
    _DIGESTS[key] = (weakref.ref(ctx), facts)
    weakref.finalize(ctx, _DIGESTS.pop, key, None)
    return facts


def _digest(ctx: AzureContext) -> AzureFacts:
    return AzureFacts(
        need=ctx.need,
        cluster=Cluster.from_arm(ctx.cluster) if ctx.cluster is not None else None,
        vnets={k: VNet.from_arm(v) for k, v in ctx.vnets.items()},
        zone=Zone.from_arm(ctx.zone) if ctx.zone else None,
        other_zones=tuple(Zone.from_arm(z) for z in ctx.other_zones),
        endpoints=tuple(ApiEndpoint.from_arm(e) for e in ctx.endpoints),
        load_balancers=tuple(LoadBalancer.from_arm(b) for b in ctx.load_balancers),
        public_ips={ref_id(b).lower(): PublicIp.from_arm(b) for b in ctx.public_ips},
        nsgs={k: Nsg.from_arm(v) for k, v in ctx.nsgs.items()},
        role_assignments={
            scope: None if found is None else tuple(_role(a) for a in found)
            for scope, found in ctx.role_assignments.items()
        },
        zone_mode=ctx.zone_mode,
        errors=ctx.errors,
        requests=ctx.requests,
        subscriptions=None
        if ctx.subscriptions is None
        else tuple(str(s.get("subscriptionId") or "").lower() for s in ctx.subscriptions),
        searched_subscriptions=tuple(ctx.searched_subscriptions),
        resolvers=tuple(Resolver.from_arm(r) for r in ctx.resolvers),
        rulesets=tuple(Ruleset.from_arm(r) for r in ctx.rulesets),
        firewalls=tuple(Firewall.from_arm(f) for f in ctx.firewalls),
        server_hosts={ip: ServerHost.from_arm(ip, e) for ip, e in ctx.server_hosts.items()},
        role_definitions={k.lower(): RoleDefinition.from_arm(v) for k, v in ctx.role_definitions.items()},
        identities={k.lower(): Identity.from_arm(v) for k, v in ctx.identities.items()},
        route_tables={k.lower(): RouteTable.from_arm(v) for k, v in ctx.route_tables.items()},
        nat_gateways={k.lower(): NatGateway.from_arm(v) for k, v in ctx.nat_gateways.items()},
        scale_sets=tuple(ScaleSet.from_arm(b) for b in ctx.scale_sets),
    )
