"""ipplan judged from facts: the addresses each subnet needs at the peak, from typed node pools, and the ARM
worlds' subnets (real VNet and cluster payloads) through the probe's digest. No server."""

from __future__ import annotations

from typing import Any

import pytest
from aksdiag.probes import ipplan
from probeworlds import NEED, Body, azure_context

from aksdiag.azfacts import Cluster, NodePool
from aksdiag.facts import AzureContext
from aksdiag.lab import armworld
from aksdiag.model import Severity, Status
from aksdiag.probe import Judgement, Skip
from aksdiag.settings import Settings


def pool(**kw: Any) -> NodePool:
    return NodePool(**({"name": "np", "vnet_subnet_id": "/s/subnets/a", "count": 3, "max_pods": 30} | kw))


def cluster(plugin: str = "azure", mode: str = "", *pools: NodePool, **kw: Any) -> Cluster:
    return Cluster("", "c", network_plugin=plugin, network_plugin_mode=mode, pools=pools or (pool(),), **kw)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (cluster("azure"), (3 + 1) * (30 + 1)),  # Azure CNI: every node and its pods take subnet addresses
        (cluster("azure", "", pool(autoscaling=True, max_count=10)), (10 + 1) * 31),  # the autoscaler max
        (cluster("azure", "", pool(autoscaling=True, max_count=2, count=3)), (3 + 1) * 31),  # never below the count
        (cluster("azure", "", pool(max_surge="33%", count=10)), (10 + 4) * 31),  # 33% of 10, rounded up
        (cluster("azure", "", pool(max_surge="3")), (3 + 3) * 31),
        (cluster("azure", "", pool(max_pods=None)), (3 + 1) * (30 + 1)),  # Azure CNI's default of 30 pods
        (cluster("kubenet"), 3 + 1),  # pods use the pod CIDR
        (cluster("azure", "overlay"), 3 + 1),
        (cluster(""), 3 + 1),  # no plugin named: kubenet
    ],
)
def test_arithmetic(body: Cluster, expected: int) -> None:
    assert ipplan.needs(body)["/s/subnets/a"].addresses == expected


def test_dynamic_allocation_counts_the_pod_subnet() -> None:
    need = ipplan.needs(cluster("azure", "", pool(pod_subnet_id="/s/subnets/pods")))
    assert need["/s/subnets/a"].addresses == 4 and need["/s/subnets/pods"].addresses == 4 * 30


def test_api_server_subnet_with_vnet_integration() -> None:
    body = cluster("azure", "overlay", vnet_integration=True, api_subnet_id="/s/subnets/API")
    assert ipplan.needs(body)["/s/subnets/api"].addresses == 9


def test_pools_sharing_a_subnet_add_up_and_aks_managed_vnets_are_not_planned() -> None:
    need = ipplan.needs(cluster("kubenet", "", pool(name="a"), pool(name="b", count=5), pool(vnet_subnet_id="")))
    assert list(need) == ["/s/subnets/a"] and need["/s/subnets/a"].addresses == (3 + 1) + (5 + 1)
    assert need["/s/subnets/a"].why == ["a: 3 nodes + 1 surge", "b: 5 nodes + 1 surge"]


def test_node_pools_digest_from_the_cluster_payload() -> None:
    body: Body = next(b for b in armworld.build("subnet-full") if b["type"].endswith("ManagedClusters"))
    (p,) = Cluster.from_arm(body).pools
    assert (p.autoscaling, p.max_count, p.peak, p.max_pods) == (True, 10, 10, 30)
    assert p.vnet_subnet_id.endswith("/subnets/snet-aks")


# ---------------------------------------------------------------- judged worlds


def judge(ctx: AzureContext) -> Judgement:
    j = ipplan.judge("", Settings(azure=NEED), {NEED: ctx})
    assert {f.id for f in j.findings} <= {"IP004"} and all(f.probe == "ipplan" for f in j.findings)
    return j


def test_without_azure_context_the_probe_is_skipped() -> None:
    with pytest.raises(Skip, match="--cluster"):
        ipplan.plan("", Settings(), {})


def test_healthy_world_raises_nothing() -> None:
    j = judge(azure_context("healthy"))
    assert j.findings == () and [(h.name, h.status) for h in j.hops] == [("snet-aks", Status.OK)]
    assert "65531 usable, 222 needed at the peak" in j.hops[0].detail


def test_ip004_subnet_too_small_for_the_autoscaler_maximum() -> None:
    j = judge(azure_context("subnet-full"))
    assert [f.id for f in j.findings] == ["IP004"]
    f = j.findings[0]
    assert f.severity is Severity.ERROR and f.hop == 1
    assert "251 usable" in f.detail and "341 are needed" in f.detail and "autoscaler max" in f.detail
    assert f.evidence == {"subnet": f.evidence["subnet"], "needed": 341, "usable": 251}
    assert j.hops[0].status is Status.FAIL


@pytest.mark.parametrize(("world", "usable", "code"), [("vnet-integration", 11, []), ("apiserver-subnet-small", 3, ["IP004"])])  # fmt: skip
def test_ip004_api_server_subnet(world: str, usable: int, code: list[str]) -> None:
    """A /28 has 11 usable addresses (room for the 9 AKS keeps); a /29 has 3: IP004 here, API007 in apiserver."""
    j = judge(azure_context(world))
    api = next(h for h in j.hops if h.name == "snet-apiserver")
    assert f"{usable} usable, 9 needed" in api.detail
    assert [f.id for f in j.findings] == code


def test_a_subnet_not_read_is_skipped_not_judged() -> None:
    ctx = azure_context("subnet-full")
    j = judge(AzureContext(**{**ctx.__dict__, "vnets": {}}))
    assert j.findings == () and [(h.name, h.status, h.detail) for h in j.hops] == [("snet-aks", Status.SKIPPED, "not read")]  # fmt: skip


def test_no_cluster_read_judges_nothing() -> None:
    assert judge(AzureContext(need=NEED)) == Judgement()
