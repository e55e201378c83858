"""ipplan: will the cluster's subnets hold its nodes and pods at the peak — an upgrade surge, or the autoscaler's
maximum? Addresses needed per subnet, from the node pools and the network plugin:

- Azure CNI with pod IPs from the node subnet (pre-allocated): (nodes + surge) × (max pods + 1);
- kubenet, Azure CNI Overlay, Cilium overlay: nodes + surge (pods use a separate CIDR);
- dynamic pod IP allocation: nodes + surge in the node subnet, (nodes + surge) × max pods in the pod subnet;
- API Server VNet Integration: 9 addresses in the API server subnet.
Nodes are the autoscaler's maximum when it is on. Azure keeps 5 addresses of every subnet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable
from dataclasses import dataclass, field

from aksdiag import codes
from aksdiag.armview import name_of
from aksdiag.azfacts import Cluster, NodePool, digest
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

ID = "ipplan"
AZURE_RESERVED = 5
API_SERVER_RESERVED = 9
"""Addresses AKS keeps in the API server subnet with VNet Integration (which must also be at least a /28)."""


@dataclass
class Need:
    addresses: int = 0
    why: list[str] = field(default_factory=list)


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure is None:
        raise Skip("no Azure context: pass --cluster and --resource-group (and --subscription)")
    return [settings.azure]


DEFAULT_MAX_PODS = 30
"""Pods per node where a pool does not say (Azure CNI's default)."""


def plugin_mode(cluster: Cluster, pool: NodePool) -> str:
    """azure-cni (pod IPs from the node subnet), dynamic (from a pod subnet), overlay, or the plugin's name."""
    if cluster.network_plugin == "azure" and cluster.network_plugin_mode != "overlay":
        return "dynamic" if pool.pod_subnet_id else "azure-cni"
    return "overlay" if cluster.network_plugin == "azure" else cluster.network_plugin or "kubenet"


def needs(cluster: Cluster) -> dict[str, Need]:
    """Addresses each subnet needs at the peak, keyed by lower-cased subnet id."""
    out: dict[str, Need] = {}
    for pool in cluster.pools:
        if not pool.vnet_subnet_id:
            continue  # AKS-managed VNet: nothing of the user's to plan
        nodes = pool.peak
        extra = pool.surge(nodes)
        max_pods = pool.max_pods or DEFAULT_MAX_PODS
        mode = plugin_mode(cluster, pool)
        label = f"{pool.name}: {nodes} nodes{' (autoscaler max)' if pool.autoscaling else ''} + {extra} surge"
        node_need = out.setdefault(pool.vnet_subnet_id.lower(), Need())
        if mode == "azure-cni":
            node_need.addresses += (nodes + extra) * (max_pods + 1)
            node_need.why.append(f"{label}, × ({max_pods} pods + 1)")
        else:
            node_need.addresses += nodes + extra
            node_need.why.append(label)
        if mode == "dynamic":
            pod_need = out.setdefault(pool.pod_subnet_id.lower(), Need())
            pod_need.addresses += (nodes + extra) * max_pods
            pod_need.why.append(f"{label}, × {max_pods} pods (pod subnet)")
    if cluster.vnet_integration and cluster.api_subnet_id:
        api_need = out.setdefault(cluster.api_subnet_id.lower(), Need())
        api_need.addresses += API_SERVER_RESERVED
        api_need.why.append(f"API Server VNet Integration reserves {API_SERVER_RESERVED}")
    return out


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.azure is not None
    arm = digest(facts[settings.azure])
    unread = tuple(e.reason for e in arm.errors if not e.refusal)  # could not look there: the probe is `error`
    if arm.cluster is None:
        return Judgement(unread=unread)  # a refusal is AZ001/AZ002 (private_dns); a failed read is our error
    hops: list[Hop] = []
    findings: list[Finding] = []
    planned = needs(arm.cluster)
    for subnet_id, need in planned.items():
        subnet = arm.subnet(subnet_id)
        if subnet is None:
            hops.append(Hop(len(hops) + 1, "subnet", name_of(subnet_id), Status.SKIPPED, detail="not read"))
            continue
        prefix = subnet.prefix
        usable = ipaddress.ip_network(prefix, strict=False).num_addresses - AZURE_RESERVED
        ok = need.addresses <= usable
        detail = f"{prefix}: {usable} usable, {need.addresses} needed at the peak ({'; '.join(need.why)})"
        if not ok:
            findings.append(
                codes.IP004.at(ID, hop=len(hops) + 1, subnet=name_of(subnet_id), prefix=prefix, usable=usable,
                               needed=need.addresses, why="; ".join(need.why),
                               evidence={"subnet": subnet_id, "needed": need.addresses, "usable": usable})
            )  # fmt: skip
        hops.append(Hop(len(hops) + 1, "subnet", name_of(subnet_id), Status.OK if ok else Status.FAIL, detail=detail))
    return Judgement(
        hops=tuple(hops),
        findings=tuple(findings),
        facts={"subnets": {k: v.addresses for k, v in planned.items()}},
        unread=unread,
    )


PROBE = Probe(
    id=ID,
    title="IP address planning",
    codes=("IP004",),
    plan=plan,
    judge=judge,
    commands=("ipplan", "check", "fleet"),
    order=40,
)
