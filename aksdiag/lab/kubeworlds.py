"""Kubernetes worlds for `aksdiag whois`: one small cluster per network plugin, objects built with the official
client's models and serialised to the wire shape the API server returns.

kubenet and Azure CNI Overlay (per-node podCIDR), Cilium (dual-stack podCIDRs), classic Azure CNI (pod IPs from
the node subnet, pre-allocated on the NICs: no podCIDR), dynamic pod IP allocation (NodeNetworkConfig).
"""

from __future__ import annotations

from typing import Any

PLUGINS = ("kubenet", "overlay", "cilium", "azure-cni", "dynamic")
NODES = 3
PODS_PER_NODE = 4
VMSS = "aks-nodepool1-12345678-vmss"


def _serialize(model: Any) -> dict[str, Any]:
    from kubernetes.client import ApiClient

    body: dict[str, Any] = ApiClient().sanitize_for_serialization(model)
    return body


def node(name: str, internal_ip: str, pod_cidrs: list[str], index: int, max_pods: int = 30) -> dict[str, Any]:
    from kubernetes.client import V1Node, V1NodeAddress, V1NodeSpec, V1NodeStatus, V1ObjectMeta

    sub = "00000000-0000-0000-0000-000000000000"
    provider = (f"azure:///subscriptions/{sub}/resourceGroups/mc_rg-aks_aks-lab_koreacentral/providers/"
                f"Microsoft.Compute/virtualMachineScaleSets/{VMSS}/virtualMachines/{index}")  # fmt: skip
    return _serialize(
        V1Node(
            api_version="v1", kind="Node",
            metadata=V1ObjectMeta(name=name, labels={"kubernetes.azure.com/agentpool": "nodepool1", "agentpool": "nodepool1"}),
            spec=V1NodeSpec(pod_cidr=pod_cidrs[0] if pod_cidrs else None, pod_cidrs=pod_cidrs or None, provider_id=provider),
            status=V1NodeStatus(addresses=[V1NodeAddress(type="InternalIP", address=internal_ip),
                                           V1NodeAddress(type="Hostname", address=name)],
                                capacity={"pods": str(max_pods), "cpu": "4", "memory": "16Gi"}),
        )
    )  # fmt: skip


def pod(
    name: str, namespace: str, node_name: str, ip: str, host_network: bool = False, phase: str = "Running"
) -> dict[str, Any]:
    from kubernetes.client import V1Container, V1ObjectMeta, V1OwnerReference, V1Pod, V1PodIP, V1PodSpec, V1PodStatus

    return _serialize(
        V1Pod(
            api_version="v1", kind="Pod",
            metadata=V1ObjectMeta(name=name, namespace=namespace, labels={"app": name.rsplit("-", 1)[0]},
                                  owner_references=[V1OwnerReference(api_version="apps/v1", kind="ReplicaSet",
                                                                     name=f"{name.rsplit('-', 1)[0]}-7d9c8", uid="u")]),
            spec=V1PodSpec(node_name=node_name, host_network=host_network or None,
                           containers=[V1Container(name="app", image="mcr.microsoft.com/oss/nginx/nginx:1.25")]),
            status=V1PodStatus(phase=phase, pod_ip=ip, pod_ips=[V1PodIP(ip=ip)], host_ip=ip if host_network else None),
        )
    )  # fmt: skip


def service(
    name: str,
    cluster_ip: str,
    lb_ip: str | None = None,
    internal: bool = False,
    *,
    load_balancer: bool | None = None,
    namespace: str = "default",
    uid: str | None = None,
    port: int = 80,
    node_port: int | None = None,
    local: bool = False,
    health_node_port: int | None = None,
) -> dict[str, Any]:
    """A Service; type LoadBalancer when it has an ingress `lb_ip` (or `load_balancer=True`: one still pending)."""
    from kubernetes.client import (
        V1LoadBalancerIngress,
        V1LoadBalancerStatus,
        V1ObjectMeta,
        V1Service,
        V1ServicePort,
        V1ServiceSpec,
        V1ServiceStatus,
    )  # fmt: skip

    lb = bool(lb_ip) if load_balancer is None else load_balancer
    annotations = {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"} if internal else None
    return _serialize(
        V1Service(
            api_version="v1", kind="Service",
            metadata=V1ObjectMeta(name=name, namespace=namespace, uid=uid, annotations=annotations),
            spec=V1ServiceSpec(type="LoadBalancer" if lb else "ClusterIP", cluster_ip=cluster_ip,
                               cluster_ips=[cluster_ip],
                               ports=[V1ServicePort(port=port, protocol="TCP", node_port=node_port)],
                               external_traffic_policy=("Local" if local else "Cluster") if lb else None,
                               health_check_node_port=health_node_port),
            status=V1ServiceStatus(load_balancer=V1LoadBalancerStatus(ingress=[V1LoadBalancerIngress(ip=lb_ip)] if lb_ip else None)),
        )
    )  # fmt: skip


def build(plugin: str) -> list[dict[str, Any]]:
    """Nodes, pods, two Services and (dynamic) NodeNetworkConfigs; every pod range has a free address."""
    if plugin not in PLUGINS:
        raise ValueError(f"unknown plugin {plugin!r}")
    objects: list[dict[str, Any]] = [
        service("kubernetes", "10.0.0.1"),
        service("web", "10.0.12.34", "10.240.0.200", True),
    ]
    for i in range(NODES):
        name, node_ip = f"aks-nodepool1-12345678-vmss00000{i}", f"10.240.0.{4 + i * 31}"
        if plugin in ("kubenet", "overlay"):
            cidrs = [f"10.244.{i}.0/24"]
            pod_ips = [f"10.244.{i}.{2 + k}" for k in range(PODS_PER_NODE)]
        elif plugin == "cilium":
            cidrs = [f"10.244.{i}.0/24", f"fd00:10:244:{i}::/64"]
            pod_ips = [f"10.244.{i}.{2 + k}" for k in range(PODS_PER_NODE - 1)] + [f"fd00:10:244:{i}::a"]
        else:  # classic Azure CNI and dynamic allocation: pod IPs from the VNet (seed 003's layout for classic)
            cidrs = []
            pod_ips = [f"10.240.0.{5 + i * 31 + k}" for k in range(PODS_PER_NODE)]
        objects.append(node(name, node_ip, cidrs, i))
        objects += [pod(f"web-{i}{k}", "default", name, ip) for k, ip in enumerate(pod_ips)]
        objects.append(pod(f"kube-proxy-{i}", "kube-system", name, node_ip, host_network=True))
        if plugin == "dynamic":
            assigned = [*pod_ips, f"10.240.0.{5 + i * 31 + PODS_PER_NODE}"]  # one more assigned, not used by a pod
            objects.append({
                "apiVersion": "acn.azure.com/v1alpha", "kind": "NodeNetworkConfig",
                "metadata": {"name": name, "namespace": "kube-system"},
                "spec": {"requestedIPCount": len(assigned)},
                "status": {"assignedIPCount": len(assigned), "networkContainers": [{
                    "id": f"nc-{i}", "assignmentMode": "dynamic", "type": "vnet", "primaryIP": node_ip,
                    "subnetName": "snet-pods", "subnetAddressSpace": "10.240.0.0/16",
                    "ipAssignments": [{"name": f"ip-{k}", "ip": ip} for k, ip in enumerate(assigned)]}]},
            })  # fmt: skip
    return objects
