"""whois judged from facts: one small cluster per network plugin (aksdiag.lab.kubeworlds, the official client's
models in wire shape) and the healthy ARM world, as the sources would return them. No server."""

from __future__ import annotations

from typing import Any

import pytest
from aksdiag.probes import whois
from probeworlds import KUBE, LB_NEED, Body, azure_context, forbidden, kube_list, vmss_nics

from aksdiag.facts import AzureVmssNicsNeed, KubeList
from aksdiag.lab import kubeworlds
from aksdiag.model import Status
from aksdiag.probe import Judgement, Skip
from aksdiag.settings import Settings

NODE0 = "aks-nodepool1-12345678-vmss000000"
NODE1 = "aks-nodepool1-12345678-vmss000001"


def facts(
    ip: str,
    plugin: str,
    extra: list[Body] = (),
    azure: bool = False,
    **lists: KubeList,  # type: ignore[assignment]
) -> tuple[Settings, dict[Any, Any]]:
    """What the sources return for `aksdiag whois IP` on a plugin's world: pods by the server's field selector
    `status.podIP`, nodes, Services, NodeNetworkConfigs (404 where the CRD is absent); `lists` replaces one."""
    objects = [*kubeworlds.build(plugin), *extra]
    settings = Settings(kube=KUBE, azure=LB_NEED if azure else None)
    needs = whois._needs(ip, KUBE)
    found = {
        "pods": kube_list(objects, "Pod", lambda o: o["status"].get("podIP") == ip),
        "nodes": kube_list(objects, "Node"),
        "services": kube_list(objects, "Service"),
        "nodenetworkconfigs": kube_list(objects, "NodeNetworkConfig")
        if plugin == "dynamic"
        else KubeList(status=404, error="the server could not find the requested resource"),
    } | lists
    out: dict[Any, Any] = {needs[k]: v for k, v in found.items()}
    if azure:
        out[LB_NEED] = azure_context("healthy", need=LB_NEED)
        for need in whois._vmss_needs(ip, settings, out):  # the runner's second round
            out[need] = vmss_nics()
    return settings, out


def judge(ip: str, plugin: str = "kubenet", **kw: Any) -> Judgement:
    settings, f = facts(ip, plugin, **kw)
    j = whois.judge(ip, settings, f)
    assert {x.id for x in j.findings} <= set(whois.PROBE.codes) and all(x.probe == "whois" for x in j.findings)
    assert j.facts["ip"] == ip and j.hops
    return j


def ids(j: Judgement) -> set[str]:
    return {f.id for f in j.findings}


def kinds(j: Judgement) -> list[tuple[str, str]]:
    return [(h.kind, h.name) for h in j.hops]


def test_without_kubernetes_the_probe_is_skipped() -> None:
    with pytest.raises(Skip, match="--kubeconfig"):
        whois.plan("10.0.0.1", Settings(), {})


def test_plan_selects_the_pod_on_the_server() -> None:
    needs = whois.plan("10.244.1.3", Settings(kube=KUBE), {})
    assert [(n.resource, n.field_selector) for n in needs] == [
        ("pods", "status.podIP=10.244.1.3"), ("nodes", ""), ("services", ""), ("nodenetworkconfigs", ""),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("plugin", "pod_ip", "free_ip", "how"),
    [
        ("kubenet", "10.244.1.3", "10.244.1.200", "podCIDR 10.244.1.0/24"),
        ("overlay", "10.244.1.3", "10.244.1.200", "podCIDR 10.244.1.0/24"),
        ("cilium", "fd00:10:244:1::a", "fd00:10:244:1::ff", "podCIDR fd00:10:244:1::/64"),
        ("dynamic", "10.240.0.37", "10.240.0.40", "NodeNetworkConfig (snet-pods)"),
        ("azure-cni", "10.240.0.37", "10.240.0.40", "a guess from Azure CNI's allocation layout: 10.240.0.35 + 30"),
    ],
)
def test_each_plugin_a_pod_and_ip001_a_free_address_in_a_nodes_range(
    plugin: str, pod_ip: str, free_ip: str, how: str
) -> None:
    j = judge(pod_ip, plugin)
    assert ids(j) == set() and j.hops[0].kind == "pod" and j.hops[0].status is Status.OK
    assert f"on node {NODE1}, Running, owned by ReplicaSet" in j.hops[0].detail
    j = judge(free_ip, plugin)
    assert ids(j) == {"IP001"}
    assert NODE1 in j.findings[0].detail and how in j.findings[0].detail
    assert kinds(j) == [("pod-range", NODE1)]


def test_ip001_classic_azure_cni_reads_the_node_nics_with_azure_context() -> None:
    settings, f = facts("10.240.0.40", "azure-cni", azure=True)
    assert [n for n in f if isinstance(n, AzureVmssNicsNeed)] == [
        AzureVmssNicsNeed(LB_NEED.subscription, "mc_rg-aks_aks-lab_koreacentral", kubeworlds.VMSS, LB_NEED.endpoint)
    ]
    j = whois.judge("10.240.0.40", settings, f)
    assert ids(j) == {"IP001"}
    assert NODE1 in j.findings[0].detail and "pre-allocated on the node's NIC as ipconfig6" in j.findings[0].detail
    assert "guess" not in j.findings[0].detail


def test_other_plugins_ask_no_nics() -> None:
    assert not any(isinstance(n, AzureVmssNicsNeed) for n in facts("10.244.1.200", "kubenet", azure=True)[1])


def test_ip003_classic_azure_cni_beyond_every_block_is_nobodys() -> None:
    j = judge("10.240.0.250", "azure-cni")
    assert ids(j) == {"IP003"} and "pre-allocated on the node NICs" in j.findings[0].detail
    assert [(h.kind, h.status) for h in j.hops] == [("none", Status.SKIPPED)]


def test_ip003_an_address_from_outside_the_cluster() -> None:
    j = judge("192.0.2.10")
    assert ids(j) == {"IP003"} and "per-node pod CIDRs" in j.findings[0].detail


def test_node_ip_with_host_network_pods_is_not_a_conflict() -> None:
    j = judge("10.240.0.35")
    assert ids(j) == set()
    assert ("node", NODE1) in kinds(j) and ("pod", "kube-system/kube-proxy-1") in kinds(j)
    node = next(h for h in j.hops if h.kind == "node")
    assert "VMSS aks-nodepool1-12345678-vmss instance 1" in node.detail and "pool nodepool1" in node.detail
    assert "hostNetwork" in next(h for h in j.hops if h.kind == "pod").detail


def test_services_cluster_ip_and_load_balancer_frontend() -> None:
    j = judge("10.0.12.34", "overlay")
    assert kinds(j) == [("service", "default/web")] and j.hops[0].detail == "the clusterIP of a LoadBalancer Service"
    j = judge("10.240.0.200", "overlay")
    assert "the internal load balancer frontend of a LoadBalancer Service" in j.hops[0].detail


def test_ip002_two_pods_with_one_ip() -> None:
    twin = kubeworlds.pod("stale-0", "default", NODE0, "10.244.1.3")
    j = judge("10.244.1.3", extra=[twin])
    assert ids(j) == {"IP002"}
    assert "default/stale-0" in j.findings[0].detail and "default/web-11" in j.findings[0].detail
    assert all(h.status is Status.FAIL for h in j.hops)


def test_finished_pods_do_not_hold_their_ip() -> None:
    done = kubeworlds.pod("job-0", "default", NODE0, "10.244.1.3", phase="Succeeded")
    j = judge("10.244.1.3", extra=[done])
    assert ids(j) == set() and kinds(j)[0] == ("pod", "default/web-11") and "job-0" not in str(kinds(j))


def test_ip005_pods_forbidden_names_it_and_guesses_no_free_address() -> None:
    j = judge("10.240.0.35", pods=forbidden("pods"))
    assert ids(j) == {"IP005"} and "pods" in j.findings[0].detail and "forbidden" in j.findings[0].detail
    assert ("node", NODE1) in kinds(j), "nodes were still read"
    assert ids(judge("10.244.1.200", pods=forbidden("pods"))) == {"IP005"}, "no IP001 guessed without the pods"


def test_a_missing_nodenetworkconfig_crd_is_no_error() -> None:
    assert ids(judge("10.244.1.3")) == set()  # kubenet: the CRD answers 404
    assert ids(judge("10.244.1.3", nodenetworkconfigs=forbidden("nodenetworkconfigs"))) == {"IP005"}


@pytest.mark.parametrize(
    ("ip", "kind", "name", "words"),
    [
        ("10.224.0.4", "private-endpoint", "kube-apiserver", "the API server's private endpoint"),
        ("20.41.65.9", "lb-frontend", "kubernetes/a1b2c3d4e5f6", "a public frontend of load balancer kubernetes"),
        ("10.224.0.200", "lb-frontend", "kubernetes-internal/b2c3d4e5f6a1", "a private frontend"),
    ],
)
def test_azure_owners(ip: str, kind: str, name: str, words: str) -> None:
    j = judge(ip, azure=True)
    assert ids(j) == set()
    (h,) = j.hops
    assert (h.kind, h.name) == (kind, name) and words in h.detail


def test_a_service_and_its_frontend_are_one_owner() -> None:
    svc = kubeworlds.service("internal-api", "10.0.40.1", "10.224.0.200", internal=True)
    j = judge("10.224.0.200", extra=[svc], azure=True)
    assert ids(j) == set() and [h.kind for h in j.hops] == ["service", "lb-frontend"]
