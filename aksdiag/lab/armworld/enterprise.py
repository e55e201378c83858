"""The landing-zone ARM worlds (`lz-*`): two subscriptions as the Cloud Adoption Framework lays them out (names, ids
and addresses from landing), healthy and broken one way each; tests/test_enterprise_e2e.py's table says what each
must raise on both planes.

Bodies start from the REST API specification's example payloads, copied into arm_seeds/ with our ids and names
(dns_resolver, inbound_endpoint, outbound_endpoint, dns_forwarding_ruleset, forwarding_rule,
ruleset_virtual_network_link: dnsresolver 2022-07-01; azure_firewall, firewall_policy: network 2023-09-01;
private_endpoint_connection: containerservice 2024-02-01; virtual_machine: compute 2024-03-01;
user_assigned_identity, role_definition, builtin_roles (the built-in roles' permissions as Azure publishes them),
subscription) and from the Azure CLI recordings seed-000 uses (VNet, peering, zone, link, record, cluster);
NICs and private endpoints from the network SDK's models, as parts builds them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from aksdiag.lab.armworld import landing as lz
from aksdiag.lab.armworld import parts
from aksdiag.lab.armworld.names import (
    CLUSTER,
    CLUSTER_RG,
    NETWORK_CONTRIBUTOR,
    NODE_RG,
    PRIVATE_DNS_ZONE_CONTRIBUTOR,
    REGION,
    seed,
)
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP, FORWARD_ZONE, PUBLIC_FQDN

Body = dict[str, Any]
READER, CONTRIBUTOR, OWNER = (
    "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
)
IDENTITY_CLIENT = "3a9e5c1d-2b4f-4d6a-8c0e-7f1a2b3c4d5e"
UBUNTU = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "version": "latest",
}


@dataclass(frozen=True)
class Rule:
    name: str
    domain: str
    targets: tuple[str, ...]
    enabled: bool = True


CORP = Rule("corp", f"{lz.ONPREM_DOMAIN}.", (lz.ONPREM_DNS_IP,))
CATCH_ALL = Rule("catch-all", ".", (lz.ONPREM_DNS_IP,))
PARENT = Rule("azmk8s", "azmk8s.io.", (lz.ONPREM_DNS_IP,))
ZONE_ONPREM = Rule("aks-private-zone", f"{FORWARD_ZONE}.", (lz.ONPREM_DNS_IP,))
ZONE_INBOUND = Rule("aks-private-zone", f"{FORWARD_ZONE}.", (lz.INBOUND_IP,))


@dataclass(frozen=True)
class Spec:
    """One lz world: what differs from lz-healthy."""

    spoke_dns: tuple[str, ...] = (lz.FIREWALL_IP,)
    zone_links: tuple[str, ...] = ("hub",)
    """The VNets (hub, spoke) the central zone is linked to."""
    rules: tuple[Rule, ...] = (CORP,)
    """rs-hub's rules."""
    ruleset_links: tuple[str, ...] = ("spoke", "hub")
    spoke_rules: tuple[Rule, ...] = ()
    """rs-spoke's rules (a second ruleset, linked to vnet-aks only), when there is one."""
    proxy: bool = True
    proxy_servers: tuple[str, ...] = ()
    linux_dns_vm: bool = False
    jumpbox: bool = False
    jump_record: str = lz.JUMP_ENDPOINT_IP
    zone_role: str = PRIVATE_DNS_ZONE_CONTRIBUTOR
    custom_actions: tuple[str, ...] = ("Microsoft.Network/privateDnsZones/*",)
    zone_gone: bool = False
    hidden: tuple[str, ...] = field(default=())
    """Subscriptions the identity cannot read (the fake ARM's hidden_subscriptions)."""


HEALTHY = Spec()
SPOKE_AZURE = Spec(spoke_dns=(), zone_links=("hub", "spoke"))
RULES = Spec(spoke_dns=(), ruleset_links=("spoke",))
"""The rule worlds: the spoke uses Azure DNS, the zone is linked to the hub only, rs-hub to the spoke only; so
Azure DNS from the spoke has no linked zone for the name, and rs-hub's rules decide where it goes."""
FIXED = replace(RULES, rules=(CORP, CATCH_ALL, ZONE_INBOUND))
RESOLVER = Spec(spoke_dns=(lz.INBOUND_IP,))
JUMPBOX = Spec(jumpbox=True)

SPECS: dict[str, tuple[str, Spec]] = {
    "lz-healthy": ("landing zone: the spoke asks the hub firewall's DNS proxy (to Azure DNS); zone linked to the hub",
                   HEALTHY),
    "lz-resolver": ("landing zone: the spoke asks the Private Resolver's inbound endpoint 10.1.2.4", RESOLVER),
    "lz-azure-dns": ("landing zone: the spoke uses Azure DNS, the zone is linked to it too", SPOKE_AZURE),
    "lz-catch-all": ("landing zone: a catch-all rule '.' linked to the spoke, and no rule for the zone: the "
                     "catch-all leaves azmk8s.io to Azure DNS from the spoke, where the zone is not linked",
                     replace(RULES, rules=(CORP, CATCH_ALL))),
    "lz-parent-rule": ("landing zone: a rule for azmk8s.io. linked to the spoke sends the zone on premises",
                       replace(RULES, rules=(CORP, PARENT))),
    "lz-rule-target": ("landing zone: the zone's own rule forwards on premises, not to an inbound endpoint",
                       replace(RULES, rules=(CORP, ZONE_ONPREM))),
    "lz-rule-fixed": ("landing zone: the catch-all, and the zone's rule to the inbound endpoint (the fix)", FIXED),
    "lz-rule-disabled": ("landing zone: the zone's rule is Disabled; past it the catch-all leaves azmk8s.io to "
                         "Azure DNS from the spoke, where the zone is not linked",
                         replace(FIXED, rules=(CORP, CATCH_ALL, replace(ZONE_INBOUND, enabled=False)))),
    "lz-rules-zone-linked": ("landing zone: rules send '.', azmk8s.io. and the zone on premises, but the zone is "
                             "linked to the spoke too, and a linked zone answers before any rule",
                             replace(RULES, zone_links=("hub", "spoke"),
                                     rules=(CORP, CATCH_ALL, PARENT, ZONE_ONPREM))),
    "lz-ruleset-conflict": ("landing zone: the spoke asks the inbound endpoint, while rs-spoke linked to it sends "
                            "the zone on premises", replace(RESOLVER, ruleset_links=("hub",),
                                                            spoke_rules=(ZONE_ONPREM,))),
    "lz-inbound-unlinked": ("landing zone: the spoke asks the inbound endpoint; the zone is linked to no VNet",
                            replace(RESOLVER, zone_links=())),
    "lz-firewall-unlinked": ("landing zone: the spoke asks the firewall's proxy; the zone is not linked to the hub",
                             replace(HEALTHY, zone_links=())),
    "lz-proxy-off": ("landing zone: the spoke's DNS server is the firewall, whose DNS proxy is off",
                     replace(HEALTHY, proxy=False)),
    "lz-proxy-servers": ("landing zone: the firewall's proxy forwards to vm-dns01 and the inbound endpoint (random)",
                         replace(HEALTHY, proxy_servers=(lz.DNS_VM_IP, lz.INBOUND_IP))),
    "lz-windows-dns": ("landing zone: the spoke asks vm-dns01 (Windows Server DNS)", Spec(spoke_dns=(lz.DNS_VM_IP,))),
    "lz-linux-dns": ("landing zone: the spoke asks vm-dns01 (Ubuntu: BIND or unbound)",
                     Spec(spoke_dns=(lz.DNS_VM_IP,), linux_dns_vm=True)),
    "lz-second-endpoint": ("landing zone: a jump box VNet with its own private endpoint 10.50.0.5 and zone", JUMPBOX),
    "lz-second-stale": ("landing zone: the jump box zone's record points at 10.50.0.9, not its endpoint",
                        replace(JUMPBOX, jump_record=lz.JUMP_STALE_IP)),
    "lz-custom-role": ("landing zone: the identity's zone role is a custom role granting privateDnsZones/*",
                       Spec(zone_role=lz.CUSTOM_ROLE)),
    "lz-custom-role-read": ("landing zone: the identity's custom zone role grants only privateDnsZones/read",
                            Spec(zone_role=lz.CUSTOM_ROLE, custom_actions=("Microsoft.Network/privateDnsZones/read",))),
    "lz-denied-sub": ("landing zone: the identity cannot read the connectivity subscription (403, not listed)",
                      Spec(hidden=(lz.CONNECTIVITY,))),
    "lz-zone-gone": ("landing zone: the cluster's zone was deleted (rg-dns exists, empty)", Spec(zone_gone=True)),
}  # fmt: skip
WORLDS = {name: summary for name, (summary, _) in SPECS.items()}


def build(world: str) -> list[Body]:
    """The resource bodies of an lz world (subscriptions and resource groups included)."""
    spec = SPECS[world][1]
    hub = _hub()
    spoke = parts.vnet(lz.SPOKE_VNET, lz.SPOKE_PREFIX, [("snet-aks", "10.224.0.0/16", {})], list(spec.spoke_dns))
    parts.peer(spoke, hub, "Connected")
    parts.peer(hub, spoke, "Connected")
    vnets = {"hub": lz.HUB_VNET, "spoke": lz.SPOKE_VNET}
    bodies = [*_containers(spec), _cluster(), hub, spoke]
    if not spec.zone_gone:
        bodies += _zone(lz.ZONE, [("link-hub" if v == "hub" else "link-aks", vnets[v]) for v in spec.zone_links],
                        ENDPOINT_IP)  # fmt: skip
    node_endpoint, node_nic = parts.private_endpoint()
    node_endpoint["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceId"] = (
        lz.CLUSTER_ID
    )
    bodies += [node_endpoint, node_nic, _connection(node_endpoint), *parts.service_load_balancers(), *parts.vmss_nics()]
    bodies += _resolver()
    bodies += _ruleset(lz.RULESET, spec.rules, [vnets[v] for v in spec.ruleset_links])
    if spec.spoke_rules:
        bodies += _ruleset(lz.RULESET.replace("/rs-hub", "/rs-spoke"), spec.spoke_rules, [lz.SPOKE_VNET])
    bodies += _firewall(spec)
    bodies += _dns_vm(spec.linux_dns_vm)
    bodies += _roles(spec)
    if spec.jumpbox:
        bodies += _jumpbox(spec.jump_record)
    return bodies


def faults(world: str) -> dict[str, Any]:
    """What no body can say: the subscriptions the identity cannot read (see aksdiag.lab.arm)."""
    from aksdiag.lab.arm import HIDDEN

    hidden = SPECS[world][1].hidden
    return {HIDDEN: list(hidden)} if hidden else {}


def _containers(spec: Spec) -> list[Body]:
    """The two subscriptions and every resource group (rg-dns exists even when the zone is gone)."""
    from aksdiag.lab.arm import resource_group_body, subscription_body

    subs = []
    for sub, name in lz.SUBSCRIPTION_NAMES.items():
        body = subscription_body(sub, name)
        body.update(name=name, type="Microsoft.Resources/subscriptions")  # for the lab's tooling; ARM drops them
        subs.append(body)
    groups = [
        (lz.WORKLOAD, CLUSTER_RG),
        (lz.WORKLOAD, NODE_RG),
        (lz.CONNECTIVITY, lz.HUB_RG),
        (lz.CONNECTIVITY, lz.DNS_RG),
    ]
    if spec.jumpbox:
        groups.append((lz.CONNECTIVITY, lz.JUMP_RG))
    return subs + [resource_group_body(f"/subscriptions/{s}/resourceGroups/{rg}", REGION) for s, rg in groups]


def _hub() -> Body:
    hub = parts.vnet(lz.HUB_VNET, lz.HUB_PREFIX, [
        ("snet-dns", "10.1.0.0/24", {}), ("AzureFirewallSubnet", "10.1.1.0/26", {}),
        ("snet-dnspr-inbound", "10.1.2.0/28", {}), ("snet-dnspr-outbound", "10.1.3.0/28", {}),
    ], [])  # fmt: skip
    for subnet in hub["properties"]["subnets"]:
        if subnet["name"].startswith("snet-dnspr-"):  # the resolver's endpoints need subnets delegated to it
            subnet["properties"]["delegations"] = [{"name": "Microsoft.Network.dnsResolvers",
                                                    "properties": {"serviceName": "Microsoft.Network/dnsResolvers"}}]  # fmt: skip
    return hub


def _cluster() -> Body:
    cluster = seed("managed_cluster_private")
    cluster["id"], cluster["name"], cluster["location"] = lz.CLUSTER_ID, CLUSTER, REGION
    cluster["identity"] = {
        "type": "UserAssigned",
        "userAssignedIdentities": {lz.IDENTITY: {"principalId": lz.IDENTITY_PRINCIPAL, "clientId": IDENTITY_CLIENT}},
    }
    p = cluster["properties"]
    p.update(privateFQDN=CLUSTER_FQDN, fqdn=PUBLIC_FQDN, nodeResourceGroup=NODE_RG)
    p["apiServerAccessProfile"]["privateDNSZone"] = lz.ZONE
    p["networkProfile"]["networkPlugin"] = "azure"
    for pool in p["agentPoolProfiles"]:
        pool["vnetSubnetID"] = lz.SPOKE_SUBNET
    if p.get("privateLinkResources"):
        p["privateLinkResources"][0]["id"] = lz.CLUSTER_ID + "/privateLinkResources/management"
    return cluster


def _zone(zone_id: str, links: list[tuple[str, str]], address: str) -> list[Body]:
    zone = seed("private_dns_zone")
    zone["id"], zone["name"] = zone_id, FORWARD_ZONE
    zone["properties"].update(numberOfVirtualNetworkLinks=len(links), numberOfRecordSets=2)
    record = seed("a_record_set")
    relative = CLUSTER_FQDN[: -len(FORWARD_ZONE) - 1]
    record["id"], record["name"] = f"{zone_id}/A/{relative}", relative
    record["properties"]["fqdn"] = CLUSTER_FQDN + "."
    record["properties"]["aRecords"] = [{"ipv4Address": address}]
    return [zone, *(parts.link(zone_id, name, vnet) for name, vnet in links), record]


def _connection(endpoint: Body) -> Body:
    """The cluster's privateEndpointConnections entry for `endpoint` (it lives under the cluster's id)."""
    body = seed("private_endpoint_connection")
    name = f"{endpoint['name']}.{hashlib.sha256(endpoint['id'].lower().encode()).hexdigest()[:8]}"
    body["id"], body["name"] = f"{lz.CLUSTER_ID}/privateEndpointConnections/{name}", name
    body["properties"]["privateEndpoint"] = {"id": endpoint["id"]}
    return body


def _resolver() -> list[Body]:
    resolver, inbound, outbound = seed("dns_resolver"), seed("inbound_endpoint"), seed("outbound_endpoint")
    resolver["id"], resolver["properties"]["virtualNetwork"] = lz.RESOLVER, {"id": lz.HUB_VNET}
    inbound["id"], outbound["id"] = lz.INBOUND, lz.OUTBOUND
    inbound["properties"]["ipConfigurations"][0].update(
        subnet={"id": lz.INBOUND_SUBNET}, privateIpAddress=lz.INBOUND_IP
    )
    outbound["properties"]["subnet"] = {"id": lz.OUTBOUND_SUBNET}
    return [resolver, inbound, outbound]


def _ruleset(ruleset_id: str, rules: tuple[Rule, ...], linked: list[str]) -> list[Body]:
    ruleset = seed("dns_forwarding_ruleset")
    ruleset["id"], ruleset["name"] = ruleset_id, ruleset_id.rsplit("/", 1)[1]
    ruleset["properties"]["dnsResolverOutboundEndpoints"] = [{"id": lz.OUTBOUND}]
    out = [ruleset]
    for rule in rules:
        body = seed("forwarding_rule")
        body["id"], body["name"] = f"{ruleset_id}/forwardingRules/{rule.name}", rule.name
        body["properties"].update(domainName=rule.domain, forwardingRuleState="Enabled" if rule.enabled else "Disabled",
                                  targetDnsServers=[{"ipAddress": t, "port": 53} for t in rule.targets])  # fmt: skip
        out.append(body)
    for vnet in linked:
        link = seed("ruleset_virtual_network_link")
        name = "link-hub" if vnet == lz.HUB_VNET else "link-aks"
        link["id"], link["name"] = f"{ruleset_id}/virtualNetworkLinks/{name}", name
        link["properties"]["virtualNetwork"] = {"id": vnet}
        out.append(link)
    return out


def _firewall(spec: Spec) -> list[Body]:
    firewall, policy = seed("azure_firewall"), seed("firewall_policy")
    firewall["id"], policy["id"] = lz.FIREWALL, lz.FIREWALL_POLICY
    config = firewall["properties"]["ipConfigurations"][0]
    config["properties"].update(privateIPAddress=lz.FIREWALL_IP, subnet={"id": lz.FIREWALL_SUBNET})
    firewall["properties"]["firewallPolicy"] = {"id": lz.FIREWALL_POLICY}
    policy["properties"]["firewalls"] = [{"id": lz.FIREWALL}]
    policy["properties"]["dnsSettings"].update(enableProxy=spec.proxy, servers=list(spec.proxy_servers))
    return [firewall, policy]


def _nic(nic_id: str, ip: str, subnet: str, vm: str = "") -> Body:
    from azure.mgmt.network.models import NetworkInterface, NetworkInterfaceIPConfiguration, Subnet

    name = nic_id.rsplit("/", 1)[1]
    config = NetworkInterfaceIPConfiguration(id=f"{nic_id}/ipConfigurations/ipconfig1", name="ipconfig1", primary=True,
                                             private_ip_address=ip, private_ip_allocation_method="Static",
                                             subnet=Subnet(id=subnet))  # fmt: skip
    nic = NetworkInterface(id=nic_id, location=REGION, ip_configurations=[config]).as_dict()
    nic["name"], nic["type"] = name, "Microsoft.Network/networkInterfaces"
    if vm:
        nic["properties"]["virtualMachine"] = {"id": vm}
    return nic


def _dns_vm(linux: bool) -> list[Body]:
    vm = seed("virtual_machine")
    vm["id"] = lz.DNS_VM
    vm["properties"]["networkProfile"]["networkInterfaces"] = [{"id": lz.DNS_NIC}]
    if linux:
        storage = vm["properties"]["storageProfile"]
        storage["imageReference"], storage["osDisk"]["osType"] = dict(UBUNTU), "Linux"
        storage["osDisk"]["diskSizeGB"] = 30
        vm["properties"]["osProfile"].pop("windowsConfiguration")
        vm["properties"]["osProfile"]["linuxConfiguration"] = {"disablePasswordAuthentication": True,
                                                              "provisionVMAgent": True}  # fmt: skip
    return [_nic(lz.DNS_NIC, lz.DNS_VM_IP, lz.DNS_SUBNET, lz.DNS_VM), vm]


def _definition(subscription: str, guid: str, props: dict[str, Any]) -> Body:
    body = seed("role_definition")
    body["id"] = f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    body["name"] = guid
    p = body["properties"]
    p.update(roleName=props["roleName"], description=props["description"])
    p["permissions"] = [{"actions": list(props["actions"]), "notActions": list(props["notActions"]),
                         "dataActions": [], "notDataActions": []}]  # fmt: skip
    return body


def _roles(spec: Spec) -> list[Body]:
    """The user-assigned identity, the role definitions (built-in in both subscriptions, the custom one in the
    connectivity subscription) and the identity's two assignments."""
    identity = seed("user_assigned_identity")
    identity["id"] = lz.IDENTITY
    identity["properties"].update(principalId=lz.IDENTITY_PRINCIPAL, clientId=IDENTITY_CLIENT)
    from aksdiag.lab.arm import builtin_role

    out: list[Body] = [identity]
    for sub in (lz.WORKLOAD, lz.CONNECTIVITY):  # the fake ARM serves them anyway: bodies, so the world lists them
        for guid in seed("builtin_roles"):
            body = builtin_role(f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
            out += [body] if body else []
    custom = _definition(lz.CONNECTIVITY, lz.CUSTOM_ROLE, {
        "roleName": "Landing Zone Private DNS Operator", "description": "Manages the landing zone's private DNS zones.",
        "actions": spec.custom_actions, "notActions": (),
    })  # fmt: skip
    custom["properties"].update(type="CustomRole", assignableScopes=[f"/subscriptions/{lz.CONNECTIVITY}"])
    out.append(custom)
    grants = [(lz.SPOKE_VNET, NETWORK_CONTRIBUTOR)]
    if not spec.zone_gone:  # a resource's role assignments go with it
        grants.insert(0, (lz.ZONE, spec.zone_role))
    for scope, role in grants:
        assignment = parts.role(scope, role, lz.IDENTITY_PRINCIPAL)
        sub = scope.split("/")[2]
        assignment["properties"]["roleDefinitionId"] = (
            f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"
        )
        out.append(assignment)
    return out


def _jumpbox(record: str) -> list[Body]:
    """A jump box VNet (not peered) with its own private endpoint to the cluster and its own zone of that name."""
    from azure.mgmt.network.models import PrivateEndpoint, PrivateLinkServiceConnection, Subnet

    vnet = parts.vnet(lz.JUMP_VNET, lz.JUMP_PREFIX, [("snet-jumpbox", "10.50.0.0/26", {})], [])
    nic_id = lz.rid(lz.CONNECTIVITY, lz.JUMP_RG, "networkInterfaces", "pe-aks-lab-jumpbox.nic.6f1d2e3c")
    endpoint = PrivateEndpoint(
        id=lz.JUMP_ENDPOINT, location=REGION, subnet=Subnet(id=lz.JUMP_SUBNET),
        private_link_service_connections=[PrivateLinkServiceConnection(
            id=lz.JUMP_ENDPOINT + "/privateLinkServiceConnections/aks-lab", name="aks-lab",
            private_link_service_id=lz.CLUSTER_ID, group_ids=["management"])],
    ).as_dict()  # fmt: skip
    endpoint["name"], endpoint["type"] = lz.JUMP_ENDPOINT.rsplit("/", 1)[1], "Microsoft.Network/privateEndpoints"
    endpoint["properties"]["networkInterfaces"] = [{"id": nic_id}]
    nic = _nic(nic_id, lz.JUMP_ENDPOINT_IP, lz.JUMP_SUBNET)
    zone = _zone(lz.JUMP_ZONE, [("link-jumpbox", lz.JUMP_VNET)], record)
    return [vnet, endpoint, nic, _connection(endpoint), *zone]
