"""ARM worlds of node paths and the konnectivity tunnel: TCP 10250 between nodes, nodes to the API server, NIC NSGs (issue 15).

Every world starts from the healthy one (or, for `tunnel-vnet-integration*`, the VNet-integration one) and gives the
cluster a second, User pool on its own subnet, `snet-user`; each node subnet gets an NSG, and each pool's scale set
(`arm_seeds/tunnel_scale_set.json`, the REST shape of a Microsoft.Compute/virtualMachineScaleSets GET) puts AKS's
`aks-agentpool-<suffix>-nsg` on its NICs, as AKS does for a pool on a subnet of one's own. Then one thing is broken.
The worlds whose break is on the Kubernetes side (the konnectivity-agent pods, aksdiag.lab.tunnelworld) keep the
healthy ARM bodies. Names start with `tunnel-`.
"""

from __future__ import annotations

import copy
from typing import Any

from aksdiag.lab.armworld.names import AKS_SUBNET, AKS_VNET, NODE_RG, REGION, net_id, rg_id, seed

Body = dict[str, Any]

WORLDS: dict[str, str] = {
    "tunnel-healthy": "a System and a User pool on their own subnets, subnet and NIC NSGs that let 10250 and 443 "
    "through; konnectivity-agent ready on the System pool",
    "tunnel-10250-blocked": "the User pool's subnet NSG denies TCP 10250 from the VNet: kubectl logs/exec work only "
    "for pods on the System pool, where konnectivity-agent runs",
    "tunnel-nic-10250-blocked": "AKS's NSG on the pools' NICs was edited to deny TCP 10250 inbound",
    "tunnel-apiserver-blocked": "the System pool's subnet NSG denies TCP 443 outbound to the VNet: its nodes cannot "
    "reach the API server's private endpoint, and konnectivity-agent crash-loops",
    "tunnel-agents-crashloop": "both konnectivity-agent pods crash-loop (CrashLoopBackOff, 14 restarts): no tunnel",
    "tunnel-agent-not-ready": "one of the two konnectivity-agent pods is stuck Pending, not ready",
    "tunnel-agents-missing": "no konnectivity-agent pod in kube-system: nothing carries the tunnel",
    "tunnel-vnet-integration": "API Server VNet Integration: no tunnel and no agents; the API server subnet reaches "
    "the kubelets",
    "tunnel-vnet-integration-10250": "API Server VNet Integration, and the User pool's subnet NSG denies TCP 10250 "
    "from the API server subnet",
}
"""World name → one line saying how it is broken (or that it is healthy)."""

USER_SUBNET = AKS_VNET + "/subnets/snet-user"
USER_PREFIX = "10.226.0.0/16"
SUFFIX = "12345678"
POOLS = {"nodepool1": (AKS_SUBNET, 3), "userpool": (USER_SUBNET, 2)}
"""Pool → (its subnet, its node count)."""
NIC_NSG = net_id(NODE_RG, "networkSecurityGroups", f"aks-agentpool-{SUFFIX}-nsg")
SUBNET_NSGS = {AKS_SUBNET: net_id("rg-aks", "networkSecurityGroups", "nsg-snet-aks"),
               USER_SUBNET: net_id("rg-aks", "networkSecurityGroups", "nsg-snet-user")}  # fmt: skip


def scale_set_name(pool: str) -> str:
    return f"aks-{pool}-{SUFFIX}-vmss"


def build(world: str) -> list[Body]:
    """The resource bodies (and documents) of `world`."""
    if world not in WORLDS:
        raise ValueError(f"unknown ARM world {world!r}; one of {', '.join(WORLDS)}")
    from aksdiag.lab.armworld import worlds

    integrated = world.startswith("tunnel-vnet-integration")
    bodies = worlds.build("vnet-integration" if integrated else "healthy")
    cluster = next(b for b in bodies if b.get("type", "").lower() == "microsoft.containerservice/managedclusters")
    vnet = next(b for b in bodies if b.get("id") == AKS_VNET)
    pools = cluster["properties"]["agentPoolProfiles"]
    system = pools[0]
    system.update(count=POOLS["nodepool1"][1], mode="System")
    user = copy.deepcopy(system)
    user.update(name="userpool", mode="User", count=POOLS["userpool"][1], vnetSubnetID=USER_SUBNET)
    pools.append(user)

    subnets = vnet["properties"]["subnets"]
    node_subnet = next(s for s in subnets if s["id"] == AKS_SUBNET)
    user_subnet = copy.deepcopy(node_subnet)
    user_subnet.update(id=USER_SUBNET, name="snet-user")
    user_subnet["properties"]["addressPrefix"] = USER_PREFIX
    subnets.append(user_subnet)
    for s in (node_subnet, user_subnet):
        s["properties"]["networkSecurityGroup"] = {"id": SUBNET_NSGS[s["id"]]}

    api_prefix = next((s["properties"]["addressPrefix"] for s in subnets if s["name"] == "snet-apiserver"), "")
    nsgs = [
        _nsg(
            SUBNET_NSGS[AKS_SUBNET], _subnet_rules([_deny_https_out()] if world == "tunnel-apiserver-blocked" else [])
        ),
        _nsg(SUBNET_NSGS[USER_SUBNET], _subnet_rules(_user_breaks(world, api_prefix))),
        _nsg(NIC_NSG, [_deny_kubelet("VirtualNetwork")] if world == "tunnel-nic-10250-blocked" else []),
    ]
    return [*bodies, *nsgs, *(_scale_set(pool, subnet, count) for pool, (subnet, count) in POOLS.items())]


def _user_breaks(world: str, api_prefix: str) -> list[Body]:
    if world == "tunnel-10250-blocked":
        return [_deny_kubelet("VirtualNetwork")]
    if world == "tunnel-vnet-integration-10250":
        return [_deny_kubelet(api_prefix)]
    return []


def _rule(name: str, priority: int, direction: str, access: str, source: str, destination: str, port: str) -> Body:
    from azure.mgmt.network.models import SecurityRule

    return SecurityRule(name=name, priority=priority, direction=direction, access=access, protocol="Tcp",
                        source_address_prefix=source, source_port_range="*", destination_address_prefix=destination,
                        destination_port_range=port)  # fmt: skip


def _subnet_rules(extra: list[Any]) -> list[Any]:
    """A landing zone's usual node subnet NSG: HTTPS in from the VNet, nothing from the internet; and the break."""
    return [
        _rule("allow-https-from-vnet", 300, "Inbound", "Allow", "VirtualNetwork", "*", "443"),
        _rule("deny-internet-inbound", 4000, "Inbound", "Deny", "Internet", "*", "*"),
        *extra,
    ]


def _deny_kubelet(source: str) -> Any:
    """The hardening rule that breaks the tunnel: the kubelet port closed to the VNet (or the API server subnet)."""
    return _rule("deny-kubelet-inbound", 200, "Inbound", "Deny", source, "*", "10250")


def _deny_https_out() -> Any:
    return _rule("deny-https-outbound-vnet", 250, "Outbound", "Deny", "*", "VirtualNetwork", "443")


def _nsg(nsg_id: str, rules: list[Any]) -> Body:
    from azure.mgmt.network.models import NetworkSecurityGroup

    body: Body = NetworkSecurityGroup(id=nsg_id, location=REGION, security_rules=rules).as_dict()
    body["name"], body["type"] = nsg_id.rsplit("/", 1)[1], "Microsoft.Network/networkSecurityGroups"
    for rule in body["properties"].get("securityRules") or []:
        rule["id"] = f"{nsg_id}/securityRules/{rule['name']}"
    return body


def _scale_set(pool: str, subnet_id: str, count: int) -> Body:
    body = seed("tunnel_scale_set")
    name = scale_set_name(pool)
    body["name"], body["location"] = name, REGION
    body["id"] = f"{rg_id(NODE_RG)}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"
    body["tags"]["aks-managed-poolName"] = pool
    body["tags"]["aks-managed-creationSource"] = f"vmssclient-{name}"
    body["sku"]["capacity"] = count
    profile = body["properties"]["virtualMachineProfile"]
    profile["osProfile"]["computerNamePrefix"] = name
    (config,) = profile["networkProfile"]["networkInterfaceConfigurations"]
    config["name"] = name
    config["properties"]["networkSecurityGroup"]["id"] = NIC_NSG
    config["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"] = subnet_id
    return body
