"""The cluster's caching DNS relays for the lab: CoreDNS (`forward` + `cache`) and AKS LocalDNS, in pure Python.

Separate from dnsserver.py because a relay holds state (its cache) and reads a clock: time is injectable, so a test
moves it on without sleeping, and the cache is flushable (as restarting the CoreDNS pods or LocalDNS empties it).

What is modelled, from CoreDNS's cache plugin and Learn's LocalDNS pages ("Configure LocalDNS", the
`LocalDNSOverride` reference, and troubleshoot-localdns's corefile `cache 3600s { success 9984 denial 9984
serve_stale 3600s }`):
- A positive answer is cached for min(its smallest TTL, `success_ttl`); a denial (NXDOMAIN, or NOERROR without an
  answer: NODATA) for min(the SOA's TTL and MINIMUM, `denial_ttl`). CoreDNS's defaults are 3600 s and 1800 s; AKS's
  Corefile says `cache 30` (both capped at 30 s); LocalDNS's `cacheDurationInSeconds` defaults to 3600 and caps
  both (the cap never raises a TTL: "the smaller of upstream's and the cache's"). TTLs in answers count down.
- Serve-stale (`serve_stale` seconds; LocalDNS's `serveStale` Immediate with `serveStaleDurationInSeconds` 3600 by
  default, off in AKS's CoreDNS): an entry expired for less than that is answered with TTL 0, as CoreDNS does.
  `immediate` answers it at once and refreshes in the background; `verify` asks the upstream first and answers the
  stale entry only when the upstream fails (a timeout, SERVFAIL or REFUSED).
- Forwarding: per-zone overrides (a `coredns-custom` `<zone>.server` block, a LocalDNS override's zone) by longest
  suffix, else the default upstream; several upstreams are tried in order (LocalDNS's `forwardPolicy` Sequential;
  CoreDNS's default `policy random` is not modelled). `protocol`: `prefer-udp` (UDP, TCP again on a truncated
  answer: LocalDNS's PreferUDP, CoreDNS's default) or `force-tcp` (TCP only: LocalDNS's ForceTCP, CoreDNS's
  `force_tcp`), so an upstream without TCP/53 fails through a ForceTCP relay.
- A failure is answered SERVFAIL and not cached. Not modelled: CoreDNS's 5 s floor on cached TTLs and its 5 s
  SERVFAIL cache, prefetch, the cache's capacity (9984 entries), DNSSEC (the DO bit is not part of the key).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from aksdiag.facts import Endpoint
from aksdiag.lab import dnsserver

if TYPE_CHECKING:
    from aksdiag.lab.scenarios import ServerSpec

RELAY_BEHAVIOURS = ("coredns", "localdns")
LIVE_BEHAVIOURS = (*RELAY_BEHAVIOURS, "switchable")
"""Servers the lab keeps a handle on, to change them while a world runs (flush, add a forwarder, take down)."""


@dataclass(frozen=True)
class RelaySpec:
    """A relay's cache and forwarding settings (see the module's docstring for where the values come from)."""

    success_ttl: int = 3600
    denial_ttl: int = 1800
    serve_stale: int = 0
    """Seconds past expiry an entry may still be answered (0: serve-stale off)."""
    stale_mode: str = "verify"
    """`immediate` or `verify` (CoreDNS's serve_stale refresh modes)."""
    protocol: str = "prefer-udp"
    """`prefer-udp` or `force-tcp`: how the relay asks its upstream."""


COREDNS_DEFAULTS = RelaySpec()
"""The cache plugin's defaults (`cache` with no TTL)."""
AKS_COREDNS = RelaySpec(success_ttl=30, denial_ttl=30)
"""AKS's Corefile: `cache 30`, no serve_stale."""
LOCALDNS = RelaySpec(success_ttl=3600, denial_ttl=3600, serve_stale=3600, stale_mode="immediate")
"""LocalDNS's defaults: cacheDurationInSeconds 3600, serveStale Immediate for 3600 s, protocol PreferUDP."""
LOCALDNS_FORCE_TCP = RelaySpec(**{**LOCALDNS.__dict__, "protocol": "force-tcp"})


def spec_of(server: ServerSpec) -> RelaySpec:
    """The relay settings of a coredns/localdns server: its own, else its kind's defaults."""
    if server.relay is not None:
        return server.relay
    return LOCALDNS if server.behaviour == "localdns" else COREDNS_DEFAULTS


class LabClock:
    """Monotonic seconds that a test can freeze and move on; unfrozen it follows real time (for `aksdiag lab`)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen: float | None = None

    def __call__(self) -> float:
        return (time.monotonic() if self.frozen is None else self.frozen) + self.offset

    def freeze(self) -> None:
        self.frozen = time.monotonic()

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class _Entry:
    reply: dns.message.Message
    ttl: int
    stored: float


def _cache_ttl(answer: dns.message.Message, spec: RelaySpec) -> int:
    """How long `answer` may be cached: its own TTLs, capped by the success or the denial cap."""
    if answer.rcode() == dns.rcode.NOERROR and answer.answer:
        return min([r.ttl for r in answer.answer + answer.authority] + [spec.success_ttl])
    soas = [r for r in answer.authority if r.rdtype == dns.rdatatype.SOA]
    if not soas:
        return 0  # a denial without SOA says nothing about how long it holds
    return min(soas[0].ttl, soas[0][0].minimum, spec.denial_ttl)


def _with_ttl(rrsets: list[dns.rrset.RRset], ttl: int) -> list[dns.rrset.RRset]:
    return [dns.rrset.from_rdata_list(r.name, ttl, list(r)) for r in rrsets]


class Relay:
    """A caching forwarder; `handle` serves it, `flush` empties its cache, `forwards` may change while it runs."""

    def __init__(
        self,
        spec: RelaySpec,
        forwards: dict[str, tuple[Endpoint, ...]],
        default: tuple[Endpoint, ...],
        clock: Callable[[], float] = time.monotonic,
        timeout: float = dnsserver.FORWARD_TIMEOUT,
    ) -> None:
        self.spec, self.forwards, self.default, self.clock, self.timeout = spec, forwards, default, clock, timeout
        self.cache: dict[tuple[str, int], _Entry] = {}
        self.upstream_queries = 0
        self._refreshing: set[asyncio.Task[object]] = set()

    def flush(self) -> None:
        self.cache.clear()

    def upstreams(self, name: str) -> tuple[Endpoint, ...]:
        best = dnsserver.suffix_match(name, list(self.forwards))
        return self.forwards[best] if best else self.default

    async def handle(self, query: dns.message.Message, transport: str) -> dnsserver.Reply:
        question = query.question[0]
        key = (question.name.to_text(omit_final_dot=True).lower(), question.rdtype)
        entry = self.cache.get(key)
        if entry is not None:
            left = entry.ttl - int(self.clock() - entry.stored)
            if left > 0:
                return self._reply(query, entry.reply, left)
            if -left < self.spec.serve_stale:
                if self.spec.stale_mode == "immediate":
                    task = asyncio.ensure_future(self._refresh(key, question))
                    self._refreshing.add(task)
                    task.add_done_callback(self._refreshing.discard)
                    return self._reply(query, entry.reply, 0)
                fresh = await self._refresh(key, question)
                return self._reply(query, fresh.reply, fresh.ttl) if fresh else self._reply(query, entry.reply, 0)
        fresh = await self._refresh(key, question)
        if fresh is None:
            reply = dns.message.make_response(query)
            reply.set_rcode(dns.rcode.SERVFAIL)
            return reply
        return self._reply(query, fresh.reply, fresh.ttl)

    async def _refresh(self, key: tuple[str, int], question: dns.rrset.RRset) -> _Entry | None:
        """Ask the upstreams in order; cache and return the first answer, None when none answers."""
        for upstream in self.upstreams(key[0]):
            answer = await self._ask(question, upstream)
            if answer is None:
                continue
            entry = _Entry(answer, _cache_ttl(answer, self.spec), self.clock())
            if entry.ttl > 0:
                self.cache[key] = entry
            return entry
        return None

    async def _ask(self, question: dns.rrset.RRset, upstream: Endpoint) -> dns.message.Message | None:
        self.upstream_queries += 1
        ask = dns.message.make_query(question.name, question.rdtype)
        host, port, timeout = upstream.host, upstream.port, self.timeout
        try:
            if self.spec.protocol == "force-tcp":
                answer = await dns.asyncquery.tcp(ask, host, timeout=timeout, port=port)
            else:
                answer = await dns.asyncquery.udp(ask, host, timeout=timeout, port=port)
                if answer.flags & dns.flags.TC:
                    answer = await dns.asyncquery.tcp(ask, host, timeout=timeout, port=port)
        except (dns.exception.DNSException, OSError, EOFError):
            return None
        return answer if answer.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN) else None

    def _reply(self, query: dns.message.Message, cached: dns.message.Message, ttl: int) -> dns.message.Message:
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.RA
        reply.set_rcode(cached.rcode())
        reply.answer = _with_ttl(cached.answer, ttl)
        reply.authority = _with_ttl(cached.authority, ttl)
        return reply


@dataclass
class Switchable:
    """A normal lab server whose forwarders can be added and which can be taken down (silent) while it runs:
    the custom server an engineer fixes, or an upstream that dies after the relay cached its answers."""

    forwards: dict[str, dnsserver.Upstreams]
    handler: dnsserver.Handler
    down: bool = False

    async def handle(self, query: dns.message.Message, transport: str) -> dnsserver.Reply:
        return None if self.down else await self.handler(query, transport)


@dataclass
class Live:
    """The live servers of one world, by role, and the clock its relays read."""

    clock: LabClock = field(default_factory=LabClock)
    relays: dict[str, Relay] = field(default_factory=dict)
    switches: dict[str, Switchable] = field(default_factory=dict)

    def serve(self, spec: ServerSpec, endpoints: dict[str, Endpoint]) -> dnsserver.ServerSpec:
        """The pure-Python server for a coredns, localdns or switchable spec, kept here by role."""
        forward_roles, default_roles = spec.forward_map()
        forwards = {zone: tuple(endpoints[r] for r in roles) for zone, roles in forward_roles.items()}
        default = tuple(endpoints[r] for r in default_roles)
        if spec.behaviour in RELAY_BEHAVIOURS:
            relay = self.relays[spec.role] = Relay(spec_of(spec), forwards, default, self.clock)
            return dnsserver.ServerSpec(relay.handle, name=spec.role)
        zones = [dnsserver.Zone(z.origin, dict(z.a), dict(z.cname)) for z in spec.zones]
        live: dict[str, dnsserver.Upstreams] = dict(forwards)
        switch = Switchable(live, dnsserver.make_handler(zones, live, default or None))
        self.switches[spec.role] = switch
        return dnsserver.ServerSpec(switch.handle, name=spec.role)
