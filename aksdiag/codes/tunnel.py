"""TUN codes: the konnectivity tunnel (API server → kubelets) and the node paths AKS needs (TCP 10250 between
nodes, the nodes to the API server), judged from the konnectivity-agent pods and the NSGs on subnets and NICs."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_TUNNEL_DOCS = "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/tunnel-connectivity-issues"
_NSG_COMMAND = (
    "az network nsg rule create --resource-group {nsg_rg} --nsg-name {nsg} --name allow-aks-{port} "
    "--priority {new_priority} --direction {direction} --access Allow --protocol Tcp "
    "--source-address-prefixes {source_prefix} --destination-address-prefixes {destination_prefix} "
    "--destination-port-ranges {port}"
)

TUN001 = Code(
    id="TUN001",
    severity=Severity.ERROR,
    title="No konnectivity-agent pod is ready: the API server cannot reach the nodes",
    summary=(
        "On AKS the API server reaches the kubelets (kubectl logs, exec, port-forward, admission webhooks, "
        "metrics) through a tunnel that the konnectivity-agent pods in kube-system open to the control plane. With "
        "no agent ready those calls time out while kubectl get still works. The agent dials the API server on "
        "TCP 443: a firewall, a route or an NSG that stops the nodes' way there, or nodes under pressure, keep it "
        "down. (With API Server VNet Integration there is no tunnel and no agent: the API server dials the "
        "kubelets directly.)"
    ),
    fix="Find why the agents are not ready (their Events; the nodes' way to the API server on 443), fix that, then "
    "restart them (kubectl -n kube-system rollout restart deployment konnectivity-agent).",
    detail="{detail}",
    remediation="Look at the agents' Events (kubectl logs needs the tunnel itself) and the nodes' way to the API "
    "server on TCP 443; once that is open, restart the deployment.",
    docs=_TUNNEL_DOCS,
    command="kubectl -n kube-system describe pods -l app=konnectivity-agent",
)

TUN002 = Code(
    id="TUN002",
    severity=Severity.WARNING,
    title="Some konnectivity-agent pods are not ready",
    summary=(
        "The tunnel runs over every ready konnectivity-agent; one that is not ready carries nothing, so the "
        "tunnel has less room and a single failure more takes kubectl logs, exec and webhooks down."
    ),
    fix="Look at the pod's Events and its node (pressure, NotReady), then delete the pod so it is scheduled again.",
    detail="{detail}",
    remediation="Describe the pods that are not ready and their nodes; delete a stuck pod to have it rescheduled.",
    docs=_TUNNEL_DOCS,
    command="kubectl -n kube-system get pods -l app=konnectivity-agent -o wide",
)

TUN003 = Code(
    id="TUN003",
    severity=Severity.WARNING,
    title="konnectivity-agent is crash-looping",
    summary=(
        "An agent that restarts again and again drops the tunnel's connections each time: kubectl logs and exec "
        "break off, webhooks fail now and then. It usually cannot keep its connection to the API server (443 "
        "blocked or inspected by a firewall or proxy) or is killed for memory on a loaded node."
    ),
    fix="Read why it ended (lastState, Events) and fix the nodes' way to the API server on TCP 443.",
    detail="{detail}",
    remediation="Read {pod}'s last termination and Events; check that the nodes reach the API server on TCP 443 "
    "without TLS inspection.",
    docs=_TUNNEL_DOCS,
    command="kubectl -n kube-system describe pod {pod}",
)

TUN004 = Code(
    id="TUN004",
    severity=Severity.ERROR,
    title="TCP 10250 is blocked between node pools: kubectl logs, exec and port-forward fail for some pods",
    summary=(
        "The API server's calls to a kubelet (logs, exec, port-forward, metrics) leave the tunnel at the node where "
        "konnectivity-agent runs and go to the target node's kubelet on TCP 10250. When an NSG denies 10250 "
        "between the agent's nodes and another pool, those calls work only for pods on the nodes where the tunnel "
        "component is scheduled (Learn: tunnel connectivity issues, cause 1)."
    ),
    fix="Allow TCP 10250 between the node subnets (in both the subnet's and the NIC's NSG, each way it is denied).",
    detail="{flow}: {decision}. konnectivity-agent runs on {agent_pools}: kubectl logs / exec / port-forward work only "
    "for pods on the nodes where it runs ({where}), not for pods on {pool}.",
    remediation="In {nsg}, allow TCP 10250 {direction_word} from {source_prefix} to {destination_prefix} with a "
    "priority below {priority} (or remove rule {rule}).",
    docs=_TUNNEL_DOCS,
    command=_NSG_COMMAND,
)

TUN005 = Code(
    id="TUN005",
    severity=Severity.ERROR,
    title="An NSG blocks the nodes from the API server",
    summary=(
        "The nodes' kubelets and the konnectivity-agent dial the API server: its private endpoint on TCP 443, or "
        "with API Server VNet Integration its internal load balancer in the API server subnet on 443 and 4443. "
        "An NSG that denies that path (outbound at the node's NIC or subnet, inbound at the API server subnet) "
        "leaves the nodes NotReady, new nodes unable to join (CSE exit 51) and the tunnel down."
    ),
    fix="Allow the nodes' subnet to the API server's address on the port, in the NSG that denies it.",
    detail="{flow}: {decision}.",
    remediation="In {nsg}, allow TCP {port} {direction_word} from {source_prefix} to {destination_prefix} with a "
    "priority below {priority} (or remove rule {rule}).",
    docs="https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/error-codes/k8sapiserverconnfailvmextensionerror",
    command=_NSG_COMMAND,
)

TUN006 = Code(
    id="TUN006",
    severity=Severity.ERROR,
    title="An NSG blocks the API server from the kubelets (API Server VNet Integration)",
    summary=(
        "With API Server VNet Integration there is no tunnel: the API server, projected into the delegated API "
        "server subnet, dials each kubelet on TCP 10250 itself. An NSG that denies it (outbound at the API server "
        "subnet, inbound at the node's subnet or NIC) breaks kubectl logs, exec, port-forward and webhooks."
    ),
    fix="Allow TCP 10250 from the API server subnet to the node subnet, in the NSG that denies it.",
    detail="{flow}: {decision}.",
    remediation="In {nsg}, allow TCP 10250 {direction_word} from {source_prefix} to {destination_prefix} with a "
    "priority below {priority} (or remove rule {rule}).",
    docs="https://learn.microsoft.com/azure/aks/api-server-vnet-integration",
    command=_NSG_COMMAND,
)

__all__ = ["TUN001", "TUN002", "TUN003", "TUN004", "TUN005", "TUN006"]
