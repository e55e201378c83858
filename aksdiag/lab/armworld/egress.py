"""ARM worlds of the way out: outbound types, route tables, NAT gateways, HTTP proxy, NIC NSGs, outboundNetworkDependenciesEndpoints (issue 15).

Every world starts from the healthy seed-000 world and is broken one way; its name starts with `egress-`. Each adds
what a real cluster's node resource group holds and the healthy world leaves out: the pool's scale set
(`arm_seeds/egress_vmss.json`, the shape `az vmss show` returns for an AKS pool, tags and NIC configuration
included) with the NSG AKS puts on its NICs, and the cluster's outboundNetworkDependenciesEndpoints list
(`armworld.dependencies`, the REST specification example's shape). Route tables, NAT gateways and public IPs are
built from the network SDK's own models (their REST shape), on the spoke's node subnet snet-aks.
"""

from __future__ import annotations

from typing import Any

from aksdiag.lab.armworld import dependencies
from aksdiag.lab.armworld.names import AKS_SUBNET, AKS_VNET, CLUSTER_RG, NODE_RG, REGION, VMSS, net_id, rg_id, seed
from aksdiag.lab.scenarios import ENDPOINT_IP

Body = dict[str, Any]

FIREWALL_IP = "10.1.1.4"
"""The hub's firewall (an address of vnet-hub, 10.1.0.0/16): the next hop of the worlds' default routes."""
ONPREM_PROXY = "192.168.20.5"
NIC_NSG = net_id(NODE_RG, "networkSecurityGroups", "aks-agentpool-12345678-nsg")
ROUTE_TABLE = net_id(CLUSTER_RG, "routeTables", "rt-aks")
NAT_GATEWAY = net_id(CLUSTER_RG, "natGateways", "ng-aks")

WORLDS: dict[str, str] = {
    "egress-healthy": "outbound type loadBalancer, the pool's scale set with the NSG AKS puts on its NICs, the "
    "cluster's outboundNetworkDependenciesEndpoints list: nothing in the way",
    "egress-udr-firewall": f"userDefinedRouting: the node subnet's route table sends 0.0.0.0/0 to the hub firewall "
    f"{FIREWALL_IP} (as it should; EG011 says what the firewall must allow)",
    "egress-route-none": "userDefinedRouting, and the default route's next hop is None: the nodes' egress is dropped",
    "egress-udr-no-default": "userDefinedRouting, and the route table holds only an on-premises route (no 0.0.0.0/0)",
    "egress-lb-with-udr": f"outbound type loadBalancer, and a default route to the firewall {FIREWALL_IP} on the node "
    "subnet (the load balancer's outbound is bypassed)",
    "egress-route-apiserver": f"a /32 route sends the API server's private endpoint {ENDPOINT_IP} to the firewall",
    "egress-route-node-range": "a route sends the node subnet's own 10.224.0.0/16 to None (the API server's "
    "endpoint is in it too)",
    "egress-bgp-off": f"BGP propagation off, a default route to the firewall, and the cluster's HTTP proxy "
    f"on-premises at {ONPREM_PROXY}: no route reaches it",
    "egress-nat-healthy": "userAssignedNATGateway: a NAT gateway with 2 public IPs on the node subnet",
    "egress-nat-no-ip": "userAssignedNATGateway, and the node subnet's NAT gateway has no public IP",
    "egress-nat-over-lb": "outbound type loadBalancer, and a NAT gateway with 2 public IPs on the node subnet",
    "egress-proxy-wildcard": "an HTTP proxy whose noProxy holds *.contoso.com (AKS does not support the wildcard)",
    "egress-private-subnet": "outbound type none on a private node subnet (defaultOutboundAccess false), no NAT "
    "gateway, no route: no way out",
    "egress-nsg-denies-https": "the NSG on the pool's NICs denies outbound TCP 443 to Internet",
}
"""World name → one line saying how it is broken (or that it is healthy)."""


def build(world: str) -> list[Body]:
    """The resource bodies (and documents) of `world`."""
    if world not in WORLDS:
        raise ValueError(f"unknown ARM world {world!r}; one of {', '.join(WORLDS)}")
    from aksdiag.lab.armworld import worlds

    bodies = worlds.build("healthy")
    cluster = next(b for b in bodies if b.get("type", "").lower() == "microsoft.containerservice/managedclusters")
    spoke = next(b for b in bodies if b["id"] == AKS_VNET)
    subnet = next(s for s in spoke["properties"]["subnets"] if s["id"] == AKS_SUBNET)
    network = cluster["properties"]["networkProfile"]
    extra: list[Body] = [scale_set(), nic_nsg(deny_https=world == "egress-nsg-denies-https")]
    extra += dependencies.documents(cluster["id"])

    def outbound(kind: str) -> None:
        network["outboundType"] = kind
        if kind != "loadBalancer":
            network.pop("loadBalancerProfile", None)

    def on_subnet(body: Body, key: str) -> None:
        subnet.setdefault("properties", {})[key] = {"id": body["id"]}
        extra.append(body)

    default = ("default", "0.0.0.0/0", "VirtualAppliance", FIREWALL_IP)
    if world in ("egress-udr-firewall", "egress-route-none", "egress-udr-no-default", "egress-bgp-off"):
        outbound("userDefinedRouting")
    if world == "egress-udr-firewall":
        on_subnet(route_table([default]), "routeTable")
    elif world == "egress-route-none":
        on_subnet(route_table([("default", "0.0.0.0/0", "None", "")]), "routeTable")
    elif world == "egress-udr-no-default":
        on_subnet(route_table([("to-onprem", "192.168.0.0/16", "VirtualNetworkGateway", "")]), "routeTable")
    elif world == "egress-lb-with-udr":
        on_subnet(route_table([default]), "routeTable")
    elif world == "egress-route-apiserver":
        on_subnet(route_table([("to-apiserver", f"{ENDPOINT_IP}/32", "VirtualAppliance", FIREWALL_IP)]), "routeTable")
    elif world == "egress-route-node-range":
        on_subnet(route_table([("blackhole-nodes", "10.224.0.0/16", "None", "")]), "routeTable")
    elif world == "egress-bgp-off":
        on_subnet(route_table([default], bgp_off=True), "routeTable")
        cluster["properties"]["httpProxyConfig"] = proxy(f"http://{ONPREM_PROXY}:3128/", [])
    elif world in ("egress-nat-healthy", "egress-nat-no-ip", "egress-nat-over-lb"):
        if world != "egress-nat-over-lb":
            outbound("userAssignedNATGateway")
        ips = [] if world == "egress-nat-no-ip" else [public_ip("pip-ng-aks-1", "20.41.70.1"),
                                                       public_ip("pip-ng-aks-2", "20.41.70.2")]  # fmt: skip
        extra += ips
        on_subnet(nat_gateway([p["id"] for p in ips]), "natGateway")
    elif world == "egress-proxy-wildcard":
        cluster["properties"]["httpProxyConfig"] = proxy("http://10.1.2.4:3128/", ["*.contoso.com"])
    elif world == "egress-private-subnet":
        outbound("none")
        subnet.setdefault("properties", {})["defaultOutboundAccess"] = False
    return [*bodies, *extra]


def scale_set() -> Body:
    """The pool's scale set in the node resource group: its NICs in snet-aks, with AKS's NSG on them."""
    body = seed("egress_vmss")
    body["id"] = f"{rg_id(NODE_RG)}/providers/Microsoft.Compute/virtualMachineScaleSets/{VMSS}"
    body["name"], body["location"] = VMSS, REGION
    (config,) = body["properties"]["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"]
    config["properties"]["networkSecurityGroup"] = {"id": NIC_NSG}
    config["properties"]["ipConfigurations"][0]["properties"]["subnet"] = {"id": AKS_SUBNET}
    return body


def nic_nsg(deny_https: bool) -> Body:
    """The NSG AKS puts on the pool's NICs (no rules of its own but what Services add); `deny_https` adds the rule
    a hardening policy writes."""
    from azure.mgmt.network.models import NetworkSecurityGroup, SecurityRule

    rules = []
    if deny_https:
        rules.append(SecurityRule(
            name="deny-internet-https", priority=200, direction="Outbound", access="Deny", protocol="Tcp",
            source_address_prefix="*", source_port_range="*", destination_address_prefix="Internet",
            destination_port_range="443",
        ))  # fmt: skip
    body: Body = NetworkSecurityGroup(id=NIC_NSG, location=REGION, security_rules=rules).as_dict()
    body["name"], body["type"] = NIC_NSG.rsplit("/", 1)[1], "Microsoft.Network/networkSecurityGroups"
    return body


def route_table(routes: list[tuple[str, str, str, str]], bgp_off: bool = False) -> Body:
    """rt-aks with (name, prefix, next hop type, next hop IP) routes."""
    from azure.mgmt.network.models import Route, RouteTable

    body: Body = RouteTable(
        id=ROUTE_TABLE, location=REGION, disable_bgp_route_propagation=bgp_off,
        routes=[Route(id=f"{ROUTE_TABLE}/routes/{n}", name=n, address_prefix=p, next_hop_type=t,
                      next_hop_ip_address=ip or None) for n, p, t, ip in routes],
    ).as_dict()  # fmt: skip
    body["name"], body["type"] = "rt-aks", "Microsoft.Network/routeTables"
    body["properties"]["provisioningState"] = "Succeeded"
    for r in body["properties"]["routes"]:
        r["type"] = "Microsoft.Network/routeTables/routes"
        r["properties"]["provisioningState"] = "Succeeded"
    return body


def nat_gateway(public_ip_ids: list[str], idle_minutes: int = 4) -> Body:
    from azure.mgmt.network.models import NatGateway, NatGatewaySku, SubResource

    body: Body = NatGateway(
        id=NAT_GATEWAY, location=REGION, sku=NatGatewaySku(name="Standard"), idle_timeout_in_minutes=idle_minutes,
        public_ip_addresses=[SubResource(id=i) for i in public_ip_ids],
    ).as_dict()  # fmt: skip
    body["name"], body["type"] = "ng-aks", "Microsoft.Network/natGateways"
    body["properties"]["provisioningState"] = "Succeeded"
    body["properties"]["subnets"] = [{"id": AKS_SUBNET}]
    return body


def public_ip(name: str, address: str) -> Body:
    from azure.mgmt.network.models import PublicIPAddress, PublicIPAddressSku

    pip_id = net_id(CLUSTER_RG, "publicIPAddresses", name)
    body: Body = PublicIPAddress(
        id=pip_id, location=REGION, sku=PublicIPAddressSku(name="Standard"), ip_address=address,
        public_ip_allocation_method="Static",
    ).as_dict()  # fmt: skip
    body["name"], body["type"] = name, "Microsoft.Network/publicIPAddresses"
    return body


def proxy(url: str, no_proxy_extra: list[str]) -> Body:
    """httpProxyConfig as the managedClusters GET returns it (Learn's example values: a proxy, noProxy with
    localhost and the cluster's own names)."""
    return {"httpProxy": url, "httpsProxy": url,
            "noProxy": ["localhost", "127.0.0.1", ".svc", ".cluster.local", "10.224.0.0/12", *no_proxy_extra]}  # fmt: skip
