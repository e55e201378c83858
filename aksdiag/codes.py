"""The one catalogue of finding codes: severity, title, what it means, the fix, the docs.

Probes make findings only through `CODE.at(...)`, filling the templates' named fields; `aksdiag explain CODE`
prints the entry. Codes are stable: never reuse a retired one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aksdiag.model import Finding, Severity

_PRIVATE_CLUSTER_DOCS = "https://learn.microsoft.com/azure/aks/private-clusters#hub-and-spoke-with-custom-dns"
_DNS_TROUBLESHOOT_DOCS = (
    "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/dns/"
    "basic-troubleshooting-dns-resolution-problems"
)


@dataclass(frozen=True)
class Code:
    """One catalogue entry. `detail`, `remediation` and `command` are templates with named fields."""

    id: str
    severity: Severity
    title: str
    summary: str
    fix: str
    detail: str
    remediation: str
    docs: str
    command: str | None = None

    def at(
        self, probe: str, *, hop: int | None = None, evidence: dict[str, Any] | None = None, **fields: Any
    ) -> Finding:
        """A finding of this code, its templates filled from `fields` (a missing field is a bug: KeyError)."""
        return Finding(
            id=self.id,
            severity=self.severity,
            title=self.title,
            detail=self.detail.format_map(fields),
            remediation=self.remediation.format_map(fields),
            command=self.command.format_map(fields) if self.command else None,
            probe=probe,
            hop=hop,
            evidence=dict(evidence or {}),
            docs=self.docs,
        )


DNS001 = Code(
    id="DNS001",
    severity=Severity.ERROR,
    title="Custom DNS server does not forward the private zone to Azure DNS",
    summary=(
        "A custom DNS server answers NXDOMAIN (or no address) for a private name that Azure DNS resolves: it has "
        "no conditional forwarder for the private zone to 168.63.129.16 (or to a DNS Private Resolver inbound "
        "endpoint), so it asks public DNS, which does not know the name."
    ),
    fix=(
        "On the custom DNS server, add a conditional forwarder for privatelink.<region>.azmk8s.io (or the private "
        "zone of the name) to 168.63.129.16, from a server inside a VNet linked to the zone. Windows DNS: "
        'Add-DnsServerConditionalForwarderZone; BIND: zone "privatelink.<region>.azmk8s.io" { type forward; '
        "forward only; forwarders { 168.63.129.16; }; };"
    ),
    detail="{server} answered {outcome} for {name}; {azure_view}.{note}",
    remediation=(
        "Add a conditional forwarder for {zone} → {forward_to} on {server_host}. The server must sit in a VNet "
        "linked to the private zone, or forward to a DNS Private Resolver inbound endpoint in one."
    ),
    command="Add-DnsServerConditionalForwarderZone -Name {zone} -MasterServers {forward_to}",
    docs=_PRIVATE_CLUSTER_DOCS,
)

DNS002 = Code(
    id="DNS002",
    severity=Severity.ERROR,
    title="Azure DNS has no record: private zone not linked to this VNet, or record missing",
    summary=(
        "Azure DNS (168.63.129.16) answers NXDOMAIN or no address for the name. Azure DNS resolves a private zone "
        "only for VNets linked to it, so either the zone is not linked to the VNet the query comes from (the jump "
        "box's, or the custom DNS server's in hub-and-spoke) or the A record is missing."
    ),
    fix=(
        "Link the private DNS zone to the VNet that asks (az network private-dns link vnet create), or add the "
        "missing A record."
    ),
    detail="Azure DNS ({server}) answered {outcome} for {name}{zone_note}.",
    remediation=(
        "Link the private DNS zone {zone} to the VNet this query comes from (for a custom DNS server: that "
        "server's VNet), or add the missing A record for {name}."
    ),
    command=(
        "az network private-dns link vnet create --resource-group <zone-resource-group> --zone-name {zone_arg} "
        "--name <link-name> --virtual-network <vnet-id> --registration-enabled false"
    ),
    docs="https://learn.microsoft.com/azure/dns/private-dns-virtual-network-links",
)

DNS003 = Code(
    id="DNS003",
    severity=Severity.ERROR,
    title="DNS servers disagree on the address",
    summary=(
        "A custom DNS server answers a different address than Azure DNS for the same private name: it holds a "
        "stale copy of the zone (a primary or secondary zone created by hand) or a stale cache entry, typically "
        "after the private endpoint moved on a stop/start."
    ),
    fix="Replace the local copy of the zone with a conditional forwarder to 168.63.129.16 and clear the cache.",
    detail="{server} answered {answers} for {name}, but {reference} answered {reference_answers}.",
    remediation=(
        "{server_host} holds a stale copy of {zone} or a stale cache entry: replace the local zone with a "
        "conditional forwarder to {forward_to}, then clear the server's cache."
    ),
    command="Clear-DnsServerCache -ComputerName {server_host} -Force",
    docs=_PRIVATE_CLUSTER_DOCS,
)

DNS004 = Code(
    id="DNS004",
    severity=Severity.ERROR,
    title="A private name resolves to a public address",
    summary=(
        "A server answers a public (internet) address for a name that should resolve privately: the query went "
        "to public DNS instead of the private zone, because the server has no conditional forwarder for the zone "
        "and forwards everything to the internet."
    ),
    fix="Forward the private zone to 168.63.129.16 on that server, so public DNS is never asked for it.",
    detail="{server} answered {answers} for {name}: a public address{expected_note}.",
    remediation=(
        "The query reached public DNS: on {server_host} add a conditional forwarder for {zone} → {forward_to} "
        "ahead of its default (internet) forwarders."
    ),
    docs=_PRIVATE_CLUSTER_DOCS,
)

DNS005 = Code(
    id="DNS005",
    severity=Severity.ERROR,
    title="DNS server gives no usable answer",
    summary=(
        "A DNS server gave no answer within the timeout over UDP or TCP: it is down, or an NSG, firewall or "
        "network virtual appliance drops port 53 on the way."
    ),
    fix="Start the server or open UDP and TCP 53 to it; remove dead servers from the DNS settings.",
    detail="{server} gave no answer for {name} over {transports}: {why}.",
    remediation=(
        "Check that {server_host} is running and that UDP and TCP 53 are open from here to it (NSG, firewall, "
        "UDR to an appliance); fix it or remove it from the DNS server list."
    ),
    docs=_DNS_TROUBLESHOOT_DOCS,
)

DNS006 = Code(
    id="DNS006",
    severity=Severity.ERROR,
    title="DNS server answered SERVFAIL",
    summary=(
        "A DNS server answered SERVFAIL: it could not get an answer from its upstream (the forwarder is "
        "unreachable, refuses, or DNSSEC validation of the private zone failed) or its copy of the zone is broken."
    ),
    fix="Check the server's forwarders and zones for the name; 168.63.129.16 answers only from inside Azure.",
    detail="{server} answered SERVFAIL for {name} over {transports}.",
    remediation=(
        "Check {server_host}'s forwarder for {zone}: it must reach {forward_to} (which answers only from inside an "
        "Azure VNet) or a DNS Private Resolver inbound endpoint; check its logs for refused or timed-out upstream "
        "queries, a zone that failed to load, or DNSSEC validation errors."
    ),
    docs=_DNS_TROUBLESHOOT_DOCS,
)

DNS007 = Code(
    id="DNS007",
    severity=Severity.ERROR,
    title="Name resolves, but not to the expected endpoint",
    summary=(
        "The name resolves, but to another address than the private endpoint or API server address: the A record "
        "is stale (the endpoint moved on a stop/start or was recreated) or points at the wrong resource."
    ),
    fix="Update the A record to the endpoint's current address and flush caches.",
    detail="{server} answered {answers} for {name}; the expected endpoint is {expected}.",
    remediation=(
        "Update the A record {name} in {zone} to {expected} (the private endpoint or API server address now), "
        "then flush DNS caches; firewall rules pinned to the old address need the same change."
    ),
    command=(
        "az network private-dns record-set a add-record --resource-group <zone-resource-group> "
        "--zone-name {zone} --record-set-name {record} --ipv4-address {expected}"
    ),
    docs="https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/troubleshoot-cluster-connection-issues-api-server",
)

DNS008 = Code(
    id="DNS008",
    severity=Severity.WARNING,
    title="Host resolver answers differently from the custom DNS servers",
    summary=(
        "The host's own resolver (the nameservers in resolv.conf) gives another answer than the custom DNS servers "
        "it should be using: the host was not updated after the VNet's DNS servers changed, or it points elsewhere."
    ),
    fix="Point the host at the custom DNS servers (VNet DNS settings, then restart or renew DHCP).",
    detail="the host resolver ({resolver}) answered {resolver_answer}; the custom DNS servers ({servers}) answered {custom_answer}.",
    remediation=(
        "Make the host use the custom DNS servers: set them as the VNet's DNS servers, then restart the VM or "
        "node (or renew its DHCP lease) so {resolv_conf} picks them up; in a cluster, restart CoreDNS too."
    ),
    docs=_DNS_TROUBLESHOOT_DOCS,
)

DNS009 = Code(
    id="DNS009",
    severity=Severity.WARNING,
    title="DNS answers are slow or lossy",
    summary=(
        "Over repeated queries some got no answer or answers were slow: an overloaded server (CoreDNS, custom DNS), "
        "a distant forwarder, or packet loss on the way."
    ),
    fix="Check the server's load and its upstream latency; scale CoreDNS or the custom DNS servers.",
    detail="{server} over {transport}: {lost} of {count} queries lost; p50 {p50} ms, p95 {p95} ms, max {max} ms.",
    remediation=(
        "Check the load and upstream latency of {server_host} (and the path to it); for CoreDNS, check its pods' "
        "CPU throttling and scale it; for a custom server, its forwarder's latency."
    ),
    docs=_DNS_TROUBLESHOOT_DOCS,
)

DNS010 = Code(
    id="DNS010",
    severity=Severity.INFO,
    title="Azure DNS is not reachable from here",
    summary=(
        "Azure DNS (168.63.129.16) did not answer: it answers only from inside an Azure VNet, so this is expected on "
        "a machine outside Azure (on-premises, a laptop). The Azure DNS hop is skipped, not failed."
    ),
    fix="Run aksdiag from a VM or pod inside the VNet, or pass --azure-dns a DNS Private Resolver inbound endpoint.",
    detail=(
        "{server} did not answer over UDP or TCP within {timeout} s; it answers only from inside an Azure VNet, so "
        "its hop is skipped and answers could not be compared with Azure's."
    ),
    remediation=(
        "Run aksdiag inside the VNet (a jump box, or `aksdiag pod -- dns {name}`) to compare with Azure DNS, or "
        "pass --azure-dns with a DNS Private Resolver inbound endpoint reachable from here."
    ),
    docs="https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16",
)

DNS017 = Code(
    id="DNS017",
    severity=Severity.WARNING,
    title="DNS server answers over one transport only",
    summary=(
        "A server answers over UDP but not over TCP (or the reverse). Clients fall back to TCP for large or "
        "truncated answers, and AKS LocalDNS retries over TCP: nodes need both UDP and TCP 53."
    ),
    fix="Open both UDP and TCP 53 to the server (NSG, firewall) and make it serve both.",
    detail="{server} answered over {ok_transport} ({ok_outcome}) but over {bad_transport}: {bad_outcome}.",
    remediation=(
        "Open {bad_transport}/53 from the clients to {server_host} (NSG, firewall, appliance) and make the server "
        "serve it: nodes need both UDP and TCP 53."
    ),
    docs="https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/dns/troubleshoot-localdns",
)

DNS018 = Code(
    id="DNS018",
    severity=Severity.WARNING,
    title="Resolver mixes Azure DNS and custom DNS servers",
    summary=(
        "The host's resolver (or the VNet's DNS settings) lists Azure DNS and custom servers together. Resolvers "
        "and CoreDNS pick among them, so a private name resolves on one try and fails on the next."
    ),
    fix="List only the custom servers (which forward the private zones to 168.63.129.16), or only Azure DNS.",
    detail="{resolv_conf} lists {servers}: Azure DNS and custom servers together.",
    remediation=(
        "Use one kind only: the custom DNS servers (forwarding private zones to Azure DNS) in the VNet's DNS "
        "settings, then restart the nodes or renew DHCP so {resolv_conf} follows."
    ),
    command="az network vnet update --resource-group <vnet-resource-group> --name <vnet> --dns-servers {custom_servers}",
    docs="https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/dns/troubleshoot-dns-failure-from-pod-but-not-from-worker-node",
)

DNS020 = Code(
    id="DNS020",
    severity=Severity.ERROR,
    title="DNS server refuses the query",
    summary=(
        "A DNS server answered REFUSED: it does not recurse for this client (an allow-recursion / allow-query ACL "
        "that leaves out the client's subnet), or it is an authoritative-only server listed as a resolver."
    ),
    fix="Allow recursion for the clients' subnets on the server, or list a recursive server instead.",
    detail="{server} answered REFUSED for {name} over {transports}.",
    remediation=(
        "Allow recursive queries from this client's subnet on {server_host} (BIND: allow-recursion; Windows DNS: "
        "recursion enabled and no blocking policy), or point clients at a server that resolves for them."
    ),
    docs=_DNS_TROUBLESHOOT_DOCS,
)

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
        "the API server's private endpoint (stale after a stop/start, or a BYO record that was not updated)."
    ),
    fix="Set the A record to the private endpoint's address.",
    detail="{detail}",
    remediation="Set the A record {record} in {zone} to {endpoint_ip} (the NIC of private endpoint {endpoint}).",
    command=(
        "az network private-dns record-set a add-record --resource-group {zone_rg} --zone-name {zone} "
        "--record-set-name {record} --ipv4-address {endpoint_ip}"
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
        "{other_zone} is linked to {vnet_name} ({link_name}: {link_state}, resolution policy {policy}), is more "
        "specific than {zone}, and holds no record for {fqdn}."
    ),
    remediation=(
        "Remove the link {link_name} of {other_zone} to {vnet_name} (or delete that zone if it is a leftover), or "
        "add the A record {fqdn} to it."
    ),
    command="az network private-dns link vnet delete --resource-group {other_rg} --zone-name {other_zone} --name {link_name}",
    docs=_LINK_DOCS,
)

DNS015 = Code(
    id="DNS015",
    severity=Severity.WARNING,
    title="The cluster identity lacks a role AKS needs on the zone or the VNet",
    summary=(
        "With a BYO private DNS zone, the cluster identity needs Private DNS Zone Contributor on the zone (to write "
        "the API server's record and link VNets), and Network Contributor on a BYO VNet or subnet. Without them "
        "create, upgrade and reconcile fail, and the record goes stale."
    ),
    fix="Assign the role to the cluster identity on that scope.",
    detail="the identity {principal} holds {held} on {scope}; it needs {role}.",
    remediation="Assign {role} on {scope} to the cluster identity {principal}.",
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

AZ001 = Code(
    id="AZ001",
    severity=Severity.WARNING,
    title="An Azure read was refused: part of the path could not be checked",
    summary=(
        "ARM answered 403 (or another error) to a read aksdiag needs: the identity lacks a read permission on that "
        "scope. The checks that depend on it are left out; the others still ran."
    ),
    fix="Grant the identity Reader (or the named action) on the scope, or run as an identity that has it.",
    detail="{status} {code} reading {scope}: {message}",
    remediation="Grant {action} on {scope} (the Reader role covers it) to the identity aksdiag runs as.",
    command="az role assignment create --assignee <identity> --role Reader --scope {scope}",
    docs="https://learn.microsoft.com/azure/role-based-access-control/troubleshooting",
)

AZ002 = Code(
    id="AZ002",
    severity=Severity.ERROR,
    title="An Azure resource the cluster depends on does not exist",
    summary="ARM answered 404 for a resource the cluster names (the cluster itself, its zone, a VNet).",
    fix="Check the names given to aksdiag, or recreate / re-reference the missing resource.",
    detail="404 {code} reading {scope}.",
    remediation="Check that {scope} exists (and the subscription and resource group given to aksdiag).",
    docs="https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-not-found",
)

_API_DOCS = (
    "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/"
    "troubleshoot-cluster-connection-issues-api-server"
)

API001 = Code(
    id="API001",
    severity=Severity.ERROR,
    title="The API server does not accept TCP connections on its port",
    summary=(
        "No TCP connection to the API server's address on 443 (or the port in the kubeconfig): refused means nothing "
        "listens there (a stale address, the wrong endpoint); timed out means something drops the traffic on the "
        "way (an NSG, a firewall or appliance on a UDR, a missing peering)."
    ),
    fix="Check the address is the current endpoint's, then the NSGs, routes and firewall between here and it.",
    detail="{address}:{port}: {outcome}{why}.",
    remediation=(
        "If it timed out, find what drops TCP {port} from here to {address} (NSG rules, a UDR to a firewall or "
        "appliance, peering); if it was refused, check that {address} is still the API server's address "
        "(a stop/start or a re-created private endpoint moves it)."
    ),
    docs=_API_DOCS,
)

API002 = Code(
    id="API002",
    severity=Severity.ERROR,
    title="The API server does not accept TCP connections on 4443",
    summary=(
        "With API Server VNet Integration, nodes reach the API server's internal load balancer on TCP 443 and 4443; "
        "4443 is blocked (an NSG on the API server subnet or a firewall) or not served."
    ),
    fix="Allow TCP 4443 from the cluster subnet to the API server subnet.",
    detail="{address}:{port}: {outcome}{why}.",
    remediation="Allow TCP 4443 (and 443) from the cluster subnet to the API server subnet in its NSG.",
    docs="https://learn.microsoft.com/azure/aks/api-server-vnet-integration",
)

API003 = Code(
    id="API003",
    severity=Severity.ERROR,
    title="The API server's certificate does not cover the name or address used",
    summary=(
        "The certificate the API server presents does not list the name or IP the client connects with among its "
        "subject alternative names, so kubectl fails with `x509: certificate is valid for …, not …`."
    ),
    fix="Connect by a name the certificate covers (the cluster's FQDN), or add the name to the API server's certSANs.",
    detail="connected as {used}; the certificate is valid for {sans}.",
    remediation=(
        "Use a name the certificate covers (for AKS, the cluster's FQDN from `az aks show`), not {used}; for a "
        "self-managed API server, add {used} to its certSANs and re-issue the certificate."
    ),
    docs=_API_DOCS,
)

API004 = Code(
    id="API004",
    severity=Severity.ERROR,
    title="The API server's certificate is not trusted or not valid now",
    summary=(
        "The certificate chain does not verify against the CA the client trusts (the kubeconfig's "
        "certificate-authority-data, or the system store), or it is expired or not yet valid."
    ),
    fix="Refresh the kubeconfig (az aks get-credentials) or rotate the cluster certificates.",
    detail="{problem}.",
    remediation=(
        "Refresh the kubeconfig's CA with `az aks get-credentials` (AKS signs the API server with a per-cluster CA); "
        "if the certificate itself is expired, rotate it: `az aks rotate-certs`."
    ),
    docs="https://learn.microsoft.com/azure/aks/certificate-rotation",
)

API005 = Code(
    id="API005",
    severity=Severity.ERROR,
    title="The API server reports failing health checks",
    summary="/readyz or /livez answers with failing checks (for example `[-]etcd failed`): the control plane is unhealthy.",
    fix="Check the cluster's health in the portal or `az aks show`; open a support request if the control plane is degraded.",
    detail="{path} answered {status}: failing {checks}.",
    remediation=(
        "The control plane reports failing checks ({checks}): check `az aks show --query powerState` and the "
        "resource health of the cluster; on AKS the control plane is Microsoft's to repair."
    ),
    docs=_API_DOCS,
)

API010 = Code(
    id="API010",
    severity=Severity.ERROR,
    title="The TLS handshake with the API server does not complete",
    summary=(
        "TCP connects but the TLS handshake times out or breaks: traffic forced through a firewall or appliance "
        "(a UDR) that holds or inspects it, an MTU problem on the way, or something other than the API server "
        "listening on the address (kubectl: `net/http: TLS handshake timeout`)."
    ),
    fix="Check the route to the API server (effective routes, firewall rules and TLS inspection) and the MTU.",
    detail="{address}:{port}: {outcome}{why}.",
    remediation=(
        "Find what sits between here and {address}:{port}: a UDR to a firewall or appliance (check the subnet's "
        "effective routes and the firewall's logs, and exempt the API server from TLS inspection), or an MTU "
        "mismatch on a VPN or ExpressRoute path."
    ),
    docs=_API_DOCS,
)

API006 = Code(
    id="API006",
    severity=Severity.ERROR,
    title="An NSG blocks traffic the API server needs",
    summary=(
        "With API Server VNet Integration the API server subnet must accept TCP 443 and 4443 from the cluster "
        "subnet, and TCP 9988 from AzureLoadBalancer (its health probe); an NSG rule denies one of them."
    ),
    fix="Add an allow rule above the deny (lower priority number) for the port and source.",
    detail="{flow}: {decision}.",
    remediation=(
        "In {nsg}, allow {protocol} {port} from {source} to the API server subnet with a priority below "
        "{priority} (or remove rule {rule})."
    ),
    command=(
        "az network nsg rule create --resource-group {nsg_rg} --nsg-name {nsg} --name allow-aks-apiserver-{port} "
        "--priority {new_priority} --direction Inbound --access Allow --protocol Tcp "
        "--source-address-prefixes {source} --destination-port-ranges {port}"
    ),
    docs="https://learn.microsoft.com/azure/aks/api-server-vnet-integration",
)

API007 = Code(
    id="API007",
    severity=Severity.ERROR,
    title="The API server subnet does not meet VNet Integration's requirements",
    summary=(
        "The API server subnet must be delegated to Microsoft.ContainerService/managedClusters, be at least a /28, "
        "and have at least 9 free addresses (AKS reserves them for the API server's load balancer)."
    ),
    fix="Delegate the subnet, or use a larger one.",
    detail="{subnet}: {problems}.",
    remediation="Fix {subnet}: {problems}.",
    command=(
        "az network vnet subnet update --ids {subnet_id} --delegations Microsoft.ContainerService/managedClusters"
    ),
    docs="https://learn.microsoft.com/azure/aks/api-server-vnet-integration",
)

API008 = Code(
    id="API008",
    severity=Severity.ERROR,
    title="This client's egress address is outside the API server's authorized IP ranges",
    summary="The API server accepts only the authorized IP ranges; this client's egress address is not in them.",
    fix="Add the client's egress address (or its NAT gateway / firewall address) to the authorized ranges.",
    detail="egress {egress} is not in the authorized ranges {ranges}.",
    remediation="Add {egress}/32 to the cluster's authorized IP ranges.",
    command="az aks update --resource-group {rg} --name {cluster} --api-server-authorized-ip-ranges {ranges},{egress}/32",
    docs="https://learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges",
)

API009 = Code(
    id="API009",
    severity=Severity.ERROR,
    title="The API server's name does not resolve from here",
    summary="The name in the kubeconfig (or --fqdn) resolves to no address through this host's resolver.",
    fix="Trace the name with `aksdiag dns` to find the broken hop.",
    detail="{name}: {why}.",
    remediation="Run `aksdiag dns {name}` to find which DNS hop breaks the name, or pass --address to test an IP directly.",
    docs=_API_DOCS,
)

_IP_DOCS = "https://learn.microsoft.com/azure/aks/concepts-network-ip-address-planning"

IP001 = Code(
    id="IP001",
    severity=Severity.WARNING,
    title="The address is in a node's pod range, but no pod holds it now",
    summary=(
        "The IP falls in the pod address range of one node (its podCIDR, or its NodeNetworkConfig), yet no pod has "
        "it: the pod ended or moved, or traffic to it comes from a stale endpoint or cache."
    ),
    fix="Look for what still sends to the address (endpoints, a stale DNS record, a cached connection).",
    detail="{ip} is in {node}'s pod range ({range}), but no pod holds it now.",
    remediation="Check the Endpoints/EndpointSlices or the client that still uses {ip}; the pod that had it is gone from {node}.",
    docs=_IP_DOCS,
)

IP002 = Code(
    id="IP002",
    severity=Severity.ERROR,
    title="More than one owner claims the address",
    summary="Two running objects hold the same IP (two pods, a pod and a node without hostNetwork, a pod and a Service): an address conflict.",
    fix="Delete the stale owner; check the CNI's IP allocation (IPAM) for a leak or double assignment.",
    detail="{ip} is held by {owners}.",
    remediation="Remove the stale owner among {owners} (often a pod left from a deleted node) and check the CNI's IPAM state.",
    docs=_IP_DOCS,
)

IP003 = Code(
    id="IP003",
    severity=Severity.INFO,
    title="Nothing in the cluster holds the address",
    summary="No pod, node, Service or pod range of the cluster holds the IP: it belongs to something outside the cluster (or to a VNet address only Azure knows).",
    fix="Look outside the cluster: a VM, a private endpoint or a load balancer in the VNet (aksdiag whois --cluster).",
    detail="{ip}: no pod, node, Service or node pod range holds it ({plugin}).",
    remediation="Look it up in the VNet (`az network nic list --query \"[?ipConfigurations[?privateIPAddress=='{ip}']]\"`), or pass --cluster to search the Azure side.",
    docs=_IP_DOCS,
)

IP004 = Code(
    id="IP004",
    severity=Severity.ERROR,
    title="A subnet would run out of addresses at the peak (upgrade surge or autoscaler maximum)",
    summary=(
        "At the peak — the autoscaler's maximum plus an upgrade's surge nodes — the node pools need more addresses "
        "than the subnet has. With Azure CNI every node takes max pods + 1 addresses up front. Upgrades or "
        "scale-outs then fail (SubnetIsFull)."
    ),
    fix="Use a larger subnet (or a new pool in one), lower max pods or the maximum, or move to Azure CNI Overlay.",
    detail="{subnet} ({prefix}) has {usable} usable addresses; {needed} are needed at the peak: {why}.",
    remediation=(
        "Give the pools on {subnet} room for {needed} addresses: a larger subnet (add a node pool in a new subnet), "
        "a lower --max-pods or autoscaler maximum, a smaller max surge, or Azure CNI Overlay."
    ),
    docs=_IP_DOCS,
)

IP005 = Code(
    id="IP005",
    severity=Severity.WARNING,
    title="Part of the cluster could not be read: the answer may be incomplete",
    summary="The API server refused (RBAC 403) or failed a read aksdiag needs; the owners it could have shown are missing.",
    fix="Grant the identity list on the named resource (the read-only ClusterRole in container/rbac.yaml covers it).",
    detail="{resource}: {status} {error}",
    remediation="Grant `list` on {resource} to the identity aksdiag runs as (kubectl auth can-i list {resource} -A).",
    docs="https://kubernetes.io/docs/reference/access-authn-authz/rbac/",
)

_LB_DOCS = "https://learn.microsoft.com/azure/aks/load-balancer-standard"
_SNAT_DOCS = "https://learn.microsoft.com/azure/aks/load-balancer-standard#configure-the-allocated-outbound-ports"

LB001 = Code(
    id="LB001",
    severity=Severity.ERROR,
    title="The outbound rule's SNAT ports cannot serve the nodes at the peak",
    summary=(
        "Each outbound IP gives 64,000 SNAT ports, shared out as a fixed number per node (allocatedOutboundPorts, "
        "or Azure's default by pool size, which stops at 1,000 instances). When the nodes of an upgrade surge or "
        "the autoscaler's maximum need more ports than the outbound IPs have, the new nodes get no outbound "
        "ports: the scale-out or upgrade fails, or their connections to the internet and Azure APIs fail."
    ),
    fix="Add outbound IPs or lower the ports per node (az aks update --load-balancer-managed-outbound-ip-count / "
    "--load-balancer-outbound-ports), or move egress to a NAT gateway.",
    detail="{lb}/{rule}: {ports:,} ports per node × {nodes} nodes at {when} needs {needed:,} ports; {ips} outbound "
    "IP(s) give {available:,}, enough for {max_nodes} nodes.",
    remediation="Give {nodes} nodes room: {ips_needed} outbound IP(s) at {ports:,} ports per node, or at most "
    "{ports_fit:,} ports per node on {ips} IP(s) (a multiple of 8).",
    docs=_SNAT_DOCS,
    command="az aks update -g {resource_group} -n {cluster} --load-balancer-managed-outbound-ip-count {ips_needed}",
)

LB002 = Code(
    id="LB002",
    severity=Severity.WARNING,
    title="Few SNAT ports per node for the size of the pool",
    summary=(
        "With allocatedOutboundPorts 0 Azure gives each node 1,024 ports only while the backend pool has at most "
        "50 instances; at 51 it halves them for every node (512), then 256 past 100, and so on. Crossing a tier "
        "reallocates ports under running connections, and few ports per node exhaust SNAT under load "
        "(intermittent outbound timeouts)."
    ),
    fix="Set explicit ports per node with enough outbound IPs for the peak (az aks update "
    "--load-balancer-outbound-ports N --load-balancer-managed-outbound-ip-count M).",
    detail="{lb}/{rule}: {ports:,} ports per node for a pool of {nodes} nodes at {when} ({how}).",
    remediation="Choose ports per node for the workload (1,024 or more for busy egress) and enough IPs: "
    "{nodes} nodes × 1,024 ports need {ips_needed} IP(s).",
    docs=_SNAT_DOCS,
    command="az aks update -g {resource_group} -n {cluster} --load-balancer-outbound-ports 1024 "
    "--load-balancer-managed-outbound-ip-count {ips_needed}",
)

LB003 = Code(
    id="LB003",
    severity=Severity.WARNING,
    title="A LoadBalancer Service on a private cluster has a public frontend",
    summary=(
        "A Service of type LoadBalancer without the annotation service.beta.kubernetes.io/azure-load-balancer-"
        'internal: "true" gets a public IP on the `kubernetes` load balancer, even on a private cluster: the '
        "application is exposed to the internet, usually by mistake (`kubectl expose --type=LoadBalancer`)."
    ),
    fix="Annotate the Service as internal (it moves to the kubernetes-internal load balancer and a private IP), "
    "or delete the public exposure.",
    detail="{service} is served on public IP {ip} ({frontend}) while the cluster is private.",
    remediation="Make {service} internal, or confirm the public exposure is intended.",
    docs="https://learn.microsoft.com/azure/aks/internal-lb",
    command="kubectl -n {namespace} annotate service {name} service.beta.kubernetes.io/azure-load-balancer-internal=true",
)

LB004 = Code(
    id="LB004",
    severity=Severity.ERROR,
    title="A LoadBalancer Service has no external IP",
    summary=(
        "The cloud provider could not create the Service's frontend, so the Service stays <pending>. Its Events "
        "say why: most often the cluster identity lacks Network Contributor on the subnet or the public IP's "
        "resource group (AuthorizationFailed), the requested IP is taken or outside the subnet, or a quota."
    ),
    fix="Fix what the Service's Events name, then the cloud provider retries on its own.",
    detail="{service} has no ingress address. {reason}",
    remediation="{remediation}",
    docs="https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/load-bal-ingress-c/"
    "troubleshoot-load-balancer-service-pending",
    command="{command}",
)

LB005 = Code(
    id="LB005",
    severity=Severity.WARNING,
    title="A load balancer frontend or rule that no Service owns",
    summary=(
        "The cloud provider names each Service's frontend and rules after the Service's UID. A frontend or rule "
        "whose UID matches no Service is left from a deleted Service or made by hand: AKS may remove hand-made "
        "parts on its next reconcile, and a leftover public IP keeps an address exposed and billed."
    ),
    fix="Find what it served; delete it if nothing needs it, or manage it outside the AKS load balancers.",
    detail="{lb}: {what} {name}{ip} matches no Service in the cluster.",
    remediation="Check whether anything still uses {name}{ip}; remove it if not (AKS reconciles its load balancers).",
    docs=_LB_DOCS,
    command='az network lb show -g {node_resource_group} -n {lb} --query "{query}"',
)

LB006 = Code(
    id="LB006",
    severity=Severity.WARNING,
    title="A load balancer health probe does not match its Service",
    summary=(
        "With externalTrafficPolicy Local the probe must ask the Service's healthCheckNodePort (HTTP /healthz) so "
        "only nodes with a ready endpoint get traffic; with Cluster it must reach the Service's nodePort (or "
        "kube-proxy's 10256/healthz in the shared probe mode). A probe on another port marks backends wrongly: "
        "traffic goes to nodes that drop it, or to none."
    ),
    fix="Let the cloud provider rewrite the probe (remove hand edits and probe annotations that contradict the "
    "policy), then check `kubectl describe service` for sync errors.",
    detail="{service} port {port} (externalTrafficPolicy {policy}): rule {rule} probes {actual}, expected {expected}.",
    remediation="Make the probe of {rule} ask {expected}; AKS rewrites it when the Service is synced.",
    docs="https://cloud-provider-azure.sigs.k8s.io/topics/loadbalancer/#custom-load-balancer-health-probe",
)

CATALOGUE: dict[str, Code] = {
    c.id: c
    for c in (
        *(DNS001, DNS002, DNS003, DNS004, DNS005, DNS006, DNS007, DNS008, DNS009, DNS010),
        *(DNS011, DNS012, DNS013, DNS014, DNS015, DNS016, DNS019, DNS017, DNS018, DNS020),
        *(AZ001, AZ002),
        *(API001, API002, API003, API004, API005, API006, API007, API008, API009, API010),
        *(IP001, IP002, IP003, IP004, IP005),
        *(LB001, LB002, LB003, LB004, LB005, LB006),
    )
}


def lookup(code_id: str) -> Code | None:
    return CATALOGUE.get(code_id.strip().upper())
