"""The outbound probe from facts: each egress-* world raises exactly its codes, every older world none of them."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
from aksdiag.probes import outbound

from aksdiag.facts import AzureContext, AzureReadError
from aksdiag.lab import armworld
from aksdiag.lab.armworld import egress
from aksdiag.lab.scenarios import ENDPOINT_IP
from aksdiag.model import Status
from aksdiag.probe import Skip
from aksdiag.settings import Settings
from tests.probes.probeworlds import NEED, azure_context, bodies

EXPECTED = {
    "egress-healthy": set(),
    "egress-udr-firewall": {"EG011"},
    "egress-route-none": {"EG010"},
    "egress-udr-no-default": {"EG016"},
    "egress-lb-with-udr": {"EG012"},
    "egress-route-apiserver": {"EG013"},
    "egress-route-node-range": {"EG013", "EG014"},
    "egress-bgp-off": {"EG011", "EG015"},
    "egress-nat-healthy": set(),
    "egress-nat-no-ip": {"EG017"},
    "egress-nat-over-lb": {"EG018"},
    "egress-proxy-wildcard": {"EG019"},
    "egress-private-subnet": {"EG020"},
    "egress-nsg-denies-https": {"EG021"},
}
OLDER = sorted(w for w in armworld.WORLDS if not w.startswith(("egress-", "state-", "tunnel-", "signin-", "snat-",
                                                               "detectors-")))  # fmt: skip
"""The worlds that existed before issue 15 (the other helpers' new worlds are theirs to judge)."""


def context(world: str, patch: Any = None, **kw: Any) -> AzureContext:
    """The AzureContext the source reads from `world`: probeworlds' DNS-path fields, plus the way out as
    sources.azure.outbound reads it (route tables and NAT gateways on the node and API subnets, the node RG's
    scale sets, their NIC NSGs in `nsgs`). tests/sources/test_azure_outbound.py checks it against the real read."""
    ctx = azure_context(world, patch=patch, **kw)
    by_type = bodies(world, patch)
    sets = by_type.get("microsoft.compute/virtualmachinescalesets", [])
    nsgs = {b["id"].lower(): b for b in by_type.get("microsoft.network/networksecuritygroups", [])}
    return replace(
        ctx,
        route_tables={b["id"].lower(): b for b in by_type.get("microsoft.network/routetables", [])},
        nat_gateways={b["id"].lower(): b for b in by_type.get("microsoft.network/natgateways", [])},
        scale_sets=sets,
        nsgs={**ctx.nsgs, **nsgs},
    )


def settings() -> Settings:
    return replace(Settings(), azure=NEED)


def judged(world: str, patch: Any = None, ctx: AzureContext | None = None) -> Any:
    return outbound.judge("", settings(), {NEED: ctx if ctx is not None else context(world, patch)})


def codes_of(j: Any) -> set[str]:
    return {f.id for f in j.findings}


@pytest.mark.parametrize("world", sorted(EXPECTED))
def test_each_egress_world_raises_exactly_its_codes(world: str) -> None:
    j = judged(world)
    assert codes_of(j) == EXPECTED[world], [f.detail for f in j.findings]
    assert j.unread == ()
    for f in j.findings:  # every finding names the subnet (or the proxy) it is about
        assert "snet-aks" in f.detail or f.id == "EG019", f.detail


@pytest.mark.parametrize("world", OLDER)
def test_no_older_world_raises_an_egress_code(world: str) -> None:
    need = replace(NEED, load_balancers=True) if world.startswith("lb-") else NEED
    ctx = context(world, need=need)
    j = outbound.judge("", replace(Settings(), azure=need), {need: ctx})
    assert not {f.id for f in j.findings if f.id.startswith("EG")}, [f.detail for f in j.findings]


def test_the_healthy_world_draws_its_way_out() -> None:
    j = judged("egress-nat-healthy")
    kinds = [(h.kind, h.name, h.status) for h in j.hops]
    assert kinds == [("outbound-type", "userAssignedNATGateway", Status.OK), ("subnet", "snet-aks", Status.OK)]
    assert "2 public IP(s) × 64,512 = 129,024 SNAT ports, idle timeout 4 min" in j.hops[1].detail
    assert j.facts["subnets"][0]["nat_gateway"] == egress.NAT_GATEWAY.lower() or j.facts["subnets"][0]["nat_gateway"]


def test_eg011_names_the_appliance_and_what_it_must_allow() -> None:
    (f,) = judged("egress-udr-firewall").findings
    assert f"0.0.0.0/0 → VirtualAppliance {egress.FIREWALL_IP}" in f.detail and "vnet-hub" in f.detail
    assert "az aks egress-endpoints list -g rg-aks -n aks-lab" in f.remediation and f.severity.value == "info"


def test_eg010_and_eg016_say_the_route_and_the_table() -> None:
    (none,) = judged("egress-route-none").findings
    assert "Route default (0.0.0.0/0 → None) of route table rt-aks" in none.detail
    assert "--route-table-name rt-aks -n default" in none.remediation and "-g rg-aks" in none.remediation
    (missing,) = judged("egress-udr-no-default").findings
    assert "route table rt-aks has no 0.0.0.0/0 route" in missing.detail

    def no_table(b: dict) -> None:
        for s in b.get("properties", {}).get("subnets", []):
            s.get("properties", {}).pop("routeTable", None)

    (gone,) = judged("egress-udr-firewall", patch=no_table).findings
    assert gone.id == "EG016" and "no route table" in gone.detail


def test_a_udr_world_on_loadbalancer_is_eg012_and_a_loadbalancer_world_without_routes_is_clean() -> None:
    (f,) = judged("egress-lb-with-udr").findings
    assert f.id == "EG012" and "while the outbound type is loadBalancer" in f.detail
    assert judged("egress-healthy").findings == ()


def test_eg013_and_eg014_name_the_address_and_the_range() -> None:
    (api,) = judged("egress-route-apiserver").findings
    assert f"covers the API server's address {ENDPOINT_IP}" in api.detail
    found = {f.id: f for f in judged("egress-route-node-range").findings}
    assert "covers the node range 10.224.0.0/16" in found["EG014"].detail
    assert "blackhole-nodes" in found["EG013"].detail


def test_a_route_inside_the_vnet_that_is_less_specific_than_the_vnet_is_not_eg014() -> None:
    def wide(b: dict) -> None:
        if b.get("type") == "Microsoft.Network/routeTables":
            b["properties"]["routes"][0]["properties"]["addressPrefix"] = "10.0.0.0/8"  # /8 loses to the VNet's /12

    assert codes_of(judged("egress-route-node-range", patch=wide)) == set()


def test_eg015_only_with_bgp_off_and_only_for_an_address_no_route_reaches() -> None:
    (f,) = [f for f in judged("egress-bgp-off").findings if f.id == "EG015"]
    assert f"the HTTP proxy {egress.ONPREM_PROXY}" in f.detail and "the system route 192.168.0.0/16 → None" in f.detail

    def bgp_on(b: dict) -> None:
        if b.get("type") == "Microsoft.Network/routeTables":
            b["properties"]["disableBgpRoutePropagation"] = False

    assert codes_of(judged("egress-bgp-off", patch=bgp_on)) == {"EG011"}, "a gateway may carry its route over BGP"

    def onprem_route(b: dict) -> None:
        if b.get("type") == "Microsoft.Network/routeTables":
            route = copy.deepcopy(b["properties"]["routes"][0])
            route["name"], route["properties"]["addressPrefix"] = "to-onprem", "192.168.0.0/16"
            b["properties"]["routes"].append(route)

    assert codes_of(judged("egress-bgp-off", patch=onprem_route)) == {"EG011"}, "a user route reaches it"


def test_eg015_for_an_on_premises_dns_server() -> None:
    def dns_onprem(b: dict) -> None:
        if b["id"] == armworld.AKS_VNET:
            b["properties"]["dhcpOptions"]["dnsServers"] = ["192.168.10.4"]
        if b.get("type", "").lower() == "microsoft.containerservice/managedclusters":
            b["properties"].pop("httpProxyConfig", None)

    (f,) = [f for f in judged("egress-bgp-off", patch=dns_onprem).findings if f.id == "EG015"]
    assert "the VNet's DNS server 192.168.10.4" in f.detail


def test_nat_gateway_codes() -> None:
    (no_ip,) = judged("egress-nat-no-ip").findings
    assert "NAT gateway ng-aks on subnet snet-aks" in no_ip.detail and "-g rg-aks -n ng-aks" in no_ip.remediation
    (over,) = judged("egress-nat-over-lb").findings
    assert "2 public IP(s), 129,024 SNAT ports, idle timeout 4 min" in over.detail


def test_eg019_suggests_the_leading_dot() -> None:
    (f,) = judged("egress-proxy-wildcard").findings
    assert "*.contoso.com" in f.detail and "with .contoso.com" in f.remediation
    assert [h.kind for h in judged("egress-proxy-wildcard").hops][-1] == "proxy"


def test_eg020_needs_a_private_subnet() -> None:
    (f,) = judged("egress-private-subnet").findings
    assert "the outbound type is none" in f.detail

    def not_private(b: dict) -> None:
        for s in b.get("properties", {}).get("subnets", []):
            s.get("properties", {}).pop("defaultOutboundAccess", None)

    assert codes_of(judged("egress-private-subnet", patch=not_private)) == set()


def test_eg021_names_the_nic_nsg_rule() -> None:
    (f,) = judged("egress-nsg-denies-https").findings
    assert "aks-agentpool-12345678-nsg denies it: rule deny-internet-https (priority 200)" in f.detail
    assert f"-g {armworld.NODE_RG} --nsg-name aks-agentpool-12345678-nsg" in f.remediation

    def allow_first(b: dict) -> None:
        if b.get("type") == "Microsoft.Network/networkSecurityGroups" and b["name"].startswith("aks-agentpool"):
            rule = copy.deepcopy(b["properties"]["securityRules"][0])
            rule["name"], rule["properties"]["access"], rule["properties"]["priority"] = "allow-https", "Allow", 100
            b["properties"]["securityRules"].append(rule)

    assert codes_of(judged("egress-nsg-denies-https", patch=allow_first)) == set()


def test_an_aks_managed_vnet_is_said_not_judged() -> None:
    def managed(b: dict) -> None:
        if b.get("type", "").lower() == "microsoft.containerservice/managedclusters":
            for pool in b["properties"]["agentPoolProfiles"]:
                pool.pop("vnetSubnetID", None)

    j = judged("egress-route-none", patch=managed)
    assert j.findings == () and j.hops[-1].status is Status.SKIPPED and "AKS-managed" in j.hops[-1].name


def test_a_refused_route_table_is_az001_and_an_unreachable_one_is_unread() -> None:
    table = egress.ROUTE_TABLE
    refused = AzureReadError(table, 403, "AuthorizationFailed", "no", "Microsoft.Network/routeTables/read", "forbidden")
    ctx = context("egress-route-none")
    ctx = replace(ctx, route_tables={}, errors=(refused,))
    j = judged("", ctx=ctx)
    assert codes_of(j) == {"AZ001"}, "the route is not judged from a table it could not read"
    down = replace(refused, status=0, code="ServiceRequestError", failure="unreachable")
    j = judged("", ctx=replace(ctx, errors=(down,)))
    assert j.findings == () and len(j.unread) == 1


def test_a_refused_vnet_judges_no_route_and_is_left_to_the_dns_probes() -> None:
    refused = AzureReadError(armworld.AKS_VNET, 403, "AuthorizationFailed", "no",
                             "Microsoft.Network/virtualNetworks/read", "forbidden")  # fmt: skip
    ctx = context("egress-udr-firewall")
    j = judged("", ctx=replace(ctx, vnets={}, errors=(refused,)))
    assert j.findings == (), "no EG016 for a route table it could not see, no second AZ001 (private_dns says it)"
    assert "its VNet was not read" in j.hops[1].detail


def test_no_azure_context_is_a_skip_and_no_cluster_is_one_skipped_hop() -> None:
    with pytest.raises(Skip, match="no Azure context"):
        outbound.plan("", Settings(), {})
    missing = AzureReadError(NEED.cluster_id, 404, "ResourceNotFound", "gone", "read", "not-found")
    j = judged("", ctx=AzureContext(need=NEED, errors=(missing,)))
    assert codes_of(j) == {"AZ002"} and j.hops[0].status is Status.SKIPPED


def test_the_probe_runs_in_check_and_egress_and_is_left_out_of_egress_without_azure() -> None:
    assert outbound.PROBE.commands == ("check", "egress", "fleet") and outbound.PROBE.optional_in == ("egress",)
    assert outbound.PROBE.order == 36
