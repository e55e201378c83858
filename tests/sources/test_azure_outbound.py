"""The way-out reads of the Azure source (sources.azure.outbound): the real SDK clients against the fake ARM, GET
only, in the round the subnet NSGs are read — and what they read is what tests/probes/test_outbound.py builds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aksdiag.azfacts import digest
from aksdiag.facts import AzureContext, AzureContextNeed
from aksdiag.lab import arm, armworld
from aksdiag.lab.armworld import egress
from aksdiag.sources import azure
from tests.probes.test_outbound import context


@pytest.fixture
def serve(fake_arm: Any) -> Any:
    return fake_arm


def read(fake: arm.FakeArm) -> AzureContext:
    need = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, fake.endpoint)
    return asyncio.run(azure.fetch(need))


def paths(fake: arm.FakeArm, fragment: str) -> list[str]:
    return [r.path for r in fake.requests if fragment in r.path.lower()]


def rounds(fake: arm.FakeArm) -> dict[str, int]:
    """Each request's round: one more than the highest round of the requests that ended before it started."""
    done: list[tuple[float, int]] = []
    out: dict[str, int] = {}
    for r in sorted(fake.requests, key=lambda r: r.started):
        n = 1 + max((k for ended, k in done if ended <= r.started), default=0)
        out[r.path.split("?")[0].lower()] = n
        done.append((r.ended, n))
    return out


@pytest.mark.parametrize("world", ["egress-udr-firewall", "egress-nat-over-lb", "egress-nsg-denies-https"])
def test_reads_the_way_out_as_the_probe_tests_build_it(serve, world: str) -> None:
    ctx = read(serve(world))
    assert ctx.errors == ()
    built = context(world)
    assert set(ctx.route_tables) == set(built.route_tables) and set(ctx.nat_gateways) == set(built.nat_gateways)
    assert set(ctx.nsgs) == set(built.nsgs) and egress.NIC_NSG.lower() in ctx.nsgs
    assert [s["name"] for s in ctx.scale_sets] == [armworld.VMSS]
    assert digest(ctx).route_tables == digest(built).route_tables, "the SDK's body digests as the world's does"
    assert digest(ctx).nat_gateways == digest(built).nat_gateways
    assert digest(ctx).nic_nsgs_of("nodepool1") == digest(built).nic_nsgs_of("nodepool1")


def test_a_world_without_them_reads_one_empty_scale_set_list(serve) -> None:
    fake = serve("healthy")
    ctx = read(fake)
    assert ctx.route_tables == {} and ctx.nat_gateways == {} and ctx.scale_sets == []
    assert len(paths(fake, "/virtualmachinescalesets")) == 1 and not paths(fake, "/routetables/")


def test_no_new_round(serve) -> None:
    read(serve("healthy"))  # warm: the SDKs' first import must not pass for a round
    healthy = serve("healthy", latency_s=0.2)
    read(healthy)
    base = max(rounds(healthy).values())
    fake = serve("egress-nat-over-lb", latency_s=0.2)
    read(fake)
    found = rounds(fake)
    assert max(found.values()) == base, found
    nsg = next(n for p, n in found.items() if p.endswith("/aks-agentpool-12345678-nsg"))
    nat = next(n for p, n in found.items() if p.endswith("/natgateways/ng-aks"))
    vmss = next(n for p, n in found.items() if p.endswith("/virtualmachinescalesets"))
    assert vmss == 2 and nsg == nat == 3, (
        "the scale sets beside the VNets; NIC NSGs and NAT gateways beside subnet NSGs"
    )


def test_a_refused_route_table_is_a_fact_and_the_rest_is_read(serve) -> None:
    message = (
        "The client 'aksdiag-lab' does not have authorization to perform action 'Microsoft.Network/routeTables/read'"
    )
    fake = serve("egress-udr-firewall", faults={"/routetables/": {"status": 403, "code": "AuthorizationFailed",
                                                                  "message": message}})  # fmt: skip
    ctx = read(fake)
    (error,) = ctx.errors
    assert error.status == 403 and error.action == "Microsoft.Network/routeTables/read"
    assert error.scope.lower() == egress.ROUTE_TABLE.lower()
    assert ctx.route_tables == {} and ctx.scale_sets and egress.NIC_NSG.lower() in ctx.nsgs


def test_an_unlistable_node_resource_group_leaves_no_scale_sets(serve) -> None:
    fake = serve("egress-healthy", faults={"/virtualmachinescalesets": {"status": 403, "code": "AuthorizationFailed"}})
    ctx = read(fake)
    assert [e.action for e in ctx.errors] == ["Microsoft.Compute/virtualMachineScaleSets/read"]
    assert ctx.scale_sets == [] and egress.NIC_NSG.lower() not in ctx.nsgs
