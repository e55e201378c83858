"""Renderers against golden files (one per format, read in a diff). AKSDIAG_UPDATE_GOLDEN=1 rewrites them.

The reports are built in memory: 168.63.129.16 in tests/golden/ is report text, never a destination (no source
runs here, and AKSDIAG_LOOPBACK_ONLY=1 would refuse it anyway)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from aksdiag import codes
from aksdiag.model import Hop, ProbeResult, Report, Status, Verdict
from aksdiag.render import render
from aksdiag.settings import AZURE_DNS

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
NAME = "aks-x.5e2c1a7b.privatelink.koreacentral.azmk8s.io"
AZURE = AZURE_DNS.host  # only a string in a report here: nothing is sent


def sample_report() -> Report:
    finding = codes.DNS001.at(
        "dns_chain",
        hop=2,
        server="10.1.0.4 (custom DNS)",
        server_host="10.1.0.4",
        name=NAME,
        zone="privatelink.koreacentral.azmk8s.io",
        forward_to=AZURE,
        outcome="NXDOMAIN",
        azure_view=f"Azure DNS ({AZURE}) answered 10.224.0.4",
        note="",
        remediation="Add a conditional forwarder for privatelink.koreacentral.azmk8s.io → 168.63.129.16 on 10.1.0.4. The server must sit in a VNet linked to the private zone, or forward to a DNS Private Resolver inbound endpoint in one.",
        command=f"Add-DnsServerConditionalForwarderZone -Name privatelink.koreacentral.azmk8s.io -MasterServers {AZURE}",
        evidence={"10.1.0.4:53": {"udp": {"outcome": "nxdomain"}}},
    )
    info = codes.DNS010.at("dns_chain", hop=3, server=f"{AZURE} (Azure DNS)", timeout="2", name=NAME)
    hops = (
        Hop(
            1,
            "resolver",
            "host resolver",
            Status.FAIL,
            server="10.1.0.4:53",
            rcode="NXDOMAIN",
            elapsed_ms=3.21,
            detail="/etc/resolv.conf: nameservers 10.1.0.4 (custom DNS); answered by 10.1.0.4",
        ),
        Hop(
            2,
            "custom-dns",
            "custom DNS",
            Status.FAIL,
            server="10.1.0.4:53",
            rcode="NXDOMAIN",
            elapsed_ms=3.2,
            detail="UDP: NXDOMAIN in 3 ms; TCP: NXDOMAIN in 4 ms",
        ),
        Hop(
            3,
            "azure-dns",
            "Azure DNS",
            Status.OK,
            server=str(AZURE_DNS),
            rcode="NOERROR",
            answers=("10.224.0.4",),
            cname_chain=("alias." + NAME,),
            elapsed_ms=1.04,
            detail="zone x | y",
        ),
        Hop(4, "endpoint", "expected endpoint", Status.FAIL, answers=("10.224.0.4",)),
    )
    probe = ProbeResult(
        "dns_chain",
        Status.FAIL,
        12.34,
        hops=hops,
        findings=(info, finding),
        facts={"name": NAME},
        title="DNS resolution chain",
    )
    skipped = ProbeResult("other", Status.SKIPPED, 0.0, reason="no Azure context: pass --cluster", title="Other")
    return Report("dns", NAME, (probe, skipped), elapsed_ms=15.6, version="0.0.0-test")


@pytest.mark.parametrize("fmt,suffix", [("text", "txt"), ("json", "json"), ("markdown", "md")])
def test_golden(fmt: str, suffix: str) -> None:
    out = io.StringIO()
    render(sample_report(), fmt, out)
    path = GOLDEN / f"report.{suffix}"
    if os.environ.get("AKSDIAG_UPDATE_GOLDEN") == "1":
        path.write_text(out.getvalue())
    assert out.getvalue() == path.read_text()


def test_json_is_the_contract_and_round_trips() -> None:
    report = sample_report()
    out = io.StringIO()
    render(report, "json", out)
    doc = json.loads(out.getvalue())
    assert set(doc) == {"schema", "tool", "command", "target", "verdict", "elapsed_ms", "probes", "findings"}
    assert doc["schema"] == "aksdiag.report/v1" and doc["verdict"] == "broken"
    hop_keys = {"index", "kind", "name", "server", "status", "rcode", "answers", "cname_chain", "elapsed_ms", "detail"}
    assert set(doc["probes"][0]["hops"][0]) == hop_keys
    finding_keys = {"id", "severity", "title", "detail", "remediation", "command", "probe", "hop", "evidence", "docs"}
    assert all(set(f) == finding_keys for f in doc["findings"])
    assert [f["id"] for f in doc["findings"]] == ["DNS001", "DNS010"], "errors first"
    assert Report.from_dict(doc).to_dict() == doc


def test_verdicts() -> None:
    warn = codes.DNS018.at("p", resolv_conf="r", servers="s", custom_servers="c")
    base = ProbeResult("p", Status.WARN, 1.0, findings=(warn,))
    assert Report("dns", "x", (base,), 1.0).verdict is Verdict.DEGRADED
    assert Report("dns", "x", (ProbeResult("p", Status.OK, 1.0),), 1.0).verdict is Verdict.OK


def test_text_pastes_cleanly() -> None:
    out = io.StringIO()
    render(sample_report(), "text", out)
    text = out.getvalue()
    assert "\x1b[" not in text, "no colour codes when not on a terminal"
    assert all(line == line.rstrip() for line in text.splitlines()), "no trailing blanks"
    assert all(len(line) <= 110 for line in text.splitlines())
