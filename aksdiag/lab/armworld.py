"""ARM worlds for the fake ARM: the seed-000 topology (a hub VNet with a custom DNS server, a peered spoke
with a private cluster, its private DNS zone and links, the API server's private endpoint), healthy or broken.

Bodies start from real Azure payloads (`arm_seeds/`, copied from Azure CLI recordings) with ids and names
rewritten; what no recording covers (subnets, private endpoint, NIC) is built from the SDK's own models.
The names and addresses match the DNS lab's scenarios (aksdiag.lab.scenarios), so a world can be broken
consistently on both planes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

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

SEEDS = Path(__file__).parent / "arm_seeds"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
REGION = "koreacentral"
CLUSTER_RG, CLUSTER = "rg-aks", "aks-lab"
HUB_RG, DNS_SERVER_IP = "rg-hub", "10.1.0.4"
NODE_RG = f"MC_{CLUSTER_RG}_{CLUSTER}_{REGION}"

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
}


def seed(name: str) -> dict[str, Any]:
    return json.loads((SEEDS / f"{name}.json").read_text())


def rg_id(rg: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}"


def net_id(rg: str, kind: str, name: str) -> str:
    return f"{rg_id(rg)}/providers/Microsoft.Network/{kind}/{name}"


HUB_VNET = net_id(HUB_RG, "virtualNetworks", "vnet-hub")
AKS_VNET = net_id(CLUSTER_RG, "virtualNetworks", "vnet-aks")
AKS_SUBNET = AKS_VNET + "/subnets/snet-aks"
API_SUBNET = AKS_VNET + "/subnets/snet-apiserver"


def build(world: str = "healthy") -> list[dict[str, Any]]:
    """The resource bodies of a world, by name (see WORLDS)."""
    if world not in WORLDS:
        raise ValueError(f"unknown ARM world {world!r}; one of {', '.join(WORLDS)}")
    if world.startswith("lb-"):
        from aksdiag.lab import lbworld

        return lbworld.arm(world)
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

    hub = _vnet(HUB_VNET, "10.1.0.0/16", [("snet-dns", "10.1.0.0/24", {})], dns_servers=[])
    node_prefix = "10.224.0.0/24" if world == "subnet-full" else "10.224.0.0/16"
    subnets: list[tuple[str, str, dict[str, Any]]] = [("snet-aks", node_prefix, {})]
    nsg_bodies: list[dict[str, Any]] = []
    if vnet_integration:
        small = world == "apiserver-subnet-small"
        nsg = _apiserver_nsg(deny_4443=world == "nsg-blocks-4443")
        nsg_bodies.append(nsg)
        subnets.append(
            (
                "snet-apiserver",
                "10.225.0.0/29" if small else "10.225.0.0/28",
                {"delegated": not small, "nsg": nsg["id"]},
            )
        )
    spoke = _vnet(AKS_VNET, "10.224.0.0/12", subnets, dns_servers=[DNS_SERVER_IP])
    _peer(spoke, hub, "Disconnected" if world == "peering-down" else "Connected")
    _peer(hub, spoke, "Disconnected" if world == "peering-down" else "Connected")

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
    links = [_link(zone_id, "link-aks", AKS_VNET)]
    if world != "hub-not-linked":
        links.append(_link(zone_id, "link-hub", HUB_VNET))
    zone["properties"]["numberOfVirtualNetworkLinks"] = len(links)
    record = seed("a_record_set")
    relative = fqdn[: -len(zone_name) - 1]
    record["id"], record["name"] = f"{zone_id}/A/{relative}", relative
    record["properties"]["fqdn"] = fqdn + "."
    address = ILB_IP if vnet_integration else STALE_IP if world == "record-stale" else ENDPOINT_IP
    record["properties"]["aRecords"] = [{"ipv4Address": address}]

    endpoint_bodies = [_apiserver_ilb()] if vnet_integration else list(_private_endpoint())
    endpoint_bodies += _service_load_balancers() + vmss_nics()
    extra: list[dict[str, Any]] = []
    if world == "shadowed":  # a leftover zone of an earlier cluster, more specific, linked to the hub, empty
        stale_id = net_id("rg-old", "privateDnsZones", CLUSTER_ZONE)
        stale = seed("private_dns_zone")
        stale["id"], stale["name"] = stale_id, CLUSTER_ZONE
        extra = [stale, _link(stale_id, "link-hub-old", HUB_VNET)]
    principal = cluster["identity"]["principalId"]
    extra.append(_role(rg_id(CLUSTER_RG), NETWORK_CONTRIBUTOR, principal))
    if private_dns_zone != "system" and world != "missing-role":
        extra.append(_role(zone_id, PRIVATE_DNS_ZONE_CONTRIBUTOR, principal))
    if world == "zone-none":
        return [cluster, hub, spoke, *endpoint_bodies, *extra]
    return [cluster, hub, spoke, zone, *links, record, *endpoint_bodies, *nsg_bodies, *extra]


def faults(world: str) -> dict[str, Any]:
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
        (out / f"{i:02d}-{body['name']}.json").write_text(json.dumps(body, indent=1) + "\n")
    if faults(world):
        (out / "_faults.json").write_text(json.dumps(faults(world), indent=1) + "\n")
    return out


def _vnet(
    vnet_id: str, prefix: str, subnets: list[tuple[str, str, dict[str, Any]]], dns_servers: list[str]
) -> dict[str, Any]:
    from azure.mgmt.network.models import Delegation, NetworkSecurityGroup, Subnet

    body = seed("virtual_network")
    body["id"], body["name"], body["location"] = vnet_id, vnet_id.rsplit("/", 1)[1], REGION
    props = body["properties"]
    props["addressSpace"]["addressPrefixes"] = [prefix]
    props["dhcpOptions"]["dnsServers"] = dns_servers
    props["subnets"] = [
        Subnet(
            id=f"{vnet_id}/subnets/{name}", name=name, address_prefix=cidr,
            delegations=[Delegation(name="aks", service_name="Microsoft.ContainerService/managedClusters")]
            if extra.get("delegated") else None,
            network_security_group=NetworkSecurityGroup(id=extra["nsg"]) if extra.get("nsg") else None,
        ).as_dict()
        for name, cidr, extra in subnets
    ]  # fmt: skip
    props["virtualNetworkPeerings"] = []
    return body


def _peer(local: dict[str, Any], remote: dict[str, Any], state: str) -> None:
    peering = seed("virtual_network_peering")
    name = f"peer-to-{remote['name']}"
    peering["id"], peering["name"] = f"{local['id']}/virtualNetworkPeerings/{name}", name
    p = peering["properties"]
    p["peeringState"] = state
    p["peeringSyncLevel"] = "FullyInSync" if state == "Connected" else "LocalNotInSync"
    p["remoteVirtualNetwork"] = {"id": remote["id"]}
    p["allowVirtualNetworkAccess"], p["useRemoteGateways"] = True, False
    p.pop("remoteGateways", None)
    prefixes = copy.deepcopy(remote["properties"]["addressSpace"])
    p["remoteAddressSpace"] = p["remoteVirtualNetworkAddressSpace"] = prefixes
    local["properties"]["virtualNetworkPeerings"].append(peering)


def _link(zone_id: str, name: str, vnet_id: str) -> dict[str, Any]:
    link = seed("virtual_network_link")
    link["id"], link["name"] = f"{zone_id}/virtualNetworkLinks/{name}", name
    link["properties"]["virtualNetwork"] = {"id": vnet_id}
    return link


NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"


def _role(scope: str, role: str, principal: str) -> dict[str, Any]:
    from azure.mgmt.authorization.models import RoleAssignment

    guid = hashlib.sha256(f"{scope}|{role}".encode()).hexdigest()[:12]
    assignment = RoleAssignment(
        role_definition_id=f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}",
        principal_id=principal,
        principal_type="ServicePrincipal",
    )
    body: dict[str, Any] = dict(assignment.serialize())  # then what only Azure sets (read-only in the SDK's types)
    body["id"] = f"{scope}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-0000-0000-{guid}"
    body["name"] = body["id"].rsplit("/", 1)[1]
    body["type"] = "Microsoft.Authorization/roleAssignments"
    body["properties"]["scope"] = scope
    return body


PUBLIC_LB_IP = "20.41.65.9"
INTERNAL_LB_IP = "10.224.0.200"


def _service_load_balancers() -> list[dict[str, Any]]:
    """The managed `kubernetes` (public) and `kubernetes-internal` load balancers, with one frontend each."""
    from azure.mgmt.network.models import FrontendIPConfiguration, LoadBalancer, PublicIPAddress, Subnet

    pip_id = net_id(NODE_RG, "publicIPAddresses", "kubernetes-a1b2c3d4e5f6")
    pip = PublicIPAddress(
        id=pip_id, location=REGION, ip_address=PUBLIC_LB_IP, public_ip_allocation_method="Static"
    ).as_dict()
    pip["name"], pip["type"] = "kubernetes-a1b2c3d4e5f6", "Microsoft.Network/publicIPAddresses"
    bodies = [pip]
    for name, frontend in (
        ("kubernetes", FrontendIPConfiguration(name="a1b2c3d4e5f6", public_ip_address=PublicIPAddress(id=pip_id))),
        ("kubernetes-internal", FrontendIPConfiguration(name="b2c3d4e5f6a1", private_ip_address=INTERNAL_LB_IP,
                                                        subnet=Subnet(id=AKS_SUBNET))),
    ):  # fmt: skip
        lb_id = net_id(NODE_RG, "loadBalancers", name)
        frontend.id = f"{lb_id}/frontendIPConfigurations/{frontend.name}"
        body = LoadBalancer(id=lb_id, location=REGION, frontend_ip_configurations=[frontend]).as_dict()
        body["name"], body["type"] = name, "Microsoft.Network/loadBalancers"
        bodies.append(body)
    return bodies


VMSS = "aks-nodepool1-12345678-vmss"


def vmss_nics(instances: int = 3, max_pods: int = 30) -> list[dict[str, Any]]:
    """Classic Azure CNI: each VMSS instance's NIC holds its node IP and max-pods secondary IPs, laid out as in
    aksdiag.lab.kubeworlds (node .4, its pods .5-.34, next node .35…)."""
    from azure.mgmt.network.models import NetworkInterface, NetworkInterfaceIPConfiguration, SubResource

    vmss_id = f"{rg_id(NODE_RG)}/providers/Microsoft.Compute/virtualMachineScaleSets/{VMSS}"
    bodies = []
    for i in range(instances):
        base = 4 + i * (max_pods + 1)
        nic_id = f"{vmss_id}/virtualMachines/{i}/networkInterfaces/{VMSS}"
        configs = [
            NetworkInterfaceIPConfiguration(
                id=f"{nic_id}/ipConfigurations/ipconfig{k + 1}", name=f"ipconfig{k + 1}", primary=k == 0,
                private_ip_address=f"10.240.0.{base + k}", private_ip_allocation_method="Dynamic",
            )
            for k in range(max_pods + 1)
        ]  # fmt: skip
        nic = NetworkInterface(id=nic_id, location=REGION, ip_configurations=configs).as_dict()
        nic["name"], nic["type"] = VMSS, "Microsoft.Network/networkInterfaces"
        nic["properties"]["virtualMachine"] = SubResource(id=f"{vmss_id}/virtualMachines/{i}").as_dict()
        bodies.append(nic)
    return bodies


def _apiserver_nsg(deny_4443: bool) -> dict[str, Any]:
    from azure.mgmt.network.models import NetworkSecurityGroup, SecurityRule

    nsg_id = net_id(CLUSTER_RG, "networkSecurityGroups", "nsg-apiserver")
    rules = [
        SecurityRule(
            name="allow-https-from-vnet", priority=300, direction="Inbound", access="Allow", protocol="Tcp",
            source_address_prefix="VirtualNetwork", source_port_range="*", destination_address_prefix="*",
            destination_port_range="443",
        ),
        SecurityRule(
            name="deny-internet", priority=4000, direction="Inbound", access="Deny", protocol="*",
            source_address_prefix="Internet", source_port_range="*", destination_address_prefix="*",
            destination_port_range="*",
        ),
    ]  # fmt: skip
    if deny_4443:
        rules.append(
            SecurityRule(
                name="deny-4443",
                priority=200,
                direction="Inbound",
                access="Deny",
                protocol="Tcp",
                source_address_prefix="VirtualNetwork",
                source_port_range="*",
                destination_address_prefix="*",
                destination_port_range="4443",
            )
        )
    body = NetworkSecurityGroup(id=nsg_id, location=REGION, security_rules=rules).as_dict()
    body["name"], body["type"] = "nsg-apiserver", "Microsoft.Network/networkSecurityGroups"
    return body


def _apiserver_ilb() -> dict[str, Any]:
    """The internal load balancer AKS puts in front of a VNet-integrated API server."""
    from azure.mgmt.network.models import FrontendIPConfiguration, LoadBalancer, Subnet

    lb_id = net_id(NODE_RG, "loadBalancers", "kube-apiserver")
    body = LoadBalancer(
        id=lb_id,
        location=REGION,
        frontend_ip_configurations=[
            FrontendIPConfiguration(
                id=lb_id + "/frontendIPConfigurations/kube-apiserver-frontend",
                name="kube-apiserver-frontend",
                private_ip_address=ILB_IP,
                private_ip_allocation_method="Static",
                subnet=Subnet(id=API_SUBNET),
            )
        ],
    ).as_dict()
    body["name"], body["type"] = "kube-apiserver", "Microsoft.Network/loadBalancers"
    return body


def _private_endpoint() -> tuple[dict[str, Any], dict[str, Any]]:
    from azure.mgmt.network.models import (
        NetworkInterface,
        NetworkInterfaceIPConfiguration,
        PrivateEndpoint,
        PrivateLinkServiceConnection,
        Subnet,
    )
    from azure.mgmt.network.models import (
        NetworkInterface as NicRef,
    )

    nic_id = net_id(NODE_RG, "networkInterfaces", "kube-apiserver.nic.5e2c1a7b")
    endpoint = PrivateEndpoint(
        id=net_id(NODE_RG, "privateEndpoints", "kube-apiserver"),
        location=REGION,
        subnet=Subnet(id=AKS_SUBNET),
        private_link_service_connections=[
            PrivateLinkServiceConnection(
                id=net_id(NODE_RG, "privateEndpoints", "kube-apiserver")
                + "/privateLinkServiceConnections/kube-apiserver",
                name="kube-apiserver",
                group_ids=["management"],
            )
        ],
    ).as_dict()
    endpoint["name"] = "kube-apiserver"
    endpoint["type"] = "Microsoft.Network/privateEndpoints"
    endpoint["properties"]["networkInterfaces"] = [NicRef(id=nic_id).as_dict()]
    nic = NetworkInterface(
        id=nic_id,
        location=REGION,
        ip_configurations=[
            NetworkInterfaceIPConfiguration(
                id=nic_id + "/ipConfigurations/privateEndpointIpConfig",
                name="privateEndpointIpConfig",
                private_ip_address=ENDPOINT_IP,
                private_ip_allocation_method="Dynamic",
                subnet=Subnet(id=AKS_SUBNET),
            )
        ],
    ).as_dict()
    nic["name"] = nic_id.rsplit("/", 1)[1]
    nic["type"] = "Microsoft.Network/networkInterfaces"
    return endpoint, nic


# The load balancer worlds (aksdiag lb) build on the healthy world above; lbworld registers them in WORLDS when it
# is imported. Imported last, and only when lbworld is not the module importing this one (it then registers itself).
if "aksdiag.lab.lbworld" not in sys.modules:
    from aksdiag.lab import lbworld  # noqa: F401
