"""The ARM worlds by name: the healthy seed-000 topology, and each world broken one way from it.

`build` lays out the healthy topology once, each broken world's one change made where it applies; `faults` adds
what no resource body can say (a 403 on one path); `write` puts a world in files for `aksdiag lab arm --world`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aksdiag.lab.armworld import detectors, egress, enterprise, localdns, parts, signin, snat, state, tunnel
from aksdiag.lab.armworld.names import (
    AKS_SUBNET,
    AKS_VNET,
    API_SUBNET,
    CLUSTER,
    CLUSTER_RG,
    DNS_SERVER_IP,
    HUB_VNET,
    NETWORK_CONTRIBUTOR,
    NODE_RG,
    PRIVATE_DNS_ZONE_CONTRIBUTOR,
    REGION,
    net_id,
    rg_id,
    seed,
)
from aksdiag.lab.scenarios import (
    CLUSTER_FQDN,
    CLUSTER_ZONE,
    ENDPOINT_IP,
    FORWARD_ZONE,
    ILB_IP,
    PUBLIC_FQDN,
    STALE_IP,
    VNET_INTEGRATION_FQDN,
)

WORLDS = {
    "healthy": "hub DNS VNet peered and linked to the zone; A record and endpoint agree",
    "hub-not-linked": "the private zone is not linked to the hub VNet where the custom DNS server lives",
    "record-stale": "the zone's A record still points at the endpoint's old address",
    "peering-down": "the spoke's peering to the hub VNet is Disconnected",
    "bad-zone-name": "a custom (BYO) zone whose name is for another region",
    "denied": "the identity may not read the zone's virtual network links (403)",
    "byo-zone": "seed 000: a BYO zone privatelink.koreacentral.azmk8s.io in rg-dns, the identity holds its roles",
    "missing-role": "a BYO zone on which the cluster identity lacks Private DNS Zone Contributor",
    "vnet-integration": "API Server VNet Integration: the API server's ILB in a delegated subnet, zone private.<region>",
    "nsg-blocks-4443": "VNet integration, and the API server subnet's NSG denies TCP 4443 from the VNet",
    "apiserver-subnet-small": "VNet integration on a /29 API server subnet that is not delegated",
    "public-authorized": "a public cluster whose API server accepts only 203.0.113.0/24 (authorized IP ranges)",
    "subnet-full": "Azure CNI on a /24 node subnet: 3 nodes today, autoscaler max 10, 30 pods each, surge 1",
    "zone-none": "privateDNSZone none: no private zone, the public FQDN carries the private address",
    "shadowed": "a BYO zone privatelink.koreacentral.azmk8s.io, and a leftover, more specific zone linked to the hub",
    **enterprise.WORLDS,  # the landing-zone worlds across two subscriptions (lz-*)
    **localdns.WORLDS,  # the healthy world with each agent pool's LocalDNS profile set one way (localdns-*)
    # issue 15, beyond DNS: each module's worlds start with its prefix (PREFIXED)
    **state.WORLDS,
    **egress.WORLDS,
    **tunnel.WORLDS,
    **signin.WORLDS,
    **snat.WORLDS,
    **detectors.WORLDS,
}
PREFIXED = {"state-": state, "egress-": egress, "tunnel-": tunnel, "signin-": signin, "snat-": snat,
            "detectors-": detectors}  # fmt: skip
"""World name prefix → the module that builds (and, with a `faults` function, faults) those worlds."""


def build(world: str = "healthy") -> list[dict[str, Any]]:
    """The resource bodies of a world, by name (see WORLDS)."""
    if world not in WORLDS:
        raise ValueError(f"unknown ARM world {world!r}; one of {', '.join(WORLDS)}")
    if world.startswith("lb-"):
        from aksdiag.lab import lbworld

        return lbworld.arm(world)
    if world.startswith("lz-"):
        return enterprise.build(world)
    if world.startswith("localdns-"):
        return localdns.build(world)
    for prefix, module in PREFIXED.items():
        if world.startswith(prefix):
            return module.build(world)
    vnet_integration = world in ("vnet-integration", "nsg-blocks-4443", "apiserver-subnet-small")
    zone_name = CLUSTER_ZONE.replace(".privatelink.", ".private.") if vnet_integration else CLUSTER_ZONE
    zone_rg = NODE_RG
    private_dns_zone = "system"
    if world == "bad-zone-name":
        zone_name, zone_rg = "privatelink.eastus.azmk8s.io", "rg-dns"
        private_dns_zone = net_id(zone_rg, "privateDnsZones", zone_name)
    if world in ("shadowed", "byo-zone", "missing-role"):
        zone_name, zone_rg = FORWARD_ZONE, "rg-dns"
        private_dns_zone = net_id(zone_rg, "privateDnsZones", zone_name)
    zone_id = net_id(zone_rg, "privateDnsZones", zone_name)

    hub = parts.vnet(HUB_VNET, "10.1.0.0/16", [("snet-dns", "10.1.0.0/24", {})], dns_servers=[])
    node_prefix = "10.224.0.0/24" if world == "subnet-full" else "10.224.0.0/16"
    subnets: list[tuple[str, str, dict[str, Any]]] = [("snet-aks", node_prefix, {})]
    nsg_bodies: list[dict[str, Any]] = []
    if vnet_integration:
        small = world == "apiserver-subnet-small"
        nsg = parts.apiserver_nsg(deny_4443=world == "nsg-blocks-4443")
        nsg_bodies.append(nsg)
        subnets.append(
            (
                "snet-apiserver",
                "10.225.0.0/29" if small else "10.225.0.0/28",
                {"delegated": not small, "nsg": nsg["id"]},
            )
        )
    spoke = parts.vnet(AKS_VNET, "10.224.0.0/12", subnets, dns_servers=[DNS_SERVER_IP])
    parts.peer(spoke, hub, "Disconnected" if world == "peering-down" else "Connected")
    parts.peer(hub, spoke, "Disconnected" if world == "peering-down" else "Connected")

    cluster = seed("managed_cluster_vnet_integration" if vnet_integration else "managed_cluster_private")
    cluster["id"] = f"{rg_id(CLUSTER_RG)}/providers/Microsoft.ContainerService/managedClusters/{CLUSTER}"
    cluster["name"], cluster["location"] = CLUSTER, REGION
    p = cluster["properties"]
    fqdn = VNET_INTEGRATION_FQDN if vnet_integration else CLUSTER_FQDN
    if world == "bad-zone-name":
        fqdn = f"aks-lab-k3x9q2.{zone_name}"
    p["privateFQDN"] = fqdn
    p["fqdn"] = PUBLIC_FQDN
    p["nodeResourceGroup"] = NODE_RG
    p["apiServerAccessProfile"]["privateDNSZone"] = "none" if world == "zone-none" else private_dns_zone
    if world == "public-authorized":
        p["apiServerAccessProfile"] = {"enablePrivateCluster": False, "authorizedIPRanges": ["203.0.113.0/24"]}
    if world == "zone-none":
        del p["privateFQDN"]  # the API server is reached by its public FQDN, which resolves to the private address
    if vnet_integration:
        p["apiServerAccessProfile"]["subnetId"] = API_SUBNET
        p["dnsPrefix"] = "aks-lab"
        p.setdefault("privateLinkResources", [{"id": "", "name": "management"}])
    p["networkProfile"]["networkPlugin"] = "azure"
    for pool in p["agentPoolProfiles"]:
        pool["vnetSubnetID"] = AKS_SUBNET
        if world == "subnet-full":
            pool.update(count=3, maxPods=30, enableAutoScaling=True, minCount=1, maxCount=10)
    if p.get("privateLinkResources"):
        p["privateLinkResources"][0]["id"] = cluster["id"] + "/privateLinkResources/management"

    zone = seed("private_dns_zone")
    zone["id"], zone["name"] = zone_id, zone_name
    links = [parts.link(zone_id, "link-aks", AKS_VNET)]
    if world != "hub-not-linked":
        links.append(parts.link(zone_id, "link-hub", HUB_VNET))
    zone["properties"]["numberOfVirtualNetworkLinks"] = len(links)
    record = seed("a_record_set")
    relative = fqdn[: -len(zone_name) - 1]
    record["id"], record["name"] = f"{zone_id}/A/{relative}", relative
    record["properties"]["fqdn"] = fqdn + "."
    address = ILB_IP if vnet_integration else STALE_IP if world == "record-stale" else ENDPOINT_IP
    record["properties"]["aRecords"] = [{"ipv4Address": address}]

    endpoint_bodies = [parts.apiserver_ilb()] if vnet_integration else list(parts.private_endpoint())
    endpoint_bodies += parts.service_load_balancers() + parts.vmss_nics()
    extra: list[dict[str, Any]] = []
    if world == "shadowed":  # a leftover zone of an earlier cluster, more specific, linked to the hub, empty
        stale_id = net_id("rg-old", "privateDnsZones", CLUSTER_ZONE)
        stale = seed("private_dns_zone")
        stale["id"], stale["name"] = stale_id, CLUSTER_ZONE
        extra = [stale, parts.link(stale_id, "link-hub-old", HUB_VNET)]
    principal = cluster["identity"]["principalId"]
    extra.append(parts.role(rg_id(CLUSTER_RG), NETWORK_CONTRIBUTOR, principal))
    if private_dns_zone != "system" and world != "missing-role":
        extra.append(parts.role(zone_id, PRIVATE_DNS_ZONE_CONTRIBUTOR, principal))
    if world == "zone-none":
        return [cluster, hub, spoke, *endpoint_bodies, *extra]
    return [cluster, hub, spoke, zone, *links, record, *endpoint_bodies, *nsg_bodies, *extra]


def faults(world: str) -> dict[str, Any]:
    if world.startswith("lz-"):
        return enterprise.faults(world)
    for prefix, module in PREFIXED.items():
        if world.startswith(prefix) and hasattr(module, "faults"):
            found: dict[str, Any] = module.faults(world)
            return found
    if world != "denied":
        return {}
    action = "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read"
    return {
        "/virtualnetworklinks": {
            "status": 403,
            "code": "AuthorizationFailed",
            "message": (
                "The client 'aksdiag-lab' with object id '00000000-0000-0000-0000-0000000000aa' does not have "
                f"authorization to perform action '{action}' over scope "
                f"'{net_id(NODE_RG, 'privateDnsZones', CLUSTER_ZONE)}' or the scope is invalid."
            ),
        }
    }


def write(world: str, directory: str | Path) -> Path:
    """Write the world's resource files (and `_faults.json`) for `aksdiag lab arm --world DIR`."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for i, body in enumerate(build(world)):
        name = body.get("name") or str(body.get("_path") or body.get("id") or "document").rstrip("/").rsplit("/", 1)[-1]
        (out / f"{i:02d}-{name}.json").write_text(json.dumps(body, indent=1) + "\n")
    if faults(world):
        (out / "_faults.json").write_text(json.dumps(faults(world), indent=1) + "\n")
    return out
