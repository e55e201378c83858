"""The cluster's DNS relays of the lab (aksdiag.lab.relay, aksdiag.lab.relayscenarios) behave as CoreDNS's cache and
AKS LocalDNS do: dig-like questions with dnspython on loopback — TTLs capped and counting down on the world's
clock (frozen and moved on, never slept), a denial cache that outlives the fix until its TTL runs out or the cache
is flushed, serve-stale, per-zone overrides, ForceTCP against a UDP-only upstream — and real BIND 9 playing the
relay (its cache) gives the same answers where BIND can play the part."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from labup import lab_up

from aksdiag.lab import relay
from aksdiag.lab.relayscenarios import RELAY_SCENARIOS, RelayScenario
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP, FORWARD_ZONE

PUBLIC_HOST, PUBLIC_IP = "www.my.com", "20.41.65.8"
NX = "NXDOMAIN"


def ask(world: Any, role: str, name: str = CLUSTER_FQDN, transport: str = "udp") -> tuple[str, int | None]:
    """What `dig @server name A` shows, in short: the addresses (or the rcode, or "timeout") and the TTL shown."""
    server = world.endpoints[role]
    send = dns.query.udp if transport == "udp" else dns.query.tcp
    try:
        reply = send(dns.message.make_query(name, "A"), server.host, port=server.port, timeout=4.0)
    except dns.exception.Timeout:
        return "timeout", None
    except ConnectionRefusedError:
        return "refused", None
    addresses = sorted(str(r) for rrset in reply.answer for r in rrset if r.rdtype == dns.rdatatype.A)
    ttls = [r.ttl for r in reply.answer + reply.authority]
    return (",".join(addresses) or dns.rcode.to_text(reply.rcode())), (min(ttls) if ttls else None)


def frozen(world: Any) -> Any:
    world.live.clock.freeze()
    return world


def relay_of(world: Any, role: str) -> relay.Relay:
    return world.live.relays[role]


@pytest.mark.parametrize("name", sorted(RELAY_SCENARIOS))
def test_each_world_gives_the_pod_its_answer(name: str, start_world: Any) -> None:
    world = start_world(name)
    assert isinstance(world.scenario, RelayScenario)
    assert ask(world, world.scenario.resolver[0])[0] == world.scenario.answer
    custom = world.scenario.server("custom")
    if custom.behaviour not in ("dead", "udp-only"):
        assert ask(world, "custom")[0] in (ENDPOINT_IP, NX), "the custom server answers on its own"


def test_the_healthy_relay_caps_ttls_and_counts_them_down(start_world: Any) -> None:
    world = frozen(start_world("relay-healthy"))
    assert ask(world, "custom") == (ENDPOINT_IP, 60), "the zone's own TTL, through the custom server"
    assert ask(world, "coredns") == (ENDPOINT_IP, 30), "AKS's `cache 30` caps it"
    coredns = relay_of(world, "coredns")
    asked = coredns.upstream_queries
    world.live.clock.advance(12.4)
    assert ask(world, "coredns") == (ENDPOINT_IP, 18), "a cache's TTL counts down"
    assert ask(world, "coredns", transport="tcp") == (ENDPOINT_IP, 18)
    assert coredns.upstream_queries == asked, "answered from the cache"
    world.live.clock.advance(18)
    assert ask(world, "coredns") == (ENDPOINT_IP, 30), "expired: asked again, cached afresh"
    assert coredns.upstream_queries == asked + 1


def test_names_outside_the_overrides_go_to_the_default_upstream(start_world: Any) -> None:
    world = start_world("relay-override-wrong")
    assert ask(world, "coredns")[0] == NX, "the override sends the private zone to the old DNS server"
    assert ask(world, "custom")[0] == ENDPOINT_IP, "the custom server behind it would answer"
    assert ask(world, "coredns", PUBLIC_HOST)[0] == PUBLIC_IP, "the rest goes to the default upstream"
    world.add_forward("coredns", FORWARD_ZONE, "custom")
    world.flush("coredns")
    assert ask(world, "coredns")[0] == ENDPOINT_IP, "the override fixed (and the cache flushed)"


def test_a_cached_nxdomain_outlives_the_fix_until_its_ttl_runs_out(start_world: Any) -> None:
    world = frozen(start_world("relay-cached-nxdomain"))
    assert ask(world, "coredns") == (NX, 30), "public DNS's SOA says 60 s; `cache 30` caps the denial"
    world.add_forward("custom", FORWARD_ZONE, "azure")
    assert ask(world, "custom")[0] == ENDPOINT_IP, "the custom server is fixed"
    world.live.clock.advance(10)
    assert ask(world, "coredns") == (NX, 20), "the relay still answers its cached NXDOMAIN, the TTL counting down"
    world.live.clock.advance(19)
    assert ask(world, "coredns") == (NX, 1)
    world.live.clock.advance(1)
    assert ask(world, "coredns") == (ENDPOINT_IP, 30), "the denial expired: the fix shows"


def test_flushing_the_relay_ends_the_cached_nxdomain_at_once(start_world: Any) -> None:
    world = frozen(start_world("relay-cached-nxdomain"))
    assert ask(world, "coredns")[0] == NX
    world.add_forward("custom", FORWARD_ZONE, "azure")
    assert ask(world, "coredns")[0] == NX
    world.flush("coredns")
    assert ask(world, "coredns") == (ENDPOINT_IP, 30)


def test_localdns_caps_at_an_hour_but_never_raises_a_ttl(start_world: Any) -> None:
    scenario = RELAY_SCENARIOS["relay-cached-nxdomain"]
    localdns = replace(scenario.server("coredns"), role="localdns", behaviour="localdns", relay=None)
    servers = (*(s for s in scenario.servers if s.role != "coredns"), localdns)
    world = frozen(start_world(replace(scenario, name="localdns-nxdomain", servers=servers, resolver=("localdns",))))
    assert ask(world, "localdns") == (NX, 60), "the SOA's 60 s, under LocalDNS's 3600 s cap"
    world.add_forward("custom", FORWARD_ZONE, "azure")
    world.live.clock.advance(59)
    assert ask(world, "localdns") == (NX, 1)
    world.live.clock.advance(1)
    assert ask(world, "localdns") == (NX, 0), "serve-stale Immediate: the expired denial once more, with TTL 0"
    assert _eventually(lambda: ask(world, "localdns")) == (ENDPOINT_IP, 60), "refreshed in the background"


def _eventually(get: Any, seconds: float = 3.0) -> Any:
    """The first answer that differs from a stale one (TTL 0), within `seconds`: a background refresh landing."""
    deadline = time.monotonic() + seconds
    while True:
        got = get()
        if got[1] != 0 or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_force_tcp_fails_against_a_udp_only_upstream_prefer_udp_does_not(start_world: Any) -> None:
    world = start_world("localdns-force-tcp")
    assert ask(world, "custom")[0] == ENDPOINT_IP, "the custom server answers over UDP"
    assert ask(world, "custom", transport="tcp")[0] == "refused", "nothing listens on its TCP/53"
    assert ask(world, "localdns")[0] == "SERVFAIL"
    assert ask(world, "localdns", transport="tcp")[0] == "SERVFAIL", "the pod's transport does not matter"
    prefer = start_world(_prefer_udp(world.scenario))
    assert ask(prefer, "localdns")[0] == ENDPOINT_IP, "PreferUDP asks over UDP: the same upstream answers"


def _prefer_udp(scenario: Any) -> Any:
    servers = tuple(
        replace(s, relay=replace(s.relay, protocol="prefer-udp")) if s.role == "localdns" else s
        for s in scenario.servers
    )
    return replace(scenario, name="localdns-prefer-udp", servers=servers, answer=ENDPOINT_IP)


def test_a_dead_upstream_is_servfail_and_not_cached(start_world: Any) -> None:
    world = start_world("relay-dead-upstream")
    assert ask(world, "coredns")[0] == "SERVFAIL"
    assert relay_of(world, "coredns").cache == {}, "a failure is not cached"


def test_serve_stale_answers_the_expired_entry_with_ttl_0_while_the_upstream_is_dead(start_world: Any) -> None:
    world = frozen(start_world("relay-stale"))
    assert ask(world, "localdns") == (ENDPOINT_IP, 60)
    world.take_down("custom")
    assert ask(world, "custom")[0] == "timeout"
    world.live.clock.advance(61)
    started = time.monotonic()
    assert ask(world, "localdns") == (ENDPOINT_IP, 0), "stale, with TTL 0"
    assert time.monotonic() - started < 1.0, "Immediate: answered at once, refreshed in the background"
    world.live.clock.advance(3600)
    assert ask(world, "localdns")[0] == "SERVFAIL", "past serveStaleDuration the entry is gone"


def test_serve_stale_verify_asks_first_and_answers_fresh_when_it_can(start_world: Any) -> None:
    scenario = RELAY_SCENARIOS["relay-stale"]
    verify = replace(relay.LOCALDNS, stale_mode="verify")
    servers = tuple(replace(s, relay=verify) if s.role == "localdns" else s for s in scenario.servers)
    world = frozen(start_world(replace(scenario, servers=servers)))
    assert ask(world, "localdns") == (ENDPOINT_IP, 60)
    world.live.clock.advance(61)
    assert ask(world, "localdns") == (ENDPOINT_IP, 60), "the upstream answers: a fresh entry, not the stale one"
    world.take_down("custom")
    world.live.clock.advance(61)
    assert ask(world, "localdns") == (ENDPOINT_IP, 0), "the upstream fails (a timeout): the stale entry"


def test_without_serve_stale_a_dead_upstream_fails_once_the_entry_expires(start_world: Any) -> None:
    world = frozen(start_world("relay-stale-off"))
    assert ask(world, "coredns") == (ENDPOINT_IP, 30)
    world.take_down("custom")
    world.live.clock.advance(29)
    assert ask(world, "coredns") == (ENDPOINT_IP, 1), "still cached"
    world.live.clock.advance(1)
    assert ask(world, "coredns")[0] == "SERVFAIL"


def test_lab_list_and_up_know_the_relay_scenarios() -> None:
    aksdiag = [sys.executable, "-m", "aksdiag"]
    out = subprocess.run([*aksdiag, "lab", "list"], capture_output=True, text=True, timeout=60, check=True).stdout
    for name, scenario in RELAY_SCENARIOS.items():
        assert re.search(rf"^  {name} +{re.escape(scenario.answer)} ", out, re.M), name
    with lab_up("relay-healthy") as up:
        assert "coredns" in up.ports, up.text
        reply = dns.query.udp(
            dns.message.make_query(CLUSTER_FQDN, "A"), "127.0.0.1", port=up.ports["coredns"], timeout=4
        )
        assert [r.to_text() for r in reply.answer[0]] == [ENDPOINT_IP]
    assert up.returncode == 0, up.stderr


# ---------------------------------------------------------------- real BIND 9 as the relay


@pytest.mark.bind
@pytest.mark.parametrize("name", ["relay-healthy", "relay-override-wrong", "localdns-healthy", "localdns-force-tcp"])
def test_python_and_bind_relays_agree(name: str, start_world: Any, bind_required: None) -> None:
    python, bind = start_world(name, "python"), start_world(name, "bind")
    for role in (python.scenario.resolver[0], "custom"):
        for host in (CLUSTER_FQDN, PUBLIC_HOST):
            for transport in ("udp", "tcp"):
                (got, ttl), (want, want_ttl) = ask(bind, role, host, transport), ask(python, role, host, transport)
                assert got == want, (role, host, transport)
                if role != "custom" and want[0].isdigit():  # (a denial's SOA TTL is the 1-s caches' behind it)
                    assert ttl is not None and want_ttl is not None and 0 < ttl <= want_ttl, "capped as the relay's"


@pytest.mark.bind
def test_bind_force_tcp_fails_and_prefer_udp_answers(start_world: Any, bind_required: None) -> None:
    world = start_world("localdns-force-tcp", "bind")
    assert ask(world, "localdns")[0] == "SERVFAIL", "BIND's `server { tcp-only yes; }` against a UDP-only upstream"
    assert ask(start_world(_prefer_udp(world.scenario), "bind"), "localdns")[0] == ENDPOINT_IP


@pytest.mark.bind
def test_bind_and_python_keep_the_cached_nxdomain_past_the_fix(start_world: Any, bind_required: None) -> None:
    """BIND's clock is real: its denial cap is 2 s here (max-ncache-ttl), and the test waits for it."""
    scenario = RELAY_SCENARIOS["relay-cached-nxdomain"]
    short = replace(relay.AKS_COREDNS, denial_ttl=2)
    servers = tuple(replace(s, relay=short) if s.role == "coredns" else s for s in scenario.servers)
    worlds = [start_world(replace(scenario, servers=servers), backend) for backend in ("python", "bind")]
    python, bind = worlds
    frozen(python)
    for world in worlds:
        assert ask(world, "coredns") == (NX, 2)
        world.add_forward("custom", FORWARD_ZONE, "azure")
        assert ask(world, "custom")[0] == ENDPOINT_IP
        assert ask(world, "coredns")[0] == NX, f"{world.backend}: the cached NXDOMAIN outlives the fix"
    python.live.clock.advance(2)
    time.sleep(2.2)
    assert ask(python, "coredns") == (ENDPOINT_IP, 30)
    assert ask(bind, "coredns")[0] == ENDPOINT_IP, "BIND's denial expired too: the fix shows"
