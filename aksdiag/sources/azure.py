"""Azure source: reads, through the real SDK clients, everything the private-DNS path of a cluster depends on.

Read-only by construction: every client carries a pipeline policy that refuses any method but GET before the
request leaves the process. Reads are issued concurrently, level by level (the cluster, then its VNets, zone
and endpoint, then the VNets its DNS servers live in). A 403 or 404 is recorded as a fact and the other reads
go on; a 401 or a missing credential stops the command (exit 3) with what to do.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import time
from typing import TYPE_CHECKING, Any

from aksdiag.armview import cluster_zone_id, node_subnet_ids, parse_id, vnet_of_subnet
from aksdiag.errors import AksdiagError
from aksdiag.facts import AzureContext, AzureContextNeed, AzureReadError, AzureVmssNics, AzureVmssNicsNeed
from aksdiag.sources import route

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken
    from azure.core.pipeline import PipelineRequest
    from azure.core.pipeline.policies import SansIOHTTPPolicy
    from azure.identity.aio import DefaultAzureCredential

    from aksdiag.settings import Settings

ENV_ENDPOINT = "AKSDIAG_ARM_ENDPOINT"
ENV_TOKEN = "AKSDIAG_ARM_TOKEN"
CLOUDS = {
    "AzureCloud": "https://management.azure.com",
    "AzureChinaCloud": "https://management.chinacloudapi.cn",
    "AzureUSGovernment": "https://management.usgovcloudapi.net",
}


class WriteRefused(AksdiagError):
    """aksdiag is read-only against Azure: a non-GET request is a bug, stopped before it is sent."""


class StaticToken:
    """An AsyncTokenCredential for a bearer token the user already has (az account get-access-token)."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> StaticToken:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


def endpoint_for(cloud: str | None = None) -> str:
    return os.environ.get(ENV_ENDPOINT) or CLOUDS.get(cloud or "AzureCloud", CLOUDS["AzureCloud"])


def _read_only_policy() -> SansIOHTTPPolicy[Any, Any]:
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class ReadOnlyPolicy(SansIOHTTPPolicy[Any, Any]):
        def on_request(self, request: PipelineRequest[Any]) -> None:
            method = request.http_request.method.upper()
            if method != "GET":
                raise WriteRefused(f"refused to send {method} {request.http_request.url}: aksdiag only reads Azure")

    return ReadOnlyPolicy()


def _credential(settings: Settings | None = None) -> StaticToken | DefaultAzureCredential:
    """settings.arm_token, else AKSDIAG_ARM_TOKEN, else DefaultAzureCredential."""
    token = (settings.arm_token if settings else "") or os.environ.get(ENV_TOKEN)
    if token:
        return StaticToken(token)
    try:
        from azure.identity.aio import DefaultAzureCredential
    except ImportError as e:  # pragma: no cover - a broken install
        raise AksdiagError("azure-identity is not installed", "pip install aksdiag") from e
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def _client_kwargs(settings: Settings | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"per_call_policies": [_read_only_policy()], "retry_total": 3, "retry_backoff_max": 4}
    env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    bundle = (settings.ca_bundle if settings else "") or env_bundle
    if bundle:
        kwargs["connection_verify"] = bundle
    return kwargs


_LATER_SDKS = ("azure.mgmt.network.aio", "azure.mgmt.privatedns.aio", "azure.mgmt.authorization.aio")
"""Imported in threads while the cluster is read: the network SDK alone takes about half a second to import."""


def _guard(endpoint: str, settings: Settings | None = None) -> None:
    refused = route.refused_url(endpoint, settings)
    if refused:
        raise AksdiagError(f"Azure Resource Manager {refused}", "point AKSDIAG_ARM_ENDPOINT at the lab")


async def fetch(need: AzureContextNeed, settings: Settings | None = None) -> AzureContext:
    """`settings` may carry the token and CA bundle (the demo's); without them the environment's are used."""
    _guard(need.endpoint, settings)
    later = asyncio.gather(*(asyncio.to_thread(importlib.import_module, m) for m in _LATER_SDKS))
    from azure.mgmt.containerservice.aio import ContainerServiceClient

    credential = _credential(settings)
    kw = _client_kwargs(settings)
    kw.update(base_url=need.endpoint, credential_scopes=[need.endpoint.rstrip("/") + "/.default"])
    sub = need.subscription
    async with credential, ContainerServiceClient(credential, sub, **kw) as aks:
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
            network.NetworkManagementClient(credential, sub, **kw) as net,
            privatedns.PrivateDnsManagementClient(credential, sub, **kw) as dns,
            authorization.AuthorizationManagementClient(credential, sub, **kw) as auth,
        ):
            reader.net, reader.dns, reader.auth = net, dns, auth
            return await reader.read(cluster)


class _Reader:
    def __init__(self, need: AzureContextNeed) -> None:
        self.need = need
        self.net: Any = None
        self.dns: Any = None
        self.auth: Any = None
        self.errors: list[AzureReadError] = []
        self.requests = 0

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

    async def get(self, scope: str, call: Any, action: str) -> dict[str, Any] | None:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        self.requests += 1
        try:
            result = await call
        except ClientAuthenticationError as e:
            raise AksdiagError(
                f"Azure refused the credentials ({_short(e)})",
                "run `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or AKSDIAG_ARM_TOKEN",
            ) from None
        except HttpResponseError as e:
            self.errors.append(_read_error(scope, e, action))
            return None
        return _body(result) if result is not None else None

    async def _list(self, scope: str, pager: Any, action: str) -> list[dict[str, Any]] | None:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        self.requests += 1
        try:
            return [_body(item) async for item in pager]
        except ClientAuthenticationError as e:
            raise AksdiagError(f"Azure refused the credentials ({_short(e)})", "run `az login`") from None
        except HttpResponseError as e:
            self.errors.append(_read_error(scope, e, action))
            return None

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
            self._list(
                zone_id + "/virtualNetworkLinks",
                self.dns.virtual_network_links.list(rg, name),
                "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read",
            ),
            self._list(
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
            return scope, await self._list(scope, pager, "Microsoft.Authorization/roleAssignments/read")

        return dict(await asyncio.gather(*(one(s) for s in scopes)))

    async def _in_node_rg(self, node_rg: str | None, kind: str) -> list[dict[str, Any]]:
        """The node resource group's load balancers or public IPs, when the need asks for them."""
        if not node_rg or not self.need.load_balancers:
            return []
        scope = f"/subscriptions/{self.need.subscription}/resourceGroups/{node_rg}/providers/Microsoft.Network"
        if kind == "lb":
            pager = self.net.load_balancers.list(node_rg)
            found = await self._list(scope + "/loadBalancers", pager, "Microsoft.Network/loadBalancers/read")
        else:
            pager = self.net.public_ip_addresses.list(node_rg)
            found = await self._list(scope + "/publicIPAddresses", pager, "Microsoft.Network/publicIPAddresses/read")
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
        found = await self._list(
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
        found = await self._list(
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


def _body(model: Any) -> dict[str, Any]:
    """The REST body of an SDK model: newer SDKs' models are their wire dict; older (msrest) ones serialize."""
    if hasattr(model, "serialize"):
        body: dict[str, Any] = model.serialize(keep_readonly=True)
        return body
    return dict(model.as_dict())


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


_ACTION = re.compile(r"perform action '([^']+)' over scope '([^']+)'")


def _read_error(scope: str, error: Any, action: str) -> AzureReadError:
    message = _short(error)
    found = _ACTION.search(message)
    return AzureReadError(
        scope=found.group(2) if found else scope,
        status=int(getattr(error, "status_code", 0) or 0),
        code=getattr(getattr(error, "error", None), "code", None) or type(error).__name__,
        message=message,
        action=found.group(1) if found else action,
    )


def _short(error: Any) -> str:
    text = getattr(getattr(error, "error", None), "message", None) or str(error)
    return text.splitlines()[0][:800]


async def fetch_vmss_nics(need: AzureVmssNicsNeed, settings: Settings | None = None) -> AzureVmssNics:
    """The NICs of a VMSS, each with its IP configurations (read-only, like every read here)."""
    _guard(need.endpoint, settings)
    from azure.mgmt.network.aio import NetworkManagementClient

    credential = _credential(settings)
    kw = _client_kwargs(settings)
    kw.update(base_url=need.endpoint, credential_scopes=[need.endpoint.rstrip("/") + "/.default"])
    scope = (
        f"/subscriptions/{need.subscription}/resourceGroups/{need.resource_group}/providers/Microsoft.Compute"
        f"/virtualMachineScaleSets/{need.vmss}/networkInterfaces"
    )
    async with credential, NetworkManagementClient(credential, need.subscription, **kw) as net:
        reader = _Reader(AzureContextNeed(need.subscription, need.resource_group, need.vmss, need.endpoint))
        reader.net = net
        pager = net.network_interfaces.list_virtual_machine_scale_set_network_interfaces(need.resource_group, need.vmss)
        nics = await reader._list(scope, pager, "Microsoft.Compute/virtualMachineScaleSets/networkInterfaces/read")
    if nics is None:
        return AzureVmssNics(error=reader.errors[0] if reader.errors else None)
    return AzureVmssNics(tuple(nics))
