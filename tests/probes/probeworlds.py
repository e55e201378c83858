"""The facts the sources would read from a lab world, built from its raw payloads without a server.

ARM bodies come from aksdiag.lab.armworld (real REST payloads, the load balancer worlds of lbworld included);
Kubernetes objects from kubeworlds and lbworld (the official client's models in wire shape). The facts are the
raw AzureContext / KubeList a snapshot saves, so every test goes through the probes' one digest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from aksdiag import armview
from aksdiag.facts import AzureContext, AzureContextNeed, AzureReadError, AzureVmssNics, KubeContextNeed, KubeList
from aksdiag.lab import armworld

NEED = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, "https://127.0.0.1:1")
LB_NEED = replace(NEED, load_balancers=True)
KUBE = KubeContextNeed(kubeconfig="/nonexistent/kubeconfig")

Body = dict[str, Any]


def bodies(world: str, patch: Callable[[Body], None] | None = None) -> dict[str, list[Body]]:
    """The world's ARM bodies by lower-cased type, each passed through `patch` first."""
    by_type: dict[str, list[Body]] = {}
    for b in armworld.build(world):
        if patch is not None:
            patch(b)
        by_type.setdefault(b["type"].lower(), []).append(b)
    return by_type


def azure_context(
    world: str,
    errors: tuple[AzureReadError, ...] = (),
    drop: str = "",
    patch: Callable[[Body], None] | None = None,
    need: AzureContextNeed = NEED,
) -> AzureContext:
    """The AzureContext the Azure source would read from `world` (bodies as ARM serves them). `drop` leaves a
    read out as a failed read leaves it: "links" (the zone's links), "load_balancers"."""
    by_type = bodies(world, patch)
    cluster = by_type["microsoft.containerservice/managedclusters"][0]
    own_id = armview.cluster_zone_id(cluster) or ""
    zones = by_type.get("microsoft.network/privatednszones", [])
    zone = next((z for z in zones if z["id"].lower() == own_id.lower()), None)
    endpoints = by_type.get("microsoft.network/privateendpoints", [])
    nics = by_type.get("microsoft.network/networkinterfaces", [])

    def under(z: Body, kind: str) -> list[Body]:
        return [b for b in by_type.get(kind, []) if b["id"].lower().startswith(z["id"].lower() + "/")]

    def zone_entry(z: Body, links: list[Body] | None) -> Body:
        return {
            "id": z["id"],
            "name": z["name"],
            "resource_group": z["id"].split("/")[4],
            "zone": z,
            "links": links,
            "records": under(z, "microsoft.network/privatednszones/a"),
        }

    node_rg = cluster["properties"]["nodeResourceGroup"].lower()
    in_node_rg = f"/resourcegroups/{node_rg}/"
    return AzureContext(
        need=need,
        cluster=cluster,
        vnets={v["id"].lower(): v for v in by_type["microsoft.network/virtualnetworks"]},
        zone=None
        if zone is None
        else zone_entry(
            zone, None if drop == "links" else under(zone, "microsoft.network/privatednszones/virtualnetworklinks")
        ),
        endpoints=[
            {
                "endpoint": e,
                "nics": [n for n in nics if any(r["id"] == n["id"] for r in e["properties"]["networkInterfaces"])],
            }
            for e in endpoints
        ],
        other_zones=[
            zone_entry(z, under(z, "microsoft.network/privatednszones/virtualnetworklinks"))
            for z in zones
            if z is not zone
        ],
        load_balancers=[]
        if not need.load_balancers or drop == "load_balancers"
        else [b for b in by_type.get("microsoft.network/loadbalancers", []) if in_node_rg in b["id"].lower()],
        public_ips=[]
        if not need.load_balancers
        else [b for b in by_type.get("microsoft.network/publicipaddresses", []) if in_node_rg in b["id"].lower()],
        role_assignments=_roles(cluster, own_id, by_type.get("microsoft.authorization/roleassignments", [])),
        zone_mode=cluster["properties"]["apiServerAccessProfile"].get("privateDNSZone") or "system",
        errors=errors,
    )


def _roles(cluster: Body, zone_id: str, assignments: list[Body]) -> dict[str, Any]:
    """Assignments at each checked scope or above it (inherited), as ARM lists them for the source."""
    byo = str(cluster["properties"]["apiServerAccessProfile"].get("privateDNSZone", "")).startswith("/subscriptions/")
    scopes = [zone_id] if byo else []
    scopes.append(armworld.AKS_VNET)
    return {
        scope: [a for a in assignments if scope.lower().startswith(a["properties"]["scope"].lower())]
        for scope in scopes
    }


def vmss_nics(world: str = "healthy") -> AzureVmssNics:
    """The node scale set's NICs, as the VMSS NIC list returns them (classic Azure CNI's pre-allocated IPs)."""
    nics = bodies(world).get("microsoft.network/networkinterfaces", [])
    return AzureVmssNics(tuple(n for n in nics if "/virtualmachinescalesets/" in n["id"].lower()))


def kube_list(objects: Iterable[Body], kind: str, where: Callable[[Body], bool] = lambda o: True) -> KubeList:
    """The objects of `kind`, filtered as a server-side selector would (`where`)."""
    return KubeList(tuple(o for o in objects if o.get("kind") == kind and where(o)))


def forbidden(resource: str) -> KubeList:
    """What the Kubernetes source returns for a list RBAC denies."""
    message = f'{resource} is forbidden: User "aksdiag" cannot list resource "{resource}" in API group "" at the cluster scope'
    return KubeList(status=403, error=message)
