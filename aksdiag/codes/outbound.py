"""EG010–EG029: the Azure side of the nodes' way out — outbound type, the node subnets' route tables, NAT
gateways, the cluster's HTTP proxy and the NSGs on the way (the `outbound` probe; EG001–EG009 are the egress
probe's live tests)."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_OUTBOUND = "https://learn.microsoft.com/azure/aks/egress-outboundtype"
_UDR = "https://learn.microsoft.com/azure/aks/egress-udr"
_ROUTING = "https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview"
_FIREWALL = "https://learn.microsoft.com/azure/aks/limit-egress-traffic"
_NAT = "https://learn.microsoft.com/azure/aks/nat-gateway"
_PROXY = "https://learn.microsoft.com/azure/aks/http-proxy"
_DEFAULT_OUTBOUND = "https://learn.microsoft.com/azure/virtual-network/ip-services/default-outbound-access"
_NSG = "https://learn.microsoft.com/azure/aks/outbound-rules-control-egress"

EG010 = Code(
    id="EG010",
    severity=Severity.ERROR,
    title="The node subnet's default route drops the nodes' egress (next hop None)",
    summary=(
        "A user-defined route 0.0.0.0/0 with next hop None on a node subnet's route table drops every packet to "
        "an address no longer route covers: the nodes cannot reach the internet, Microsoft Container Registry, "
        "Entra ID or the Azure APIs. Node bootstrap fails (CSE exit 50) and images stop pulling."
    ),
    fix="Point the default route at the firewall (next hop VirtualAppliance and its private IP), or remove it.",
    detail="Route {route} ({prefix} → None) of route table {table} on subnet {subnet} (pool {pools}) drops the "
    "nodes' egress; the cluster's outbound type is {outbound_type}.",
    remediation="Send 0.0.0.0/0 to the firewall instead: `az network route-table route update -g {table_rg} "
    "--route-table-name {table} -n {route} --next-hop-type VirtualAppliance --next-hop-ip-address <firewall IP>`.",
    docs=_UDR,
)

EG011 = Code(
    id="EG011",
    severity=Severity.INFO,
    title="The nodes' egress goes through a virtual appliance or a gateway (user-defined routing)",
    summary=(
        "The node subnet's route table sends 0.0.0.0/0 to a virtual appliance (a firewall) or to the VPN/"
        "ExpressRoute gateway. That is how userDefinedRouting clusters are built; it works only while the "
        "appliance (or the network behind the gateway) allows every endpoint the cluster needs: `az aks "
        "egress-endpoints list`, or the AzureKubernetesService FQDN tag on Azure Firewall."
    ),
    fix="Allow the cluster's required endpoints on the appliance (the egress probe tests them from here).",
    detail="Route {route} ({prefix} → {next_hop}) of route table {table} on subnet {subnet} (pool {pools}) sends "
    "the nodes' egress to {appliance}; the cluster's outbound type is {outbound_type}.",
    remediation="On {appliance}, allow what `az aks egress-endpoints list -g {resource_group} -n {cluster}` lists "
    "(on Azure Firewall: an application rule with the AzureKubernetesService FQDN tag, and network rules for the "
    "API server and UDP 123/1194).",
    docs=_FIREWALL,
    command="az aks egress-endpoints list -g {resource_group} -n {cluster} -o table",
)

EG012 = Code(
    id="EG012",
    severity=Severity.WARNING,
    title="A default route to an appliance bypasses the cluster's own outbound (asymmetric routing)",
    summary=(
        "The cluster's outbound type is loadBalancer or a NAT gateway, but the node subnet's route table sends "
        "0.0.0.0/0 to an appliance or a gateway. The route wins: egress leaves through the appliance, not through "
        "the load balancer's or NAT gateway's public IPs (allowlists built on those IPs stop matching), and the "
        "replies of a public LoadBalancer Service go out through the appliance (asymmetric routing: they are "
        "dropped)."
    ),
    fix="Either make the cluster userDefinedRouting (`az aks update --outbound-type userDefinedRouting`) or "
    "remove the default route from the node subnet.",
    detail="Route {route} ({prefix} → {next_hop}) of route table {table} on subnet {subnet} sends the nodes' "
    "egress to {appliance}, while the outbound type is {outbound_type}.",
    remediation="Decide which way out the nodes use: `az aks update -g {resource_group} -n {cluster} "
    "--outbound-type userDefinedRouting` to keep the appliance, or delete route {route} to keep {outbound_type}.",
    docs=_OUTBOUND,
)

EG013 = Code(
    id="EG013",
    severity=Severity.ERROR,
    title="A route sends the API server's address away from the VNet",
    summary=(
        "A user-defined route on a node subnet covers the API server's private address (the private endpoint or "
        "the VNet-integrated internal load balancer) more specifically than the VNet's own route, so the nodes' "
        "traffic to the API server goes to an appliance, a gateway or nowhere: nodes go NotReady, bootstrap "
        "fails with CSE exit 51, kubelet and konnectivity cannot connect."
    ),
    fix="Remove the route or narrow it so that it does not cover the API server's address.",
    detail="Route {route} ({prefix} → {next_hop}) of route table {table} on subnet {subnet} covers the API "
    "server's address {address}.",
    remediation="Delete or narrow route {route} (`az network route-table route delete -g {table_rg} "
    "--route-table-name {table} -n {route}`): the API server at {address} must stay on the VNet's own route.",
    docs=_ROUTING,
)

EG014 = Code(
    id="EG014",
    severity=Severity.WARNING,
    title="A route sends part of the nodes' own VNet range away",
    summary=(
        "A user-defined route on a node subnet covers the node subnet's own range (or a part of it) more "
        "specifically than the VNet's route: traffic between nodes and pods goes to an appliance or is dropped, "
        "which AKS does not support (asymmetric paths, kubectl logs/exec failing, pods unable to reach each other)."
    ),
    fix="Remove the route: traffic inside the VNet must stay on the VNet's own route (VnetLocal).",
    detail="Route {route} ({prefix} → {next_hop}) of route table {table} on subnet {subnet} covers the node "
    "range {node_prefix}.",
    remediation="Delete route {route} (`az network route-table route delete -g {table_rg} --route-table-name "
    "{table} -n {route}`), or narrow it to addresses outside {node_prefix}.",
    docs=_ROUTING,
)

EG015 = Code(
    id="EG015",
    severity=Severity.WARNING,
    title="BGP route propagation is off, and the nodes need an address only a gateway route reaches",
    summary=(
        "The node subnet's route table disables BGP route propagation, so routes the VPN or ExpressRoute gateway "
        "learns from on-premises are not used on it. An address the nodes need (a DNS server, the HTTP proxy) "
        "lies in a private range outside every VNet read, and no user route covers it: Azure's system route for "
        "that private range is None, and the packets are dropped."
    ),
    fix="Add a user route for the on-premises range (to the firewall or the gateway), or turn BGP route "
    "propagation on.",
    detail="Route table {table} on subnet {subnet} takes no BGP routes; {what} {address} is reached by {via}.",
    remediation="Add a route for {address}'s on-premises range to the hub firewall or the gateway (`az network "
    "route-table route create -g {table_rg} --route-table-name {table} -n to-onprem --address-prefix <range> "
    "--next-hop-type VirtualAppliance --next-hop-ip-address <firewall IP>`), or `az network route-table update "
    "-g {table_rg} -n {table} --disable-bgp-route-propagation false`.",
    docs=_ROUTING,
)

EG016 = Code(
    id="EG016",
    severity=Severity.ERROR,
    title="Outbound type userDefinedRouting, but no default route on the node subnet",
    summary=(
        "With outboundType userDefinedRouting AKS gives the nodes no public outbound address: the node subnet's "
        "route table must send 0.0.0.0/0 to a firewall or a gateway. AKS refuses to create such a cluster without "
        "one, but a route removed (or a route table swapped) later leaves the nodes without egress."
    ),
    fix="Add the default route to the firewall on the node subnet's route table.",
    detail="Subnet {subnet} (pool {pools}): {why}; the outbound type is userDefinedRouting.",
    remediation="`az network route-table route create -g <rg> --route-table-name <table> -n default "
    "--address-prefix 0.0.0.0/0 --next-hop-type VirtualAppliance --next-hop-ip-address <firewall IP>` and "
    "associate the table with {subnet}.",
    docs=_UDR,
)

EG017 = Code(
    id="EG017",
    severity=Severity.ERROR,
    title="The node subnet's NAT gateway has no public IP",
    summary=(
        "A NAT gateway on a subnet takes over its outbound traffic. Without a public IP address or prefix it has "
        "no address to translate to, and the nodes' egress fails."
    ),
    fix="Attach a public IP (or prefix) to the NAT gateway.",
    detail="NAT gateway {nat} on subnet {subnet} (pool {pools}) has no public IP address or prefix; the cluster's "
    "outbound type is {outbound_type}.",
    remediation="`az network nat gateway update -g {nat_rg} -n {nat} --public-ip-addresses <public IP>`.",
    docs=_NAT,
)

EG018 = Code(
    id="EG018",
    severity=Severity.WARNING,
    title="A NAT gateway on the node subnet overrides the load balancer's outbound rule",
    summary=(
        "The cluster's outbound type is loadBalancer, but the node subnet has a NAT gateway, which takes "
        "precedence for the subnet's outbound traffic: the nodes leave with the NAT gateway's IPs, not the load "
        "balancer's, so allowlists built on the outbound IPs AKS shows stop matching, and the SNAT capacity the "
        "lb probe computes does not apply."
    ),
    fix="Make the cluster use the NAT gateway (`az aks update --outbound-type userAssignedNATGateway`), or take "
    "the NAT gateway off the node subnet.",
    detail="NAT gateway {nat} ({ips} public IP(s), {ports:,} SNAT ports, idle timeout {idle} min) is on subnet "
    "{subnet}, while the outbound type is loadBalancer.",
    remediation="`az aks update -g {resource_group} -n {cluster} --outbound-type userAssignedNATGateway`, or "
    "`az network vnet subnet update --ids {subnet_id} --remove natGateway`.",
    docs=_NAT,
)

EG019 = Code(
    id="EG019",
    severity=Severity.WARNING,
    title="The cluster's HTTP proxy noProxy list uses a `*` wildcard, which AKS does not support",
    summary=(
        "AKS's HTTP proxy configuration does not support `*` attached to a domain suffix in noProxy (Learn: "
        '"Using * as wildcard attached to a domain suffix for noProxy" is not supported): such an entry does not '
        "exempt the names, so their traffic goes to the proxy."
    ),
    fix="Write the suffix with a leading dot instead (`.contoso.com`).",
    detail="noProxy holds {entries} (proxy {proxy}).",
    remediation="Replace {entries} with {fixed} in the cluster's httpProxyConfig (`az aks update -g "
    "{resource_group} -n {cluster} --http-proxy-config <file>`).",
    docs=_PROXY,
)

EG020 = Code(
    id="EG020",
    severity=Severity.ERROR,
    title="The nodes have no way out: a private subnet, no NAT gateway, no outbound from AKS",
    summary=(
        "The node subnet is private (defaultOutboundAccess false), has no NAT gateway, its route to the internet "
        "is Azure's own, and the outbound type (none, or userDefinedRouting without a default route) gives the "
        "nodes no public address. Packets to the internet have no source address to leave with: the nodes "
        "cannot pull images or reach Entra ID. Default outbound access is retired for new subnets (31 March 2026)."
    ),
    fix="Give the subnet explicit egress: a NAT gateway, a default route to a firewall, or outbound type loadBalancer.",
    detail="Subnet {subnet} (pool {pools}) is private, has no NAT gateway, and its internet route is {via}; the "
    "outbound type is {outbound_type}.",
    remediation="Attach a NAT gateway (`az network vnet subnet update --ids {subnet_id} --nat-gateway <name>`) or "
    "route 0.0.0.0/0 to the firewall.",
    docs=_DEFAULT_OUTBOUND,
)

EG021 = Code(
    id="EG021",
    severity=Severity.ERROR,
    title="An NSG denies the nodes' outbound HTTPS to the internet",
    summary=(
        "An NSG on the node pool's NICs or on its subnet denies outbound TCP 443 to the internet before any rule "
        "allows it: the nodes cannot reach Microsoft Container Registry, Entra ID or the Azure APIs. (A rule "
        "naming a service tag other than Internet or VirtualNetwork, such as AzureCloud, cannot be matched here: "
        "the verdict holds unless such a rule allows the traffic first.)"
    ),
    fix="Allow outbound TCP 443 to the required endpoints (or the service tags AzureCloud, "
    "MicrosoftContainerRegistry, AzureActiveDirectory) at a lower priority number than the deny.",
    detail="{decision}: outbound TCP 443 from pool {pool}'s nodes ({source} on subnet {subnet}) to the internet.",
    remediation="Add an outbound allow rule for TCP 443 before {rule} on {nsg} (`az network nsg rule create -g "
    "{nsg_rg} --nsg-name {nsg} -n allow-aks-egress --priority <below {priority}> --direction Outbound "
    "--access Allow --protocol Tcp --destination-port-ranges 443 --destination-address-prefixes AzureCloud`).",
    docs=_NSG,
)
