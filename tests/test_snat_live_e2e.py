"""SNAT, live, end to end: `aksdiag lb` and `aksdiag check` with the real Azure SDK pipeline against the fake ARM,
which serves the snat-… worlds' Azure Monitor metrics documents (filtered by `metricnames`, as Azure Monitor does),
and the real Kubernetes client against the fake API server (the nodes behind the backend IPs). Each world is broken
one way; the healthy ones and the worlds without metrics raise nothing new. Every request is a GET."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from aksdiag.cli import main
from aksdiag.lab import arm, armworld
from aksdiag.lab.armworld import snat as snatworld
from aksdiag.lab.kube import FakeKubeApi, KubeWorld

AZURE = ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]
LIVE = {"LB007", "LB008", "LB009", "LB010"}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """world(name, kube=True) → (the fake ARM, the CLI's context flags for that world)."""
    started: list[object] = []

    def start(name: str, kube: bool = True) -> tuple[arm.FakeArm, list[str]]:
        w = arm.ArmWorld()
        for body in armworld.build(name):
            w.add(body)
        w.faults = armworld.faults(name)
        fake = arm.FakeArm(w, tmp_path / "arm")
        started.append(fake)
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
        if not kube:
            return fake, AZURE
        kw = KubeWorld()
        kw.add_all(snatworld.kube(name) if name.startswith("snat-") else [])
        server = FakeKubeApi(kw, tmp_path / "pki")
        started.append(server)
        return fake, [*AZURE, "--kubeconfig", str(server.kubeconfig(tmp_path / "kubeconfig"))]

    yield start
    for s in started:
        if isinstance(s, arm.FakeArm):
            assert {r.method for r in s.requests} == {"GET"}, "aksdiag must only read from Azure"
        s.close()  # type: ignore[attr-defined]


def run(capsys: pytest.CaptureFixture[str], args: list[str], command: str = "lb") -> tuple[int, dict]:
    rc = main([command, *args, "--output", "json"])
    return rc, json.loads(capsys.readouterr().out)


def lb_probe(doc: dict) -> dict:
    return next(p for p in doc["probes"] if p["probe"] == "lb")


def ids(doc: dict) -> list[str]:
    return sorted(f["id"] for f in doc["findings"] if f["probe"] == "lb")


def metrics_hops(doc: dict) -> list[dict]:
    return [h for h in lb_probe(doc)["hops"] if h["kind"] == "metrics"]


def table(doc: dict, title: str) -> list[dict[str, str]]:
    (t,) = [t for t in lb_probe(doc)["tables"] if t["title"] == title]
    return [dict(zip(t["columns"], row, strict=True)) for row in t["rows"]]


def metrics_requests(fake: arm.FakeArm) -> list[dict[str, list[str]]]:
    return [
        parse_qs(r.query) for r in fake.requests if r.path.lower().endswith("/providers/microsoft.insights/metrics")
    ]


def test_healthy_metrics_raise_nothing_and_show_every_node(world, capsys) -> None:
    fake, args = world("snat-healthy")
    rc, doc = run(capsys, args)
    assert rc == 0 and ids(doc) == [], doc["findings"]
    (hop,) = metrics_hops(doc)
    assert (
        hop["status"] == "ok"
        and "busiest 10.224.0.7 (aks-nodepool1-12345678-vmss000003): 31% of 1,024" in hop["detail"]
    )
    rows = [(r["address"], r["node"], r["ports allocated"], r["failed connections"])
            for r in table(doc, "SNAT use, last hour")]  # fmt: skip
    assert len(rows) == 4 and rows[0] == ("10.224.0.7", "aks-nodepool1-12345678-vmss000003", "1,024", "0")
    queries = metrics_requests(fake)
    assert len(queries) == 2, "ports and failed connections: two GETs of the one load balancer's metrics"
    for q in queries:
        assert q["api-version"] == ["2023-10-01"] and q["interval"] == ["PT1M"]
        start, end = q["timespan"][0].split("/")
        assert start.endswith("Z") and end.endswith("Z") and start < end
    filters = sorted(q["$filter"][0] for q in queries)
    assert filters == ["BackendIPAddress eq '*'", "BackendIPAddress eq '*' and ConnectionState eq 'Failed'"]


def test_exhausted_node_is_named_with_its_share_failures_and_the_capacity_model(world, capsys) -> None:
    _, args = world("snat-exhausted")
    rc, doc = run(capsys, args)
    assert rc == 1 and ids(doc) == ["LB007"], doc["findings"]
    (f,) = [f for f in doc["findings"] if f["id"] == "LB007"]
    assert "node 10.224.0.7 (aks-nodepool1-12345678-vmss000003) used 98% of its 1,024 SNAT ports" in f["detail"]
    assert "1,204 failed connections in the last hour (most, 486, at 14:20 UTC)" in f["detail"]
    assert (
        "The capacity model: 1,024 ports per node (Azure's default by pool size) on 1 IP(s) fit 1000 nodes"
        in f["detail"]
    )
    assert f["command"].endswith("--load-balancer-outbound-ports 2048 --load-balancer-managed-outbound-ip-count 1")
    assert f["evidence"]["backend"]["failed"] == 1204 and f["evidence"]["node_name"].endswith("vmss000003")
    (hop,) = metrics_hops(doc)
    assert hop["status"] == "fail" and f["hop"] == hop["index"]


def test_without_kubernetes_the_node_is_its_address(world, capsys) -> None:
    _, args = world("snat-exhausted", kube=False)
    rc, doc = run(capsys, args)
    assert rc == 1 and ids(doc) == ["LB007"]
    assert "node 10.224.0.7 used 98%" in doc["findings"][0]["detail"]


def test_a_node_close_to_its_ports_is_a_warning(world, capsys) -> None:
    _, args = world("snat-near")
    rc, doc = run(capsys, args)
    assert rc == 0 and ids(doc) == ["LB008"]
    assert "node 10.224.0.6 (aks-nodepool1-12345678-vmss000002) used 85% of its 1,024" in doc["findings"][0]["detail"]


@pytest.mark.parametrize(("name", "expected"), [("snat-nat-healthy", []), ("snat-nat-failed", ["LB009"]),
                                                 ("snat-nat-drops", ["LB010"])])  # fmt: skip
def test_nat_gateway_on_the_node_subnet(world, capsys, name: str, expected: list[str]) -> None:
    fake, args = world(name)
    rc, doc = run(capsys, args)
    assert ids(doc) == expected, doc["findings"]
    assert rc == (1 if "LB009" in expected else 0)
    (hop,) = metrics_hops(doc)
    assert hop["name"] == "ng-aks-snat" and hop["server"] == "NAT gateway"
    assert hop["status"] == {"snat-nat-healthy": "ok", "snat-nat-failed": "fail", "snat-nat-drops": "warn"}[name]
    (row,) = table(doc, "NAT gateways, last hour")
    if name == "snat-nat-failed":
        f = doc["findings"][0]
        assert "3,150 failed SNAT connections in the last hour (most, 820, at 14:20 UTC)" in f["detail"]
        assert "1 public IP(s) give 64,512 ports" in f["detail"] and row["failed SNAT connections"] == "3,150"
    if name == "snat-nat-drops":
        assert (
            "240 packets dropped in the last hour (most, 90, at 14:05 UTC); idle timeout 4 min"
            in doc["findings"][0]["detail"]
        )
    assert all(
        "/loadbalancers/" not in r.path.lower() for r in fake.requests if "insights/metrics" in r.path.lower()
    ), "no outbound rule on the load balancer: its metrics are not read"


@pytest.mark.parametrize("name", ["snat-metrics-denied", "lb-healthy"])
def test_metrics_refused_or_absent_are_a_quiet_note(world, capsys, name: str) -> None:
    fake, args = world(name, kube=name.startswith("snat-"))
    rc, doc = run(capsys, args)
    assert rc == 0 and not set(ids(doc)) & LIVE and lb_probe(doc)["status"] == "ok", doc["findings"]
    (hop,) = metrics_hops(doc)
    assert hop["status"] == "skipped" and hop["detail"].startswith("Azure Monitor metrics not available: ")
    if name == "snat-metrics-denied":
        assert "403 AuthorizationFailed" in hop["detail"] and "Monitoring Reader" in hop["detail"]
    else:  # the fake ARM answers an empty list at a path it holds nothing for
        assert hop["detail"].endswith("the answer held none of the metrics asked for")
    assert metrics_requests(fake), "it did ask"


def test_check_runs_the_metrics_with_the_rest(world, capsys) -> None:
    _, args = world("snat-exhausted")
    rc, doc = run(capsys, args, command="check")
    assert rc == 1 and "LB007" in ids(doc)
    assert lb_probe(doc)["status"] == "fail"
