"""Pure helpers over ARM resource ids and bodies (dicts as Azure returns them). No I/O.

Two kinds: id strings (`parse_id`, `name_of`, `same_id`, `vnet_of_subnet`), which probes use on the ids the typed
facts carry; and body readers (`props`, `ref_id`, `as_int`, `cluster_zone_id`, `node_subnet_ids`), for the
digesters (aksdiag.azfacts, lbfacts, kubefacts) and for the Azure source deciding what to read next. Probes read
typed facts, never bodies.
"""

from __future__ import annotations

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
