"""CL codes: the cluster's own state from the managedClusters GET — stopped, failed or busy, its pools, and the
node bootstrap (CSE) exit codes that name which path the nodes could not take."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_TROUBLESHOOT = "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/create-upgrade-delete"
_CREATION = f"{_TROUBLESHOOT}/troubleshoot-aks-cluster-creation-issues"
_RECONCILE = (
    "az resource update -g {resource_group} -n {cluster} --namespace Microsoft.ContainerService "
    "--resource-type ManagedClusters"
)

CL001 = Code(
    id="CL001",
    severity=Severity.ERROR,
    title="The cluster is stopped",
    summary=(
        "A stopped cluster (powerState Stopped, after `az aks stop`) has no running API server and no nodes: its "
        "name may still resolve and its private endpoint still exist, yet nothing answers. Every check that "
        "reaches into the cluster fails for this one reason, so it is said first and the API server is not "
        "reported as unreachable."
    ),
    fix="Start the cluster (az aks start); it keeps its name, its private endpoint and its node pools.",
    detail="{cluster} is stopped (powerState Stopped, provisioningState {provisioning}): its API server and its "
    "{nodes} node(s) in {pools} are not running.{starting}",
    remediation="Start {cluster}, then run aksdiag again.",
    docs="https://learn.microsoft.com/azure/aks/start-stop-cluster",
    command="az aks start -g {resource_group} -n {cluster}",
)

CL002 = Code(
    id="CL002",
    severity=Severity.ERROR,
    title="The cluster's last operation failed",
    summary=(
        "provisioningState Failed means the last create, update, upgrade, scale or start did not finish; the "
        "cluster may run, but with what that operation left half done. ARM keeps the error in "
        "status.provisioningError (code and message), the text `az aks show` shows."
    ),
    fix="Fix what the error names, then reconcile the cluster (a PUT of its own state: az resource update), or "
    "run the failed operation again.",
    detail="{cluster}: provisioningState Failed. {error}",
    remediation="Fix what {error_code} names, then reconcile {cluster}.",
    docs=_CREATION,
    command=_RECONCILE,
)

CL003 = Code(
    id="CL003",
    severity=Severity.WARNING,
    title="An operation on the cluster is in progress",
    summary=(
        "While the cluster or a pool is Creating, Updating, Upgrading, Scaling, Starting, Stopping or Deleting, "
        "nodes are added, replaced or removed and the API server may restart: what aksdiag sees now may change "
        "when the operation ends, and a failure now may be the operation's own."
    ),
    fix="Wait for the operation to end (az aks wait --updated), then run aksdiag again.",
    detail="{what} {state}: results may change until it ends.",
    remediation="Run aksdiag again when {cluster} is Succeeded (az aks wait returns then).",
    docs="https://learn.microsoft.com/azure/aks/upgrade-cluster",
    command="az aks wait -g {resource_group} -n {cluster} --updated",
)

CL004 = Code(
    id="CL004",
    severity=Severity.ERROR,
    title="A node pool is in a failed state",
    summary=(
        "A pool whose provisioningState is Failed did not finish its last create, scale or upgrade: it may have "
        "fewer nodes than asked, or nodes on an old image. Its status.provisioningError says why (a quota, an "
        "allocation failure, a full subnet, a policy…)."
    ),
    fix="Fix what the pool's error names, then run the pool's operation again (scale, upgrade) or reconcile "
    "the cluster.",
    detail="Pool {pool} ({mode}, {nodes} node(s)): provisioningState Failed. {error}",
    remediation="Fix what {error_code} names for pool {pool}, then run its operation again.",
    docs=_CREATION,
)

CL005 = Code(
    id="CL005",
    severity=Severity.WARNING,
    title="A node pool is stopped",
    summary=(
        "A stopped pool (az aks nodepool stop) has its nodes deallocated: pods that need it (its node selector, "
        "taints or the capacity it gave) stay Pending, while the rest of the cluster runs."
    ),
    fix="Start the pool (az aks nodepool start) if its workloads are needed.",
    detail="Pool {pool} ({mode}, {nodes} node(s)) is stopped (powerState Stopped) while {cluster} runs.",
    remediation="Start pool {pool} if its workloads should run.",
    docs="https://learn.microsoft.com/azure/aks/start-stop-nodepools",
    command="az aks nodepool start -g {resource_group} --cluster-name {cluster} -n {pool}",
)

CL006 = Code(
    id="CL006",
    severity=Severity.ERROR,
    title="Nodes could not resolve the API server's name while bootstrapping (CSE exit 52)",
    summary=(
        "A node's bootstrap script (the vmssCSE extension) resolves the API server's FQDN before it joins; exit "
        "status 52 (K8SAPIServerDNSLookupFailVMExtensionError, ERR_K8S_API_SERVER_DNS_LOOKUP_FAIL) or 53 (the "
        "lookup through Azure DNS) means it got no answer. In a private cluster that is the DNS chain from the "
        "node subnet: the VNet's custom DNS server without a conditional forwarder for privatelink.<region>."
        "azmk8s.io to 168.63.129.16, or the private zone not linked to the VNet that resolves."
    ),
    fix="Make the API server's name resolve from the node subnet (forwarder to 168.63.129.16, the zone's VNet "
    "link), then reconcile the cluster.",
    detail="{where}: the nodes' bootstrap (vmssCSE) exited {exit_code} ({meaning}): they could not resolve {fqdn}.",
    remediation="Make {fqdn} resolve from the node subnet through the VNet's DNS servers ({dns_servers}), then "
    "reconcile {cluster}.",
    docs=f"{_TROUBLESHOOT}/error-code-k8sapiserverdnslookupfailvmextensionerror",
    command=_RECONCILE,
)

CL007 = Code(
    id="CL007",
    severity=Severity.ERROR,
    title="Nodes could not connect to the API server while bootstrapping (CSE exit 51)",
    summary=(
        "The bootstrap script connects to the API server on 443 before the node joins; exit status 51 "
        "(K8SAPIServerConnFailVMExtensionError, VMExtensionError_K8SAPIServerConnFail) means the name resolved "
        "but the connection failed: an NSG, a route to a firewall, a proxy or authorized IP ranges between the "
        "node subnet and the API server (with VNet integration, 443 and 4443 to the API server subnet)."
    ),
    fix="Open TCP 443 (and 4443 with API Server VNet Integration) from the node subnet to the API server's "
    "address, then reconcile the cluster.",
    detail="{where}: the nodes' bootstrap (vmssCSE) exited {exit_code} ({meaning}): they could not connect to {fqdn}.",
    remediation="Let the node subnet reach {fqdn} on TCP {ports}, then reconcile {cluster}.",
    docs=f"{_TROUBLESHOOT}/error-code-k8sapiserverconnfailvmextensionerror",
    command=_RECONCILE,
)

CL008 = Code(
    id="CL008",
    severity=Severity.ERROR,
    title="Nodes had no outbound connection while bootstrapping (CSE exit 50)",
    summary=(
        "The bootstrap script reaches mcr.microsoft.com:443 (and the other required endpoints) before the node "
        "joins; exit status 50 (OutboundConnFailVMExtensionError, ERR_OUTBOUND_CONN_FAIL) means it could not: a "
        "firewall or NVA the default route leads to, an NSG, a proxy, or no outbound path at all (outbound type "
        "none, a private subnet)."
    ),
    fix="Allow the AKS required outbound endpoints (FQDNs and ports) on the node subnet's egress path, then "
    "reconcile the cluster.",
    detail="{where}: the nodes' bootstrap (vmssCSE) exited {exit_code} ({meaning}): no outbound connection "
    "(outbound type {outbound_type}).",
    remediation="Allow the required endpoints (mcr.microsoft.com:443 first) from the node subnet, then reconcile "
    "{cluster}.",
    docs=f"{_TROUBLESHOOT}/error-code-outboundconnfailvmextensionerror",
    command=_RECONCILE,
)

CL009 = Code(
    id="CL009",
    severity=Severity.ERROR,
    title="The nodes' bootstrap (CSE) failed with another exit code",
    summary=(
        "The bootstrap script's exit codes are AgentBaker's (cse_helpers.sh): 31, 35, 41, 42 and 99 are "
        "downloads that timed out (an egress path that drops), 65 a node image problem, 211 and 212 the "
        "bootstrap registry pull (network timeout, unauthorized kubelet identity); 124 is the script's own "
        "timeout, which Learn says can hide 50, 51 or 52."
    ),
    fix="Read the exit code's meaning and the node's /var/log/azure/cluster-provision.log, fix that, then "
    "reconcile the cluster.",
    detail="{where}: the nodes' bootstrap (vmssCSE) exited {exit_code} ({meaning}).",
    remediation="{advice} Then reconcile {cluster}.",
    docs=_CREATION,
    command=_RECONCILE,
)
