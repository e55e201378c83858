"""DNS source: sends the queries probes asked for, all concurrently, and records what came back.

Each sample gets the run's timeout from the moment it is sent, and samples of one query are only staggered a
little, so a dead server costs one timeout however many hops, transports and samples ask it. CNAMEs the server
did not follow are chased at the same server, up to the depth resolvers follow; a loop or a longer chain is an
outcome of its own. A truncated UDP reply (TC) is one too, not an empty answer: a resolver asks again over TCP,
and the TCP query's answer is what it uses. Nothing raises: every failure becomes a DnsAnswer.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype

from aksdiag.facts import DnsAnswer, DnsQuery, DnsResult, Outcome
from aksdiag.sources import route

if TYPE_CHECKING:
    from aksdiag.settings import Settings

MAX_CNAME_HOPS = 11
"""CNAMEs followed before giving up: as a resolver does (BIND since 9.18.29: max-query-restarts, default 11)."""
TRUNCATED_WHY = "TC set: the answer did not fit in a UDP reply; a resolver asks again over TCP"
RCODE_WHY: dict[int, str] = {
    dns.rcode.FORMERR: "the server could not parse the query",
    dns.rcode.NOTIMP: "the server does not implement this kind of query",
    dns.rcode.YXDOMAIN: "a DNAME rewrite made the name too long",
    dns.rcode.NOTAUTH: "the server is not authoritative for the zone and does not resolve it for this client",
    dns.rcode.YXRRSET: "an rcode of dynamic updates, meaningless for a query",
    dns.rcode.NXRRSET: "an rcode of dynamic updates, meaningless for a query",
    dns.rcode.NOTZONE: "an rcode of dynamic updates, meaningless for a query",
}
STAGGER_S = 0.02
"""Gap between the samples of one query with --count: enough to spread them, small against any timeout."""


async def fetch(queries: list[DnsQuery], timeout: float, settings: Settings | None = None) -> dict[DnsQuery, DnsResult]:
    """Send every query (all samples) concurrently; return one DnsResult per query.

    `settings` route the packets (address map, loopback guard: aksdiag.sources.route); a query's server stays
    the shown one in its DnsResult."""
    results = await asyncio.gather(*(_samples(q, timeout, settings) for q in queries))
    return dict(zip(queries, results, strict=True))


async def _samples(q: DnsQuery, timeout: float, settings: Settings | None) -> DnsResult:
    async def delayed(i: int) -> DnsAnswer:
        if i:
            await asyncio.sleep(i * min(STAGGER_S, timeout / (4 * q.samples)))
        return await ask(q, timeout, settings)

    answers = await asyncio.gather(*(delayed(i) for i in range(max(1, q.samples))))
    return DnsResult(q, tuple(answers))


async def ask(q: DnsQuery, timeout: float, settings: Settings | None = None) -> DnsAnswer:
    """One query to one server, CNAMEs chased, within `timeout` seconds in all."""
    started = time.perf_counter()
    deadline = started + timeout
    name = dns.name.from_text(q.name)
    rdtype = dns.rdatatype.from_text(q.rdtype)
    chain: list[str] = []
    seen = [name]
    while True:
        answer = await _exchange(q, name, rdtype, deadline, settings)
        elapsed = (time.perf_counter() - started) * 1000
        if not isinstance(answer, dns.message.Message):
            return DnsAnswer(outcome=answer[0], error=answer[1], cname_chain=tuple(chain), elapsed_ms=elapsed)
        truncated = bool(answer.flags & dns.flags.TC)
        rcode = dns.rcode.to_text(answer.rcode())
        zone = _soa_owner(answer)
        if truncated and q.transport == "udp":
            return DnsAnswer(Outcome.TRUNCATED, rcode, (), tuple(chain), elapsed, TRUNCATED_WHY, True, zone)
        addresses, final, broken = _walk_answer(answer, name, rdtype, seen, chain)
        outcome = broken or _outcome(answer.rcode(), addresses)
        needs_chase = outcome is Outcome.NODATA and final != name and rdtype != dns.rdatatype.CNAME
        if needs_chase:
            name = final
            continue
        if rdtype == dns.rdatatype.SOA and zone and outcome is Outcome.ANSWER:
            addresses = []
        return DnsAnswer(
            outcome=outcome,
            rcode=rcode,
            addresses=tuple(addresses),
            cname_chain=tuple(chain),
            elapsed_ms=elapsed,
            error=_why(outcome, answer.rcode(), chain),
            truncated=truncated,
            zone=zone,
            ttl=_ttl(answer, outcome),
        )


def _why(outcome: Outcome, rcode: dns.rcode.Rcode, chain: list[str]) -> str | None:
    """The reason shown with an outcome that is not an answer a resolver can use."""
    if outcome is Outcome.CNAME_LOOP:
        return f"the chain comes back to {chain[-1]}"
    if outcome is Outcome.CNAME_TOO_LONG:
        return f"no address after {MAX_CNAME_HOPS} CNAMEs, where resolvers give up"
    if outcome is Outcome.RCODE:
        text = dns.rcode.to_text(rcode)
        meaning = RCODE_WHY.get(rcode) or (
            "an rcode no standard assigns"
            if text.isdigit()
            else "an rcode of EDNS or TSIG, meaningless for a plain query"
        )
        return f"{text}: {meaning}" if not text.isdigit() else f"rcode {text}: {meaning}"
    return None


async def _exchange(
    q: DnsQuery, name: dns.name.Name, rdtype: dns.rdatatype.RdataType, deadline: float, settings: Settings | None
) -> dns.message.Message | tuple[Outcome, str]:
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return Outcome.TIMEOUT, f"no answer within the deadline over {q.transport.upper()}"
    target = route.destination(q.server, settings)
    refused = route.refused(target.host, settings)
    if refused:
        return Outcome.UNREACHABLE, refused
    request = dns.message.make_query(name, rdtype)
    host, port = target.host, target.port
    try:
        if q.transport == "tcp":
            return await dns.asyncquery.tcp(request, host, port=port, timeout=remaining)
        return await dns.asyncquery.udp(request, host, port=port, timeout=remaining, raise_on_truncation=True)
    except dns.message.Truncated as e:  # TC set, even when the records were cut mid-way: still "truncated"
        reply = e.message()
        if reply is not None and request.is_response(reply):
            return reply
        return Outcome.ERROR, "malformed reply: TC set, but it does not answer the query"
    except dns.exception.Timeout:
        return Outcome.TIMEOUT, f"no answer within {remaining:.1f} s over {q.transport.upper()}"
    except dns.query.BadResponse:
        return Outcome.ERROR, "the reply does not match the query (another id, name or type)"
    except dns.query.UnexpectedSource as e:
        return Outcome.ERROR, f"the reply came from another address ({e})"
    except (dns.message.ShortHeader, dns.message.TrailingJunk, dns.exception.FormError) as e:
        return Outcome.ERROR, f"malformed reply: {type(e).__name__}: {e}"
    except dns.exception.DNSException as e:
        return Outcome.ERROR, f"bad reply: {type(e).__name__}: {e}"
    except ConnectionRefusedError:
        return Outcome.UNREACHABLE, f"connection refused ({q.transport.upper()}/{q.server.port} not served)"
    except EOFError:
        return Outcome.ERROR, "the server closed the connection without an answer"
    except OSError as e:
        return Outcome.UNREACHABLE, f"{q.transport.upper()}: {e.strerror or e}"


def _walk_answer(
    msg: dns.message.Message,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    seen: list[dns.name.Name],
    chain: list[str],
) -> tuple[list[str], dns.name.Name, Outcome | None]:
    """Follow CNAMEs from qname inside the answer section, extending `seen` (every name of the chain, the asked
    one first) and `chain` (the targets); return the addresses, the final name, and a loop or a chain past
    MAX_CNAME_HOPS when that is how it ended."""
    name = qname
    while True:
        rrset = _find(msg, name, rdtype)
        if rrset is not None:
            return [r.to_text() for r in rrset], name, None
        cname = _find(msg, name, dns.rdatatype.CNAME)
        if cname is None or rdtype == dns.rdatatype.CNAME:
            return [], name, None
        target = cname[0].target
        chain.append(target.to_text(omit_final_dot=True))
        if target in seen:
            return [], target, Outcome.CNAME_LOOP
        if len(chain) > MAX_CNAME_HOPS:
            return [], target, Outcome.CNAME_TOO_LONG
        seen.append(target)
        name = target


def _find(msg: dns.message.Message, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> dns.rrset.RRset | None:
    for rrset in msg.answer:
        if rrset.name == name and rrset.rdtype == rdtype:
            return rrset
    return None


def _ttl(msg: dns.message.Message, outcome: Outcome) -> int | None:
    """How long the reply may be cached: the answer's smallest TTL, or for a denial the SOA's negative TTL
    (RFC 2308: the smaller of the SOA record's TTL and its MINIMUM); None when nothing in it says."""
    if outcome is Outcome.ANSWER and msg.answer:
        return min(rrset.ttl for rrset in msg.answer)
    if outcome in (Outcome.NXDOMAIN, Outcome.NODATA):
        for rrset in msg.authority:
            if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
                return min(rrset.ttl, rrset[0].minimum)
    return None


def _soa_owner(msg: dns.message.Message) -> str | None:
    for section in (msg.answer, msg.authority):
        for rrset in section:
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset.name.to_text(omit_final_dot=True)
    return None


def _outcome(rcode: int, addresses: list[str]) -> Outcome:
    if rcode == dns.rcode.NOERROR:
        return Outcome.ANSWER if addresses else Outcome.NODATA
    outcomes: dict[int, Outcome] = {
        dns.rcode.NXDOMAIN: Outcome.NXDOMAIN,
        dns.rcode.SERVFAIL: Outcome.SERVFAIL,
        dns.rcode.REFUSED: Outcome.REFUSED,
    }
    return outcomes.get(rcode, Outcome.RCODE)
