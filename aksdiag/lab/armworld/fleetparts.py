"""The bodies of the fleet worlds (aksdiag.lab.armworld.fleetworld), one builder per resource, from the single-cluster
worlds' own bodies with ids, names and addresses rewritten.

Each template is built once by the builder the single-cluster worlds use (parts, egress, enterprise: real payloads
from arm_seeds/ and the network SDK's models), kept as JSON text, and stamped per cluster or hub by replacing the
seed-000 / landing-zone ids, names and addresses with the fleet's: a thousand clusters cost a string replace and a
json.loads each, not a thousand SDK model builds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from typing import Any

from aksdiag.lab.armworld import landing as lz
from aksdiag.lab.armworld import parts
from aksdiag.lab.armworld.names import AKS_SUBNET, NODE_RG, REGION, SUBSCRIPTION, VMSS, seed
from aksdiag.lab.scenarios import ENDPOINT_IP

Body = dict[str, Any]
NAMESPACE = uuid.UUID("6b1f2a9c-5d3e-4f70-8a1b-2c3d4e5f6a7b")
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"


def guid(*parts: str) -> str:
    """A stable GUID for the named thing (subscriptions, principals, system zones)."""
    return str(uuid.uuid5(NAMESPACE, "|".join(parts)))


def short_hash(*parts: str, n: int = 8) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:n]


@functools.cache
def _seed_text(name: str) -> str:
    return json.dumps(seed(name))


def from_seed(name: str) -> Body:
    body: Body = json.loads(_seed_text(name))
    return body


@functools.cache
def _small_seed(name: str) -> Body:
    return seed(name)


def small(name: str) -> Body:
    """A copy of a small seed two levels deep (its `properties` fresh): the caller only sets keys of the body and of
    its properties, so the 20,000 links of a fleet cost a dict copy each, not a JSON parse."""
    return {k: dict(v) if isinstance(v, dict) else v for k, v in _small_seed(name).items()}


def stamp(template: str, pairs: list[tuple[str, str]]) -> Any:
    """The template's JSON with each (old, new) replaced in order (longest ids first: the caller's job)."""
    for old, new in pairs:
        template = template.replace(old, new)
    return json.loads(template)


# ---------------------------------------------------------------- the node resource group of a cluster


@functools.cache
def _node_rg_template() -> str:
    """The healthy world's node resource group: the API server's private endpoint and its NIC, the `kubernetes`
    and `kubernetes-internal` load balancers with the public IP, the pool's scale set and the NSG AKS puts on its
    NICs (egress-healthy's)."""
    from aksdiag.lab.armworld import egress, parts

    endpoint, nic = parts.private_endpoint()
    bodies = [endpoint, nic, *parts.service_load_balancers(), egress.scale_set(), egress.nic_nsg(deny_https=False)]
    return json.dumps(bodies)


def node_rg(subscription: str, node_rg_name: str, subnet: str, region: str, endpoint_ip: str, ilb_ip: str,
            public_ip: str, cluster_id: str) -> list[Body]:  # fmt: skip
    """The cluster's node resource group bodies, its private endpoint connected to `cluster_id`."""
    from aksdiag.lab.armworld.names import INTERNAL_LB_IP, PUBLIC_LB_IP

    bodies: list[Body] = stamp(_node_rg_template(), [
        (AKS_SUBNET, subnet), (NODE_RG, node_rg_name), (SUBSCRIPTION, subscription), (f'"{REGION}"', f'"{region}"'),
        (f'"{ENDPOINT_IP}"', f'"{endpoint_ip}"'), (f'"{INTERNAL_LB_IP}"', f'"{ilb_ip}"'),
        (f'"{PUBLIC_LB_IP}"', f'"{public_ip}"'),
    ])  # fmt: skip
    connection = bodies[0]["properties"]["privateLinkServiceConnections"][0]
    connection.setdefault("properties", {})["privateLinkServiceId"] = cluster_id
    return bodies


def vmss_name() -> str:
    return VMSS


# ---------------------------------------------------------------- the hub's DNS servers


@functools.cache
def _hub_template(kind: str) -> str:
    """The landing zone's DNS server of one kind (enterprise's bodies): a Windows DNS VM and its NIC; a DNS Private
    Resolver with its inbound and outbound endpoints and the ruleset rs-hub (a rule for corp.contoso.com) linked
    to the hub; an Azure Firewall with its DNS proxy on (to Azure DNS)."""
    from aksdiag.lab.armworld import enterprise

    if kind == "vm":
        bodies = enterprise._dns_vm(linux=False)
    elif kind == "resolver":
        bodies = [*enterprise._resolver(), *enterprise._ruleset(lz.RULESET, (enterprise.CORP,), [lz.HUB_VNET])]
    elif kind == "firewall":
        bodies = enterprise._firewall(enterprise.HEALTHY)
    else:
        raise ValueError(f"unknown hub DNS kind {kind!r}")
    return json.dumps(bodies)


HUB_DNS_IP = {"vm": lz.DNS_VM_IP, "resolver": lz.INBOUND_IP, "firewall": lz.FIREWALL_IP}
"""The address spokes use as their DNS server, by the hub's kind (10.1.x.4: stamped to the hub's 10.N.x.4)."""


def hub_pairs(subscription: str, hub_vnet_name: str, octet: int, region: str) -> list[tuple[str, str]]:
    """How the landing zone's connectivity ids and addresses become hub N's."""
    return [(lz.CONNECTIVITY, subscription), ("/virtualNetworks/vnet-hub", f"/virtualNetworks/{hub_vnet_name}"),
            ('"10.1.', f'"10.{octet}.'), ('"koreacentral"', f'"{region}"')]  # fmt: skip


def hub_dns(kind: str, pairs: list[tuple[str, str]]) -> list[Body]:
    bodies: list[Body] = stamp(_hub_template(kind), pairs)
    return bodies


def hub_vnet(vnet_id: str, octet: int, region: str) -> Body:
    """The hub VNet: the landing zone's subnets (DNS VM, firewall, the resolver's delegated endpoints)."""
    from aksdiag.lab.armworld import enterprise

    body = enterprise._hub()
    body = stamp(json.dumps(body), [(lz.HUB_VNET, vnet_id), ('"10.1.', f'"10.{octet}.')])
    body["name"], body["location"] = vnet_id.rsplit("/", 1)[1], region
    return body


# ---------------------------------------------------------------- VNets, peerings, zones, links, records


def spoke_vnet(vnet_id: str, prefix: str, subnet_prefix: str, dns_servers: list[str], region: str) -> Body:
    body = from_seed("virtual_network")
    name = vnet_id.rsplit("/", 1)[1]
    body.update(id=vnet_id, name=name, location=region)
    body["etag"] = f'W/"{guid(vnet_id)}"'
    props = body["properties"]
    props["resourceGuid"] = guid("resource", vnet_id)
    props["addressSpace"]["addressPrefixes"] = [prefix]
    props["dhcpOptions"]["dnsServers"] = list(dns_servers)
    props["subnets"] = [{"id": f"{vnet_id}/subnets/snet-aks", "name": "snet-aks",
                         "properties": {"addressPrefix": subnet_prefix}}]  # fmt: skip
    props["virtualNetworkPeerings"] = []
    return body


def peer(local: Body, remote: Body, state: str) -> None:
    """local's peering to remote (parts.peer, from the seed parsed once)."""
    parts.peer(local, remote, state, from_seed("virtual_network_peering"))


def zone(zone_id: str, links: int, records: int) -> Body:
    body = small("private_dns_zone")
    body["id"], body["name"] = zone_id, zone_id.rsplit("/", 1)[1]
    body["etag"] = guid("etag", zone_id)
    body["properties"].update(numberOfVirtualNetworkLinks=links, numberOfRecordSets=records + 1)  # + the SOA
    return body


def link(zone_id: str, name: str, vnet_id: str) -> Body:
    body = small("virtual_network_link")
    body["id"], body["name"] = f"{zone_id}/virtualNetworkLinks/{name}", name
    body["etag"] = f'"{guid("etag", body["id"])}"'
    body["properties"]["virtualNetwork"] = {"id": vnet_id}
    return body


def record(zone_id: str, zone_name: str, fqdn: str, address: str) -> Body:
    body = small("a_record_set")
    relative = fqdn[: -len(zone_name) - 1]
    body["id"], body["name"] = f"{zone_id}/A/{relative}", relative
    body["etag"] = guid("etag", body["id"])
    body["properties"]["fqdn"] = fqdn + "."
    body["properties"]["aRecords"] = [{"ipv4Address": address}]
    return body


def role(scope: str, role_guid: str, principal: str) -> Body:
    """An assignment of `role_guid` to `principal` at `scope` (RoleAssignment's REST shape, as parts.role)."""
    subscription = scope.split("/")[2]
    assignment = guid("assignment", scope, role_guid, principal)
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{assignment}",
        "name": assignment,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{role_guid}",
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "scope": scope,
        },
    }


@functools.cache
def _cluster_template() -> str:
    return _seed_text("managed_cluster_private")


def cluster(cluster_id: str, region: str, node_rg_name: str, fqdn: str, zone_mode: str, subnet: str,
            principal: str) -> Body:  # fmt: skip
    """A private cluster (the recorded managedClusters body, as the single-cluster worlds set it up: Azure CNI on
    the spoke's node subnet, the zone `system` or a BYO zone id)."""
    body: Body = json.loads(_cluster_template())
    name = cluster_id.rsplit("/", 1)[1]
    body.update(id=cluster_id, name=name, location=region)
    body["identity"]["principalId"] = principal
    p = body["properties"]
    dns_prefix = f"{name}-{short_hash('prefix', cluster_id, n=6)}"
    p.update(privateFQDN=fqdn, nodeResourceGroup=node_rg_name, dnsPrefix=dns_prefix,
             fqdn=f"{dns_prefix}-{short_hash('public', cluster_id, n=8)}.hcp.{region}.azmk8s.io",
             azurePortalFQDN=f"{short_hash('portal', cluster_id, n=32)}-priv.portal.hcp.{region}.azmk8s.io")  # fmt: skip
    p["apiServerAccessProfile"]["privateDNSZone"] = zone_mode
    p["networkProfile"]["networkPlugin"] = "azure"
    sub = "/".join(cluster_id.split("/")[:3])
    pip = f"{sub}/resourceGroups/{node_rg_name}/providers/Microsoft.Network/publicIPAddresses/"
    p["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIPs"] = [{"id": pip + guid("outbound", cluster_id)}]
    kubelet = p["identityProfile"]["kubeletidentity"]
    kubelet["resourceId"] = (f"{sub}/resourcegroups/{node_rg_name}/providers/Microsoft.ManagedIdentity/"
                             f"userAssignedIdentities/{name}-agentpool")  # fmt: skip
    kubelet["objectId"] = kubelet["clientId"] = guid("kubelet", cluster_id)
    for pool in p["agentPoolProfiles"]:
        pool["vnetSubnetID"] = subnet
    p["privateLinkResources"][0]["id"] = cluster_id + "/privateLinkResources/management"
    return body
