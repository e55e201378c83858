"""The landing-zone topology's names, ids and addresses (FIELD.md E1-E5): the shared spec of the `lz-*` ARM worlds
(aksdiag.lab.armworld.enterprise) and the DNS lab's matching scenarios, so both planes break consistently.

Two subscriptions, as the Cloud Adoption Framework lays them out:
- CONNECTIVITY: the hub VNet (a Windows or Linux DNS VM, an Azure Firewall with a DNS proxy, a DNS Private Resolver
  with an inbound and an outbound endpoint), the forwarding ruleset, the central private zone
  privatelink.koreacentral.azmk8s.io (the cluster's BYO zone) in rg-dns, linked to the hub; and a jump box VNet with
  its own private endpoint to the cluster and its own zone of the same name (Learn: "use a private endpoint
  connection").
- WORKLOAD (the seed-000 subscription): the cluster, its spoke VNet (peered with the hub), its node resource group
  with the API server's private endpoint, the cluster's user-assigned identity.
"""

from __future__ import annotations

from aksdiag.lab.armworld.names import CLUSTER, CLUSTER_RG, NODE_RG, SUBSCRIPTION
from aksdiag.lab.scenarios import ENDPOINT_IP, FORWARD_ZONE

WORKLOAD = SUBSCRIPTION
CONNECTIVITY = "11111111-2222-4333-8444-555555555555"
SUBSCRIPTION_NAMES = {WORKLOAD: "sub-workload-aks", CONNECTIVITY: "sub-connectivity"}


def rid(subscription: str, rg: str, kind: str, name: str, namespace: str = "Microsoft.Network") -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/{namespace}/{kind}/{name}"


# ---- connectivity subscription
HUB_RG, DNS_RG, JUMP_RG = "rg-hub", "rg-dns", "rg-jumpbox"
HUB_VNET = rid(CONNECTIVITY, HUB_RG, "virtualNetworks", "vnet-hub")
HUB_PREFIX = "10.1.0.0/16"
DNS_SUBNET, DNS_VM_IP = HUB_VNET + "/subnets/snet-dns", "10.1.0.4"  # a VM running Windows DNS, BIND or unbound
DNS_VM = rid(CONNECTIVITY, HUB_RG, "virtualMachines", "vm-dns01", "Microsoft.Compute")
DNS_NIC = rid(CONNECTIVITY, HUB_RG, "networkInterfaces", "vm-dns01-nic")
FIREWALL_SUBNET, FIREWALL_IP = HUB_VNET + "/subnets/AzureFirewallSubnet", "10.1.1.4"
FIREWALL = rid(CONNECTIVITY, HUB_RG, "azureFirewalls", "afw-hub")
FIREWALL_POLICY = rid(CONNECTIVITY, HUB_RG, "firewallPolicies", "afwp-hub")
INBOUND_SUBNET, INBOUND_IP = HUB_VNET + "/subnets/snet-dnspr-inbound", "10.1.2.4"
OUTBOUND_SUBNET = HUB_VNET + "/subnets/snet-dnspr-outbound"
RESOLVER = rid(CONNECTIVITY, HUB_RG, "dnsResolvers", "dnspr-hub")
INBOUND = RESOLVER + "/inboundEndpoints/in-hub"
OUTBOUND = RESOLVER + "/outboundEndpoints/out-hub"
RULESET = rid(CONNECTIVITY, HUB_RG, "dnsForwardingRulesets", "rs-hub")
ONPREM_DNS_IP = "192.168.10.4"
"""An on-premises DNS server (reached through the gateway): it knows corp.contoso.com, not Azure's private zones."""
ONPREM_DOMAIN = "corp.contoso.com"
ZONE = rid(CONNECTIVITY, DNS_RG, "privateDnsZones", FORWARD_ZONE)
"""The central BYO zone privatelink.koreacentral.azmk8s.io: the cluster's `privateDNSZone`."""

JUMP_VNET = rid(CONNECTIVITY, JUMP_RG, "virtualNetworks", "vnet-jumpbox")
JUMP_PREFIX, JUMP_SUBNET = "10.50.0.0/24", JUMP_VNET + "/subnets/snet-jumpbox"
JUMP_ENDPOINT = rid(CONNECTIVITY, JUMP_RG, "privateEndpoints", "pe-aks-lab-jumpbox")
JUMP_ENDPOINT_IP = "10.50.0.5"
JUMP_STALE_IP = "10.50.0.9"
JUMP_ZONE = rid(CONNECTIVITY, JUMP_RG, "privateDnsZones", FORWARD_ZONE)
"""The jump box's own zone of the same name, linked to vnet-jumpbox only, its record → JUMP_ENDPOINT_IP."""

# ---- workload subscription
SPOKE_VNET = rid(WORKLOAD, CLUSTER_RG, "virtualNetworks", "vnet-aks")
SPOKE_PREFIX, SPOKE_SUBNET = "10.224.0.0/12", SPOKE_VNET + "/subnets/snet-aks"
CLUSTER_ID = rid(WORKLOAD, CLUSTER_RG, "managedClusters", CLUSTER, "Microsoft.ContainerService")
IDENTITY = rid(WORKLOAD, CLUSTER_RG, "userAssignedIdentities", "id-aks-lab", "Microsoft.ManagedIdentity")
IDENTITY_PRINCIPAL = "7d2c4e1a-9b3f-4c8d-a6e5-1f0b2c3d4e5f"
NODE_ENDPOINT = rid(WORKLOAD, NODE_RG, "privateEndpoints", "kube-apiserver")
NODE_ENDPOINT_IP = ENDPOINT_IP
CUSTOM_ROLE = "c0ffee00-1111-4222-8333-444455556666"
"""A custom role definition (in the connectivity subscription) for the zone: its permissions decide DNS015."""
