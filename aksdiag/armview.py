"""Pure helpers over ARM resource ids and bodies (dicts as Azure returns them). No I/O.

Two kinds: id strings (`parse_id`, `name_of`, `same_id`, `vnet_of_subnet`), which probes use on the ids the typed
facts carry; and body readers (`props`, `ref_id`, `as_int`, `cluster_zone_id`, `node_subnet_ids`), for the
digesters (aksdiag.azfacts, lbfacts, kubefacts) and for the Azure source deciding what to read next. Probes read
typed facts, never bodies.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

T = TypeVar("T")


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


def node_subnet_ids(cluster: dict[str, Any] | None) -> list[str]:
    """The subnets of the cluster's node pools (BYO VNet), in pool order."""
    return [pool["vnetSubnetID"] for pool in props(cluster).get("agentPoolProfiles", []) if pool.get("vnetSubnetID")]


def cluster_networks(cluster: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(the VNets of its node pools, its subnets: the pools' and the API server's, every VNet those are in): what the
    cluster's reads start from (sources.azure.context and fleet.fromrows read the same)."""
    access = props(cluster).get("apiServerAccessProfile") or {}
    own_vnets = sorted({vnet_of_subnet(s) for s in node_subnet_ids(cluster)})
    subnet_ids = node_subnet_ids(cluster) + ([access["subnetId"]] if access.get("subnetId") else [])
    first_vnets = sorted({*own_vnets, *(vnet_of_subnet(s) for s in subnet_ids)}, key=str.lower)
    return own_vnets, subnet_ids, first_vnets


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


# ---------------------------------------------------------------- what the cluster's context reads next
# Pure decisions the Azure source (sources.azure.context) and the fleet's assembly (fleet.assemble) share: which
# zones could answer the name, which NSGs/route tables/NAT gateways the subnets name, which subscription holds a DNS
# server, which endpoints serve the API server, which subscriptions to search.

MAX_SEARCHED = 50
"""Subscriptions whose zones, resolvers and rulesets are listed at most (concurrently); the rest are left out
(AzureContext.subscriptions less searched_subscriptions says which)."""
READABLE_STATES = {"enabled", "warned", "pastdue", ""}
"""A Disabled or Deleted subscription answers reads with errors: it is not searched."""


def subscription_in(resource_id: str) -> str:
    """The lower-cased subscription id in a resource id ("" when it names none)."""
    parts = resource_id.split("/")
    return parts[2].lower() if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


def to_search(listed: list[dict[str, Any]] | None, first: list[str]) -> list[str]:
    """The subscriptions to search, lower-cased: `first` (the cluster's, the zone's), then the readable listed
    ones in the order ARM listed them, at most MAX_SEARCHED."""
    ids = [s.lower() for s in first if s]
    for s in listed or []:
        if str(s.get("state") or "").lower() in READABLE_STATES and s.get("subscriptionId"):
            ids.append(str(s["subscriptionId"]).lower())
    return list(dict.fromkeys(ids))[:MAX_SEARCHED]


def could_answer(found: list[dict[str, Any]], fqdn: str, cluster_zone: str | None) -> list[str]:
    """The ids of the zones that could answer `fqdn`: named as a suffix of it, or named as the cluster's zone (a
    jump box's own zone of the same name), other than the cluster's zone itself."""
    fqdn = fqdn.lower().rstrip(".")
    own = (cluster_zone or "").lower()
    own_name = own.rsplit("/", 1)[-1] if own else ""
    out = []
    for z in found:
        name, zid = str(z.get("name") or "").lower(), str(z.get("id") or "")
        if not name or zid.lower() == own:
            continue
        if fqdn == name or fqdn.endswith("." + name) or (own_name and name == own_name):
            out.append(zid)
    return list(dict.fromkeys(out))


def subnet_refs(vnets: Mapping[str, dict[str, Any]], subnet_ids: list[str], key: str) -> list[str]:
    """The ids of the `key` references (networkSecurityGroup, routeTable, natGateway) of the wanted subnets in
    the VNets' bodies, each once, sorted."""
    wanted = {i.lower() for i in subnet_ids}
    return sorted(
        {
            str(((s.get("properties") or {}).get(key) or {}).get("id"))
            for v in vnets.values()
            for s in (v.get("properties") or {}).get("subnets") or []
            if str(s.get("id", "")).lower() in wanted and ((s.get("properties") or {}).get(key) or {}).get("id")
        },
        key=str.lower,
    )


def nic_nsg_ids(sets: list[dict[str, Any]]) -> list[str]:
    """The NSGs named by the scale sets' NIC configurations, each once."""
    found = {
        str(((c.get("properties") or {}).get("networkSecurityGroup") or {}).get("id"))
        for s in sets
        for c in ((((s.get("properties") or {}).get("virtualMachineProfile") or {}).get("networkProfile") or {})
                  .get("networkInterfaceConfigurations") or [])
        if ((c.get("properties") or {}).get("networkSecurityGroup") or {}).get("id")
    }  # fmt: skip
    return sorted(found, key=str.lower)


def subscription_holding(ip: str, vnets: Iterable[dict[str, Any]]) -> str | None:
    """The subscription of the VNet whose address space holds `ip`: a VNet read, else a peering's remote side."""
    vnets = list(vnets)
    for v in vnets:
        if _holds((v.get("properties") or {}).get("addressSpace"), ip):
            return subscription_in(str(v.get("id") or "")) or None
    for v in vnets:
        for peering in (v.get("properties") or {}).get("virtualNetworkPeerings") or []:
            p = peering.get("properties") or {}
            remote = str((p.get("remoteVirtualNetwork") or {}).get("id") or "")
            if remote and _holds(p.get("remoteAddressSpace") or p.get("remoteVirtualNetworkAddressSpace"), ip):
                return subscription_in(remote) or None
    return None


def _holds(space: Any, ip: str) -> bool:
    import ipaddress

    try:
        address = ipaddress.ip_address(ip)
        return any(
            address in ipaddress.ip_network(str(p), strict=False) for p in (space or {}).get("addressPrefixes") or []
        )
    except ValueError:
        return False


def firewall_ips(firewall: dict[str, Any]) -> set[str]:
    """A firewall's private addresses (its IP configurations' and its hub's)."""
    p = firewall.get("properties") or {}
    ips = {str((c.get("properties") or {}).get("privateIPAddress")) for c in p.get("ipConfigurations") or []}
    hub = (p.get("hubIPAddresses") or {}).get("privateIPAddress")
    return ips | ({str(hub)} if hub else set())


def nic_ips(nic: dict[str, Any]) -> set[str]:
    configs = (nic.get("properties") or {}).get("ipConfigurations") or []
    return {str((c.get("properties") or {}).get("privateIPAddress")) for c in configs}


def joined(
    node_rg: list[dict[str, Any]], connected: list[tuple[dict[str, Any], dict[str, Any]]]
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(endpoint, connection | None): the node resource group's first, then the other connected ones; an
    endpoint listed both ways appears once, with its connection."""
    by_id = {str(e.get("id") or "").lower(): c for c, e in connected}
    out: list[tuple[dict[str, Any], dict[str, Any] | None]] = [
        (e, by_id.get(str(e.get("id") or "").lower())) for e in node_rg
    ]
    seen = {str(e.get("id") or "").lower() for e in node_rg}
    for conn, e in connected:
        if str(e.get("id") or "").lower() not in seen:
            seen.add(str(e.get("id") or "").lower())
            out.append((e, conn))
    return out


def is_apiserver_endpoint(endpoint: dict[str, Any]) -> bool:
    connections = (endpoint.get("properties") or {}).get("privateLinkServiceConnections") or []
    groups = {g for c in connections for g in (c.get("properties") or {}).get("groupIds") or []}
    return "management" in groups or endpoint.get("name") == "kube-apiserver"


# ---------------------------------------------------------------- bodies shared by many contexts (aksdiag fleet)

_SHARED: ContextVar[dict[tuple[type, int], tuple[Any, Any]] | None] = ContextVar("aksdiag_shared_bodies", default=None)


@contextmanager
def shared_bodies() -> Iterator[None]:
    """Within it, a body made typed through a `@once` from_arm is made once per body object, however many contexts
    hold it: a fleet's 1,000 contexts share one hub VNet with hundreds of peerings and one zone's hundreds of
    records. The memo holds each body it saw (so no id is reused while it lives) and goes with the block; tasks
    started inside it (the runner's probes) see it."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def once(convert: Callable[[Any, Any], T]) -> Callable[[Any, Any], T]:
    """For `from_arm(cls, body)`: inside shared_bodies, the typed fact of this very body object, made once."""

    @functools.wraps(convert)
    def typed(cls: Any, body: Any) -> T:
        memo = _SHARED.get()
        if memo is None:
            return convert(cls, body)
        key = (cls, id(body))
        hit = memo.get(key)
        if hit is not None and hit[0] is body:
            return cast(T, hit[1])
        value = convert(cls, body)
        memo[key] = (body, value)
        return value

    return typed
