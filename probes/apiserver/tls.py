"""The TLS handshake and the certificate: the handshake finishes (API010), the chain verifies and the dates hold
by the run's clock (API004), and the certificate names the host used (API003)."""

from __future__ import annotations

import datetime
import fnmatch
import ipaddress
from typing import Any

from aksdiag.probes.apiserver.planning import ID, at

from aksdiag import codes
from aksdiag.facts import Clock, TlsNeed, TlsPeer
from aksdiag.inputs import is_ip
from aksdiag.model import Finding, Hop, Status


def tls_hop(
    index: int,
    name: str,
    address: str,
    port: int,
    tls: TlsPeer,
    need: TlsNeed,
    clock: Clock | None,
    findings: list[Finding],
) -> Hop:
    if tls.outcome in ("timeout", "error"):
        why = f" ({tls.error})" if tls.error else ""
        findings.append(codes.API010.at(ID, hop=index, address=address, port=port, outcome=tls.outcome, why=why))
    if tls.outcome != "ok":
        return Hop(index, "tls", "TLS handshake", Status.FAIL if tls.outcome != "refused" else Status.SKIPPED,
                   server=at(address, port), rcode=tls.outcome, detail=tls.error or "")  # fmt: skip
    problems = []
    if tls.trusted is False:
        store = "the kubeconfig's CA" if need.ca_pem else "the system trust store"
        problems.append(f"the chain does not verify against {store}: {tls.verify_error}")
    problems += _validity_problems(tls, clock)
    if problems:
        findings.append(codes.API004.at(ID, hop=index, problem="; ".join(problems), evidence=_tls_evidence(tls)))
    covered = _covers(tls, name)
    if not covered:
        sans = ", ".join([*tls.dns_names, *tls.ip_addresses]) or "no subject alternative name"
        findings.append(codes.API003.at(ID, hop=index, used=name, sans=sans, evidence=_tls_evidence(tls)))
    status = Status.FAIL if problems or not covered else Status.OK
    detail = f"{tls.subject}, issued by {tls.issuer}; valid {tls.not_before[:10]} to {tls.not_after[:10]}; SANs: " + (
        ", ".join([*tls.dns_names, *tls.ip_addresses]) or "none"
    )
    if tls.trusted is None:
        detail += "; chain not checked: no CA known (pass --kubeconfig)"
    if clock is None:
        detail += "; dates not checked: the run has no clock fact"
    return Hop(index, "tls", "TLS handshake", status, server=at(address, port),
               answers=tls.dns_names[:3], elapsed_ms=tls.elapsed_ms, detail=detail)  # fmt: skip


def _validity_problems(tls: TlsPeer, clock: Clock | None) -> list[str]:
    """The certificate's dates against the run's clock (a fact, so a snapshot judged later judges the same)."""
    if clock is None:
        return []
    now = datetime.datetime.fromisoformat(clock.utc)
    problems = []
    if tls.not_after and datetime.datetime.fromisoformat(tls.not_after) < now:
        problems.append(f"it expired on {tls.not_after}")
    if tls.not_before and datetime.datetime.fromisoformat(tls.not_before) > now:
        problems.append(f"it is not valid before {tls.not_before}")
    return problems


def _covers(tls: TlsPeer, used: str) -> bool:
    """The certificate names `used`: an IP among its IP SANs, or a DNS name (a wildcard covers one label)."""
    if is_ip(used):
        return str(ipaddress.ip_address(used)) in {str(ipaddress.ip_address(i)) for i in tls.ip_addresses}
    used = used.lower().rstrip(".")
    for pattern in tls.dns_names:
        pattern = pattern.lower().rstrip(".")
        if pattern == used:
            return True
        if pattern.startswith("*.") and "." in used and fnmatch.fnmatchcase(used.split(".", 1)[1], pattern[2:]):
            return True
    return False


def _tls_evidence(tls: TlsPeer) -> dict[str, Any]:
    return {"subject": tls.subject, "issuer": tls.issuer, "dns_names": list(tls.dns_names),
            "ip_addresses": list(tls.ip_addresses), "not_before": tls.not_before, "not_after": tls.not_after,
            "verify_error": tls.verify_error}  # fmt: skip
