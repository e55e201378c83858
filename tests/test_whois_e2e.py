"""aksdiag whois end to end: the real Kubernetes client against the fake API server (the `status.podIP` field
selector, paging, RBAC 403s, the NodeNetworkConfig CRD) and the real Azure SDK against the fake ARM (the second
round that reads the scale set's NICs). Each code's world is judged from facts in tests/probes/test_whois.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from aksdiag.cli import main
from aksdiag.lab import kubeworlds
from aksdiag.lab.kube import FakeKubeApi, KubeWorld


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[object]:
    servers: list[FakeKubeApi] = []

    def start(plugin: str, extra: list[dict] | None = None, deny: list[str] | None = None) -> str:
        world = KubeWorld()
        world.add_all([*kubeworlds.build(plugin), *(extra or [])])
        world.denied = {tuple(d.split(" ", 1)) for d in deny or []}  # type: ignore[misc]
        server = FakeKubeApi(world, tmp_path / f"pki-{len(servers)}")
        servers.append(server)
        return str(server.kubeconfig(tmp_path / f"kubeconfig-{len(servers)}"))

    yield start
    for s in servers:
        s.close()


def whois(capsys: pytest.CaptureFixture[str], kubeconfig: str, ip: str) -> tuple[int, dict]:
    rc = main(["whois", ip, "--kubeconfig", kubeconfig, "--output", "json"])
    return rc, json.loads(capsys.readouterr().out)


def kinds(doc: dict) -> list[tuple[str, str]]:
    return [(h["kind"], h["name"]) for h in doc["probes"][0]["hops"]]


def ids(doc: dict) -> set[str]:
    return {f["id"] for f in doc["findings"]}


NODE0 = "aks-nodepool1-12345678-vmss000000"
NODE1 = "aks-nodepool1-12345678-vmss000001"


@pytest.mark.parametrize(
    ("plugin", "pod_ip", "free_ip", "free_code"),
    [
        ("kubenet", "10.244.1.3", "10.244.1.200", "IP001"),
        ("cilium", "fd00:10:244:1::a", "fd00:10:244:1::ff", "IP001"),  # an IPv6 address in the field selector
        ("dynamic", "10.240.0.37", "10.240.0.40", "IP001"),  # the NodeNetworkConfig CRD is listed
    ],
)
def test_each_plugin(cluster, capsys, plugin: str, pod_ip: str, free_ip: str, free_code: str) -> None:
    kubeconfig = cluster(plugin)
    rc, doc = whois(capsys, kubeconfig, pod_ip)
    assert rc == 0 and ids(doc) == set()
    pod_hop = doc["probes"][0]["hops"][0]
    assert pod_hop["kind"] == "pod" and f"on node {NODE1}" in pod_hop["detail"] and "ReplicaSet" in pod_hop["detail"]
    rc, doc = whois(capsys, kubeconfig, free_ip)
    assert ids(doc) == {free_code} and rc == 0
    assert NODE1 in doc["findings"][0]["detail"]
    if plugin == "azure-cni":
        assert "a guess from Azure CNI's allocation layout: 10.240.0.35 + 30 max pods" in doc["findings"][0]["detail"]


def test_rbac_403_on_pods_is_named_and_the_rest_still_answers(cluster, capsys) -> None:
    _, doc = whois(capsys, cluster("kubenet", deny=["list pods"]), "10.240.0.35")
    assert ids(doc) == {"IP005"}
    assert "pods" in doc["findings"][0]["detail"] and "forbidden" in doc["findings"][0]["detail"]
    assert ("node", NODE1) in kinds(doc), "nodes were still read"
    _, doc = whois(capsys, cluster("kubenet", deny=["list pods"]), "10.244.1.200")
    assert ids(doc) == {"IP005"}, "no IP001 guessed while pods could not be read"


def test_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["whois", "10.0.0.300"]) == 2
    assert main(["whois", "pod-name"]) == 2
    missing = tmp_path / "nope"
    assert main(["whois", "10.0.0.1", "--kubeconfig", str(missing)]) == 3
    err = capsys.readouterr().err
    assert "az aks get-credentials" in err and "Traceback" not in err


def test_world_files_load_like_the_api(tmp_path: Path) -> None:
    world_dir = tmp_path / "w"
    world_dir.mkdir()
    (world_dir / "cluster.yaml").write_text(yaml.safe_dump_all(kubeworlds.build("dynamic")))
    world = KubeWorld.load(world_dir)
    assert sum(len(v) for v in world.objects.values()) == len(kubeworlds.build("dynamic"))


@pytest.fixture
def arm_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    from aksdiag.lab import arm, armworld

    w = arm.ArmWorld()
    for body in armworld.build("healthy"):
        w.add(body)
    with arm.FakeArm(w, tmp_path / "arm") as fake:
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        yield ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]
        assert fake.writes() == []


@pytest.mark.parametrize(
    ("ip", "kind", "name", "words"),
    [
        ("10.224.0.4", "private-endpoint", "kube-apiserver", "the API server's private endpoint"),
        ("20.41.65.9", "lb-frontend", "kubernetes/a1b2c3d4e5f6", "a public frontend of load balancer kubernetes"),
    ],
)
def test_azure_owners(cluster, arm_cluster, capsys, ip: str, kind: str, name: str, words: str) -> None:
    rc = main(["whois", ip, "--kubeconfig", cluster("kubenet"), *arm_cluster, "--output", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and ids(doc) == set(), doc["findings"]
    (hop,) = doc["probes"][0]["hops"]
    assert (hop["kind"], hop["name"]) == (kind, name) and words in hop["detail"]


def test_classic_azure_cni_reads_the_node_nics_with_azure_context(cluster, arm_cluster, capsys) -> None:
    rc = main(["whois", "10.240.0.40", "--kubeconfig", cluster("azure-cni"), *arm_cluster, "--output", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and ids(doc) == {"IP001"}
    detail = doc["findings"][0]["detail"]
    assert NODE1 in detail and "pre-allocated on the node's NIC as ipconfig6" in detail and "guess" not in detail
