"""LB codes: load balancer frontends, rules and probes, Services, outbound rules and SNAT capacity."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

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

# ---------------------------------------------------------------- SNAT, live: Azure Monitor metrics (issue 15)
_SNAT_EXHAUSTION = "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/snat-port-exhaustion"
_NAT_DOCS = "https://learn.microsoft.com/azure/nat-gateway/nat-metrics"

LB007 = Code(
    id="LB007",
    severity=Severity.ERROR,
    title="A node ran out of SNAT ports: its outbound connections failed",
    summary=(
        "The outbound load balancer's metrics show failed SNAT connections (SnatConnectionCount, ConnectionState "
        "Failed) from a node in the last hour: the node had no free SNAT port for a new connection, so the "
        "connection was never made. Pods on that node see intermittent outbound timeouts while others are fine. "
        "The capacity model counts ports per node; the metrics show what the node really used."
    ),
    fix="Give each node more SNAT ports (with enough outbound IPs for the peak), move egress to a NAT gateway, "
    "and have the workloads on the node reuse connections (pooling, keep-alive).",
    detail="{lb}: node {node} used {share} of its {allocated:,} SNAT ports (peak {used:,} at {used_at}) with "
    "{failed:,} failed connections in the last hour (most, {failed_peak:,}, at {failed_at}).{others} {model}",
    remediation="Raise the ports per node to {ports_next:,} with {ips_next} outbound IP(s) for {nodes} nodes, or "
    "move egress to a NAT gateway; find the pods on {node} that open many short connections to one destination.",
    docs=_SNAT_EXHAUSTION,
    command="az aks update -g {resource_group} -n {cluster} --load-balancer-outbound-ports {ports_next} "
    "--load-balancer-managed-outbound-ip-count {ips_next}",
)

LB008 = Code(
    id="LB008",
    severity=Severity.WARNING,
    title="A node used most of its SNAT ports in the last hour",
    summary=(
        "The outbound load balancer's metrics show a node whose used SNAT ports (UsedSnatPorts) came close to its "
        "allocation (AllocatedSnatPorts) in the last hour, without failed connections yet: a little more load "
        "and its new outbound connections fail."
    ),
    fix="Give each node more SNAT ports, or move egress to a NAT gateway, before the node runs out; reuse "
    "connections in the workloads on it.",
    detail="{lb}: node {node} used {share} of its {allocated:,} SNAT ports (peak {used:,} at {used_at}); no failed "
    "connections in the last hour. {model}",
    remediation="Raise the ports per node to {ports_next:,} with {ips_next} outbound IP(s) for {nodes} nodes, or "
    "move egress to a NAT gateway.",
    docs=_SNAT_EXHAUSTION,
    command="az aks update -g {resource_group} -n {cluster} --load-balancer-outbound-ports {ports_next} "
    "--load-balancer-managed-outbound-ip-count {ips_next}",
)

LB009 = Code(
    id="LB009",
    severity=Severity.ERROR,
    title="The NAT gateway failed SNAT connections",
    summary=(
        "The NAT gateway on a node subnet counted failed SNAT connections (SNATConnectionCount, ConnectionState "
        "Failed) in the last hour: it had no free port to a destination for a new connection (64,512 ports per "
        "public IP, shared by every VM of its subnets), so outbound connections from the nodes failed."
    ),
    fix="Add public IPs (or a prefix) to the NAT gateway, lower its idle timeout so ports come back sooner, and "
    "reuse connections in the workloads.",
    detail="NAT gateway {name}: {failed:,} failed SNAT connections in the last hour (most, {failed_peak:,}, at "
    "{failed_at}); {capacity}.",
    remediation="Give {name} more public IPs (each adds 64,512 ports) or a shorter idle timeout (now {idle} min).",
    docs="https://learn.microsoft.com/azure/nat-gateway/troubleshoot-nat-connectivity",
    command="az network nat gateway update -g {nat_resource_group} -n {name} --public-ip-addresses <ip1> <ip2>",
)

LB010 = Code(
    id="LB010",
    severity=Severity.WARNING,
    title="The NAT gateway dropped packets",
    summary=(
        "The NAT gateway on a node subnet dropped packets (PacketDropCount) in the last hour without failed "
        "SNAT connections. The metric does not say why; the usual cause is packets of connections the gateway "
        "already closed (their idle timeout passed), which clients see as resets or hangs on long-lived idle "
        "connections."
    ),
    fix="Keep long-lived connections alive more often than the NAT gateway's idle timeout (TCP keepalive), or "
    "raise the timeout.",
    detail="NAT gateway {name}: {dropped:,} packets dropped in the last hour (most, {dropped_peak:,}, at "
    "{dropped_at}); idle timeout {idle} min.",
    remediation="Send TCP keepalives more often than every {idle} min on idle connections through {name}, or "
    "raise its idle timeout.",
    docs=_NAT_DOCS,
    command="az network nat gateway update -g {nat_resource_group} -n {name} --idle-timeout 10",
)
