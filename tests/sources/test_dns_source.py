"""The DNS source against real loopback servers, well-behaved and hostile: every failure becomes a fact."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import dns.message
import pytest

from aksdiag.errors import UsageError
from aksdiag.facts import DnsAnswer, DnsQuery, DnsResult, Endpoint, Outcome
from aksdiag.lab import dnsserver as lab
from aksdiag.lab.dnsserver import LabServers, ServerSpec, Zone
from aksdiag.settings import Settings, from_env
from aksdiag.sources import dns as source
from aksdiag.sources import route

ZONE = Zone(
    "lab.example",
    a={
        "api.lab.example": ("10.224.0.4",),
        "target.lab.example": ("10.224.0.5",),
        "multi.lab.example": ("10.224.0.8", "10.224.0.9"),
    },
    cname={
        "alias.lab.example": "target.lab.example",
        "double.lab.example": "alias.lab.example",
        "dangling.lab.example": "gone.lab.example",
        "outside.lab.example": "api.other.example",
        "loop.lab.example": "loop.other.example",
    },
)
OTHER = Zone(
    "other.example",
    a={"api.other.example": ("10.224.0.6",)},
    cname={"loop.other.example": "loop.lab.example"},
)


@pytest.fixture
def servers() -> Iterator[LabServers]:
    with LabServers() as s:
        yield s


def authoritative(*zones: Zone) -> lab.Handler:
    return lab.make_handler(list(zones), {}, None)


def ask(server: Endpoint, name: str, transport: str = "udp", rdtype: str = "A", timeout: float = 1.0) -> DnsAnswer:
    return asyncio.run(source.ask(DnsQuery(server, name, rdtype, transport), timeout))


def fetch_one(query: DnsQuery, timeout: float) -> DnsResult:
    results = asyncio.run(source.fetch([query], timeout))
    assert list(results) == [query]
    return results[query]


# ---------------------------------------------------------------- answers a healthy server gives


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_answer(servers: LabServers, transport: str) -> None:
    server = servers.add(ServerSpec(authoritative(ZONE)))
    a = ask(server, "api.lab.example", transport)
    assert (a.outcome, a.rcode, a.addresses) == (Outcome.ANSWER, "NOERROR", ("10.224.0.4",))
    assert a.elapsed_ms is not None and 0 < a.elapsed_ms < 1000
    assert (a.error, a.truncated, a.cname_chain) == (None, False, ())
    assert a.outcome.responded and a.outcome.conclusive


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_every_address_of_the_answer_is_kept(servers: LabServers, transport: str) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE))), "multi.lab.example", transport)
    assert sorted(a.addresses) == ["10.224.0.8", "10.224.0.9"]


def test_name_is_matched_whatever_its_case(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE))), "API.Lab.Example.")
    assert (a.outcome, a.addresses) == (Outcome.ANSWER, ("10.224.0.4",))


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_nxdomain_records_the_zone_that_answered(servers: LabServers, transport: str) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE))), "missing.lab.example", transport)
    assert (a.outcome, a.rcode, a.zone, a.addresses) == (Outcome.NXDOMAIN, "NXDOMAIN", "lab.example", ())
    assert a.outcome.responded and a.outcome.conclusive


def test_zone_is_the_one_that_answered_not_a_constant(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE, OTHER))), "missing.other.example")
    assert (a.outcome, a.zone) == (Outcome.NXDOMAIN, "other.example")


@pytest.mark.parametrize(("name", "rdtype"), [("lab.example", "A"), ("api.lab.example", "AAAA")])
def test_nodata(servers: LabServers, name: str, rdtype: str) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE))), name, rdtype=rdtype)
    assert (a.outcome, a.rcode, a.addresses, a.zone) == (Outcome.NODATA, "NOERROR", (), "lab.example")
    assert a.outcome.responded and a.outcome.conclusive


def test_soa_query_gives_the_zone_and_no_addresses(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE))), "lab.example", rdtype="SOA")
    assert (a.outcome, a.zone, a.addresses) == (Outcome.ANSWER, "lab.example", ())


# ---------------------------------------------------------------- CNAMEs


def test_cname_followed_in_the_answer(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE))), "alias.lab.example")
    assert (a.outcome, a.addresses, a.cname_chain) == (Outcome.ANSWER, ("10.224.0.5",), ("target.lab.example",))


def test_cname_chain_of_two_in_one_answer(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE))), "double.lab.example")
    assert a.cname_chain == ("alias.lab.example", "target.lab.example")
    assert a.addresses == ("10.224.0.5",)


def test_cname_into_another_zone_is_chased_at_the_same_server(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE, OTHER))), "outside.lab.example")
    assert a.cname_chain == ("api.other.example",)
    assert (a.outcome, a.addresses) == (Outcome.ANSWER, ("10.224.0.6",))


def test_cname_into_a_zone_the_server_lacks_ends_refused(servers: LabServers) -> None:
    """The chase goes to the same server, which refuses a name it neither holds nor forwards."""
    a = ask(servers.add(ServerSpec(authoritative(ZONE))), "outside.lab.example")
    assert a.cname_chain == ("api.other.example",)
    assert a.outcome is Outcome.REFUSED and a.addresses == ()


def test_dangling_cname_ends_in_nxdomain_with_the_chain(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE))), "dangling.lab.example")
    assert (a.outcome, a.cname_chain, a.zone) == (Outcome.NXDOMAIN, ("gone.lab.example",), "lab.example")


def test_cname_loop_across_zones_ends(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(authoritative(ZONE, OTHER))), "loop.lab.example", timeout=2.0)
    assert a.outcome is Outcome.CNAME_LOOP and a.addresses == (), "a loop is named as such, not an empty answer"
    assert a.cname_chain == ("loop.other.example", "loop.lab.example"), "stops when the chain comes back"
    assert a.error and "loop.lab.example" in a.error


def test_cname_chase_shares_the_query_deadline(servers: LabServers) -> None:
    """The first hop takes most of the timeout, the chased name never answers: the ask ends in one timeout."""
    timeout, first_hop = 1.0, 0.7
    answer_slowly = lab.slow(authoritative(ZONE, OTHER), first_hop)

    async def silent_for_other(query: dns.message.Message, transport: str) -> lab.Reply:
        if query.question[0].name.to_text().endswith("other.example."):
            return None
        return await answer_slowly(query, transport)

    server = servers.add(ServerSpec(silent_for_other))
    started = time.perf_counter()
    a = ask(server, "outside.lab.example", timeout=timeout)
    elapsed = time.perf_counter() - started
    assert (a.outcome, a.cname_chain) == (Outcome.TIMEOUT, ("api.other.example",))
    # a fresh timeout for the chase would end at 0.7 + 1.0 s
    assert elapsed < timeout + first_hop / 2, (
        f"the chase took {elapsed:.2f} s: it must use what is left of the deadline"
    )


# ---------------------------------------------------------------- failures: rcodes, hostile and broken replies


@pytest.mark.parametrize(("handler", "outcome"), [(lab.servfail, Outcome.SERVFAIL), (lab.refuse, Outcome.REFUSED)])
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_error_rcodes(servers: LabServers, handler: lab.Handler, outcome: Outcome, transport: str) -> None:
    a = ask(servers.add(ServerSpec(handler)), "api.lab.example", transport)
    assert (a.outcome, a.rcode) == (outcome, outcome.name)
    assert a.outcome.responded and not a.outcome.conclusive


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (lab.garbage, "malformed"),
        (lab.wrong_id(authoritative(ZONE)), "does not match"),
        (lab.other_name(authoritative(ZONE), "target.lab.example"), "does not match"),
    ],
    ids=["garbage", "wrong-id", "other-name"],
)
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_hostile_answers_are_errors_with_a_reason(
    servers: LabServers, handler: lab.Handler, reason: str, transport: str
) -> None:
    a = ask(servers.add(ServerSpec(handler)), "api.lab.example", transport, timeout=0.5)
    assert a.outcome is Outcome.ERROR and not a.outcome.responded and not a.outcome.conclusive
    assert a.error and reason in a.error
    assert a.addresses == () and a.rcode is None


def test_truncated_udp_answer_is_flagged(servers: LabServers) -> None:
    server = servers.add(ServerSpec(lab.truncating(authoritative(ZONE))))
    udp = ask(server, "api.lab.example")
    assert udp.truncated and udp.outcome is Outcome.TRUNCATED and udp.addresses == ()
    assert udp.outcome.responded and not udp.outcome.conclusive, "TC is not an answer: a resolver retries over TCP"
    assert udp.to_dict()["truncated"] is True
    tcp = ask(server, "api.lab.example", "tcp")
    assert not tcp.truncated and tcp.addresses == ("10.224.0.4",)


# ---------------------------------------------------------------- silence, refusal, loss


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_dead_server_times_out(servers: LabServers, transport: str) -> None:
    a = ask(servers.add(ServerSpec(lab.dead)), "api.lab.example", transport, timeout=0.3)
    assert a.outcome is Outcome.TIMEOUT and not a.outcome.responded and not a.outcome.conclusive
    assert a.error and transport.upper() in a.error
    assert a.elapsed_ms is not None and a.elapsed_ms >= 250


def test_slow_server_within_the_timeout_answers_and_its_delay_is_measured(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(lab.slow(authoritative(ZONE), 0.15))), "api.lab.example", timeout=1.0)
    assert a.outcome is Outcome.ANSWER
    assert a.elapsed_ms is not None and a.elapsed_ms >= 140


def test_slow_server_beyond_the_timeout_times_out(servers: LabServers) -> None:
    a = ask(servers.add(ServerSpec(lab.slow(authoritative(ZONE), 1.0))), "api.lab.example", timeout=0.2)
    assert a.outcome is Outcome.TIMEOUT


def test_a_dead_server_costs_one_timeout_for_all_its_queries(servers: LabServers) -> None:
    dead = servers.add(ServerSpec(lab.dead))
    timeout = 0.5
    queries = [DnsQuery(dead, f"n{i}.lab.example", "A", t, samples=5) for i in range(3) for t in ("udp", "tcp")]
    started = time.perf_counter()
    results = asyncio.run(source.fetch(queries, timeout))
    elapsed = time.perf_counter() - started
    assert set(results) == set(queries)
    assert all(len(r.answers) == 5 for r in results.values())
    assert all(a.outcome is Outcome.TIMEOUT for r in results.values() for a in r.answers)
    # one after another they would take 30 × 0.5 s; sharing the deadline, about one 0.5 s
    assert elapsed < 5 * timeout, f"30 queries to a dead server took {elapsed:.2f} s: the deadline must be shared"


def test_udp_only_server_refuses_tcp(servers: LabServers) -> None:
    server = servers.add(ServerSpec(authoritative(ZONE), tcp=False))
    assert ask(server, "api.lab.example").outcome is Outcome.ANSWER
    tcp = ask(server, "api.lab.example", "tcp")
    assert tcp.outcome is Outcome.UNREACHABLE and not tcp.outcome.responded
    assert tcp.error and "refused" in tcp.error


def test_closed_port_is_not_a_crash() -> None:
    port = lab.free_port()
    tcp = ask(Endpoint("127.0.0.1", port), "api.lab.example", "tcp", timeout=0.3)
    assert tcp.outcome is Outcome.UNREACHABLE and tcp.error and "refused" in tcp.error
    # Linux reports no ICMP error to an unconnected UDP socket: silence, or refused where it does
    udp = ask(Endpoint("127.0.0.1", port), "api.lab.example", timeout=0.3)
    assert udp.outcome in (Outcome.UNREACHABLE, Outcome.TIMEOUT) and udp.error


def test_lossy_server_loses_some_samples(servers: LabServers) -> None:
    server = servers.add(ServerSpec(lab.lossy(authoritative(ZONE), every=2), tcp=False))
    result = fetch_one(DnsQuery(server, "api.lab.example", "A", "udp", samples=4), 0.4)
    outcomes = [a.outcome for a in result.answers]
    assert len(outcomes) == 4
    assert outcomes.count(Outcome.TIMEOUT) == 2 and outcomes.count(Outcome.ANSWER) == 2
    assert result.first.outcome is Outcome.ANSWER, "the representative answer is a real one"
    assert result.first.addresses == ("10.224.0.4",)


def test_samples_of_a_healthy_server_all_answer(servers: LabServers) -> None:
    server = servers.add(ServerSpec(authoritative(ZONE)))
    result = fetch_one(DnsQuery(server, "api.lab.example", "A", "tcp", samples=3), 1.0)
    assert [a.outcome for a in result.answers] == [Outcome.ANSWER] * 3


def test_fetch_keeps_each_result_with_its_query(servers: LabServers) -> None:
    good = servers.add(ServerSpec(authoritative(ZONE)))
    bad = servers.add(ServerSpec(lab.refuse))
    queries = [DnsQuery(good, "api.lab.example"), DnsQuery(bad, "api.lab.example"), DnsQuery(good, "nope.lab.example")]
    results = asyncio.run(source.fetch(queries, 1.0))
    assert [results[q].first.outcome for q in queries] == [Outcome.ANSWER, Outcome.REFUSED, Outcome.NXDOMAIN]


# ---------------------------------------------------------------- outcome semantics and the loopback guard


def test_outcome_semantics() -> None:
    conclusive = {o for o in Outcome if o.conclusive}
    responded = {o for o in Outcome if o.responded}
    assert conclusive == {Outcome.ANSWER, Outcome.NXDOMAIN, Outcome.NODATA}
    replied = {Outcome.SERVFAIL, Outcome.REFUSED, Outcome.TRUNCATED, Outcome.CNAME_LOOP, Outcome.CNAME_TOO_LONG}
    assert responded == conclusive | replied | {Outcome.RCODE}
    assert conclusive <= responded, "a resolver can only stop at a reply it read"


def test_first_prefers_a_conclusive_answer_else_the_first() -> None:
    q = DnsQuery(Endpoint("127.0.0.1"), "api.lab.example")
    timeout, servfail, nx = DnsAnswer(Outcome.TIMEOUT), DnsAnswer(Outcome.SERVFAIL), DnsAnswer(Outcome.NXDOMAIN)
    assert DnsResult(q, (timeout, servfail, nx)).first is nx
    assert DnsResult(q, (servfail, timeout)).first is servfail


def test_loopback_guard_and_address_map() -> None:
    """Pure: where a query would go (aksdiag.sources.route, shared by every source). Nothing is sent."""
    guard = Settings(loopback_only=True)
    assert route.refused("10.1.0.4", guard) and route.refused("168.63.129.16", guard)
    assert route.refused("127.0.0.1", guard) is None and route.refused("::1", guard) is None
    env = {"AKSDIAG_LOOPBACK_ONLY": "1", "AKSDIAG_ADDRESS_MAP": "10.1.0.4=127.0.0.1:5301,10.1.0.5=127.0.0.1#5302"}
    mapped = from_env(env)
    assert mapped.loopback_only and route.destination(Endpoint("10.1.0.4"), mapped) == Endpoint("127.0.0.1", 5301)
    assert route.destination(Endpoint("10.1.0.5"), mapped) == Endpoint("127.0.0.1", 5302)
    assert route.destination(Endpoint("10.1.0.6"), mapped) == Endpoint("10.1.0.6")
    assert route.refused("10.1.0.6", mapped)
    by_port = Settings(address_map=(("10.224.0.4:443", "127.0.0.1:8443"),))
    assert route.destination(Endpoint("10.224.0.4", 443), by_port) == Endpoint("127.0.0.1", 8443)
    assert route.destination(Endpoint("10.224.0.4", 4443), by_port) == Endpoint("10.224.0.4", 4443)


def test_the_environment_guard_holds_even_when_settings_say_otherwise(monkeypatch) -> None:
    monkeypatch.setenv("AKSDIAG_LOOPBACK_ONLY", "1")
    assert route.refused("10.1.0.4", Settings(loopback_only=False))
    monkeypatch.delenv("AKSDIAG_LOOPBACK_ONLY")
    assert route.refused("10.1.0.4", Settings(loopback_only=False)) is None


def test_a_bad_address_map_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        from_env({"AKSDIAG_ADDRESS_MAP": "10.1.0.4=dns.example:53"})


def test_the_mapped_server_answers_and_the_fact_keeps_the_shown_address(servers: LabServers) -> None:
    """168.63.129.16 is shown; the packet goes to the lab server the map names, and to nothing else."""
    real = servers.add(ServerSpec(authoritative(ZONE)))
    settings = Settings(loopback_only=True, address_map=(("168.63.129.16", str(real)),))
    query = DnsQuery(Endpoint("168.63.129.16"), "api.lab.example")
    results = asyncio.run(source.fetch([query], 1.0, settings))
    assert list(results) == [query] and results[query].first.addresses == ("10.224.0.4",)
    unmapped = DnsQuery(Endpoint("10.1.0.4"), "api.lab.example")
    answer = asyncio.run(source.fetch([unmapped], 1.0, settings))[unmapped].first
    assert answer.outcome is Outcome.UNREACHABLE and "not sent: 10.1.0.4 is off loopback" in (answer.error or "")
