"""The rules about CoreDNS and the cluster's objects, one per code and named after it: DNS029 (not serving),
DNS030 (one path fails), DNS031 (a coredns-custom override), DNS035 (a forward past the servers the name needs),
DNS037 (objects that could not be read). Each reads the View and returns (the server whose hop shows it, the
finding); the server is None for a finding about the cluster's objects rather than one server. The rules that
compare a relay with the servers behind it (DNS032-DNS034) are in `upstream_rules`.

One cause, one finding: a cache is DNS032 (the relay asked the servers that now say otherwise), an override that
answers wrong DNS031, an override or forward past the VNet's servers DNS035, a relay whose upstream is silent
DNS033 (DNS034 when the silence is ForceTCP against a server without TCP/53); a relay behind another failing relay,
and the CoreDNS pods behind the Service, are told in the first one's finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from aksdiag.probes.cluster_dns.planning import ID, TRANSPORTS
from aksdiag.probes.cluster_dns.relays import Asked, Relay, View, same, say

from aksdiag.clusterdns import LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP, RelayKind
from aksdiag.codes.cluster_dns import (
    DNS029,
    DNS030,
    DNS031,
    DNS035,
    DNS037,
    LOCALDNS_CONFIGURE_DOCS,
    RESTART_COREDNS,
)
from aksdiag.corefile import Explanation, Origin
from aksdiag.facts import DnsAnswer, Endpoint, Outcome
from aksdiag.localdns import CLUSTER_CORE_DNS, VNET_DNS, for_listener
from aksdiag.model import Finding, Severity

Found = tuple[Endpoint | None, Finding]
Rule = Callable[[View], list[Found]]


def as_warning(finding: Finding) -> Finding:
    return replace(finding, severity=Severity.WARNING)


def join(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return " and ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + " and " + items[-1]


def _paths(pairs: list[tuple[Relay, str]], label: bool = False) -> str:
    """`10.244.1.7 (CoreDNS pod) over UDP and TCP`, `10.0.0.10 and 10.244.0.5 over UDP and TCP`: relays grouped by
    the transports they share."""
    by_relay: dict[Endpoint, tuple[Relay, list[str]]] = {}
    for relay, transport in pairs:
        by_relay.setdefault(relay.endpoint, (relay, []))[1].append(transport.upper())
    groups: dict[str, list[str]] = {}
    for relay, transports in by_relay.values():
        groups.setdefault(join(transports), []).append(relay.asked.short if label else relay.endpoint.short)
    return join([f"{join(names)} over {transports}" for transports, names in groups.items()])


def service_endpoint(view: View) -> Endpoint | None:
    """The kube-dns Service's relay (whatever port the path names it with), when it is one of the view's."""
    return next((r.endpoint for r in view.relays if r.kind is RelayKind.COREDNS), None)


# ---------------------------------------------------------------- DNS029: CoreDNS not serving


def dns029_coredns_not_serving(view: View) -> list[Found]:
    s = view.shape
    slices, pods_read = s.reads.get("endpointslices"), s.reads.get("pods")
    slices_ok, pods_ok = slices is not None and not slices.error, pods_read is not None and not pods_read.error
    if (not slices_ok and not pods_ok) or not (s.service or s.endpoints or s.pods):
        return []  # nothing read, or a cluster without kube-dns at all (no CoreDNS to judge)
    pods = {p.ip: p for p in s.pods}
    problems = []
    for p in s.pods:
        if not p.ready:
            why = ", ".join(x for x in (p.waiting, f"{p.restarts} restarts" if p.restarts else "",
                                        f"last {p.last_exit}" if p.last_exit else "") if x)  # fmt: skip
            problems.append(f"{p.name} on {p.node or '?'} is not ready" + (f" ({why})" if why else ""))
    for e in s.endpoints:
        if not (e.ready and e.serving) and e.ip not in pods:
            problems.append(f"endpoint {e.ip} ({e.pod or 'no pod named'}) is not ready")
    if slices_ok:
        total = len(s.endpoints)
        ready = sum(1 for e in s.endpoints if e.ready and e.serving and not e.terminating)
    else:
        total, ready = len(s.pods), sum(1 for p in s.pods if p.ready)
    if total == 0:
        problems.append("no CoreDNS pod backs the Service (no endpoint at all)")
    if not problems and ready == total:
        return []
    failing = [p.name for p in s.pods if not p.ready] or ["-l k8s-app=kube-dns"]
    service = f"{s.kube_dns_ip}" if s.kube_dns_ip else "the kube-dns Service"
    finding = DNS029.at(ID, service=service, ready=ready, total=total, problems="; ".join(problems),
                        pods=join(failing), first_pod=failing[0],
                        evidence={"ready": ready, "total": total, "problems": problems})  # fmt: skip
    return [(service_endpoint(view), finding if ready == 0 else as_warning(finding))]


# ---------------------------------------------------------------- DNS030: one pod or one path fails


def dns030_one_path_fails(view: View) -> list[Found]:
    """Inside the cluster only: from outside, ClusterIPs and overlay pod IPs do not answer by design."""
    if not view.settings.in_cluster:
        return []
    s = view.shape
    ready_ips = {e.ip for e in s.endpoints if e.ready} | {p.ip for p in s.pods if p.ready}
    known = bool(s.endpoints or s.pods)
    targets = [r for r in view.coredns if r.kind is RelayKind.COREDNS or not known or r.endpoint.host in ready_ips]
    paths = [(r, t) for r in targets for t in TRANSPORTS if (r.asked.udp if t == "udp" else r.asked.tcp)]
    failing = [(r, t) for r, t in paths if r.asked.silent_over(t)]
    answering = [(r, t) for r, t in paths if not r.asked.silent_over(t)]
    if not failing or (not answering and not ready_ips):
        return []
    service_udp = any(r.kind is RelayKind.COREDNS and t == "udp" for r, t in failing)
    first = failing[0][0]
    names = _paths(failing, label=True)
    how = (first.asked.udp if failing[0][1] == "udp" else first.asked.tcp).first  # type: ignore[union-attr]
    answered = f"{_paths(answering)} answer{'s' if len({r.endpoint for r, _ in answering}) == 1 else ''}" if answering else (
        "nothing answers, though the API server says CoreDNS is ready"
    )  # fmt: skip
    nodes = join(sorted({p.node for p in s.pods if p.node})) or "the system pool"
    transports = "/".join(sorted({t.upper() for _, t in failing}))
    targets_text = join(sorted({r.endpoint.short for r, _ in failing}))
    finding = DNS030.at(ID, failing=names, how=say(how), answering=answered, target=targets_text, nodes=nodes,
                        transports=transports,
                        evidence={"failing": [[str(r.endpoint), t] for r, t in failing],
                                  "answering": [[str(r.endpoint), t] for r, t in answering]})  # fmt: skip
    return [(first.endpoint, finding if service_udp or not answering else as_warning(finding))]


# ---------------------------------------------------------------- DNS031: a coredns-custom override


def _custom(origin: Origin) -> bool:
    return origin.key != "Corefile"


def override_of(e: Explanation) -> tuple[Origin, str] | None:
    """The coredns-custom key that takes the name, and what it does: a rewrite, a hosts entry, or a forward."""
    for rule in e.rewrites:
        if _custom(rule.origin) and rule.field == "name":
            return rule.origin, f"rewrites {e.name.rstrip('.')} to {e.rewritten.rstrip('.')}"
    for entry in e.hosts:
        if _custom(entry.origin):
            return entry.origin, f"answers {e.name.rstrip('.')} from a hosts entry ({entry.address})"
    if e.forward is not None and _custom(e.forward.origin):
        zone = e.zone.rstrip(".") or "."
        return e.forward.origin, f"forwards {zone} to {' '.join(e.forward.targets)}"
    return None


def _coredns_answer(view: View) -> tuple[DnsAnswer, str] | None:
    """CoreDNS's answer for the name: asked (the Service first, then a pod), else what the servers it forwards to
    answer (inferred: from outside the cluster CoreDNS does not answer); None when neither is known."""
    for relay in view.coredns:
        if relay.asked.conclusive:
            return relay.asked.best, f"at {relay.endpoint.short}"
    e = view.shape.explanation
    if e is not None and e.hosts:
        return DnsAnswer(Outcome.ANSWER, "NOERROR", (e.hosts[0].address,)), "from its hosts entry"
    for relay in view.coredns:
        behind = view.behind(relay)
        if behind is not None:
            return behind, "inferred from the servers it forwards to (CoreDNS does not answer from here)"
    return None


def _to_azure(view: View, targets: list[Asked]) -> bool:
    return bool(targets) and all(t.label == "Azure DNS" for t in targets)


def dns031_override(view: View) -> list[Found]:
    e = view.shape.explanation
    found = override_of(e) if e is not None else None
    if e is None or found is None or not view.coredns:
        return []
    origin, action = found
    ups = list(view.coredns[0].upstreams)
    if e.forward is not None and origin == e.forward.origin and view.shape.vnet_custom and _to_azure(view, ups):
        return []  # a forward straight to Azure DNS, past the VNet's servers: DNS035
    if ups and not any(u.conclusive for u in ups):
        return []  # the servers it sends the name to do not answer: DNS033
    got = _coredns_answer(view)
    if got is None or view.right(got[0]) is not False:
        return []  # an override that answers right is no alarm
    answer, where_seen = got
    where = "; ".join(f"{u.short} answers {say(u.best)} for {u.name.rstrip('.')}" for u in ups) or action
    truth = _truth(view)
    change = _change(e, origin, view)
    finding = DNS031.at(ID, key=origin.key, line=origin.line, action=action, where=where,
                        relay_answer=f"{say(answer)} ({where_seen})", truth=truth, change=change,
                        evidence={"key": origin.key, "line": origin.line, "answer": answer.to_dict()})  # fmt: skip
    return [(view.coredns[0].endpoint, finding)]


def _truth(view: View) -> str:
    if view.settings.expect:
        return f"not the expected {join(list(view.settings.expect))}"
    truth = view.truth
    servers = join([a.endpoint.short for a in view.vnet])
    return f"while the VNet's DNS servers ({servers}) answer {say(truth)}" if truth else "a wrong answer"


def _change(e: Explanation, origin: Origin, view: View) -> str:
    vnet = " ".join(a.endpoint.short for a in view.vnet) or "the VNet's DNS servers"
    if any(r.origin == origin for r in e.rewrites):
        return "remove or correct the rewrite of the name"
    if any(h.origin == origin for h in e.hosts):
        return "remove or correct the hosts entry of the name"
    return f"point the forward at {vnet} (servers that hold the zone) or remove the key"


# ---------------------------------------------------------------- DNS035: forwarded past the servers it needs


def dns035_forwarded_past(view: View) -> list[Found]:
    return _coredns_past_vnet(view) + _localdns_past_coredns(view) + _localdns_past_vnet(view)


def _coredns_past_vnet(view: View) -> list[Found]:
    e = view.shape.explanation
    if e is None or e.forward is None or e.forward.node_resolver or not view.shape.vnet_custom or not view.coredns:
        return []
    ups = list(view.coredns[0].upstreams)
    vnet = {a.endpoint for a in view.vnet}
    if not ups or any(u.endpoint in vnet for u in ups) or (_custom(e.forward.origin) and not _to_azure(view, ups)):
        return []  # another server named by coredns-custom: an override (DNS031)
    got = _coredns_answer(view)
    if got is None or view.right(got[0]) is not False or view.truth is None:
        return []
    origin = e.forward.origin
    needed = join([a.endpoint.short for a in view.vnet])
    change = (f"In coredns-custom's {origin.key}, forward {e.zone.rstrip('.') or '.'} to {' '.join(sorted(a.endpoint.short for a in view.vnet))} "
              f"or remove the forward (CoreDNS's default asks the node's resolver, which asks them), then restart "
              f"CoreDNS ({RESTART_COREDNS})") if _custom(origin) else (
              f"Restore the Corefile's forward to /etc/resolv.conf ({origin}): AKS reconciles the coredns ConfigMap")  # fmt: skip
    finding = DNS035.at(ID, relay="CoreDNS", name=view.name, targets=join([u.short for u in ups]),
                        via=f"{origin}: forward {' '.join(e.forward.targets)}", needed=f"the VNet's DNS servers {needed}",
                        relay_answer=f"{say(got[0])} ({got[1]})", truth=f"the VNet's DNS servers {needed} answer {say(view.truth)}", change=change,
                        command="kubectl -n kube-system edit configmap coredns-custom" if _custom(origin)
                        else "kubectl -n kube-system get configmap coredns -o yaml",
                        evidence={"key": origin.key, "line": origin.line, "targets": [str(u.endpoint) for u in ups]})  # fmt: skip
    return [(view.coredns[0].endpoint, finding)]


def _localdns_past_coredns(view: View) -> list[Found]:
    """kube-dns traffic that LocalDNS sends to the VNet's servers, past a coredns-custom override the name needs."""
    e = view.shape.explanation
    found = override_of(e) if e is not None else None
    coredns = _coredns_answer(view)
    if found is None or coredns is None or coredns[0].outcome is not Outcome.ANSWER or view.right(coredns[0]) is False:
        return []
    out: list[Found] = []
    relay = view.relay_at(Endpoint(LOCALDNS_KUBE_IP))
    pools = [(p.pool, o) for p in view.shape.localdns_pools
             for o in [for_listener(p, LOCALDNS_KUBE_IP, view.name)] if o and o.configured and o.destination == VNET_DNS]  # fmt: skip
    if not pools:
        return []
    if relay is not None and relay.asked.conclusive:
        answer, seen = relay.asked.best, f"at {relay.endpoint.short}"
    elif view.truth is not None:
        answer, seen = view.truth, "inferred from the VNet's DNS servers"
    else:
        return []
    if same(answer, coredns[0]):
        return []
    domain, names = pools[0][1].domain, join(sorted({p for p, _ in pools}))
    azure = view.settings.azure
    command = (f"az aks nodepool update --resource-group {azure.resource_group if azure else '<resource-group>'} "
               f"--cluster-name {azure.cluster if azure else '<cluster>'} --name {pools[0][0]} "
               "--localdns-config ./localdnsconfig.json")  # fmt: skip
    finding = DNS035.at(ID, relay="LocalDNS (kube-dns listener)", name=view.name,
                        targets=join([a.endpoint.short for a in view.vnet]) or "the VNet's DNS servers",
                        via=f"kubeDNSOverrides {domain!r} forwardDestination {VNET_DNS}, pool {names}",
                        needed=f"CoreDNS (coredns-custom's {found[0].key}, line {found[0].line})",
                        relay_answer=f"{say(answer)} ({seen})", truth=f"CoreDNS answers {say(coredns[0])} ({coredns[1]})",
                        change=f"Set forwardDestination {CLUSTER_CORE_DNS} for {domain!r} in kubeDNSOverrides of pool "
                               f"{names}'s LocalDNS configuration (Learn: {LOCALDNS_CONFIGURE_DOCS})",
                        command=command, evidence={"pools": sorted({p for p, _ in pools}), "domain": domain})  # fmt: skip
    out.append((relay.endpoint if relay else None, finding))
    return out


# ---------------------------------------------------------------- DNS037: objects that could not be read

_EFFECT = {
    "services": "the kube-dns Service IP is taken from the resolver or from ARM",
    "endpointslices": "which CoreDNS pods kube-dns sends queries to is not known",
    "pods": "the CoreDNS pods' readiness and restarts are not known",
    "coredns": "CoreDNS's Corefile is not known: AKS's default (forward . /etc/resolv.conf) is assumed",
    "coredns-custom": "coredns-custom's overrides are not known: the name's forward is read from the Corefile alone",
}


def dns037_unreadable(view: View) -> list[Found]:
    """One finding for every read the API server refused (one missing Role refuses both ConfigMaps)."""
    refused = [(k, x) for k, x in view.shape.reads.items() if x is not None and x.forbidden]
    if not refused:
        return []
    maps = [k for k, _ in refused if k in ("coredns", "coredns-custom")]
    lists = [k for k, _ in refused if k not in maps]
    what = join([f"the ConfigMap{'s' if len(maps) > 1 else ''} " + join([f"kube-system/{k}" for k in maps])] * bool(maps)
                + [f"kube-system's {k}" for k in lists])  # fmt: skip
    rule = join([f"get on configmaps/{k}" for k in maps] + [f"list on {k}" for k in lists])
    finding = DNS037.at(ID, what=what, reason=refused[0][1].error or "forbidden (403)", rule=rule,
                        effect="; ".join(_EFFECT[k] for k, _ in refused),
                        evidence={"refused": [{"read": k, "status": x.status, "error": x.error} for k, x in refused]})  # fmt: skip
    return [(None, finding)]


def _localdns_past_vnet(view: View) -> list[Found]:
    """The node's traffic (169.254.10.10) that a vnetDNSOverrides entry sends to CoreDNS for a zone of the VNet's
    servers: CoreDNS's default forward is the node's resolver (LocalDNS again), so they are never asked; no alarm
    when a coredns-custom forward takes the name, or when the listener, asked, answers right."""
    e = view.shape.explanation
    if not view.shape.vnet_custom or (e is not None and override_of(e) is not None):
        return []
    pools = [(p.pool, o) for p in view.shape.localdns_pools
             for o in [for_listener(p, LOCALDNS_VNET_IP, view.name)]
             if o and o.configured and o.forward_destination.lower() == CLUSTER_CORE_DNS.lower() and not o.domain.endswith("cluster.local")]  # fmt: skip
    if not pools:
        return []
    relay = view.relay_at(Endpoint(LOCALDNS_VNET_IP))
    if relay is not None and relay.asked.conclusive:
        if view.right(relay.asked.best) is not False:
            return []
        answer = f"{say(relay.asked.best)} (at {LOCALDNS_VNET_IP})"
    else:
        answer = "what CoreDNS gets from the node's resolver (forward . /etc/resolv.conf): LocalDNS again, not the VNet's servers"
    domain, names = pools[0][1].domain, join(sorted({p for p, _ in pools}))
    vnet = join([a.endpoint.short for a in view.vnet])
    truth = view.truth
    azure = view.settings.azure
    command = (f"az aks nodepool update --resource-group {azure.resource_group if azure else '<resource-group>'} "
               f"--cluster-name {azure.cluster if azure else '<cluster>'} --name {pools[0][0]} "
               "--localdns-config ./localdnsconfig.json")  # fmt: skip
    finding = DNS035.at(ID, relay=f"LocalDNS ({LOCALDNS_VNET_IP}, the nodes' and dnsPolicy Default pods' DNS)",
                        name=view.name, targets="CoreDNS (the kube-dns Service)",
                        via=f"vnetDNSOverrides {domain!r} forwardDestination {CLUSTER_CORE_DNS}, pool {names}",
                        needed=f"the VNet's DNS servers {vnet}", relay_answer=answer,
                        truth=f"the VNet's DNS servers {vnet} answer {say(truth)}" if truth else f"{vnet} hold the zone",
                        change=f"Set forwardDestination {VNET_DNS} for {domain!r} in vnetDNSOverrides of pool {names}'s "
                               f"LocalDNS configuration, or remove that override (Learn: {LOCALDNS_CONFIGURE_DOCS})",
                        command=command, evidence={"pools": sorted({p for p, _ in pools}), "domain": domain})  # fmt: skip
    return [(relay.endpoint if relay else None, finding)]
