"""aksdiag pod end to end: the real CLI against the fake API server over HTTPS, with a simulated kubelet that runs
the pods' `aksdiag` for real against lab DNS worlds on loopback (one healthy, one without the forwarder), and a
node per way a pod can fail: aksdiag refusing its environment (exit 2), an image it cannot pull, a container that
never starts. After every run the fake API server is asked: no pod of the run may remain.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aksdiag.cli import main
from aksdiag.lab import kubeworlds
from aksdiag.lab.kube import BY_KIND, FakeKubeApi, KubeWorld
from aksdiag.lab.kubelet import NodeBehaviour, SimulatedKubelet
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP
from aksdiag.pod import spec

IMAGE = "aksdiagacr.azurecr.io/aksdiag:test"
POOL1 = ["aks-nodepool1-12345678-vmss000000", "aks-nodepool1-12345678-vmss000001"]
GPU = "aks-gpu-87654321-vmss000000"
SPOT = "aks-spot-11112222-vmss000000"
WIN = "akswin000000"
DNS_ARGS = ["dns", CLUSTER_FQDN, "--expect", ENDPOINT_IP, "--timeout", "1"]


def node(name: str, index: int, pool: str, os_name: str = "linux", ready: bool = True) -> dict:
    body = kubeworlds.node(name, f"10.240.0.{4 + index}", [], index)
    body["metadata"]["labels"] = {"kubernetes.azure.com/agentpool": pool, "kubernetes.io/os": os_name}
    body["status"]["conditions"] = [{"type": "Ready", "status": "True" if ready else "False",
                                     "reason": "KubeletReady" if ready else "KubeletNotReady"}]  # fmt: skip
    if pool in ("gpu", "spot"):
        body["spec"]["taints"] = [{"key": f"sku={pool}", "effect": "NoSchedule"}]
    return body


@dataclass
class Cluster:
    api: FakeKubeApi
    kubelet: SimulatedKubelet
    kubeconfig: str

    def args(self, *extra: str) -> list[str]:
        return ["pod", "--kubeconfig", self.kubeconfig, "--image", IMAGE, *extra]

    def pods(self) -> list[dict]:
        """What the API server holds now: every pod aksdiag made, of any run."""
        pods = self.api.world.objects[BY_KIND["Pod"]].values()
        return [p for p in pods if (p["metadata"].get("labels") or {}).get(spec.MANAGED_BY) == "aksdiag"]

    def created(self) -> list[dict]:
        """Every pod created through the API, in order (from the server's change log)."""
        return [e.object for e in self.api.world.events if e.type == "ADDED" and e.resource is BY_KIND["Pod"]]


@pytest.fixture
def cluster(tmp_path: Path, start_world) -> Iterator[object]:
    started: list[tuple[FakeKubeApi, SimulatedKubelet]] = []

    def start(behaviours: dict[str, str] | None = None, namespace: bool = True, extra: list[dict] | None = None):
        healthy, broken = start_world("healthy"), start_world("no-forwarder")

        def dns(world) -> NodeBehaviour:
            custom = world.endpoints["custom"]
            return NodeBehaviour(world.resolv_conf, cluster_dns=custom, env={"AKSDIAG_AZURE_DNS": str(world.azure_dns)})

        kinds = behaviours or {POOL1[0]: "healthy", POOL1[1]: "healthy", GPU: "no-forwarder"}
        nodes, objects = {}, []
        for i, (name, kind) in enumerate(kinds.items()):
            pool = "gpu" if name == GPU else "spot" if name == SPOT else "win" if name == WIN else "nodepool1"
            objects.append(node(name, i, pool, "windows" if name == WIN else "linux", ready=kind != "not-ready"))
            behaviour = dns(broken if kind == "no-forwarder" else healthy)
            if kind == "bad-env":
                behaviour.env["AKSDIAG_AZURE_DNS"] = "not-an-address"
            elif kind == "pull-error":
                behaviour = NodeBehaviour(behaviour.node_resolv_conf, image_pull_error="401 Unauthorized")
            elif kind == "never-starts":
                behaviour = NodeBehaviour(behaviour.node_resolv_conf, never_starts=True)
            nodes[name] = behaviour
        if namespace:
            objects += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "aksdiag"}},
                        {"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": "aksdiag", "namespace": "aksdiag"}}]  # fmt: skip
        world = KubeWorld()
        world.add_all([*objects, *(extra or [])])
        api = FakeKubeApi(world, tmp_path / f"pki-{len(started)}")
        kubelet = SimulatedKubelet(api, nodes, tmp_path / f"kubelet-{len(started)}")
        started.append((api, kubelet))
        return Cluster(api, kubelet, str(api.kubeconfig(tmp_path / f"kubeconfig-{len(started)}")))

    yield start
    for api, kubelet in started:
        kubelet.close()
        api.close()


def run_json(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict, str]:
    rc = main([*args])
    captured = capsys.readouterr()
    assert captured.out.startswith("{"), captured.err
    return rc, json.loads(captured.out), captured.err


def test_one_pod_runs_the_probe_in_cluster_and_is_deleted(cluster, capsys) -> None:
    c = cluster()
    rc, doc, err = run_json(capsys, c.args("--node", GPU, "--output", "json", "--", *DNS_ARGS))
    assert rc == 1, err
    assert doc["schema"] == "aksdiag.report/v1" and doc["command"] == "pod dns" and doc["target"] == CLUSTER_FQDN
    assert {f["id"] for f in doc["findings"]} == {"DNS001"}
    pod_probe, chain = doc["probes"][0], doc["probes"][1]
    assert pod_probe["probe"] == "pod" and pod_probe["hops"][0]["name"] == GPU
    assert "pool gpu" in pod_probe["hops"][0]["detail"]
    assert chain["hops"][0]["name"] == "pod resolver (dnsPolicy ClusterFirst: CoreDNS)"
    assert "CoreDNS, kube-dns service" in chain["hops"][0]["detail"]
    assert f"created aksdiag/aksdiag-{pod_probe['facts']['run_id']} on {GPU}, waiting…" in err
    assert "deleted 1 pod in namespace aksdiag" in err
    assert c.pods() == []
    (created,) = c.created()
    assert created["spec"]["nodeName"] == GPU
    assert c.kubelet.started == [created["metadata"]["name"]]
