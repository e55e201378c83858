"""The view the rules judge: each `Server` with what it answered over UDP and TCP, and the `Chain` of them,
gathered once from the facts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aksdiag.probes.dns_chain.planning import (
    SYSTEMD_STUB,
    TRANSPORTS,
    azure_facts,
    custom_servers,
    is_azure,
    relay_of,
    relays,
    resolver_servers,
)

from aksdiag.armview import name_of, same_id
from aksdiag.azfacts import AzureFacts
from aksdiag.clusterdns import RelayKind, relay_label
from aksdiag.dnsnames import aks_zone, forward_zone, is_suffix, relative_record
from aksdiag.facts import (
    DnsAnswer,
    DnsQuery,
    DnsResult,
    Endpoint,
    Outcome,
    ResolverConfig,
    ResolverConfigNeed,
    client_answer,
)
from aksdiag.facts import is_public_address as is_public
from aksdiag.probe import Facts
from aksdiag.settings import Settings


@dataclass(frozen=True)
class Server:
    endpoint: Endpoint
    label: str
    udp: DnsResult | None
    tcp: DnsResult | None
    relay: RelayKind | None = None
    """CoreDNS or LocalDNS: a relay of the cluster's, drawn on the path but judged by cluster_dns, not here."""

    @property
    def results(self) -> list[DnsResult]:
        return [r for r in (self.udp, self.tcp) if r is not None]

    @property
    def best(self) -> DnsAnswer:
        """What a client gets (facts.client_answer)."""
        return client_answer(self.udp, self.tcp, "not queried")

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
    relays: list[Server] = field(default_factory=list)
    """The relays on the path (CoreDNS, LocalDNS), in the resolver's order: between the resolver and the custom
    servers; no rule of this probe judges them."""

    @property
    def reference(self) -> DnsAnswer | None:
        """Azure DNS's answer when it gave a conclusive one: the truth for private zones."""
        best = self.azure.best
        return best if best.outcome.conclusive else None

    @property
    def arm_answer(self) -> tuple[tuple[str, ...], str] | None:
        """Where Azure DNS from here cannot see the private zone by design, what ARM says it answers where the
        custom servers resolve: (the record's addresses, the VNets linked to the zone). The landing-zone layout:
        the cluster's VNets use custom DNS servers (and so does this host's resolver), none of them is linked to
        the zone, which is linked where those servers resolve (the hub); Azure DNS asked from a cluster VNet then
        says NXDOMAIN, rightly."""
        arm, zone = self.arm, self.arm.zone if self.arm else None
        if arm is None or zone is None or zone.records is None or not self._azure_off_path():
            return None
        linked = [link.vnet_id for link in zone.links or ()]
        homes = [h for s in self.custom for h in self._homes(s.endpoint.host)]
        if not homes or not all(h and any(same_id(h, v) for v in linked) for h in homes):
            return None  # a custom server resolves where the zone is not linked (or where, ARM does not say)
        relative = relative_record(self.name, zone.name).lower()
        record = next((r for r in zone.records if r.name.lower() == relative and r.addresses), None)
        if record is None:
            return None
        names = ", ".join(arm.vnets[v.lower()].name if v.lower() in arm.vnets else name_of(v) for v in linked)
        return record.addresses, names

    @property
    def azure_off_path(self) -> str:
        """Why Azure DNS's NXDOMAIN from here is no fault ("" when it may be): this VNet asks its custom servers,
        and the zone is linked where they resolve (ARM says so), or they all answered with an address."""
        if not self._azure_off_path():
            return ""
        found = self.arm_answer
        if found:
            return f"the private zone is linked to {found[1]}, not here: this VNet asks its DNS servers"
        if self.custom and all(s.best.outcome is Outcome.ANSWER for s in self.custom):
            return "this VNet asks its DNS servers, which answered; Azure DNS here has no view of the zone"
        return ""

    def _azure_off_path(self) -> bool:
        """Azure DNS said NXDOMAIN or no address from here, while this VNet (ARM) and this host use custom DNS
        servers, and no cluster VNet is known to be linked to the zone."""
        arm, answer = self.arm, self.azure.best
        if arm is None or not self.vnet_dns or answer.outcome not in (Outcome.NXDOMAIN, Outcome.NODATA):
            return False
        if any(is_azure(s.endpoint, self.settings) for s in self.resolver):
            return False  # this host asks Azure DNS itself: its NXDOMAIN is what the host gets
        zone = arm.zone
        if zone is not None and not is_suffix(zone.name, self.name):
            return False
        linked = [link.vnet_id for link in zone.links or ()] if zone is not None else []
        return not any(same_id(v.id, link) for v in arm.cluster_vnets for link in linked)

    def _homes(self, ip: str, proxied: bool = False) -> list[str]:
        """The VNets a custom DNS server resolves from ("" where ARM does not say): a resolver's or a firewall's
        VNet, or its upstream servers' when a firewall proxies to them, else the VNet holding the address."""
        assert self.arm is not None
        resolver, firewall = self.arm.resolver_at(ip), self.arm.firewall_at(ip)
        if resolver:
            return [resolver.vnet_id]
        if firewall and not proxied:
            return (
                [h for s in firewall.servers for h in self._homes(s, True)] if firewall.servers else [firewall.vnet_id]
            )
        vnet = self.arm.owning_vnet(ip)
        return [vnet.id if vnet else ""]

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
        """Every distinct server, custom ones first (relays too: the rules skip them)."""
        seen: dict[Endpoint, Server] = {}
        for s in [*self.custom, *self.resolver, *self.relays, self.azure]:
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
            relay = relay_of(endpoint, settings, config)
            label = relay_label(endpoint.host, relay) if relay else _label(endpoint, settings)
            made[endpoint] = Server(endpoint, label, results["udp"], results["tcp"], relay)
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
        relays=[server(e) for e in relays(settings, config)],
    )


def _label(endpoint: Endpoint, settings: Settings) -> str:
    """What a server that is no relay is (a relay's label is clusterdns.relay_label's)."""
    if is_azure(endpoint, settings):
        return "Azure DNS"
    if endpoint.host == SYSTEMD_STUB:
        return "systemd-resolved stub"
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
