"""The rules that compare a relay with the servers behind it, one per code and named after it: DNS032 (a cached
answer the servers no longer give), DNS033 (the servers behind it fail), DNS034 (LocalDNS's ForceTCP against a
server without TCP/53). The relay hops and the CoreDNS pods behind the Service are folded as in `rules`.
"""

from __future__ import annotations

from aksdiag.probes.cluster_dns.planning import ID
from aksdiag.probes.cluster_dns.relays import Asked, Relay, View, same, say
from aksdiag.probes.cluster_dns.rules import Found, as_warning, join, override_of, service_endpoint

from aksdiag.clusterdns import LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP, RelayKind
from aksdiag.codes.cluster_dns import DNS032, DNS033, DNS034, RESTART_COREDNS
from aksdiag.facts import DnsAnswer, Endpoint, Outcome
from aksdiag.localdns import VNET_DNS, LocalDnsOverride, for_listener
from aksdiag.model import Finding

LOCALDNS_FLUSH = (
    "restart the localdns service on the node (kubectl debug node/<node> -it --image=mcr.microsoft.com/cbl-mariner/"
    "busybox:2.0 -- chroot /host systemctl restart localdns; Learn: Troubleshoot LocalDNS), or reimage the pool "
    "(az aks nodepool upgrade --node-image-only)"
)
LOCALDNS_FLUSH_COMMAND = (
    "kubectl debug node/<node> -it --image=mcr.microsoft.com/cbl-mariner/busybox:2.0 -- chroot /host "
    "systemctl restart localdns"
)


# ---------------------------------------------------------------- DNS032: a cached answer


def _cached(view: View, relay: Relay) -> bool:
    answer, behind = relay.asked.best, view.behind(relay)
    if not answer.outcome.conclusive or behind is None or same(answer, behind):
        return False
    return all(same(u.best, behind) for u in relay.upstreams if u.conclusive)  # they agree: no random pick


def dns032_cached(view: View) -> list[Found]:
    cached = [r for r in view.relays if _cached(view, r)]
    service = next((r for r in cached if r.kind is RelayKind.COREDNS), None)
    out: list[Found] = []
    for relay in cached:
        if service is not None and relay.kind is RelayKind.COREDNS_POD:
            continue  # told in the Service's finding
        also = [r.endpoint.short for r in cached if r.kind is RelayKind.COREDNS_POD] if relay is service else []
        out.append((relay.endpoint, _dns032(view, relay, also)))
    return out


def _dns032(view: View, relay: Relay, also: list[str]) -> Finding:
    answer, behind = relay.asked.best, view.behind(relay)
    assert behind is not None
    ttl = answer.ttl
    upstreams = join([u.short for u in relay.upstreams if u.conclusive])
    cap = _cap(view, relay, answer)
    if also:
        cap += f"; the CoreDNS pods {join(also)} answer it from their caches too"
    localdns = relay.kind is RelayKind.LOCALDNS
    finding = DNS032.at(ID, relay=relay.asked.short, cached=say(answer), name=view.name, upstreams=upstreams,
                        fresh=say(behind), ttl=f"{ttl:,}" if ttl is not None else "?",
                        at=view.expires(ttl) if ttl is not None else "", cap=cap,
                        flush=LOCALDNS_FLUSH if localdns else RESTART_COREDNS,
                        command=LOCALDNS_FLUSH_COMMAND if localdns else RESTART_COREDNS,
                        evidence={"relay": answer.to_dict(), "behind": behind.to_dict()})  # fmt: skip
    return as_warning(finding) if view.right(answer) else finding  # a good answer kept while the servers broke


def _cap(view: View, relay: Relay, answer: DnsAnswer) -> str:
    """The relay's cache setting that bounds the answer's TTL."""
    if relay.kind is RelayKind.LOCALDNS:
        caps = [
            f"cacheDurationInSeconds {o.cache_seconds} (pool {pool}, {o.domain!r})" for pool, o in relay.plan.localdns
        ]
        return f"; LocalDNS caps it with {join(caps)}" if caps else ""
    e = view.shape.explanation
    if e is None or e.cache is None:
        return ""
    denial = answer.outcome is not Outcome.ANSWER
    cap = e.cache.denial_ttl if denial else e.cache.success_ttl
    return f"; CoreDNS's cache ({e.cache.origin}) caps a {'denial' if denial else 'answer'} at {cap:g} s"


# ---------------------------------------------------------------- DNS033: the upstream fails


def _stale_seconds(view: View, relay: Relay) -> float | None:
    if relay.kind is RelayKind.LOCALDNS:
        return max((o.serve_stale_seconds for _, o in relay.plan.localdns if o.serves_stale), default=None)
    e = view.shape.explanation
    return e.cache.serve_stale if e is not None and e.cache is not None else None


def _fails(relay: Relay) -> bool:
    return not relay.asked.best.outcome.conclusive


def dns033_upstream_fails(view: View) -> list[Found]:
    failing: list[Relay] = []
    for relay in view.relays:
        answer = relay.asked.best
        if not relay.asked.responded and (not view.settings.in_cluster or relay.kind is not RelayKind.LOCALDNS):
            continue  # silent: from outside by design; inside, a path to CoreDNS that fails is DNS030
        stale = answer.outcome is Outcome.ANSWER and answer.ttl == 0
        if not (_fails(relay) or stale) or _force_tcp_explains(view, relay):
            continue
        inner = [view.relay_at(u.endpoint) for u in relay.upstreams if u.endpoint != relay.endpoint]
        if any(r is not None and _fails(r) for r in inner):
            continue  # the relay behind it fails: its finding says why
        if stale and any(u.conclusive for u in relay.upstreams):
            continue  # the servers answer again: the stale entry is refreshed
        failing.append(relay)
    service = next((r for r in failing if r.kind is RelayKind.COREDNS), None)
    out: list[Found] = []
    for relay in failing:
        if service is not None and relay.kind is RelayKind.COREDNS_POD:
            continue
        out.append((relay.endpoint, _dns033(view, relay)))
    return out


def _dns033(view: View, relay: Relay) -> Finding:
    answer, ups = relay.asked.best, relay.upstreams
    if not ups:
        upstreams, upstream_answer = "(not known here)", f"is not known: {relay.plan.unknown or relay.plan.via}"
    elif any(u.conclusive for u in ups):
        upstreams = join([u.short for u in ups])
        upstream_answer = "answers from here: the path from the relay to it fails (an NSG or firewall between " \
                          "the nodes and it), or the relay itself does"  # fmt: skip
    else:
        upstreams = join([u.short for u in ups])
        upstream_answer = "gives " + join(sorted({say(u.best) for u in ups}))
    stale = ""
    if answer.outcome is Outcome.ANSWER:
        seconds = _stale_seconds(view, relay)
        more = f" for up to {seconds:g} s more" if seconds else ""
        stale = f"; the relay still answers its expired entry with TTL 0 (serve-stale){more}, which hides the outage"
    e = view.shape.explanation
    found = override_of(e) if e is not None and relay.kind is not RelayKind.LOCALDNS else None
    source = f"coredns-custom's {found[0].key} (line {found[0].line})" if found else "the VNet's DNS settings"
    finding = DNS033.at(ID, relay=relay.asked.short, relay_answer=say(answer), name=view.name, upstreams=upstreams,
                        upstream_answer=upstream_answer, stale=stale, source=source,
                        evidence={"relay": answer.to_dict(), "upstreams": {str(u.endpoint): u.best.to_dict() for u in ups}})  # fmt: skip
    return as_warning(finding) if stale else finding


# ---------------------------------------------------------------- DNS034: ForceTCP against a server without TCP/53


def _listeners(view: View) -> list[str]:
    on_path = [r.endpoint.host for r in view.relays if r.kind is RelayKind.LOCALDNS]
    return on_path or ([LOCALDNS_VNET_IP, LOCALDNS_KUBE_IP] if view.shape.localdns_pools else [])


def _force_tcp_targets(view: View, o: LocalDnsOverride) -> list[Asked]:
    if not o.force_tcp:
        return []
    if o.destination == VNET_DNS:
        targets = list(view.vnet)
    else:
        service = service_endpoint(view)
        relay = view.relay_at(service) if service else None
        targets = [relay.asked] if relay else []
    return [t for t in targets if t.silent_over("tcp") and t.udp is not None and t.udp.first.outcome.responded]


def _inferred_force_tcp(view: View, relay: Relay) -> list[Asked]:
    """Without the pools' profiles (no Azure context, as in a pod): a LocalDNS listener that fails while a VNet DNS
    server answers UDP but not TCP is ForceTCP's mark."""
    if relay.kind is not RelayKind.LOCALDNS or view.shape.localdns_pools or not _fails(relay):
        return []
    return [t for t in view.vnet if t.silent_over("tcp") and t.udp is not None and t.udp.first.outcome.responded]


def _force_tcp_explains(view: View, relay: Relay) -> bool:
    return relay.kind is RelayKind.LOCALDNS and (
        any(_force_tcp_targets(view, o) for _, o in relay.plan.localdns) or bool(_inferred_force_tcp(view, relay))
    )


def _overrides(listener: str) -> str:
    return "kubeDNSOverrides" if listener == LOCALDNS_KUBE_IP else "vnetDNSOverrides"


def dns034_force_tcp(view: View) -> list[Found]:
    groups: dict[tuple[str, str, Endpoint], tuple[list[str], Asked]] = {}
    for listener in _listeners(view):
        for profile in view.shape.localdns_pools:
            o = for_listener(profile, listener, view.name)
            for target in _force_tcp_targets(view, o) if o else []:
                assert o is not None
                groups.setdefault((listener, o.domain, target.endpoint), ([], target))[0].append(profile.pool)
    out: list[Found] = []
    for (listener, domain, _), (pools, target) in groups.items():
        names = join(sorted(set(pools)))
        shown = Endpoint(listener) if view.relay_at(Endpoint(listener)) else target.endpoint
        config = f"the {_overrides(listener)} of pool {names}"
        out.append((shown, _dns034(view, target, f"of pool {names}", domain, config, sorted(pools)[0], listener)))
    for relay in view.relays:
        for target in _inferred_force_tcp(view, relay):
            config = (f"the pool's {_overrides(relay.endpoint.host)} (not read here: give --cluster to see it; "
                      "inferred, as LocalDNS fails while the server answers UDP only)")  # fmt: skip
            where = f"at {relay.endpoint.host}"
            out.append(
                (relay.endpoint, _dns034(view, target, where, "the name", config, "<pool>", relay.endpoint.host))
            )
    return out


def _dns034(view: View, target: Asked, where: str, domain: str, config: str, pool: str, listener: str) -> Finding:
    azure = view.settings.azure
    return DNS034.at(ID, where=where, domain=domain, config=config, server=target.short, pool=pool,
                     tcp=say(target.tcp.first) if target.tcp else "not asked",
                     udp=say(target.udp.first) if target.udp else "not asked",
                     resource_group=azure.resource_group if azure else "<resource-group>",
                     cluster=azure.cluster if azure else "<cluster>",
                     evidence={"listener": listener, "domain": domain, "server": str(target.endpoint)})  # fmt: skip
