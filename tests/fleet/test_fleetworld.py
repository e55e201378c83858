"""The fleet worlds (aksdiag.lab.armworld.fleetworld): their shapes and counts, the planted faults, determinism, the
lab markers, and each kind of planted fault verified by `aksdiag check --cluster` on that cluster through the real
SDK and the fake ARM (the single-cluster command's verdict is what the fleet must find)."""

from __future__ import annotations

import collections
import ipaddress
import itertools
import json
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.fleet.queries import LINKS_BY_ZONE, fleet_queries
from aksdiag.lab import arm, armgraph
from aksdiag.lab.armworld import fleetworld as fw

FLEET_PROBES = {"cluster_state", "private_dns", "outbound", "ipplan", "lb"}
ZONE, LINK, CLUSTER = ("microsoft.network/privatednszones", "microsoft.network/privatednszones/virtualnetworklinks",
                       "microsoft.containerservice/managedclusters")  # fmt: skip


def of_type(bodies: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [b for b in bodies if str(b.get("type", "")).lower() == kind and "_index" not in b]


def subscriptions(bodies: list[dict[str, Any]]) -> dict[str, str]:
    return {
        b["subscriptionId"]: b["displayName"] for b in bodies if b.get("type") == "Microsoft.Resources/subscriptions"
    }


# ---------------------------------------------------------------- shapes and counts


def test_fleet_1000_has_the_counts_the_benchmark_names() -> None:
    bodies = fw.build("fleet-1000")
    assert len(of_type(bodies, CLUSTER)) == 1000
    assert len(subscriptions(bodies)) == 40
    assert len(of_type(bodies, ZONE)) == 2000
    assert len(of_type(bodies, LINK)) == 20000
    hubs = [n for n in subscriptions(bodies).values() if n.startswith("conn-prod-")]
    assert sorted(hubs) == ["conn-prod-eus", "conn-prod-krc", "conn-prod-neu", "conn-prod-weu"]
    assert len({b["id"].lower() for b in bodies if "id" in b and "_index" not in b}) == len(
        [b for b in bodies if "id" in b and "_index" not in b]
    ), "every resource id once"


def test_fleet_small_shape() -> None:
    w = fw.world("fleet-small")
    assert len(w.clusters) == 30 and len(w.subscriptions) == 6 and len(w.hubs) == 2
    per_sub = collections.Counter(c.split("/")[2] for c in w.clusters)
    assert set(per_sub) == set(w.subscriptions) - set(w.hubs) and set(per_sub.values()) <= {7, 8}
    modes = collections.Counter(
        "system" if c["properties"]["apiServerAccessProfile"]["privateDNSZone"] == "system" else "byo"
        for c in of_type(w.bodies, CLUSTER)
    )
    assert modes["system"] >= 6 and modes["byo"] >= 20


def test_every_world_is_listed_with_a_summary_and_builds() -> None:
    assert set(fw.WORLDS) == {"fleet-small", "fleet-healthy", "fleet-lag", "fleet-hidden-hub", "fleet-hidden-spoke",
                              "fleet-1000"}  # fmt: skip
    for name in fw.WORLDS:
        assert fw.WORLDS[name] and fw.build(name)
    with pytest.raises(ValueError, match="unknown fleet world"):
        fw.build("healthy")


def test_a_vnet_is_linked_to_one_zone_of_a_name_and_peered_vnets_do_not_overlap() -> None:
    """What Azure itself refuses: two same-named zones linked to one VNet; what a landing zone plans: spokes that
    do not overlap their hub or each other."""
    bodies = fw.build("fleet-1000")
    names = {b["id"].lower(): b["name"] for b in of_type(bodies, ZONE)}
    seen = collections.Counter(
        (b["properties"]["virtualNetwork"]["id"].lower(), names[b["id"].lower().split("/virtualnetworklinks/")[0]])
        for b in of_type(bodies, LINK)
    )
    assert max(seen.values()) == 1
    vnets = of_type(bodies, "microsoft.network/virtualnetworks")
    prefixes = [ipaddress.ip_network(p) for v in vnets for p in v["properties"]["addressSpace"]["addressPrefixes"]]
    assert len(prefixes) == 1004
    ordered = sorted(prefixes)
    assert all(not a.overlaps(b) for a, b in itertools.pairwise(ordered))


def test_generation_is_deterministic_and_the_seed_picks_the_broken_clusters() -> None:
    size = {"clusters": 200, "subscriptions": 12, "hubs": 3, "zones": 400, "links": 3000}
    one, two = fw.generate(**size, seed=3), fw.generate(**size, seed=3)
    assert json.dumps(one.bodies, sort_keys=True) == json.dumps(two.bodies, sort_keys=True)
    assert one.planted == two.planted and one.planted
    assert len(of_type(one.bodies, ZONE)) == 400 and len(of_type(one.bodies, LINK)) == 3000
    other = fw.generate(**size, seed=4)
    assert set(other.planted) != set(one.planted)


# ---------------------------------------------------------------- planted faults and markers


def test_fleet_small_plants_one_shared_cause_and_one_cluster_per_other_fault() -> None:
    w = fw.world("fleet-small")
    codes = collections.Counter(code for found in w.planted.values() for code in found)
    assert {c: n for c, n in codes.items() if c != "DNS011"} == {
        "DNS012": 2, "DNS014": 1, "CL001": 1, "CL002": 1, "EG010": 1, "IP004": 1,
    }  # fmt: skip
    assert all(len(found) == 1 for found in w.planted.values())
    clusters = {c["id"]: c for c in of_type(w.bodies, CLUSTER)}
    unlinked = [clusters[cid] for cid, found in w.planted.items() if found == {"DNS011"}]
    zones = {c["properties"]["apiServerAccessProfile"]["privateDNSZone"] for c in unlinked}
    assert len(zones) == 1 and zones.pop().endswith("/privateDnsZones/privatelink.northeurope.azmk8s.io")
    hub_1 = [c for c in clusters.values() if c["location"] == "northeurope"]
    byo = [c for c in hub_1 if c["properties"]["apiServerAccessProfile"]["privateDNSZone"] != "system"]
    assert len(unlinked) == len(byo) and len(hub_1) > len(byo), "every BYO cluster of hub 1, no system-zone one"


def test_the_healthy_world_plants_nothing_and_the_hidden_ones_only_what_they_hide() -> None:
    assert fw.planted("fleet-healthy") == {} and fw.world("fleet-healthy").lagged == {}
    assert fw.faults("fleet-healthy") == {}
    spoke = fw.world("fleet-hidden-spoke")
    (hidden,) = spoke.hidden
    assert spoke.planted == {} and fw.faults("fleet-hidden-spoke") == {"hidden_subscriptions": [hidden]}
    assert hidden not in spoke.hubs and any(c.split("/")[2] == hidden for c in spoke.clusters)
    hub = fw.world("fleet-hidden-hub")
    assert hub.hidden == {hub.hubs[1]}
    assert hub.planted and all(found == {"AZ001"} for found in hub.planted.values())
    assert all(c.split("/")[2] not in hub.hidden for c in hub.planted)


def test_management_groups_are_declared() -> None:
    w = fw.world("fleet-small")
    declared = {b["_management_group"]: b["subscriptions"] for b in w.bodies if "_management_group" in b}
    assert declared == w.management_groups
    assert sorted(declared["mg-connectivity"]) == sorted(w.hubs)
    assert sorted(declared["mg-landingzones-weu"] + declared["mg-landingzones-neu"]) == sorted(
        set(w.subscriptions) - set(w.hubs)
    )


def _graph(store: arm.ArmWorld, text: str, subs: list[str]) -> list[dict[str, Any]]:
    status, body = armgraph.answer(store, {"subscriptions": subs, "query": text, "options": {"$top": 1000}})
    assert status == 200, body
    rows: list[dict[str, Any]] = body["data"]
    return rows


def test_the_lag_world_is_behind_arm_where_it_says() -> None:
    """fleet-lag: Resource Graph lacks a system zone's link to the hub and still shows a started cluster stopped;
    ARM's GETs serve both as they are now."""
    w = fw.world("fleet-lag")
    assert sorted(collections.Counter(c for v in w.lagged.values() for c in v).items()) == [("CL001", 1),
                                                                                             ("DNS011", 2), ("DNS019", 2)]  # fmt: skip
    store = arm.ArmWorld()
    for body in fw.build("fleet-lag"):
        store.add(body)
    subs = sorted(w.subscriptions)
    links = {row["zone"]: {link["name"] for link in row["links"]} for row in _graph(store, LINKS_BY_ZONE, subs)}
    clusters = {r["id"]: r for r in _graph(store, fleet_queries()[0].text, subs)}
    for cid, codes in w.lagged.items():
        arm_body = store.resources[cid.lower()]
        if codes == {"CL001"}:
            assert clusters[cid]["properties"]["powerState"]["code"] == "Stopped"
            assert arm_body["properties"]["powerState"]["code"] == "Running" and "_index" not in arm_body
        else:
            node_rg = arm_body["properties"]["nodeResourceGroup"].lower()
            own = f"/subscriptions/{cid.split('/')[2]}/resourcegroups/{node_rg}/providers/microsoft.network/"
            (zone,) = [z for z in links if z.startswith(own)]
            assert links[zone] == {"link-aks"}, "the hub link is not indexed yet"
            assert f"{zone}/virtualnetworklinks/link-hub" in store.resources, "ARM serves it"


# ---------------------------------------------------------------- the faults as check --cluster sees them


def _kinds(name: str) -> dict[str, str]:
    """One cluster per planted code (the first in id order), and one healthy cluster."""
    w = fw.world(name)
    out: dict[str, str] = {}
    for cid in sorted(w.planted):
        out.setdefault("+".join(sorted(w.planted[cid])), cid)
    out["healthy"] = next(c for c in w.clusters if c not in w.planted and c not in w.lagged)
    return out


def as_indexed(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The world as Resource Graph's rows show it: what it does not list yet left out, its stale copies in place of
    ARM's bodies."""
    stale = {b["id"].lower() for b in bodies if b.get("_index") == "stale"}
    kept = [b for b in bodies if b.get("_index") != "missing" and ("id" not in b or b["id"].lower() not in stale)]
    return [b for b in kept if "_index" not in b] + [
        {k: v for k, v in b.items() if k != "_index"} for b in bodies if b.get("_index") == "stale"
    ]


SMALL = _kinds("fleet-small")
CASES = [("fleet-small", k, v) for k, v in sorted(SMALL.items())]
CASES += [("fleet-hidden-hub", "AZ001", _kinds("fleet-hidden-hub")["AZ001"])]
CASES += [
    ("fleet-lag", "lagged " + "+".join(sorted(codes)), cid) for cid, codes in fw.world("fleet-lag").lagged.items()
]


@pytest.mark.parametrize("cluster_id", sorted(fw.world("fleet-lag").lagged), ids=lambda c: c.rsplit("/", 1)[1])
def test_check_on_the_world_as_resource_graph_lists_it_finds_the_lagged_codes(cluster_id, fake_arm, monkeypatch,
                                                                               tmp_path, capsys) -> None:  # fmt: skip
    """What the lag world says Resource Graph's rows raise is what check says of an ARM that really were so."""
    fake = fake_arm(as_indexed(fw.build("fleet-lag")), faults={})
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    assert _check(cluster_id, capsys) == fw.world("fleet-lag").lagged[cluster_id]


def _check(cluster_id: str, capsys: pytest.CaptureFixture[str]) -> set[str]:
    sub, rg, cluster = cluster_id.split("/")[2], cluster_id.split("/")[4], cluster_id.split("/")[8]
    main(["check", "--subscription", sub, "-g", rg, "--cluster", cluster, "--timeout", "1", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert {p["probe"] for p in doc["probes"]} >= FLEET_PROBES
    return {f["id"] for f in doc["findings"] if f["probe"] in FLEET_PROBES and f["severity"] != "info"}


@pytest.mark.parametrize(("name", "kind", "cluster_id"), CASES, ids=[f"{n}:{k}" for n, k, _ in CASES])
def test_check_on_the_cluster_finds_what_was_planted(name, kind, cluster_id, fake_arm, monkeypatch, tmp_path,
                                                     capsys) -> None:  # fmt: skip
    """`check --cluster` (every read a GET of ARM as it is now) names exactly the planted codes of the fleet's
    probes on that cluster: none on a healthy or a lagged one."""
    fake = fake_arm(fw.build(name), faults=fw.faults(name))
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    assert _check(cluster_id, capsys) == fw.world(name).planted.get(cluster_id, set())
    assert not fake.graph_queries(), "check reads by GET only"


# ---------------------------------------------------------------- aksdiag lab fleet


def test_lab_fleet_serves_a_world_aksdiag_fleet_judges(monkeypatch, capsys) -> None:
    """`aksdiag lab fleet --world fleet-small` in its own process, as a user starts it; `aksdiag fleet` pointed at
    it by the environment it prints names exactly the planted clusters; Ctrl-C stops it cleanly."""
    import re
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "aksdiag", "lab", "fleet", "--world", "fleet-small"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        seen = ""
        while "Ctrl-C stops it" not in seen:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            seen += line
        for name in ("AKSDIAG_ARM_ENDPOINT", "REQUESTS_CA_BUNDLE"):
            monkeypatch.setenv(name, re.search(rf"{name}=(\S+)", seen).group(1))  # type: ignore[union-attr]
        assert main(["fleet", "-o", "json"]) == 1
        doc = json.loads(capsys.readouterr().out)
        found = {
            c["id"]: {f["id"] for f in c["report"]["findings"] if f["severity"] != "info"} for c in doc["clusters"]
        }
        assert {k: v for k, v in found.items() if v} == fw.planted("fleet-small")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "stopped" in err and "Traceback" not in err, err


@pytest.mark.parametrize(("args", "says"), [
    (["--world", "healthy"], "not a fleet world"),
    (["--world", "fleet-small", "--port", "70000"], "not a port number"),
    (["--world", "fleet-small", "--latency-ms", "-1"], "--latency-ms"),
])  # fmt: skip
def test_lab_fleet_bad_input_is_a_usage_error(args: list[str], says: str) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "aksdiag", "lab", "fleet", *args], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2
