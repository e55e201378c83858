"""aksdiag lb: the real Azure SDK against the fake ARM and the real HTTP client against the fake Kubernetes API,
one world per failure mode (aksdiag.lab.lbworld) and a healthy one that must raise nothing."""

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
    """lb_world(name, kube=True, deny=(), faults=None, patch=None) → the CLI's context flags for that world."""
    started: list[object] = []

    def start(name: str, kube: bool = True, deny: tuple[str, ...] = (), faults: dict | None = None,
              patch: object = None) -> list[str]:  # fmt: skip
        w = arm.ArmWorld()
        for body in armworld.build(name):
            if patch is not None:
                patch(body)  # type: ignore[operator]
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
    (t,) = [t for t in doc["probes"][0]["facts"]["tables"] if t["title"] == title]
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


def test_default_allocation_past_50_nodes_is_low(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-default-grown"))
    assert rc == 0 and ids(doc) == ["LB002"]
    (f,) = doc["findings"]
    assert "512 ports per node for a pool of 61 nodes" in f["detail"] and "default" in f["detail"]
    assert "--load-balancer-outbound-ports 1024" in f["command"]


def test_explicit_ports_cap_the_autoscaler_maximum(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-explicit-capped"))
    assert rc == 1 and ids(doc) == ["LB001"]
    (f,) = doc["findings"]
    assert "4,000 ports per node × 21 nodes at the peak" in f["detail"] and "enough for 16 nodes" in f["detail"]
    assert "at most 3,040 ports per node" in f["remediation"]  # 64,000 / 21 nodes, down to a multiple of 8
    assert f["command"].endswith("--load-balancer-managed-outbound-ip-count 2")
    (gauge,) = doc["probes"][0]["facts"]["gauges"]
    assert (gauge["value"], gauge["maximum"]) == (84_000, 64_000)


def test_more_outbound_ips_lift_the_cap(lb_world, capsys) -> None:
    """The same 4,000 ports per node on 2 outbound IPs fit 32 nodes: the peak of 21 raises nothing."""

    def two_ips(body: dict) -> None:
        if body.get("name") == "kubernetes" and body.get("type") == "Microsoft.Network/loadBalancers":
            rule = body["properties"]["outboundRules"][0]["properties"]
            rule["frontendIPConfigurations"].append({"id": body["id"] + "/frontendIPConfigurations/second"})

    rc, doc = lb(capsys, lb_world("lb-explicit-capped", patch=two_ips))
    assert rc == 0 and ids(doc) == []
    assert doc["probes"][0]["facts"]["capacity"][0]["max_nodes"] == 32


def test_public_service_on_a_private_cluster(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-public-service"))
    assert rc == 0 and ids(doc) == ["LB003"]
    (f,) = doc["findings"]
    assert "default/shop is served on public IP 20.41.65.9" in f["detail"]
    assert f["command"] == (
        "kubectl -n default annotate service shop service.beta.kubernetes.io/azure-load-balancer-internal=true"
    )


def test_public_service_on_a_public_cluster_is_not_a_mistake(lb_world, capsys) -> None:
    def public_cluster(body: dict) -> None:
        if body.get("type") == "Microsoft.ContainerService/ManagedClusters":
            body["properties"]["apiServerAccessProfile"]["enablePrivateCluster"] = False

    rc, doc = lb(capsys, lb_world("lb-public-service", patch=public_cluster))
    assert rc == 0 and ids(doc) == []


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


def test_orphan_frontend(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-orphan"))
    assert rc == 0 and ids(doc) == ["LB005"]  # the orphan's rule is named with its frontend, not again
    (f,) = doc["findings"]
    orphan = lbworld.WORLDS["lb-orphan"][1].orphans[0]
    assert f"frontend {orphan.prefix} (10.224.0.210)" in f["detail"]
    rules = {r["rule"]: r["owner"] for r in table(doc, "Load-balancing rules")}
    assert rules[f"{orphan.prefix}-TCP-80"] == "none"


def test_probe_on_the_node_port_for_a_local_service(lb_world, capsys) -> None:
    rc, doc = lb(capsys, lb_world("lb-probe-mismatch"))
    assert rc == 0 and ids(doc) == ["LB006"]
    (f,) = doc["findings"]
    assert "probes TCP 30443, expected HTTP 31500/healthz" in f["detail"]


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


def test_nat_gateway_egress_is_not_the_load_balancers_problem(lb_world, capsys) -> None:
    def nat_gateway(body: dict) -> None:
        if body.get("type") == "Microsoft.ContainerService/ManagedClusters":
            body["properties"]["networkProfile"]["outboundType"] = "managedNATGateway"

    rc, doc = lb(capsys, lb_world("lb-explicit-capped", patch=nat_gateway))
    assert rc == 0 and ids(doc) == []
    hops = {h["kind"]: h for h in doc["probes"][0]["hops"]}
    assert "NAT gateway" in hops["outbound"]["detail"]


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
