"""`aksdiag demo` and `aksdiag lab up/list` as a newcomer runs them: real processes on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import dns.message
import dns.query
from labup import lab, lab_up

from aksdiag.lab.lzscenarios import LZ_SCENARIOS
from aksdiag.lab.scenarios import DEMO_SCENARIO, SCENARIOS

AKSDIAG = [sys.executable, "-m", "aksdiag"]


def test_demo_names_the_broken_hop() -> None:
    proc = subprocess.run([*AKSDIAG, "demo"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "DNS001" in proc.stdout
    assert "privatelink.koreacentral.azmk8s.io" in proc.stdout
    assert f"scenario {DEMO_SCENARIO!r}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_runs_every_probe_on_the_cluster_world() -> None:
    """DNS001 from the DNS scenario; LB004 and DNS015 from the cluster world, whose identity lacks Network
    Contributor; API009 because the jump box's resolver (the custom server) cannot resolve the API server's name —
    one story told by every probe, in the world's own addresses, the Azure and Kubernetes sides on loopback."""
    proc = subprocess.run([*AKSDIAG, "demo", "-o", "json"], capture_output=True, text=True, timeout=90)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1, proc.stderr
    assert sorted(f["id"] for f in doc["findings"]) == ["API009", "DNS001", "DNS015", "LB004"]
    status = {p["probe"]: p["status"] for p in doc["probes"]}
    assert list(status) == ["cluster_state", "dns_chain", "cluster_dns", "private_dns", "apiserver", "signin",
                            "outbound", "tunnel", "ipplan", "lb"]  # fmt: skip  (egress and detectors: no reason here)
    assert "skipped" not in status.values(), status
    assert doc["target"] == "rg-aks/aks-lab" and "cluster world 'lb-pending'" in proc.stderr
    (dns001,) = [f for f in doc["findings"] if f["id"] == "DNS001"]
    assert "→ 168.63.129.16 on 10.1.0.4" in dns001["remediation"]
    assert "127.0.0.1" not in proc.stdout, "the lab's loopback addresses leak into the world's story"


def test_demo_healthy_scenario_exits_0_with_no_fault() -> None:
    argv = [*AKSDIAG, "demo", "--scenario", "healthy", "--world", "lb-healthy"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No fault found" in proc.stdout
    # the API server tile ran against the lab's API server at the private endpoint's address
    assert "API server reachability  ok" in proc.stdout and "10.224.0.4:443  → open" in proc.stdout


def test_demo_without_a_cluster_world_traces_the_dns_chain_alone() -> None:
    argv = [*AKSDIAG, "demo", "--world", "none", "-o", "json"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and [p["probe"] for p in doc["probes"]] == ["dns_chain"]
    assert [f["id"] for f in doc["findings"]] == ["DNS001"]


def test_demo_unknown_world_is_a_usage_error() -> None:
    proc = subprocess.run([*AKSDIAG, "demo", "--world", "nope"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "unknown cluster world" in proc.stderr


def test_demo_unknown_scenario_is_a_usage_error() -> None:
    proc = subprocess.run([*AKSDIAG, "demo", "--scenario", "nope"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown scenario" in proc.stderr


def test_lab_list_names_every_scenario() -> None:
    out = subprocess.run([*AKSDIAG, "lab", "list"], capture_output=True, text=True, timeout=60, check=True).stdout
    for name, scenario in {**SCENARIOS, **LZ_SCENARIOS}.items():
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        for code in scenario.expected:
            assert code in line


def test_lab_up_serves_until_interrupted() -> None:
    with lab_up("stale-copy") as up:
        assert "custom" in up.ports, up.text
        query = dns.message.make_query(SCENARIOS["stale-copy"].fqdn, "A")
        answer = dns.query.udp(query, "127.0.0.1", port=up.ports["custom"], timeout=2)
        assert [r.to_text() for r in answer.answer[0]] == ["10.224.0.9"]
        assert "aksdiag dns" in up.text
    assert up.returncode == 0, up.stderr
    assert "lab stopped" in up.stderr


def test_lab_up_serves_a_landing_zone_scenario() -> None:
    """lz-rule-fixed: the spoke's Azure DNS view sends the zone's name by its rule to the inbound endpoint."""
    with lab_up("lz-rule-fixed") as up:
        assert {"azure", "azure-rules"} <= set(up.ports), up.text
        query = dns.message.make_query(LZ_SCENARIOS["lz-rule-fixed"].fqdn, "A")
        answer = dns.query.udp(query, "127.0.0.1", port=up.ports["azure"], timeout=2)
        assert [r.to_text() for r in answer.answer[0]] == ["10.224.0.4"]
    assert up.returncode == 0, up.stderr


def test_lab_arm_serves_a_world_the_sdk_can_read() -> None:
    import json
    import ssl
    import urllib.request

    from aksdiag.lab import armworld

    with lab("arm", "--world", "healthy") as served:
        endpoint = re.search(r"AKSDIAG_ARM_ENDPOINT=(\S+)", served.text).group(1)  # type: ignore[union-attr]
        ca = re.search(r"REQUESTS_CA_BUNDLE=(\S+)", served.text).group(1)  # type: ignore[union-attr]
        cluster = (
            f"/subscriptions/{armworld.SUBSCRIPTION}/resourceGroups/{armworld.CLUSTER_RG}"
            f"/providers/Microsoft.ContainerService/managedClusters/{armworld.CLUSTER}"
        )
        request = urllib.request.Request(endpoint + cluster, headers={"Authorization": "Bearer lab"})
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=ca), timeout=5) as r:
            assert json.loads(r.read())["name"] == armworld.CLUSTER
    assert served.returncode == 0, served.stderr


def test_lab_arm_unknown_world_is_a_usage_error() -> None:
    proc = subprocess.run([*AKSDIAG, "lab", "arm", "--world", "nope"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "neither an ARM world nor a directory" in proc.stderr
