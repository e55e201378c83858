"""Judging: each endpoint layer by layer (name → TCP → TLS → HTTP); the first layer that fails is its finding,
named with what blocks it when the Azure side shows it (aksdiag.egresspath)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aksdiag.probes.apiserver.certnames import covers
from aksdiag.probes.egress.endpoints import GIVEN, ID, Target, dependencies_need, targets
from aksdiag.probes.egress.planning import address_of, answer_of, azure_facts, document, http_need, tls_need

from aksdiag.azfacts import AzureFacts
from aksdiag.codes.egress import EG001, EG002, EG003, EG004, EG005, EG006, EG007, EG008, EG009
from aksdiag.egresspath import Blocker, explain
from aksdiag.facts import (
    AzureContext,
    AzureDocument,
    HttpResult,
    ReadFailure,
    ResolverConfig,
    ResolverConfigNeed,
    TcpConnect,
    TcpConnectNeed,
    TlsPeer,
    is_public_address,
)
from aksdiag.inputs import is_ip
from aksdiag.model import Finding, Hop, Status, Table
from aksdiag.probe import Facts, Judgement
from aksdiag.settings import Settings

DENY_STATUSES = {470: "Azure Firewall", 407: "a proxy that wants credentials"}
"""HTTP answers that are a firewall's or proxy's, not the endpoint's (Azure Firewall: 470 "Action: Deny")."""
NO_PUBLIC_CHECK = {"apiserver", GIVEN}
"""Categories whose names may rightly resolve privately (a private cluster's API server, the user's own)."""


@dataclass(frozen=True)
class Seen:
    """What one endpoint answered at each layer (None: not reached)."""

    target: Target
    resolver: str
    address: str = ""
    addresses: tuple[str, ...] = ()
    dns: str = ""
    tcp: TcpConnect | None = None
    tls: TlsPeer | None = None
    http: HttpResult | None = None


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    arm = azure_facts(settings, facts)
    config = facts.get(ResolverConfigNeed(settings.resolv_conf))
    if not isinstance(config, ResolverConfig):
        return Judgement(unread=("the host's resolver configuration was not read",))
    doc = document(settings, facts)
    wanted = targets(settings, doc, arm)
    seen = [_seen(t, config, facts, settings) for t in wanted]
    findings: list[Finding] = []
    unread: list[str] = []
    if config.error:
        unread.append(f"{config.path}: {config.error}")
    findings += _eg009_list_unread(settings, doc, len(wanted))
    ctx = facts.get(settings.azure) if settings.azure else None
    if isinstance(ctx, AzureContext) and ctx.cluster is None:
        unread += [e.reason for e in ctx.errors if not e.refusal][:1]  # a refusal is the Azure probes' finding
    if doc is not None and doc.error is not None and not doc.error.refusal:
        unread.append(doc.error.reason)
    pool = _pool(arm)
    hops: list[Hop] = []
    for i, s in enumerate(seen, 1):
        found = _verdict(s, settings, arm, pool, i)
        findings += found
        hops.append(_hop(i, s, found))
        if s.tcp is not None and s.tcp.error and s.tcp.error.startswith("not sent"):
            unread.append(f"{s.target.shown}: {s.tcp.error}")
    findings += _eg008_not_tested(wanted)
    return Judgement(
        hops=tuple(hops),
        findings=tuple(findings),
        facts=_summary(settings, doc, seen),
        tables=(_table(seen, findings),),
        unread=tuple(dict.fromkeys(unread)),
    )


def _seen(t: Target, config: ResolverConfig, facts: Facts, settings: Settings) -> Seen:
    resolver = ", ".join(str(s) for s in config.nameservers) or "no nameserver"
    if not t.how and "*" in t.name:
        return Seen(t, resolver)
    answer = None if is_ip(t.name) else answer_of(t, config, facts)
    addresses = (t.name,) if is_ip(t.name) else (answer.addresses if answer else ())
    dns = "address" if is_ip(t.name) else (answer.outcome.label if answer else "not asked")
    address = address_of(t, config, facts)
    if not address:
        return Seen(t, resolver, "", addresses, dns)
    tcp = facts.get(TcpConnectNeed(address, t.port))
    tls = facts.get(tls_need(t, address, settings)) if t.how == "https" else None
    http = facts.get(http_need(t, address)) if t.how == "https" else None
    return Seen(t, resolver, address, addresses, dns, tcp, tls, http)


# ---------------------------------------------------------------- one endpoint, layer by layer


def _verdict(s: Seen, settings: Settings, arm: AzureFacts | None, pool: str, hop: int) -> list[Finding]:
    t = s.target
    base: dict[str, Any] = {"name": t.name, "port": t.port, "category": t.category}
    evidence: dict[str, Any] = {"endpoint": t.shown, "category": t.category, "addresses": list(s.addresses)}
    if "*" in t.name or (not t.how and not s.addresses and t.protocol.lower() != "udp"):
        return []
    if not is_ip(t.name) and not s.addresses:
        if s.dns == "not asked":
            return []
        return [EG001.at(ID, hop=hop, evidence=evidence, resolver=s.resolver, outcome=s.dns, **base)]
    private = [a for a in s.addresses if not is_public_address(a)]
    out: list[Finding] = []
    if t.category not in NO_PUBLIC_CHECK and not is_ip(t.name) and private and len(private) == len(s.addresses):
        out.append(EG002.at(ID, hop=hop, evidence=evidence, resolver=s.resolver, addresses=", ".join(s.addresses),
                            **base))  # fmt: skip
    if not t.how or s.tcp is None:
        return out
    blocker = _blocker(arm, pool, s.address, t.port)
    way = {"blocker": f" {blocker.sentence}" if blocker else "", "way": blocker.what if blocker else
           "the firewall, the route and the NSGs of the node subnet", "address": s.address}  # fmt: skip
    if blocker is not None:
        evidence["blocker"] = {"kind": blocker.kind, "what": blocker.what, **blocker.evidence}
    if settings.azure is not None:
        evidence["relates_to"] = {"probes": ["outbound"], "as": "cause"}
    if s.tcp.outcome == "timeout" or (s.tcp.outcome == "error" and not (s.tcp.error or "").startswith("not sent")):
        why = f"within {settings.timeout:g} s" if s.tcp.outcome == "timeout" else s.tcp.error or "error"
        return [*out, EG003.at(ID, hop=hop, evidence=evidence, why=why, **base, **way)]
    if s.tcp.outcome == "refused":
        return [*out, EG004.at(ID, hop=hop, evidence=evidence, **base, **way)]
    if s.tcp.outcome != "open" or t.how != "https":
        return out
    return out + _tls_and_http(s, evidence, base, way, hop)


def _tls_and_http(s: Seen, evidence: dict[str, Any], base: dict[str, Any], way: dict[str, Any],
                  hop: int) -> list[Finding]:  # fmt: skip
    t, tls, http = s.target, s.tls, s.http
    if tls is None:
        return []
    if tls.outcome != "ok":
        what = "the TLS handshake " + ("got no answer" if tls.outcome == "timeout" else f"failed ({tls.error})")
        return [EG007.at(ID, hop=hop, evidence=evidence, what=what, **base, **way)]
    names = ", ".join(tls.dns_names) or tls.subject or "no name"
    named = is_ip(t.name) or covers(tls.dns_names, tls.ip_addresses, t.name)
    if (tls.trusted is False or not named) and t.category != "apiserver":
        why = (tls.verify_error or "not trusted") if tls.trusted is False else f"the certificate does not name {t.name}"
        evidence.update(issuer=tls.issuer, subject=tls.subject, dns_names=list(tls.dns_names))
        return [EG005.at(ID, hop=hop, evidence=evidence, issuer=tls.issuer or "an unnamed issuer", names=names,
                         why=why, **base)]  # fmt: skip
    if http is None:
        return []
    if http.outcome == "ok" and http.status is not None:
        by = DENY_STATUSES.get(http.status) or ("a firewall" if "action: deny" in http.body.lower() else "")
        if by:
            excerpt = " ".join(http.body.split())[:160] or "(no body)"
            evidence.update(status=http.status, body=excerpt)
            rule = "allow-" + t.name.replace(".", "-")[:60]
            return [EG006.at(ID, hop=hop, evidence=evidence, status=http.status, by=by, excerpt=excerpt,
                             rule_name=rule, **base)]  # fmt: skip
        return []
    if http.outcome in ("timeout", "refused", "error", "tls-error"):
        what = f"the HTTP request after the handshake failed ({http.error or http.outcome})"
        return [EG007.at(ID, hop=hop, evidence=evidence, what=what, **base, **way)]
    return []


def _blocker(arm: AzureFacts | None, pool: str, address: str, port: int) -> Blocker | None:
    if arm is None or not pool or not address:
        return None
    return explain(arm, pool, address, port, "Tcp")


def _pool(arm: AzureFacts | None) -> str:
    """The pool whose way out is judged: the first System pool, else the first."""
    pools = arm.cluster.pools if arm is not None and arm.cluster is not None else ()
    system = [p for p in pools if p.mode.lower() == "system"]
    return (system or list(pools))[0].name if pools else ""


# ---------------------------------------------------------------- the list, and what is shown only


def _eg009_list_unread(settings: Settings, doc: AzureDocument | None, count: int) -> list[Finding]:
    """A 403 on the list is a finding about the reader's role; a 404 (an old API, a fake world without it) is a
    quiet note in the facts."""
    if doc is None or doc.error is None or doc.error.kind is not ReadFailure.FORBIDDEN or settings.azure is None:
        return []
    need = dependencies_need(settings)
    return [EG009.at(ID, path=need.path if need else "", reason=doc.error.kind.label, count=count,
                     resource_group=settings.azure.resource_group, cluster=settings.azure.cluster,
                     evidence={"error": doc.error.to_dict()})]  # fmt: skip


def _eg008_not_tested(wanted: list[Target]) -> list[Finding]:
    shown = [t for t in wanted if t.why_not]
    if not shown:
        return []
    which = "; ".join(f"{t.shown} ({t.protocol}, {t.why_not})" for t in shown)
    return [EG008.at(ID, count=len(shown), which=which, evidence={"endpoints": [t.shown for t in shown]})]


# ---------------------------------------------------------------- what people see


def _layers(s: Seen) -> tuple[str, str, str, str]:
    tcp = s.tcp.outcome if s.tcp else ("-" if not s.address else "not tried")
    tls = "-"
    if s.tls is not None:
        tls = s.tls.outcome if s.tls.outcome != "ok" else ("trusted" if s.tls.trusted else
                                                           "unchecked" if s.tls.trusted is None else "untrusted")  # fmt: skip
    http = "-"
    if s.http is not None:
        http = str(s.http.status) if s.http.outcome == "ok" else s.http.outcome
    dns = ", ".join(s.addresses) if s.addresses else s.dns or "-"
    return dns, tcp, tls, http


def _hop(index: int, s: Seen, found: list[Finding]) -> Hop:
    errors = [f for f in found if f.severity.value == "error"]
    untested = not s.target.how or s.tcp is None  # shown only, or never reached (the name was not asked)
    status = Status.FAIL if errors else Status.WARN if found else Status.SKIPPED if untested else Status.OK
    dns, tcp, tls, http = _layers(s)
    detail = s.target.why_not or (found[0].detail if found else f"DNS {dns}; TCP {tcp}; TLS {tls}; HTTP {http}")
    if untested and not found and s.target.how:
        detail = f"not tested: DNS {dns}"
    elapsed = s.tcp.elapsed_ms if s.tcp is not None else None
    return Hop(index, "endpoint", s.target.shown, status, server=s.address or None, answers=s.addresses,
               elapsed_ms=elapsed, detail=detail)  # fmt: skip


def _table(seen: list[Seen], findings: list[Finding]) -> Table:
    by_hop = {f.hop: f.id for f in findings if f.hop is not None}
    rows = []
    for i, s in enumerate(seen, 1):
        dns, tcp, tls, http = _layers(s)
        verdict = by_hop.get(i) or ("shown" if not s.target.how else "not tested" if s.tcp is None else "ok")
        rows.append((s.target.shown, s.target.category, dns, tcp, tls, http, verdict))
    return Table("Required endpoints", ("endpoint", "category", "DNS", "TCP", "TLS", "HTTP", "verdict"), tuple(rows))


def _summary(settings: Settings, doc: AzureDocument | None, seen: list[Seen]) -> dict[str, Any]:
    listed = "not read (no Azure context)"
    if doc is not None:
        listed = f"{len(doc.items)} categories" if doc.items is not None else f"not available: {doc.error.reason}" \
            if doc.error else "not available"  # fmt: skip
    return {
        "endpoints": len(seen),
        "tested": sum(1 for s in seen if s.tcp is not None),
        "cluster_list": listed,
        "from": "a pod" if settings.in_cluster else "this host",
    }
