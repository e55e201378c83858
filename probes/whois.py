"""whois: who holds an IP in the cluster — a pod, a node, a Service, or the node whose pod range contains it.

The pod is found on the server (field selector `status.podIP`); nodes, Services and NodeNetworkConfigs are
listed whole (small next to pods). The node that owns a pod range is found from `spec.podCIDRs` (kubenet, Azure
CNI Overlay, Cilium) or the NodeNetworkConfig IP assignments (dynamic pod IP allocation, CNS); with classic Azure
CNI (IPs pre-allocated on the node NICs) no Kubernetes object lists the spare IPs, and the answer says so.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from aksdiag import codes, kubefacts
from aksdiag.azfacts import AzureFacts, Nic, digest
from aksdiag.facts import AzureContext, AzureVmssNicsNeed, KubeContextNeed, KubeList, KubeListNeed
from aksdiag.kubefacts import Node, NodeNetworkConfig, Service
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

ID = "whois"


def _needs(ip: str, ctx: KubeContextNeed) -> dict[str, KubeListNeed]:
    return {
        "pods": KubeListNeed(ctx, "pods", field_selector=f"status.podIP={ip}"),
        "nodes": KubeListNeed(ctx, "nodes"),
        "services": KubeListNeed(ctx, "services"),
        "nodenetworkconfigs": KubeListNeed(ctx, "nodenetworkconfigs"),
    }


def plan(ip: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.kube is None:
        raise Skip("no Kubernetes context: pass --kubeconfig (or run in a pod)")
    needs: list[Hashable] = [*_needs(ip, settings.kube).values(), *([settings.azure] if settings.azure else [])]
    return needs + _vmss_needs(ip, settings, facts)


def _vmss_needs(ip: str, settings: Settings, facts: Facts) -> list[Hashable]:
    """With Azure context and classic Azure CNI: the NICs of the nodes' scale sets (second round, once the nodes
    are known), where the pre-allocated pod IPs are."""
    if settings.azure is None or settings.kube is None:
        return []
    listed = facts.get(_needs(ip, settings.kube)["nodes"])
    nncs = facts.get(_needs(ip, settings.kube)["nodenetworkconfigs"])
    if not isinstance(listed, KubeList) or not isinstance(nncs, KubeList):
        return []
    nodes = kubefacts.nodes(listed)
    if not _plugin(nodes, kubefacts.node_network_configs(nncs)).startswith(PRE_ALLOCATED):
        return []
    scale_sets = sorted({n.vmss for n in nodes if n.vmss})
    a = settings.azure
    return [AzureVmssNicsNeed(a.subscription, rg, vmss, a.endpoint) for rg, vmss in scale_sets]


def judge(ip: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.kube is not None
    lists: dict[str, KubeList] = {k: facts[n] for k, n in _needs(ip, settings.kube).items()}
    findings: list[Finding] = []
    unread: list[str] = []  # lists that failed other than by RBAC: whois could not look there
    for resource, result in lists.items():
        if not result.error or (resource == "nodenetworkconfigs" and result.status == 404):
            continue  # read, or no NodeNetworkConfig CRD (not dynamic pod IP allocation)
        if result.forbidden:
            findings.append(codes.IP005.at(ID, resource=resource, status=result.status or "", error=result.error))
        else:
            unread.append(result.reason(resource))
    blind = bool(unread) or bool(lists["pods"].error)
    nodes = kubefacts.nodes(lists["nodes"])
    nncs = kubefacts.node_network_configs(lists["nodenetworkconfigs"])
    owners: list[tuple[str, str]] = []  # (kind, description)
    hops: list[Hop] = []
    for pod in kubefacts.pods(lists["pods"]):
        if pod.finished:
            continue
        host = " (hostNetwork: it shares its node's IP)" if pod.host_network else ""
        owner = f", owned by {pod.owner[0]} {pod.owner[1]}" if pod.owner else ""
        owners.append(("pod" if not host else "hostNetwork pod", f"pod {pod.namespace}/{pod.name}"))
        hops.append(Hop(len(hops) + 1, "pod", f"{pod.namespace}/{pod.name}", Status.OK, answers=(ip,),
                        detail=f"on node {pod.node_name or '?'}, {pod.phase or '?'}{owner}{host}"))  # fmt: skip
    for node in nodes:
        if ip in {a.address for a in node.addresses}:
            owners.append(("node", f"node {node.name}"))
            hops.append(Hop(len(hops) + 1, "node", node.name, Status.OK, answers=(ip,), detail=_node_detail(node)))
    for svc in kubefacts.services(lists["services"]):
        where = _service_match(svc, ip)
        if where:
            owners.append(("service", f"service {svc.ref}"))
            hops.append(Hop(len(hops) + 1, "service", svc.ref, Status.OK, answers=(ip,), detail=where))
    ctx = facts.get(settings.azure) if settings.azure else None
    if isinstance(ctx, AzureContext):
        for kind, name, detail in _azure_owners(ip, digest(ctx)):
            owners.append((kind, f"{kind} {name}"))
            hops.append(Hop(len(hops) + 1, kind, name, Status.OK, answers=(ip,), detail=detail))
    plugin = _plugin(nodes, nncs)
    ranges = _ranges(ip, nodes, nncs)
    if not ranges and plugin.startswith(PRE_ALLOCATED):
        nic_lists = [facts[n] for n in _vmss_needs(ip, settings, facts) if n in facts]
        ranges = _nic_owner(ip, nodes, [Nic.from_arm(b) for found in nic_lists for b in found.nics])
        ranges = ranges or _layout_guess(ip, nodes)
    for node_name, how in ranges:
        hops.append(Hop(len(hops) + 1, "pod-range", node_name, Status.OK, answers=(ip,), detail=how))
    # a LoadBalancer Service and its Azure frontend are one owner seen twice, as are a node and its hostNetwork pods
    real = [o for o in owners if o[0] != "hostNetwork pod"]
    if any(o[0] == "service" for o in owners):
        real = [o for o in real if o[0] != "lb-frontend"]
    node_owners = [o for o in owners if o[0] == "node"]
    if len(real) > 1 and not (len(node_owners) == 1 and all(o[0] in ("node", "hostNetwork pod") for o in real)):
        findings.append(codes.IP002.at(ID, ip=ip, owners=", ".join(d for _, d in owners)))
    if not owners and ranges and not blind:
        node_name, how = ranges[0]
        findings.append(codes.IP001.at(ID, ip=ip, node=node_name, range=how))
    if not owners and not ranges and not blind:
        findings.append(codes.IP003.at(ID, ip=ip, plugin=plugin))
    if not hops:
        seen = "nothing in the cluster holds it" if not blind else "no owner found in what could be read"
        hops.append(Hop(1, "none", ip, Status.SKIPPED, detail=f"{seen} ({plugin})"))
    if any(f.severity.value == "error" for f in findings):
        hops = [replace(h, status=Status.FAIL) for h in hops]
    return Judgement(hops=tuple(hops), findings=tuple(findings), facts={"ip": ip, "plugin": plugin,
                                                                       "owners": [d for _, d in owners]},
                     unread=tuple(unread) + _arm_unread(settings, facts))  # fmt: skip


def _arm_unread(settings: Settings, facts: Facts) -> tuple[str, ...]:
    """ARM reads (the context, the scale sets' NICs) that failed other than by a refusal."""
    ctx = facts.get(settings.azure) if settings.azure else None
    errors = list(ctx.errors) if isinstance(ctx, AzureContext) else []
    errors += [f.error for n, f in facts.items() if isinstance(n, AzureVmssNicsNeed) and f.error]
    return tuple(e.reason for e in errors if not e.refusal)


def _azure_owners(ip: str, arm: AzureFacts) -> list[tuple[str, str, str]]:
    """(kind, name, detail) of what ARM says holds `ip`: the API server's private endpoint, a load balancer
    frontend (private, or public through its public IP)."""
    out = []
    for endpoint in arm.endpoints:
        if ip in endpoint.ips:
            out.append(("private-endpoint", endpoint.name, "the API server's private endpoint (its NIC)"))
    for lb in arm.load_balancers:
        for fe in lb.frontends:
            if fe.private_ip == ip or (fe.public and arm.address(fe) == ip):
                kind = "public" if fe.public else "private"
                out.append(("lb-frontend", f"{lb.name}/{fe.name}",
                            f"a {kind} frontend of load balancer {lb.name} in the node resource group"))  # fmt: skip
    return out


def _node_detail(node: Node) -> str:
    vmss = f", VMSS {node.vmss_instance[0]} instance {node.vmss_instance[1]}" if node.vmss_instance else ""
    return f"the node's InternalIP; pool {node.pool}{vmss}"


def _service_match(svc: Service, ip: str) -> str:
    if ip in svc.cluster_ips:
        return f"the clusterIP of a {svc.type} Service"
    if ip in svc.ingress:
        return f"the {'internal' if svc.internal else 'public'} load balancer frontend of a LoadBalancer Service"
    if ip in svc.external_ips:
        return "an externalIP of the Service"
    return ""


def _ranges(ip: str, nodes: tuple[Node, ...], nncs: tuple[NodeNetworkConfig, ...]) -> list[tuple[str, str]]:
    """(node, how) for each node whose pod range holds `ip`."""
    address = ipaddress.ip_address(ip)
    out = []
    for node in nodes:
        for cidr in node.pod_cidrs:
            network = ipaddress.ip_network(cidr, strict=False)
            if address.version == network.version and address in network:
                out.append((node.name, f"podCIDR {cidr}"))
    for nnc in nncs:
        for container in nnc.containers:
            if ip in container.ips:
                out.append((nnc.name, f"assigned to the node by its NodeNetworkConfig ({container.subnet})"))
    return out


def _nic_owner(ip: str, nodes: tuple[Node, ...], nics: list[Nic]) -> list[tuple[str, str]]:
    """The node whose VMSS NIC holds `ip` as a secondary IP configuration (classic Azure CNI pre-allocation)."""
    by_instance = {n.provider_id.lower().rsplit("/virtualmachinescalesets/", 1)[-1]: n.name for n in nodes}
    for nic in nics:
        for config in nic.configs:
            if config.private_ip != ip or config.primary:
                continue
            vm = nic.vm_id.lower()
            node = by_instance.get(vm.rsplit("/virtualmachinescalesets/", 1)[-1], vm.rsplit("/", 1)[-1])
            return [(node, f"pre-allocated on the node's NIC as {config.name} (Azure CNI)")]
    return []


def _layout_guess(ip: str, nodes: tuple[Node, ...]) -> list[tuple[str, str]]:
    """Classic Azure CNI pre-allocates each node's max pods right after its own IP (node .4, pods .5-.34, next
    node .35…): the node with the nearest IP below `ip` whose block reaches it probably holds it. A guess,
    labelled as one: only the node NICs' IP configurations in Azure say for sure."""
    address = ipaddress.ip_address(ip)
    best: tuple[Any, str, int] | None = None
    for node in nodes:
        if not node.internal_ip or node.max_pods is None:
            continue
        node_ip = ipaddress.ip_address(node.internal_ip)
        inside = node_ip.version == address.version and int(node_ip) < int(address) <= int(node_ip) + node.max_pods
        if inside and (best is None or node_ip > best[0]):
            best = (node_ip, node.name, node.max_pods)
    if best is None:
        return []
    node_ip, name, pods = best
    return [(name, f"a guess from Azure CNI's allocation layout: {node_ip} + {pods} max pods; "
             f"confirm with az vmss nic list")]  # fmt: skip


PRE_ALLOCATED = "Azure CNI with pod IPs pre-allocated on the node NICs"


def _plugin(nodes: tuple[Node, ...], nncs: tuple[NodeNetworkConfig, ...]) -> str:
    if nncs:
        return "dynamic pod IP allocation (NodeNetworkConfig)"
    if any(n.pod_cidrs for n in nodes):
        return "per-node pod CIDRs (kubenet, Azure CNI Overlay or Cilium)"
    if nodes:
        return f"{PRE_ALLOCATED}: spare IPs are visible only in Azure"
    return "network plugin unknown: no node could be read"


PROBE = Probe(
    id=ID,
    title="Who holds this IP",
    codes=("IP001", "IP002", "IP003", "IP005"),
    plan=plan,
    judge=judge,
    commands=("whois",),
    order=60,
)
