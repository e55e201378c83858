"""The TLS handshake and the certificate: the handshake finishes (API010), the chain verifies and the dates hold
by the run's clock (API004), and the certificate names the host used (API003): matched as TLS clients match names
(`certnames`), and never against what aksdiag's own verified, authenticated request saw."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from aksdiag.probes.apiserver.certnames import covers
from aksdiag.probes.apiserver.planning import ID, at

from aksdiag import codes
from aksdiag.facts import Clock, HttpResult, TlsNeed, TlsPeer
from aksdiag.model import Finding, Hop, Status

NAME_MISMATCH = "mismatch, certificate is not valid for"
"""How OpenSSL (through Python's ssl) says a verified handshake failed on the name: `Hostname mismatch, …` or
`IP address mismatch, …`."""


def tls_hop(
    index: int,
    name: str,
    address: str,
    port: int,
    tls: TlsPeer,
    need: TlsNeed,
    clock: Clock | None,
    findings: list[Finding],
    authed: Sequence[HttpResult] = (),
) -> Hop:
    """`authed`: aksdiag's authenticated requests over this connection (verified against the cluster's CA and the
    name), whose outcome settles whether the certificate names the host."""
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
    covered, seen = name_verdict(tls, name, authed)
    if not covered:
        sans = ", ".join([*tls.dns_names, *tls.ip_addresses]) or "no subject alternative name"
        evidence = _tls_evidence(tls) | ({"authenticated_request": seen} if seen else {})
        findings.append(codes.API003.at(ID, hop=index, used=name, sans=sans, evidence=evidence))
    status = Status.FAIL if problems or not covered else Status.OK
    detail = f"{tls.subject}, issued by {tls.issuer}; valid {tls.not_before[:10]} to {tls.not_after[:10]}; SANs: " + (
        ", ".join([*tls.dns_names, *tls.ip_addresses]) or "none"
    )
    if tls.trusted is None:
        detail += "; chain not checked: no CA known (pass --kubeconfig)"
    if clock is None:
        detail += "; dates not checked: the run has no clock fact"
    if seen:
        detail += f"; the name, as aksdiag's authenticated request verified it: {seen}"
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


def name_verdict(tls: TlsPeer, used: str, authed: Sequence[HttpResult]) -> tuple[bool, str]:
    """Whether the certificate names `used`, and what a verified handshake of aksdiag's own said about it (empty
    when none settled it). A request that got an HTTP answer verified the chain and the name; one refused with a
    name mismatch proves the opposite; any other outcome (no credentials, an untrusted chain, which OpenSSL reports
    before the name) leaves it to the SANs."""
    if any(a.outcome == "ok" for a in authed):
        return True, "accepted (an HTTP answer came back over the verified connection)"
    for a in authed:
        if a.outcome == "tls-error" and NAME_MISMATCH in (a.error or ""):
            return False, f"refused: {a.error}"
    return covers(tls.dns_names, tls.ip_addresses, used), ""


def _tls_evidence(tls: TlsPeer) -> dict[str, Any]:
    return {"subject": tls.subject, "issuer": tls.issuer, "dns_names": list(tls.dns_names),
            "ip_addresses": list(tls.ip_addresses), "not_before": tls.not_before, "not_after": tls.not_after,
            "verify_error": tls.verify_error}  # fmt: skip
