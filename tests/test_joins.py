"""aksdiag.joins: a finding that points at other probes is joined with their findings once all results are in."""

from __future__ import annotations

from aksdiag.joins import relate
from aksdiag.model import Finding, ProbeResult, Severity, Status


def _finding(code: str, probe: str, severity: Severity = Severity.ERROR, **evidence: object) -> Finding:
    return Finding(code, severity, f"title of {code}", f"detail of {code}.", "fix", probe, evidence=dict(evidence))


def _result(probe: str, *findings: Finding, status: Status = Status.FAIL) -> ProbeResult:
    return ProbeResult(probe, status, 1.0, findings=findings)


CAUSE = {"probes": ["dns_chain", "private_dns"], "as": "cause"}
AGREEMENT = {"probes": ["dns_chain"], "as": "agreement"}


def test_a_cause_names_the_findings_that_explain_it() -> None:
    cse = _finding("CL005", "cluster_state", relates_to=CAUSE)
    results = [_result("cluster_state", cse), _result("dns_chain", _finding("DNS001", "dns_chain"),
               _finding("DNS037", "dns_chain", Severity.INFO))]  # fmt: skip
    (joined, chain) = relate(results)
    (f,) = joined.findings
    assert f.detail.startswith("detail of CL005. Here is why: DNS001 (dns_chain): title of DNS001")
    assert [r["id"] for r in f.evidence["related"]] == ["DNS001"], "info findings explain nothing"
    assert "(private_dns did not run here)" not in f.detail
    assert chain is results[1], "a result without a relating finding is kept as it is"


def test_a_cause_with_nothing_found_says_so_and_which_probes_did_not_run() -> None:
    cse = _finding("CL005", "cluster_state", relates_to=CAUSE)
    results = [_result("cluster_state", cse), _result("dns_chain", status=Status.OK),
               _result("private_dns", status=Status.SKIPPED)]  # fmt: skip
    (f,) = relate(results)[0].findings
    assert f.detail.endswith("dns_chain found nothing here that explains it (private_dns did not run here).")
    assert f.evidence["related"] == []
    (g,) = relate([_result("cluster_state", cse)])[0].findings
    assert g.detail.endswith("The probes that would explain it (dns_chain, private_dns) did not run here.")


def test_agreement_both_ways() -> None:
    critical = _finding("DET001", "detectors", Severity.WARNING, relates_to=AGREEMENT)
    healthy = _finding("DET002", "detectors", Severity.INFO, relates_to=AGREEMENT)
    broken = _result("dns_chain", _finding("DNS002", "dns_chain"))
    fine = _result("dns_chain", status=Status.OK)
    cases = [(critical, broken, True, "aksdiag agrees: DNS002"), (critical, fine, False, "aksdiag disagrees: dns_chain"),
             (healthy, fine, True, "aksdiag agrees: dns_chain found nothing wrong either"),
             (healthy, broken, False, "aksdiag disagrees: it found DNS002")]  # fmt: skip
    for finding, other, agrees, said in cases:
        (f,) = relate([_result("detectors", finding), other])[0].findings
        assert f.evidence["agrees"] is agrees, (finding.id, other.status)
        assert said in f.detail, f.detail


def test_codes_narrow_what_relates_and_a_joined_finding_is_not_joined_twice() -> None:
    spec = {"probes": ["apiserver"], "as": "cause", "codes": ["API00"]}
    cse = _finding("CL005", "cluster_state", relates_to=spec)
    api = _result("apiserver", _finding("API001", "apiserver"), _finding("API010", "apiserver"))
    once = relate([_result("cluster_state", cse), api])
    (f,) = once[0].findings
    assert [r["id"] for r in f.evidence["related"]] == ["API001"]
    assert relate(once)[0].findings[0].detail == f.detail


def test_the_same_code_many_times_is_named_once_with_its_count() -> None:
    cse = _finding("CL008", "cluster_state", relates_to={"probes": ["egress"], "as": "cause"})
    egress = _result("egress", *(_finding("EG001", "egress") for _ in range(11)), _finding("EG003", "egress"))
    (f,) = relate([_result("cluster_state", cse), egress])[0].findings
    assert "Here is why: EG001 (egress) ×11: title of EG001; EG003 (egress): title of EG003." in f.detail
    assert len(f.evidence["related"]) == 12


def test_agreement_with_nothing_compared_is_neither() -> None:
    healthy = _finding("DET003", "detectors", Severity.INFO, relates_to=AGREEMENT)
    (f,) = relate([_result("detectors", healthy)])[0].findings
    assert f.evidence["agrees"] is None
    assert f.detail.endswith("aksdiag could not compare: dns_chain did not run here.")
