"""egresspath.explain: what on the Azure side stops a node's packets, from the egress-* worlds' facts."""

from __future__ import annotations

from typing import Any

import pytest

from aksdiag import egresspath
from aksdiag.azfacts import AzureFacts, digest
from aksdiag.lab import armworld
from aksdiag.lab.armworld import egress
from aksdiag.lab.scenarios import ENDPOINT_IP
from tests.probes.test_outbound import context

MCR = "20.150.0.9"
"""A public address (the egress probe passes the one the endpoint's name resolved to)."""
POOL = "nodepool1"


def facts(world: str, patch: Any = None) -> AzureFacts:
    return digest(context(world, patch))


def explain(world: str, address: str = MCR, port: int = 443, patch: Any = None) -> egresspath.Blocker | None:
    return egresspath.explain(facts(world, patch), POOL, address, port)


@pytest.mark.parametrize("world", ["egress-healthy", "egress-nat-healthy", "egress-nat-over-lb", "healthy"])
def test_nothing_in_the_way_of_a_healthy_cluster(world: str) -> None:
    assert explain(world) is None
    assert explain(world, ENDPOINT_IP) is None


def test_a_default_route_to_none_drops_it() -> None:
    b = explain("egress-route-none")
    assert b is not None and b.kind == "route-none" and b.what == "rt-aks/default"
    assert b.sentence == f"route default (0.0.0.0/0 → None) of route table rt-aks drops {MCR}:443"
    assert b.evidence["route_table"] == "rt-aks" and b.evidence["next_hop_type"] == "None"


def test_a_firewall_is_named_and_not_called_a_block_it_cannot_see() -> None:
    b = explain("egress-udr-firewall")
    assert b is not None and b.kind == "appliance" and b.what == f"the appliance {egress.FIREWALL_IP}"
    assert "which must allow it (its rules are not read here)" in b.sentence


def test_the_vnet_and_its_peering_win_over_a_default_route() -> None:
    assert explain("egress-udr-firewall", ENDPOINT_IP) is None, "VnetLocal /12 is longer than 0.0.0.0/0"
    assert explain("egress-udr-firewall", armworld.DNS_SERVER_IP, 53) is None, "the hub is peered: VNetPeering"
    hop = egresspath.next_hop(facts("egress-udr-firewall"), armworld.AKS_SUBNET, armworld.DNS_SERVER_IP)
    assert (hop.next_hop_type, hop.prefix, hop.user) == ("VNetPeering", "10.1.0.0/16", False)


def test_a_host_route_beats_the_vnet_route() -> None:
    b = explain("egress-route-apiserver", ENDPOINT_IP)
    assert b is not None and b.kind == "appliance" and b.evidence["route"] == "to-apiserver"
    assert explain("egress-route-apiserver", "10.224.0.5") is None, "only the /32 is sent away"


def test_a_user_route_of_the_same_length_as_a_system_route_wins() -> None:
    def same_length(b: dict) -> None:
        if b.get("type") == "Microsoft.Network/routeTables":
            b["properties"]["routes"][0]["properties"]["addressPrefix"] = "10.224.0.0/12"  # the VNet's own prefix

    b = explain("egress-route-node-range", "10.230.0.9", patch=same_length)
    assert b is not None and b.kind == "route-none"


def test_the_longest_prefix_wins_among_user_routes() -> None:
    def split(b: dict) -> None:
        if b.get("type") == "Microsoft.Network/routeTables":
            internet = {
                "name": "mcr-direct",
                "properties": {"addressPrefix": "20.150.0.0/16", "nextHopType": "Internet"},
            }
            b["properties"]["routes"].append(internet)

    assert explain("egress-udr-firewall", MCR, patch=split) is None, "20.150.0.0/16 → Internet beats 0.0.0.0/0"
    b = explain("egress-udr-firewall", "13.107.42.14", patch=split)
    assert b is not None and b.kind == "appliance"


def test_an_on_premises_address_with_bgp_off_is_dropped_and_with_bgp_on_is_not_judged() -> None:
    b = explain("egress-bgp-off", egress.ONPREM_PROXY, 3128)
    assert b is not None and b.kind == "route-none" and b.what == "192.168.0.0/16"
    assert "takes no BGP routes" in b.sentence
    assert explain("egress-udr-firewall", egress.ONPREM_PROXY, 3128) is None, "a gateway may propagate a route"


def test_a_gateway_route_is_forced_tunnelling() -> None:
    b = explain("egress-udr-no-default", "192.168.5.5")
    assert b is not None and b.kind == "gateway" and "forced tunnelling" in b.sentence


def test_the_nic_nsg_blocks_443_but_not_80() -> None:
    b = explain("egress-nsg-denies-https")
    assert b is not None and b.kind == "nsg" and b.what == "aks-agentpool-12345678-nsg/deny-internet-https"
    assert explain("egress-nsg-denies-https", port=80) is None
    assert explain("egress-nsg-denies-https", ENDPOINT_IP) is None, "the rule is for Internet, not the VNet"
    unknown = egresspath.explain(facts("egress-nsg-denies-https"), "", MCR, 443)
    assert unknown is not None and unknown.kind == "nsg", "no pool named: the cluster's first pool with a subnet"


def test_another_pools_nics_do_not_count() -> None:
    def user_pool(b: dict) -> None:
        if b.get("type", "").lower() == "microsoft.containerservice/managedclusters":
            pool = {**b["properties"]["agentPoolProfiles"][0], "name": "userpool", "mode": "User"}
            b["properties"]["agentPoolProfiles"].append(pool)

    arm = facts("egress-nsg-denies-https", patch=user_pool)
    assert egresspath.explain(arm, "userpool", MCR, 443) is None, "the NSG is on nodepool1's scale set only"
    assert egresspath.explain(arm, "nodepool1", MCR, 443) is not None


def test_a_subnet_nsg_is_evaluated_after_the_nic_nsg() -> None:
    def subnet_nsg(b: dict) -> None:
        for s in b.get("properties", {}).get("subnets", []):
            if s["id"] == armworld.AKS_SUBNET:
                s["properties"]["networkSecurityGroup"] = {"id": egress.NIC_NSG}  # the same NSG, on the subnet
        if b.get("type") == "Microsoft.Compute/virtualMachineScaleSets":
            config = b["properties"]["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"][0]
            config["properties"].pop("networkSecurityGroup")

    b = explain("egress-nsg-denies-https", patch=subnet_nsg)
    assert b is not None and b.kind == "nsg"


def test_no_way_out_of_a_private_subnet() -> None:
    b = explain("egress-private-subnet")
    assert b is not None and b.kind == "no-way-out" and "defaultOutboundAccess false" in b.sentence
    assert explain("egress-private-subnet", ENDPOINT_IP) is None


def test_outbound_type_block() -> None:
    def block(b: dict) -> None:
        if b.get("type", "").lower() == "microsoft.containerservice/managedclusters":
            b["properties"]["networkProfile"]["outboundType"] = "block"

    b = explain("egress-healthy", patch=block)
    assert b is not None and b.kind == "outbound-none"
    assert explain("egress-healthy", ENDPOINT_IP, patch=block) is None


def test_without_a_cluster_nothing_is_said() -> None:
    from aksdiag.facts import AzureContext
    from tests.probes.probeworlds import NEED

    assert egresspath.explain(digest(AzureContext(need=NEED)), POOL, MCR, 443) is None
