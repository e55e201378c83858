"""SNAT, live, judged from facts: the snat-… worlds' ARM bodies through the probe's one digest, their metrics
documents answered as the fake ARM answers them (filtered by `metricnames`), and the nodes list; the metrics
arithmetic of aksdiag.snat on the REST example's shape. No server."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from aksdiag.probes import lb
from probeworlds import KUBE, LB_NEED, NEED, azure_context, kube_list

from aksdiag import snat
from aksdiag.facts import AzureDocument, AzureGetNeed, AzureReadError, Clock, ClockNeed, KubeList
from aksdiag.lab import arm, armworld, lbworld
from aksdiag.lab.armworld import snat as snatworld
from aksdiag.model import Status
from aksdiag.probe import Judgement
from aksdiag.settings import Settings

NOW = "2026-11-23T14:31:07.250000+00:00"
OWN = {*lb.PROBE.codes, "AZ001", "AZ002", "IP005"}


def served(world: str) -> arm.ArmWorld:
    w = arm.ArmWorld()
    for body in armworld.build(world):
        w.add(body)
    return w


def answer(w: arm.ArmWorld, need: AzureGetNeed) -> AzureDocument:
    """What the fake ARM answers `need` with: the document at its path filtered by metricnames, else a 404."""
    path = need.path.lower()
    if path not in w.documents:
        return AzureDocument(error=AzureReadError(need.path, 404, "ResourceNotFound", "not found"), requests=1)
    return AzureDocument(body=w.document(path, parse_qs(urlencode(need.query))), requests=1)


def world_facts(
    world: str, kube: bool = True, clock: str | None = NOW, docs: Any = None
) -> tuple[Settings, dict[Any, Any]]:
    """The settings and facts `aksdiag lb` would hold after its rounds for `world` (`docs(need)` answers a
    metrics read; the world's own documents by default)."""
    context = azure_context(world, need=LB_NEED)
    nat = [b for b in armworld.build(world) if str(b.get("type", "")).lower() == "microsoft.network/natgateways"]
    context = replace(context, nat_gateways={b["id"].lower(): b for b in nat})  # as the outbound reads load them
    settings = Settings(azure=NEED, kube=KUBE) if kube else Settings(azure=NEED)
    facts: dict[Any, Any] = {LB_NEED: context}
    if kube:
        objects = snatworld.kube(world) if world.startswith("snat-") else lbworld.kube(world)
        needs = lb._kube_needs(KUBE)
        facts[needs["services"]] = kube_list(objects, "Service")
        facts[needs["events"]] = kube_list(objects, "Event")
        facts[needs["nodes"]] = kube_list(objects, "Node")
    if clock is None:
        return settings, facts
    facts[ClockNeed()] = Clock(clock)
    w = served(world)
    for need in lb.plan("", settings, facts):
        if isinstance(need, AzureGetNeed):
            facts[need] = docs(need) if docs else answer(w, need)
    assert all(n in facts for n in lb.plan("", settings, facts)), "every round's needs are answered"
    return settings, facts


def judge(world: str, **kw: Any) -> Judgement:
    settings, facts = world_facts(world, **kw)
    j = lb.judge("", settings, facts)
    assert {f.id for f in j.findings} <= OWN and all(f.probe == "lb" for f in j.findings)
    assert [h.index for h in j.hops] == list(range(1, len(j.hops) + 1))
    assert all(f.hop is None or 1 <= f.hop <= len(j.hops) for f in j.findings)
    return j


def ids(j: Judgement) -> list[str]:
    return sorted(f.id for f in j.findings)


def metrics_hops(j: Judgement) -> list[Any]:
    return [h for h in j.hops if h.kind == "metrics"]


# ---------------------------------------------------------------- plan: a round per thing learnt


def test_plan_reads_the_metrics_once_the_context_and_the_clock_are_in() -> None:
    settings = Settings(azure=NEED, kube=KUBE)
    first = lb.plan("", settings, {})
    assert ClockNeed() not in first and not any(isinstance(n, AzureGetNeed) for n in first)
    facts: dict[Any, Any] = {LB_NEED: azure_context("snat-healthy", need=LB_NEED)}
    assert lb.plan("", settings, facts) == [*first, ClockNeed()]
    facts[ClockNeed()] = Clock(NOW)
    third = lb.plan("", settings, facts)
    metrics = [n for n in third if isinstance(n, AzureGetNeed)]
    assert third[: len(first) + 1] == [*first, ClockNeed()] and lb._kube_needs(KUBE)["nodes"] in third
    lb_id = f"/subscriptions/{armworld.SUBSCRIPTION}/resourceGroups/{armworld.NODE_RG}/providers/Microsoft.Network/loadBalancers/kubernetes"  # fmt: skip
    assert {n.path for n in metrics} == {f"{lb_id}/providers/Microsoft.Insights/metrics"}
    queries = [dict(n.query) for n in metrics]
    assert [q["metricnames"] for q in queries] == ["AllocatedSnatPorts,UsedSnatPorts", "SnatConnectionCount"]
    assert all(
        q["timespan"] == "2026-11-23T13:31:07Z/2026-11-23T14:31:07Z" and q["interval"] == "PT1M" for q in queries
    )
    assert all(n.api_version == snat.METRICS_API and n.endpoint == NEED.endpoint for n in metrics)
    assert [(q["top"], q["orderby"]) for q in queries] == [("50", "Maximum desc"), ("50", "Total desc")], (
        "Azure Monitor returns 10 series unless told: the busiest and the most failed nodes first"
    )


def test_plan_reads_the_nat_gateway_of_the_node_subnet_not_a_load_balancer_without_outbound_rule() -> None:
    settings, facts = world_facts("snat-nat-failed", clock=None)
    facts[ClockNeed()] = Clock(NOW)
    metrics = [n for n in lb.plan("", settings, facts) if isinstance(n, AzureGetNeed)]
    assert {n.path for n in metrics} == {f"{snatworld.NAT_GATEWAY}/providers/Microsoft.Insights/metrics"}
    assert sorted(dict(n.query).get("$filter", "") for n in metrics) == ["", "ConnectionState eq 'Failed'"]


def test_without_kubernetes_no_nodes_are_read() -> None:
    settings = Settings(azure=NEED)
    facts: dict[Any, Any] = {LB_NEED: azure_context("snat-healthy", need=LB_NEED), ClockNeed(): Clock(NOW)}
    assert not any(getattr(n, "resource", "") == "nodes" for n in lb.plan("", settings, facts))


# ---------------------------------------------------------------- each world, one way


@pytest.mark.parametrize(
    ("world", "expected", "status"),
    [
        ("snat-healthy", [], Status.OK),
        ("snat-exhausted", ["LB007"], Status.FAIL),
        ("snat-near", ["LB008"], Status.WARN),
        ("snat-nat-healthy", [], Status.OK),
        ("snat-nat-failed", ["LB009"], Status.FAIL),
        ("snat-nat-drops", ["LB010"], Status.WARN),
    ],
)
def test_each_world_raises_exactly_its_code(world: str, expected: list[str], status: Status) -> None:
    j = judge(world)
    assert ids(j) == expected
    (hop,) = metrics_hops(j)
    assert hop.status is status
    assert all(f.hop == hop.index for f in j.findings if f.id in {"LB007", "LB008", "LB009", "LB010"})


def test_the_exhausted_node_joined_with_the_capacity_model() -> None:
    (f,) = judge("snat-exhausted").findings
    assert f.detail == (
        "kubernetes: node 10.224.0.7 (aks-nodepool1-12345678-vmss000003) used 98% of its 1,024 SNAT ports (peak 1,004 "
        "at 14:20 UTC) with 1,204 failed connections in the last hour (most, 486, at 14:20 UTC). The capacity model: "
        "1,024 ports per node (Azure's default by pool size) on 1 IP(s) fit 1000 nodes; 4 now and 5 at the peak fit."
    )
    assert "2,048" in f.remediation and "aks-nodepool1-12345678-vmss000003" in f.remediation
    assert f.evidence["capacity"]["max_nodes"] == 1000 and f.evidence["window"] == "PT1H"


def test_without_the_nodes_list_the_node_is_its_address() -> None:
    (f,) = judge("snat-exhausted", kube=False).findings
    assert "node 10.224.0.7 used 98%" in f.detail


def test_tables_and_gauge() -> None:
    j = judge("snat-near")
    (t,) = [t for t in j.tables if t.title == "SNAT use, last hour"]
    assert t.rows[0][:6] == ("kubernetes", "aks-nodepool1-12345678-vmss000002", "10.224.0.6", "1,024", "870", "85%")
    gauge = next(g for g in j.gauges if g.title.startswith("SNAT ports used, busiest node"))
    assert (gauge.value, gauge.maximum) == (870, 1024) and "14:20 UTC" in gauge.label
    assert j.facts["snat_live"][0]["available"] is True


def test_several_failing_nodes_name_the_worst_and_count_the_rest() -> None:
    def docs(need: AzureGetNeed) -> AzureDocument:
        ips = [f"10.224.0.{4 + i}" for i in range(6)]
        if "SnatConnectionCount" in dict(need.query)["metricnames"]:
            return AzureDocument(body=_answer("SnatConnectionCount", {ip: [0, 10 * (k + 1)] for k, ip in enumerate(ips)},
                                              "total", {"connectionstate": "Failed"}))  # fmt: skip
        return AzureDocument(body={"value": [*_answer("AllocatedSnatPorts", {ip: [1024, 1024] for ip in ips})["value"],
                                             *_answer("UsedSnatPorts", {ip: [900, 1024] for ip in ips})["value"]]})  # fmt: skip

    (f,) = judge("snat-healthy", docs=docs).findings
    assert f.id == "LB007" and "node 10.224.0.9 used 100%" in f.detail and "with 60 failed connections" in f.detail
    assert (
        " 5 other node(s) failed too: 10.224.0.8: 50; 10.224.0.7 (aks-nodepool1-12345678-vmss000003): 40; " in f.detail
    )
    assert "10.224.0.6 (aks-nodepool1-12345678-vmss000002): 30 and 2 more." in f.detail


# ---------------------------------------------------------------- metrics that are not there: a quiet note


def _error(status: int, code: str, failure: str = "") -> AzureReadError:
    return AzureReadError("/x/providers/Microsoft.Insights/metrics", status, code, "no", "Microsoft.Insights/metrics/read",
                          failure)  # fmt: skip


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (_error(404, "ResourceNotFound"), "404 ResourceNotFound"),
        (_error(403, "AuthorizationFailed"), "Microsoft.Insights/metrics/read (Monitoring Reader)"),
        (_error(0, "ReadTimeout", "timeout"), "timeout"),
    ],
)
def test_unreadable_metrics_are_a_skipped_hop_never_a_finding_nor_an_error(error: AzureReadError, words: str) -> None:
    j = judge("snat-exhausted", docs=lambda need: AzureDocument(error=error, requests=1))
    assert ids(j) == [] and j.unread == ()
    (hop,) = metrics_hops(j)
    assert hop.status is Status.SKIPPED and hop.detail.startswith("Azure Monitor metrics not available: ")
    assert words in hop.detail and j.facts["snat_live"] == [{"resource": j.facts["snat_live"][0]["resource"],
                                                             "available": False, "reason": hop.detail.split(": ", 1)[1]}]  # fmt: skip


def test_an_old_world_and_a_run_without_clock_judge_as_before() -> None:
    plain = judge("lb-healthy", clock=None)
    assert metrics_hops(plain) == [] and ids(plain) == []
    live = judge("lb-healthy")  # the fake ARM holds no metrics there: a 404 here
    assert ids(live) == [] and [h.status for h in metrics_hops(live)] == [Status.SKIPPED]
    assert [h for h in live.hops if h.kind != "metrics"] == [
        replace(h, index=h.index + (1 if h.index > 3 else 0)) for h in plain.hops
    ], "the metrics hop comes after the outbound hop; every other hop is the same"


def test_a_nodes_list_that_was_refused_leaves_the_addresses() -> None:
    settings, facts = world_facts("snat-exhausted")
    facts[lb._kube_needs(KUBE)["nodes"]] = KubeList(status=403, error="forbidden")
    (f,) = lb.judge("", settings, facts).findings
    assert "node 10.224.0.7 used" in f.detail


# ---------------------------------------------------------------- aksdiag.snat: the metrics arithmetic


def _answer(
    metric: str, by_ip: dict[str, list[float]], agg: str = "maximum", extra: dict[str, str] | None = None
) -> dict:
    """A metrics answer in the REST example's shape, one series per backend IP (a minute a point from 14:00)."""
    timeseries = [
        {"metadatavalues": [{"name": {"value": k, "localizedValue": k}, "value": v}
                            for k, v in {"backendipaddress": ip, **(extra or {})}.items()],
         "data": [{"timeStamp": f"2026-11-23T14:{m:02d}:00Z", agg: v} for m, v in enumerate(values)]}
        for ip, values in by_ip.items()
    ]  # fmt: skip
    return {"value": [{"name": {"value": metric, "localizedValue": metric}, "unit": "Count", "timeseries": timeseries}]}


def test_series_reads_the_rest_shape_and_prefers_the_first_aggregation() -> None:
    body = {"value": [{"name": {"value": "UsedSnatPorts"}, "timeseries": [
        {"metadatavalues": [{"name": {"value": "BackendIPAddress"}, "value": "10.0.0.4"}],
         "data": [{"timeStamp": "t1", "average": 5.0, "maximum": 9.0}, {"timeStamp": "t2", "average": 7.0},
                  {"timeStamp": "t3"}]}]}]}  # fmt: skip
    (s,) = snat.series(body, "usedsnatports", ("maximum", "average"))
    assert s.dims == {"backendipaddress": "10.0.0.4"} and [(p.at, p.value) for p in s.points] == [
        ("t1", 9.0),
        ("t2", 7.0),
    ]
    assert s.peak == snat.Point("t1", 9.0) and snat.series(None, "UsedSnatPorts", ("maximum",)) == []


def test_backend_use_joins_ports_and_failures_and_counts_only_failed_connections() -> None:
    ports = {"value": [*_answer("AllocatedSnatPorts", {"10.0.0.4": [512, 512], "10.0.0.5": [512, 512]})["value"],
                       *_answer("UsedSnatPorts", {"10.0.0.4": [100, 200], "10.0.0.5": [500, 480]})["value"]]}  # fmt: skip
    failed = _answer("SnatConnectionCount", {"10.0.0.5": [3, 4]}, "total", {"connectionstate": "Failed"})
    failed["value"] += _answer("SnatConnectionCount", {"10.0.0.4": [900, 900]}, "total", {"connectionstate": "Successful"})["value"]  # fmt: skip
    first, second = snat.backend_use(ports, failed)
    assert (first.ip, first.allocated, first.used, first.failed, first.failed_peak, first.failed_at) == (
        "10.0.0.5", 512, 500, 7, 4, "2026-11-23T14:01:00Z")  # fmt: skip
    assert (second.ip, second.used, second.used_at, second.failed) == ("10.0.0.4", 200, "2026-11-23T14:01:00Z", 0)
    assert round(first.share, 3) == 0.977 and snat.BackendUse("x").share == 0.0


def test_a_node_the_allocation_answer_left_out_gets_the_allocation_of_the_others() -> None:
    """AllocatedSnatPorts' top-N is ordered by a value every node shares: the busiest node may be left out."""
    allocated = _answer("AllocatedSnatPorts", {"10.0.0.4": [1024], "10.0.0.5": [1024], "10.0.0.6": [2048]})
    used = _answer("UsedSnatPorts", {"10.0.0.9": [1000], "10.0.0.4": [10]})
    (busiest, *_) = snat.backend_use({"value": [*allocated["value"], *used["value"]]}, None)
    assert (busiest.ip, busiest.allocated, round(busiest.share, 2)) == ("10.0.0.9", 1024, 0.98)


def test_nat_use() -> None:
    failed = {"value": [{"name": {"value": "SNATConnectionCount"}, "timeseries": [
        {"metadatavalues": [{"name": {"value": "connectionstate"}, "value": "Failed"}],
         "data": [{"timeStamp": "a", "total": 2.0}, {"timeStamp": "b", "total": 5.0}]}]}]}  # fmt: skip
    counts = {"value": [
        {"name": {"value": "TotalConnectionCount"}, "timeseries": [{"data": [{"timeStamp": "c", "maximum": 40.0}]}]},
        {"name": {"value": "PacketDropCount"}, "timeseries": [{"data": [{"timeStamp": "d", "total": 0.0}]}]},
    ]}  # fmt: skip
    assert snat.nat_use(failed, counts) == snat.NatUse(failed=7, failed_peak=5, failed_at="b", connections=40,
                                                       connections_at="c")  # fmt: skip
    assert snat.nat_use(None, None) == snat.NatUse()


def test_timespan_clock_text_and_the_next_allocation() -> None:
    assert snat.timespan("2026-12-02T00:27:13.5+00:00") == "2026-12-01T23:27:13Z/2026-12-02T00:27:13Z"
    assert snat.timespan("2026-12-02T02:27:13+02:00") == "2026-12-01T23:27:13Z/2026-12-02T00:27:13Z"
    assert snat.clock_text("2026-11-23T14:20:00Z") == "14:20 UTC" and snat.clock_text("") == "?"
    assert [snat.more_ports(p) for p in (0, 512, 1024, 4000, 40_000)] == [1024, 1024, 2048, 8000, 64_000]
    assert [snat.ips_for(n, p) for n, p in ((5, 2048), (40, 2048), (1, 64_000))] == [1, 2, 1]
