"""private_dns's forwarding checks, facts in → findings out: DNS Private Resolver rulesets (DNS023-DNS026), Azure
Firewall DNS proxies (DNS027-DNS028), DNS011 judged where each path answers, AZ003; no network.

The worlds are the landing zone of aksdiag.lab.armworld.landing (two subscriptions, names and addresses from
there), built here as the raw AzureContext bodies the Azure source reads (the REST API's shapes: dnsResolvers,
inboundEndpoints, dnsForwardingRulesets, forwardingRules, virtualNetworkLinks, azureFirewalls, firewallPolicies),
each broken one way.

Azure's order at a VNet's view of Azure DNS, which these tests hold the probe to: a linked private zone that holds
the name answers before any forwarding rule (MicrosoftDocs/azure-docs#100273, the product team: "Private DNS Zone
will take the precedence"; #109292), then the longest enabled rule of the rulesets linked there, a wildcard "."
leaving Azure's reserved domains (azmk8s.io) to Azure DNS (Learn, private-resolver-endpoints-rulesets, "Rule
processing").
"""

from __future__ import annotations

from typing import Any

import pytest
from aksdiag.probes import private_dns
from aksdiag.probes.private_dns.paths import paths, resolving_vnets
from probeworlds import azure_context

from aksdiag import codes
from aksdiag.azfacts import digest
from aksdiag.facts import AzureContext, AzureContextNeed, AzureReadError
from aksdiag.lab import armworld
from aksdiag.lab.armworld import landing as L
from aksdiag.lab.armworld.names import CLUSTER, CLUSTER_RG, NODE_RG
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP, FORWARD_ZONE
from aksdiag.model import Severity, Status
from aksdiag.settings import Settings

NEED = AzureContextNeed(L.WORKLOAD, CLUSTER_RG, CLUSTER, "https://127.0.0.1:1")
Body = dict[str, Any]
ONPREM = L.ONPREM_DNS_IP
CORP = ("corp", L.ONPREM_DOMAIN + ".", (ONPREM,), True)
ZONE_RULE = "privatelink-koreacentral"
"""Rules: (name, domain as Azure writes it, targets, enabled)."""


def _vnet(vid: str, prefix: str, dns: tuple[str, ...], peer: str) -> Body:
    name = vid.rsplit("/", 1)[-1]
    peering = {"id": f"{vid}/virtualNetworkPeerings/{name}-to-{peer.rsplit('/', 1)[-1]}", "name": "p",
               "properties": {"remoteVirtualNetwork": {"id": peer}, "peeringState": "Connected"}}  # fmt: skip
    return {"id": vid, "name": name, "type": "Microsoft.Network/virtualNetworks",
            "properties": {"addressSpace": {"addressPrefixes": [prefix]}, "dhcpOptions": {"dnsServers": list(dns)},
                           "virtualNetworkPeerings": [peering]}}  # fmt: skip


def _rule(ruleset: str, name: str, domain: str, targets: tuple[str, ...], enabled: bool) -> Body:
    return {"id": f"{ruleset}/forwardingRules/{name}", "name": name,
            "type": "Microsoft.Network/dnsForwardingRulesets/forwardingRules",
            "properties": {"domainName": domain, "forwardingRuleState": "Enabled" if enabled else "Disabled",
                           "targetDnsServers": [{"ipAddress": t, "port": 53} for t in targets],
                           "provisioningState": "Succeeded"}}  # fmt: skip


def _ruleset(rid: str, rules: list[tuple] | None, links: tuple[str, ...]) -> Body:
    return {
        "ruleset": {"id": rid, "name": rid.rsplit("/", 1)[-1], "type": "Microsoft.Network/dnsForwardingRulesets",
                    "properties": {"dnsResolverOutboundEndpoints": [{"id": L.OUTBOUND}]}},
        "rules": None if rules is None else [_rule(rid, *r) for r in rules],
        "links": [{"id": f"{rid}/virtualNetworkLinks/link-{v.rsplit('/', 1)[-1]}", "name": f"link-{v.rsplit('/', 1)[-1]}",
                   "properties": {"virtualNetwork": {"id": v}}} for v in links],
    }  # fmt: skip


def world(
    spoke_dns: tuple[str, ...] = (L.FIREWALL_IP,),
    zone_links: tuple[str, ...] = (L.HUB_VNET,),
    rules: list[tuple] | None = None,
    rs_links: tuple[str, ...] = (L.SPOKE_VNET, L.HUB_VNET),
    proxy: bool = True,
    proxy_servers: tuple[str, ...] = (),
    policy: bool = True,
    spoke_rules: list[tuple] | None = None,
    searched: tuple[str, ...] = (),
    subscriptions: tuple[str, ...] | None = None,
) -> AzureContext:
    """The landing zone (lz-healthy unless told): spoke vnet-aks ⇄ vnet-hub, the BYO zone in the connectivity
    subscription linked to `zone_links`, resolver dnspr-hub (inbound 10.1.2.4), ruleset rs-hub with `rules`
    (default the on-premises corp rule) linked to `rs_links`, firewall afw-hub with policy afwp-hub."""
    cluster = {
        "id": L.CLUSTER_ID, "name": CLUSTER, "location": "koreacentral", "type": "Microsoft.ContainerService/managedClusters",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {L.IDENTITY: {"principalId": L.IDENTITY_PRINCIPAL}}},
        "properties": {"nodeResourceGroup": NODE_RG, "privateFQDN": CLUSTER_FQDN,
                       "apiServerAccessProfile": {"enablePrivateCluster": True, "privateDNSZone": L.ZONE},
                       "agentPoolProfiles": [{"name": "system", "count": 3, "vnetSubnetID": L.SPOKE_SUBNET}]},
    }  # fmt: skip
    relative = CLUSTER_FQDN[: -len(FORWARD_ZONE) - 1]
    zone = {
        "id": L.ZONE, "name": FORWARD_ZONE, "resource_group": L.DNS_RG, "zone": {"id": L.ZONE, "name": FORWARD_ZONE},
        "links": [{"id": f"{L.ZONE}/virtualNetworkLinks/link-{v.rsplit('/', 1)[-1]}", "name": f"link-{v.rsplit('/', 1)[-1]}",
                   "properties": {"virtualNetwork": {"id": v}, "virtualNetworkLinkState": "Completed"}} for v in zone_links],
        "records": [{"id": f"{L.ZONE}/A/{relative}", "name": relative, "properties": {"aRecords": [{"ipv4Address": ENDPOINT_IP}]}}],
    }  # fmt: skip
    nic = {"id": L.NODE_ENDPOINT + "-nic", "name": "pe-nic",
           "properties": {"ipConfigurations": [{"name": "c", "properties": {"privateIPAddress": ENDPOINT_IP,
                                                                             "subnet": {"id": L.SPOKE_SUBNET}}}]}}  # fmt: skip
    endpoint = {"endpoint": {"id": L.NODE_ENDPOINT, "name": "kube-apiserver",
                             "properties": {"networkInterfaces": [{"id": nic["id"]}]}}, "nics": [nic]}  # fmt: skip
    resolver = {
        "resolver": {"id": L.RESOLVER, "name": "dnspr-hub", "properties": {"virtualNetwork": {"id": L.HUB_VNET}}},
        "inbound": [{"id": L.INBOUND, "name": "in-hub", "properties": {"ipConfigurations": [
            {"privateIpAddress": L.INBOUND_IP, "privateIpAllocationMethod": "Static", "subnet": {"id": L.INBOUND_SUBNET}}]}}],
        "outbound": [{"id": L.OUTBOUND, "name": "out-hub", "properties": {"subnet": {"id": L.OUTBOUND_SUBNET}}}],
    }  # fmt: skip
    firewall = {
        "firewall": {"id": L.FIREWALL, "name": "afw-hub", "properties": {
            "ipConfigurations": [{"name": "c", "properties": {"privateIPAddress": L.FIREWALL_IP,
                                                              "subnet": {"id": L.FIREWALL_SUBNET}}}],
            "firewallPolicy": {"id": L.FIREWALL_POLICY}}},
        "policy": {"id": L.FIREWALL_POLICY, "name": "afwp-hub",
                   "properties": {"dnsSettings": {"enableProxy": proxy, "servers": list(proxy_servers)}}} if policy else None,
    }  # fmt: skip
    rulesets = [_ruleset(L.RULESET, [CORP] if rules is None else rules, rs_links)]
    if spoke_rules is not None:
        rulesets.append(_ruleset(L.rid(L.WORKLOAD, CLUSTER_RG, "dnsForwardingRulesets", "rs-spoke"), spoke_rules,
                                 (L.SPOKE_VNET,)))  # fmt: skip
    return AzureContext(
        need=NEED,
        cluster=cluster,
        vnets={
            L.SPOKE_VNET.lower(): _vnet(L.SPOKE_VNET, L.SPOKE_PREFIX, spoke_dns, L.HUB_VNET),
            L.HUB_VNET.lower(): _vnet(L.HUB_VNET, L.HUB_PREFIX, (), L.SPOKE_VNET),
        },
        zone=zone,
        endpoints=[endpoint],
        zone_mode=L.ZONE,
        resolvers=[resolver],
        rulesets=rulesets,
        firewalls=[firewall],
        subscriptions=None if subscriptions is None else [{"subscriptionId": s} for s in subscriptions],
        searched_subscriptions=searched,
    )


def judge(ctx: AzureContext):
    return private_dns.judge("", Settings(azure=NEED), {NEED: ctx})


def alarms(j) -> list[str]:
    """The error and warning codes, in order (info codes are not alarms)."""
    return sorted(f.id for f in j.findings if f.severity is not Severity.INFO)


def only(j, code: str):
    (f,) = [f for f in j.findings if f.id == code]
    return f


def catch_all(targets: tuple[str, ...] = (ONPREM,)) -> tuple:
    return ("everything", ".", targets, True)


def zone_rule(targets: tuple[str, ...] = (L.INBOUND_IP,), enabled: bool = True) -> tuple:
    return (ZONE_RULE, FORWARD_ZONE + ".", targets, enabled)


# ---------------------------------------------------------------- the healthy landing zones


@pytest.mark.parametrize(
    ("name", "ctx"),
    [
        ("lz-healthy: the spoke asks the firewall, its proxy Azure DNS from the hub", world()),
        ("lz-resolver: the spoke asks the inbound endpoint", world(spoke_dns=(L.INBOUND_IP,))),
        ("lz-azure-dns: the spoke uses Azure DNS, the zone linked to it",
         world(spoke_dns=(), zone_links=(L.HUB_VNET, L.SPOKE_VNET))),
        ("lz-rule-fixed: the zone's rule targets the inbound endpoint (the zone not linked to the spoke)",
         world(spoke_dns=(), rules=[CORP, catch_all(), zone_rule()], rs_links=(L.SPOKE_VNET,))),
        ("lz-rule-fixed with the zone also linked to the spoke",
         world(spoke_dns=(), zone_links=(L.HUB_VNET, L.SPOKE_VNET), rules=[CORP, catch_all(), zone_rule()],
               rs_links=(L.SPOKE_VNET,))),
        ("lz-rules-zone-linked: rules send '.', azmk8s.io. and the zone on premises, the zone linked to the spoke",
         world(spoke_dns=(), zone_links=(L.HUB_VNET, L.SPOKE_VNET), rs_links=(L.SPOKE_VNET,),
               rules=[CORP, catch_all(), ("azmk8s", "azmk8s.io.", (ONPREM,), True), zone_rule((ONPREM,))])),
    ],
)  # fmt: skip
def test_healthy_landing_zones_raise_no_alarm(name: str, ctx: AzureContext) -> None:
    j = judge(ctx)
    assert alarms(j) == [], [f.detail for f in j.findings]
    assert all(h.status is Status.OK for h in j.hops), [(h.kind, h.status) for h in j.hops]


def test_the_firewall_path_is_drawn_and_answers_from_the_hub() -> None:
    arm = digest(world())
    (path,) = paths(arm, arm.cluster_vnets)
    assert [s.kind for s in path.steps] == ["firewall", "azure-dns"]
    assert path.end == "view" and path.view and path.view.name == "vnet-hub"
    assert f"DNS proxy ({L.FIREWALL_IP}) forwards to Azure DNS" in path.why
    assert resolving_vnets(arm, arm.cluster_vnets) == [(L.FIREWALL_IP, path.view)]
    kinds = [h.kind for h in judge(world()).hops]
    assert kinds == ["cluster", "vnet-dns", "firewall", "private-zone", "record", "endpoint"]


# ---------------------------------------------------------------- DNS011 where the path answers


def test_dns011_the_inbound_endpoints_vnet_not_linked() -> None:
    j = judge(world(spoke_dns=(L.INBOUND_IP,), zone_links=()))
    assert alarms(j) == ["DNS011"]
    f = only(j, "DNS011")
    assert "DNS Private Resolver dnspr-hub's inbound endpoint 10.1.2.4 answers from there" in f.detail
    assert "vnet-hub" in f.remediation and f.command and f"--virtual-network {L.HUB_VNET}" in f.command


def test_dns011_the_firewalls_vnet_not_linked() -> None:
    j = judge(world(zone_links=()))
    assert alarms(j) == ["DNS011"]
    assert (
        f"Azure Firewall afw-hub's DNS proxy ({L.FIREWALL_IP}) forwards to Azure DNS from there"
        in only(j, "DNS011").detail
    )


def test_dns014_the_hub_behind_the_inbound_endpoint_must_be_peered() -> None:
    ctx = world(spoke_dns=(L.INBOUND_IP,))
    ctx.vnets[L.SPOKE_VNET.lower()]["properties"]["virtualNetworkPeerings"][0]["properties"]["peeringState"] = (
        "Disconnected"
    )
    j = judge(ctx)
    assert alarms(j) == ["DNS014"]
    assert "vnet-aks" in only(j, "DNS014").remediation and "vnet-hub" in only(j, "DNS014").remediation


def test_a_ruleset_needs_no_peering() -> None:
    """Learn: VNets linked to a ruleset use it "whether or not the linked VNet peers" with the ruleset's VNet."""
    ctx = world(spoke_dns=(), rules=[CORP, zone_rule()], rs_links=(L.SPOKE_VNET,))
    ctx.vnets[L.SPOKE_VNET.lower()]["properties"]["virtualNetworkPeerings"] = []
    assert alarms(judge(ctx)) == []


# ---------------------------------------------------------------- DNS023 a parent rule


def test_dns023_a_parent_rule_sends_the_zone_on_premises() -> None:
    """lz-parent-rule, with the zone linked to the hub only (the spoke's view has no zone: the rule takes it)."""
    j = judge(world(spoke_dns=(), rules=[CORP, ("azmk8s", "azmk8s.io.", (ONPREM,), True)], rs_links=(L.SPOKE_VNET,)))
    assert alarms(j) == ["DNS023"]
    f = only(j, "DNS023")
    assert f.severity is Severity.ERROR and "azmk8s.io." in f.detail and ONPREM in f.detail
    assert "rs-hub" in f.remediation and L.INBOUND_IP in f.remediation
    assert f.command == (
        "az dns-resolver forwarding-rule create --resource-group rg-hub --ruleset-name rs-hub "
        "--name privatelink-koreacentral-azmk8s-io --domain-name privatelink.koreacentral.azmk8s.io. "
        f'--forwarding-rule-state Enabled --target-dns-servers "[{{ip-address:{L.INBOUND_IP},port:53}}]" '
        f"--subscription {L.CONNECTIVITY}"
    )
    assert [h.status for h in j.hops if h.kind == "forwarding-rule"] == [Status.FAIL]


def test_a_linked_zone_answers_before_a_parent_rule() -> None:
    """lz-parent-rule with the zone linked to the spoke too: then the zone answers first, the rule is moot."""
    ctx = world(spoke_dns=(), zone_links=(L.HUB_VNET, L.SPOKE_VNET),
                rules=[CORP, ("azmk8s", "azmk8s.io.", (ONPREM,), True)], rs_links=(L.SPOKE_VNET,))  # fmt: skip
    assert alarms(judge(ctx)) == []


@pytest.mark.parametrize("zone_links", [(L.HUB_VNET,), (L.HUB_VNET, L.SPOKE_VNET)])
def test_a_catch_all_leaves_azmk8s_io_to_azure_dns(zone_links: tuple[str, ...]) -> None:
    """Learn: "Certain domains are ignored when using a wildcard rule" (azmk8s.io is reserved for Azure services):
    the catch-all never takes the cluster's name. Linked to the spoke, the zone answers (healthy); not linked
    (lz-catch-all), Azure DNS from the spoke has no zone: DNS011 saying why, not DNS023."""
    j = judge(world(spoke_dns=(), zone_links=zone_links, rules=[CORP, catch_all()], rs_links=(L.SPOKE_VNET,)))
    assert alarms(j) == ([] if L.SPOKE_VNET in zone_links else ["DNS011"])
    if L.SPOKE_VNET not in zone_links:
        assert "the wildcard rule everything ('.') of rs-hub leaves azmk8s.io to Azure DNS" in only(j, "DNS011").detail


# ---------------------------------------------------------------- DNS024 the zone's rule


def test_dns024_the_zones_rule_targets_on_premises() -> None:
    """lz-rule-target."""
    j = judge(world(spoke_dns=(), rules=[CORP, zone_rule((ONPREM,))], rs_links=(L.SPOKE_VNET,)))
    assert alarms(j) == ["DNS024"]
    f = only(j, "DNS024")
    assert ONPREM in f.detail and "off Azure" in f.detail
    assert f.command == (
        f"az dns-resolver forwarding-rule update --resource-group rg-hub --ruleset-name rs-hub --name {ZONE_RULE} "
        f'--target-dns-servers "[{{ip-address:{L.INBOUND_IP},port:53}}]" --subscription {L.CONNECTIVITY}'
    )


def test_dns024_a_loop_through_the_resolvers_own_vnet() -> None:
    """The rule targets the inbound endpoint, the ruleset is linked to the endpoint's VNet too, and that VNet is not
    linked to the zone: the query comes back to the rule (Learn warns of the loop)."""
    j = judge(world(spoke_dns=(), zone_links=(), rules=[CORP, zone_rule()], rs_links=(L.SPOKE_VNET, L.HUB_VNET)))
    assert alarms(j) == ["DNS024"]
    f = only(j, "DNS024")
    assert "a loop" in f.detail and "unlink rs-hub from vnet-hub" in f.remediation


def test_no_loop_when_the_resolvers_vnet_is_linked_to_the_zone() -> None:
    """There the zone answers before the rule comes back into play."""
    ctx = world(spoke_dns=(), rules=[CORP, zone_rule()], rs_links=(L.SPOKE_VNET, L.HUB_VNET))
    assert alarms(judge(ctx)) == []


# ---------------------------------------------------------------- DNS025 the zone's rule disabled


def test_dns025_disabled_and_the_parent_rule_takes_the_name_is_an_error() -> None:
    rules = [CORP, ("azmk8s", "azmk8s.io.", (ONPREM,), True), zone_rule(enabled=False)]
    j = judge(world(spoke_dns=(), rules=rules, rs_links=(L.SPOKE_VNET,)))
    assert alarms(j) == ["DNS025"], "the disabled rule is the fault, not the parent rule (no DNS023)"
    f = only(j, "DNS025")
    assert f.severity is Severity.ERROR and "Disabled" in f.detail and ONPREM in f.detail
    assert f.command and f.command.endswith(
        f"--name {ZONE_RULE} --forwarding-rule-state Enabled --subscription {L.CONNECTIVITY}"
    )


def test_dns025_disabled_while_the_linked_zone_answers_is_a_warning() -> None:
    """lz-rule-disabled with the zone linked to the spoke too: the name still resolves."""
    rules = [CORP, catch_all(), zone_rule(enabled=False)]
    j = judge(world(spoke_dns=(), zone_links=(L.HUB_VNET, L.SPOKE_VNET), rules=rules, rs_links=(L.SPOKE_VNET,)))
    assert alarms(j) == ["DNS025"]
    f = only(j, "DNS025")
    assert f.severity is Severity.WARNING and "Azure DNS from vnet-aks" in f.detail


# ---------------------------------------------------------------- DNS026 two configurations disagree


def test_dns026_the_spokes_own_ruleset_disagrees_with_its_inbound_endpoint_dns() -> None:
    """lz-ruleset-conflict: the spoke asks the inbound endpoint (which works), rs-spoke linked to the spoke sends
    the zone on premises."""
    ctx = world(spoke_dns=(L.INBOUND_IP,), rs_links=(L.HUB_VNET,), spoke_rules=[zone_rule((ONPREM,))])
    j = judge(ctx)
    assert alarms(j) == ["DNS026"]
    f = only(j, "DNS026")
    assert f.severity is Severity.WARNING and "rs-spoke" in f.detail and ONPREM in f.detail
    assert f.command and f"--resource-group {CLUSTER_RG} --ruleset-name rs-spoke" in f.command
    assert "--subscription" not in f.command, "rs-spoke lives in the cluster's subscription"


def test_no_dns026_when_the_spokes_ruleset_agrees() -> None:
    ctx = world(spoke_dns=(L.INBOUND_IP,), rs_links=(L.HUB_VNET,), spoke_rules=[zone_rule()])
    assert alarms(judge(ctx)) == []


# ---------------------------------------------------------------- the firewall's DNS proxy


def test_dns027_the_firewalls_dns_proxy_is_off() -> None:
    """lz-proxy-off."""
    j = judge(world(proxy=False))
    assert alarms(j) == ["DNS027"]
    f = only(j, "DNS027")
    assert "afw-hub" in f.detail and L.FIREWALL_IP in f.detail
    assert f.command == (
        f"az network firewall policy update --name afwp-hub --resource-group rg-hub --enable-dns-proxy true "
        f"--subscription {L.CONNECTIVITY}"
    )
    assert [h.status for h in j.hops if h.kind == "firewall"] == [Status.FAIL]


def test_dns028_several_proxy_servers_one_at_random() -> None:
    """lz-proxy-servers: vm-dns01 and the inbound endpoint (vm-dns01's forwarder is the DNS plane's to judge)."""
    j = judge(world(proxy_servers=(L.DNS_VM_IP, L.INBOUND_IP)))
    assert alarms(j) == ["DNS028"]
    f = only(j, "DNS028")
    assert f.severity is Severity.WARNING and L.DNS_VM_IP in f.detail and L.INBOUND_IP in f.detail
    assert f.command and f"--dns-servers {L.INBOUND_IP}" in f.command and "policy update --name afwp-hub" in f.command


def test_the_proxys_servers_are_followed_as_custom_servers() -> None:
    arm = digest(world(proxy_servers=(L.DNS_VM_IP, L.INBOUND_IP)))
    walked = paths(arm, arm.cluster_vnets)
    assert [p.why for p in walked] == [
        f"DNS server {L.DNS_VM_IP} lives there",
        f"DNS Private Resolver dnspr-hub's inbound endpoint {L.INBOUND_IP} answers from there",
    ]
    assert {p.view.name for p in walked if p.view} == {"vnet-hub"}


# ---------------------------------------------------------------- what could not be read


def test_rules_that_could_not_be_read_are_not_guessed() -> None:
    """rs-hub's rules unreadable (a 403 the source recorded): the path through it is not judged."""
    error = AzureReadError(L.RULESET + "/forwardingRules", 403, "AuthorizationFailed", "denied",
                           "Microsoft.Network/dnsForwardingRulesets/forwardingRules/read")  # fmt: skip
    ctx = world(spoke_dns=(), rules=[], rs_links=(L.SPOKE_VNET,))
    ctx.rulesets[0]["rules"] = None
    from dataclasses import replace

    j = judge(replace(ctx, errors=(error,)))
    assert alarms(j) == ["AZ001"], "no DNS011 for the spoke, no rule code: the rules may send the name anywhere"
    assert j.unread == ()


def test_rules_unread_with_no_error_to_say_why_are_unread() -> None:
    ctx = world(spoke_dns=(), rules=[], rs_links=(L.SPOKE_VNET,))
    ctx.rulesets[0]["rules"] = None
    j = judge(ctx)
    assert alarms(j) == [] and any("rs-hub" in u for u in j.unread)


def test_zone_links_unread_leave_the_rule_checks_out() -> None:
    ctx = world(spoke_dns=(), rules=[CORP, zone_rule((ONPREM,))], rs_links=(L.SPOKE_VNET,))
    ctx.zone["links"] = None
    assert "DNS024" not in alarms(judge(ctx)), "a zone linked to the spoke would answer before the rule"


def test_a_firewall_policy_unread_is_not_guessed() -> None:
    j = judge(world(policy=False))
    assert alarms(j) == []


def test_az003_names_the_subscriptions_not_searched() -> None:
    j = judge(world(searched=(L.WORKLOAD,), subscriptions=(L.WORKLOAD,)))
    (f,) = [f for f in j.findings if f.id == "AZ003"]
    assert f.severity is Severity.INFO and L.CONNECTIVITY in f.detail and f.title == codes.AZ003.title
    both = (L.WORKLOAD, L.CONNECTIVITY)
    assert not [f for f in judge(world(searched=both, subscriptions=both)).findings if f.id == "AZ003"]
    assert not [f for f in judge(world()).findings if f.id == "AZ003"], "facts from before the search: no AZ003"
    failed = judge(world(searched=(L.WORKLOAD, L.CONNECTIVITY), subscriptions=None))
    assert "GET /subscriptions" in only(failed, "AZ003").detail


def test_dns025_disabled_and_the_name_falls_to_an_unlinked_view_is_an_error() -> None:
    """lz-rule-disabled: the catch-all leaves azmk8s.io to Azure DNS from the spoke, where the zone is not linked:
    broken."""
    rules = [CORP, catch_all(), zone_rule(enabled=False)]
    j = judge(world(spoke_dns=(), rules=rules, rs_links=(L.SPOKE_VNET,)))
    assert alarms(j) == ["DNS011", "DNS025"]
    f = only(j, "DNS025")
    assert (
        f.severity is Severity.ERROR and "vnet-aks, where privatelink.koreacentral.azmk8s.io is not linked" in f.detail
    )


# ---------------------------------------------------------------- the lab's landing-zone worlds

LAB_WORLDS = {
    "lz-healthy": [],
    "lz-resolver": [],
    "lz-azure-dns": [],
    "lz-catch-all": ["DNS011"],  # the table's DNS011: the catch-all leaves azmk8s.io to the spoke's Azure DNS
    "lz-parent-rule": ["DNS023"],
    "lz-rule-target": ["DNS024"],
    "lz-rule-fixed": [],
    "lz-rule-disabled": ["DNS011", "DNS025"],  # DNS025 an error: the name falls to a view without the zone
    "lz-rules-zone-linked": [],  # a zone linked to the spoke answers before any rule
    "lz-ruleset-conflict": ["DNS026"],
    "lz-inbound-unlinked": ["DNS011"],
    "lz-firewall-unlinked": ["DNS011"],
    "lz-proxy-off": ["DNS027"],
    "lz-proxy-servers": ["DNS028"],
    "lz-windows-dns": [],  # DNS001 is the DNS plane's
    "lz-linux-dns": [],
    "lz-second-endpoint": [],
}


@pytest.mark.parametrize("name", sorted(LAB_WORLDS))
def test_the_labs_landing_zone_worlds(name: str) -> None:
    """Each lz-* world the lab serves (aksdiag.lab.armworld.enterprise), read as the source reads it: exactly its
    codes."""
    assert name in armworld.WORLDS, f"{name} is a lab world"
    j = judge(azure_context(name))
    assert alarms(j) == LAB_WORLDS[name], [f.detail for f in j.findings]
    assert j.unread == ()


def test_the_labs_rule_worlds_say_where_the_name_goes() -> None:
    """lz-catch-all's DNS011 names the wildcard that leaves azmk8s.io to the spoke's Azure DNS; lz-rule-disabled's
    DNS025 is an error (the name falls to that view); lz-rules-zone-linked's rules are moot (the zone answers)."""
    dns011 = only(judge(azure_context("lz-catch-all")), "DNS011")
    assert "vnet-aks" in dns011.detail and "the wildcard rule catch-all ('.') of rs-hub" in dns011.detail
    assert only(judge(azure_context("lz-rule-disabled")), "DNS025").severity is Severity.ERROR
    linked = judge(azure_context("lz-rules-zone-linked"))
    assert all(h.status is Status.OK for h in linked.hops), [(h.kind, h.status) for h in linked.hops]


def test_a_zone_that_is_gone_is_az002_not_dns011() -> None:
    """lz-zone-gone: the zone's GET answers 404 (its links list nothing): not "not linked", but gone."""
    from dataclasses import replace

    gone = AzureReadError(L.ZONE, 404, "ResourceNotFound", "not found", "Microsoft.Network/privateDnsZones/read")
    assert alarms(judge(replace(world(zone_links=()), errors=(gone,)))) == ["AZ002"]
    assert alarms(judge(world(zone_links=()))) == ["DNS011"]
