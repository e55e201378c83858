"""The view the rules judge: each `Server` with what it answered over UDP and TCP, and the `Chain` of them,
gathered once from the facts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from aksdiag.probes.dns_chain.planning import (
    SYSTEMD_STUB,
    TRANSPORTS,
    azure_facts,
    custom_servers,
    is_azure,
    resolver_servers,
)

from aksdiag.azfacts import AzureFacts
from aksdiag.dnsnames import aks_zone, forward_zone
from aksdiag.facts import (
    DnsAnswer,
    DnsQuery,
    DnsResult,
    Endpoint,
    Outcome,
    ResolverConfig,
    ResolverConfigNeed,
)
from aksdiag.facts import is_public_address as is_public
from aksdiag.probe import Facts
from aksdiag.settings import Settings

LOCALDNS = {
    "169.254.10.10": "AKS LocalDNS (VNet DNS listener)",
    "169.254.10.11": "AKS LocalDNS (kube-dns listener)",
}


@dataclass(frozen=True)
class Server:
    endpoint: Endpoint
    label: str
    udp: DnsResult | None
    tcp: DnsResult | None

    @property
    def results(self) -> list[DnsResult]:
        return [r for r in (self.udp, self.tcp) if r is not None]

    @property
    def best(self) -> DnsAnswer:
        """What a client gets: UDP's answer, or TCP's when UDP gave nothing usable (a truncated UDP reply is
        asked again over TCP, so TCP's reply is the answer whenever there is one)."""
        if self.udp and self.udp.first.outcome is Outcome.TRUNCATED and self.tcp and self.tcp.first.outcome.responded:
            return self.tcp.first
        for result in self.results:
            if result.first.outcome.conclusive:
                return result.first
        for result in self.results:
            if result.first.outcome.responded:
                return result.first
        return self.results[0].first if self.results else DnsAnswer(Outcome.ERROR, error="not queried")

    @property
    def resolver_view(self) -> DnsAnswer:
        """What a stub resolver gets from this server: the UDP reply, or the TCP one it retries with on TC."""
        if self.udp is None:
            return self.best
        if self.udp.first.outcome is Outcome.TRUNCATED and self.tcp is not None:
            return self.tcp.first
        return self.udp.first

    @property
    def responded(self) -> bool:
        return any(a.outcome.responded for r in self.results for a in r.answers)

    def transports_with(self, *outcomes: Outcome) -> list[str]:
        return [r.query.transport.upper() for r in self.results if r.first.outcome in outcomes]


@dataclass(frozen=True)
class Chain:
    """Everything the rules look at, gathered once."""

    name: str
    settings: Settings
    config: ResolverConfig | None
    resolver: list[Server]
    custom: list[Server]
    azure: Server
    soa_zone: str | None
    vnet_dns: tuple[str, ...] | None = None
    """The cluster VNet's DNS servers, from the Azure context (empty: Azure DNS); None without context."""
    arm: AzureFacts | None = None
    """The Azure context digested (with --cluster): what each DNS server is, for the fix that fits it."""

    @property
    def reference(self) -> DnsAnswer | None:
        """Azure DNS's answer when it gave a conclusive one: the truth for private zones."""
        best = self.azure.best
        return best if best.outcome.conclusive else None

    @property
    def zone(self) -> str:
        return forward_zone(self.name, self.soa_zone)

    @property
    def private_name(self) -> bool:
        """The name should resolve privately: an AKS private zone, a private Azure answer, or a private --expect."""
        if aks_zone(self.name):
            return True
        ref = self.reference
        if ref and ref.addresses and not any(is_public(a) for a in ref.addresses):
            return True
        return any(not is_public(a) for a in self.settings.expect)

    @property
    def resolver_answer(self) -> tuple[Server, DnsAnswer] | None:
        """What the host resolver returns: the first nameserver, in order, that gives a conclusive answer."""
        for server in self.resolver:
            answer = server.resolver_view
            if answer.outcome.conclusive:
                return server, answer
        if self.resolver:
            last = self.resolver[-1]
            return last, last.resolver_view
        return None

    def servers(self) -> list[Server]:
        """Every distinct server, custom ones first."""
        seen: dict[Endpoint, Server] = {}
        for s in [*self.custom, *self.resolver, self.azure]:
            seen.setdefault(s.endpoint, s)
        return list(seen.values())

    def fields(self, server: Server) -> dict[str, Any]:
        """The template fields of a finding about `server` (Any: they go to `Code.at(**fields)`)."""
        return {
            "server": server_name(server),
            "server_host": server.endpoint.short,
            "name": self.name,
            "zone": self.zone,
            "forward_to": self.settings.azure_dns.short,
        }


def server_name(server: Server) -> str:
    return f"{server.endpoint.short} ({server.label})"


def gather(name: str, settings: Settings, facts: Facts) -> Chain:
    config = facts.get(ResolverConfigNeed(settings.resolv_conf)) if settings.use_resolver else None

    made: dict[Endpoint, Server] = {}

    def server(endpoint: Endpoint) -> Server:
        """One Server per endpoint: Azure DNS listed in resolv.conf must still be `chain.azure` to the rules."""
        if endpoint not in made:
            results = {t: facts.get(DnsQuery(endpoint, name, "A", t, settings.count)) for t in TRANSPORTS}
            made[endpoint] = Server(endpoint, _label(endpoint, settings, config), results["udp"], results["tcp"])
        return made[endpoint]

    soa = facts.get(DnsQuery(settings.azure_dns, name, "SOA", "udp"))
    arm = azure_facts(settings, facts)
    return Chain(
        name=name,
        settings=settings,
        config=config,
        resolver=[server(e) for e in resolver_servers(config)],
        custom=[server(e) for e in dict.fromkeys(custom_servers(settings, config))],
        azure=server(settings.azure_dns),
        soa_zone=soa.first.zone if soa else None,
        vnet_dns=None if arm is None else tuple(arm.vnet_dns_servers),
        arm=arm,
    )


def _label(endpoint: Endpoint, settings: Settings, config: ResolverConfig | None) -> str:
    if is_azure(endpoint, settings):
        return "Azure DNS"
    if endpoint.host in LOCALDNS:
        return LOCALDNS[endpoint.host]
    if endpoint.host == SYSTEMD_STUB:
        return "systemd-resolved stub"
    in_pod = (settings.in_cluster and settings.dns_policy != "Default") or any(
        s.endswith("svc.cluster.local") for s in (config.search if config else ())
    )
    if in_pod and config and config.nameservers and endpoint == config.nameservers[0]:
        return "CoreDNS, kube-dns service"
    return "custom DNS"


def say(answer: DnsAnswer) -> str:
    if answer.outcome is Outcome.ANSWER:
        text = ", ".join(answer.addresses)
        if answer.cname_chain:
            text = f"{' → '.join(answer.cname_chain)} → {text}"
    else:
        text = answer.outcome.label
        if answer.error:
            text += f" ({answer.error})"
    if answer.elapsed_ms is not None and answer.outcome.responded:
        text += f" in {answer.elapsed_ms:.0f} ms"
    if answer.truncated and answer.outcome is not Outcome.TRUNCATED:
        text += ", truncated"
    return text


def percentile(values: list[float], pct: int) -> float:
    """Nearest-rank percentile (no interpolation: with few samples, a real observed latency is clearer)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]
