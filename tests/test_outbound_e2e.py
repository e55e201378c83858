"""The outbound probe end to end: `aksdiag check --cluster …` with the real Azure SDK against the fake ARM's
egress-* worlds, beside the DNS lab (the check's other probes run too; only the outbound probe is asserted here,
each code's world is judged from facts in tests/probes/test_outbound.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.lab import arm, armworld
from aksdiag.lab import world as dns_lab

CHECK = ["check", "--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER,
         "--timeout", "1"]  # fmt: skip


def run(world: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str = "json") -> int:
    w = arm.ArmWorld()
    for body in armworld.build(world):
        w.add(body)
    w.faults = armworld.faults(world)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    with arm.FakeArm(w, tmp_path / "tls") as fake, dns_lab.start("healthy", "python", tmp_path / "dns") as lab:
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        monkeypatch.setenv("AKSDIAG_ADDRESS_MAP", f"{armworld.DNS_SERVER_IP}={lab.endpoints['custom']}")
        monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(lab.resolv_conf))
        monkeypatch.setenv("AKSDIAG_AZURE_DNS", str(lab.azure_dns))
        rc = main([*CHECK, "--output", output])
        assert fake.requests and fake.writes() == [] and all(r.method == "GET" for r in fake.requests)
    return rc


def outbound_of(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    doc = json.loads(capsys.readouterr().out)
    (probe,) = [p for p in doc["probes"] if p["probe"] == "outbound"]
    return probe, [f for f in doc["findings"] if f["probe"] == "outbound"]


@pytest.mark.parametrize(
    ("world", "status", "codes"),
    [
        ("egress-healthy", "ok", []),
        ("egress-udr-firewall", "ok", ["EG011"]),
        ("egress-route-none", "fail", ["EG010"]),
        ("egress-nat-over-lb", "warn", ["EG018"]),
    ],
)
def test_check_judges_the_way_out(world: str, status: str, codes: list[str], tmp_path, monkeypatch, capsys) -> None:
    rc = run(world, tmp_path, monkeypatch)
    probe, findings = outbound_of(capsys)
    assert probe["status"] == status and sorted(f["id"] for f in findings) == codes, findings
    subnet = next(h for h in probe["hops"] if h["kind"] == "subnet")
    assert subnet["name"] == "snet-aks" and subnet["server"] == "nodepool1"
    if status == "fail":
        assert rc == 1


def test_the_healthy_dns_world_raises_no_egress_code(tmp_path, monkeypatch, capsys) -> None:
    run("healthy", tmp_path, monkeypatch)
    probe, findings = outbound_of(capsys)
    assert probe["status"] == "ok" and findings == []
    assert probe["facts"]["outbound_type"] == "loadBalancer"


def test_the_text_report_says_the_route(tmp_path, monkeypatch, capsys) -> None:
    run("egress-route-none", tmp_path, monkeypatch, output="text")
    out = capsys.readouterr().out
    assert "EG010" in out and "rt-aks" in out


def test_explain_prints_an_outbound_code(capsys) -> None:
    assert main(["explain", "EG016"]) == 0
    assert "userDefinedRouting" in capsys.readouterr().out
