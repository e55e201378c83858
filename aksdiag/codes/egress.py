"""EG001–EG009: the endpoints the cluster needs (outboundNetworkDependenciesEndpoints and the AKS essentials), tested
from where aksdiag runs — DNS, TCP, the TLS handshake with the name, an HTTP answer (the egress probe)."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_RULES_DOCS = "https://learn.microsoft.com/azure/aks/outbound-rules-control-egress"
_OUTBOUND_DOCS = (
    "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/create-upgrade-delete/"
    "error-code-outboundconnfailvmextensionerror"
)
_FIREWALL_DOCS = "https://learn.microsoft.com/azure/firewall/rule-processing"

EG001 = Code(
    id="EG001",
    severity=Severity.ERROR,
    title="A name the cluster needs does not resolve",
    summary=(
        "Nodes resolve the endpoints they need (the container registry, Entra ID, the package mirrors, ARM, the "
        "API server) through the VNet's DNS servers. A custom DNS server that cannot forward public names (no "
        "forwarder to 168.63.129.16 or the internet), a private zone that shadows the name without its record, "
        "or a DNS proxy that refuses the name stops the node bootstrap (CSE exit 50 or 52) and image pulls."
    ),
    fix="Make the DNS servers this host (or node) uses answer public names: forward them to Azure DNS "
    "(168.63.129.16) or upstream; check for a private zone that covers the name without its record.",
    detail="{name} ({category}): asking {resolver} gave {outcome}.",
    remediation="Make {resolver} resolve {name}: a forwarder for public names (to 168.63.129.16 or upstream); "
    "`aksdiag dns {name}` traces the chain hop by hop.",
    docs=_OUTBOUND_DOCS,
    command="aksdiag dns {name}",
)

EG002 = Code(
    id="EG002",
    severity=Severity.WARNING,
    title="A public endpoint resolves to a private address",
    summary=(
        "The endpoints AKS needs are public services; their names resolve to public addresses. A private answer "
        "means a DNS server rewrites the name: a firewall's or proxy's DNS that sends traffic to itself, a "
        "private zone or a conditional forwarder for the name. That can be deliberate (a private endpoint, a "
        "proxy), but then that address must carry the traffic, with a certificate the nodes trust."
    ),
    fix="Find which DNS server rewrites the name (`aksdiag dns NAME`); if it is deliberate, make sure the address "
    "really serves the endpoint; otherwise remove the override.",
    detail="{name} ({category}) resolves to {addresses} through {resolver}: private, where a public address is "
    "expected.",
    remediation="Trace {name} with `aksdiag dns {name}` to find the server that answers {addresses}; keep it only "
    "if that address serves {name} (a private endpoint or a proxy you run).",
    docs=_RULES_DOCS,
    command="aksdiag dns {name}",
)

EG003 = Code(
    id="EG003",
    severity=Severity.ERROR,
    title="A required endpoint drops the connection: TCP times out",
    summary=(
        "No answer at all to a TCP connect (no SYN-ACK, no reset) means the packets are dropped on the way: a "
        "firewall or network virtual appliance without a rule for the destination, an NSG deny, a route to None, "
        "or no way out at all (outbound type none, a private subnet without NAT). Nodes that cannot reach these "
        "endpoints fail to join (CSE exit 50) and cannot pull images."
    ),
    fix="Allow the endpoint on the firewall (an application rule for the FQDN, or the AzureKubernetesService FQDN "
    "tag) and check the route and NSGs on the node subnet.",
    detail="{name}:{port} ({category}) at {address}: the TCP connect got no answer ({why}).{blocker}",
    remediation="Allow {name}:{port} from the node subnet on the way out ({way}).",
    docs=_OUTBOUND_DOCS,
)

EG004 = Code(
    id="EG004",
    severity=Severity.ERROR,
    title="A required endpoint refuses the connection",
    summary=(
        "A TCP reset to the connect: something on the way (a firewall that rejects rather than drops, a proxy) or "
        "the address itself (nothing listens there: a stale DNS override) says no. The real service listens on "
        "its port; a refusal is not the endpoint's answer."
    ),
    fix="Find what answers at that address: a firewall rule that rejects the destination, or a DNS override that "
    "sends the name to an address where nothing serves it.",
    detail="{name}:{port} ({category}) at {address}: connection refused.{blocker}",
    remediation="Allow {name}:{port} where it is rejected, or fix the name's answer if {address} does not serve "
    "{name} ({way}).",
    docs=_OUTBOUND_DOCS,
)

EG005 = Code(
    id="EG005",
    severity=Severity.ERROR,
    title="A required endpoint's certificate is not trusted here or does not name it: TLS inspection?",
    summary=(
        "Microsoft's endpoints present certificates from public CAs that name them. A certificate from another "
        "issuer is most often a firewall or proxy that inspects TLS (Azure Firewall Premium, a corporate proxy) "
        "and signs with its own CA: nodes do not trust it unless the cluster is given that CA "
        "(httpProxyConfig.trustedCa, or a custom CA on the nodes), and some endpoints (Entra ID, MCR) must be "
        "excluded from inspection anyway."
    ),
    fix="Exclude the endpoint from TLS inspection, or give the cluster the inspecting CA "
    "(az aks update --http-proxy-config with trustedCa).",
    detail="{name}:{port} ({category}) presented a certificate from {issuer} for {names}: {why}.",
    remediation="Exclude {name} from TLS inspection on the device whose CA is {issuer}, or trust that CA on the "
    "nodes (httpProxyConfig.trustedCa).",
    docs=_RULES_DOCS,
)

EG006 = Code(
    id="EG006",
    severity=Severity.ERROR,
    title="A firewall or proxy denies a required endpoint",
    summary=(
        "The connection works but the answer is not the service's: Azure Firewall answers HTTP 470 with "
        '"Action: Deny. Reason: No rule matched" when no application rule allows the FQDN, and proxies answer '
        "403 or 407 with their own page. The name is missing from the allow list."
    ),
    fix="Add an application rule for the FQDN (or the AzureKubernetesService FQDN tag) on the firewall, or allow "
    "it on the proxy.",
    detail="{name}:{port} ({category}): GET / answered HTTP {status} from {by}: {excerpt}",
    remediation="Allow {name} on {by}: an application rule for {name}:{port} (Https) from the node subnet.",
    docs=_FIREWALL_DOCS,
    command="az network firewall policy rule-collection-group collection add-filter-collection "
    "--policy-name <policy> -g <rg> --rule-collection-group-name <group> --name allow-aks --collection-priority "
    "<priority> --action Allow --rule-name {rule_name} --rule-type ApplicationRule --source-addresses <node-subnet> "
    "--protocols Https=443 --target-fqdns {name}",
)

EG007 = Code(
    id="EG007",
    severity=Severity.ERROR,
    title="A required endpoint connects, but the TLS session is cut off",
    summary=(
        "TCP opens, then the TLS handshake is reset or never answered: something reads the name in the client "
        "hello (SNI) and stops it — Azure Firewall resets HTTPS whose SNI no application rule allows (without TLS "
        "inspection it cannot answer 470), and proxies that require CONNECT drop direct TLS."
    ),
    fix="Allow the FQDN on the firewall (an application rule for Https:443, or the AzureKubernetesService FQDN "
    "tag), or configure the cluster's HTTP proxy if egress must go through one.",
    detail="{name}:{port} ({category}) at {address}: TCP opens, then {what}.{blocker}",
    remediation="Allow {name}:{port} by name on the firewall or proxy between the nodes and the internet ({way}).",
    docs=_FIREWALL_DOCS,
)

EG008 = Code(
    id="EG008",
    severity=Severity.INFO,
    title="Some required endpoints were listed, not fully tested",
    summary=(
        "A wildcard (*.hcp.<region>.azmk8s.io, *.data.mcr.microsoft.com) names no host to connect to, a UDP "
        "endpoint (NTP) answers no connect, and a plain-HTTP endpoint is reached only by TCP here: aksdiag shows "
        "them with what a firewall rule must allow, and tests what it can."
    ),
    fix="Allow them on the firewall as listed (FQDN tags cover most: AzureKubernetesService).",
    detail="{count} endpoint(s) not fully tested here: {which}.",
    remediation="Allow these on the way out as listed: {which}.",
    docs=_RULES_DOCS,
)

EG009 = Code(
    id="EG009",
    severity=Severity.WARNING,
    title="The cluster's list of required endpoints could not be read",
    summary=(
        "GET managedClusters/{name}/outboundNetworkDependenciesEndpoints (`az aks egress-endpoints list`) lists "
        "what this cluster's nodes need, its own API server included. Azure refused it to this identity, so "
        "aksdiag tests the AKS essentials only."
    ),
    fix="Read with an identity that has Microsoft.ContainerService/managedClusters/read on the cluster (Reader).",
    detail="Reading {path}: {reason}. Tested the AKS essentials instead ({count} endpoints).",
    remediation="Grant Reader on the cluster to the identity aksdiag uses, or pass the endpoints with --endpoint.",
    docs=_RULES_DOCS,
    command="az aks egress-endpoints list -g {resource_group} -n {cluster}",
)
