"""detectors from facts: each recorded or modelled detector answer gives exactly its verdict's code, the join with
aksdiag's own findings says agreement or disagreement, and what is not served (404) or refused (403) stays quiet."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aksdiag.probes import detectors
from aksdiag.probes.detectors import applens, catalog
from probeworlds import NEED

from aksdiag.facts import AzureDocument, AzureReadError, Clock, ClockNeed
from aksdiag.joins import relate
from aksdiag.lab.armworld import detectors as world
from aksdiag.model import Finding, ProbeResult, Severity, Status
from aksdiag.probe import Judgement, Skip
from aksdiag.settings import Settings

CLOCK = Clock("2026-12-02T00:27:13.512+00:00")
SETTINGS = Settings(azure=NEED)
Body = dict[str, Any]


def needs() -> dict[str, Any]:
    return detectors._needs(NEED, CLOCK)


def facts(answers: dict[str, AzureDocument]) -> dict[Any, Any]:
    """Every detector's document: `answers` by id, the others 404 as ARM answers a detector it does not have."""
    out: dict[Any, Any] = {ClockNeed(): CLOCK}
    for detector, need in needs().items():
        out[need] = answers.get(detector) or _error(need.path, 404, "NotFound")
    return out


def _error(scope: str, status: int, code: str) -> AzureDocument:
    action = "Microsoft.ContainerService/managedClusters/detectors/read"
    return AzureDocument(error=AzureReadError(scope, status, code, f"{code} for {scope}", action), requests=1)


def served(bodies: dict[str, Body]) -> dict[str, AzureDocument]:
    return {k: AzureDocument(body=v, requests=1) for k, v in bodies.items()}


def judge(answers: dict[str, AzureDocument]) -> Judgement:
    f = facts(answers)
    assert detectors.plan("", SETTINGS, f) == [ClockNeed(), *needs().values()], "everything it needs is here"
    return detectors.judge("", SETTINGS, f)


def ids(j: Judgement) -> list[str]:
    return sorted(f.id for f in j.findings)


def by_detector(j: Judgement) -> dict[str, Finding]:
    return {f.evidence["detector"]: f for f in j.findings if "detector" in f.evidence}


def test_plan_reads_the_clock_first_then_every_detector_over_the_last_day() -> None:
    with pytest.raises(Skip, match="no Azure context"):
        detectors.plan("", Settings(), {})
    assert detectors.plan("", SETTINGS, {}) == [ClockNeed()]
    planned = detectors.plan("", SETTINGS, {ClockNeed(): CLOCK})
    assert planned[0] == ClockNeed() and len(planned) - 1 == len(catalog.DETECTORS) == 8
    snat = needs()["snat-usage"]
    assert snat.path == f"{NEED.cluster_id}/detectors/snat-usage" and snat.endpoint == NEED.endpoint
    assert snat.url.endswith(
        "api-version=2024-08-01&startTime=2026-12-01T00%3A27%3A13Z&endTime=2026-12-02T00%3A27%3A13Z"
    )


def test_recorded_success_answers_are_each_no_problem() -> None:
    j = judge(served(world.answers()))
    assert ids(j) == ["DET003"] * 8
    assert all(h.status is Status.OK for h in j.hops)
    dns = by_detector(j)["cluster-dns"]
    assert dns.severity is Severity.INFO
    assert dns.detail == "Cluster DNS (cluster-dns) says Success: DNS resolved with no issues."
    assert dns.evidence["verdict"]["insights"][0]["data"] == {"Domain Name": world.CLUSTER_FQDN,
                                                              "IP Address": world.ENDPOINT_IP}  # fmt: skip
    assert dns.evidence["relates_to"] == {"probes": ["dns_chain", "private_dns"], "as": "agreement", "codes": ["DNS"]}
    assert dns.command is None, "nothing to run where Microsoft sees no problem"
    (table,) = j.tables
    assert [r[:2] for r in table.rows][:3] == [("private-cluster-dns", "Success"), ("cluster-dns", "Success"),
                                               ("snat-usage", "Success")]  # fmt: skip
    assert j.facts["detectors"] == {d.id: "Success" for d in catalog.DETECTORS}


def test_snat_usage_markdown_and_charts_are_not_insights() -> None:
    """snat-usage's recorded answer has a markdown table, a time series and two insight tables: only the insights
    are read, and markup values are left out of the data."""
    v = applens.verdict("snat-usage", world.answers()["snat-usage"])
    assert v.status == "Success" and len(v.insights) == 2 and all(i.data == () for i in v.insights)


@pytest.mark.parametrize(
    ("status", "code", "severity", "hop"),
    [("Critical", "DET001", Severity.ERROR, Status.FAIL), ("Warning", "DET002", Severity.WARNING, Status.WARN),
     ("Info", "DET003", Severity.INFO, Status.OK)],
)  # fmt: skip
def test_each_verdict_has_its_code(status: str, code: str, severity: Severity, hop: Status) -> None:
    answer = world.with_insight(world.answers()["user-defined-routing"], status, "Cluster egress pathway is X")
    j = judge(served({"user-defined-routing": answer}))
    assert ids(j) == [code]
    (f,) = j.findings
    assert f.severity is severity and f.detail.startswith(f"User Defined Routing (user-defined-routing) says {status}")
    assert f.evidence["relates_to"]["probes"] == ["outbound", "egress"]
    assert [h.status for h in j.hops if h.server == "user-defined-routing"] == [hop]
    if code != "DET003":  # the same GET aksdiag made, for the whole answer
        assert f.command == f'az rest --method get --url "{NEED.endpoint}{needs()["user-defined-routing"].url}"'


def test_the_worst_insight_is_the_verdict_and_status_id_speaks_when_there_are_none() -> None:
    answer = world.answers()["private-cluster-dns"]
    mixed = copy.deepcopy(answer)
    (table,) = [ds["table"] for ds in mixed["properties"]["dataset"] if ds["renderingProperties"]["type"] == 7]
    table["rows"].append(["Critical", "Resolution failed", "Error", "NXDOMAIN", "True", "null"])
    assert applens.verdict("private-cluster-dns", mixed).status == "Critical"
    bare = copy.deepcopy(answer)
    bare["properties"]["dataset"] = []
    bare["properties"]["status"]["statusId"] = 1
    assert applens.verdict("private-cluster-dns", bare).status == "Warning"
    bare["properties"]["status"] = None
    nothing = judge(served({"private-cluster-dns": bare}))
    assert ids(nothing) == [], "an answer without a verdict is shown, not judged"
    assert [h.detail for h in nothing.hops if h.server == "private-cluster-dns"] == ["None (no insights)"]


def test_not_served_anywhere_is_skipped_quietly() -> None:
    f = facts({})
    with pytest.raises(Skip, match="no AKS detector answered here: 8 × not found"):
        detectors.plan("", SETTINGS, f)
    broken = {d: _error(n.path, 500, "InternalServerError") for d, n in needs().items()}
    with pytest.raises(Skip, match="server error"):
        detectors.plan("", SETTINGS, facts(broken))


def test_a_few_served_the_rest_are_quiet_hops() -> None:
    answers = world.answers()
    j = judge({**served({"snat-usage": answers["snat-usage"]}),
               "cluster-dns": _error("x", 503, "ServiceUnavailable")})  # fmt: skip
    assert ids(j) == ["DET003"]
    quiet = {h.server: h for h in j.hops if h.status is Status.SKIPPED}
    assert len(quiet) == 7
    assert quiet["cluster-dns"].detail.startswith("could not be read: server error (5xx)")
    assert quiet["pod-subnet-full"].detail == "not available here (404 NotFound)"
    assert j.unread == (), "a detector that could not be read never makes the run an error"
    assert j.facts["detectors"]["cluster-dns"] == "unread" and j.facts["detectors"]["cluster-subnet"] == "not available"


def test_refused_reads_are_one_note() -> None:
    denied = {d: _error(n.path, 403, "AuthorizationFailed") for d, n in needs().items()}
    j = judge(denied)
    assert ids(j) == ["DET004"]
    (f,) = j.findings
    assert f.severity is Severity.INFO and f.detail.startswith("8 detector read(s) refused (403 AuthorizationFailed)")
    assert "Microsoft.ContainerService/managedClusters/detectors/read" in f.remediation
    assert f.command == f'az role assignment create --assignee "<object id>" --role Reader --scope {NEED.cluster_id}'


def _with(probe: str, *found: Finding) -> ProbeResult:
    status = Status.FAIL if any(f.severity is Severity.ERROR for f in found) else Status.OK
    return ProbeResult(probe=probe, status=status, elapsed_ms=1.0, findings=found)


def _other(code: str, probe: str) -> Finding:
    return Finding(id=code, severity=Severity.ERROR, title=f"{code} title", detail="", remediation="", probe=probe)


def test_the_join_says_agreement_and_disagreement() -> None:
    answers = world.answers()
    critical = world.with_insight(answers["private-cluster-dns"], "Critical", "DNS resolution failures")
    j = judge(served({"private-cluster-dns": critical, "snat-usage": answers["snat-usage"]}))
    mine = ProbeResult(probe="detectors", status=Status.FAIL, elapsed_ms=1.0, findings=j.findings)
    dns = _with("private_dns", _other("DNS012", "private_dns"))
    lb = _with("lb", _other("LB004", "lb"))  # a pending Service: not SNAT, so not what snat-usage is about
    joined = {f.evidence["detector"]: f for f in relate([mine, dns, lb])[0].findings}
    assert joined["private-cluster-dns"].evidence["agrees"] is True
    assert "aksdiag agrees: DNS012 (private_dns)" in joined["private-cluster-dns"].detail
    assert joined["snat-usage"].evidence["agrees"] is True
    assert joined["snat-usage"].detail.endswith("aksdiag agrees: lb found nothing wrong either.")
    snat = _with("lb", _other("LB001", "lb"))
    (said,) = [f for f in relate([mine, dns, snat])[0].findings if f.evidence["detector"] == "snat-usage"]
    assert said.evidence["agrees"] is False and "aksdiag disagrees: it found LB001 (lb)" in said.detail
    (alone,) = [f for f in relate([mine])[0].findings if f.evidence["detector"] == "private-cluster-dns"]
    assert "could not compare" in alone.detail


EXPECTED = {
    "detectors-healthy": ["DET003"] * 8,
    "detectors-dns-critical": ["DET001"] + ["DET003"] * 7,
    "detectors-snat-critical": ["DET001"] + ["DET003"] * 7,
    "detectors-udr-warning": ["DET002"] + ["DET003"] * 7,
    "detectors-few": ["DET003"] * 2,
    "detectors-denied": ["DET004"],
}


def world_facts(name: str) -> dict[Any, Any]:
    """The documents a world serves at each detector's path, its 403 faults, and 404 for the rest (as the fake
    ARM answers them, without the HTTP)."""
    from aksdiag.lab import armworld

    docs = {str(b["_path"]).lower(): b for b in armworld.build(name) if b.get("_document")}
    denied = armworld.faults(name)
    answers: dict[str, AzureDocument] = {}
    for detector, need in needs().items():
        if any(pattern in need.path.lower() for pattern in denied):
            answers[detector] = _error(need.path, 403, "AuthorizationFailed")
        elif need.path.lower() in docs:
            body = {k: v for k, v in docs[need.path.lower()].items() if k not in ("_document", "_path")}
            answers[detector] = AzureDocument(body=body, requests=1)
    return facts(answers)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_world_gives_its_codes(name: str) -> None:
    assert name in world.WORLDS and sorted(EXPECTED) == sorted(world.WORLDS)
    j = detectors.judge("", SETTINGS, world_facts(name))
    assert ids(j) == sorted(EXPECTED[name]), name


def test_no_older_world_serves_a_detector() -> None:
    """Every world before issue 15's detectors 404s every detector: the probe is left out of check, no code."""
    from aksdiag.lab import armworld

    for name in armworld.WORLDS:
        if name.startswith("detectors-"):
            continue
        with pytest.raises(Skip, match="no AKS detector answered here"):
            detectors.plan("", SETTINGS, world_facts(name))
