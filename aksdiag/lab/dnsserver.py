"""Pure-Python DNS servers on loopback for the lab: authoritative, forwarding, and misbehaving ones.

A server is a `handle(query) -> Message | bytes | None` function served over UDP and TCP on one port: a
Message is answered, bytes are sent as they are (garbage), None means silence (a dead or lossy server). The
servers run on an asyncio loop in a background thread, so synchronous code (the CLI, tests) can query them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from aksdiag.facts import Endpoint
from aksdiag.lab.ports import free_port, lab_port_band, port_slice  # noqa: F401 - the lab and its tests name ports here

Reply = dns.message.Message | bytes | None
Handler = Callable[[dns.message.Message, str], Awaitable[Reply]]

SOA_TEXT = "ns1.lab.invalid. hostmaster.lab.invalid. 1 3600 600 86400 60"
TTL = 60
FORWARD_TIMEOUT = 1.5


@dataclass
class Zone:
    """An authoritative zone: A records and CNAMEs by owner name (absolute, no trailing dot)."""

    origin: str
    a: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cname: dict[str, str] = field(default_factory=dict)

    def holds(self, name: str) -> bool:
        return name == self.origin or name.endswith("." + self.origin)


def suffix_match(name: str, zones: list[str]) -> str | None:
    """The longest zone in `zones` that holds `name`."""
    best = None
    for z in zones:
        if (name == z or name.endswith("." + z)) and (best is None or len(z) > len(best)):
            best = z
    return best


def authoritative_answer(query: dns.message.Message, zone: Zone) -> dns.message.Message:
    """Answer from `zone` as an authoritative server would: records, CNAMEs, NODATA or NXDOMAIN with SOA."""
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.AA
    question = query.question[0]
    name = question.name.to_text(omit_final_dot=True).lower()
    rdtype = question.rdtype
    soa = dns.rrset.from_text(zone.origin + ".", TTL, "IN", "SOA", SOA_TEXT)
    followed = {name}
    for _ in range(8):
        if rdtype == dns.rdatatype.SOA and name == zone.origin:
            reply.answer.append(soa)
            return reply
        if name in zone.cname and rdtype != dns.rdatatype.CNAME:
            target = zone.cname[name]
            reply.answer.append(dns.rrset.from_text(name + ".", TTL, "IN", "CNAME", target + "."))
            if not zone.holds(target) or target in followed:
                return reply  # out of the zone, or a loop: as BIND, the chain so far
            followed.add(target)
            name = target
            continue
        if rdtype == dns.rdatatype.A and zone.a.get(name):
            reply.answer.append(dns.rrset.from_text(name + ".", TTL, "IN", "A", *zone.a[name]))
            return reply
        break
    exists = name in zone.a or name in zone.cname or name == zone.origin
    if not exists and not reply.answer:
        reply.set_rcode(dns.rcode.NXDOMAIN)
    reply.authority.append(soa)
    return reply


Upstreams = Endpoint | tuple[Endpoint, ...]
"""One upstream, or several tried in order (a forwarding rule's target servers, BIND's forwarders)."""


def make_handler(zones: list[Zone], forwards: dict[str, Upstreams], default_forward: Upstreams | None) -> Handler:
    """An authoritative server for `zones` that forwards other names (conditionally, then by default)."""
    by_origin = {z.origin: z for z in zones}

    async def handle(query: dns.message.Message, transport: str) -> Reply:
        name = query.question[0].name.to_text(omit_final_dot=True).lower()
        best = suffix_match(name, [*by_origin, *forwards])
        if best in by_origin:
            return authoritative_answer(query, by_origin[best])
        upstream = forwards.get(best) if best else default_forward
        upstream = upstream or default_forward
        if not upstream:
            return _rcode(query, dns.rcode.REFUSED)
        return await forward_first(query, upstream)

    return handle


async def forward_first(query: dns.message.Message, upstreams: Upstreams) -> dns.message.Message:
    """Forward to the upstreams in order until one answers (NOERROR or NXDOMAIN); SERVFAIL when none does."""
    reply = _rcode(query, dns.rcode.SERVFAIL)
    for upstream in (upstreams,) if isinstance(upstreams, Endpoint) else upstreams:
        reply = await forward(query, upstream)
        if reply.rcode() != dns.rcode.SERVFAIL:
            return reply
    return reply


def random_forwarder(upstreams: tuple[Endpoint, ...], seed: int | None = None) -> Handler:
    """Azure Firewall's DNS proxy with several servers: each query goes to one of them, chosen at random (a
    seed makes the sequence of choices repeatable; which query draws which choice follows arrival order)."""
    rng = random.Random(seed)

    async def handle(query: dns.message.Message, transport: str) -> Reply:
        return await forward(query, rng.choice(upstreams))

    return handle


async def forward(query: dns.message.Message, upstream: Endpoint) -> dns.message.Message:
    """Ask `upstream` (recursion desired) and relay its answer; SERVFAIL when it fails or refuses, like BIND."""
    question = query.question[0]
    ask = dns.message.make_query(question.name, question.rdtype)
    try:
        answer = await dns.asyncquery.udp(ask, upstream.host, port=upstream.port, timeout=FORWARD_TIMEOUT)
        if answer.flags & dns.flags.TC:
            answer = await dns.asyncquery.tcp(ask, upstream.host, port=upstream.port, timeout=FORWARD_TIMEOUT)
    except (dns.exception.DNSException, OSError, EOFError):
        return _rcode(query, dns.rcode.SERVFAIL)
    if answer.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return _rcode(query, dns.rcode.SERVFAIL)
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.RA
    reply.set_rcode(answer.rcode())
    reply.answer = answer.answer
    reply.authority = answer.authority
    return reply


def _rcode(query: dns.message.Message, rcode: dns.rcode.Rcode) -> dns.message.Message:
    reply = dns.message.make_response(query)
    reply.set_rcode(rcode)
    return reply


# ---------------------------------------------------------------- misbehaviours (wrap a handler)


def slow(handler: Handler, delay_s: float) -> Handler:
    async def handle(query: dns.message.Message, transport: str) -> Reply:
        await asyncio.sleep(delay_s)
        return await handler(query, transport)

    return handle


def lossy(handler: Handler, every: int) -> Handler:
    """Drops one query in `every` (deterministically: the 1st, then every `every`-th)."""
    seen = [0]

    async def handle(query: dns.message.Message, transport: str) -> Reply:
        seen[0] += 1
        if (seen[0] - 1) % every == 0:
            return None
        return await handler(query, transport)

    return handle


async def dead(query: dns.message.Message, transport: str) -> Reply:
    return None


async def refuse(query: dns.message.Message, transport: str) -> Reply:
    return _rcode(query, dns.rcode.REFUSED)


async def servfail(query: dns.message.Message, transport: str) -> Reply:
    return _rcode(query, dns.rcode.SERVFAIL)


def rcode(code: int) -> Handler:
    """Answers every query with `code` (NOTIMP, FORMERR…, or one no standard assigns): a broken appliance."""

    async def handle(query: dns.message.Message, transport: str) -> Reply:
        reply = dns.message.make_response(query)
        reply.set_rcode(dns.rcode.Rcode.make(code))
        return reply

    return handle


async def garbage(query: dns.message.Message, transport: str) -> Reply:
    return b"\x13\x37not a dns message"


def wrong_id(handler: Handler) -> Handler:
    async def handle(query: dns.message.Message, transport: str) -> Reply:
        reply = await handler(query, transport)
        if isinstance(reply, dns.message.Message):
            reply.id = (query.id + 1) & 0xFFFF
        return reply

    return handle


def other_name(handler: Handler, name: str) -> Handler:
    """Answers a question about another name than the one asked."""

    async def handle(query: dns.message.Message, transport: str) -> Reply:
        other = dns.message.make_query(name, query.question[0].rdtype)
        other.id = query.id
        return await handler(other, transport)

    return handle


def truncating(handler: Handler) -> Handler:
    """Sets TC with an empty answer over UDP (as for a large answer); answers fully over TCP."""

    async def handle(query: dns.message.Message, transport: str) -> Reply:
        if transport == "udp":
            reply = dns.message.make_response(query)
            reply.flags |= dns.flags.TC
            return reply
        return await handler(query, transport)

    return handle


def cut_at_512(handler: Handler) -> Handler:
    """Over UDP, sends the full answer cut at 512 bytes with TC set (a middlebox's cut, mid-record); TCP in full."""

    async def handle(query: dns.message.Message, transport: str) -> Reply:
        reply = await handler(query, transport)
        if transport != "udp" or not isinstance(reply, dns.message.Message):
            return reply
        wire = bytearray(reply.to_wire())
        wire[2] |= 0x02  # the TC bit of the header's flags
        return bytes(wire[:512])

    return handle


# ---------------------------------------------------------------- serving


@dataclass
class ServerSpec:
    handler: Handler
    udp: bool = True
    tcp: bool = True
    name: str = ""


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: set[asyncio.Future[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's is a DatagramTransport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.ensure_future(self._answer(data, addr))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _answer(self, data: bytes, addr: tuple[str, int]) -> None:
        wire = await _reply_wire(self.handler, data, "udp")
        if wire is not None and self.transport is not None:
            self.transport.sendto(wire, addr)


async def _reply_wire(handler: Handler, data: bytes, transport: str) -> bytes | None:
    try:
        query = dns.message.from_wire(data)
    except dns.exception.DNSException:
        return None
    if not query.question:
        return None
    reply = await handler(query, transport)
    if reply is None or isinstance(reply, bytes):
        return reply
    return reply.to_wire()


async def _serve_tcp(handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readexactly(2)
            data = await reader.readexactly(struct.unpack("!H", head)[0])
            wire = await _reply_wire(handler, data, "tcp")
            if wire is None:
                await asyncio.sleep(3600)  # a silent server keeps the connection open and says nothing
                return
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        pass  # the client left, or the lab is shutting down: the connection simply ends
    finally:
        writer.close()


class LabServers:
    """Runs DNS servers on one asyncio loop in a daemon thread; `add` returns each server's endpoint."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.loop = asyncio.new_event_loop()
        self._closers: list[Callable[[], None]] = []
        self._thread = threading.Thread(target=self.loop.run_forever, name="aksdiag-lab-dns", daemon=True)
        self._thread.start()

    def add(self, spec: ServerSpec, port: int | None = None) -> Endpoint:
        for _ in range(20):
            chosen = port or free_port(self.host)
            try:
                asyncio.run_coroutine_threadsafe(self._start(spec, chosen), self.loop).result(timeout=10)
            except OSError:
                if port:
                    raise
                continue
            return Endpoint(self.host, chosen)
        raise OSError("could not start a lab DNS server on loopback")

    async def _start(self, spec: ServerSpec, port: int) -> None:
        started: list[Callable[[], None]] = []
        try:
            if spec.udp:
                transport, _ = await self.loop.create_datagram_endpoint(
                    lambda: _Udp(spec.handler), local_addr=(self.host, port)
                )
                started.append(transport.close)
            if spec.tcp:
                server = await asyncio.start_server(
                    lambda r, w: _serve_tcp(spec.handler, r, w), self.host, port, reuse_address=True
                )
                started.append(server.close)
        except OSError:
            for close in started:
                close()
            raise
        self._closers += started

    def close(self) -> None:
        async def stop() -> None:
            for close in self._closers:
                close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*tasks, return_exceptions=True)

        if self.loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()

    def __enter__(self) -> LabServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
