"""The view the rules judge: each relay with its UDP and TCP answers (and their TTLs) and the servers behind it,
gathered once from the facts along the planning's layout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aksdiag.probes.cluster_dns.planning import TRANSPORTS, Ask, Layout, RelayPlan, layout

from aksdiag.clusterdns import RelayKind, relay_label
from aksdiag.facts import Clock, ClockNeed, DnsAnswer, DnsQuery, DnsResult, Endpoint, Outcome, client_answer
from aksdiag.probe import Facts
from aksdiag.settings import Settings


@dataclass(frozen=True)
class Asked:
    """One server asked one name over UDP and TCP."""

    endpoint: Endpoint
    name: str
    label: str
    udp: DnsResult | None
    tcp: DnsResult | None

    @property
    def results(self) -> list[DnsResult]:
        return [r for r in (self.udp, self.tcp) if r is not None]

    @property
    def best(self) -> DnsAnswer:
        """What a client gets (facts.client_answer)."""
        return client_answer(self.udp, self.tcp, "not asked")

    @property
    def responded(self) -> bool:
        return any(a.outcome.responded for r in self.results for a in r.answers)

    @property
    def conclusive(self) -> bool:
        return self.best.outcome.conclusive

    def silent_over(self, transport: str) -> bool:
        """No reply at all over `transport` (timeout, unreachable, a broken reply)."""
        result = self.udp if transport == "udp" else self.tcp
        return result is not None and not result.first.outcome.responded

    @property
    def short(self) -> str:
        return f"{self.endpoint.short} ({self.label})"


@dataclass(frozen=True)
class Relay:
    plan: RelayPlan
    asked: Asked
    upstreams: tuple[Asked, ...]

    @property
    def kind(self) -> RelayKind:
        return self.plan.kind

    @property
    def endpoint(self) -> Endpoint:
        return self.plan.endpoint


@dataclass(frozen=True)
class View:
    """Everything the rules look at, gathered once."""

    shape: Layout
    relays: tuple[Relay, ...]
    vnet: tuple[Asked, ...]
    azure: Asked
    clock: Clock | None

    @property
    def name(self) -> str:
        return self.shape.name

    @property
    def settings(self) -> Settings:
        return self.shape.settings

    def relay_at(self, endpoint: Endpoint) -> Relay | None:
        return next((r for r in self.relays if r.endpoint == endpoint), None)

    @property
    def coredns(self) -> list[Relay]:
        """The CoreDNS relays, the Service first, then the pods."""
        return sorted((r for r in self.relays if r.kind is not RelayKind.LOCALDNS), key=lambda r: r.kind.value)

    @property
    def truth(self) -> DnsAnswer | None:
        """What the name should resolve to along the VNet's own path: the first conclusive answer of the VNet's
        DNS servers (Azure DNS when the VNet uses it); None when they are not known or none answered."""
        return next((a.best for a in self.vnet if a.conclusive), None)

    def right(self, answer: DnsAnswer) -> bool | None:
        """Whether `answer` is the one the pods should get: the --expect address, else the VNet path's answer;
        None when neither is known."""
        expect = self.settings.expect
        if expect:
            return answer.outcome is Outcome.ANSWER and bool(set(answer.addresses) & set(expect))
        truth = self.truth
        return None if truth is None else same(answer, truth)

    def behind(self, relay: Relay) -> DnsAnswer | None:
        """What the servers behind the relay answer now: the first conclusive answer among them, in order (a relay
        behind it: what that relay answers); None when none is known or none answered conclusively."""
        return next((u.best for u in relay.upstreams if u.conclusive), None)

    def expires(self, ttl: int) -> str:
        """`, at 14:20:31 UTC` from the run's clock fact; empty without it."""
        if self.clock is None:
            return ""
        try:
            at = datetime.fromisoformat(self.clock.utc) + timedelta(seconds=ttl)
        except ValueError:
            return ""
        return f", at {at:%H:%M:%S} UTC"


def same(a: DnsAnswer, b: DnsAnswer) -> bool:
    """The same verdict for a client: the same outcome, and for an answer the same addresses."""
    return a.outcome is b.outcome and (a.outcome is not Outcome.ANSWER or set(a.addresses) == set(b.addresses))


def say(answer: DnsAnswer) -> str:
    """`10.224.0.4 (TTL 27)`, `NXDOMAIN (TTL 290)`, `no answer (timed out)`."""
    if answer.outcome is Outcome.ANSWER:
        text = ", ".join(answer.addresses)
    else:
        text = answer.outcome.label
        if answer.error and not answer.outcome.responded:
            text += f" ({answer.error})"
    if answer.ttl is not None and answer.outcome.conclusive:
        text += f" (TTL {answer.ttl})"
    return text


def gather(name: str, settings: Settings, facts: Facts) -> View:
    shape = layout(name, settings, facts)
    made: dict[tuple[Endpoint, str], Asked] = {}

    def asked(endpoint: Endpoint, qname: str, label: str) -> Asked:
        key = (endpoint, qname)
        if key not in made:
            results = {t: facts.get(DnsQuery(endpoint, qname, "A", t, shape.settings.count)) for t in TRANSPORTS}
            made[key] = Asked(endpoint, qname, label, results["udp"], results["tcp"])
        return made[key]

    def upstream(u: Ask) -> Asked:
        label = relay_label(u.endpoint.host, u.kind) if u.kind else server_label(shape, u.endpoint)
        return asked(u.endpoint, u.asked, label)

    relays = tuple(
        Relay(r, asked(r.endpoint, shape.name, relay_label(r.endpoint.host, r.kind)), tuple(map(upstream, r.upstreams)))
        for r in shape.relays
    )
    vnet = tuple(asked(s, shape.name, server_label(shape, s)) for s in shape.vnet)
    azure = asked(shape.settings.azure_dns, shape.name, "Azure DNS")
    clock = facts.get(ClockNeed())
    return View(shape, relays, vnet, azure, clock if isinstance(clock, Clock) else None)


def server_label(shape: Layout, endpoint: Endpoint) -> str:
    if endpoint == shape.settings.azure_dns or endpoint.host == "168.63.129.16":
        return "Azure DNS"
    if endpoint in shape.vnet:
        return "VNet DNS" if shape.vnet_custom else "Azure DNS"
    return "forward target"
