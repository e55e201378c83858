"""The cluster's own DNS layer as facts: which servers on a path are relays (CoreDNS, LocalDNS), and what
Kubernetes says about CoreDNS (the kube-dns Service, its endpoints, the CoreDNS pods, the two ConfigMaps).

A relay is never a custom DNS server: it caches and forwards what the servers behind it say, so it is judged (and
fixed) as a relay (issue 14). The addresses are AKS's: LocalDNS listens on 169.254.10.10 (the VNet DNS traffic of
kubelet and of pods with dnsPolicy Default) and 169.254.10.11 (the kube-dns traffic of ClusterFirst pods); CoreDNS
is the kube-dns Service's ClusterIP (10.0.0.10 by default) and each CoreDNS pod's IP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aksdiag.facts import KubeList
from aksdiag.kubefacts import PodHealth

LOCALDNS_VNET_IP = "169.254.10.10"
LOCALDNS_KUBE_IP = "169.254.10.11"
NAMESPACE = "kube-system"
KUBE_DNS_SERVICE = "kube-dns"
COREDNS_LABEL = "k8s-app=kube-dns"
COREDNS_CONFIGMAP = "coredns"
COREDNS_CUSTOM_CONFIGMAP = "coredns-custom"
CLUSTER_DOMAIN_SUFFIX = "svc.cluster.local"


class RelayKind(str, Enum):
    """What a relay on the path is; the value is the hop kind a report shows."""

    COREDNS = "coredns"
    """The kube-dns Service's ClusterIP: kube-proxy spreads the query over the CoreDNS pods."""
    COREDNS_POD = "coredns-pod"
    """One CoreDNS pod, asked at its own IP (what the Service hides: one pod or one path failing)."""
    LOCALDNS = "localdns"
    """A LocalDNS listener on the node (169.254.10.10 or 169.254.10.11)."""

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    RelayKind.COREDNS: "CoreDNS, kube-dns service",
    RelayKind.COREDNS_POD: "CoreDNS pod",
    RelayKind.LOCALDNS: "AKS LocalDNS",
}

LOCALDNS_LISTENERS = {
    LOCALDNS_VNET_IP: "AKS LocalDNS (VNet DNS listener)",
    LOCALDNS_KUBE_IP: "AKS LocalDNS (kube-dns listener)",
}


def relay_kind(
    host: str,
    *,
    kube_dns_ip: str | None = None,
    coredns_pod_ips: tuple[str, ...] = (),
) -> RelayKind | None:
    """The relay at `host`, or None for a server that is no relay of the cluster's.

    `kube_dns_ip`: the kube-dns ClusterIP when known (from the Service, or the first nameserver of a ClusterFirst
    pod's resolv.conf); `coredns_pod_ips`: the CoreDNS pods' IPs (from the EndpointSlices)."""
    if host in LOCALDNS_LISTENERS:
        return RelayKind.LOCALDNS
    if kube_dns_ip and host == kube_dns_ip:
        return RelayKind.COREDNS
    if host in coredns_pod_ips:
        return RelayKind.COREDNS_POD
    return None


def relay_label(host: str, kind: RelayKind) -> str:
    return LOCALDNS_LISTENERS.get(host, kind.label) if kind is RelayKind.LOCALDNS else kind.label


def told_cluster_first(in_cluster: bool, dns_policy: str) -> bool:
    """`aksdiag pod` said the pod's dnsPolicy is ClusterFirst (or ClusterFirstWithHostNet): its resolver asks
    CoreDNS. An unknown policy (aksdiag run in a pod of the user's own) is told by the resolv.conf instead."""
    return in_cluster and dns_policy.startswith("ClusterFirst")


def asks_coredns(in_cluster: bool, dns_policy: str, search: tuple[str, ...]) -> bool:
    """This resolver is a ClusterFirst pod's: the policy says so, or, unknown, its search domains are the cluster's."""
    if in_cluster and dns_policy:
        return told_cluster_first(in_cluster, dns_policy)
    return any(s.endswith(CLUSTER_DOMAIN_SUFFIX) for s in search)


def pod_kube_dns_ip(nameservers: tuple[str, ...], search: tuple[str, ...], cluster_first: bool) -> str | None:
    """The kube-dns ClusterIP a pod's resolv.conf names: its first nameserver, when the resolv.conf is a
    ClusterFirst pod's (search domains end in svc.cluster.local, or `aksdiag pod` said ClusterFirst) and that
    nameserver is no LocalDNS listener (with LocalDNS, kubelet points pods at 169.254.10.11 instead)."""
    if not nameservers:
        return None
    in_pod = cluster_first or any(s.endswith(CLUSTER_DOMAIN_SUFFIX) for s in search)
    first = nameservers[0]
    return first if in_pod and first not in LOCALDNS_LISTENERS else None


@dataclass(frozen=True)
class KubeDnsService:
    """The kube-dns Service of kube-system."""

    cluster_ip: str
    ports: tuple[tuple[str, int], ...] = ()
    """(protocol, port) pairs: AKS serves 53/UDP and 53/TCP."""


@dataclass(frozen=True)
class DnsEndpoint:
    """One endpoint of the kube-dns EndpointSlices: a CoreDNS pod as the Service sees it."""

    ip: str
    ready: bool
    serving: bool = True
    terminating: bool = False
    node: str = ""
    pod: str = ""


@dataclass(frozen=True)
class CoreDnsPod:
    """A CoreDNS pod (label k8s-app=kube-dns in kube-system)."""

    name: str
    ip: str
    node: str
    phase: str
    ready: bool
    restarts: int = 0
    waiting: str = ""
    """The container's waiting reason (CrashLoopBackOff, ImagePullBackOff…), empty when it runs."""
    last_exit: str = ""
    """How the container last ended (`Error, exit 1`, `OOMKilled`), empty when it never did."""


@dataclass(frozen=True)
class ConfigMapRead:
    """One ConfigMap of kube-system read by name: its data, or why it could not be read."""

    name: str
    data: dict[str, str] | None = None
    """None when it could not be read (see `status` and `error`); {} for a ConfigMap with no data."""
    status: int = 200
    error: str = ""

    @property
    def forbidden(self) -> bool:
        return self.status == 403

    @property
    def missing(self) -> bool:
        return self.status == 404


# ---- from the API server's JSON (a KubeList's items) to the types above: the one place that knows the raw keys


def _get(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]…, or None where a level is missing (the API server leaves empty fields out)."""
    for key in keys:
        obj = obj.get(key) if isinstance(obj, Mapping) else None
    return obj


def kube_dns_service(listed: KubeList | None) -> KubeDnsService | None:
    """The kube-dns Service from a list of kube-system's Services (fieldSelector metadata.name=kube-dns); None when
    it was not read or is absent, or has no ClusterIP (headless)."""
    for obj in listed.items if listed is not None and not listed.error else ():
        if _get(obj, "metadata", "name") not in (None, KUBE_DNS_SERVICE):
            continue
        ip = _get(obj, "spec", "clusterIP")
        if not ip or ip == "None":
            continue
        ports = tuple((str(p.get("protocol") or "TCP"), int(p.get("port") or 0))
                      for p in _get(obj, "spec", "ports") or () if isinstance(p, Mapping))  # fmt: skip
        return KubeDnsService(str(ip), ports)
    return None


def dns_endpoints(listed: KubeList | None) -> tuple[DnsEndpoint, ...]:
    """The endpoints of kube-dns's EndpointSlices, one per address. As discovery.k8s.io/v1 says, an unset `ready`
    or `serving` is read as ready and an unset `terminating` as not terminating."""
    out: list[DnsEndpoint] = []
    for piece in listed.items if listed is not None and not listed.error else ():
        for endpoint in piece.get("endpoints") or ():
            conditions = endpoint.get("conditions") or {}
            ready = conditions.get("ready") is not False
            serving = conditions.get("serving")
            ref = endpoint.get("targetRef") or {}
            for ip in endpoint.get("addresses") or ():
                out.append(DnsEndpoint(
                    ip=str(ip), ready=ready, serving=ready if serving is None else bool(serving),
                    terminating=conditions.get("terminating") is True, node=str(endpoint.get("nodeName") or ""),
                    pod=str(ref.get("name") or "") if ref.get("kind", "Pod") == "Pod" else "",
                ))  # fmt: skip
    return tuple(out)


def coredns_pods(listed: KubeList | None) -> tuple[CoreDnsPod, ...]:
    """The CoreDNS pods (labelSelector k8s-app=kube-dns), with the coredns container's health (PodHealth)."""
    healths = (PodHealth.from_kube(o, "coredns") for o in (listed.items if listed is not None and not listed.error else ()))
    return tuple(CoreDnsPod(h.name if h.name != "?" else "", h.ip, h.node, h.phase, h.ready, h.restarts, h.waiting,
                            h.last_exit) for h in healths)  # fmt: skip


def config_map(listed: KubeList | None, name: str) -> ConfigMapRead:
    """One ConfigMap read by name (a GET: its KubeList holds it alone, or says 403/404/why not)."""
    if listed is None:
        return ConfigMapRead(name, status=0, error="not read")
    if listed.error:
        return ConfigMapRead(name, status=listed.status, error=listed.error)
    found = next((o for o in listed.items if _get(o, "metadata", "name") in (None, name)), None)
    if found is None:
        return ConfigMapRead(name, status=404, error=f'configmaps "{name}" not found')
    data = found.get("data") or {}
    return ConfigMapRead(name, {str(k): str(v) for k, v in data.items()})
