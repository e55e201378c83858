"""Fault corpus, class 3 (issue 12): nothing leaks — no pod left in the cluster, no secret copied into a report, no
credential sent in cleartext or to another host, no identifier kept by --redact, no temporary directory left.

Each case runs the real thing on loopback: a real `aksdiag` subprocess and real signals against the fake API server
and the simulated kubelet; real exec plugins; a plain-HTTP server that records what it was sent; the fake ARM with
the real Azure SDK clients; the lab worlds' facts through the redaction.
"""

from __future__ import annotations

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
from aksdiag.pod import spec

IMAGE = "aksdiagacr.azurecr.io/aksdiag:test"
NODE = "aks-nodepool1-12345678-vmss000000"
DNS_ARGS = ["dns", "aks-x.privatelink.koreacentral.azmk8s.io", "--timeout", "1"]
BOUND = 30.0
"""Seconds any one case may take, generously: a bound on hanging, not a benchmark."""


# ---------------------------------------------------------------------------------------------------------------
# aksdiag pod: signals and refused deletes leave no pod behind, silently
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    api: FakeKubeApi
    kubeconfig: str

    def args(self, *extra: str) -> list[str]:
        return ["pod", "--kubeconfig", self.kubeconfig, "--image", IMAGE, *extra]

    def pods(self) -> list[str]:
        """The names of the pods aksdiag made that the API server still holds."""
        pods = self.api.world.objects[BY_KIND["Pod"]].values()
        return [p["metadata"]["name"] for p in pods if (p["metadata"].get("labels") or {}).get(spec.MANAGED_BY)]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """One Linux node whose runtime never starts a container: a run waits until it is ended."""
    body = kubeworlds.node(NODE, "10.240.0.4", [], 0)
    body["metadata"]["labels"] = {"kubernetes.azure.com/agentpool": "nodepool1", "kubernetes.io/os": "linux"}
    body["status"]["conditions"] = [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]
    world = KubeWorld()
    world.add_all([body, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "aksdiag"}},
                   {"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "aksdiag", "namespace": "aksdiag"}}])  # fmt: skip
    resolv = tmp_path / "node-resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    api = FakeKubeApi(world, tmp_path / "pki")
    kubelet = SimulatedKubelet(api, {NODE: NodeBehaviour(resolv, never_starts=True)}, tmp_path / "kubelet")
    try:
        yield Cluster(api, str(api.kubeconfig(tmp_path / "kubeconfig")))
    finally:
        kubelet.close()
        api.close()


def _start_waiting(c: Cluster) -> subprocess.Popen[str]:
    """A real `aksdiag pod` whose pod exists and is being waited for."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aksdiag", *c.args("--timeout", "120", "--", *DNS_ARGS)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "waiting…" in line, line
    assert len(c.pods()) == 1
    return proc


@pytest.mark.parametrize(
    ("sent", "rc", "said"),
    [
        (signal.SIGTERM, 143, "terminated by SIGTERM"),
        (signal.SIGHUP, 129, "terminated by SIGHUP"),
        (signal.SIGINT, 130, "interrupted"),
    ],
    ids=["SIGTERM", "SIGHUP", "SIGINT"],
)
def test_a_signal_deletes_the_runs_pod_then_exits_128_plus_it(cluster: Cluster, sent: int, rc: int, said: str) -> None:
    proc = _start_waiting(cluster)
    started = time.monotonic()
    try:
        proc.send_signal(sent)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    assert proc.returncode == rc, err
    assert said in err and "deleted 1 pod" in err and "Traceback" not in err, err
    assert time.monotonic() - started < BOUND
    assert cluster.pods() == []


def test_a_second_sigterm_does_not_cut_the_delete_short(cluster: Cluster) -> None:
    proc = _start_waiting(cluster)
    try:
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    assert proc.returncode == 143 and "Traceback" not in err, err
    assert cluster.pods() == []


def test_a_refused_delete_is_exit_3_naming_the_pod_and_how_to_remove_it(cluster: Cluster) -> None:
    proc = _start_waiting(cluster)
    cluster.api.world.denied = {("delete", "pods")}
    try:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    (left,) = cluster.pods()
    assert proc.returncode == 143, err  # the signal still says how the run ended; the pod left is named
    assert f"could not delete aksdiag/{left}" in err and "cannot delete pods" in err, err


def test_a_refused_delete_after_a_finished_run_is_exit_3_not_0(cluster: Cluster, capsys) -> None:
    cluster.api.world.denied = {("delete", "pods")}
    assert main(cluster.args("--timeout", "1", "--", *DNS_ARGS)) == 3
    err = capsys.readouterr().err
    (left,) = cluster.pods()
    last = err.strip().splitlines()[-1]
    assert f"could not delete 1 pod of this run in namespace aksdiag: {left}" in last, err
    assert "aksdiag pod --cleanup --namespace aksdiag" in last and f"kubectl delete pod -n aksdiag {left}" in last


def test_cleanup_that_cannot_delete_is_exit_3(cluster: Cluster, capsys) -> None:
    cluster.api.world.denied = {("delete", "pods")}
    assert main(cluster.args("--timeout", "1", "--", *DNS_ARGS)) == 3
    (left,) = cluster.pods()
    capsys.readouterr()
    assert main(["pod", "--kubeconfig", cluster.kubeconfig, "--cleanup"]) == 3
    assert f"kubectl delete pod -n aksdiag {left}" in capsys.readouterr().err
    cluster.api.world.denied = set()
    assert main(["pod", "--kubeconfig", cluster.kubeconfig, "--cleanup"]) == 0
    assert cluster.pods() == []
