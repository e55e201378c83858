"""Judging: the rules over the View, and the hops a report draws — one per relay (LocalDNS listener, the kube-dns
Service, each CoreDNS pod) and one per server they forward the name to, each with its answer's TTL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aksdiag.probes.cluster_dns import rules, upstream_rules
from aksdiag.probes.cluster_dns.relays import Asked, Relay, View, gather, same, say

from aksdiag.clusterdns import RelayKind
from aksdiag.facts import Endpoint
from aksdiag.model import Finding, Hop, Severity, Status
from aksdiag.probe import Facts, Judgement
from aksdiag.settings import Settings

RULES: tuple[rules.Rule, ...] = (
    rules.dns029_coredns_not_serving,
    rules.dns030_one_path_fails,
    rules.dns031_override,
    upstream_rules.dns032_cached,
    upstream_rules.dns033_upstream_fails,
    upstream_rules.dns034_force_tcp,
    rules.dns035_forwarded_past,
    rules.dns037_unreadable,
)
OUTSIDE = (
    "no answer from here: a ClusterIP or an overlay pod IP answers only inside the cluster "
    "(run `aksdiag pod -- dns {name}` to ask it there)"
)


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    view = gather(name, settings, facts)
    hops = _hops(view)
    index = {Endpoint.__str__(e): h.index for h, e in hops}
    drawn = [h for h, _ in hops]
    findings: list[Finding] = []
    for rule in RULES:
        for endpoint, finding in rule(view):
            findings.append(replace(finding, hop=index.get(str(endpoint)) if endpoint else None))
    drawn = [_with_findings(h, findings) for h in drawn]
    return Judgement(hops=tuple(drawn), findings=tuple(findings), facts=_facts(view), unread=_unread(view))


def _hops(view: View) -> list[tuple[Hop, Endpoint]]:
    out: list[tuple[Hop, Endpoint]] = []
    for relay in view.relays:
        out.append((_relay_hop(view, relay, len(out) + 1), relay.endpoint))
    relays = {r.endpoint for r in view.relays}
    behind: dict[Endpoint, tuple[Asked, list[str]]] = {}
    for relay in view.relays:
        for u in relay.upstreams:
            if u.endpoint not in relays:
                behind.setdefault(u.endpoint, (u, []))[1].append(relay.endpoint.short)
    if view.shape.localdns_pools or view.relays:
        for a in view.vnet:
            behind.setdefault(a.endpoint, (a, []))
    for endpoint, (asked, fronts) in behind.items():
        out.append((_upstream_hop(view, asked, fronts, len(out) + 1), endpoint))
    return out


def _transports(asked: Asked) -> str:
    return "; ".join(f"{r.query.transport.upper()}: {say(r.first)}" for r in asked.results)


def _relay_hop(view: View, relay: Relay, index: int) -> Hop:
    asked, answer = relay.asked, relay.asked.best
    parts = [_transports(asked)]
    if relay.plan.via:
        parts.append(f"forwards by {relay.plan.via}")
    behind = view.behind(relay)
    if behind is not None:
        servers = ", ".join(u.endpoint.short for u in relay.upstreams if u.conclusive)
        parts.append(f"{servers} answer{'s' if ',' not in servers else ''} {say(behind)}")
    elif relay.plan.unknown:
        parts.append(relay.plan.unknown)
    parts += _kube_notes(view, relay)
    if not asked.responded and not view.settings.in_cluster and relay.kind is not RelayKind.LOCALDNS:
        status = Status.SKIPPED
        parts = [OUTSIDE.format(name=view.name), *parts[1:]]
    elif not answer.outcome.conclusive:
        status = Status.FAIL
    elif behind is not None and not same(answer, behind):
        status = Status.WARN
    else:
        status = Status.OK
    return Hop(index, relay.kind.value, asked.label, status, server=str(relay.endpoint), rcode=answer.rcode,
               answers=answer.addresses, elapsed_ms=answer.elapsed_ms, detail="; ".join(p for p in parts if p),
               ttl=answer.ttl)  # fmt: skip


def _kube_notes(view: View, relay: Relay) -> list[str]:
    """What the API server says about a CoreDNS pod (ready, node), or the Service (its endpoints)."""
    s = view.shape
    if relay.kind is RelayKind.COREDNS_POD:
        pod = next((p for p in s.pods if p.ip == relay.endpoint.host), None)
        if pod is not None:
            state = "ready" if pod.ready else f"not ready{', ' + pod.waiting if pod.waiting else ''}"
            return [f"pod {pod.name} on {pod.node}: {state}"]
    if relay.kind is RelayKind.COREDNS and s.endpoints:
        ready = sum(1 for e in s.endpoints if e.ready)
        return [f"kube-dns: {ready} of {len(s.endpoints)} endpoints ready"]
    return []


def _upstream_hop(view: View, asked: Asked, fronts: list[str], index: int) -> Hop:
    answer = asked.best
    kind = "azure-dns" if asked.label == "Azure DNS" else "custom-dns"
    parts = [_transports(asked)]
    if fronts:
        parts.append(f"behind {', '.join(dict.fromkeys(fronts))}")
    if asked.name.rstrip(".") != asked.name.rstrip(".").lower() or asked.name.endswith("."):
        parts.append(f"asked {asked.name.rstrip('.')}")
    wrong = view.right(answer) is False and view.settings.expect  # the expected endpoint is known, and missed
    status = Status.OK if answer.outcome.conclusive and not wrong else Status.FAIL  # as dns_chain draws the server
    return Hop(index, kind, asked.label, status, server=str(asked.endpoint), rcode=answer.rcode,
               answers=answer.addresses, elapsed_ms=answer.elapsed_ms, detail="; ".join(parts), ttl=answer.ttl)  # fmt: skip


_SEVERITY_STATUS = {Severity.ERROR: Status.FAIL, Severity.WARNING: Status.WARN}
_RANK = {Status.SKIPPED: 0, Status.OK: 1, Status.WARN: 2, Status.FAIL: 3, Status.ERROR: 3}


def _with_findings(hop: Hop, findings: list[Finding]) -> Hop:
    """A hop is at least as bad as the worst finding shown on it."""
    status = hop.status
    for f in findings:
        worse = _SEVERITY_STATUS.get(f.severity)
        if f.hop == hop.index and worse is not None and _RANK[worse] > _RANK[status]:
            status = worse
    return replace(hop, status=status)


def _unread(view: View) -> tuple[str, ...]:
    """Reads that failed without a refusal (the API server unreachable, 5xx, garbage): the probe could not look."""
    out = []
    for key, listed in view.shape.reads.items():
        if listed is None or not listed.error or listed.forbidden or listed.status == 404:
            continue
        out.append(listed.reason(key if key in ("services", "endpointslices", "pods") else f"configmaps/{key}"))
    return tuple(out)


def _facts(view: View) -> dict[str, Any]:
    s = view.shape
    e = s.explanation
    return {
        "name": view.name,
        "kube_dns_ip": s.kube_dns_ip,
        "relays": [
            {"server": str(r.endpoint), "kind": r.kind.value, "on_path": r.plan.on_path, "via": r.plan.via,
             "upstreams": [str(u.endpoint) for u in r.upstreams],
             **{res.query.transport: [a.to_dict() for a in res.answers] for res in r.asked.results}}
            for r in view.relays
        ],
        "vnet_dns": [str(a.endpoint) for a in view.vnet],
        "vnet_custom": s.vnet_custom,
        "endpoints": [{"ip": x.ip, "ready": x.ready, "serving": x.serving, "node": x.node, "pod": x.pod}
                      for x in s.endpoints],
        "pods": [{"name": p.name, "ip": p.ip, "node": p.node, "ready": p.ready, "restarts": p.restarts,
                  "waiting": p.waiting, "last_exit": p.last_exit} for p in s.pods],
        "configmaps": {k: {"status": c.status, "keys": sorted(c.data or {}), "error": c.error}
                       for k, c in s.configmaps.items()},
        "corefile": None if e is None else {
            "zone": e.zone, "block": str(e.block.origin), "rewritten": e.rewritten,
            "forward": None if e.forward is None else {"targets": list(e.forward.targets), "at": str(e.forward.origin)},
            "cache": None if e.cache is None else {"success": e.cache.success_ttl, "denial": e.cache.denial_ttl,
                                                   "serve_stale": e.cache.serve_stale, "at": str(e.cache.origin)},
        },
        "corefile_error": s.corefile_error or None,
        "localdns": [{"pool": p.pool, "mode": p.mode, "state": p.state} for p in s.profiles if p.configured],
        "clock": view.clock.utc if view.clock else None,
    }  # fmt: skip
