"""Reaching the API server: its name resolves (API009) and its ports accept TCP (API001 for 443, API002 for the
VNet-integrated API server's 4443)."""

from __future__ import annotations

from aksdiag.probes.apiserver.planning import ID, at, stub_lookup

from aksdiag import codes
from aksdiag.facts import DnsAnswer, Outcome, ResolverConfigNeed, TcpConnect
from aksdiag.inputs import is_ip
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts
from aksdiag.settings import Settings


def name_hop(name: str, settings: Settings, facts: Facts, addresses: list[str], findings: list[Finding]) -> Hop:
    """The first hop: where the addresses came from, or API009 when the name gave none."""
    if settings.addresses or is_ip(name):
        how = "given with --address" if settings.addresses else "the server is an IP address"
        return Hop(1, "name", name, Status.OK, answers=tuple(addresses), detail=how)
    if addresses:
        return Hop(1, "name", name, Status.OK, answers=tuple(addresses), detail="resolved by the host resolver")
    config = facts.get(ResolverConfigNeed(settings.resolv_conf))
    why = config.error if config and config.error else "no nameserver gave an address"
    answers = stub_lookup(name, config, facts)[1] if config else []
    outcomes = [_said(a) for a in answers]
    if outcomes:
        why = f"the resolver answered {', '.join(dict.fromkeys(outcomes))}"
    findings.append(codes.API009.at(ID, hop=1, name=name, why=why))
    return Hop(1, "name", name, Status.FAIL, detail=why)


def _said(answer: DnsAnswer) -> str:
    """An outcome as the resolver hop says it: with the reason for those whose label alone does not tell."""
    telling = answer.outcome in (Outcome.RCODE, Outcome.CNAME_LOOP, Outcome.CNAME_TOO_LONG) and answer.error
    return f"{answer.outcome.label} ({answer.error})" if telling else answer.outcome.label


def tcp_hop(index: int, address: str, port: int, tcp: TcpConnect, findings: list[Finding]) -> Hop:
    status = Status.OK if tcp.outcome == "open" else Status.FAIL
    if status is Status.FAIL:
        code = codes.API002 if port == 4443 else codes.API001
        why = f" ({tcp.error})" if tcp.error else ""
        findings.append(code.at(ID, hop=index, address=address, port=port, outcome=tcp.outcome, why=why))
    return Hop(index, "tcp", f"TCP {port}", status, server=at(address, port), rcode=tcp.outcome,
               elapsed_ms=tcp.elapsed_ms, detail=tcp.error or "")  # fmt: skip
