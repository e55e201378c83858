"""`aksdiag dns --cluster`: the fake ARM and the DNS lab together, broken consistently on both planes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aksdiag.cli import main
from aksdiag.lab import armworld
from aksdiag.lab.scenarios import SCENARIOS

CLUSTER_ARGS = ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]


def run_json(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    rc = main(["dns", *CLUSTER_ARGS, "--timeout", "1", "--output", "json", *extra])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("world", "scenario", "codes", "rc"),
    [
        ("healthy", "healthy", set(), 0),
        ("hub-not-linked", "healthy", {"DNS011"}, 1),
        ("record-stale", "wrong-endpoint", {"DNS007", "DNS012"}, 1),
        ("peering-down", "healthy", {"DNS014"}, 1),
        ("denied", "healthy", {"AZ001"}, 0),
        ("shadowed", "healthy", {"DNS019"}, 1),
        ("byo-zone", "healthy", set(), 0),
        ("missing-role", "healthy", {"DNS015"}, 0),
        ("vnet-integration", "vnet-integration", set(), 0),
        ("zone-none", "zone-none", set(), 0),
    ],
)
def test_worlds(planes, capsys, world: str, scenario: str, codes: set[str], rc: int) -> None:
    fake = planes(world, scenario)
    got_rc, doc = run_json(capsys)
    assert {f["id"] for f in doc["findings"]} == codes, doc["findings"]
    assert got_rc == rc
    assert doc["target"] == f"{armworld.CLUSTER_RG}/{armworld.CLUSTER}"
    assert [p["probe"] for p in doc["probes"]] == ["dns_chain", "private_dns"]
    chain = doc["probes"][0]
    lab = SCENARIOS[scenario]
    assert chain["facts"]["name"] == lab.fqdn, "the cluster's private FQDN (its public one with zone none)"
    assert [h["server"] for h in chain["hops"] if h["kind"] == "custom-dns"] == ["10.1.0.4:53"], "the VNet's DNS"
    assert chain["facts"]["expect"] == list(lab.expect), "the private endpoint's (or ILB's) address"
    assert fake.writes() == [] and fake.requests, "read-only, and it did read"


@pytest.mark.bind
def test_both_planes_with_bind(planes, capsys, bind_required) -> None:
    """The stale record, seen by ARM (DNS012) and by real BIND servers answering the old address (DNS007)."""
    fake = planes("record-stale", "wrong-endpoint", backend="bind")
    rc, doc = run_json(capsys)
    assert {f["id"] for f in doc["findings"]} == {"DNS007", "DNS012"} and rc == 1
    assert fake.writes() == []


def test_a_pod_whose_resolver_is_off_the_vnet_dns_is_dns036(planes, capsys, tmp_path: Path, monkeypatch) -> None:
    """In a pod (KUBERNETES_SERVICE_HOST) that is no ClusterFirst pod, the resolver is the node's: DNS036. No service
    account token is mounted here, so cluster_dns's reads fail as facts and the run goes on (it used to exit 3)."""
    planes("healthy", "healthy")
    stale = tmp_path / "stale-resolv.conf"
    stale.write_text("nameserver 10.1.0.99\n")
    monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(stale))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    _, doc = run_json(capsys)
    found = [f for f in doc["findings"] if f["id"] in ("DNS013", "DNS036")]
    assert [f["id"] for f in found] == ["DNS036"], "a pod that is no ClusterFirst pod is the node's view: DNS036"
    assert found[0]["severity"] == "warning"
    assert "10.1.0.4" in found[0]["detail"] and "10.1.0.99" in found[0]["detail"]


def test_missing_cluster_is_named(planes, capsys) -> None:
    planes("healthy", "healthy")
    rc = main(["dns", "--subscription", armworld.SUBSCRIPTION, "-g", "rg-aks", "--cluster", "nope", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert [f["id"] for f in doc["findings"]] == ["AZ002"]
    assert doc["probes"][0]["status"] == "skipped" and "private FQDN" in doc["probes"][0]["reason"]


def test_rejected_credentials_exit_3(planes, capsys) -> None:
    planes("healthy", "healthy", faults={"/managedclusters/": {"status": 401, "code": "ExpiredAuthenticationToken"}})
    assert main(["dns", *CLUSTER_ARGS, "--timeout", "1"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "az login" in err


@pytest.mark.parametrize(
    "argv",
    [["dns", "--cluster", "aks-lab"], ["dns", "-g", "rg-aks"], ["dns", "--cluster", "c", "-g", "rg"], ["dns"]],
)
def test_azure_usage_errors(argv: list[str], capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("aksdiag: error:")
