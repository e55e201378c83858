"""aksdiag lb end to end: the real Azure SDK against the fake ARM and the real HTTP client against the fake
Kubernetes API (aksdiag.lab.lbworld), for what only the real path shows: the reads, the Events field selector,
RBAC and ARM refusals, the renderers and the command line. Each code's broken world is judged from facts in
tests/probes/test_lb.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksdiag.cli import main
from aksdiag.lab import arm, armworld, lbworld
from aksdiag.lab.kube import FakeKubeApi, KubeWorld

AZURE = ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]


@pytest.fixture
def lb_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """lb_world(name, kube=True, deny=(), faults=None) → the CLI's context flags for that world."""
    started: list[object] = []

    def start(name: str, kube: bool = True, deny: tuple[str, ...] = (), faults: dict | None = None) -> list[str]:
        w = arm.ArmWorld()
        for body in armworld.build(name):
            w.add(body)
        w.faults = faults or {}
        fake = arm.FakeArm(w, tmp_path / "arm")
        started.append(fake)
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
        if not kube:
            return AZURE
        kw = KubeWorld()
        kw.add_all(lbworld.kube(name))
        kw.denied = {tuple(d.split(" ", 1)) for d in deny}  # type: ignore[misc]
        server = FakeKubeApi(kw, tmp_path / "pki")
        started.append(server)
        return [*AZURE, "--kubeconfig", str(server.kubeconfig(tmp_path / "kubeconfig"))]

    yield start
    for s in started:
        if isinstance(s, arm.FakeArm):
            assert s.writes() == [], "aksdiag must only read from Azure"
        s.close()  # type: ignore[attr-defined]


def lb(capsys: pytest.CaptureFixture[str], args: list[str], output: str = "json") -> tuple[int, dict | str]:
    rc = main(["lb", *args, "--output", output])
    out = capsys.readouterr().out
    return rc, json.loads(out) if output == "json" else out


def ids(doc: dict) -> list[str]:
    return sorted(f["id"] for f in doc["findings"])


def table(doc: dict, title: str) -> list[dict[str, str]]:
    (t,) = [t for t in doc["probes"][0]["tables"] if t["title"] == title]
    return [dict(zip(t["columns"], row, strict=True)) for row in t["rows"]]


def test_healthy_cluster_raises_nothing_and_maps_every_frontend(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-healthy"))
    assert rc == 0 and ids(doc) == [], doc["findings"]
    frontends = table(doc, "Frontends")
    owners = {f["address"]: f["owner"] for f in frontends}
    assert owners == {"20.41.66.10": "outbound (SNAT)", "10.224.0.200": "default/web", "10.224.0.201": "default/api"}
    services = {h["name"]: h for h in doc["probes"][0]["hops"] if h["kind"] == "service"}
    assert services["default/api"]["answers"] == ["10.224.0.201"] and "Local" in services["default/api"]["detail"]
    snat = table(doc, "SNAT capacity")
    assert [(r["when"], r["nodes"], r["ports per node"], r["fits"]) for r in snat] == [
        ("now", "3", "1,024", "yes"), ("upgrade", "4", "1,024", "yes"), ("peak", "4", "1,024", "yes"),
    ]  # fmt: skip
    pools = {(r["load balancer"], r["pool"]): r["members"] for r in table(doc, "Backend pools")}
    assert pools == {("kubernetes", "kubernetes"): "3", ("kubernetes", "aksOutboundBackendPool"): "3",
                     ("kubernetes-internal", "kubernetes"): "3"}  # fmt: skip


def test_pending_service_names_the_missing_role(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-pending"))
    assert rc == 1 and ids(doc) == ["LB004"]
    (f,) = doc["findings"]
    assert "default/payments has no ingress address" in f["detail"]
    assert "AuthorizationFailed" in f["detail"] and "Microsoft.Network/virtualNetworks/subnets/read" in f["detail"]
    assert "Network Contributor on snet-aks in vnet-aks" in f["remediation"]
    assert f["command"].startswith("az role assignment create --assignee-object-id ")
    assert f["command"].endswith(f'--role "Network Contributor" --scope {armworld.AKS_SUBNET}')


def test_pending_service_without_events_says_so(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-pending", deny=("list events",)))
    assert rc == 1 and ids(doc) == ["LB004"]
    assert "could not be read (403" in doc["findings"][0]["detail"]
    assert doc["findings"][0]["command"] == "kubectl -n default describe service payments"


def test_without_kubernetes_the_azure_half_still_runs(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-explicit-capped", kube=False))
    assert rc == 1 and ids(doc) == ["LB001"]
    hops = {h["kind"]: h for h in doc["probes"][0]["hops"]}
    assert hops["services"]["status"] == "skipped" and "kubeconfig" in hops["services"]["detail"]
    assert {f["owner"] for f in table(doc, "Frontends")} == {"outbound (SNAT)", "?"}


def test_services_forbidden_is_named_and_snat_still_judged(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-explicit-capped", deny=("list services",)))
    assert rc == 1 and ids(doc) == ["IP005", "LB001"]
    ip005 = next(f for f in doc["findings"] if f["id"] == "IP005")
    assert ip005["detail"].startswith("services: 403")


def test_load_balancers_forbidden(lb_world, capsys) -> None:
    denied = {"/loadbalancers": {"status": 403, "code": "AuthorizationFailed", "message": "no read on loadBalancers"}}
    rc, doc = lb(capsys, lb_world("lb-healthy", faults=denied))
    assert rc == 0 and ids(doc) == ["AZ001"]  # a warning; the orphan check needs the frontends, so it stays silent
    hops = {h["kind"]: h for h in doc["probes"][0]["hops"]}
    assert hops["outbound"]["status"] == "warn" and "no outbound rule" in hops["outbound"]["detail"]


def test_text_has_tables_and_a_capacity_bar(lb_world, capsys) -> None:
    rc, out = lb(capsys, lb_world("lb-explicit-capped"), output="text")
    assert rc == 1
    assert "SNAT ports at the peak (kubernetes/aksOutboundRule)" in out and "131%  84,000 / 64,000 ports" in out
    assert "Outbound rules (1)" in out and "aksOutboundRule" in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_markdown_tables(lb_world, capsys) -> None:
    rc, out = lb(capsys, lb_world("lb-healthy"), output="markdown")
    assert rc == 0
    assert "| load balancer | frontend | address | kind | owner |" in out
    assert "| kubernetes/aksOutboundRule | peak | 4 | 1,024 | 4,096 | 64,000 | yes |" in out


def test_usage_errors(capsys) -> None:
    assert main(["lb"]) == 2
    assert "needs the cluster" in capsys.readouterr().err
    assert main(["lb", "--cluster", "x"]) == 2


def test_an_explicit_kubeconfig_that_is_missing_stops(lb_world, capsys, tmp_path: Path) -> None:
    args = lb_world("lb-healthy", kube=False)
    assert main(["lb", *args, "--kubeconfig", str(tmp_path / "nope")]) == 3
    err = capsys.readouterr().err
    assert err.startswith("aksdiag: error:") and len(err.strip().splitlines()) == 1


def test_check_runs_the_lb_probe_with_the_rest(lb_world, capsys) -> None:
    args = lb_world("lb-pending")
    rc = main(["check", *args, "--output", "json"])
    doc = json.loads(capsys.readouterr().out)
    statuses = {p["probe"]: p["status"] for p in doc["probes"]}
    assert statuses["lb"] == "fail" and "LB004" in ids(doc) and rc == 1
