"""DNS codes of the resolution chain (the dns_chain probe): what each hop answered, and why it is wrong."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_PRIVATE_CLUSTER_DOCS = "https://learn.microsoft.com/azure/aks/private-clusters#hub-and-spoke-with-custom-dns"
_DNS_TROUBLESHOOT_DOCS = (
    "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/dns/"
    "basic-troubleshooting-dns-resolution-problems"
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
        'forward only; forwarders { 168.63.129.16; }; }; unbound: forward-zone: name: "privatelink.<region>.'
        'azmk8s.io" forward-addr: 168.63.129.16. A DNS Private Resolver inbound endpoint answers from its VNet: '
        "link the zone there (and no ruleset linked there may send it elsewhere); an Azure Firewall DNS proxy asks "
        "its policy's DNS servers. The finding's command fits the server's kind when ARM tells it (--cluster)."
    ),
    detail="{server} answered {outcome} for {name}; {azure_view}.{note}",
    remediation="{remediation}",
    command="{command}",
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

DNS021 = Code(
    id="DNS021",
    severity=Severity.ERROR,
    title="CNAME chain loops or runs past the depth resolvers follow",
    summary=(
        "The name is a CNAME whose chain never reaches an address: it comes back to a name already in it (a loop), "
        "or it is longer than the 11 CNAMEs a resolver follows (BIND's max-query-restarts), so clients get SERVFAIL or no address. "
        "Usually a hand-made record in a copy of the zone, or two zones whose aliases point at each other."
    ),
    fix="Fix the CNAME records so the chain ends in an A record within a few hops (a private endpoint needs none).",
    detail="{server} answered {name} with {what}: {chain}{why}.",
    remediation=(
        "Fix the CNAME records of {chain_start} where they are served ({server_host}'s own copy of the zone, or the "
        "server it forwards to): each name must end in an A record within 11 CNAMEs, without coming back to itself; "
        "for a private endpoint, replace hand-made records with a conditional forwarder for {zone} → {forward_to}."
    ),
    docs=_DNS_TROUBLESHOOT_DOCS,
)

DNS022 = Code(
    id="DNS022",
    severity=Severity.ERROR,
    title="DNS server answered an error rcode",
    summary=(
        "A DNS server answered the query with an error other than NXDOMAIN, SERVFAIL or REFUSED: FORMERR (it could "
        "not parse the query), NOTIMP (it does not implement it), NOTAUTH, YXDOMAIN, an update-only rcode, or one no "
        "standard assigns. A resolver gets no address from it: it is not a working recursive DNS server for this "
        "client (an appliance, a proxy, or a server that mishandles plain queries)."
    ),
    fix="Point clients at a recursive DNS server that resolves the name, or fix the server that answers this rcode.",
    detail="{server} answered {rcode} for {name} over {transports}: {why}.",
    remediation=(
        "{server_host} answers {rcode} instead of resolving {name}: check that it is a recursive DNS server "
        "(not an authoritative-only server, a DHCP appliance or a proxy) and its logs for the reason; until fixed, "
        "remove it from the DNS server list."
    ),
    docs=_DNS_TROUBLESHOOT_DOCS,
)

DNS036 = Code(
    id="DNS036",
    severity=Severity.WARNING,
    title="The node's resolver does not use the VNet's DNS servers",
    summary=(
        "The host's own resolver (a node's, seen from a pod with dnsPolicy Default or hostNetwork, or a jump box "
        "in the cluster's VNet) asks other DNS servers than the VNet's DNS settings name. Azure hands those servers "
        "out by DHCP, so after the VNet's DNS servers change, running nodes and VMs keep asking the old ones until "
        "they renew their lease or restart — and CoreDNS, which forwards to the node's servers, with them. The "
        "systemd-resolved stub (127.0.0.53) and LocalDNS (169.254.10.10) forward to the servers compared here."
    ),
    fix=(
        "After changing the VNet's DNS servers, restart the nodes' network service and then CoreDNS: restart the "
        "nodes (az vmss restart on the pool's scale set) or replace them (new nodes, az aks nodepool upgrade "
        "--node-image-only), or run sudo systemctl restart systemd-networkd on each; then kubectl -n kube-system "
        "rollout restart deployment coredns. On a VM: sudo systemctl restart systemd-networkd (ipconfig /renew), "
        "or restart it."
    ),
    detail="the VNet's DNS servers are {vnet_servers}; {who}'s resolver ({where}) uses {host_servers}: {diff}.",
    remediation="{remediation}",
    command="{command}",
    docs=(
        "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/dns/"
        "troubleshoot-dns-failure-from-pod-but-not-from-worker-node"
    ),
)
