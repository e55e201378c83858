"""The cluster's Azure context (AzureContextNeed): everything the private-DNS path of a cluster depends on.

Reads are issued concurrently, level by level (the cluster, then its VNets, zone and endpoint, then the VNets its
DNS servers live in). A 403 or 404 is recorded as a fact and the other reads go on; a 401 or a missing credential
stops the command (exit 3) with what to do.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Any

from aksdiag.armview import cluster_zone_id, node_subnet_ids, parse_id, vnet_of_subnet
from aksdiag.facts import AzureContext, AzureContextNeed
from aksdiag.sources.azure.clients import credential, endpoint_kwargs, guard
from aksdiag.sources.azure.reads import Reads

if TYPE_CHECKING:
    from aksdiag.settings import Settings

_LATER_SDKS = ("azure.mgmt.network.aio", "azure.mgmt.privatedns.aio", "azure.mgmt.authorization.aio")
"""Imported in threads while the cluster is read: the network SDK alone takes about half a second to import."""


async def fetch(need: AzureContextNeed, settings: Settings | None = None, deadline: float | None = None) -> AzureContext:
    """`settings` may carry the token and CA bundle (the demo's); without them the environment's are used.
    `deadline` (time.monotonic()) bounds every read and retry."""
    guard(need.endpoint, settings)
    later = asyncio.gather(*(asyncio.to_thread(importlib.import_module, m) for m in _LATER_SDKS))
    from azure.mgmt.containerservice.aio import ContainerServiceClient

    cred = credential(settings)
    sub = need.subscription

    def kw() -> dict[str, Any]:  # a pipeline's policies are its own: one retry policy per client
        return endpoint_kwargs(need.endpoint, settings, deadline)

    async with cred, ContainerServiceClient(cred, sub, **kw()) as aks:
        reader = _Reader(need)
        try:
            cluster = await reader.get(
                need.cluster_id, aks.managed_clusters.get(need.resource_group, need.cluster),
                "Microsoft.ContainerService/managedClusters/read",
            )  # fmt: skip
        finally:
            network, privatedns, authorization = await later
        if cluster is None:
            return AzureContext(need=need, errors=tuple(reader.errors), requests=reader.requests)
        async with (
            network.NetworkManagementClient(cred, sub, **kw()) as net,
            privatedns.PrivateDnsManagementClient(cred, sub, **kw()) as dns,
            authorization.AuthorizationManagementClient(cred, sub, **kw()) as auth,
        ):
            reader.net, reader.dns, reader.auth = net, dns, auth
            return await reader.read(cluster)


class _Reader(Reads):
    """The context's reads, round by round; the clients are set once the cluster has been read."""

    def __init__(self, need: AzureContextNeed) -> None:
        super().__init__()
        self.need = need
        self.net: Any = None
        self.dns: Any = None
        self.auth: Any = None

    async def read(self, cluster: dict[str, Any]) -> AzureContext:
        need = self.need
        props = cluster.get("properties", {})
        vnet_ids = sorted({vnet_of_subnet(s) for s in node_subnet_ids(cluster)})
        access = props.get("apiServerAccessProfile") or {}
        zone_id = cluster_zone_id(cluster)
        node_rg = props.get("nodeResourceGroup")
        vnets, zone, endpoints, other_zones, roles, (lbs, pips) = await asyncio.gather(
            self._vnets_and_peers(vnet_ids),
            self._zone(zone_id),
            self._endpoints(props.get("nodeResourceGroup"), bool(access.get("enableVnetIntegration"))),
            self._other_zones(props.get("privateFQDN") or "", zone_id),
            self._roles(cluster, zone_id, vnet_ids),
            asyncio.gather(self._in_node_rg(node_rg, "lb"), self._in_node_rg(node_rg, "pip")),  # six: typed
        )
        subnet_ids = node_subnet_ids(cluster)
        if access.get("subnetId"):
            subnet_ids.append(access["subnetId"])
        nsgs = await self._nsgs(vnets, subnet_ids)
        return AzureContext(
            need=need,
            cluster=cluster,
            nsgs=nsgs,
            vnets=vnets,
            zone=zone,
            endpoints=endpoints,
            load_balancers=lbs,
            public_ips=pips,
            other_zones=other_zones,
            role_assignments=roles,
            zone_mode=access.get("privateDNSZone") or ("system" if access.get("enablePrivateCluster") else None),
            errors=tuple(self.errors),
            requests=self.requests,
        )

    async def _vnets_and_peers(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The cluster's VNets, then the VNets they peer with (where a custom DNS server may live)."""
        vnets = await self._vnets(ids)
        peered = {
            p["properties"]["remoteVirtualNetwork"]["id"]
            for v in vnets.values()
            for p in v.get("properties", {}).get("virtualNetworkPeerings", [])
            if (p.get("properties") or {}).get("remoteVirtualNetwork")
        }
        vnets.update(await self._vnets(sorted(i for i in peered if i.lower() not in vnets)))
        return vnets

    async def _vnets(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        async def one(vnet_id: str) -> tuple[str, dict[str, Any] | None]:
            p = parse_id(vnet_id)
            body = await self.get(
                vnet_id,
                self.net.virtual_networks.get(p["resourcegroups"], p["virtualnetworks"]),
                "Microsoft.Network/virtualNetworks/read",
            )
            return vnet_id.lower(), body

        pairs = await asyncio.gather(*(one(i) for i in ids))
        return {k: v for k, v in pairs if v is not None}

    async def _zone(self, zone_id: str | None) -> dict[str, Any] | None:
        if not zone_id:
            return None
        p = parse_id(zone_id)
        rg, name = p["resourcegroups"], p["privatednszones"]
        zone, links, records = await asyncio.gather(
            self.get(zone_id, self.dns.private_zones.get(rg, name), "Microsoft.Network/privateDnsZones/read"),
            self.list_all(
                zone_id + "/virtualNetworkLinks",
                self.dns.virtual_network_links.list(rg, name),
                "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read",
            ),
            self.list_all(
                zone_id + "/A",
                self.dns.record_sets.list_by_type(rg, name, "A"),
                "Microsoft.Network/privateDnsZones/A/read",
            ),
        )
        return {"id": zone_id, "name": name, "resource_group": rg, "zone": zone, "links": links, "records": records}

    async def _roles(
        self, cluster: dict[str, Any], zone_id: str | None, vnet_ids: list[str]
    ) -> dict[str, list[dict[str, Any]] | None]:
        """The cluster identity's role assignments (inherited ones too) on a BYO zone and on its own VNets."""
        principal = _principal(cluster)
        access = cluster.get("properties", {}).get("apiServerAccessProfile") or {}
        byo_zone = zone_id if str(access.get("privateDNSZone", "")).lower().startswith("/subscriptions/") else None
        scopes = [s for s in (byo_zone, *vnet_ids) if s]
        if not principal or not scopes:
            return {}

        async def one(scope: str) -> tuple[str, list[dict[str, Any]] | None]:
            pager = self.auth.role_assignments.list_for_scope(scope, filter=f"assignedTo('{principal}')")
            return scope, await self.list_all(scope, pager, "Microsoft.Authorization/roleAssignments/read")

        return dict(await asyncio.gather(*(one(s) for s in scopes)))

    async def _in_node_rg(self, node_rg: str | None, kind: str) -> list[dict[str, Any]]:
        """The node resource group's load balancers or public IPs, when the need asks for them."""
        if not node_rg or not self.need.load_balancers:
            return []
        scope = f"/subscriptions/{self.need.subscription}/resourceGroups/{node_rg}/providers/Microsoft.Network"
        if kind == "lb":
            pager = self.net.load_balancers.list(node_rg)
            found = await self.list_all(scope + "/loadBalancers", pager, "Microsoft.Network/loadBalancers/read")
        else:
            pager = self.net.public_ip_addresses.list(node_rg)
            found = await self.list_all(scope + "/publicIPAddresses", pager, "Microsoft.Network/publicIPAddresses/read")
        return found or []

    async def _nsgs(self, vnets: dict[str, dict[str, Any]], subnet_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The NSGs on the cluster's subnets (node pools, API server subnet)."""
        wanted = {i.lower() for i in subnet_ids}
        ids = sorted(
            {
                sub["properties"]["networkSecurityGroup"]["id"]
                for v in vnets.values()
                for sub in v.get("properties", {}).get("subnets", [])
                if sub.get("id", "").lower() in wanted and (sub.get("properties") or {}).get("networkSecurityGroup")
            }
        )

        async def one(nsg_id: str) -> tuple[str, dict[str, Any] | None]:
            p = parse_id(nsg_id)
            body = await self.get(
                nsg_id, self.net.network_security_groups.get(p["resourcegroups"], p["networksecuritygroups"]),
                "Microsoft.Network/networkSecurityGroups/read",
            )  # fmt: skip
            return nsg_id.lower(), body

        return {k: v for k, v in await asyncio.gather(*(one(i) for i in ids)) if v is not None}

    async def _other_zones(self, fqdn: str, zone_id: str | None) -> list[dict[str, Any]]:
        """Every other private zone of the subscription that could hold the FQDN (it may shadow the cluster's)."""
        if not fqdn:
            return []
        found = await self.list_all(
            f"/subscriptions/{self.need.subscription}/providers/Microsoft.Network/privateDnsZones",
            self.dns.private_zones.list(),
            "Microsoft.Network/privateDnsZones/read",
        )
        fqdn = fqdn.lower()
        candidates = [
            z["id"]
            for z in found or []
            if (fqdn == z["name"].lower() or fqdn.endswith("." + z["name"].lower()))
            and not (zone_id and z["id"].lower() == zone_id.lower())
        ]
        zones = await asyncio.gather(*(self._zone(i) for i in candidates))
        return [z for z in zones if z]

    async def _endpoints(self, node_rg: str | None, vnet_integration: bool = False) -> list[dict[str, Any]]:
        """The API server's private endpoint(s) in the node resource group, each with its NIC's addresses; with
        API Server VNet Integration, the internal load balancer `kube-apiserver` instead."""
        if not node_rg:
            return []
        if vnet_integration:
            lb = await self.get(
                f"/subscriptions/{self.need.subscription}/resourceGroups/{node_rg}/providers/Microsoft.Network"
                "/loadBalancers/kube-apiserver",
                self.net.load_balancers.get(node_rg, "kube-apiserver"),
                "Microsoft.Network/loadBalancers/read",
            )
            return [{"endpoint": lb, "nics": []}] if lb else []
        scope = f"/subscriptions/{self.need.subscription}/resourceGroups/{node_rg}"
        found = await self.list_all(
            scope + "/providers/Microsoft.Network/privateEndpoints",
            self.net.private_endpoints.list(node_rg),
            "Microsoft.Network/privateEndpoints/read",
        )
        endpoints = [e for e in found or [] if _is_apiserver_endpoint(e)]

        async def with_nic(endpoint: dict[str, Any]) -> dict[str, Any]:
            nics = []
            for ref in endpoint.get("properties", {}).get("networkInterfaces", []):
                p = parse_id(ref["id"])
                nic = await self.get(
                    ref["id"],
                    self.net.network_interfaces.get(p["resourcegroups"], p["networkinterfaces"]),
                    "Microsoft.Network/networkInterfaces/read",
                )
                if nic:
                    nics.append(nic)
            return {"endpoint": endpoint, "nics": nics}

        return list(await asyncio.gather(*(with_nic(e) for e in endpoints)))


def _principal(cluster: dict[str, Any]) -> str | None:
    """The object id AKS acts as: the system-assigned identity, or the single user-assigned one."""
    identity = cluster.get("identity") or {}
    if identity.get("principalId"):
        return str(identity["principalId"])
    assigned = list((identity.get("userAssignedIdentities") or {}).values())
    return str(assigned[0]["principalId"]) if len(assigned) == 1 and assigned[0].get("principalId") else None


def _is_apiserver_endpoint(endpoint: dict[str, Any]) -> bool:
    connections = endpoint.get("properties", {}).get("privateLinkServiceConnections", [])
    groups = {g for c in connections for g in c.get("properties", {}).get("groupIds", [])}
    return "management" in groups or endpoint.get("name") == "kube-apiserver"
