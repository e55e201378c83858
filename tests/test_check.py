"""aksdiag check: every probe that has what it needs, in one report; the others skipped with their reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aksdiag.cli import main
from aksdiag.lab import arm, armworld
from aksdiag.lab import world as dns_lab


def test_nothing_given_every_probe_says_why_it_skipped(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    rc = main(["check", "--output", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["verdict"] == "ok"
    reasons = {p["probe"]: (p["status"], p.get("reason", "")) for p in doc["probes"]}
    assert reasons["dns_chain"] == ("skipped", "no name to trace: pass --fqdn, or --cluster and --resource-group")
    assert reasons["private_dns"][0] == "skipped" and "--cluster" in reasons["private_dns"][1]
    assert reasons["apiserver"][0] == "skipped" and "no-kubeconfig" in reasons["apiserver"][1]
    assert "az aks get-credentials" in reasons["apiserver"][1]
    assert reasons["ipplan"][0] == "skipped"


@pytest.mark.parametrize(
    ("world", "scenario", "codes"),
    [("healthy", "healthy", set()), ("record-stale", "wrong-endpoint", {"DNS007", "DNS012"})],
)
def test_with_a_cluster(world: str, scenario: str, codes: set[str], tmp_path: Path, capsys, monkeypatch) -> None:
    w = arm.ArmWorld()
    for body in armworld.build(world):
        w.add(body)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    with arm.FakeArm(w, tmp_path / "tls") as fake, dns_lab.start(scenario, "python", tmp_path / "dns") as lab:
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        monkeypatch.setenv("AKSDIAG_ADDRESS_MAP", f"{armworld.DNS_SERVER_IP}={lab.endpoints['custom']}")
        monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(lab.resolv_conf))
        monkeypatch.setenv("AKSDIAG_AZURE_DNS", str(lab.azure_dns))
        rc = main(["check", "--subscription", armworld.SUBSCRIPTION, "-g", "rg-aks", "--cluster", "aks-lab",
                   "--timeout", "1", "--output", "json"])  # fmt: skip
        assert fake.writes() == []
    doc = json.loads(capsys.readouterr().out)
    statuses = {p["probe"]: p["status"] for p in doc["probes"]}
    assert (
        statuses["private_dns"] != "skipped" and statuses["ipplan"] != "skipped" and statuses["dns_chain"] != "skipped"
    )
    api = next(p for p in doc["probes"] if p["probe"] == "apiserver")
    tcp = [h for h in api["hops"] if h["kind"] == "tcp"]
    assert tcp and all("not sent" in h["detail"] for h in tcp), "the cluster's private address is never dialled"
    assert {f["id"] for f in doc["findings"] if not f["id"].startswith("API")} == codes
    # the lab has no API server at the private address, which is not dialled: API001, an error, in every world
    assert {f["id"] for f in doc["findings"] if f["id"].startswith("API")} == {"API001"}
    assert rc == 1 and doc["verdict"] == "broken"
