"""Every lab scenario, served by the pure-Python lab and by real BIND 9: aksdiag names the same findings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from aksdiag import runner
from aksdiag.lab.scenarios import SCENARIOS, Scenario
from aksdiag.model import Report, Severity, Status, Verdict
from aksdiag.plan import Plan

ALL = sorted(SCENARIOS)


def diagnose(world) -> Report:
    return runner.run(Plan.of("dns", world.scenario.fqdn, world.settings(), ["dns_chain"]))


def alarm_codes(report: Report) -> set[str]:
    return {f.id for f in report.findings if f.severity is not Severity.INFO}


def check(report: Report, scenario: Scenario) -> None:
    result = report.probes[0]
    assert result.status is not Status.ERROR, result.reason
    assert alarm_codes(report) == set(scenario.expected), report.to_dict()["findings"]
    if not scenario.expected:
        assert report.verdict is Verdict.OK
    elif any(f.severity is Severity.ERROR for f in report.findings):
        assert report.verdict is Verdict.BROKEN


@pytest.mark.parametrize("name", ALL)
def test_python_lab(name: str, start_world) -> None:
    world = start_world(name, "python")
    check(diagnose(world), world.scenario)


@pytest.mark.bind
@pytest.mark.parametrize("name", [n for n in ALL if not SCENARIOS[n].python_only])
def test_bind_lab(name: str, start_world, bind_required) -> None:
    world = start_world(name, "bind")
    check(diagnose(world), world.scenario)


def test_healthy_world_hops_all_ok(start_world) -> None:
    report = diagnose(start_world("healthy"))
    hops = report.probes[0].hops
    assert [h.kind for h in hops] == ["resolver", "custom-dns", "azure-dns", "endpoint"]
    assert all(h.status is Status.OK for h in hops)
    assert hops[2].answers == ("10.224.0.4",)
    assert "5e2c1a7b-3f4d-4e8a-9b6c-0d1e2f3a4b5c.privatelink.koreacentral.azmk8s.io" in hops[2].detail


def test_no_forwarder_remediation_names_zone_and_server(start_world) -> None:
    world = start_world("no-forwarder")
    (finding,) = diagnose(world).findings
    custom = world.endpoints["custom"]
    assert finding.id == "DNS001"
    assert finding.hop == 2
    assert "privatelink.koreacentral.azmk8s.io" in finding.remediation
    assert f"on {custom}" in finding.remediation
    assert f"→ {world.azure_dns}" in finding.remediation
    assert "NXDOMAIN" in finding.detail and "10.224.0.4" in finding.detail


def test_dead_server_costs_one_timeout(start_world) -> None:
    world = start_world("dead-server")
    report = runner.run(Plan.of("dns", world.scenario.fqdn, world.settings(timeout=1.0), ["dns_chain"]))
    assert "DNS005" in alarm_codes(report)
    # asked over UDP and TCP on two hops, a dead server would cost at least 2 s if each query waited its turn
    assert report.elapsed_ms < 1900, "a dead server must cost one timeout, not one per hop or transport"


def test_off_azure_skips_the_azure_hop_with_info(start_world) -> None:
    report = diagnose(start_world("off-azure"))
    azure_hop = next(h for h in report.probes[0].hops if h.kind == "azure-dns")
    assert azure_hop.status is Status.SKIPPED
    assert [f.id for f in report.findings] == ["DNS010"]
    assert report.findings[0].severity is Severity.INFO


def test_cli_json_on_a_broken_world_exits_1(start_world) -> None:
    world = start_world("stale-copy")
    proc = subprocess.run(
        [sys.executable, "-m", "aksdiag", *world.dns_args(), "--output", "json", "--timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "aksdiag.report/v1"
    assert doc["verdict"] == "broken"
    assert [f["id"] for f in doc["findings"]] == ["DNS003"]
    assert Report.from_dict(doc).to_dict() == doc
