"""API codes: reaching the API server (TCP, TLS, health) and the Azure settings that gate it."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

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
