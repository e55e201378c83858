"""aksdiag.clusterdns's parsers: the lab's kube-system objects (as the API server serves them) become the types the
cluster_dns probe judges; failed reads stay what they were (403, 404, unreachable)."""

from __future__ import annotations

import pytest

from aksdiag import clusterdns
from aksdiag.clusterdns import ConfigMapRead, CoreDnsPod, DnsEndpoint, KubeDnsService
from aksdiag.facts import KubeList
from aksdiag.lab import corednsworld as lab


def listed(world: str, kind: str, name: str = "") -> KubeList:
    objects = lab.kube(world)
    return KubeList(tuple(o for o in objects if o["kind"] == kind and (not name or o["metadata"]["name"] == name)))


def test_the_kube_dns_service_with_its_ports() -> None:
    assert clusterdns.kube_dns_service(listed("coredns-healthy", "Service")) == KubeDnsService(
        lab.KUBE_DNS_IP, (("UDP", 53), ("TCP", 53))
    )


@pytest.mark.parametrize(
    "given",
    [None, KubeList(status=403, error="forbidden"), KubeList(),
     KubeList(({"metadata": {"name": "kube-dns"}, "spec": {"clusterIP": "None"}},))],
    ids=["not-read", "forbidden", "absent", "headless"],
)  # fmt: skip
def test_no_service_where_none_was_read(given: KubeList | None) -> None:
    assert clusterdns.kube_dns_service(given) is None


def test_endpoints_of_a_healthy_slice() -> None:
    assert clusterdns.dns_endpoints(listed("coredns-healthy", "EndpointSlice")) == (
        DnsEndpoint("10.244.0.5", True, True, False, lab.NODES[0], lab.PODS[0][0]),
        DnsEndpoint("10.244.1.7", True, True, False, lab.NODES[1], lab.PODS[1][0]),
    )


def test_an_endpoint_not_ready_and_the_unset_conditions() -> None:
    (_, second) = clusterdns.dns_endpoints(listed("coredns-pod-not-ready", "EndpointSlice"))
    assert (second.ready, second.serving, second.terminating) == (False, False, False)
    bare = KubeList(({"endpoints": [{"addresses": ["10.244.2.9", "10.244.2.10"]}]},))
    assert clusterdns.dns_endpoints(bare) == (DnsEndpoint("10.244.2.9", True), DnsEndpoint("10.244.2.10", True))
    leaving = KubeList(
        (
            {
                "endpoints": [
                    {"addresses": ["10.244.2.9"], "conditions": {"ready": False, "serving": True, "terminating": True}}
                ]
            },
        )
    )
    assert clusterdns.dns_endpoints(leaving) == (DnsEndpoint("10.244.2.9", False, True, True),)


def test_pods_ready_and_crash_looping() -> None:
    healthy = clusterdns.coredns_pods(listed("coredns-healthy", "Pod"))
    assert [(p.name, p.ip, p.node, p.phase, p.ready) for p in healthy] == [
        (lab.PODS[0][0], "10.244.0.5", lab.NODES[0], "Running", True),
        (lab.PODS[1][0], "10.244.1.7", lab.NODES[1], "Running", True),
    ]
    crashing = clusterdns.coredns_pods(listed("coredns-crashloop", "Pod"))[1]
    assert crashing == CoreDnsPod(
        lab.PODS[1][0], "10.244.1.7", lab.NODES[1], "Running", False, lab.CRASH_RESTARTS, "CrashLoopBackOff",
        "Error, exit 1",
    )  # fmt: skip
    not_ready = clusterdns.coredns_pods(listed("coredns-pod-not-ready", "Pod"))[1]
    assert (not_ready.ready, not_ready.restarts, not_ready.waiting) == (False, 0, "")


def test_config_maps_read_refused_or_missing() -> None:
    read = clusterdns.config_map(listed("coredns-custom-forward", "ConfigMap", "coredns-custom"), "coredns-custom")
    assert read == ConfigMapRead("coredns-custom", {lab.SERVER_KEY: lab.FORWARD_SERVER})
    empty = clusterdns.config_map(listed("coredns-healthy", "ConfigMap", "coredns-custom"), "coredns-custom")
    assert empty.data == {} and not empty.forbidden
    denied = KubeList(status=403, error='configmaps "coredns-custom" is forbidden')
    assert clusterdns.config_map(denied, "coredns-custom").forbidden
    gone = clusterdns.config_map(KubeList(status=404, error="not found"), "coredns-custom")
    assert gone.missing and gone.data is None
    assert clusterdns.config_map(KubeList(), "coredns").missing
    down = clusterdns.config_map(KubeList(status=0, error="connection refused", failure="unreachable"), "coredns")
    assert (down.status, down.data, down.forbidden, down.missing) == (0, None, False, False)
