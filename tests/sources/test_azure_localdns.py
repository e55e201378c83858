"""The Azure source keeps each agent pool's localDNSProfile: the real SDK client reads the managedClusters GET from
the fake ARM, and the body aksdiag keeps holds the profile in ARM's camelCase, so aksdiag.localdns reads it."""

from __future__ import annotations

import asyncio
import copy
import urllib.parse
from typing import Any

import pytest
from azure.mgmt.containerservice import models

from aksdiag import localdns
from aksdiag.clusterdns import LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP
from aksdiag.facts import AzureContext, AzureContextNeed
from aksdiag.lab import arm, armworld
from aksdiag.lab.armworld import localdns as worlds
from aksdiag.lab.scenarios import CLUSTER_FQDN, FORWARD_ZONE
from aksdiag.sources import azure


@pytest.fixture
def serve(fake_arm: Any) -> Any:
    return fake_arm


def read(fake: arm.FakeArm) -> AzureContext:
    need = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, fake.endpoint)
    return asyncio.run(azure.fetch(need))


def _cluster(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    return next(b for b in bodies if b["type"].lower() == "microsoft.containerservice/managedclusters")


def test_the_kept_cluster_body_holds_the_profile_as_arm_sent_it(serve) -> None:
    bodies = armworld.build("localdns-skips-vnet-dns")
    fake = serve(bodies)
    ctx = read(fake)
    assert ctx.errors == (), [e.reason for e in ctx.errors]
    assert ctx.cluster is not None
    (kept,) = ctx.cluster["properties"]["agentPoolProfiles"]
    (sent,) = _cluster(bodies)["properties"]["agentPoolProfiles"]
    assert kept["localDNSProfile"] == sent["localDNSProfile"], "camelCase keys, every override, state included"
    assert set(kept["localDNSProfile"]["vnetDNSOverrides"]) == {".", "cluster.local", FORWARD_ZONE}
    (get,) = [r for r in fake.requests if r.path.lower().endswith("/managedclusters/" + armworld.CLUSTER)]
    version = urllib.parse.parse_qs(get.query)["api-version"][0]
    assert version >= "2025", f"the SDK's api-version {version} is one with localDNSProfile"

    (p,) = localdns.profiles(ctx.cluster)
    assert (p.pool, p.mode, p.state, p.enabled) == ("nodepool1", "Required", "Enabled", True)
    vnet = localdns.for_listener(p, LOCALDNS_VNET_IP, CLUSTER_FQDN)
    kube = localdns.for_listener(p, LOCALDNS_KUBE_IP, CLUSTER_FQDN)
    assert vnet is not None and (vnet.domain, vnet.destination) == (FORWARD_ZONE, "ClusterCoreDNS")
    assert kube is not None and (kube.domain, kube.destination) == (".", "ClusterCoreDNS")


def test_the_sdk_model_of_the_api_version_knows_the_profile() -> None:
    """What the SDK itself makes of the body: the profile is a typed field of its agent pool model, not an extra
    key it would drop were the body re-serialised."""
    profile = worlds.profile("localdns-force-tcp")
    model = models.ManagedClusterAgentPoolProfile({"name": "nodepool1", "localDNSProfile": copy.deepcopy(profile)})
    assert model.local_dns_profile is not None and model.local_dns_profile.state == "Enabled"
    assert model.local_dns_profile.vnet_dns_overrides["."].protocol == "ForceTCP"
    assert model.as_dict()["localDNSProfile"] == profile


@pytest.mark.parametrize("world", list(worlds.WORLDS))
def test_each_localdns_world_reads_back_as_built(serve, world: str) -> None:
    bodies = armworld.build(world)
    ctx = read(serve(bodies))
    assert ctx.errors == (), [e.reason for e in ctx.errors]
    assert ctx.cluster is not None
    assert localdns.profiles(ctx.cluster) == localdns.profiles(_cluster(bodies))


def test_a_cluster_without_localdns_reads_as_unconfigured_pools(serve) -> None:
    ctx = read(serve(armworld.build("healthy")))
    assert ctx.cluster is not None
    (p,) = localdns.profiles(ctx.cluster)
    assert (p.pool, p.mode, p.state, p.enabled, p.configured) == ("nodepool1", "Disabled", "Disabled", False, False)
