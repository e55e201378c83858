"""Judging: the rules over the Chain, and the hops a report draws (resolver → relays → custom DNS → Azure DNS →
endpoint). A relay (CoreDNS, LocalDNS) is drawn with what it answered and judged by the cluster_dns probe."""

from __future__ import annotations

from dataclasses import replace

from aksdiag.probes.dns_chain.chain import Chain, Server, gather, percentile, say
from aksdiag.probes.dns_chain.planning import SYSTEMD_STUB, with_azure_context
from aksdiag.probes.dns_chain.rules import RESOLVER_RULES, SERVER_RULES

from aksdiag.facts import DnsAnswer, DnsResult, Endpoint, Outcome
from aksdiag.model import Finding, Hop, Severity, Status
from aksdiag.probe import Facts, Judgement
from aksdiag.settings import Settings


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    name, settings = with_azure_context(name, settings, facts)
    chain = gather(name, settings, facts)
    hops, hop_of = _hops(chain)
    findings: list[Finding] = []
    for server in chain.servers():
        if not _judged(chain, server):
            continue  # why a relay disagrees with the servers behind it is cluster_dns's to say
        for rule in SERVER_RULES:
            findings += [replace(f, hop=hop_of.get(server.endpoint)) for f in rule(chain, server)]
    resolver_hop = hops[0].index if hops and hops[0].kind == "resolver" else None
    for resolver_rule in RESOLVER_RULES:
        findings += [replace(f, hop=resolver_hop) for f in resolver_rule(chain)]
    hops = [_with_findings(h, findings) for h in hops]
    return Judgement(hops=tuple(hops), findings=tuple(findings), facts=_facts(chain), unread=_unread(chain))


def _judged(chain: Chain, server: Server) -> bool:
    """Judged by this probe's rules: no relay, nor the systemd stub when only relays are behind it (its answer is
    theirs: LocalDNS behind the stub on a node)."""
    if server.relay is not None:
        return False
    upstreams = chain.config.upstreams if chain.config else ()
    relayed = {r.endpoint for r in chain.relays}
    return not (server.endpoint.host == SYSTEMD_STUB and upstreams and set(upstreams) <= relayed)


def _unread(chain: Chain) -> tuple[str, ...]:
    """What the chain could not look at: an unreadable resolv.conf, or no DNS server answering at all."""
    unread = []
    config = chain.config
    if chain.settings.use_resolver and (config is None or config.error):
        unread.append(f"the host resolver: {(config.error if config else None) or 'not read'}")
    servers = list(chain.servers())
    if not any(s.responded for s in servers):
        asked = ", ".join(str(s.endpoint) for s in servers) or "none"
        unread.append(f"no DNS server answered ({asked}): nothing on the chain could be checked")
    return tuple(unread)


def _hops(chain: Chain) -> tuple[list[Hop], dict[Endpoint, int]]:
    """The hops, and where a server's findings are shown: its own hop, else the resolver hop that lists it."""
    hops: list[Hop] = []
    index: dict[Endpoint, int] = {}
    if chain.settings.use_resolver:
        hops.append(_resolver_hop(chain))
    for server in chain.relays:
        hops.append(_relay_hop(chain, server, len(hops) + 1))
        index.setdefault(server.endpoint, len(hops))
    for server in chain.custom:
        hops.append(_server_hop(chain, server, "custom-dns", len(hops) + 1))
        index.setdefault(server.endpoint, len(hops))
    hops.append(_server_hop(chain, chain.azure, "azure-dns", len(hops) + 1))
    index.setdefault(chain.azure.endpoint, len(hops))
    if chain.settings.expect:
        hops.append(_endpoint_hop(chain, len(hops) + 1))
    if chain.settings.use_resolver:
        for server in chain.resolver:
            index.setdefault(server.endpoint, 1)
    return hops, index


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
        return Hop(1, "resolver", title, Status.SKIPPED, detail=(config.error if config else None) or "not read")
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
    return _answer_hop(1, "resolver", title, _answer_status(chain, answer), server, answer, "; ".join(detail))


def _server_hop(chain: Chain, server: Server, kind: str, index: int) -> Hop:
    answer = server.best
    parts = [f"{r.query.transport.upper()}: {say(r.first)}{_spread(r)}" for r in server.results]
    if answer.zone:
        parts.append(f"zone {answer.zone}")
    elif server is chain.azure and chain.soa_zone:
        parts.append(f"zone {chain.soa_zone}")
    status = _answer_status(chain, answer)
    if server is chain.azure and not server.responded:
        status = Status.SKIPPED
    if server is chain.azure and chain.azure_off_path:
        status = Status.SKIPPED  # not this VNet's path to the zone
        parts.append(chain.azure_off_path)
    return _answer_hop(index, kind, server.label, status, server, answer, "; ".join(parts))


def _relay_hop(chain: Chain, server: Server, index: int) -> Hop:
    """A relay's hop: what it answered (and for how long it may keep it: the TTL), judged by cluster_dns."""
    parts = [f"{r.query.transport.upper()}: {say(r.first)}{_spread(r)}" for r in server.results]
    if server.best.ttl is not None:
        parts.append(f"TTL {server.best.ttl} s")
    parts.append("a relay: it caches and forwards what the servers behind it say (judged by cluster_dns)")
    assert server.relay is not None
    status = _answer_status(chain, server.best)
    return _answer_hop(index, server.relay.value, server.label, status, server, server.best, "; ".join(parts))


def _answer_hop(
    index: int, kind: str, name: str, status: Status, server: Server, answer: DnsAnswer, detail: str
) -> Hop:
    """A hop that shows what one server answered."""
    return Hop(
        index,
        kind,
        name,
        status,
        server=str(server.endpoint),
        rcode=answer.rcode,
        answers=answer.addresses,
        cname_chain=answer.cname_chain,
        elapsed_ms=answer.elapsed_ms,
        detail=detail,
        ttl=answer.ttl,
    )


def _endpoint_hop(chain: Chain, index: int) -> Hop:
    expected = chain.settings.expect
    got = chain.resolver_answer
    client = got[1] if got else (chain.custom[0].best if chain.custom else chain.azure.best)
    reached = bool(set(expected) & set(client.addresses))
    resolver = "the pod's resolver" if chain.settings.in_cluster else "the host resolver"
    via = resolver if got else "the custom DNS servers" if chain.custom else "Azure DNS"
    detail = f"{via} gives {say(client)}" + ("" if reached else f", not the endpoint {', '.join(expected)}")
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


def _spread(result: DnsResult) -> str:
    """Loss and latency over the samples of --count, e.g. ` (10 sent, 0 lost, p50 2 ms, p95 4 ms)`."""
    if len(result.answers) < 2:
        return ""
    times = [a.elapsed_ms for a in result.answers if a.outcome.responded and a.elapsed_ms is not None]
    lost = len(result.answers) - len(times)
    if not times:
        return f" ({len(result.answers)} sent, all lost)"
    return (
        f" ({len(result.answers)} sent, {lost} lost, p50 {percentile(times, 50):.0f} ms, "
        f"p95 {percentile(times, 95):.0f} ms)"
    )


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
                **({"relay": s.relay.value} if s.relay else {}),
                **{r.query.transport: [a.to_dict() for a in r.answers] for r in s.results},
            }
            for s in chain.servers()
        ],
    }


def _roles(chain: Chain, server: Server) -> list[str]:
    roles = []
    if any(s.endpoint == server.endpoint for s in chain.resolver):
        roles.append("resolver")
    if server.relay is not None:
        roles.append("relay")
    if any(s.endpoint == server.endpoint for s in chain.custom):
        roles.append("custom-dns")
    if server.endpoint == chain.azure.endpoint:
        roles.append("azure-dns")
    return roles
