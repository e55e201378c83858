"""aksdiag check over every DNS lab scenario: the CLI, the real probes and the lab's servers on loopback.

`check` takes the context flags only (no --server, --expect, --count): the custom DNS servers come from the host's
resolv.conf (the lab's), Azure DNS from AKSDIAG_AZURE_DNS. The API server probe tests the same name; the lab has
no API server and AKSDIAG_LOOPBACK_ONLY=1 keeps it from dialling the private address the name resolves to.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aksdiag.cli import main
from aksdiag.lab.scenarios import SCENARIOS

NEEDS_DNS_FLAGS = {
    "wrong-endpoint": "DNS007 needs --expect (the endpoint's address), a flag of `aksdiag dns`",
    "resolver-diverges": "DNS008 needs --server (the server the host should use), a flag of `aksdiag dns`",
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_check_names_the_scenarios_fault(name: str, start_world, tmp_path: Path, capsys, monkeypatch) -> None:
    scenario = SCENARIOS[name]
    world = start_world(scenario)
    monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(world.resolv_conf))
    monkeypatch.setenv("AKSDIAG_AZURE_DNS", str(world.azure_dns))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    rc = main(["check", "--fqdn", scenario.fqdn, "--timeout", "1", "--output", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "check" and doc["target"] == scenario.fqdn
    probes = {p["probe"]: p for p in doc["probes"]}
    assert probes["dns_chain"]["status"] != "skipped"
    for azure_only in ("private_dns", "ipplan"):
        assert probes[azure_only]["status"] == "skipped"
        assert probes[azure_only]["reason"].startswith("no Azure context: pass --cluster")
    dns_codes = {f["id"] for f in doc["findings"] if f["probe"] == "dns_chain" and f["severity"] != "info"}
    if name in NEEDS_DNS_FLAGS:
        assert not dns_codes & scenario.expected, NEEDS_DNS_FLAGS[name]
    else:
        assert dns_codes == set(scenario.expected)
    api = probes["apiserver"]
    tcp = [h for h in api["hops"] if h["kind"] == "tcp"]
    assert all("not sent" in h["detail"] for h in tcp), "the private endpoint's address is never dialled"
    api_codes = {f["id"] for f in doc["findings"] if f["probe"] == "apiserver"}
    (resolver,) = [h for h in probes["dns_chain"]["hops"] if h["kind"] == "resolver"]
    assert api["hops"][0]["answers"] == resolver["answers"], "both probes ask the same host resolver"
    # the name gives an address: it is not dialled (API001); it gives none: API009. Both are errors.
    assert api_codes == ({"API001"} if resolver["answers"] else {"API009"}), api_codes
    assert rc == 1 and doc["verdict"] == "broken"


def test_check_text_output_reports_every_probe_once(start_world, tmp_path: Path, capsys, monkeypatch) -> None:
    world = start_world("no-forwarder")
    monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(world.resolv_conf))
    monkeypatch.setenv("AKSDIAG_AZURE_DNS", str(world.azure_dns))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    assert main(["check", "--fqdn", world.scenario.fqdn, "--timeout", "1"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"aksdiag check {world.scenario.fqdn}\nverdict BROKEN")
    assert out.count("DNS resolution chain") == 1 and "DNS001 error" in out
    assert "no Azure context: pass --cluster" in out
