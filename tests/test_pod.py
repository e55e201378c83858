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
NODE_DNS = ("--dns-policy", "Default")
CUSTOM_SERVER_CODES = {"DNS001", "DNS003", "DNS005", "DNS006", "DNS008", "DNS017"}
"""The pods ask their node's VNet DNS server (the lab world's custom server, judged by dns_chain). A ClusterFirst pod
asks kube-dns: a relay, which dns_chain draws but does not judge (the cluster_dns probe does)."""


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
        if namespace:  # container/rbac.yaml's two: restricted, and aksdiag-host-network for --host-network
            for ns in (spec.DEFAULT_NAMESPACE, spec.HOST_NETWORK_NAMESPACE):
                objects += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                            {"apiVersion": "v1", "kind": "ServiceAccount",
                             "metadata": {"name": "aksdiag", "namespace": ns}}]  # fmt: skip
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
    # the exit code is the cluster_dns probe's to set: why kube-dns answers NXDOMAIN is its finding, not dns_chain's
    _rc, doc, err = run_json(capsys, c.args("--node", GPU, "--output", "json", "--", *DNS_ARGS))
    assert doc["schema"] == "aksdiag.report/v1" and doc["command"] == "pod dns" and doc["target"] == CLUSTER_FQDN
    pod_probe = doc["probes"][0]
    (chain,) = [p for p in doc["probes"] if p["probe"] == "dns_chain"]
    assert pod_probe["probe"] == "pod" and pod_probe["hops"][0]["name"] == GPU
    assert "pool gpu" in pod_probe["hops"][0]["detail"]
    assert chain["hops"][0]["name"] == "pod resolver (dnsPolicy ClusterFirst: CoreDNS)"
    assert "CoreDNS, kube-dns service" in chain["hops"][0]["detail"]
    kube_dns = chain["hops"][1]
    assert kube_dns["kind"] == "coredns" and kube_dns["rcode"] == "NXDOMAIN" and kube_dns["status"] == "fail"
    assert chain["hops"][-1]["kind"] == "endpoint" and chain["hops"][-1]["status"] == "fail", "what the pod gets"
    assert not {f["id"] for f in doc["findings"]} & CUSTOM_SERVER_CODES, "kube-dns is a relay, not a custom server"
    assert "-ComputerName" not in json.dumps(doc["findings"])
    assert f"created aksdiag/aksdiag-{pod_probe['facts']['run_id']} on {GPU}, waiting…" in err
    assert "deleted 1 pod in namespace aksdiag" in err
    assert c.pods() == []
    (created,) = c.created()
    assert created["spec"]["nodeName"] == GPU
    assert c.kubelet.started == [created["metadata"]["name"]]


def test_all_nodes_merges_a_node_by_finding_matrix(cluster, capsys) -> None:
    c = cluster({POOL1[0]: "healthy", POOL1[1]: "healthy", GPU: "no-forwarder", SPOT: "bad-env", WIN: "healthy"})
    rc, doc, err = run_json(capsys, c.args(*NODE_DNS, "--all-nodes", "-o", "json", "--", *DNS_ARGS))
    assert rc == 1, "an error finding on one node outweighs a pod that could not run"
    assert doc["schema"] == "aksdiag.report/v1" and doc["verdict"] == "broken" and doc["command"] == "pod dns"
    (probe,) = doc["probes"]
    assert probe["probe"] == "pod" and probe["status"] == "error"
    rows = {r["node"]: r for r in probe["facts"]["matrix"]["rows"]}
    assert probe["facts"]["matrix"]["codes"] == ["DNS001"]
    assert rows[GPU]["cells"] == {"DNS001": "error"} and rows[GPU]["pool"] == "gpu"
    assert rows[POOL1[0]]["cells"] == {} and rows[POOL1[0]]["state"] == "ran"
    assert rows[SPOT]["state"] == "could not run" and "aksdiag exited 2 without a report" in rows[SPOT]["why"]
    assert "not-an-address" in rows[SPOT]["why"], "the pod's own error line is surfaced"
    assert rows[WIN]["state"] == "skipped" and "windows" in rows[WIN]["why"]
    (finding,) = doc["findings"]
    assert finding["id"] == "DNS001" and finding["detail"].startswith("On 1 of 3 nodes (pool gpu): ")
    assert finding["evidence"]["nodes"] == [GPU] and finding["evidence"]["probe"] == "dns_chain"
    reports = {p["node"]: p["report"] for p in probe["facts"]["pods"]}
    assert reports[GPU]["findings"][0]["id"] == "DNS001" and reports[SPOT] is None
    created = c.created()
    assert sorted(p["spec"]["nodeName"] for p in created) == sorted([*POOL1, GPU, SPOT])
    assert len({p["metadata"]["name"] for p in created}) == 4
    assert c.pods() == [], "every pod of the run is deleted"
    assert "deleted 4 pods" in err and f"{SPOT}: could not run" in err and f"skipping {WIN}" in err


def test_all_nodes_text_and_markdown_show_the_matrix(cluster, capsys) -> None:
    c = cluster({POOL1[0]: "healthy", GPU: "no-forwarder", SPOT: "bad-env"})
    assert main(c.args(*NODE_DNS, "--all-nodes", "--", *DNS_ARGS)) == 1
    out = capsys.readouterr().out
    assert "aksdiag pod dns" in out and "Nodes × findings" in out
    matrix = out.split("Nodes × findings", 1)[1].splitlines()
    assert matrix[1].split() == ["node", "pool", "DNS001"]
    assert matrix[2].split() == [GPU, "gpu", "✘"] and matrix[3].split() == [POOL1[0], "nodepool1", "·"]
    assert matrix[4].startswith(SPOT) and "could not run" in matrix[4]
    assert matrix[5] == "DNS001 on 1 of 2 nodes: pool gpu"
    assert "On 1 of 2 nodes (pool gpu)" in out
    assert main([*c.args(*NODE_DNS, "--all-nodes", "--", *DNS_ARGS), "-o", "markdown"]) == 1
    assert "## Nodes × findings" in capsys.readouterr().out
    assert c.pods() == []


def test_all_nodes_healthy_but_one_pod_failing_is_exit_3(cluster, capsys) -> None:
    c = cluster({POOL1[0]: "healthy", SPOT: "bad-env"})
    rc, doc, _ = run_json(capsys, c.args("--all-nodes", "-o", "json", "--", *DNS_ARGS))
    assert rc == 3 and doc["verdict"] == "ok" and doc["findings"] == []
    assert doc["probes"][0]["status"] == "error" and SPOT in doc["probes"][0]["reason"]
    assert c.pods() == []


def test_pod_spec_is_locked_down_pinned_and_labelled(cluster, capsys) -> None:
    c = cluster({POOL1[0]: "healthy"})
    rc, doc, _ = run_json(capsys, c.args("--timeout", "30", "-o", "json", "--", *DNS_ARGS))
    assert rc == 0 and doc["verdict"] == "ok"
    run_id = doc["probes"][0]["facts"]["run_id"]
    (pod,) = c.created()
    meta, pod_spec = pod["metadata"], pod["spec"]
    assert meta["labels"][spec.MANAGED_BY] == "aksdiag" and meta["labels"][spec.RUN_LABEL] == run_id
    assert meta["name"] == f"aksdiag-{run_id}" and meta["namespace"] == "aksdiag"
    assert pod_spec["nodeName"] == POOL1[0], "without --node: the first Ready node, pinned"
    assert pod_spec["restartPolicy"] == "Never" and pod_spec["activeDeadlineSeconds"] == 30
    assert pod_spec["tolerations"] == [{"operator": "Exists"}]
    assert pod_spec["serviceAccountName"] == "aksdiag" and pod_spec["dnsPolicy"] == "ClusterFirst"
    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    assert pod_spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod_spec["containers"]
    sc = container["securityContext"]
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True and sc["runAsUser"] == 65532 and sc["runAsNonRoot"] is True
    assert container["image"] == IMAGE and container["args"] == [*DNS_ARGS, "--output", "json"]
    assert c.pods() == []


def test_dns_policy_default_tests_the_nodes_vnet_dns(cluster, capsys) -> None:
    c = cluster({GPU: "no-forwarder"})
    rc, doc, _ = run_json(capsys, c.args("--dns-policy", "Default", "-o", "json", "--", *DNS_ARGS))
    assert rc == 1 and {f["id"] for f in doc["findings"]} == {"DNS001"}
    resolver = doc["probes"][1]["hops"][0]
    assert resolver["name"] == "pod resolver (dnsPolicy Default: the node's VNet DNS, no CoreDNS)"
    assert "CoreDNS" not in resolver["detail"] and "custom DNS" in resolver["detail"]
    (pod,) = c.created()
    assert pod["spec"]["dnsPolicy"] == "Default"
    assert {"name": "AKSDIAG_DNS_POLICY", "value": "Default"} in pod["spec"]["containers"][0]["env"]
    _, doc, _ = run_json(capsys, c.args("--host-network", "-o", "json", "--", *DNS_ARGS))
    assert doc["probes"][1]["hops"][1]["kind"] == "coredns", "ClusterFirstWithHostNet: kube-dns, a relay"
    assert not {f["id"] for f in doc["findings"]} & CUSTOM_SERVER_CODES
    host = c.created()[-1]
    assert host["spec"]["hostNetwork"] is True and host["spec"]["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert host["metadata"]["namespace"] == spec.HOST_NETWORK_NAMESPACE, "not in the restricted namespace"
    assert c.pods() == []


def test_image_pull_error_is_surfaced_at_once_and_the_pod_deleted(cluster, capsys) -> None:
    c = cluster({POOL1[0]: "pull-error"})
    started = time.monotonic()
    assert main(c.args("--timeout", "60", "--", *DNS_ARGS)) == 3
    err = capsys.readouterr().err
    assert time.monotonic() - started < 20, "an image pull back-off is not waited out to the deadline"
    assert "could not run: could not start: ImagePullBackOff" in err and "401 Unauthorized" in err
    assert f"check --image {IMAGE}" in err and "Traceback" not in err
    assert c.pods() == [] and len(c.created()) == 1 and c.kubelet.started == []


def test_pod_that_never_starts_times_out_and_is_deleted(cluster, capsys) -> None:
    c = cluster({POOL1[0]: "never-starts"})
    assert main(c.args("--timeout", "1", "--", *DNS_ARGS)) == 3
    err = capsys.readouterr().err
    assert "did not finish within 1 s (still Pending, ContainerCreating)" in err and "raise --timeout" in err
    assert c.pods() == [] and len(c.created()) == 1


def test_ctrl_c_while_waiting_deletes_the_pod(cluster, tmp_path: Path) -> None:
    c = cluster({POOL1[0]: "never-starts"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "aksdiag", *c.args("--timeout", "60", "--", *DNS_ARGS)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "waiting…" in line, line
        assert len(c.pods()) == 1
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "interrupted" in err and "deleted 1 pod" in err, err
    assert "Traceback" not in err
    assert c.pods() == []


def test_interrupt_injected_in_the_watch_deletes_every_pod(cluster, capsys, monkeypatch) -> None:
    from aksdiag.pod import client

    c = cluster()

    async def interrupted(*args: object, **kwargs: object):
        raise KeyboardInterrupt
        yield {}

    monkeypatch.setattr(client.KubeApi, "watch_pods", interrupted)
    assert main(c.args("--all-nodes", "--", *DNS_ARGS)) == 130
    assert "deleted 3 pods" in capsys.readouterr().err
    assert c.pods() == [] and len(c.created()) == 3


@pytest.mark.parametrize(
    ("deny", "words", "created"),
    [
        ("create pods", "cannot create pods in namespace aksdiag", 0),
        ("watch pods", "cannot watch pods in namespace aksdiag", 1),
        ("list nodes", "cannot list nodes", 0),
    ],
)
def test_forbidden_names_the_verb_and_resource(cluster, capsys, deny: str, words: str, created: int) -> None:
    c = cluster({POOL1[0]: "healthy"})
    c.api.world.denied = {tuple(deny.split(" ", 1))}  # type: ignore[assignment]
    assert main(c.args("--", *DNS_ARGS)) == 3
    err = capsys.readouterr().err
    assert words in err and f"grant {deny.split()[0]} on {deny.split()[1]}" in err and "Traceback" not in err
    assert len(err.strip().splitlines()[-1]) > 0 and c.pods() == [] and len(c.created()) == created
    if deny == "list nodes":
        assert "--node" in err


def test_unreadable_log_is_a_pod_that_could_not_report(cluster, capsys) -> None:
    c = cluster({POOL1[0]: "healthy"})
    c.api.world.denied = {("get", "pods/log")}
    assert main(c.args("--", *DNS_ARGS)) == 3
    err = capsys.readouterr().err
    assert "cannot get pods/log in namespace aksdiag" in err and c.pods() == []


def test_missing_namespace_and_service_account_say_to_apply_the_rbac(cluster, capsys) -> None:
    c = cluster({POOL1[0]: "healthy"}, namespace=False)
    assert main(c.args("--", *DNS_ARGS)) == 3
    assert "namespace aksdiag does not exist" in capsys.readouterr().err
    assert main(c.args("--namespace", "default", "--", *DNS_ARGS)) == 3
    err = capsys.readouterr().err
    assert "cannot create pods in namespace default: the service account aksdiag does not exist there" in err
    assert "kubectl apply -f container/rbac.yaml" in err and c.pods() == []


def test_bad_input_is_one_line_and_exit_2(cluster, tmp_path: Path, capsys, monkeypatch) -> None:
    c = cluster({POOL1[0]: "healthy"})
    for args, words in [
        (c.args(), "no command to run in the pod"),
        (c.args("--", "demo"), "`aksdiag demo` cannot run in the pod"),
        (c.args("--", "dns", "x", "--count", "many"), "in the pod's command"),
        (c.args("--", *DNS_ARGS, "--watch", "5"), "--watch cannot run in the one-shot pod"),
        (c.args("--timeout", "0", "--", *DNS_ARGS), "--timeout '0' is out of range"),
        (c.args("--node", "aks-nope", "--", *DNS_ARGS), "there is no node named 'aks-nope'"),
        (c.args("--node", POOL1[0], "--all-nodes", "--", *DNS_ARGS), "not allowed with argument"),
        (["pod", "--kubeconfig", c.kubeconfig, "--", *DNS_ARGS], "no image to run"),
    ]:
        monkeypatch.delenv("AKSDIAG_IMAGE", raising=False)
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert c.created() == []
    assert main(["pod", "--kubeconfig", str(tmp_path / "none"), "--image", IMAGE, "--", *DNS_ARGS]) == 3
    assert "az aks get-credentials" in capsys.readouterr().err


def test_image_from_env_and_output_from_the_pods_args(cluster, capsys, monkeypatch) -> None:
    c = cluster({POOL1[0]: "healthy"})
    monkeypatch.setenv("AKSDIAG_IMAGE", "example.azurecr.io/aksdiag:env")
    rc, doc, _ = run_json(capsys, ["pod", "--kubeconfig", c.kubeconfig, "--", *DNS_ARGS, "--output", "json"])
    assert rc == 0 and doc["verdict"] == "ok"
    (pod,) = c.created()
    assert pod["spec"]["containers"][0]["image"] == "example.azurecr.io/aksdiag:env"
    assert pod["spec"]["containers"][0]["args"].count("--output") == 1


def test_cleanup_removes_leftovers_of_earlier_runs_only(cluster, capsys) -> None:
    def leftover(name: str, namespace: str) -> dict:
        body = kubeworlds.pod(name, namespace, POOL1[0], "10.244.0.9", phase="Failed")
        body["metadata"]["labels"] = {spec.MANAGED_BY: "aksdiag", spec.RUN_LABEL: "0ld000"}
        return body

    unrelated = kubeworlds.pod("web-0", "default", POOL1[0], "10.244.0.10")
    c = cluster({POOL1[0]: "healthy"}, extra=[leftover("aksdiag-0ld000", "aksdiag"),
                                               leftover("aksdiag-0ld000-1", "default"), unrelated])  # fmt: skip
    assert len(c.pods()) == 2
    assert main(["pod", "--kubeconfig", c.kubeconfig, "--cleanup"]) == 0
    err = capsys.readouterr().err
    assert "deleting aksdiag/aksdiag-0ld000 (run 0ld000)" in err and "deleting default/aksdiag-0ld000-1" in err
    assert c.pods() == [] and ("default", "web-0") in c.api.world.objects[BY_KIND["Pod"]]
    assert main(["pod", "--kubeconfig", c.kubeconfig, "--cleanup"]) == 0
    assert "no pods of earlier runs left" in capsys.readouterr().err


def test_find_report_skips_stderr_noise() -> None:
    from aksdiag.pod.run import find_report

    report = {"schema": "aksdiag.report/v1", "command": "dns", "target": "x", "probes": [], "findings": []}
    log = 'warning: {not json}\n{"other": 1}\n' + json.dumps(report, indent=2) + "\naksdiag: done\n"
    assert find_report(log) == report
    assert find_report("aksdiag: error: no such thing\n") is None


# ---------------------------------------------------------------- the fake API server's watch, by the official client


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[FakeKubeApi, object]]:
    from kubernetes import client, config

    world = KubeWorld()
    world.add_all([kubeworlds.pod(f"p-{i}", "default", POOL1[0], f"10.244.0.{i + 2}") for i in range(2)])
    with FakeKubeApi(world, tmp_path / "pki") as api:
        yield api, client.CoreV1Api(config.new_client_from_config(str(api.kubeconfig(tmp_path / "kc"))))


def test_official_client_watch_sees_changes_from_a_resource_version(watched) -> None:
    from kubernetes import watch

    api, core = watched
    pods = core.list_namespaced_pod("default", label_selector="app=p")
    assert [p.metadata.name for p in pods.items] == ["p-0", "p-1"]
    pod_resource = BY_KIND["Pod"]

    def change() -> None:
        time.sleep(0.05)
        api.world.update(pod_resource, ("default", "p-0"), lambda p: p["status"].update(phase="Succeeded"))
        api.world.update(pod_resource, ("default", "p-1"), lambda p: p["metadata"]["labels"].update(app="other"))
        api.world.remove(pod_resource, ("default", "p-0"))

    import threading

    threading.Thread(target=change).start()
    seen = []
    for event in watch.Watch().stream(core.list_namespaced_pod, "default", label_selector="app=p",
                                      resource_version=pods.metadata.resource_version, timeout_seconds=1):  # fmt: skip
        seen.append((event["type"], event["object"].metadata.name, event["object"].status.phase))
        if len(seen) == 3:
            break
    assert seen == [("MODIFIED", "p-0", "Succeeded"), ("DELETED", "p-1", "Running"), ("DELETED", "p-0", "Succeeded")]
    assert ("GET", next(p for m, p in api.requests if "watch=true" in p)) in api.requests


def test_watch_without_version_lists_first_and_ends_at_its_timeout(watched) -> None:
    from kubernetes import watch

    _, core = watched
    started = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_pod, "default", timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "p-0"), ("ADDED", "p-1")]
    assert 0.9 < time.monotonic() - started < 5


def test_watch_from_a_compacted_version_is_410_gone(watched) -> None:
    from collections import deque

    from kubernetes import watch
    from kubernetes.client.exceptions import ApiException

    api, core = watched
    api.world.events = deque(api.world.events, maxlen=2)
    for i in range(4):
        api.world.add(kubeworlds.pod(f"q-{i}", "default", POOL1[0], f"10.244.0.{i + 10}"))
    with pytest.raises(ApiException) as gone:
        list(watch.Watch().stream(core.list_namespaced_pod, "default", resource_version="1", timeout_seconds=1))
    assert gone.value.status == 410 and "too old resource version" in str(gone.value.reason)


def test_every_request_of_a_run_is_granted_by_the_runner_role(cluster, capsys) -> None:
    import yaml

    from aksdiag.lab.kube import _route

    docs = list(yaml.safe_load_all((Path(__file__).parents[1] / "container" / "rbac.yaml").read_text()))
    runner = [
        d for d in docs if d["kind"] in ("Role", "ClusterRole") and d["metadata"]["name"].startswith("aksdiag-runner")
    ]
    granted = {(v, r) for d in runner for rule in d["rules"] for v in rule["verbs"] for r in rule["resources"]}
    c = cluster({POOL1[0]: "healthy", GPU: "no-forwarder"})
    assert main(c.args(*NODE_DNS, "--all-nodes", "--", *DNS_ARGS)) == 1
    assert main(c.args(*NODE_DNS, "--node", GPU, "--", *DNS_ARGS)) == 1
    assert main(["pod", "--kubeconfig", c.kubeconfig, "--namespace", "aksdiag", "--cleanup"]) == 0
    capsys.readouterr()
    used = set()
    runner_requests = [(method, path) for user, method, path in c.api.requests_by if user == ""]
    pods_own = [path for user, _method, path in c.api.requests_by if user.startswith("system:serviceaccount:")]
    assert pods_own, "the pods read the cluster as their own service account (cluster_dns), not as the runner"
    for method, path in runner_requests:
        resource, _, name, sub = _route([p for p in path.split("?")[0].split("/") if p])  # type: ignore[misc]
        verb = {"POST": "create", "DELETE": "delete"}.get(method) or (
            "get" if name else "watch" if "watch=true" in path else "list"
        )
        used.add((verb, f"{resource.plural}/{sub}" if sub else resource.plural))
    assert used <= granted, "the runner role grants every request `aksdiag pod` makes"
    assert granted == used, "and nothing more (kubectl users of pod.yaml grant themselves get on pods)"
