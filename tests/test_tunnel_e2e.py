"""The tunnel probe end to end in `aksdiag check`: the real Azure SDK against the fake ARM (the `tunnel-*` worlds of
aksdiag.lab.armworld.tunnel) and the real Kubernetes client against the fake Kubernetes API (aksdiag.lab.tunnelworld),
for what only the real path shows: the label selector on kube-system's pods, the nodes, the subnet NSGs read by the
Azure source, the join of the agents' failure with its cause, and GETs only. Each code's world is judged from facts
in tests/probes/test_tunnel.py.

The NIC NSGs come from the Azure source's reads of the node resource group's scale sets (aksdiag.sources.azure.outbound).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.lab import arm, armworld, lbworld, tunnelworld
from aksdiag.lab.kube import FakeKubeApi, KubeWorld

AZURE = ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """world(name, kube=True, azure=True, deny=()) → the CLI's context flags for that world."""
    started: list[Any] = []

    def start(name: str, kube: bool = True, azure: bool = True, deny: tuple[str, ...] = ()) -> list[str]:
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
        args: list[str] = []
        if azure:
            w = arm.ArmWorld()
            for body in armworld.build(name):
                w.add(body)
            w.faults = armworld.faults(name)
            fake = arm.FakeArm(w, tmp_path / "arm")
            started.append(fake)
            monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
            args += AZURE
        if kube:
            kw = KubeWorld()
            kw.add_all(tunnelworld.kube(name) if name.startswith("tunnel-") else lbworld.kube(name))
            kw.denied = {tuple(d.split(" ", 1)) for d in deny}  # type: ignore[misc]
            server = FakeKubeApi(kw, tmp_path / "pki")
            started.append(server)
            args += ["--kubeconfig", str(server.kubeconfig(tmp_path / "kubeconfig"))]
        return args

    yield start
    for s in started:
        if isinstance(s, arm.FakeArm):
            assert s.writes() == [], "aksdiag must only read from Azure"
            assert {r.method for r in s.requests} == {"GET"}
        s.close()


def check(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    rc = main(["check", *args, "--timeout", "1", "--output", "json"])
    doc = json.loads(capsys.readouterr().out)
    (probe,) = [p for p in doc["probes"] if p["probe"] == "tunnel"]
    return rc, doc, probe


def own(doc: dict[str, Any]) -> list[str]:
    """The tunnel's codes; and no other probe owns a TUN code."""
    assert all(f["probe"] == "tunnel" for f in doc["findings"] if f["id"].startswith("TUN"))
    return sorted(f["id"] for f in doc["findings"] if f["probe"] == "tunnel")


def hop(probe: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [h for h in probe["hops"] if h["name"] == name]
    return found


def test_healthy_world_is_clean_and_reads_the_agents_and_the_subnet_nsgs(world, capsys) -> None:
    _, doc, probe = check(capsys, world("tunnel-healthy"))
    assert own(doc) == [] and probe["status"] == "ok", probe
    agents = hop(probe, "konnectivity-agent")["detail"]
    assert agents.count("Running, ready") == 2 and "(nodepool1)" in agents
    path = hop(probe, "nodepool1 → userpool :10250")
    assert path["status"] == "ok" and "inbound nsg-snet-user allows it" in path["detail"]
    assert probe["facts"]["agent_pools"] == ["nodepool1"]


def test_10250_blocked_between_pools(world, capsys) -> None:
    rc, doc, probe = check(capsys, world("tunnel-10250-blocked"))
    assert own(doc) == ["TUN004"] and rc == 1 and probe["status"] == "fail"
    (f,) = [f for f in doc["findings"] if f["id"] == "TUN004"]
    assert "work only for pods on the nodes where it runs (aks-nodepool1-12345678-vmss000000, " in f["detail"]
    assert "nsg-snet-user denies it: rule deny-kubelet-inbound (priority 200)" in f["detail"]
    assert f["command"].startswith("az network nsg rule create --resource-group rg-aks --nsg-name nsg-snet-user")


def test_the_agents_failure_is_joined_with_its_cause(world, capsys) -> None:
    rc, doc, _ = check(capsys, world("tunnel-apiserver-blocked"))
    assert own(doc) == ["TUN001", "TUN003", "TUN003", "TUN005"] and rc == 1
    (down,) = [f for f in doc["findings"] if f["id"] == "TUN001"]
    assert "Here is why: TUN005 (tunnel): An NSG blocks the nodes from the API server" in down["detail"]
    assert next(r["id"] for r in down["evidence"]["related"]) == "TUN005"


def test_agents_not_ready_and_missing(world, capsys) -> None:
    _, doc, _ = check(capsys, world("tunnel-agent-not-ready"))
    assert own(doc) == ["TUN002"]
    _, doc, _ = check(capsys, world("tunnel-agents-missing"))
    assert own(doc) == ["TUN001"]


def test_vnet_integration_healthy_and_blocked(world, capsys) -> None:
    _, doc, probe = check(capsys, world("tunnel-vnet-integration"))
    assert own(doc) == [] and "no tunnel" in hop(probe, "konnectivity-agent")["detail"]
    _, doc, probe = check(capsys, world("tunnel-vnet-integration-10250"))
    assert own(doc) == ["TUN006"]
    assert hop(probe, "the API server → userpool :10250")["status"] == "fail"


def test_nic_nsg_world(world, capsys) -> None:
    """AKS's NSG on the NICs denies 10250: the Azure source reads the node resource group's scale sets and the NSGs
    their NIC configurations name, and the evaluator joins them with the subnets' NSGs."""
    _, doc, probe = check(capsys, world("tunnel-nic-10250-blocked"))
    assert own(doc) == ["TUN004", "TUN004"]
    kubelet = [h for h in probe["hops"] if h["kind"] == "kubelet"]
    assert len(kubelet) == 2 and all("inbound aks-agentpool-12345678-nsg denies it" in h["detail"] for h in kubelet)
    healthy = check(capsys, world("tunnel-healthy"))[2]
    assert all(
        "inbound aks-agentpool-12345678-nsg allows it" in h["detail"] for h in healthy["hops"] if h["kind"] == "kubelet"
    )


def test_without_kubernetes_the_nsg_paths_alone(world, capsys) -> None:
    _, doc, probe = check(capsys, world("tunnel-10250-blocked", kube=False))
    assert own(doc) == ["TUN004"]
    assert hop(probe, "konnectivity-agent")["status"] == "skipped"


def test_without_azure_the_pods_alone(world, capsys) -> None:
    _, doc, probe = check(capsys, world("tunnel-agents-crashloop", azure=False))
    assert own(doc) == ["TUN001", "TUN003", "TUN003"]
    assert hop(probe, "node paths")["status"] == "skipped"


def test_pods_forbidden_is_named(world, capsys) -> None:
    _, doc, probe = check(capsys, world("tunnel-healthy", deny=("list pods",)))
    assert "IP005" in [f["id"] for f in doc["findings"] if f["probe"] == "tunnel"] and own(doc) == ["IP005"]
    assert hop(probe, "konnectivity-agent")["status"] == "skipped"


@pytest.mark.parametrize("name", ["lb-healthy", "lb-pending"])
def test_the_lb_worlds_and_the_demo_cluster_raise_no_tunnel_code(world, capsys, name: str) -> None:
    _, doc, probe = check(capsys, world(name))
    assert own(doc) == [], probe


def test_neither_context_is_skipped(world, capsys) -> None:
    _, _, probe = check(capsys, world("tunnel-healthy", kube=False, azure=False))
    assert probe["status"] == "skipped" and "no Kubernetes context" in probe["reason"]


def test_the_nodes_bootstrap_exit_51_is_explained_by_the_node_path(world, capsys) -> None:
    """state-failed-connect: the last operation failed with CSE exit 51 (cannot connect to the API server); the API
    server subnet's NSG denies 4443 from the VNet. The cluster state's finding names TUN005 as why."""
    rc, doc, _ = check(capsys, world("state-failed-connect", kube=False))
    assert own(doc) == ["TUN005"] and rc == 1
    why = [f for f in doc["findings"] if f["probe"] == "cluster_state" and "TUN005" in f["detail"]]
    assert why and "Here is why:" in why[0]["detail"], [f["detail"] for f in doc["findings"]]
