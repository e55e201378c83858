"""aksdiag ipplan: addresses needed at the peak against what the subnets have, from ARM bodies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aksdiag.probes import ipplan

from aksdiag.azfacts import Cluster
from aksdiag.cli import main
from aksdiag.lab import arm, armworld


def pool(**kw: object) -> dict:
    return {"name": "np", "vnetSubnetID": "/s/subnets/a", "count": 3, "maxPods": 30} | kw


def cluster(plugin: str = "azure", mode: str | None = None, *pools: dict, **access: object) -> Cluster:
    network = {"networkPlugin": plugin} | ({"networkPluginMode": mode} if mode else {})
    body = {"networkProfile": network, "agentPoolProfiles": list(pools) or [pool()], "apiServerAccessProfile": access}
    return Cluster.from_arm({"properties": body})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (cluster("azure"), (3 + 1) * (30 + 1)),  # Azure CNI: every node and its pods take subnet addresses
        (cluster("azure", None, pool(enableAutoScaling=True, maxCount=10)), (10 + 1) * 31),  # the autoscaler max
        (cluster("azure", None, pool(upgradeSettings={"maxSurge": "33%"}, count=10)), (10 + 4) * 31),  # 33% of 10
        (cluster("kubenet"), 3 + 1),  # pods use the pod CIDR
        (cluster("azure", "overlay"), 3 + 1),
    ],
)
def test_arithmetic(body: Cluster, expected: int) -> None:
    assert ipplan.needs(body)["/s/subnets/a"].addresses == expected


def test_dynamic_allocation_counts_the_pod_subnet() -> None:
    need = ipplan.needs(cluster("azure", None, pool(podSubnetID="/s/subnets/pods")))
    assert need["/s/subnets/a"].addresses == 4 and need["/s/subnets/pods"].addresses == 4 * 30


def test_api_server_subnet_with_vnet_integration() -> None:
    body = cluster("azure", "overlay", enableVnetIntegration=True, subnetId="/s/subnets/api")
    assert ipplan.needs(body)["/s/subnets/api"].addresses == 9


@pytest.mark.parametrize("world", ["vnet-integration", "apiserver-subnet-small"])
def test_api_subnet_worlds(world: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """A /28 has 11 usable addresses (room for the 9 AKS keeps); a /29 has 3: IP004 here, API007 in apiserver."""
    w = arm.ArmWorld()
    for b in armworld.build(world):
        w.add(b)
    with arm.FakeArm(w, tmp_path) as fake:
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        main(["ipplan", "--subscription", armworld.SUBSCRIPTION, "-g", "rg-aks", "--cluster", "aks-lab", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    api = next(h for h in doc["probes"][0]["hops"] if h["name"] == "snet-apiserver")
    assert ("11 usable" in api["detail"]) is (world == "vnet-integration")
    assert ("IP004" in {f["id"] for f in doc["findings"]}) is (world == "apiserver-subnet-small")


def test_pools_sharing_a_subnet_add_up() -> None:
    need = ipplan.needs(cluster("kubenet", None, pool(name="a"), pool(name="b", count=5)))
    assert need["/s/subnets/a"].addresses == (3 + 1) + (5 + 1)


@pytest.mark.parametrize(("world", "code"), [("healthy", set()), ("subnet-full", {"IP004"})])
def test_worlds(world: str, code: set[str], tmp_path: Path, monkeypatch, capsys) -> None:
    w = arm.ArmWorld()
    for b in armworld.build(world):
        w.add(b)
    with arm.FakeArm(w, tmp_path) as fake:
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        rc = main(
            ["ipplan", "--subscription", armworld.SUBSCRIPTION, "-g", "rg-aks", "--cluster", "aks-lab", "-o", "json"]
        )
    doc = json.loads(capsys.readouterr().out)
    assert {f["id"] for f in doc["findings"]} == code and rc == (1 if code else 0)
    if code:
        detail = doc["findings"][0]["detail"]
        assert "251 usable" in detail and "341 are needed" in detail and "autoscaler max" in detail


def test_ipplan_needs_the_cluster(capsys) -> None:
    assert main(["ipplan"]) == 2
