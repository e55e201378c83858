"""Load balancer worlds for `aksdiag lb`: the ARM side (the managed `kubernetes` and `kubernetes-internal` load
balancers, their public IPs, the cluster's outbound profile) and the Kubernetes side (the LoadBalancer Services
that own the frontends, their Events, the nodes) of one cluster, healthy or broken one way.

ARM bodies start from the healthy ARM world (aksdiag.lab.armworld) and a real public IP payload; the load
balancers are built from the SDK's models (no recording covers them), named as the cloud provider names them:
frontend `a<service uid without dashes>`, rules and probes `a<uid>-TCP-<port>`, outbound frontends by public IP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from aksdiag.lab import armworld
from aksdiag.lab.armworld import AKS_SUBNET, NODE_RG, REGION, VMSS, net_id, rg_id, seed

PUBLIC_LB_IP = "20.41.65.9"
INTERNAL_LB_IP = "10.224.0.200"


@dataclass(frozen=True)
class Svc:
    """A LoadBalancer Service and what the cloud provider made for it."""

    name: str
    ip: str | None  # its frontend address; None: the Service is pending
    internal: bool = True
    port: int = 80
    node_port: int = 30080
    local: bool = False  # externalTrafficPolicy Local
    health_node_port: int = 0
    probe_port: int | None = None  # what the LB's probe asks, when it differs from what the Service needs
    namespace: str = "default"

    @property
    def uid(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aksdiag-lab/{self.namespace}/{self.name}"))

    @property
    def prefix(self) -> str:
        return "a" + self.uid.replace("-", "")


@dataclass(frozen=True)
class LbSpec:
    nodes: int = 3
    max_count: int | None = None  # autoscaler maximum, None: autoscaler off
    ports: int = 0  # allocatedOutboundPorts; 0: Azure's default by pool size
    outbound_ips: int = 1
    services: tuple[Svc, ...] = ()
    orphans: tuple[Svc, ...] = ()  # frontends and rules whose Service is gone
    pending_reason: str = ""  # the Event of the pending Service
    outbound_type: str = "loadBalancer"


WEB = Svc("web", INTERNAL_LB_IP, port=80, node_port=30080)
API = Svc("api", "10.224.0.201", port=443, node_port=30443, local=True, health_node_port=31500)
_SUBNET_READ = "Microsoft.Network/virtualNetworks/subnets/read"
AUTHORIZATION_FAILED = (
    "Error syncing load balancer: failed to ensure load balancer: Retriable: false, RetryAfter: 0s, "
    'HTTPStatusCode: 403, RawError: {"error":{"code":"AuthorizationFailed","message":"The client '
    "'8f3e2a17-0c4b-4d5e-9a6f-1b2c3d4e5f60' with object id '8f3e2a17-0c4b-4d5e-9a6f-1b2c3d4e5f60' does not have "
    f"authorization to perform action '{_SUBNET_READ}' over scope '{AKS_SUBNET}' or the scope is invalid. If "
    'access was recently granted, please refresh your credentials."}}'
)

WORLDS: dict[str, tuple[str, LbSpec]] = {
    "lb-healthy": ("3 nodes, default outbound ports, two internal Services", LbSpec(services=(WEB, API))),
    "lb-default-grown": (
        "default outbound allocation on a pool grown to 60 nodes: 512 ports per node",
        LbSpec(nodes=60, services=(WEB,)),
    ),
    "lb-explicit-capped": (
        "4,000 ports per node on 1 outbound IP fit 16 nodes; the autoscaler may reach 20",
        LbSpec(nodes=10, max_count=20, ports=4000, services=(WEB,)),
    ),
    "lb-public-service": (
        "a Service without the internal annotation got a public IP on the private cluster",
        LbSpec(services=(WEB, Svc("shop", PUBLIC_LB_IP, internal=False, node_port=31080))),
    ),
    "lb-pending": (
        "an internal Service is pending: the cluster identity may not read the subnet (AuthorizationFailed)",
        LbSpec(services=(WEB, Svc("payments", None, node_port=30900)), pending_reason=AUTHORIZATION_FAILED),
    ),
    "lb-orphan": (
        "a frontend and rule on kubernetes-internal left from a deleted Service",
        LbSpec(services=(WEB,), orphans=(Svc("old-billing", "10.224.0.210", node_port=30700),)),
    ),
    "lb-probe-mismatch": (
        "externalTrafficPolicy Local, but the LB probe asks the nodePort instead of the healthCheckNodePort",
        LbSpec(services=(WEB, replace(API, probe_port=API.node_port))),
    ),
}


def outbound_ip_names(spec: LbSpec) -> list[str]:
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"aksdiag-lab/outbound/{i}")) for i in range(spec.outbound_ips)]


def arm(world: str) -> list[dict[str, Any]]:
    """The healthy ARM world with this world's load balancers, public IPs and outbound profile."""
    spec = WORLDS[world][1]
    bodies = [
        b
        for b in armworld.build("healthy")
        if b.get("type") not in ("Microsoft.Network/loadBalancers", "Microsoft.Network/publicIPAddresses")
    ]
    cluster = next(b for b in bodies if b.get("type") == "Microsoft.ContainerService/ManagedClusters")
    _patch_cluster(cluster, spec)
    if spec.pending_reason:  # the identity really lacks the role the Event complains about
        bodies = [b for b in bodies if b.get("type") != "Microsoft.Authorization/roleAssignments"]
    return bodies + load_balancers(spec)


def _patch_cluster(cluster: dict[str, Any], spec: LbSpec) -> None:
    network = cluster["properties"]["networkProfile"]
    network["outboundType"] = spec.outbound_type
    profile = network.setdefault("loadBalancerProfile", {})
    profile["managedOutboundIPs"] = {"count": spec.outbound_ips}
    profile["effectiveOutboundIPs"] = [
        {"id": net_id(NODE_RG, "publicIPAddresses", n), "resourceGroup": NODE_RG} for n in outbound_ip_names(spec)
    ]
    profile["allocatedOutboundPorts"] = spec.ports
    profile["idleTimeoutInMinutes"] = 30
    for pool in cluster["properties"]["agentPoolProfiles"]:
        pool["count"] = spec.nodes
        pool["enableAutoScaling"] = spec.max_count is not None
        if spec.max_count is not None:
            pool.update(minCount=1, maxCount=spec.max_count)
        pool["upgradeSettings"] = {"maxSurge": "1"}


def _public_ip(name: str, address: str) -> dict[str, Any]:
    body = seed("public_ip_address")  # a real payload, made Standard/Static as AKS makes them
    body["id"], body["name"], body["location"] = net_id(NODE_RG, "publicIPAddresses", name), name, REGION
    body["sku"] = {"name": "Standard", "tier": "Regional"}
    body["properties"].update(publicIPAllocationMethod="Static", ipAddress=address, idleTimeoutInMinutes=4)
    return body


def load_balancers(spec: LbSpec) -> list[dict[str, Any]]:
    from azure.mgmt.network.models import (
        BackendAddressPool,
        FrontendIPConfiguration,
        LoadBalancer,
        LoadBalancerSku,
        LoadBalancingRule,
        OutboundRule,
        Probe,
        PublicIPAddress,
        Subnet,
        SubResource,
    )

    bodies: list[dict[str, Any]] = []
    parts: dict[str, dict[str, list[Any]]] = {
        name: {"frontends": [], "rules": [], "probes": [], "outbound": []}
        for name in ("kubernetes", "kubernetes-internal")
    }

    def lb_id(name: str) -> str:
        return net_id(NODE_RG, "loadBalancers", name)

    outbound_frontends = []
    for i, name in enumerate(outbound_ip_names(spec)):
        bodies.append(_public_ip(name, f"20.41.66.{10 + i}"))
        fe = FrontendIPConfiguration(name=name, public_ip_address=PublicIPAddress(id=bodies[-1]["id"]))
        fe.id = f"{lb_id('kubernetes')}/frontendIPConfigurations/{name}"
        parts["kubernetes"]["frontends"].append(fe)
        outbound_frontends.append(SubResource(id=fe.id))
    if spec.outbound_type == "loadBalancer":
        parts["kubernetes"]["outbound"].append(
            OutboundRule(
                name="aksOutboundRule", protocol="All", allocated_outbound_ports=spec.ports,
                idle_timeout_in_minutes=30, enable_tcp_reset=True, frontend_ip_configurations=outbound_frontends,
                backend_address_pool=SubResource(id=f"{lb_id('kubernetes')}/backendAddressPools/aksOutboundBackendPool"),
            )
        )  # fmt: skip
    for svc in (*spec.services, *spec.orphans):
        if svc.ip is None:
            continue
        lb = "kubernetes-internal" if svc.internal else "kubernetes"
        if svc.internal:
            fe = FrontendIPConfiguration(name=svc.prefix, private_ip_address=svc.ip, subnet=Subnet(id=AKS_SUBNET),
                                         private_ip_allocation_method="Dynamic")  # fmt: skip
        else:
            pip_name = f"kubernetes-{svc.prefix}"
            bodies.append(_public_ip(pip_name, svc.ip))
            fe = FrontendIPConfiguration(name=svc.prefix, public_ip_address=PublicIPAddress(id=bodies[-1]["id"]))
        fe.id = f"{lb_id(lb)}/frontendIPConfigurations/{svc.prefix}"
        rule_name = f"{svc.prefix}-TCP-{svc.port}"
        probe_id = f"{lb_id(lb)}/probes/{rule_name}"
        if svc.local and svc.probe_port is None:
            probe = Probe(name=rule_name, protocol="Http", port=svc.health_node_port, request_path="/healthz",
                          interval_in_seconds=5, number_of_probes=2)  # fmt: skip
        else:
            probe = Probe(name=rule_name, protocol="Tcp", port=svc.probe_port or svc.node_port,
                          interval_in_seconds=5, number_of_probes=2)  # fmt: skip
        probe.id = probe_id
        rule = LoadBalancingRule(
            name=rule_name, protocol="Tcp", frontend_port=svc.port, backend_port=svc.port,
            frontend_ip_configuration=SubResource(id=fe.id), probe=SubResource(id=probe_id),
            backend_address_pool=SubResource(id=f"{lb_id(lb)}/backendAddressPools/kubernetes"),
            idle_timeout_in_minutes=4, enable_floating_ip=True, enable_tcp_reset=True, disable_outbound_snat=True,
        )  # fmt: skip
        rule.id = f"{lb_id(lb)}/loadBalancingRules/{rule_name}"
        parts[lb]["frontends"].append(fe)
        parts[lb]["rules"].append(rule)
        parts[lb]["probes"].append(probe)
    for name, p in parts.items():
        if name == "kubernetes-internal" and not p["frontends"]:
            continue  # the cloud provider makes the internal LB with its first internal Service
        pools = ["kubernetes", "aksOutboundBackendPool"] if name == "kubernetes" else ["kubernetes"]
        body = LoadBalancer(
            id=lb_id(name), location=REGION, sku=LoadBalancerSku(name="Standard", tier="Regional"),
            frontend_ip_configurations=p["frontends"], load_balancing_rules=p["rules"], probes=p["probes"],
            outbound_rules=p["outbound"],
            backend_address_pools=[BackendAddressPool(id=f"{lb_id(name)}/backendAddressPools/{pool}", name=pool)
                                   for pool in pools],
        ).as_dict()  # fmt: skip
        body["name"], body["type"] = name, "Microsoft.Network/loadBalancers"
        for pool in body["properties"]["backendAddressPools"]:
            pool.setdefault("properties", {})["backendIPConfigurations"] = [
                {"id": _node_ipconfig(i)} for i in range(spec.nodes)
            ]
        bodies.append(body)
    return bodies


def _node_ipconfig(i: int) -> str:
    vmss_id = f"{rg_id(NODE_RG)}/providers/Microsoft.Compute/virtualMachineScaleSets/{VMSS}"
    return f"{vmss_id}/virtualMachines/{i}/networkInterfaces/{VMSS}/ipConfigurations/ipconfig1"


def kube(world: str) -> list[dict[str, Any]]:
    """The nodes, the Services (with the uids the frontends are named after) and the pending Service's Event."""
    from aksdiag.lab import kubeworlds

    spec = WORLDS[world][1]
    objects = [
        kubeworlds.node(f"aks-nodepool1-12345678-vmss{i:06x}", f"10.224.0.{4 + i}", [f"10.244.{i}.0/24"], i)
        for i in range(spec.nodes)
    ]
    objects.append(kubeworlds.service("kubernetes", "10.0.0.1"))
    objects += _konnectivity_agents(spec)
    for k, svc in enumerate(spec.services):
        objects.append(_service(svc, f"10.0.{10 + k}.{10 + k}"))
        if svc.ip is None and spec.pending_reason:
            objects.append(_event(svc, spec.pending_reason))
    return objects


def _konnectivity_agents(spec: LbSpec) -> list[dict[str, Any]]:
    """The tunnel AKS runs on every cluster without API Server VNet Integration: two ready konnectivity-agent pods
    on the first nodes (aksdiag.lab.tunnelworld), so the cluster's tunnel is as healthy as its load balancers."""
    from aksdiag.lab import tunnelworld

    return [
        tunnelworld.agent(name, f"aks-nodepool1-12345678-vmss{i:06x}", f"10.224.1.{10 + i}")
        for i, name in enumerate(tunnelworld.AGENTS[: min(2, spec.nodes)])
    ]


def _service(svc: Svc, cluster_ip: str) -> dict[str, Any]:
    from aksdiag.lab import kubeworlds

    return kubeworlds.service(
        svc.name, cluster_ip, svc.ip, svc.internal, load_balancer=True, namespace=svc.namespace, uid=svc.uid,
        port=svc.port, node_port=svc.node_port, local=svc.local, health_node_port=svc.health_node_port or None,
    )  # fmt: skip


def _event(svc: Svc, message: str) -> dict[str, Any]:
    from kubernetes.client import CoreV1Event, V1EventSource, V1ObjectMeta, V1ObjectReference

    from aksdiag.lab.kubeworlds import _serialize

    return _serialize(
        CoreV1Event(
            api_version="v1", kind="Event",
            metadata=V1ObjectMeta(name=f"{svc.name}.17a2b3c4d5e6f708", namespace=svc.namespace),
            involved_object=V1ObjectReference(kind="Service", name=svc.name, namespace=svc.namespace, uid=svc.uid,
                                              api_version="v1"),
            reason="SyncLoadBalancerFailed", message=message, type="Warning", count=7,
            source=V1EventSource(component="service-controller"),
            first_timestamp="2026-11-23T08:00:00Z", last_timestamp="2026-11-23T08:41:00Z",  # type: ignore[arg-type]  # wire form: a datetime gives +00:00
        )
    )  # fmt: skip


armworld.WORLDS.update({name: summary for name, (summary, _) in WORLDS.items()})
