"""IP codes: who owns an address, and whether the subnets have room for the nodes and pods."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

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
