"""Typed Kubernetes facts: the objects the probes read (nodes, pods, Services, Events, NodeNetworkConfigs),
digested once from the JSON the API server returned. Pure, no I/O.

`KubeList` keeps the raw items (snapshots save those); each `from_kube` is the one place that knows a raw key,
and `nodes(listed)`, `pods(listed)`… digest a whole list. A field the object left out becomes its empty value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aksdiag.armview import as_int
from aksdiag.facts import KubeList

Obj = Mapping[str, Any]
INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal"
"""The annotation that asks the Azure cloud provider for an internal load balancer (exactly "true")."""
POOL_LABELS = ("kubernetes.azure.com/agentpool", "agentpool")


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


@dataclass(frozen=True)
class NodeAddress:
    type: str
    address: str


@dataclass(frozen=True)
class Node:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    provider_id: str = ""
    """azure:///subscriptions/…/virtualMachineScaleSets/<vmss>/virtualMachines/<instance> on AKS."""
    pod_cidrs: tuple[str, ...] = ()
    addresses: tuple[NodeAddress, ...] = ()
    max_pods: int | None = None
    """status.capacity.pods."""

    @property
    def internal_ip(self) -> str | None:
        return next((a.address for a in self.addresses if a.type == "InternalIP"), None)

    @property
    def pool(self) -> str:
        return next((self.labels[k] for k in POOL_LABELS if k in self.labels), "?")

    @property
    def vmss(self) -> tuple[str, str] | None:
        """(resource group, scale set) from the providerID; None for a node that is no VMSS instance."""
        if "/virtualMachineScaleSets/" not in self.provider_id:
            return None
        parts = self.provider_id.split("/")
        lower = [p.lower() for p in parts]
        return parts[lower.index("resourcegroups") + 1], parts[lower.index("virtualmachinescalesets") + 1]

    @property
    def vmss_instance(self) -> tuple[str, str] | None:
        """(scale set, instance id) from the providerID."""
        if "/virtualMachineScaleSets/" not in self.provider_id:
            return None
        tail = self.provider_id.split("/virtualMachineScaleSets/", 1)[1]
        return tail.split("/")[0], tail.rsplit("/", 1)[-1]

    @classmethod
    def from_kube(cls, obj: Obj) -> Node:
        spec, status = _spec(obj), _status(obj)
        cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        return cls(
            str(_meta(obj).get("name") or "?"),
            dict(_meta(obj).get("labels") or {}),
            str(spec.get("providerID") or ""),
            tuple(cidrs),
            tuple(NodeAddress(str(a.get("type") or ""), str(a.get("address") or "")) for a in status.get("addresses") or []),
            as_int((status.get("capacity") or {}).get("pods")),
        )  # fmt: skip


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    node_name: str = ""
    phase: str = ""
    host_network: bool = False
    ip: str = ""
    owner: tuple[str, str] | None = None
    """(kind, name) of its first owner reference."""

    @property
    def finished(self) -> bool:
        """A finished pod no longer holds its IP."""
        return self.phase in ("Succeeded", "Failed")

    @classmethod
    def from_kube(cls, obj: Obj) -> Pod:
        meta, spec, status = _meta(obj), _spec(obj), _status(obj)
        refs = meta.get("ownerReferences") or []
        owner = (str(refs[0].get("kind")), str(refs[0].get("name"))) if refs else None
        return cls(str(meta.get("namespace") or "default"), str(meta.get("name") or "?"),
                   str(spec.get("nodeName") or ""), str(status.get("phase") or ""), bool(spec.get("hostNetwork")),
                   str(status.get("podIP") or ""), owner)  # fmt: skip


@dataclass(frozen=True)
class PodHealth:
    """How a system pod fares (CoreDNS, konnectivity-agent): ready from its Ready condition; restarts summed over its
    containers; the waiting reason and how it last ended from the named container's status (else the first's)."""

    name: str
    ip: str = ""
    node: str = ""
    phase: str = ""
    ready: bool = False
    restarts: int = 0
    waiting: str = ""
    """The container's waiting reason (CrashLoopBackOff, ImagePullBackOff…), empty when it runs."""
    last_exit: str = ""
    """How the container last ended (`Error, exit 1`, `OOMKilled, exit 137`), empty when it never did."""

    @classmethod
    def from_kube(cls, obj: Obj, container: str) -> PodHealth:
        meta, spec, status = _meta(obj), _spec(obj), _status(obj)
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())
        containers = [c for c in status.get("containerStatuses") or () if isinstance(c, Mapping)]
        main = next((c for c in containers if c.get("name") == container), containers[0] if containers else {})
        terminated = (main.get("lastState") or {}).get("terminated") or {}
        return cls(str(meta.get("name") or "?"), str(status.get("podIP") or ""), str(spec.get("nodeName") or ""),
                   str(status.get("phase") or ""), ready, sum(int(c.get("restartCount") or 0) for c in containers),
                   str(((main.get("state") or {}).get("waiting") or {}).get("reason") or ""),
                   _ended(terminated))  # fmt: skip


def _ended(terminated: Mapping[str, Any]) -> str:
    """`Error, exit 1`, `OOMKilled, exit 137`; empty when the container never ended."""
    if not terminated:
        return ""
    reason, code = terminated.get("reason") or "", terminated.get("exitCode")
    return ", ".join(p for p in (str(reason), f"exit {code}" if code is not None else "") if p)


@dataclass(frozen=True)
class ServicePort:
    port: int | None = None
    node_port: int | None = None
    protocol: str = "TCP"


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    uid: str = ""
    type: str = "ClusterIP"
    cluster_ips: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()
    ingress: tuple[str, ...] = ()
    """status.loadBalancer.ingress: each entry's ip, else its hostname."""
    internal: bool = False
    """Annotated for an internal load balancer (the cloud provider accepts exactly "true")."""
    external_traffic_policy: str = "Cluster"
    health_check_node_port: int | None = None
    ports: tuple[ServicePort, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def compact_uid(self) -> str:
        """The uid without dashes: what the cloud provider names the Service's frontend, rules and probes after."""
        return self.uid.replace("-", "").lower()

    @property
    def load_balancer(self) -> bool:
        return self.type == "LoadBalancer"

    @classmethod
    def from_kube(cls, obj: Obj) -> Service:
        meta, spec = _meta(obj), _spec(obj)
        ingress = (_status(obj).get("loadBalancer") or {}).get("ingress") or []
        cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
        return cls(
            str(meta.get("namespace") or "default"),
            str(meta.get("name") or "?"),
            str(meta.get("uid") or ""),
            str(spec.get("type") or "ClusterIP"),
            tuple(cluster_ips),
            tuple(spec.get("externalIPs") or []),
            tuple(str(i.get("ip") or i.get("hostname") or "") for i in ingress),
            (meta.get("annotations") or {}).get(INTERNAL_LB) == "true",
            str(spec.get("externalTrafficPolicy") or "Cluster"),
            as_int(spec.get("healthCheckNodePort")),
            tuple(ServicePort(as_int(p.get("port")), as_int(p.get("nodePort")), str(p.get("protocol") or "TCP"))
                  for p in spec.get("ports") or []),
        )  # fmt: skip


@dataclass(frozen=True)
class Event:
    type: str = ""
    reason: str = ""
    message: str = ""
    count: int | None = None
    when: str = ""
    """lastTimestamp, else eventTime: ISO text, which sorts in time order."""
    object_uid: str = ""
    object_name: str = ""
    object_namespace: str = ""

    def about(self, svc: Service) -> bool:
        """The Event is about this Service: by uid, or by namespace and name."""
        return self.object_uid == svc.uid or (self.object_name == svc.name and self.object_namespace == svc.namespace)

    @classmethod
    def from_kube(cls, obj: Obj) -> Event:
        involved = obj.get("involvedObject") or {}
        return cls(str(obj.get("type") or ""), str(obj.get("reason") or ""), str(obj.get("message") or ""),
                   as_int(obj.get("count")), str(obj.get("lastTimestamp") or obj.get("eventTime") or ""),
                   str(involved.get("uid") or ""), str(involved.get("name") or ""),
                   str(involved.get("namespace") or "default"))  # fmt: skip


@dataclass(frozen=True)
class NetworkContainer:
    subnet: str = ""
    """Its subnet's name, else its address space."""
    ips: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeNetworkConfig:
    """CNS's per-node record of the pod IPs assigned to the node (dynamic pod IP allocation)."""

    name: str
    containers: tuple[NetworkContainer, ...] = ()

    @classmethod
    def from_kube(cls, obj: Obj) -> NodeNetworkConfig:
        containers = tuple(
            NetworkContainer(str(c.get("subnetName") or c.get("subnetAddressSpace") or ""),
                             tuple(str(a.get("ip")) for a in c.get("ipAssignments") or [] if a.get("ip")))
            for c in _status(obj).get("networkContainers") or []
        )  # fmt: skip
        return cls(str(_meta(obj).get("name") or "?"), containers)


def nodes(listed: KubeList) -> tuple[Node, ...]:
    return tuple(Node.from_kube(o) for o in listed.items)


def pods(listed: KubeList) -> tuple[Pod, ...]:
    return tuple(Pod.from_kube(o) for o in listed.items)


def services(listed: KubeList) -> tuple[Service, ...]:
    return tuple(Service.from_kube(o) for o in listed.items)


def events(listed: KubeList) -> tuple[Event, ...]:
    return tuple(Event.from_kube(o) for o in listed.items)


def node_network_configs(listed: KubeList) -> tuple[NodeNetworkConfig, ...]:
    return tuple(NodeNetworkConfig.from_kube(o) for o in listed.items)
