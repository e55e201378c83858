"""Pure helpers over ARM resource bodies (dicts as Azure returns them): ids, address spaces, links. No I/O."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any


def parse_id(resource_id: str) -> dict[str, str]:
    """`/subscriptions/S/resourceGroups/RG/providers/NS/type/name/…` as {lower-cased type: name}."""
    parts = resource_id.strip("/").split("/")
    out: dict[str, str] = {}
    i = 0
    while i + 1 < len(parts):
        if parts[i].lower() == "providers":
            i += 2
            continue
        out[parts[i].lower()] = parts[i + 1]
        i += 2
    return out


def name_of(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def vnet_of_subnet(subnet_id: str) -> str:
    return subnet_id.split("/subnets/")[0]


def same_id(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.lower().rstrip("/") == b.lower().rstrip("/"))


def props(body: Mapping[str, Any] | None) -> dict[str, Any]:
    return (body or {}).get("properties") or {}


def owning_vnet(ip: str, vnets: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The VNet among `vnets` whose address space holds `ip`."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for body in vnets.values():
        for prefix in props(body).get("addressSpace", {}).get("addressPrefixes", []):
            if address in ipaddress.ip_network(prefix, strict=False):
                return body
    return None


def peering_between(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    """A's peering whose remote VNet is B."""
    for peering in props(a).get("virtualNetworkPeerings", []):
        if same_id(props(peering).get("remoteVirtualNetwork", {}).get("id"), b.get("id")):
            return peering
    return None


def cluster_zone_id(cluster: dict[str, Any]) -> str | None:
    """The cluster's private zone: a custom zone's id, or the system zone AKS keeps in the node resource group."""
    p = props(cluster)
    access = p.get("apiServerAccessProfile") or {}
    mode = access.get("privateDNSZone") or "system"
    if not access.get("enablePrivateCluster") or mode.lower() == "none":
        return None
    if mode.lower().startswith("/subscriptions/"):
        return mode
    fqdn, node_rg = p.get("privateFQDN"), p.get("nodeResourceGroup")
    if not fqdn or not node_rg:
        return None
    subscription = parse_id(cluster["id"])["subscriptions"]
    zone = fqdn.split(".", 1)[1]
    return f"/subscriptions/{subscription}/resourceGroups/{node_rg}/providers/Microsoft.Network/privateDnsZones/{zone}"


def endpoint_ips(endpoints: list[dict[str, Any]]) -> list[str]:
    """Private IPs of the API server: its private endpoint's NICs, or its internal load balancer's frontends."""
    ips = []
    for e in endpoints:
        for frontend in props(e.get("endpoint")).get("frontendIPConfigurations", []):
            ip = props(frontend).get("privateIPAddress")
            if ip:
                ips.append(ip)
        for nic in e.get("nics", []):
            for config in props(nic).get("ipConfigurations", []):
                ip = props(config).get("privateIPAddress")
                if ip:
                    ips.append(ip)
    return ips


def subnet(vnets: dict[str, dict[str, Any]], subnet_id: str) -> dict[str, Any] | None:
    """A subnet body out of its VNet's body."""
    vnet = vnets.get(vnet_of_subnet(subnet_id).lower())
    for sub in props(vnet).get("subnets", []):
        if same_id(sub.get("id"), subnet_id):
            return dict(sub)
    return None


def vnet_prefixes(vnets: dict[str, dict[str, Any]]) -> list[str]:
    """Every address space read: what the VirtualNetwork service tag covers from the cluster's point of view."""
    return [p for v in vnets.values() for p in props(v).get("addressSpace", {}).get("addressPrefixes", [])]


def node_subnet_ids(cluster: dict[str, Any] | None) -> list[str]:
    """The subnets of the cluster's node pools (BYO VNet), in pool order."""
    return [pool["vnetSubnetID"] for pool in props(cluster).get("agentPoolProfiles", []) if pool.get("vnetSubnetID")]


def cluster_vnet_ids(cluster: dict[str, Any] | None) -> list[str]:
    """The lower-cased ids of the VNets the cluster's node pools sit in."""
    return sorted({vnet_of_subnet(s).lower() for s in node_subnet_ids(cluster)})


def vnet_dns_servers(cluster: dict[str, Any] | None, vnets: dict[str, dict[str, Any]]) -> list[str]:
    """The DNS servers of the cluster's VNets (dhcpOptions.dnsServers); empty means Azure DNS."""
    servers = [
        s for i in cluster_vnet_ids(cluster) for s in props(vnets.get(i)).get("dhcpOptions", {}).get("dnsServers") or []
    ]
    return list(dict.fromkeys(servers))


def ref_id(body: Mapping[str, Any] | None) -> str:
    """The `id` of a body or of a sub-resource reference (`{"id": …}`), "" when absent."""
    return str((body or {}).get("id") or "")


def ref_ids(refs: Iterable[Mapping[str, Any]] | None) -> tuple[str, ...]:
    return tuple(ref_id(r) for r in refs or [])


def as_int(value: Any) -> int | None:
    """An integer field (ARM sends numbers; a digit string counts too), None when absent or not a number."""
    if isinstance(value, bool):
        return None
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None
