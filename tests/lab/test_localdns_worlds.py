"""The LocalDNS ARM worlds (localdns-*): registered, built from the healthy world and Learn's default LocalDNS
configuration, each differing from localdns-healthy in the one way its summary says, and served by the fake ARM
from the files `aksdiag lab arm --world` writes."""

from __future__ import annotations

import copy
import json
import ssl
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from aksdiag import localdns
from aksdiag.clusterdns import LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP
from aksdiag.lab import arm, armworld
from aksdiag.lab.armworld import localdns as worlds
from aksdiag.lab.scenarios import CLUSTER_FQDN, FORWARD_ZONE

LOCALDNS = [w for w in armworld.WORLDS if w.startswith("localdns-")]
Body = dict[str, Any]


def cluster(world: str) -> Body:
    return next(b for b in armworld.build(world) if b["type"].lower() == "microsoft.containerservice/managedclusters")


def raw(world: str) -> Body:
    (pool,) = cluster(world)["properties"]["agentPoolProfiles"]
    profile: Body = pool["localDNSProfile"]
    return profile


def typed(world: str) -> localdns.LocalDnsProfile:
    (p,) = localdns.profiles(cluster(world))
    return p


def test_the_worlds_are_registered_with_a_summary_each() -> None:
    assert list(worlds.WORLDS) == LOCALDNS and len(LOCALDNS) == 6
    assert all(armworld.WORLDS[w] == worlds.WORLDS[w] and len(worlds.WORLDS[w]) > 30 for w in LOCALDNS)
    with pytest.raises(ValueError, match="unknown LocalDNS world"):
        worlds.profile("localdns-nope")


@pytest.mark.parametrize("world", LOCALDNS)
def test_each_world_is_the_healthy_world_on_a_localdns_capable_pool(world: str) -> None:
    """Apart from the pool's version, image, size and profile, every body is the healthy world's."""
    built, healthy = armworld.build(world), armworld.build("healthy")
    assert [b["id"] for b in built] == [b["id"] for b in healthy]
    for b, h in zip(built, healthy, strict=True):
        if b["id"] != cluster(world)["id"]:
            assert b == h, b["id"]
    props = cluster(world)["properties"]
    (pool,) = props["agentPoolProfiles"]
    assert props["kubernetesVersion"] >= "1.31" and pool["orchestratorVersion"] == props["kubernetesVersion"]
    assert "2204" in pool["nodeImageVersion"] and pool["osType"] == "Linux", "LocalDNS needs Ubuntu 22.04 or newer"
    assert pool["vmSize"].startswith("Standard_D4"), "and 4 vCPUs or more"
    assert props["privateFQDN"] == CLUSTER_FQDN


def test_healthy_is_learns_default_configuration_enabled() -> None:
    seed = armworld.seed("local_dns_profile")
    assert raw("localdns-healthy") == {**seed, "state": "Enabled"}
    p = typed("localdns-healthy")
    assert p.enabled and p.mode == "Required" and all(o.configured for o in p.vnet_overrides + p.kube_overrides)
    vnet = localdns.for_listener(p, LOCALDNS_VNET_IP, CLUSTER_FQDN)
    kube = localdns.for_listener(p, LOCALDNS_KUBE_IP, CLUSTER_FQDN)
    assert vnet is not None and (vnet.domain, vnet.destination, vnet.force_tcp) == (".", "VnetDNS", False)
    assert kube is not None and (kube.domain, kube.destination, kube.force_tcp) == (".", "ClusterCoreDNS", False)


def _diff(world: str) -> dict[str, tuple[Any, Any]]:
    """The profile's leaves that differ from localdns-healthy's, by path."""

    def leaves(body: Any, at: str = "") -> dict[str, Any]:
        if isinstance(body, dict):
            return {k: v for key, value in body.items() for k, v in leaves(value, f"{at}/{key}").items()}
        return {at: body}

    a, b = leaves(raw("localdns-healthy")), leaves(raw(world))
    return {k: (a.get(k), b.get(k)) for k in sorted({*a, *b}) if a.get(k) != b.get(k)}


def test_force_tcp_forces_tcp_towards_the_vnets_servers_on_both_listeners() -> None:
    diff = _diff("localdns-force-tcp")
    assert diff.pop("/vnetDNSOverrides/./protocol") == ("PreferUDP", "ForceTCP")
    zone = {k.rsplit("/", 1)[1]: v for k, v in diff.items() if k.startswith(f"/kubeDNSOverrides/{FORWARD_ZONE}/")}
    assert len(zone) == len(diff), "the rest is one new kube-dns override for the zone"
    assert zone["protocol"] == (None, "ForceTCP") and zone["forwardDestination"] == (None, "VnetDNS")
    p = typed("localdns-force-tcp")
    for listener in (LOCALDNS_VNET_IP, LOCALDNS_KUBE_IP):
        o = localdns.for_listener(p, listener, CLUSTER_FQDN)
        assert o is not None and o.force_tcp and o.destination == "VnetDNS" and o.serve_stale == "Immediate", (
            "Learn: ForceTCP may not go with serveStale Verify"
        )
    kube = localdns.for_listener(p, LOCALDNS_KUBE_IP, "mcr.microsoft.com")
    assert kube is not None and not kube.force_tcp and kube.destination == "ClusterCoreDNS"


def test_skips_vnet_dns_sends_the_zone_from_the_vnet_listener_to_coredns() -> None:
    diff = _diff("localdns-skips-vnet-dns")
    assert {k.rsplit("/", 1)[0] for k in diff} == {f"/vnetDNSOverrides/{FORWARD_ZONE}"}
    assert diff[f"/vnetDNSOverrides/{FORWARD_ZONE}/forwardDestination"] == (None, "ClusterCoreDNS")
    p = typed("localdns-skips-vnet-dns")
    o = localdns.for_listener(p, LOCALDNS_VNET_IP, CLUSTER_FQDN)
    assert o is not None and (o.domain, o.destination) == (FORWARD_ZONE, "ClusterCoreDNS")
    other = localdns.for_listener(p, LOCALDNS_VNET_IP, "mcr.microsoft.com")
    assert other is not None and other.destination == "VnetDNS", "only the zone skips the VNet's DNS servers"


def test_long_cache_is_a_profile_of_defaults_an_hour_of_cache_and_stale() -> None:
    assert raw("localdns-long-cache") == {"mode": "Required", "state": "Enabled"}
    p = typed("localdns-long-cache")
    o = localdns.for_listener(p, LOCALDNS_VNET_IP, CLUSTER_FQDN)
    assert o is not None and not o.configured
    assert (o.cache_seconds, o.serve_stale, o.serve_stale_seconds, o.serves_stale) == (3600, "Immediate", 3600, True)


@pytest.mark.parametrize(("world", "mode"), [("localdns-disabled", "Disabled"), ("localdns-preferred", "Preferred")])
def test_disabled_and_preferred_pools_run_no_localdns(world: str, mode: str) -> None:
    assert _diff(world) == {"/mode": ("Required", mode), "/state": ("Enabled", "Disabled")}
    p = typed(world)
    assert (p.mode, p.state, p.enabled) == (mode, "Disabled", False)


def test_the_written_world_is_what_the_fake_arm_serves(tmp_path: Path) -> None:
    directory = armworld.write("localdns-skips-vnet-dns", tmp_path / "world")
    with arm.FakeArm(arm.ArmWorld.load(directory), tmp_path / "tls") as fake:
        request = urllib.request.Request(fake.endpoint + cluster("healthy")["id"] + "?api-version=2026-08-01")
        request.add_header("Authorization", "Bearer test")
        context = ssl.create_default_context(cafile=fake.ca_path)
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            body = json.loads(response.read())
    assert body["properties"]["agentPoolProfiles"][0]["localDNSProfile"] == raw("localdns-skips-vnet-dns")


def test_building_a_world_twice_shares_no_body() -> None:
    a = raw("localdns-skips-vnet-dns")
    a["vnetDNSOverrides"]["."]["protocol"] = "ForceTCP"
    assert raw("localdns-skips-vnet-dns")["vnetDNSOverrides"]["."]["protocol"] == "PreferUDP"
    assert copy.deepcopy(raw("localdns-healthy")) == raw("localdns-healthy")
