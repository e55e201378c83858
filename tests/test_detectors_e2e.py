"""detectors end to end: `aksdiag check --cluster …` with the real Azure SDK pipeline against the fake ARM serving the
AKS detectors' answers (aksdiag.lab.armworld.detectors) and the DNS lab on loopback; the join says whether aksdiag's
own probes agree with Microsoft's verdict. Each verdict's code is judged from facts in tests/probes/test_detectors.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.lab import armworld

ARGS = ["check", "--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER,
        "--timeout", "1"]  # fmt: skip


def check(planes: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          world: str, scenario: str = "healthy") -> tuple[int, dict[str, Any], Any]:  # fmt: skip
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    fake = planes(world, scenario)
    rc = main([*ARGS, "--output", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert fake.writes() == [] and {r.method for r in fake.requests} == {"GET"}, "aksdiag only reads from Azure"
    return rc, doc, fake


def mine(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["evidence"].get("detector", f["id"]): f for f in doc["findings"] if f["probe"] == "detectors"}


def test_microsoft_and_aksdiag_agree_on_a_stale_record(planes, capsys, tmp_path, monkeypatch) -> None:
    rc, doc, fake = check(planes, capsys, tmp_path, monkeypatch, "detectors-dns-critical", "wrong-endpoint")
    found = mine(doc)
    dns = found["private-cluster-dns"]
    assert dns["id"] == "DET001" and dns["severity"] == "error"
    assert dns["evidence"]["agrees"] is True, dns["detail"]
    assert "says Critical: We found DNS resolution failures with private cluster operations." in dns["detail"]
    assert "aksdiag agrees: DNS0" in dns["detail"] and "DNS012 (private_dns)" in dns["detail"]
    assert {r["id"] for r in dns["evidence"]["related"]} >= {"DNS012"}
    assert sorted(f["id"] for f in found.values()) == ["DET001"] + ["DET003"] * 7
    assert rc == 1
    sent = [r for r in fake.requests if "/detectors/" in r.path]
    assert len(sent) == 8 and all("api-version=2024-08-01" in r.query and "startTime=" in r.query for r in sent)


def test_microsoft_sees_snat_failures_aksdiag_does_not(planes, capsys, tmp_path, monkeypatch) -> None:
    rc, doc, _ = check(planes, capsys, tmp_path, monkeypatch, "detectors-snat-critical")
    snat = mine(doc)["snat-usage"]
    assert snat["id"] == "DET001" and snat["evidence"]["agrees"] is False
    assert snat["detail"].endswith("aksdiag disagrees: lb found nothing wrong here.")
    assert snat["evidence"]["verdict"]["insights"][0]["data"]["Failed SNAT connections"] == "1204"
    dns = mine(doc)["private-cluster-dns"]
    assert dns["id"] == "DET003" and dns["evidence"]["agrees"] is True
    assert dns["detail"].endswith("aksdiag agrees: dns_chain, private_dns found nothing wrong either.")
    (probe,) = [p for p in doc["probes"] if p["probe"] == "detectors"]
    assert probe["status"] == "fail"
    (table,) = probe["tables"]
    rows = {r[0]: r for r in table["rows"]}
    assert table["columns"] == ["detector", "verdict", "Microsoft says", "compared with"]
    assert rows["snat-usage"][1:] == ["Critical", f"SNAT port exhaustion was detected for the '{armworld.PUBLIC_LB_IP}' "
                                      "outbound IP: connections failed.", "lb"]  # fmt: skip
    assert rc == 1


def test_where_no_detector_is_served_the_probe_is_left_out(planes, capsys, tmp_path, monkeypatch) -> None:
    _, doc, fake = check(planes, capsys, tmp_path, monkeypatch, "healthy")
    assert "detectors" not in {p["probe"] for p in doc["probes"]}
    assert not [f for f in doc["findings"] if f["id"].startswith("DET")]
    assert len([r for r in fake.requests if "/detectors/" in r.path]) == 8, "asked, answered 404, said nothing"


def test_a_few_detectors_the_rest_quiet(planes, capsys, tmp_path, monkeypatch) -> None:
    _, doc, _ = check(planes, capsys, tmp_path, monkeypatch, "detectors-few")
    assert sorted(mine(doc)) == ["private-cluster-dns", "snat-usage"]
    (probe,) = [p for p in doc["probes"] if p["probe"] == "detectors"]
    assert probe["status"] == "ok"
    quiet = [h for h in probe["hops"] if h["status"] == "skipped"]
    assert len(quiet) == 6 and all(h["detail"].startswith("not available here (404") for h in quiet)


def test_refused_detectors_are_a_note(planes, capsys, tmp_path, monkeypatch) -> None:
    _, doc, _ = check(planes, capsys, tmp_path, monkeypatch, "detectors-denied")
    (note,) = mine(doc).values()
    assert note["id"] == "DET004" and note["severity"] == "info"
    assert "8 detector read(s) refused (403 AuthorizationFailed)" in note["detail"]
    (probe,) = [p for p in doc["probes"] if p["probe"] == "detectors"]
    assert probe["status"] == "ok"


def test_text_report_shows_the_verdicts_beside_aksdiags(planes, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    planes("detectors-snat-critical", "healthy")
    assert main(ARGS) == 1
    out = capsys.readouterr().out
    assert "Microsoft's detectors" in out and "DET001" in out and "aksdiag disagrees" in out


def test_a_warning_on_user_defined_routing_meets_the_outbound_probe(planes, capsys, tmp_path, monkeypatch) -> None:
    """detectors-udr-warning sets outboundType userDefinedRouting with no route table: Microsoft warns, and the
    outbound probe finds what breaks egress there."""
    _, doc, _ = check(planes, capsys, tmp_path, monkeypatch, "detectors-udr-warning")
    udr = mine(doc)["user-defined-routing"]
    assert udr["id"] == "DET002" and udr["severity"] == "warning"
    assert udr["detail"].startswith("User Defined Routing (user-defined-routing) says Warning: Cluster egress pathway "
                                    "is set to user defined routing.")  # fmt: skip
    assert udr["evidence"]["agrees"] is True and "aksdiag agrees: EG0" in udr["detail"]
    assert {r["probe"] for r in udr["evidence"]["related"]} == {"outbound"}
