"""aksdiag.localdns, pure: each pool's localDNSProfile from a managedClusters body (defaults, garbage), and which
override a LocalDNS listener applies to a name (longest suffix, `.` else, AKS's forced destinations)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from aksdiag import localdns
from aksdiag.clusterdns import LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP

SEED = json.loads((Path(localdns.__file__).parent / "lab" / "arm_seeds" / "local_dns_profile.json").read_text())
ZONE = "privatelink.koreacentral.azmk8s.io"
FQDN = "aks-lab-k3x9q2.5e2c1a7b-3f4d-4e8a-9b6c-0d1e2f3a4b5c." + ZONE


def cluster(*pools: Any) -> dict[str, Any]:
    return {"properties": {"agentPoolProfiles": list(pools)}}


def pool(profile: Any = None, name: str = "nodepool1") -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "mode": "System"}
    if profile is not None:
        body["localDNSProfile"] = profile
    return body


def one(profile: Any) -> localdns.LocalDnsProfile:
    (p,) = localdns.profiles(cluster(pool(profile)))
    return p


def test_learns_default_configuration_reads_as_written() -> None:
    p = one({**copy.deepcopy(SEED), "state": "Enabled"})
    assert (p.pool, p.mode, p.state, p.enabled, p.configured) == ("nodepool1", "Required", "Enabled", True, True)
    by = {(o.listener, o.domain): o for o in p.vnet_overrides + p.kube_overrides}
    assert set(by) == {(ip, d) for ip in (LOCALDNS_VNET_IP, LOCALDNS_KUBE_IP) for d in (".", "cluster.local")}
    assert all(o.configured for o in by.values())
    root = by[(LOCALDNS_VNET_IP, ".")]
    assert (root.forward_destination, root.protocol, root.forward_policy, root.max_concurrent) == (
        "VnetDNS", "PreferUDP", "Sequential", 1000)  # fmt: skip
    assert (root.cache_seconds, root.serve_stale, root.serve_stale_seconds, root.query_logging) == (
        3600, "Immediate", 3600, "Error")  # fmt: skip
    assert by[(LOCALDNS_VNET_IP, "cluster.local")].force_tcp and not root.force_tcp
    assert by[(LOCALDNS_KUBE_IP, ".")].destination == "ClusterCoreDNS"


def test_absent_fields_take_the_documented_defaults() -> None:
    p = one({"mode": "Required", "state": "Enabled"})  # a profile that names only its mode
    vnet = {o.domain: o for o in p.vnet_overrides}
    kube = {o.domain: o for o in p.kube_overrides}
    assert set(vnet) == set(kube) == {".", "cluster.local"} and not any(
        o.configured for o in (*vnet.values(), *kube.values())
    )
    assert (vnet["."].destination, vnet["."].protocol) == ("VnetDNS", "PreferUDP")
    assert (vnet["cluster.local"].destination, vnet["cluster.local"].protocol) == ("ClusterCoreDNS", "ForceTCP")
    assert (kube["."].destination, kube["."].protocol) == ("ClusterCoreDNS", "PreferUDP")
    assert all(o.cache_seconds == 3600 and o.serve_stale == "Immediate" and o.serve_stale_seconds == 3600
               for o in (*vnet.values(), *kube.values()))  # fmt: skip
    partial = one({"vnetDNSOverrides": {ZONE: {"protocol": "ForceTCP"}}})
    assert (partial.mode, partial.state, partial.enabled) == ("Preferred", "Unknown", False)
    zone = next(o for o in partial.vnet_overrides if o.domain == ZONE)
    assert (zone.protocol, zone.forward_destination, zone.cache_seconds, zone.configured) == (
        "ForceTCP", "VnetDNS", 3600, True)  # fmt: skip


def test_a_pool_without_a_profile_is_disabled_and_unconfigured() -> None:
    (p, q) = localdns.profiles(cluster(pool(), pool({"mode": "Disabled"}, "user1")))
    assert (p.pool, p.mode, p.state, p.enabled, p.configured, p.vnet_overrides) == (
        "nodepool1", "Disabled", "Disabled", False, False, ())  # fmt: skip
    assert (q.pool, q.mode, q.state, q.configured) == ("user1", "Disabled", "Disabled", True)


@pytest.mark.parametrize(
    "body",
    [None, "x", 3, [], {}, {"properties": None}, {"properties": {"agentPoolProfiles": "nodepool1"}},
     {"properties": {"agentPoolProfiles": {"a": 1}}}],
)  # fmt: skip
def test_garbage_around_the_pools_is_no_pool(body: Any) -> None:
    assert localdns.profiles(body) == ()


def test_garbage_inside_a_profile_is_skipped_never_raised() -> None:
    assert [p.pool for p in localdns.profiles(cluster(7, None, "x", pool("on", "a"), {"name": 5}))] == ["a", ""]
    p = one({"mode": 3, "state": ["Enabled"], "vnetDNSOverrides": {"": {}, "  ": {}, "a.example": "ForceTCP",
             "b.example.": {"protocol": 1, "cacheDurationInSeconds": "300", "maxConcurrent": True,
                            "serveStaleDurationInSeconds": -5}},
             "kubeDNSOverrides": ["."]})  # fmt: skip
    assert (p.mode, p.state) == ("Preferred", "Unknown")
    vnet = {o.domain: o for o in p.vnet_overrides}
    assert set(vnet) == {".", "cluster.local", "b.example"}, "non-dict overrides and blank domains are skipped"
    b = vnet["b.example"]
    assert (b.protocol, b.cache_seconds, b.max_concurrent, b.serve_stale_seconds) == ("PreferUDP", 300, 1000, 3600)
    assert {o.domain for o in p.kube_overrides} == {".", "cluster.local"}


def test_the_longest_suffix_wins_and_dot_takes_the_rest() -> None:
    p = one({"state": "Enabled", "vnetDNSOverrides": {
        ZONE: {"protocol": "ForceTCP"},
        "koreacentral.azmk8s.io": {"cacheDurationInSeconds": 60},
        "azmk8s.io": {"cacheDurationInSeconds": 30}}})  # fmt: skip
    pick = localdns.for_listener
    assert pick(p, LOCALDNS_VNET_IP, FQDN + ".").domain == ZONE
    assert pick(p, LOCALDNS_VNET_IP, ZONE.upper()).domain == ZONE, "the zone itself; case does not matter"
    assert pick(p, LOCALDNS_VNET_IP, "x.hcp.koreacentral.azmk8s.io").domain == "koreacentral.azmk8s.io"
    assert pick(p, LOCALDNS_VNET_IP, "other.azmk8s.io").cache_seconds == 30
    assert pick(p, LOCALDNS_VNET_IP, "xprivatelink.koreacentral.azmk8s.io").domain == "koreacentral.azmk8s.io", (
        "a suffix counts at a label boundary only"
    )
    assert pick(p, LOCALDNS_VNET_IP, "microsoft.com").domain == "."
    assert pick(p, LOCALDNS_VNET_IP, "kubernetes.default.svc.cluster.local").domain == "cluster.local"
    kube = pick(p, LOCALDNS_KUBE_IP, FQDN)
    assert (kube.domain, kube.destination, kube.force_tcp) == (".", "ClusterCoreDNS", False), (
        "the kube-dns listener has its own map: the VNet listener's overrides do not apply"
    )
    assert pick(p, "10.0.0.10", FQDN) is None


def test_dot_falls_back_to_akss_default_when_no_override_covers_the_name() -> None:
    empty = localdns.LocalDnsProfile(pool="p", state="Enabled")
    got = localdns.for_listener(empty, LOCALDNS_VNET_IP, FQDN)
    assert got is not None and (got.domain, got.destination, got.configured) == (".", "VnetDNS", False)


@pytest.mark.parametrize(
    ("listener", "domain", "configured", "expected"),
    [
        (LOCALDNS_VNET_IP, ".", "ClusterCoreDNS", "VnetDNS"),  # AKS: the root of VNet DNS traffic always goes there
        (LOCALDNS_VNET_IP, ZONE, "ClusterCoreDNS", "ClusterCoreDNS"),
        (LOCALDNS_VNET_IP, ZONE, "VnetDNS", "VnetDNS"),
        (LOCALDNS_VNET_IP, "cluster.local", "VnetDNS", "ClusterCoreDNS"),  # cluster.local always goes to CoreDNS
        (LOCALDNS_KUBE_IP, ".", "VnetDNS", "VnetDNS"),
        (LOCALDNS_KUBE_IP, "svc.cluster.local", "VnetDNS", "ClusterCoreDNS"),
        (LOCALDNS_KUBE_IP, ZONE, "clustercoredns", "ClusterCoreDNS"),
    ],
)
def test_destination_is_where_the_node_really_forwards(
    listener: str, domain: str, configured: str, expected: str
) -> None:
    key = "vnetDNSOverrides" if listener == LOCALDNS_VNET_IP else "kubeDNSOverrides"
    p = one({"state": "Enabled", key: {domain: {"forwardDestination": configured}}})
    got = localdns.for_listener(p, listener, "a." + domain if domain != "." else "example.com")
    assert got is not None and got.domain == domain and got.forward_destination == configured
    assert got.destination == expected


def test_serve_stale_disabled_or_zero_serves_nothing_stale() -> None:
    p = one({"vnetDNSOverrides": {".": {"serveStale": "Disable"}, "a.example": {"serveStaleDurationInSeconds": 0},
                                  "b.example": {"serveStale": "Verify"}}})  # fmt: skip
    by = {o.domain: o.serves_stale for o in p.vnet_overrides}
    assert by == {".": False, "a.example": False, "b.example": True, "cluster.local": True}
