"""The Azure source: the real SDK clients against the fake ARM, read-only by construction."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksdiag.errors import AksdiagError
from aksdiag.exitcodes import ExitCode
from aksdiag.facts import AzureContext, AzureContextNeed
from aksdiag.lab import arm, armworld
from aksdiag.sources import azure


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    fakes: list[arm.FakeArm] = []

    def start(world: str, faults: dict | None = None, latency_s: float = 0.0) -> arm.FakeArm:
        w = arm.ArmWorld()
        for body in armworld.build(world):
            w.add(body)
        w.faults = faults if faults is not None else armworld.faults(world)
        fake = arm.FakeArm(w, tmp_path / "tls", latency_s=latency_s)
        fakes.append(fake)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        return fake

    yield start
    for f in fakes:
        f.close()


def read(fake: arm.FakeArm, cluster: str = armworld.CLUSTER) -> AzureContext:
    need = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, cluster, fake.endpoint)
    return asyncio.run(azure.fetch(need))


def test_reads_the_whole_dns_path(serve) -> None:
    fake = serve("healthy")
    ctx = read(fake)
    assert ctx.errors == ()
    assert ctx.cluster and ctx.cluster["name"] == "aks-lab"
    assert {v["name"] for v in ctx.vnets.values()} == {"vnet-aks", "vnet-hub"}, "the hub is found through peering"
    assert ctx.zone and [link["name"] for link in ctx.zone["links"]] == ["link-aks", "link-hub"]
    assert [r["name"] for r in ctx.zone["records"]] == ["aks-lab-k3x9q2"]
    assert ctx.endpoints[0]["nics"][0]["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] == (
        "10.224.0.4"
    )
    assert ctx.zone_mode == "system"
    assert fake.writes() == [] and all(r.method == "GET" and r.authorized for r in fake.requests)


def test_reads_of_one_level_are_concurrent(serve) -> None:
    fake = serve("healthy", latency_s=0.15)
    read(fake)
    spans = sorted((r.started, r.ended) for r in fake.requests)
    overlapping = sum(1 for a, b in itertools.pairwise(spans) if b[0] < a[1])
    assert overlapping >= 3, "the VNet, zone, links, records and endpoint reads must be in flight together"


def test_a_403_is_a_fact_and_the_other_reads_go_on(serve) -> None:
    ctx = read(serve("denied"))
    (error,) = ctx.errors
    assert error.status == 403 and error.code == "AuthorizationFailed"
    assert error.action == "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read"
    assert ctx.zone and ctx.zone["links"] is None and ctx.zone["records"], "records were still read"
    assert ctx.endpoints


def test_a_missing_cluster_is_a_404_fact(serve) -> None:
    ctx = read(serve("healthy"), cluster="nope")
    assert ctx.cluster is None
    assert [(e.status, e.code) for e in ctx.errors] == [(404, "ResourceNotFound")]


def test_429_is_retried_honouring_retry_after(serve) -> None:
    fake = serve("healthy", faults={"/managedclusters/": {"status": 429, "retry_after": 0, "times": 1}})
    ctx = read(fake)
    assert ctx.cluster is not None and ctx.errors == ()
    statuses = [r.status for r in fake.requests if "/managedclusters/" in r.path.lower()]
    assert sorted(statuses) == [200, 200, 429], "the cluster and its endpoint connections; the 429 was retried"


def test_401_stops_with_exit_3(serve) -> None:
    fake = serve("healthy", faults={"/managedclusters/": {"status": 401, "code": "InvalidAuthenticationToken"}})
    with pytest.raises(AksdiagError) as e:
        read(fake)
    assert e.value.exit_code is ExitCode.CANNOT_RUN and "az login" in e.value.hint


def test_a_write_is_refused_before_it_leaves_the_process(serve) -> None:
    fake = serve("healthy")
    from azure.mgmt.network.aio import NetworkManagementClient

    async def attempt() -> None:
        async with NetworkManagementClient(
            azure.StaticToken("t"), armworld.SUBSCRIPTION, base_url=fake.endpoint,
            credential_scopes=[fake.endpoint + "/.default"], **azure.client_kwargs(),
        ) as client:  # fmt: skip
            await client.virtual_networks.begin_delete(armworld.CLUSTER_RG, "vnet-aks")

    with pytest.raises(azure.WriteRefused, match="DELETE"):
        asyncio.run(attempt())
    assert fake.requests == [], "nothing reached the server"


def test_cloud_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AKSDIAG_ARM_ENDPOINT")
    assert azure.endpoint_for(None) == "https://management.azure.com"
    assert azure.endpoint_for("AzureChinaCloud") == "https://management.chinacloudapi.cn"
    assert azure.endpoint_for("AzureUSGovernment") == "https://management.usgovcloudapi.net"
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", "https://127.0.0.1:9443")
    assert azure.endpoint_for("AzureChinaCloud") == "https://127.0.0.1:9443", "the env var wins (Azure Stack, lab)"


def test_static_token_takes_precedence_over_default_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AKSDIAG_ARM_TOKEN", "from-az-cli")
    credential = azure.credential()
    assert isinstance(credential, azure.StaticToken)
    assert asyncio.run(credential.get_token("https://management.azure.com/.default")).token == "from-az-cli"
