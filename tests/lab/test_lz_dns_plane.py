"""The landing zone's DNS plane (aksdiag.lab.lzscenarios) answers as Azure would: dig-like questions with dnspython
to the lab's servers — the views per VNet (linked zones first, then the rules: longest enabled suffix, a catch-all
leaving azmk8s.io alone), the inbound endpoint, the firewall's DNS proxy — and the pure-Python lab and real BIND 9
give the same answers."""

from __future__ import annotations

import random
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from aksdiag.lab.lzscenarios import CATCH_ALL, FIREWALL_SEED, LZ_SCENARIOS, PARENT_RULE, SHOWN
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP, WILDCARD_RESERVED, Rule, ServerSpec, rule_forwards
from aksdiag.lab.world import PYTHON_BEHAVIOURS

CORP_HOST, CORP_IP = "dc01.corp.contoso.com", "192.168.10.10"
ONPREM_HOST, ONPREM_IP = "files.onprem.internal", "192.168.10.20"
PUBLIC_HOST, PUBLIC_IP = "www.my.com", "20.41.65.8"
NX = "NXDOMAIN"


def ask(world: Any, role: str, name: str = CLUSTER_FQDN, transport: str = "udp", timeout: float = 3.0) -> str:
    """What `dig @server name A` shows, in short: the addresses, NXDOMAIN (or another rcode), or "timeout"."""
    server = world.endpoints[role]
    query = dns.message.make_query(name, "A")
    send = dns.query.udp if transport == "udp" else dns.query.tcp
    try:
        reply = send(query, server.host, port=server.port, timeout=timeout)
    except dns.exception.Timeout:
        return "timeout"
    addresses = sorted(str(r) for rrset in reply.answer for r in rrset if r.rdtype == 1)
    return ",".join(addresses) if addresses else dns.rcode.to_text(reply.rcode())


# What the spoke's VNet DNS server (the scenario's resolv.conf nameserver) and the spoke's own Azure DNS
# (168.63.129.16 asked from the spoke) answer for the cluster's name, world by world.
ANSWERS = {
    "lz-healthy": (ENDPOINT_IP, NX),
    "lz-resolver": (ENDPOINT_IP, NX),
    "lz-azure-dns": (ENDPOINT_IP, ENDPOINT_IP),
    "lz-catch-all": (NX, NX),  # the catch-all leaves azmk8s.io to the spoke's view, which has no zone
    "lz-parent-rule": (NX, NX),  # the rule takes the name on premises
    "lz-rule-target": (NX, NX),
    "lz-rule-fixed": (ENDPOINT_IP, ENDPOINT_IP),  # the zone's rule → the inbound endpoint → the hub's zone
    "lz-rule-disabled": (NX, NX),  # past the disabled rule, as lz-catch-all
    "lz-rules-zone-linked": (ENDPOINT_IP, ENDPOINT_IP),  # the zone linked to the spoke answers before any rule
    "lz-inbound-unlinked": (NX, NX),
    "lz-firewall-unlinked": (NX, NX),
    "lz-proxy-off": ("timeout", NX),
    "lz-proxy-servers": (NX, NX),  # the seeded proxy's first picks are vm-dns01, which has no forwarder
    "lz-windows-dns": (NX, NX),
    "lz-linux-dns": (NX, NX),
    "lz-second-endpoint": (ENDPOINT_IP, NX),
}


def test_every_lz_scenario_has_its_answers_and_shown_addresses() -> None:
    assert set(ANSWERS) == set(LZ_SCENARIOS)
    for scenario in LZ_SCENARIOS.values():
        assert set(scenario.resolver) <= set(SHOWN), scenario.name
        assert scenario.expect == (ENDPOINT_IP,)


@pytest.mark.parametrize("name", sorted(LZ_SCENARIOS))
def test_the_spoke_gets_what_azure_would_answer(name: str, start_world: Any) -> None:
    world = start_world(name)
    vnet_server, spoke_azure = ANSWERS[name]
    timeout = 0.5 if vnet_server == "timeout" else 3.0
    assert ask(world, world.scenario.resolver[0], timeout=timeout) == vnet_server
    assert ask(world, "azure") == spoke_azure


def test_rules_longest_enabled_suffix_wins() -> None:
    rules = (
        Rule(".", ("onprem",)),
        Rule("privatelink.koreacentral.azmk8s.io.", ("resolver",), enabled=False),
        Rule("Corp.Contoso.com.", ("onprem", "dc02")),
    )
    forwards, catch_all = rule_forwards(rules)
    assert forwards == {"corp.contoso.com": ("onprem", "dc02")}, "disabled rules are left out, names lower-cased"
    assert catch_all == ("onprem",)


def test_a_catch_all_leaves_azures_reserved_domains_to_azure_dns() -> None:
    forwards, default = ServerSpec("azure-rules", rules=(CATCH_ALL,), default_forward="public").forward_map()
    assert default == ("onprem",)
    assert forwards["azmk8s.io"] == ("public",) and set(WILDCARD_RESERVED) <= set(forwards)
    named, _ = ServerSpec("azure-rules", rules=(CATCH_ALL, PARENT_RULE), default_forward="public").forward_map()
    assert named["azmk8s.io"] == ("onprem",), "a rule that names a reserved domain applies"


def test_the_zones_rule_beats_the_catch_all_and_the_catch_all_takes_the_rest(start_world: Any) -> None:
    world = start_world("lz-rule-fixed")
    assert ask(world, "azure-rules") == ENDPOINT_IP, "the zone's rule → the inbound endpoint → the hub's zone"
    assert ask(world, "azure", CORP_HOST) == CORP_IP, "the corp rule → on premises"
    assert ask(world, "azure", ONPREM_HOST) == ONPREM_IP, "the catch-all → on premises"
    assert ask(world, "azure", PUBLIC_HOST) == PUBLIC_IP, "on premises recurses for the rest"
    assert ask(start_world("lz-healthy"), "azure", ONPREM_HOST) != ONPREM_IP, "without the catch-all: not asked"


def test_a_disabled_rule_is_skipped(start_world: Any) -> None:
    world = start_world("lz-rule-disabled")
    assert ask(world, "azure-rules") == NX, "past the disabled rule, the catch-all leaves azmk8s.io to public DNS"
    assert ask(world, "azure") == NX, "the zone is not linked to the spoke: nothing there answers it"
    assert ask(world, "azure", ONPREM_HOST) == ONPREM_IP, "the catch-all still takes the rest"
    assert ask(start_world("lz-rule-fixed"), "azure") == ENDPOINT_IP, "enabled, the rule takes it to the hub"


def test_a_linked_zone_answers_before_the_rules(start_world: Any) -> None:
    world = start_world("lz-rules-zone-linked")
    assert ask(world, "azure") == ENDPOINT_IP, "the zone is linked to the spoke"
    assert ask(world, "azure-rules") == NX, "the rules alone send it on premises"
    assert ask(world, "azure", ONPREM_HOST) == ONPREM_IP, "the catch-all takes the names no zone holds"
    assert ask(start_world("lz-parent-rule"), "azure") == NX, "the zone not linked to the spoke: the rule takes it"


def test_the_inbound_endpoint_resolves_as_its_vnet_with_its_rules(start_world: Any) -> None:
    world = start_world("lz-healthy")
    assert ask(world, "resolver") == ENDPOINT_IP
    assert ask(world, "resolver", CORP_HOST) == CORP_IP, "rs-hub is linked to the hub: its corp rule applies"
    assert ask(world, "onprem", CLUSTER_FQDN) == NX, "on premises knows corp.contoso.com only"
    assert ask(world, "azure", CORP_HOST) == CORP_IP, "rs-hub is linked to the spoke too"


def test_the_firewall_proxy_forwards_to_azure_dns_in_its_vnet(start_world: Any) -> None:
    world = start_world("lz-firewall-unlinked")
    assert ask(world, "firewall") == NX and ask(world, "firewall", transport="tcp") == NX
    assert ask(world, "azure-hub") == NX, "the hub's view has no zone: the proxy can only relay that"


def test_the_firewall_with_the_proxy_off_does_not_answer(start_world: Any) -> None:
    world = start_world("lz-proxy-off")
    assert ask(world, "firewall", timeout=0.5) == "timeout"
    assert ask(world, "resolver") == ENDPOINT_IP, "the rest of the hub is fine"


def test_the_firewall_picks_one_of_its_servers_per_query_repeatably(start_world: Any) -> None:
    rng = random.Random(FIREWALL_SEED)
    picks = [rng.choice(("custom", "resolver")) for _ in range(16)]
    assert set(picks) == {"custom", "resolver"}, "the seed draws both servers within 16 queries"
    expected = [NX if p == "custom" else ENDPOINT_IP for p in picks]
    first = start_world("lz-proxy-servers")
    assert [ask(first, "firewall") for _ in picks] == expected
    again = start_world("lz-proxy-servers")
    assert [ask(again, "firewall", transport="tcp") for _ in picks] == expected, "the same seed, the same answers"


def test_the_jump_box_vnet_sees_its_own_endpoint(start_world: Any) -> None:
    world = start_world("lz-second-endpoint")
    assert ask(world, "azure-jumpbox") == "10.50.0.5"
    assert ask(world, "firewall") == ENDPOINT_IP


def _answers(world: Any) -> dict[tuple[str, str, str], str]:
    roles = sorted(r for r in world.endpoints if r != "firewall" or world.scenario.server(r).behaviour != "dead")
    return {
        (role, name, transport): ask(world, role, name, transport)
        for role in roles
        for name in (CLUSTER_FQDN, CORP_HOST, ONPREM_HOST, PUBLIC_HOST)
        for transport in ("udp", "tcp")
        if world.scenario.server(role).behaviour != "random-forward"  # Python in both: compared above
    }


def _bind_cover() -> list[str]:
    """The fewest scenarios (greedily) that hold every server BIND plays in any lz scenario: each named config is
    checked once, not once per scenario that repeats it (ten named processes a world are the suite's slowest)."""

    def specs(name: str) -> set[str]:
        return {repr(s) for s in LZ_SCENARIOS[name].servers if s.behaviour not in PYTHON_BEHAVIOURS}

    needed, chosen = set().union(*map(specs, LZ_SCENARIOS)), []
    while needed:
        best = max(sorted(LZ_SCENARIOS), key=lambda n: len(needed & specs(n)))
        chosen.append(best)
        needed -= specs(best)
    return chosen


@pytest.mark.bind
@pytest.mark.parametrize("name", _bind_cover())
def test_python_and_bind_agree(name: str, start_world: Any, bind_required: None) -> None:
    python, bind = start_world(name, "python"), start_world(name, "bind")
    assert _answers(bind) == _answers(python)
