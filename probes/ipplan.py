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
import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from aksdiag import codes
from aksdiag.armview import name_of, props, subnet
from aksdiag.facts import AzureContext
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


def surge(pool: dict[str, Any], nodes: int) -> int:
    """Extra nodes during an upgrade: upgradeSettings.maxSurge as a count or a percentage (default 1)."""
    text = str((pool.get("upgradeSettings") or {}).get("maxSurge") or "1").strip()
    if text.endswith("%"):
        return max(1, math.ceil(nodes * float(text[:-1]) / 100))
    return int(text) if text.isdigit() else 1


def plugin_mode(cluster: dict[str, Any], pool: dict[str, Any]) -> str:
    network = props(cluster).get("networkProfile") or {}
    if network.get("networkPlugin") == "azure" and network.get("networkPluginMode") != "overlay":
        return "dynamic" if pool.get("podSubnetID") else "azure-cni"
    return "overlay" if network.get("networkPlugin") == "azure" else str(network.get("networkPlugin") or "kubenet")


def needs(cluster: dict[str, Any]) -> dict[str, Need]:
    """Addresses each subnet needs at the peak, keyed by lower-cased subnet id."""
    out: dict[str, Need] = {}
    for pool in props(cluster).get("agentPoolProfiles", []):
        subnet_id = pool.get("vnetSubnetID")
        if not subnet_id:
            continue  # AKS-managed VNet: nothing of the user's to plan
        nodes = int(pool.get("maxCount") or 0) if pool.get("enableAutoScaling") else int(pool.get("count") or 0)
        nodes = max(nodes, int(pool.get("count") or 0))
        extra = surge(pool, nodes)
        max_pods = int(pool.get("maxPods") or 30)
        mode = plugin_mode(cluster, pool)
        label = f"{pool['name']}: {nodes} nodes{' (autoscaler max)' if pool.get('enableAutoScaling') else ''} + {extra} surge"
        node_need = out.setdefault(subnet_id.lower(), Need())
        if mode == "azure-cni":
            node_need.addresses += (nodes + extra) * (max_pods + 1)
            node_need.why.append(f"{label}, × ({max_pods} pods + 1)")
        else:
            node_need.addresses += nodes + extra
            node_need.why.append(label)
        if mode == "dynamic":
            pod_need = out.setdefault(pool["podSubnetID"].lower(), Need())
            pod_need.addresses += (nodes + extra) * max_pods
            pod_need.why.append(f"{label}, × {max_pods} pods (pod subnet)")
    access = props(cluster).get("apiServerAccessProfile") or {}
    if access.get("enableVnetIntegration") and access.get("subnetId"):
        api_need = out.setdefault(access["subnetId"].lower(), Need())
        api_need.addresses += API_SERVER_RESERVED
        api_need.why.append(f"API Server VNet Integration reserves {API_SERVER_RESERVED}")
    return out


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.azure is not None
    ctx: AzureContext = facts[settings.azure]
    if ctx.cluster is None:
        return Judgement()
    hops: list[Hop] = []
    findings: list[Finding] = []
    for subnet_id, need in needs(ctx.cluster).items():
        body = subnet(ctx.vnets, subnet_id)
        if body is None:
            hops.append(Hop(len(hops) + 1, "subnet", name_of(subnet_id), Status.SKIPPED, detail="not read"))
            continue
        prefix = props(body).get("addressPrefix") or (props(body).get("addressPrefixes") or [""])[0]
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
        facts={"subnets": {k: v.addresses for k, v in needs(ctx.cluster).items()}},
    )


PROBE = Probe(
    id=ID,
    title="IP address planning",
    codes=("IP004",),
    plan=plan,
    judge=judge,
    commands=("ipplan", "check"),
    order=40,
)
