"""DNS codes read from Azure (the private_dns probe): zone links, records, peerings, roles, zone names."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_LINK_DOCS = "https://learn.microsoft.com/azure/dns/private-dns-virtual-network-links"

DNS011 = Code(
    id="DNS011",
    severity=Severity.ERROR,
    title="Private DNS zone is not linked to the VNet that resolves the name",
    summary=(
        "Azure DNS answers a private zone only for VNets linked to it. The VNet whose DNS server resolves for the "
        "cluster (the hub VNet of a custom DNS server, or the cluster VNet when it uses Azure DNS) has no link to "
        "the cluster's private zone, so the forwarder gets NXDOMAIN."
    ),
    fix="Link the private DNS zone to that VNet (registration disabled).",
    detail="{zone} has links to {linked}; {vnet} ({why}) is not among them.",
    remediation="Link the private DNS zone {zone} to {vnet_name}: {vnet}.",
    command=(
        "az network private-dns link vnet create --resource-group {zone_rg} --zone-name {zone} --name {link_name} "
        "--virtual-network {vnet} --registration-enabled false"
    ),
    docs=_LINK_DOCS,
)

DNS012 = Code(
    id="DNS012",
    severity=Severity.ERROR,
    title="The API server's A record is missing or points elsewhere",
    summary=(
        "The private zone has no A record for the cluster's private FQDN, or the record holds another address than "
        "the API server's private endpoint reachable from the VNets the zone answers (stale after a stop/start, or a "
        "BYO record that was not updated). A cluster may have several endpoints (the node resource group's, and one "
        "per private endpoint connection, such as a jump box VNet's with its own zone): each zone's record must hold "
        "the address of an endpoint its VNets reach."
    ),
    fix="Set the A record to the private endpoint's address.",
    detail="{detail}",
    remediation=(
        "Set the A record {record} in {zone} (resource group {zone_rg}) to {endpoint_ip} (the NIC of private endpoint "
        "{endpoint})."
    ),
    command=(
        "az network private-dns record-set a add-record --resource-group {zone_rg} --zone-name {zone} "
        "--record-set-name {record} --ipv4-address {endpoint_ip} --subscription {zone_sub}{remove}"
    ),
    docs="https://learn.microsoft.com/azure/aks/private-clusters",
)

DNS013 = Code(
    id="DNS013",
    severity=Severity.WARNING,
    title="The host uses other DNS servers than its VNet's",
    summary=(
        "The cluster VNet's DNS servers (dhcpOptions.dnsServers) are not the nameservers this host's resolver uses: "
        "on a node or in a pod the VNet's DNS settings changed and the node (and CoreDNS) were not restarted since; "
        "on a jump box in another VNet it may be expected."
    ),
    fix="Restart the nodes (or renew DHCP) and CoreDNS after changing the VNet's DNS servers.",
    detail="the cluster VNet's DNS servers are {vnet_servers}; {resolv_conf} lists {host_servers}{caveat}.",
    remediation=(
        "After changing a VNet's DNS servers, restart its VMs or nodes (az aks nodepool upgrade --node-image-only, "
        "or reboot) so they pick up {vnet_servers}, then restart CoreDNS."
    ),
    command="kubectl -n kube-system rollout restart deployment coredns",
    docs="https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/dns/basic-troubleshooting-dns-resolution-problems",
)

DNS014 = Code(
    id="DNS014",
    severity=Severity.ERROR,
    title="The DNS server's VNet is not peered with the cluster VNet",
    summary=(
        "The custom DNS server lives in another VNet (hub and spoke): nodes reach it, and it reaches the private "
        "endpoint, only through a Connected peering in both directions."
    ),
    fix="Create or repair the peering in both directions until both sides show Connected.",
    detail="{local} → {remote}: {state}.",
    remediation="Repair the peering between {local_name} and {remote_name} (both directions must be Connected).",
    command=(
        "az network vnet peering create --resource-group {local_rg} --vnet-name {local_name} "
        "--name {local_name}-to-{remote_name} --remote-vnet {remote} --allow-vnet-access"
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering",
)

DNS019 = Code(
    id="DNS019",
    severity=Severity.ERROR,
    title="Another private zone linked to the VNet shadows the name",
    summary=(
        "Azure DNS answers a name from the most specific private zone linked to the asking VNet. Another zone that "
        "holds the FQDN's suffix, is more specific than the cluster's zone and lacks the record, answers NXDOMAIN "
        "for it (NxDomainRedirect only falls back to public DNS, which does not know a private name either)."
    ),
    fix="Unlink (or delete) the stale zone, or add the record to it.",
    detail=(
        "{other_zone} (resource group {other_rg}, subscription {other_sub}) is linked to {vnet_name} ({link_name}: "
        "{link_state}, resolution policy {policy}), {rank}, and holds no record for {fqdn}."
    ),
    remediation=(
        "Remove the link {link_name} of {other_zone} to {vnet_name} (or delete that zone if it is a leftover), or "
        "add the A record {fqdn} to it."
    ),
    command=(
        "az network private-dns link vnet delete --resource-group {other_rg} --zone-name {other_zone} --name {link_name} "
        "--subscription {other_sub}"
    ),
    docs=_LINK_DOCS,
)

DNS015 = Code(
    id="DNS015",
    severity=Severity.WARNING,
    title="The cluster identity lacks a role AKS needs on the zone or the VNet",
    summary=(
        "With a BYO private DNS zone, the cluster identity needs Private DNS Zone Contributor on the zone (to write "
        "the API server's record and link VNets), and Network Contributor on a BYO VNet or subnet. Without them "
        "create, upgrade and reconcile fail, and the record goes stale. A custom role counts for what its "
        "definition permits (actions with wildcards, less notActions), not for its name."
    ),
    fix="Assign the role to the cluster identity on that scope.",
    detail="the identity {who} holds {held} on {scope}; not granted there: {missing}; it needs {role}.",
    remediation="Assign {role} (or a role granting those actions) on {scope} to the cluster identity {who}.",
    command='az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role "{role}" --scope {scope}',
    docs="https://learn.microsoft.com/azure/aks/private-clusters#configure-a-private-dns-zone",
)

DNS016 = Code(
    id="DNS016",
    severity=Severity.ERROR,
    title="Custom private DNS zone name is not valid for this cluster",
    summary=(
        "A BYO private DNS zone must be named privatelink.<region>.azmk8s.io or <subzone>.privatelink.<region>."
        "azmk8s.io (subzone at most 32 characters; private.<region>.azmk8s.io with API Server VNet Integration), "
        "in the cluster's region."
    ),
    fix="Use a zone named for the cluster's region and mode (the zone cannot be changed after creation).",
    detail="{zone}: {problem}.",
    remediation="Use a private DNS zone named {expected} for this cluster (a BYO zone is fixed at cluster creation).",
    docs="https://learn.microsoft.com/azure/aks/private-clusters#configure-a-private-dns-zone",
)
