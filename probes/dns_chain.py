"""dns_chain: the private-DNS resolution path of one name, hop by hop, and where it breaks.

Hops: the host resolver (resolv.conf) → each custom DNS server → Azure DNS → the expected endpoint. Every server
is asked over UDP and TCP; the answers are compared with Azure DNS's (the reference for private zones) and with
the expected address. Each rule below is named after the code it emits.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, replace

from aksdiag import codes
from aksdiag.armview import endpoint_ips, props, vnet_dns_servers
from aksdiag.dnsnames import aks_zone, forward_zone, relative_record
from aksdiag.facts import (
    AzureContext,
    DnsAnswer,
    DnsQuery,
    DnsResult,
    Endpoint,
    Outcome,
    ResolverConfig,
    ResolverConfigNeed,
)
from aksdiag.facts import is_public_address as is_public
from aksdiag.model import Finding, Hop, Severity, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import AZURE_DNS, Settings

ID = "dns_chain"
TRANSPORTS = ("udp", "tcp")
LOCALDNS = {
    "169.254.10.10": "AKS LocalDNS (VNet DNS listener)",
    "169.254.10.11": "AKS LocalDNS (kube-dns listener)",
}
SYSTEMD_STUB = "127.0.0.53"


# ---------------------------------------------------------------- planning


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if not name and settings.azure is None:
        raise Skip("no name to trace: pass --fqdn, or --cluster and --resource-group")
    resolver_need = ResolverConfigNeed(settings.resolv_conf)
    first = [n for n in (resolver_need if settings.use_resolver else None, settings.azure) if n and n not in facts]
    if first:
        return first  # nameservers and the Azure context first: every query then goes out in one round
    name, settings = with_azure_context(name, settings, facts)
    if not name:
        raise Skip("the cluster's private FQDN could not be read from Azure: give the FQDN to trace it anyway")
    config = facts.get(resolver_need) if settings.use_resolver else None
    servers = _resolver_servers(config) + _custom_servers(settings, config) + [settings.azure_dns]
    needs: list[Hashable] = [resolver_need] if settings.use_resolver else []
    for server in dict.fromkeys(servers):
        needs += [DnsQuery(server, name, "A", t, settings.count) for t in TRANSPORTS]
    needs.append(DnsQuery(settings.azure_dns, name, "SOA", "udp"))
    return needs


def with_azure_context(name: str, settings: Settings, facts: Facts) -> tuple[str, Settings]:
    """With --cluster: the cluster's private FQDN when no name was given, its VNet's DNS servers when no
    --server was, and the private endpoint's address when no --expect was."""
    ctx = facts.get(settings.azure) if settings.azure else None
    if not isinstance(ctx, AzureContext) or ctx.cluster is None:
        return name, settings
    p = props(ctx.cluster)
    name = name or (p.get("privateFQDN") or p.get("fqdn") or "").lower()
    changes: dict[str, object] = {}
    servers = vnet_dns_servers(ctx.cluster, ctx.vnets)
    if not settings.servers and servers:
        changes["servers"] = tuple(Endpoint(s) for s in servers)
    if not settings.expect and endpoint_ips(ctx.endpoints):
        changes["expect"] = tuple(endpoint_ips(ctx.endpoints))
    return name, replace(settings, **changes) if changes else settings


def _resolver_servers(config: ResolverConfig | None) -> list[Endpoint]:
    return list(config.nameservers) if config and not config.error else []


def _custom_servers(settings: Settings, config: ResolverConfig | None) -> list[Endpoint]:
    """--server, or else the resolver's nameservers (a systemd stub's upstreams); Azure DNS has its own hop."""
    if settings.servers:
        pool: tuple[Endpoint, ...] = settings.servers
    elif config and not config.error:
        pool = config.upstreams or config.nameservers
    else:
        return []
    return [s for s in pool if not _is_azure(s, settings) and s.host != SYSTEMD_STUB]


def _is_azure(server: Endpoint, settings: Settings) -> bool:
    return server == settings.azure_dns or server.host == AZURE_DNS.host


# ---------------------------------------------------------------- what each server said


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
        """What a client gets: UDP's answer, or TCP's when UDP gave nothing usable."""
        for result in self.results:
            if result.first.outcome.conclusive:
                return result.first
        for result in self.results:
            if result.first.outcome.responded:
                return result.first
        return self.results[0].first if self.results else DnsAnswer(Outcome.ERROR, error="not queried")

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
            answer = server.udp.first if server.udp else server.best
            if answer.outcome.conclusive:
                return server, answer
        if self.resolver:
            last = self.resolver[-1]
            return last, (last.udp.first if last.udp else last.best)
        return None

    def servers(self) -> list[Server]:
        """Every distinct server, custom ones first."""
        seen: dict[Endpoint, Server] = {}
        for s in [*self.custom, *self.resolver, self.azure]:
            seen.setdefault(s.endpoint, s)
        return list(seen.values())

    def fields(self, server: Server) -> dict[str, str]:
        return {
            "server": _server_name(server),
            "server_host": server.endpoint.short,
            "name": self.name,
            "zone": self.zone,
            "forward_to": self.settings.azure_dns.short,
        }


def _server_name(server: Server) -> str:
    return f"{server.endpoint.short} ({server.label})"


def _gather(name: str, settings: Settings, facts: Facts) -> Chain:
    config = facts.get(ResolverConfigNeed(settings.resolv_conf)) if settings.use_resolver else None

    made: dict[Endpoint, Server] = {}

    def server(endpoint: Endpoint) -> Server:
        """One Server per endpoint: Azure DNS listed in resolv.conf must still be `chain.azure` to the rules."""
        if endpoint not in made:
            results = {t: facts.get(DnsQuery(endpoint, name, "A", t, settings.count)) for t in TRANSPORTS}
            made[endpoint] = Server(endpoint, _label(endpoint, settings, config), results["udp"], results["tcp"])
        return made[endpoint]

    soa = facts.get(DnsQuery(settings.azure_dns, name, "SOA", "udp"))
    return Chain(
        name=name,
        settings=settings,
        config=config,
        resolver=[server(e) for e in _resolver_servers(config)],
        custom=[server(e) for e in dict.fromkeys(_custom_servers(settings, config))],
        azure=server(settings.azure_dns),
        soa_zone=soa.first.zone if soa else None,
        vnet_dns=_vnet_dns_servers(facts.get(settings.azure) if settings.azure else None),
    )


def _vnet_dns_servers(ctx: object) -> tuple[str, ...] | None:
    if not isinstance(ctx, AzureContext) or ctx.cluster is None:
        return None
    return tuple(vnet_dns_servers(ctx.cluster, ctx.vnets))


def _label(endpoint: Endpoint, settings: Settings, config: ResolverConfig | None) -> str:
    if _is_azure(endpoint, settings):
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


# ---------------------------------------------------------------- rules, one per code


def _dns005_no_answer(chain: Chain, server: Server) -> list[Finding]:
    if server.responded or server is chain.azure:
        return []
    why = "; ".join(f"{r.query.transport.upper()}: {r.first.error or r.first.outcome.label}" for r in server.results)
    return [
        codes.DNS005.at(
            ID,
            **chain.fields(server),
            transports="UDP and TCP",
            why=why,
            evidence=_evidence(server),
        )
    ]


def _dns010_azure_unreachable(chain: Chain, server: Server) -> list[Finding]:
    if server is not chain.azure or server.responded:
        return []
    return [
        codes.DNS010.at(
            ID,
            server=_server_name(server),
            timeout=f"{chain.settings.timeout:g}",
            name=chain.name,
            evidence=_evidence(server),
        )
    ]


def _dns006_servfail(chain: Chain, server: Server) -> list[Finding]:
    servfail = server.transports_with(Outcome.SERVFAIL)
    if not servfail or server.best.outcome is not Outcome.SERVFAIL:
        return []
    return [codes.DNS006.at(ID, **chain.fields(server), transports=" and ".join(servfail), evidence=_evidence(server))]


def _dns020_refused(chain: Chain, server: Server) -> list[Finding]:
    refused = server.transports_with(Outcome.REFUSED)
    if not refused or server.best.outcome is not Outcome.REFUSED:
        return []
    return [codes.DNS020.at(ID, **chain.fields(server), transports=" and ".join(refused), evidence=_evidence(server))]


def _dns017_one_transport(chain: Chain, server: Server) -> list[Finding]:
    if server.udp is None or server.tcp is None or not server.responded:
        return []
    ok = [r for r in server.results if r.first.outcome.responded]
    bad = [r for r in server.results if not r.first.outcome.responded]
    if len(ok) != 1 or len(bad) != 1:
        return []
    return [
        codes.DNS017.at(
            ID,
            **chain.fields(server),
            ok_transport=ok[0].query.transport.upper(),
            ok_outcome=ok[0].first.outcome.label,
            bad_transport=bad[0].query.transport.upper(),
            bad_outcome=bad[0].first.error or bad[0].first.outcome.label,
            evidence=_evidence(server),
        )
    ]


def _dns001_no_forwarder(chain: Chain, server: Server) -> list[Finding]:
    if server not in chain.custom or server.best.outcome not in (Outcome.NXDOMAIN, Outcome.NODATA):
        return []
    ref = chain.reference
    if ref and ref.outcome is Outcome.ANSWER:
        azure_view = f"Azure DNS ({chain.azure.endpoint.short}) answered {', '.join(ref.addresses)}"
        note = ""
    elif not chain.azure.responded and aks_zone(chain.name):
        azure_view = "Azure DNS could not be asked from here to confirm"
        note = (
            " The server either lacks the conditional forwarder, or forwards from a VNet not linked to the "
            "private zone: check both."
        )
    else:
        return []  # Azure DNS has no answer either: that is DNS002, not a forwarding fault
    return [
        codes.DNS001.at(
            ID,
            **chain.fields(server),
            outcome=server.best.outcome.label,
            azure_view=azure_view,
            note=note,
            evidence=_evidence(server, chain.azure),
        )
    ]


def _dns002_azure_no_record(chain: Chain, server: Server) -> list[Finding]:
    if server is not chain.azure or server.best.outcome not in (Outcome.NXDOMAIN, Outcome.NODATA):
        return []
    seen = server.best.zone or chain.soa_zone
    aks = aks_zone(chain.name)
    if seen and aks and aks.forward_zone in seen:
        zone, zone_note = seen, f"; the zone {seen} is linked to this VNet but holds no record for the name"
    elif seen and not aks and seen.count(".") >= 1:
        zone, zone_note = seen, f" (the answer came from the zone {seen})"
    else:
        zone = f"the private zone holding {chain.name}" if aks else chain.zone
        zone_note = "; no private zone holding the name is linked to the VNet asking"
    return [
        codes.DNS002.at(
            ID,
            server=server.endpoint.short,  # the template reads "Azure DNS ({server})"
            name=chain.name,
            zone=zone,
            outcome=server.best.outcome.label,
            zone_note=zone_note,
            zone_arg=zone if "." in zone and " " not in zone else "<private-zone>",
            evidence=_evidence(server),
        )
    ]


def _dns004_public_leak(chain: Chain, server: Server) -> list[Finding]:
    answer = server.best
    public = [a for a in answer.addresses if is_public(a)]
    if answer.outcome is not Outcome.ANSWER or not public or not chain.private_name:
        return []
    ref = chain.reference
    expected = ""
    if ref and ref.addresses and server is not chain.azure and not any(is_public(a) for a in ref.addresses):
        expected = f"; Azure DNS answered the private {', '.join(ref.addresses)}"
    elif chain.settings.expect:
        expected = f"; the endpoint is {', '.join(chain.settings.expect)}"
    return [
        codes.DNS004.at(
            ID,
            **chain.fields(server),
            answers=", ".join(answer.addresses),
            expected_note=expected,
            evidence=_evidence(server, chain.azure),
        )
    ]


def _dns003_disagree(chain: Chain, server: Server) -> list[Finding]:
    ref = chain.reference
    answer = server.best
    if server is chain.azure or not ref or ref.outcome is not Outcome.ANSWER or answer.outcome is not Outcome.ANSWER:
        return []
    if set(answer.addresses) == set(ref.addresses) or any(is_public(a) for a in answer.addresses):
        return []
    return [
        codes.DNS003.at(
            ID,
            **chain.fields(server),
            answers=", ".join(answer.addresses),
            reference=f"Azure DNS ({chain.azure.endpoint.short})",
            reference_answers=", ".join(ref.addresses),
            evidence=_evidence(server, chain.azure),
        )
    ]


def _dns007_wrong_endpoint(chain: Chain, server: Server) -> list[Finding]:
    expected = set(chain.settings.expect)
    answer = server.best
    if not expected or answer.outcome is not Outcome.ANSWER or expected & set(answer.addresses):
        return []
    if any(is_public(a) for a in answer.addresses):
        return []  # DNS004 says it better
    ref = chain.reference
    if server is not chain.azure and ref and ref.outcome is Outcome.ANSWER:
        return []  # Azure DNS answered: a custom server's difference is DNS003, Azure's own is the record
    zone = chain.soa_zone or chain.zone
    return [
        codes.DNS007.at(
            ID,
            **(chain.fields(server) | {"zone": zone}),
            answers=", ".join(answer.addresses),
            expected=", ".join(chain.settings.expect),
            record=relative_record(chain.name, zone),
            evidence=_evidence(server),
        )
    ]


def _dns009_slow(chain: Chain, server: Server) -> list[Finding]:
    findings = []
    for result in server.results:
        times = [a.elapsed_ms for a in result.answers if a.outcome.responded and a.elapsed_ms is not None]
        if not times:
            continue  # nothing answered at all: DNS005
        lost = len(result.answers) - len(times)
        p95 = _percentile(times, 95)
        if not lost and p95 <= chain.settings.slow_ms:
            continue
        findings.append(
            codes.DNS009.at(
                ID,
                server=_server_name(server),
                server_host=server.endpoint.short,
                transport=result.query.transport.upper(),
                lost=lost,
                count=len(result.answers),
                p50=f"{_percentile(times, 50):.0f}",
                p95=f"{p95:.0f}",
                max=f"{max(times):.0f}",
                evidence={
                    "server": str(server.endpoint),
                    "transport": result.query.transport,
                    "elapsed_ms": [round(t, 1) for t in times],
                    "lost": lost,
                    "slow_ms": chain.settings.slow_ms,
                },
            )
        )
    return findings


SERVER_RULES = (
    _dns005_no_answer,
    _dns010_azure_unreachable,
    _dns006_servfail,
    _dns020_refused,
    _dns017_one_transport,
    _dns001_no_forwarder,
    _dns002_azure_no_record,
    _dns004_public_leak,
    _dns003_disagree,
    _dns007_wrong_endpoint,
    _dns009_slow,
)


def _dns008_resolver_diverges(chain: Chain) -> list[Finding]:
    got = chain.resolver_answer
    if not got or not chain.custom:
        return []
    server, answer = got
    if server in chain.custom or not answer.outcome.conclusive:
        return []
    custom = [s.best for s in chain.custom if s.best.outcome.conclusive]
    if not custom:
        return []
    if any(_same(answer, c) for c in custom):
        return []
    return [
        codes.DNS008.at(
            ID,
            resolver=_server_name(server),
            resolver_answer=_say(answer),
            servers=", ".join(s.endpoint.short for s in chain.custom),
            custom_answer=_say(custom[0]),
            resolv_conf=chain.config.path if chain.config else chain.settings.resolv_conf,
            evidence={"resolver": answer.to_dict(), "custom": [c.to_dict() for c in custom]},
        )
    ]


def _dns018_mixed(chain: Chain) -> list[Finding]:
    azure = [s for s in chain.resolver if _is_azure(s.endpoint, chain.settings)]
    custom = [s for s in chain.resolver if s.label == "custom DNS"]
    if not azure or not custom:
        return []
    return [
        codes.DNS018.at(
            ID,
            resolv_conf=chain.config.path if chain.config else chain.settings.resolv_conf,
            servers=", ".join(_server_name(s) for s in chain.resolver),
            custom_servers=" ".join(s.endpoint.host for s in custom),
            evidence={"nameservers": [str(s.endpoint) for s in chain.resolver]},
        )
    ]


def _dns013_vnet_dns_differs(chain: Chain) -> list[Finding]:
    if chain.vnet_dns is None or chain.config is None or chain.config.error:
        return []
    vnet = set(chain.vnet_dns) or {AZURE_DNS.host}
    host = {s.host for s in (chain.config.upstreams or chain.config.nameservers) if s.port == 53}
    if not host or host == vnet:
        return []
    caveat = (
        " (this host runs in the cluster: it has not picked up the VNet's DNS servers)"
        if chain.settings.in_cluster
        else " (expected only if this host sits in another VNet with other DNS servers)"
    )
    return [
        codes.DNS013.at(
            ID,
            vnet_servers=", ".join(sorted(vnet)),
            host_servers=", ".join(sorted(host)),
            resolv_conf=chain.config.path,
            caveat=caveat,
            evidence={"vnet_dns_servers": sorted(vnet), "host_nameservers": sorted(host)},
        )
    ]


RESOLVER_RULES = (_dns008_resolver_diverges, _dns013_vnet_dns_differs, _dns018_mixed)


# ---------------------------------------------------------------- judging


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    name, settings = with_azure_context(name, settings, facts)
    chain = _gather(name, settings, facts)
    hops = _hops(chain)
    hop_of = _hop_index(chain, hops)
    findings: list[Finding] = []
    for server in chain.servers():
        for rule in SERVER_RULES:
            findings += [replace(f, hop=hop_of.get(server.endpoint)) for f in rule(chain, server)]
    resolver_hop = hops[0].index if hops and hops[0].kind == "resolver" else None
    for rule in RESOLVER_RULES:
        findings += [replace(f, hop=resolver_hop) for f in rule(chain)]
    hops = [_with_findings(h, findings) for h in hops]
    return Judgement(hops=tuple(hops), findings=tuple(findings), facts=_facts(chain))


def _hops(chain: Chain) -> list[Hop]:
    hops: list[Hop] = []
    if chain.settings.use_resolver:
        hops.append(_resolver_hop(chain))
    for server in chain.custom:
        hops.append(_server_hop(chain, server, "custom-dns", len(hops) + 1))
    hops.append(_server_hop(chain, chain.azure, "azure-dns", len(hops) + 1))
    if chain.settings.expect:
        hops.append(_endpoint_hop(chain, len(hops) + 1))
    return hops


def _hop_index(chain: Chain, hops: list[Hop]) -> dict[Endpoint, int]:
    """Where a server's findings are shown: its own hop, else the resolver hop that lists it."""
    index: dict[Endpoint, int] = {}
    position = 1 if chain.settings.use_resolver else 0
    for offset, server in enumerate(chain.custom):
        index[server.endpoint] = hops[position + offset].index
    index[chain.azure.endpoint] = hops[position + len(chain.custom)].index
    for server in chain.resolver:
        index.setdefault(server.endpoint, hops[0].index)
    return index


def _resolver_title(settings: Settings) -> str:
    """Which DNS path the resolver hop is: the host's, or in a pod the one its dnsPolicy gives (`aksdiag pod`)."""
    if not settings.in_cluster:
        return "host resolver"
    if settings.dns_policy == "Default":
        return "pod resolver (dnsPolicy Default: the node's VNet DNS, no CoreDNS)"
    return "pod resolver (dnsPolicy ClusterFirst: CoreDNS)"


def _resolver_hop(chain: Chain) -> Hop:
    config = chain.config
    path = config.path if config else chain.settings.resolv_conf
    title = _resolver_title(chain.settings)
    if config is None or config.error:
        return Hop(1, "resolver", title, Status.SKIPPED, detail=config.error if config else "not read")
    if not config.nameservers:
        return Hop(1, "resolver", title, Status.FAIL, detail=f"{path} lists no nameserver")
    got = chain.resolver_answer
    assert got is not None
    server, answer = got
    listed = ", ".join(f"{s.endpoint.short} ({s.label})" for s in chain.resolver)
    detail = [f"{path}: nameservers {listed}"]
    if config.search:
        detail.append(f"search {' '.join(config.search)}, ndots:{config.ndots}")
    if chain.name.count(".") < config.ndots:
        detail.append(f"with ndots:{config.ndots} the search domains are tried first; end the name with a dot")
    if config.rotate:
        detail.append("options rotate: nameservers are taken in turn")
    detail.append(f"answered by {server.endpoint.short}" if answer.outcome.responded else "no nameserver answered")
    return Hop(
        1,
        "resolver",
        title,
        _answer_status(chain, answer),
        server=str(server.endpoint),
        rcode=answer.rcode,
        answers=answer.addresses,
        cname_chain=answer.cname_chain,
        elapsed_ms=answer.elapsed_ms,
        detail="; ".join(detail),
    )


def _server_hop(chain: Chain, server: Server, kind: str, index: int) -> Hop:
    answer = server.best
    parts = [f"{r.query.transport.upper()}: {_say(r.first)}{_spread(r)}" for r in server.results]
    if answer.zone:
        parts.append(f"zone {answer.zone}")
    elif server is chain.azure and chain.soa_zone:
        parts.append(f"zone {chain.soa_zone}")
    status = _answer_status(chain, answer)
    if server is chain.azure and not server.responded:
        status = Status.SKIPPED
    return Hop(
        index,
        kind,
        server.label,
        status,
        server=str(server.endpoint),
        rcode=answer.rcode,
        answers=answer.addresses,
        cname_chain=answer.cname_chain,
        elapsed_ms=answer.elapsed_ms,
        detail="; ".join(parts),
    )


def _endpoint_hop(chain: Chain, index: int) -> Hop:
    expected = chain.settings.expect
    got = chain.resolver_answer
    client = got[1] if got else (chain.custom[0].best if chain.custom else chain.azure.best)
    reached = bool(set(expected) & set(client.addresses))
    resolver = "the pod's resolver" if chain.settings.in_cluster else "the host resolver"
    via = resolver if got else "the custom DNS servers" if chain.custom else "Azure DNS"
    detail = f"{via} gives {_say(client)}" + ("" if reached else f", not the endpoint {', '.join(expected)}")
    return Hop(
        index,
        "endpoint",
        "expected endpoint",
        Status.OK if reached else Status.FAIL,
        answers=tuple(expected),
        detail=detail,
    )


def _answer_status(chain: Chain, answer: DnsAnswer) -> Status:
    """OK only for an address that is the expected one (when known) and the one Azure DNS gives (when known)."""
    if answer.outcome is not Outcome.ANSWER:
        return Status.FAIL
    got = set(answer.addresses)
    if chain.settings.expect and not got & set(chain.settings.expect):
        return Status.FAIL
    ref = chain.reference
    if ref and ref.outcome is Outcome.ANSWER and got != set(ref.addresses):
        return Status.FAIL
    return Status.OK


_SEVERITY_STATUS = {Severity.ERROR: Status.FAIL, Severity.WARNING: Status.WARN}
_STATUS_RANK = {Status.SKIPPED: 0, Status.OK: 1, Status.WARN: 2, Status.FAIL: 3, Status.ERROR: 3}


def _with_findings(hop: Hop, findings: list[Finding]) -> Hop:
    """A hop is at least as bad as the worst finding shown on it."""
    status = hop.status
    for f in findings:
        if f.hop == hop.index and f.severity in _SEVERITY_STATUS:
            worse = _SEVERITY_STATUS[f.severity]
            if _STATUS_RANK[worse] > _STATUS_RANK[status]:
                status = worse
    return replace(hop, status=status)


# ---------------------------------------------------------------- helpers


def _same(a: DnsAnswer, b: DnsAnswer) -> bool:
    return a.outcome == b.outcome and set(a.addresses) == set(b.addresses)


def _say(answer: DnsAnswer) -> str:
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
    if answer.truncated:
        text += ", truncated"
    return text


def _spread(result: DnsResult) -> str:
    """Loss and latency over the samples of --count, e.g. ` (10 sent, 0 lost, p50 2 ms, p95 4 ms)`."""
    if len(result.answers) < 2:
        return ""
    times = [a.elapsed_ms for a in result.answers if a.outcome.responded and a.elapsed_ms is not None]
    lost = len(result.answers) - len(times)
    if not times:
        return f" ({len(result.answers)} sent, all lost)"
    return (
        f" ({len(result.answers)} sent, {lost} lost, p50 {_percentile(times, 50):.0f} ms, "
        f"p95 {_percentile(times, 95):.0f} ms)"
    )


def _percentile(values: list[float], pct: int) -> float:
    """Nearest-rank percentile (no interpolation: with few samples, a real observed latency is clearer)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def _evidence(*servers: Server) -> dict[str, object]:
    return {str(s.endpoint): {r.query.transport: r.first.to_dict() for r in s.results} for s in servers}


def _facts(chain: Chain) -> dict[str, object]:
    config = chain.config
    return {
        "name": chain.name,
        "zone": chain.soa_zone,
        "forward_zone": chain.zone,
        "expect": list(chain.settings.expect),
        "resolver": None
        if config is None
        else {
            "path": config.path,
            "nameservers": [str(n) for n in config.nameservers],
            "upstreams": [str(n) for n in config.upstreams],
            "search": list(config.search),
            "ndots": config.ndots,
            "error": config.error,
        },
        "servers": [
            {
                "server": str(s.endpoint),
                "label": s.label,
                "roles": _roles(chain, s),
                **{r.query.transport: [a.to_dict() for a in r.answers] for r in s.results},
            }
            for s in chain.servers()
        ],
    }


def _roles(chain: Chain, server: Server) -> list[str]:
    roles = []
    if any(s.endpoint == server.endpoint for s in chain.resolver):
        roles.append("resolver")
    if any(s.endpoint == server.endpoint for s in chain.custom):
        roles.append("custom-dns")
    if server.endpoint == chain.azure.endpoint:
        roles.append("azure-dns")
    return roles


PROBE = Probe(
    id=ID,
    title="DNS resolution chain",
    codes=tuple(f"DNS{n:03d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 17, 18, 20)),
    plan=plan,
    judge=judge,
    commands=("dns", "check"),
    order=10,
)
