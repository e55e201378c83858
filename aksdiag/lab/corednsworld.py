"""CoreDNS worlds for the cluster's own DNS layer: the kube-dns Service, its EndpointSlice, the CoreDNS pods and
the `coredns` and `coredns-custom` ConfigMaps of kube-system, healthy or broken one way each.

Objects are built with the official client's models and serialised to the wire shape the API server returns (as
aksdiag.lab.kubeworlds does), shaped as AKS deploys them: the Service `kube-dns` (53/UDP `dns`, 53/TCP `dns-tcp`,
selector k8s-app=kube-dns), an EndpointSlice labelled kubernetes.io/service-name=kube-dns with one endpoint per
CoreDNS pod (ready/serving/terminating, nodeName, targetRef), two CoreDNS pods of the `coredns` ReplicaSet on two
nodes, AKS's default Corefile (`import custom/*.override` inside the `.:53` block, `import custom/*.server` after
it) and an empty `coredns-custom`, whose `*.server` keys add server blocks and `*.override` keys add plugins to
the default block (Learn, "Customize CoreDNS with AKS").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aksdiag.lab.scenarios import FORWARD_ZONE

NAMESPACE = "kube-system"
KUBE_DNS_IP = "10.0.0.10"
NODES = ("aks-nodepool1-12345678-vmss000000", "aks-nodepool1-12345678-vmss000001")
REPLICASET = "coredns-6f8d9c5b7"
PODS = (("coredns-6f8d9c5b7-4xk2p", "10.244.0.5"), ("coredns-6f8d9c5b7-q9wzt", "10.244.1.7"))
"""(name, pod IP) of each CoreDNS pod; pod i runs on NODES[i]."""
SLICE = "kube-dns-x7k2m"
IMAGE = "mcr.microsoft.com/oss/v2/kubernetes/coredns:v1.11.3-8"
LABELS = {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true"}
CRASH_RESTARTS = 37

WRONG_FORWARD = "10.1.0.99"
"""Where the broken `.server` sends the private zone: a server that does not hold it (an old custom DNS server)."""
SERVER_KEY = "privatelink.server"
OVERRIDE_KEY = "privatelink.override"

COREFILE = """\
.:53 {
    errors
    ready
    health {
      lameduck 5s
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
      ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
    import custom/*.override
    template ANY ANY internal.cloudapp.net {
      match "^(?:[^.]+\\.){4,}internal\\.cloudapp\\.net\\.$"
      rcode NXDOMAIN
      fallthrough
    }
    template ANY ANY reddog.microsoft.com {
      rcode NXDOMAIN
    }
}
import custom/*.server
"""
"""AKS's default Corefile (kubectl get configmap coredns -n kube-system): AKS reconciles it; users edit
coredns-custom, which the two `import` lines load."""

FORWARD_SERVER = f"""\
{FORWARD_ZONE}:53 {{
    errors
    cache 30
    forward . {WRONG_FORWARD}
}}
"""
_ZONE_RE = FORWARD_ZONE.replace(".", "\\.")
REWRITE_OVERRIDE = f"""\
rewrite stop {{
  name regex (.*)\\.{_ZONE_RE} {{1}}.koreacentral.azmk8s.io
  answer name (.*)\\.koreacentral\\.azmk8s\\.io {{1}}.{FORWARD_ZONE}
}}
"""
"""Rewrites names of the private zone to the public one: the cluster's FQDN gets the public (or no) answer."""


@dataclass(frozen=True)
class CorednsSpec:
    custom: dict[str, str] = field(default_factory=dict)
    """coredns-custom's data."""
    not_ready: tuple[int, ...] = ()
    """Pods (by index) running but failing their readiness probe."""
    crashloop: tuple[int, ...] = ()
    """Pods (by index) restarting: CrashLoopBackOff after CRASH_RESTARTS restarts."""


WORLDS: dict[str, tuple[str, CorednsSpec]] = {
    "coredns-healthy": ("two ready CoreDNS pods, AKS's default Corefile, an empty coredns-custom", CorednsSpec()),
    "coredns-custom-forward": (
        f"coredns-custom's {SERVER_KEY} forwards {FORWARD_ZONE} to {WRONG_FORWARD}, which does not hold it",
        CorednsSpec(custom={SERVER_KEY: FORWARD_SERVER}),
    ),
    "coredns-custom-rewrite": (
        f"coredns-custom's {OVERRIDE_KEY} rewrites names of {FORWARD_ZONE} to the public zone",
        CorednsSpec(custom={OVERRIDE_KEY: REWRITE_OVERRIDE}),
    ),
    "coredns-pod-not-ready": (
        f"CoreDNS pod {PODS[1][0]} runs but is not ready: its endpoint is not ready", CorednsSpec(not_ready=(1,))
    ),
    "coredns-crashloop": (
        f"CoreDNS pod {PODS[1][0]} is in CrashLoopBackOff after {CRASH_RESTARTS} restarts", CorednsSpec(crashloop=(1,))
    ),
    "coredns-no-endpoints": (
        "neither CoreDNS pod is ready: kube-dns has no ready endpoint", CorednsSpec(not_ready=(0, 1))
    ),
}  # fmt: skip


def kube(world: str) -> list[dict[str, Any]]:
    """The nodes and kube-system's DNS layer of the world: Service, EndpointSlice, pods, the two ConfigMaps."""
    from aksdiag.lab import kubeworlds

    spec = WORLDS[world][1]
    objects = [kubeworlds.node(name, f"10.224.0.{4 + i}", [f"10.244.{i}.0/24"], i) for i, name in enumerate(NODES)]
    for node in objects:  # what the API server gives every object; kubeworlds leaves them to the fake
        node["metadata"].update(uid=_uid("Node", node["metadata"]["name"]), creationTimestamp=CREATED_AT)
    objects.append(service())
    ready = [i not in spec.not_ready and i not in spec.crashloop for i in range(len(PODS))]
    objects += [pod(i, ready=ready[i], crashloop=i in spec.crashloop) for i in range(len(PODS))]
    objects.append(endpoint_slice(ready))
    objects.append(configmap("coredns", {"Corefile": COREFILE}, "Reconcile"))
    objects.append(configmap("coredns-custom", dict(spec.custom), "EnsureExists"))
    return objects


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


CREATED_AT = "2026-11-30T07:58:12Z"
CREATED = _at(CREATED_AT)


def _serialize(model: Any) -> dict[str, Any]:
    """The wire shape, times as the API server writes them (RFC 3339 with `Z`, where the models write `+00:00`)."""
    from aksdiag.lab.kubeworlds import _serialize

    def utc(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: utc(v) for k, v in value.items()}
        if isinstance(value, list):
            return [utc(v) for v in value]
        if isinstance(value, str) and len(value) == 25 and value[10] == "T" and value.endswith("+00:00"):
            return value[:19] + "Z"
        return value

    body: dict[str, Any] = utc(_serialize(model))
    return body


def _uid(kind: str, name: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aksdiag-lab/{NAMESPACE}/{kind}/{name}"))


def _meta(kind: str, name: str, **fields: Any) -> Any:
    """An object's metadata in kube-system as the API server fills it in (uid, creationTimestamp)."""
    from kubernetes.client import V1ObjectMeta

    return V1ObjectMeta(name=name, namespace=NAMESPACE, uid=_uid(kind, name), creation_timestamp=CREATED, **fields)


def service() -> dict[str, Any]:
    from kubernetes.client import V1LoadBalancerStatus, V1Service, V1ServicePort, V1ServiceSpec, V1ServiceStatus

    return _serialize(
        V1Service(
            api_version="v1", kind="Service",
            metadata=_meta("Service", "kube-dns", labels={"addonmanager.kubernetes.io/mode": "Reconcile", **LABELS,
                                                          "kubernetes.io/name": "CoreDNS"}),
            spec=V1ServiceSpec(type="ClusterIP", cluster_ip=KUBE_DNS_IP, cluster_ips=[KUBE_DNS_IP],
                               ip_families=["IPv4"], ip_family_policy="SingleStack", selector={"k8s-app": "kube-dns"},
                               session_affinity="None", internal_traffic_policy="Cluster",
                               ports=[V1ServicePort(name="dns", port=53, protocol="UDP", target_port=53),
                                      V1ServicePort(name="dns-tcp", port=53, protocol="TCP", target_port=53)]),
            status=V1ServiceStatus(load_balancer=V1LoadBalancerStatus()),
        )
    )  # fmt: skip


def endpoint_slice(ready: list[bool]) -> dict[str, Any]:
    """One endpoint per CoreDNS pod; a pod not ready is listed with ready and serving false, as the controller does."""
    from kubernetes.client import (
        DiscoveryV1EndpointPort,
        V1Endpoint,
        V1EndpointConditions,
        V1EndpointSlice,
        V1ObjectReference,
        V1OwnerReference,
    )  # fmt: skip

    endpoints = [
        V1Endpoint(addresses=[ip], conditions=V1EndpointConditions(ready=ok, serving=ok, terminating=False),
                   node_name=NODES[i], target_ref=V1ObjectReference(kind="Pod", name=name, namespace=NAMESPACE,
                                                                    uid=_uid("Pod", name)))
        for i, ((name, ip), ok) in enumerate(zip(PODS, ready, strict=True))
    ]  # fmt: skip
    return _serialize(
        V1EndpointSlice(
            api_version="discovery.k8s.io/v1", kind="EndpointSlice", address_type="IPv4",
            metadata=_meta("EndpointSlice", SLICE, generate_name="kube-dns-",
                           labels={"addonmanager.kubernetes.io/mode": "Reconcile", **LABELS,
                                   "kubernetes.io/name": "CoreDNS",
                                   "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                                   "kubernetes.io/service-name": "kube-dns"},
                           owner_references=[V1OwnerReference(api_version="v1", kind="Service", name="kube-dns",
                                                              uid=_uid("Service", "kube-dns"),
                                                              controller=True, block_owner_deletion=True)]),
            endpoints=endpoints,
            ports=[DiscoveryV1EndpointPort(name="dns", port=53, protocol="UDP"),
                   DiscoveryV1EndpointPort(name="dns-tcp", port=53, protocol="TCP")],
        )
    )  # fmt: skip


def pod(index: int, ready: bool = True, crashloop: bool = False) -> dict[str, Any]:
    """CoreDNS pod `index`: Running and ready; not ready (readiness failing); or waiting in CrashLoopBackOff."""
    from kubernetes.client import (
        V1ConfigMapVolumeSource,
        V1Container,
        V1ContainerPort,
        V1ContainerState,
        V1ContainerStateRunning,
        V1ContainerStateTerminated,
        V1ContainerStateWaiting,
        V1ContainerStatus,
        V1KeyToPath,
        V1OwnerReference,
        V1Pod,
        V1PodCondition,
        V1PodIP,
        V1PodSpec,
        V1PodStatus,
        V1Volume,
        V1VolumeMount,
    )  # fmt: skip

    name, ip = PODS[index]
    started = _at("2026-11-30T08:00:00Z")
    if crashloop:
        state = V1ContainerState(
            waiting=V1ContainerStateWaiting(
                reason="CrashLoopBackOff",
                message=f"back-off 5m0s restarting failed container=coredns pod={name}_{NAMESPACE}",
            )
        )
        last = V1ContainerState(
            terminated=V1ContainerStateTerminated(
                exit_code=1,
                reason="Error",
                started_at=_at("2026-12-01T07:55:00Z"),
                finished_at=_at("2026-12-01T07:55:02Z"),
            )
        )
    else:
        state, last = V1ContainerState(running=V1ContainerStateRunning(started_at=started)), V1ContainerState()
    flag = "True" if ready else "False"
    conditions = [V1PodCondition(type="Initialized", status="True"),
                  V1PodCondition(type="Ready", status=flag, reason=None if ready else "ContainersNotReady"),
                  V1PodCondition(type="ContainersReady", status=flag, reason=None if ready else "ContainersNotReady"),
                  V1PodCondition(type="PodScheduled", status="True")]  # fmt: skip
    return _serialize(
        V1Pod(
            api_version="v1", kind="Pod",
            metadata=_meta("Pod", name, generate_name=f"{REPLICASET}-",
                           labels={"k8s-app": "kube-dns", "kubernetes.azure.com/managedby": "aks",
                                   "pod-template-hash": REPLICASET.rsplit("-", 1)[1]},
                           owner_references=[V1OwnerReference(api_version="apps/v1", kind="ReplicaSet",
                                                              name=REPLICASET, uid=_uid("ReplicaSet", REPLICASET),
                                                              controller=True, block_owner_deletion=True)]),
            spec=V1PodSpec(
                node_name=NODES[index], service_account_name="coredns", dns_policy="Default",
                priority_class_name="system-node-critical",
                containers=[V1Container(
                    name="coredns", image=IMAGE, args=["-conf", "/etc/coredns/Corefile"],
                    ports=[V1ContainerPort(name="dns", container_port=53, protocol="UDP"),
                           V1ContainerPort(name="dns-tcp", container_port=53, protocol="TCP"),
                           V1ContainerPort(name="metrics", container_port=9153, protocol="TCP")],
                    volume_mounts=[V1VolumeMount(name="config-volume", mount_path="/etc/coredns", read_only=True),
                                   V1VolumeMount(name="custom-config-volume", mount_path="/etc/coredns/custom",
                                                 read_only=True)])],
                volumes=[V1Volume(name="config-volume", config_map=V1ConfigMapVolumeSource(
                             name="coredns", items=[V1KeyToPath(key="Corefile", path="Corefile")])),
                         V1Volume(name="custom-config-volume", config_map=V1ConfigMapVolumeSource(
                             name="coredns-custom", optional=True))]),
            status=V1PodStatus(
                phase="Running", pod_ip=ip, pod_ips=[V1PodIP(ip=ip)], host_ip=f"10.224.0.{4 + index}",
                start_time=started, qos_class="Burstable", conditions=conditions,
                container_statuses=[V1ContainerStatus(
                    name="coredns", image=IMAGE, image_id=f"{IMAGE}@sha256:{'0' * 64}", ready=ready,
                    started=not crashloop, restart_count=CRASH_RESTARTS if crashloop else 0, state=state,
                    last_state=last, container_id=f"containerd://{_uid('Container', name).replace('-', '')}")]),
        )
    )  # fmt: skip


def configmap(name: str, data: dict[str, str], mode: str) -> dict[str, Any]:
    from kubernetes.client import V1ConfigMap

    return _serialize(
        V1ConfigMap(
            api_version="v1", kind="ConfigMap", data=data or None,
            metadata=_meta("ConfigMap", name, labels={"addonmanager.kubernetes.io/mode": mode, **LABELS}),
        )
    )  # fmt: skip
