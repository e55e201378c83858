"""Judging: the hops in order (name → TCP per port → TLS → /readyz and /livez, per address), then Azure's side."""

from __future__ import annotations

from aksdiag.probes.apiserver.azureside import azure_hops
from aksdiag.probes.apiserver.health import health_hop
from aksdiag.probes.apiserver.planning import (
    HEALTH_PATHS,
    addresses_to_test,
    arm_unread,
    at,
    azure_facts,
    name_to_test,
    ports_to_test,
    server_name,
    tls_need,
)
from aksdiag.probes.apiserver.reach import name_hop, tcp_hop
from aksdiag.probes.apiserver.tls import tls_hop

from aksdiag.facts import ClockNeed, HttpNeed, TcpConnect, TcpConnectNeed, TlsPeer
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement
from aksdiag.settings import Settings


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    arm = azure_facts(settings, facts)
    name = name_to_test(name, settings, arm)
    addresses = addresses_to_test(name, settings, facts) or []
    hops: list[Hop] = []
    findings: list[Finding] = []
    hops.append(name_hop(name, settings, facts, addresses, findings))
    sni = server_name(name, settings)
    ports = ports_to_test(settings, arm)
    main_port = ports[0]
    for address in addresses:
        for port in ports:
            tcp: TcpConnect = facts[TcpConnectNeed(address, port)]
            hops.append(tcp_hop(len(hops) + 1, address, port, tcp, findings))
        tcp = facts[TcpConnectNeed(address, main_port)]
        if tcp.outcome != "open":
            why = f"not judged: TCP {main_port} {tcp.outcome}"
            server = at(address, main_port)
            hops.append(Hop(len(hops) + 1, "tls", "TLS handshake", Status.SKIPPED, server=server, detail=why))
            hops.append(Hop(len(hops) + 1, "health", "/readyz, /livez", Status.SKIPPED, server=server, detail=why))
            continue
        need = tls_need(address, main_port, sni, settings)
        tls: TlsPeer = facts[need]
        # what aksdiag's own verified handshakes (its authenticated requests) saw of the name
        requests = [
            facts.get(HttpNeed(address, main_port, sni or address, p, authenticated=True)) for p in HEALTH_PATHS
        ]
        verified = [r for r in requests if r is not None]
        hops.append(
            tls_hop(
                len(hops) + 1, sni or name, address, main_port, tls, need, facts.get(ClockNeed()), findings, verified
            )
        )
        for path in HEALTH_PATHS:
            anonymous = facts[HttpNeed(address, main_port, sni or address, path)]
            authed = facts.get(HttpNeed(address, main_port, sni or address, path, authenticated=True))
            hops.append(health_hop(len(hops) + 1, address, main_port, path, anonymous, authed, findings))
    if arm is not None and arm.cluster is not None:
        hops += azure_hops(len(hops) + 1, arm, arm.cluster, settings, findings)
    return Judgement(hops=tuple(hops), findings=tuple(findings), facts={"name": name, "addresses": addresses},
                     unread=arm_unread(settings, facts))  # fmt: skip
