"""whois: who holds an IP in the cluster — a pod, a node, a Service, or the node whose pod range contains it.

The pod is found on the server (field selector `status.podIP`); nodes, Services and NodeNetworkConfigs are
listed whole (small next to pods). The node that owns a pod range is found from `spec.podCIDRs` (kubenet, Azure
CNI Overlay, Cilium) or the NodeNetworkConfig IP assignments (dynamic pod IP allocation, CNS); with classic Azure
CNI (IPs pre-allocated on the node NICs) no Kubernetes object lists the spare IPs, and the answer says so.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable
from typing import Any

from aksdiag import codes
from aksdiag.armview import endpoint_ips
from aksdiag.facts import AzureContext, AzureVmssNicsNeed, KubeContextNeed, KubeList, KubeListNeed
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

ID = "whois"
POOL_LABELS = ("kubernetes.azure.com/agentpool", "agentpool")


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
    nodes = facts.get(_needs(ip, settings.kube)["nodes"])
    nncs = facts.get(_needs(ip, settings.kube)["nodenetworkconfigs"])
    if not isinstance(nodes, KubeList) or not isinstance(nncs, KubeList):
        return []
    if not _plugin(list(nodes.items), nncs).startswith("Azure CNI with pod IPs pre-allocated"):
        return []
    scale_sets = {_vmss_of(n) for n in nodes.items} - {None}
    a = settings.azure
    return [AzureVmssNicsNeed(a.subscription, rg, vmss, a.endpoint) for rg, vmss in sorted(scale_sets)]  # type: ignore[misc]


def _vmss_of(node: dict[str, Any]) -> tuple[str, str] | None:
    """(resource group, scale set) from a node's providerID."""
    provider = (node.get("spec") or {}).get("providerID", "")
    if "/virtualMachineScaleSets/" not in provider:
        return None
    parts = provider.split("/")
    lower = [p.lower() for p in parts]
    return parts[lower.index("resourcegroups") + 1], parts[lower.index("virtualmachinescalesets") + 1]


def judge(ip: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.kube is not None
    lists: dict[str, KubeList] = {k: facts[n] for k, n in _needs(ip, settings.kube).items()}
    findings: list[Finding] = []
    for resource, result in lists.items():
        if result.error and not (resource == "nodenetworkconfigs" and result.status == 404):
            findings.append(codes.IP005.at(ID, resource=resource, status=result.status or "", error=result.error))
    nodes = list(lists["nodes"].items)
    owners: list[tuple[str, str]] = []  # (kind, description)
    hops: list[Hop] = []
    for pod in lists["pods"].items:
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            continue  # a finished pod no longer holds its IP
        meta, spec = pod["metadata"], pod.get("spec") or {}
        host = " (hostNetwork: it shares its node's IP)" if spec.get("hostNetwork") else ""
        owner = _owner(meta)
        owners.append(("pod" if not host else "hostNetwork pod", f"pod {meta.get('namespace')}/{meta['name']}"))
        hops.append(Hop(len(hops) + 1, "pod", f"{meta.get('namespace')}/{meta['name']}", Status.OK, answers=(ip,),
                        detail=f"on node {spec.get('nodeName') or '?'}, {pod.get('status', {}).get('phase', '?')}"
                        f"{owner}{host}"))  # fmt: skip
    for node in nodes:
        addresses = {a.get("address") for a in (node.get("status") or {}).get("addresses") or []}
        if ip in addresses:
            owners.append(("node", f"node {node['metadata']['name']}"))
            hops.append(Hop(len(hops) + 1, "node", node["metadata"]["name"], Status.OK, answers=(ip,),
                            detail=_node_detail(node)))  # fmt: skip
    for svc in lists["services"].items:
        where = _service_match(svc, ip)
        if where:
            meta = svc["metadata"]
            owners.append(("service", f"service {meta.get('namespace')}/{meta['name']}"))
            hops.append(Hop(len(hops) + 1, "service", f"{meta.get('namespace')}/{meta['name']}", Status.OK,
                            answers=(ip,), detail=where))  # fmt: skip
    ctx = facts.get(settings.azure) if settings.azure else None
    if isinstance(ctx, AzureContext):
        for kind, name, detail in _azure_owners(ip, ctx):
            owners.append((kind, f"{kind} {name}"))
            hops.append(Hop(len(hops) + 1, kind, name, Status.OK, answers=(ip,), detail=detail))
    ranges = _ranges(ip, nodes, lists["nodenetworkconfigs"].items)
    if not ranges and _plugin(nodes, lists["nodenetworkconfigs"]).startswith("Azure CNI with pod IPs pre-allocated"):
        ranges = _nic_owner(ip, nodes, [facts[n] for n in _vmss_needs(ip, settings, facts) if n in facts])
        ranges = ranges or _layout_guess(ip, nodes)
    for node_name, how in ranges:
        hops.append(Hop(len(hops) + 1, "pod-range", node_name, Status.OK, answers=(ip,), detail=how))
    plugin = _plugin(nodes, lists["nodenetworkconfigs"])
    # a LoadBalancer Service and its Azure frontend are one owner seen twice, as are a node and its hostNetwork pods
    real = [o for o in owners if o[0] != "hostNetwork pod"]
    if any(o[0] == "service" for o in owners):
        real = [o for o in real if o[0] != "lb-frontend"]
    node_owners = [o for o in owners if o[0] == "node"]
    if len(real) > 1 and not (len(node_owners) == 1 and all(o[0] in ("node", "hostNetwork pod") for o in real)):
        findings.append(codes.IP002.at(ID, ip=ip, owners=", ".join(d for _, d in owners)))
    if not owners and ranges and not lists["pods"].error:
        node_name, how = ranges[0]
        findings.append(codes.IP001.at(ID, ip=ip, node=node_name, range=how))
    if not owners and not ranges and not lists["pods"].error:
        findings.append(codes.IP003.at(ID, ip=ip, plugin=plugin))
    if not hops:
        hops.append(Hop(1, "none", ip, Status.SKIPPED, detail=f"nothing in the cluster holds it ({plugin})"))
    hops = [h if not any(f.severity.value == "error" for f in findings) else _fail(h) for h in hops]
    return Judgement(hops=tuple(hops), findings=tuple(findings), facts={"ip": ip, "plugin": plugin,
                                                                       "owners": [d for _, d in owners]})  # fmt: skip


def _azure_owners(ip: str, ctx: AzureContext) -> list[tuple[str, str, str]]:
    """(kind, name, detail) of what ARM says holds `ip`: the API server's private endpoint, a load balancer
    frontend (private, or public through its public IP)."""
    out = []
    for entry in ctx.endpoints:
        if ip in endpoint_ips([entry]):
            body = entry.get("endpoint") or {}
            out.append(("private-endpoint", body.get("name", "?"), "the API server's private endpoint (its NIC)"))
    public = {p.get("id", "").lower(): (p.get("properties") or {}).get("ipAddress") for p in ctx.public_ips}
    for lb in ctx.load_balancers:
        for frontend in (lb.get("properties") or {}).get("frontendIPConfigurations") or []:
            fp = frontend.get("properties") or {}
            pip_id = (fp.get("publicIPAddress") or {}).get("id", "").lower()
            if fp.get("privateIPAddress") == ip or (pip_id and public.get(pip_id) == ip):
                kind = "public" if pip_id else "private"
                out.append(("lb-frontend", f"{lb.get('name')}/{frontend.get('name')}",
                            f"a {kind} frontend of load balancer {lb.get('name')} in the node resource group"))  # fmt: skip
    return out


def _fail(hop: Hop) -> Hop:
    from dataclasses import replace

    return replace(hop, status=Status.FAIL)


def _owner(meta: dict[str, Any]) -> str:
    refs = meta.get("ownerReferences") or []
    return f", owned by {refs[0].get('kind')} {refs[0].get('name')}" if refs else ""


def _node_detail(node: dict[str, Any]) -> str:
    labels = node["metadata"].get("labels") or {}
    pool = next((labels[k] for k in POOL_LABELS if k in labels), "?")
    provider = (node.get("spec") or {}).get("providerID", "")
    vmss = ""
    if "/virtualMachineScaleSets/" in provider:
        tail = provider.split("/virtualMachineScaleSets/", 1)[1]
        vmss = f", VMSS {tail.split('/')[0]} instance {tail.rsplit('/', 1)[-1]}"
    return f"the node's InternalIP; pool {pool}{vmss}"


def _service_match(svc: dict[str, Any], ip: str) -> str:
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    if ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]):
        return f"the clusterIP of a {spec.get('type', 'ClusterIP')} Service"
    for ingress in (status.get("loadBalancer") or {}).get("ingress") or []:
        if ingress.get("ip") == ip:
            internal = (svc["metadata"].get("annotations") or {}).get(
                "service.beta.kubernetes.io/azure-load-balancer-internal"
            )
            return (
                f"the {'internal' if internal == 'true' else 'public'} load balancer frontend of a LoadBalancer Service"
            )
    if ip in (spec.get("externalIPs") or []):
        return "an externalIP of the Service"
    return ""


def _ranges(ip: str, nodes: list[dict[str, Any]], nncs: tuple[dict[str, Any], ...]) -> list[tuple[str, str]]:
    """(node, how) for each node whose pod range holds `ip`."""
    address = ipaddress.ip_address(ip)
    out = []
    for node in nodes:
        spec = node.get("spec") or {}
        for cidr in spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else []):
            network = ipaddress.ip_network(cidr, strict=False)
            if address.version == network.version and address in network:
                out.append((node["metadata"]["name"], f"podCIDR {cidr}"))
    for nnc in nncs:
        for container in (nnc.get("status") or {}).get("networkContainers") or []:
            assigned = {a.get("ip") for a in container.get("ipAssignments") or []}
            if ip in assigned:
                out.append(
                    (
                        nnc["metadata"]["name"],
                        f"assigned to the node by its NodeNetworkConfig ({container.get('subnetName') or container.get('subnetAddressSpace', '')})",
                    )
                )
    return out


def _nic_owner(ip: str, nodes: list[dict[str, Any]], nic_lists: list[Any]) -> list[tuple[str, str]]:
    """The node whose VMSS NIC holds `ip` as a secondary IP configuration (classic Azure CNI pre-allocation)."""
    by_instance = {
        (n.get("spec") or {}).get("providerID", "").lower().rsplit("/virtualmachinescalesets/", 1)[-1]: n["metadata"]["name"]
        for n in nodes
    }  # fmt: skip
    for nics in nic_lists:
        for nic in getattr(nics, "nics", ()):
            for config in (nic.get("properties") or {}).get("ipConfigurations") or []:
                cp = config.get("properties") or {}
                if cp.get("privateIPAddress") != ip or cp.get("primary"):
                    continue
                vm = ((nic.get("properties") or {}).get("virtualMachine") or {}).get("id", "").lower()
                node = by_instance.get(vm.rsplit("/virtualmachinescalesets/", 1)[-1], vm.rsplit("/", 1)[-1])
                return [(node, f"pre-allocated on the node's NIC as {config.get('name')} (Azure CNI)")]
    return []


def _layout_guess(ip: str, nodes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Classic Azure CNI pre-allocates each node's max pods right after its own IP (node .4, pods .5-.34, next
    node .35…): the node with the nearest IP below `ip` whose block reaches it probably holds it. A guess,
    labelled as one: only the node NICs' IP configurations in Azure say for sure."""
    address = ipaddress.ip_address(ip)
    best: tuple[Any, str, int] | None = None
    for node in nodes:
        internal = next((a.get("address") for a in (node.get("status") or {}).get("addresses") or []
                         if a.get("type") == "InternalIP"), None)  # fmt: skip
        pods = str(((node.get("status") or {}).get("capacity") or {}).get("pods") or "")
        if not internal or not pods.isdigit():
            continue
        node_ip = ipaddress.ip_address(internal)
        inside = node_ip.version == address.version and node_ip < address <= node_ip + int(pods)
        if inside and (best is None or node_ip > best[0]):
            best = (node_ip, node["metadata"]["name"], int(pods))
    if best is None:
        return []
    node_ip, name, pods = best
    return [(name, f"a guess from Azure CNI's allocation layout: {node_ip} + {pods} max pods; "
             f"confirm with az vmss nic list")]  # fmt: skip


def _plugin(nodes: list[dict[str, Any]], nncs: KubeList) -> str:
    if nncs.items:
        return "dynamic pod IP allocation (NodeNetworkConfig)"
    if any((n.get("spec") or {}).get("podCIDR") for n in nodes):
        return "per-node pod CIDRs (kubenet, Azure CNI Overlay or Cilium)"
    if nodes:
        return "Azure CNI with pod IPs pre-allocated on the node NICs: spare IPs are visible only in Azure"
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
