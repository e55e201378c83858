"""The cluster's Azure context (AzureContextNeed): everything the private-DNS path of a cluster depends on, in every
subscription its resources live in.

Each read is a task that starts as soon as what it depends on is known, so the reads fall into as few sequential
rounds as the dependencies allow: the cluster, the subscription list and the cluster's private endpoint
connections first; then its VNets, zone, endpoints, identities, roles, the node resource group's scale sets and
each searched subscription's zones, resolvers and rulesets; then peered VNets, NSGs (the subnets' and the scale
sets' NICs'), route tables, NAT gateways (sources.azure.outbound), NICs, rules and links, the firewalls and NICs
that hold DNS server addresses (the peering's remoteAddressSpace says where, before the remote VNet is read), role
definitions; last, firewall policies and VMs. Every read goes to the subscription in the resource's id
(subscriptions.Clients). A 403 or 404 is recorded as a fact and the other reads go on; a 401, a refused write or a
refused host stops the command.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from aksdiag.armview import cluster_networks, cluster_zone_id, parse_id
from aksdiag.facts import AzureContext, AzureContextNeed
from aksdiag.sources.azure import endpoints, forwarding, outbound, roles, zones
from aksdiag.sources.azure.clients import credential, guard
from aksdiag.sources.azure.reads import Reads
from aksdiag.sources.azure.servers import Servers, subscription_holding
from aksdiag.sources.azure.subscriptions import LATER_SDKS, Clients, list_subscriptions, subscription_of, to_search

if TYPE_CHECKING:
    from aksdiag.settings import Settings

T = TypeVar("T")
Body = dict[str, Any]


async def fetch(
    need: AzureContextNeed, settings: Settings | None = None, deadline: float | None = None
) -> AzureContext:
    """`settings` may carry the token and CA bundle (the demo's); without them the environment's are used.
    `deadline` (time.monotonic()) bounds every read and retry."""
    guard(need.endpoint, settings)
    later = asyncio.gather(*(asyncio.to_thread(importlib.import_module, m) for m in LATER_SDKS))
    cred = credential(settings)
    async with cred:
        clients = Clients(cred, need.endpoint, settings, deadline)
        reader = _Reader(need, clients, later)
        try:
            return await reader.read()
        finally:
            await reader.drain()
            await asyncio.gather(later, return_exceptions=True)
            await clients.close()


class _Reader(Reads):
    """The context's reads as tasks; `drain` cancels and awaits whatever is left when one of them stopped the run."""

    def __init__(self, need: AzureContextNeed, clients: Clients, later: Awaitable[Any]) -> None:
        super().__init__()
        self.need, self.clients, self.later = need, clients, later
        self.sub = need.subscription
        self._tasks: list[asyncio.Future[Any]] = []

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self._tasks.append(task)
        return task

    async def drain(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def read(self) -> AzureContext:
        need = self.need
        aks = self.clients.get("aks", self.sub)
        cluster_t = self.spawn(self.get(
            need.cluster_id, aks.managed_clusters.get(need.resource_group, need.cluster),
            "Microsoft.ContainerService/managedClusters/read",
        ))  # fmt: skip
        subs_t = self.spawn(self._subscriptions(aks))
        conns_t = self.spawn(endpoints.connections(self, self.clients, need))
        try:
            cluster = await cluster_t
        finally:
            await self.later
        if cluster is None:  # the side reads say nothing a missing cluster does not: its error is the one fact
            subscriptions = await subs_t
            await conns_t
            errors = [e for e in self.errors if e.scope.lower() == need.cluster_id.lower()]
            return AzureContext(need=need, errors=tuple(errors or self.errors), requests=self.requests,
                                subscriptions=subscriptions)  # fmt: skip
        return await self._around(cluster, subs_t, conns_t)

    async def _subscriptions(self, aks: Any) -> list[Body] | None:
        found = await list_subscriptions(self, aks)
        self.names.update({str(s.get("subscriptionId")).lower(): str(s.get("displayName") or "") for s in found or []})
        return found

    async def _around(
        self, cluster: Body, subs_t: asyncio.Task[list[Body] | None], conns_t: asyncio.Task[list[Body] | None]
    ) -> AzureContext:
        """Everything the cluster's body leads to, each read as soon as its inputs are known."""
        props = cluster.get("properties") or {}
        access = props.get("apiServerAccessProfile") or {}
        node_rg = props.get("nodeResourceGroup")
        zone_id = cluster_zone_id(cluster)
        own_vnets, subnet_ids, first_vnets = cluster_networks(cluster)

        # spawned (so sent) in the order of what waits on them: the VNets lead to the DNS servers' hosts, the
        # search to the rulesets' rules, the roles to their definitions; the zone and the identity lead nowhere
        vnets_t = self.spawn(self._vnets(first_vnets))
        peers_t = self.spawn(self._peers(vnets_t))
        sets_t = self.spawn(outbound.scale_sets(self, self.clients, self.sub, node_rg))
        nsgs_t = self.spawn(self._nsgs(vnets_t, subnet_ids, sets_t))
        way_out_t = self.spawn(self._way_out(vnets_t, subnet_ids))
        servers = Servers(self, self.clients, self.spawn)
        servers_t = self.spawn(self._servers(servers, vnets_t, peers_t, own_vnets))
        zone_sub = subscription_of(zone_id, self.sub) if zone_id else ""
        search_t = self.spawn(self._search(subs_t, [self.sub, zone_sub], props.get("privateFQDN") or "", zone_id))
        ids_t = self.spawn(roles.identities(self, self.clients, cluster, self.sub))
        roles_t = self.spawn(self._roles(cluster, zone_id, own_vnets, ids_t))
        defs_t = self.spawn(self._definitions(roles_t))
        endpoints_t = self.spawn(self._endpoints(node_rg, bool(access.get("enableVnetIntegration")), conns_t))
        zone_t = self.spawn(zones.zone(self, self.clients, zone_id, self.sub))
        lbs_t = self.spawn(self._in_node_rg(node_rg, "lb"))
        pips_t = self.spawn(self._in_node_rg(node_rg, "pip"))
        await asyncio.gather(vnets_t, peers_t, zone_t, ids_t, roles_t, defs_t, endpoints_t, search_t, nsgs_t,
                             servers_t, lbs_t, pips_t, sets_t, way_out_t)  # fmt: skip
        searched, other_zones, resolvers, rulesets = search_t.result()
        route_tables, nat_gateways = way_out_t.result()
        return AzureContext(
            need=self.need,
            cluster=cluster,
            nsgs=nsgs_t.result(),
            vnets={**vnets_t.result(), **peers_t.result()},
            zone=zone_t.result(),
            endpoints=endpoints_t.result(),
            load_balancers=lbs_t.result(),
            public_ips=pips_t.result(),
            other_zones=other_zones,
            role_assignments=roles_t.result(),
            zone_mode=access.get("privateDNSZone") or ("system" if access.get("enablePrivateCluster") else None),
            errors=tuple(self.errors),
            requests=self.requests,
            subscriptions=subs_t.result(),
            resolvers=resolvers,
            rulesets=rulesets,
            firewalls=list(servers.firewalls.values()),
            server_hosts=dict(servers.hosts),
            role_definitions=defs_t.result(),
            identities=ids_t.result(),
            searched_subscriptions=tuple(searched),
            route_tables=route_tables,
            nat_gateways=nat_gateways,
            scale_sets=sets_t.result(),
        )

    # ---------------------------------------------------------------- VNets and NSGs

    async def _vnets(self, ids: list[str]) -> dict[str, Body]:
        async def one(vnet_id: str) -> tuple[str, Body | None]:
            p = parse_id(vnet_id)
            net = self.clients.get("net", subscription_of(vnet_id, self.sub))
            body = await self.get(
                vnet_id, net.virtual_networks.get(p.get("resourcegroups", ""), p.get("virtualnetworks", "")),
                "Microsoft.Network/virtualNetworks/read",
            )  # fmt: skip
            return vnet_id.lower(), body

        return {k: v for k, v in await asyncio.gather(*(one(i) for i in ids)) if v is not None}

    async def _peers(self, vnets_t: asyncio.Task[dict[str, Body]]) -> dict[str, Body]:
        """The VNets the cluster's VNets peer with (where a custom DNS server, a firewall, a resolver may live)."""
        vnets = await vnets_t
        peered = {
            p["properties"]["remoteVirtualNetwork"]["id"]
            for v in vnets.values()
            for p in (v.get("properties") or {}).get("virtualNetworkPeerings") or []
            if ((p.get("properties") or {}).get("remoteVirtualNetwork") or {}).get("id")
        }
        return await self._vnets(sorted(i for i in peered if i.lower() not in vnets))

    async def _nsgs(
        self, vnets_t: asyncio.Task[dict[str, Body]], subnet_ids: list[str], sets_t: asyncio.Task[list[Body]]
    ) -> dict[str, Body]:
        """The NSGs on the cluster's subnets (node pools, API server subnet) and on its scale sets' NICs, each once,
        in its own subscription (the VNets and the scale sets are read in the same round)."""
        vnets, sets = await asyncio.gather(vnets_t, sets_t)
        ids = sorted({*outbound.subnet_refs(vnets, subnet_ids, "networkSecurityGroup"), *outbound.nic_nsg_ids(sets)},
                     key=str.lower)  # fmt: skip
        found = await asyncio.gather(*(outbound.network_resource(self, self.clients, self.sub, i) for i in ids))
        return {k: v for k, v in found if v is not None}

    async def _way_out(
        self, vnets_t: asyncio.Task[dict[str, Body]], subnet_ids: list[str]
    ) -> tuple[dict[str, Body], dict[str, Body]]:
        """The route tables and NAT gateways on the cluster's subnets, read beside their NSGs."""
        vnets = await vnets_t
        ids = outbound.subnet_refs(vnets, subnet_ids, "routeTable") + outbound.subnet_refs(vnets, subnet_ids, "natGateway")
        found = dict(await asyncio.gather(*(outbound.network_resource(self, self.clients, self.sub, i) for i in ids)))
        tables = {k: v for k, v in found.items() if v is not None and "/routetables/" in k}
        gateways = {k: v for k, v in found.items() if v is not None and "/natgateways/" in k}
        return tables, gateways

    async def _in_node_rg(self, node_rg: str | None, kind: str) -> list[Body]:
        """The node resource group's load balancers or public IPs, when the need asks for them."""
        if not node_rg or not self.need.load_balancers:
            return []
        net = self.clients.get("net", self.sub)
        scope = f"/subscriptions/{self.sub}/resourceGroups/{node_rg}/providers/Microsoft.Network"
        if kind == "lb":
            pager = net.load_balancers.list(node_rg)
            found = await self.list_all(scope + "/loadBalancers", pager, "Microsoft.Network/loadBalancers/read")
        else:
            pager = net.public_ip_addresses.list(node_rg)
            found = await self.list_all(scope + "/publicIPAddresses", pager, "Microsoft.Network/publicIPAddresses/read")
        return found or []

    # ---------------------------------------------------------------- DNS servers, endpoints, roles

    async def _servers(
        self, servers: Servers, vnets_t: asyncio.Task[dict[str, Body]], peers_t: asyncio.Task[dict[str, Body]],
        own_vnets: list[str],
    ) -> None:  # fmt: skip
        """What holds each DNS server address the cluster's VNets use (and the firewalls' proxy servers)."""
        vnets = await vnets_t
        own = {i.lower() for i in own_vnets}
        ips = [
            str(ip)
            for k, v in vnets.items()
            if k in own
            for ip in ((v.get("properties") or {}).get("dhcpOptions") or {}).get("dnsServers") or []
        ]

        async def sub_of(ip: str) -> str | None:
            found = subscription_holding(ip, vnets.values())
            return found or subscription_holding(ip, [*vnets.values(), *(await peers_t).values()])

        await servers.look_up(ips, sub_of)

    async def _endpoints(
        self, node_rg: str | None, vnet_integration: bool, conns_t: asyncio.Task[list[Body] | None]
    ) -> list[Body]:
        """The node resource group's endpoints joined with those of the cluster's private endpoint connections."""

        async def connected() -> list[tuple[Body, Body]]:
            return await endpoints.of_connections(self, self.clients, await conns_t, self.sub)

        found, others = await asyncio.gather(
            endpoints.in_node_rg(self, self.clients, self.sub, node_rg, vnet_integration), connected()
        )
        pairs = endpoints.joined(found, others)
        return list(await asyncio.gather(*(endpoints.with_nics(self, self.clients, e, self.sub, c) for e, c in pairs)))

    async def _roles(
        self, cluster: Body, zone_id: str | None, vnet_ids: list[str], ids_t: asyncio.Task[dict[str, Body]]
    ) -> dict[str, list[Body] | None]:
        """The cluster identity's role assignments on a BYO zone and on its own VNets; the principal from the
        cluster's body, else (a user-assigned identity the body leaves it out of) from the identity resource."""
        access = (cluster.get("properties") or {}).get("apiServerAccessProfile") or {}
        byo_zone = zone_id if str(access.get("privateDNSZone", "")).lower().startswith("/subscriptions/") else None
        scopes = [s for s in (byo_zone, *vnet_ids) if s]
        who = roles.principal(cluster) or (roles.principal(cluster, await ids_t) if scopes else None)
        return await roles.assignments(self, self.clients, who, scopes, self.sub)

    async def _definitions(self, roles_t: asyncio.Task[dict[str, list[Body] | None]]) -> dict[str, Body]:
        return await roles.definitions(self, self.clients, await roles_t, self.sub)

    # ---------------------------------------------------------------- the search of every subscription

    async def _search(
        self, subs_t: asyncio.Task[list[Body] | None], first: list[str], fqdn: str, zone_id: str | None
    ) -> tuple[list[str], list[Body], list[Body], list[Body]]:
        """(searched subscriptions, other zones, resolvers, rulesets) from every subscription to search: those
        listed (the cluster's and the zone's first), or, where the list failed, the cluster's and the zone's."""
        listed = await subs_t
        if listed is not None:
            visible = {str(s.get("subscriptionId") or "").lower() for s in listed}
            first = [s for s in first if s.lower() in visible]
        found = await asyncio.gather(*(self._search_one(s, fqdn, zone_id) for s in to_search(listed, first)))
        searched = [sub for sub, ok, *_ in found if ok]
        other = [z for _, _, zs, _, _ in found for z in zs]
        resolvers = [r for _, _, _, rs, _ in found for r in rs]
        rulesets = [r for _, _, _, _, rs in found for r in rs]
        return searched, other, resolvers, rulesets

    async def _search_one(
        self, sub: str, fqdn: str, zone_id: str | None
    ) -> tuple[str, bool, list[Body], list[Body], list[Body]]:
        async def other_zones() -> list[Body] | None:
            found = await zones.zones_in(self, self.clients, sub)
            if found is None or not fqdn:
                return found
            candidates = zones.could_answer(found, fqdn, zone_id)
            return [z for z in await asyncio.gather(*(zones.zone(self, self.clients, i, sub) for i in candidates)) if z]

        zs, resolvers, rulesets = await asyncio.gather(
            other_zones(),
            forwarding.resolvers_in(self, self.clients.get("resolver", sub), sub),
            forwarding.rulesets_in(self, self.clients.get("resolver", sub), sub),
        )
        ok = zs is not None and resolvers is not None and rulesets is not None
        return sub, ok, zs or [], resolvers or [], rulesets or []
