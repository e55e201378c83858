"""`aksdiag fleet` end to end: the CLI, the real Azure SDK clients (Resource Graph's and ARM's) and the fake ARM
serving the fleet worlds (aksdiag.lab.armworld.fleetworld). Each world broken one way names exactly the clusters
and codes planted in it; a healthy fleet raises no alarm; Resource Graph's lag is cleared by the confirming GETs,
not reported as an error; an unreadable hub is AZ001, never a false DNS011; what left the process was GETs and
Resource Graph queries only (the fixture asserts no write)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.fleet import engine
from aksdiag.fleet.queries import GRAPH_PATH, GraphQuery
from aksdiag.lab.armworld import fleetworld


def _run(fake_arm: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], world: str,
         *argv: str) -> tuple[int, dict[str, Any], str, Any]:  # fmt: skip
    fake = fake_arm(fleetworld.build(world), faults=fleetworld.faults(world))
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    code = main(["fleet", "-o", "json", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out), captured.err, fake


def _alarms(doc: dict[str, Any]) -> dict[str, set[str]]:
    """Cluster id (lower) → the warning and error codes of its report; clusters without any left out."""
    out = {}
    for c in doc["clusters"]:
        codes = {f["id"] for f in c["report"]["findings"] if f["severity"] != "info"}
        if codes:
            out[c["id"].lower()] = codes
    return out


def _planted(world: str) -> dict[str, set[str]]:
    return {k.lower(): v for k, v in fleetworld.planted(world).items() if v}


def _only_reads(fake: Any) -> None:
    """Every request a GET or a Resource Graph query; no Azure Monitor metrics read (fleet answers them as not
    read)."""
    for r in fake.requests:
        assert r.method == "GET" or (r.method == "POST" and r.path.rstrip("/").lower() == GRAPH_PATH.lower()), r
    assert not [r for r in fake.requests if "microsoft.insights" in r.path.lower()]


def _visible_clusters(world: str) -> set[str]:
    w = fleetworld.world(world)
    return {c.lower() for c in w.clusters if c.split("/")[2].lower() not in {s.lower() for s in w.hidden}}


def test_fleet_small_names_exactly_the_planted_clusters(fake_arm, monkeypatch, capsys) -> None:
    code, doc, err, fake = _run(fake_arm, monkeypatch, capsys, "fleet-small")
    assert code == 1
    assert doc["schema"] == "aksdiag.fleet/v1" and doc["verdict"] == "broken"
    assert {c["id"].lower() for c in doc["clusters"]} == _visible_clusters("fleet-small")
    assert _alarms(doc) == _planted("fleet-small")
    assert all(c["confirmed"] for c in doc["clusters"] if c["id"].lower() in _planted("fleet-small"))
    assert not any(c["lagged"] for c in doc["clusters"])
    dns011 = [g for g in doc["groups"] if g["code"] == "DNS011"]
    assert len(dns011) == 1 and dns011[0]["count"] == 12  # one hub's unlinked zone: one shared cause
    assert dns011[0]["shared"], dns011[0]
    assert {g["code"] for g in doc["groups"]} == {c for codes in _planted("fleet-small").values() for c in codes}
    assert doc["findings"] == []  # nothing fleet-level: every subscription read
    # what went out: counted in the report as the fake saw it
    requests = doc["requests"]
    assert requests["graph"] == len(fake.graph_queries()) >= 4
    reads = [r for r in fake.requests if r.method == "POST" or "skiptoken" not in r.query.lower()]
    assert sum(requests.values()) == len(reads)  # a list of several pages is one read; a Resource Graph page one
    assert requests["confirm"] > 0 and requests["get"] > 0
    _only_reads(fake)
    assert "asking Resource Graph" in err and "judging 30 clusters" in err  # progress on stderr, the report on stdout


def test_a_healthy_fleet_raises_no_alarm(fake_arm, monkeypatch, capsys) -> None:
    code, doc, _err, fake = _run(fake_arm, monkeypatch, capsys, "fleet-healthy")
    assert code == 0
    assert doc["verdict"] == "ok"
    assert {c["id"].lower() for c in doc["clusters"]} == _visible_clusters("fleet-healthy")
    assert _alarms(doc) == {}
    assert doc["groups"] == [] and doc["findings"] == []
    assert doc["requests"]["confirm"] == 0  # nothing to confirm: no GET past the record sets and rules
    assert not [p for c in doc["clusters"] for p in c["report"]["probes"] if p["status"] == "error"]
    assert any("does not index record sets" in n for n in doc["notes"])
    assert any("DNS015" in n for n in doc["notes"])
    _only_reads(fake)


def test_resource_graph_lag_is_cleared_by_the_confirming_gets(fake_arm, monkeypatch, capsys) -> None:
    code, doc, _err, _fake = _run(fake_arm, monkeypatch, capsys, "fleet-lag")
    lagged = {k.lower(): set(v) for k, v in fleetworld.world("fleet-lag").lagged.items()}
    assert lagged, "fleet-lag lags somewhere"
    assert code == 0
    assert _alarms(doc) == {}  # not an error: ARM said otherwise
    assert {c["id"].lower(): set(c["lagged"]) for c in doc["clusters"] if c["lagged"]} == lagged
    assert not any(c["confirmed"] for c in doc["clusters"])
    assert doc["requests"]["confirm"] > 0
    assert any("lagged ARM" in n for n in doc["notes"])


def test_an_unreadable_hub_is_az001_never_a_false_dns011(fake_arm, monkeypatch, capsys) -> None:
    code, doc, _err, _fake = _run(fake_arm, monkeypatch, capsys, "fleet-hidden-hub")
    hidden = {s.lower() for s in fleetworld.world("fleet-hidden-hub").hidden}
    assert _alarms(doc) == _planted("fleet-hidden-hub")
    assert not any("DNS011" in codes for codes in _alarms(doc).values())
    fleet = [f for f in doc["findings"] if f["id"] == "AZ001"]
    assert {f["evidence"]["scope"].split("/")[2].lower() for f in fleet} == hidden
    dependents = {k for k, v in _planted("fleet-hidden-hub").items() if "AZ001" in v}
    assert f"{len(dependents)} clusters depend on it" in fleet[0]["detail"]
    assert "leaves subscriptions the identity cannot read out silently" in fleet[0]["detail"]
    assert code == 0  # warnings: the report says what could not be read


def test_an_unreadable_workload_subscription_leaves_only_its_clusters_out(fake_arm, monkeypatch, capsys) -> None:
    code, doc, _err, _fake = _run(fake_arm, monkeypatch, capsys, "fleet-hidden-spoke")
    hidden = {s.lower() for s in fleetworld.world("fleet-hidden-spoke").hidden}
    seen = {c["id"].lower() for c in doc["clusters"]}
    assert seen == _visible_clusters("fleet-hidden-spoke")
    assert not [c for c in seen if c.split("/")[2] in hidden]
    assert code == 0 and _alarms(doc) == {} and doc["findings"] == []


def test_given_subscriptions_are_the_scope_and_one_not_listed_is_az001(fake_arm, monkeypatch, capsys) -> None:
    """--subscription: the clusters of those alone, judged with what they depend on in the hubs (searched as
    check --cluster searches them); a given one the identity's list leaves out is read on its own: ARM's 403."""
    w = fleetworld.world("fleet-hidden-spoke")
    hidden = next(iter(w.hidden)).lower()
    workloads = sorted({c.split("/")[2].lower() for c in w.clusters} - {hidden})
    code, doc, _err, _fake = _run(fake_arm, monkeypatch, capsys, "fleet-hidden-spoke",
                                  "--subscription", workloads[0], "--subscription", hidden)  # fmt: skip
    assert {c["subscription"].lower() for c in doc["clusters"]} == {workloads[0]}
    assert _alarms(doc) == {}  # the hub's zones and DNS servers were searched: no false DNS011
    [finding] = doc["findings"]
    assert finding["id"] == "AZ001" and finding["evidence"]["scope"].lower() == f"/subscriptions/{hidden}"
    assert finding["evidence"]["status"] == 403 and "given with --subscription" in finding["detail"]
    assert code == 0


def test_a_management_group_is_the_scope(fake_arm, monkeypatch, capsys) -> None:
    w = fleetworld.world("fleet-healthy")
    group, subs = next((g, s) for g, s in w.management_groups.items() if g.startswith("mg-landingzones-"))
    code, doc, err, fake = _run(fake_arm, monkeypatch, capsys, "fleet-healthy", "--management-group", group)
    want = {c.lower() for c in w.clusters if c.split("/")[2].lower() in {s.lower() for s in subs}}
    assert want and {c["id"].lower() for c in doc["clusters"]} == want
    assert code == 0 and _alarms(doc) == {}
    bodies = [json.loads(r.body) for r in fake.graph_queries() if getattr(r, "body", None)] if hasattr(
        fake.graph_queries()[0], "body") else []  # fmt: skip
    if bodies:
        assert any(b.get("managementGroups") == [group] for b in bodies)
    assert f"management group {group}" in err


def test_an_unknown_management_group_is_a_failed_query(fake_arm, monkeypatch, capsys) -> None:
    code, doc, _err, _fake = _run(fake_arm, monkeypatch, capsys, "fleet-healthy", "--management-group", "mg-nope")
    assert code == 3  # nothing could be judged
    assert doc["clusters"] == []
    assert [q["name"] for q in doc["queries"] if q["error"]] == ["clusters"]
    assert [f["id"] for f in doc["findings"]] == ["AZ001"]


def test_the_filter_picks_the_clusters(fake_arm, monkeypatch, capsys) -> None:
    code, doc, _err, _fake = _run(fake_arm, monkeypatch, capsys, "fleet-small", "--filter",
                                 "name startswith 'aks-search'")  # fmt: skip
    names = {c["name"] for c in doc["clusters"]}
    assert names and all(n.startswith("aks-search") for n in names)
    everything = {c.lower() for c in fleetworld.world("fleet-small").clusters}
    assert {c["id"].lower() for c in doc["clusters"]} == {c for c in everything if "/aks-search" in c}
    assert _alarms(doc) == {k: v for k, v in _planted("fleet-small").items() if "/aks-search" in k}
    assert code == (1 if _alarms(doc) else 0)
    assert "name startswith 'aks-search'" in doc["scope"]


def test_a_query_resource_graph_refuses_leaves_its_probes_blind(fake_arm, monkeypatch, capsys) -> None:
    """The dns query refused (400 InvalidQuery): private_dns could not look on any cluster (no guess from a partial
    index: no false DNS011 or AZ002), the other probes judged; a fleet-level AZ001 says why; exit 3."""
    real = engine.fleet_queries

    def refused(filter_clause: str = "") -> list[GraphQuery]:
        return [GraphQuery(q.name, "resources | take 5") if q.name == "dns" else q for q in real(filter_clause)]

    monkeypatch.setattr(engine, "fleet_queries", refused)
    code, doc, _err, _fake = _run(fake_arm, monkeypatch, capsys, "fleet-healthy")
    assert code == 3
    assert [q["name"] for q in doc["queries"] if q["error"]] == ["dns"]
    [finding] = doc["findings"]
    assert finding["id"] == "AZ001" and "InvalidQuery" in finding["detail"]
    for c in doc["clusters"]:
        status = {p["probe"]: p["status"] for p in c["report"]["probes"]}
        assert status["private_dns"] == "error" and status["cluster_state"] == "ok", status
    assert _alarms(doc) == {}


def test_the_text_report_names_the_shared_cause(fake_arm, monkeypatch, capsys) -> None:
    fake = fake_arm(fleetworld.build("fleet-small"))
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    assert main(["fleet"]) == 1
    captured = capsys.readouterr()
    assert "DNS011" in captured.out and "12 of 30 clusters" in captured.out
    assert "aksdiag fleet:" not in captured.out  # progress is stderr's
    assert "\x1b[" not in captured.out  # piped: no colour


def test_live_snat_metrics_are_one_skipped_hop_not_a_get(fake_arm, monkeypatch, capsys) -> None:
    """snat-exhausted's load balancer has metrics `aksdiag lb` reads; fleet reads none and says so on the hop."""
    fake = fake_arm("snat-exhausted")
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    main(["fleet", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    [cluster] = doc["clusters"]
    [lb] = [p for p in cluster["report"]["probes"] if p["probe"] == "lb"]
    metrics = [h for h in lb["hops"] if h["kind"] == "metrics"]
    assert metrics and all(h["status"] == "skipped" and "NotReadByFleet" in h["detail"] for h in metrics)
    assert "aksdiag lb --cluster" in metrics[0]["detail"]
    _only_reads(fake)


def test_a_confirming_get_that_fails_leaves_the_error_standing_unconfirmed(fake_arm, monkeypatch, capsys) -> None:
    """The hub VNet's GET refused (403) while Resource Graph lists it: the DNS011 of that hub's clusters stands as
    Resource Graph showed it, not confirmed, and a note says so; the other planted clusters are confirmed."""
    hub = next(b for b in fleetworld.build("fleet-small") if b.get("name") == "vnet-hub-neu")
    refused = {"status": 403, "code": "AuthorizationFailed", "message": "not allowed"}
    fake = fake_arm(fleetworld.build("fleet-small"), faults={hub["id"].lower(): refused})
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    assert main(["fleet", "-o", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert _alarms(doc) == _planted("fleet-small")  # nothing cleared, nothing added
    dns011 = {c["id"].lower() for c in doc["clusters"] if "DNS011" in c["codes"]}
    assert dns011 and not any(c["confirmed"] for c in doc["clusters"] if c["id"].lower() in dns011)
    assert any(c["confirmed"] for c in doc["clusters"] if c["id"].lower() not in dns011)
    assert any("unconfirmed" in n for n in doc["notes"])


def test_an_identity_that_can_read_no_subscription_is_exit_3_not_an_empty_all_clear(
    fake_arm, monkeypatch, capsys
) -> None:
    """Every subscription of the world hidden: GET /subscriptions lists none, Resource Graph would answer nothing.
    "0 clusters, verdict OK" would be an all-clear over nothing looked at: it is one line and exit 3."""
    world = "fleet-small"
    hidden = sorted({c.split("/")[2].lower() for c in fleetworld.world(world).clusters}
                    | {s.lower() for s in fleetworld.world(world).subscriptions})  # fmt: skip
    fake = fake_arm(fleetworld.build(world), faults={"hidden_subscriptions": hidden})
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    code = main(["fleet", "-o", "json"])
    captured = capsys.readouterr()
    assert code == 3 and captured.out == ""
    assert "can read no enabled subscription" in captured.err and "Traceback" not in captured.err
    assert fake.graph_queries() == [], "nothing in scope: no Resource Graph query is sent"
