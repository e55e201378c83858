"""cluster_state end to end: `aksdiag check --cluster` against the fake ARM serving each state-* world (the real
Azure SDK clients) and the DNS lab serving the DNS plane, from a jump box in the spoke. Each world names exactly
its CL code, said first; a node bootstrap exit code is joined with the finding that explains it (52 with the DNS
chain's and private_dns's, 51 with the API server subnet's NSG, 50 with the route that drops the
nodes' egress); a stopped cluster's API server is skipped with
the reason, never reported unreachable; the healthy world names no CL code; ARM saw GETs only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.lab import armworld

AZURE = ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]

# world → (the DNS scenario that plays its DNS plane, its CL codes)
TABLE: dict[str, tuple[str, set[str]]] = {
    "healthy": ("healthy", set()),
    "state-stopped": ("healthy", {"CL001"}),
    "state-failed-dns": ("no-forwarder", {"CL006"}),  # the hub's custom server has no forwarder, the hub no link
    "state-failed-connect": ("vnet-integration", {"CL007"}),
    "state-failed-outbound": ("healthy", {"CL008"}),
    "state-upgrading": ("healthy", {"CL003"}),
    "state-pool-failed": ("healthy", {"CL004"}),
    "state-pool-stopped": ("healthy", {"CL005"}),
}


@pytest.fixture
def run(planes: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """run(world, scenario, command="check", output="json") → (exit code, the report), GETs only asserted."""

    def start(world: str, scenario: str, command: str = "check", output: str = "json") -> tuple[int, Any]:
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
        fake = planes(world, scenario)
        rc = main([command, *AZURE, "--timeout", "1", "--output", output])
        out = capsys.readouterr().out
        assert fake.requests and fake.writes() == [], "read-only, and it did read"
        return rc, json.loads(out) if output == "json" else out

    return start


def cl(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in doc["findings"] if f["probe"] == "cluster_state"}


def probe(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["probes"] if p["probe"] == name)


@pytest.mark.parametrize("world", sorted(TABLE))
def test_each_world_names_its_code_first(run: Any, world: str) -> None:
    scenario, expected = TABLE[world]
    rc, doc = run(world, scenario)
    assert doc["probes"][0]["probe"] == "cluster_state", "the cluster's state is said first"
    assert set(cl(doc)) == expected, doc["findings"]
    assert doc["probes"][0]["status"] == (
        "ok" if not expected else "warn" if expected <= {"CL003", "CL005"} else "fail"
    )
    assert rc == 1, "the lab has no API server at the private address (API001) in every world but the stopped one"


def test_stopped_cluster_is_said_first_not_as_a_dead_api_server(run: Any) -> None:
    rc, doc = run("state-stopped", "healthy")
    api = probe(doc, "apiserver")
    assert api["status"] == "skipped" and api["reason"].startswith(
        "the cluster aks-lab is stopped (powerState Stopped)"
    )
    assert "az aks start -g rg-aks -n aks-lab" in api["reason"]
    assert not [f for f in doc["findings"] if f["probe"] == "apiserver"], "no API0xx for a stopped cluster"
    assert [f["id"] for f in doc["findings"]] == ["CL001"] and rc == 1 and doc["verdict"] == "broken"
    assert cl(doc)["CL001"]["command"] == "az aks start -g rg-aks -n aks-lab"


def test_stopped_cluster_in_text_leads_the_report(run: Any) -> None:
    _, out = run("state-stopped", "healthy", output="text")
    assert out.index("Cluster state") < out.index("DNS resolution chain")
    assert "CL001 error" in out and "is stopped" in out


def test_apiserver_command_skips_a_stopped_cluster_with_the_reason(run: Any) -> None:
    rc, doc = run("state-stopped", "healthy", command="apiserver")
    (api,) = doc["probes"]
    assert api["status"] == "skipped" and "is stopped" in api["reason"] and doc["findings"] == []
    assert rc == 0


def test_exit_52_is_joined_with_the_dns_findings_that_explain_it(run: Any) -> None:
    _, doc = run("state-failed-dns", "no-forwarder")
    f = cl(doc)["CL006"]
    assert {r["id"] for r in f["evidence"]["related"]} == {"DNS001", "DNS011"}
    assert "Here is why: DNS001 (dns_chain): " in f["detail"] and "DNS011 (private_dns): " in f["detail"]
    assert f["detail"].startswith("The cluster and pool nodepool1: the nodes' bootstrap (vmssCSE) exited 52")


def test_exit_52_with_a_healthy_dns_plane_says_nothing_explains_it_here(run: Any) -> None:
    _, doc = run("state-failed-dns", "healthy")
    f = cl(doc)["CL006"]
    assert [r["id"] for r in f["evidence"]["related"]] == ["DNS011"], "ARM still shows the hub's missing link"


def test_exit_51_is_joined_with_the_nsg_that_blocks_4443(run: Any) -> None:
    _, doc = run("state-failed-connect", "vnet-integration")
    f = cl(doc)["CL007"]
    related = {r["id"] for r in f["evidence"]["related"]}
    assert "API006" in related and all(r.startswith(("API", "TUN")) for r in related), related
    assert "Here is why: " in f["detail"] and "on TCP 443 and 4443" in f["remediation"]


def test_exit_50_is_joined_with_the_route_that_drops_the_nodes_egress(run: Any) -> None:
    _, doc = run("state-failed-outbound", "healthy")
    f = cl(doc)["CL008"]
    assert f["evidence"]["relates_to"]["probes"] == ["outbound", "egress"]
    assert "Here is why: EG010 (outbound): " in f["detail"], "the node subnet's default route to None, named first"
    assert all(r["id"].startswith("EG") for r in f["evidence"]["related"])


def test_explain_prints_each_code(capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(1, 10):
        assert main(["explain", f"CL{n:03d}"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"CL{n:03d}") and "learn.microsoft.com" in out
