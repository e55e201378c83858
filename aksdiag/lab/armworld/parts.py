"""The resources of the ARM worlds, one builder each: from a real payload in arm_seeds/ where a recording has one,
else from the network SDK's own models (subnets, NSG, load balancers, private endpoint, NICs).

The SDK's models are built with their flattened keywords (Subnet(address_prefix=…)), which the SDK accepts at run
time (the lab's tests show it) but its typed overloads don't declare (they name only properties=): hence pyproject's call-overload override
for aksdiag.lab.armworld.*.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from aksdiag.lab.armworld.names import (
    AKS_SUBNET,
    API_SUBNET,
    CLUSTER_RG,
    INTERNAL_LB_IP,
    NODE_RG,
    PUBLIC_LB_IP,
    REGION,
    SUBSCRIPTION,
    VMSS,
    net_id,
    rg_id,
    seed,
)
from aksdiag.lab.scenarios import ENDPOINT_IP, ILB_IP


def vnet(
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


def peer(local: dict[str, Any], remote: dict[str, Any], state: str, peering: dict[str, Any] | None = None) -> None:
    """local's peering to remote, in `state`, from the recorded peering (`peering`: a copy of it already parsed)."""
    peering = peering if peering is not None else seed("virtual_network_peering")
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


def link(zone_id: str, name: str, vnet_id: str) -> dict[str, Any]:
    link = seed("virtual_network_link")
    link["id"], link["name"] = f"{zone_id}/virtualNetworkLinks/{name}", name
    link["properties"]["virtualNetwork"] = {"id": vnet_id}
    return link


def role(scope: str, role: str, principal: str) -> dict[str, Any]:
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


def service_load_balancers() -> list[dict[str, Any]]:
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


def apiserver_nsg(deny_4443: bool) -> dict[str, Any]:
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


def apiserver_ilb() -> dict[str, Any]:
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


def private_endpoint() -> tuple[dict[str, Any], dict[str, Any]]:
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
