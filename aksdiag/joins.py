"""Findings that point at other probes' findings, joined once every result is in. Pure: results in, results out.

A probe judges only its own facts, yet some verdicts are about another probe's: "the nodes failed with CSE exit
code 52" is explained by what the DNS chain found, and an AKS detector's verdict agrees or disagrees with what
aksdiag found itself. Such a finding carries in its evidence

    "relates_to": {"probes": ["dns_chain", "private_dns"], "as": "cause" | "agreement", "codes": ["DNS"]}

(`codes`, optional, keeps only findings whose id starts with one of the prefixes). `relate` looks those probes'
error and warning findings up and says what it found in the finding's detail, with the list in
`evidence["related"]` (and for an agreement `evidence["agrees"]`):

- cause: "Here is why: DNS001 (dns_chain): …" — or that those probes found nothing that explains it, or did not run;
- agreement: a finding of warning or error severity claims a problem, an info one claims there is none; aksdiag
  agrees when its own findings say the same, and the sentence says which way it disagrees when they do not.

Applied where every face builds its report (runner.report_of), so the CLI, the TUI, JSON and the pod agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aksdiag.model import Finding, ProbeResult, Severity, Status

MAX_NAMED = 3
"""Related findings named in the sentence (all of them are in the evidence)."""


def relate(results: Sequence[ProbeResult]) -> tuple[ProbeResult, ...]:
    by_probe = {r.probe: r for r in results}
    out = []
    for result in results:
        if not any(isinstance(f.evidence.get("relates_to"), dict) for f in result.findings):
            out.append(result)
            continue
        findings = tuple(_joined(f, by_probe) for f in result.findings)
        out.append(replace(result, findings=findings))
    return tuple(out)


def _joined(finding: Finding, by_probe: dict[str, ProbeResult]) -> Finding:
    spec = finding.evidence.get("relates_to")
    if not isinstance(spec, dict) or "related" in finding.evidence:
        return finding
    probes = [str(p) for p in spec.get("probes") or []]
    prefixes = tuple(str(c) for c in spec.get("codes") or ())
    ran = [p for p in probes if p in by_probe and by_probe[p].status is not Status.SKIPPED]
    related = [
        f
        for p in ran
        for f in by_probe[p].findings
        if f.severity is not Severity.INFO and f is not finding and (not prefixes or f.id.startswith(prefixes))
    ]
    listed = [{"id": f.id, "probe": f.probe, "severity": f.severity.value, "title": f.title} for f in related]
    evidence: dict[str, Any] = {**finding.evidence, "related": listed}
    if spec.get("as") == "agreement":
        claims_problem = finding.severity is not Severity.INFO
        agrees = bool(related) == claims_problem
        evidence["agrees"] = agrees if ran else None  # nothing to compare with: neither
        sentence = _agreement(claims_problem, agrees, related, ran, probes)
    else:
        sentence = _cause(related, ran, probes)
    detail = f"{finding.detail.rstrip()} {sentence}".strip()
    return replace(finding, detail=detail, evidence=evidence)


def _named(related: list[Finding]) -> str:
    """The related findings by code, most severe first as they came: `EG001 (egress) ×11: title; …`."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in related:
        groups.setdefault((f.id, f.probe), []).append(f)
    names = [
        f"{code} ({probe}){f' ×{len(found)}' if len(found) > 1 else ''}: {found[0].title.rstrip('.')}"
        for (code, probe), found in list(groups.items())[:MAX_NAMED]
    ]
    more = len(groups) - MAX_NAMED
    return "; ".join(names) + (f"; and {more} more code(s)" if more > 0 else "")


def _not_run(ran: list[str], probes: list[str]) -> str:
    missing = [p for p in probes if p not in ran]
    return f" ({', '.join(missing)} did not run here)" if missing else ""


def _cause(related: list[Finding], ran: list[str], probes: list[str]) -> str:
    if related:
        return f"Here is why: {_named(related)}."
    if not ran:
        return f"The probes that would explain it ({', '.join(probes)}) did not run here."
    return f"{', '.join(ran)} found nothing here that explains it{_not_run(ran, probes)}."


def _agreement(claims_problem: bool, agrees: bool, related: list[Finding], ran: list[str], probes: list[str]) -> str:
    if not ran:
        return f"aksdiag could not compare: {', '.join(probes)} did not run here."
    if claims_problem and agrees:
        return f"aksdiag agrees: {_named(related)}."
    if claims_problem:
        return f"aksdiag disagrees: {', '.join(ran)} found nothing wrong here{_not_run(ran, probes)}."
    if agrees:
        return f"aksdiag agrees: {', '.join(ran)} found nothing wrong either."
    return f"aksdiag disagrees: it found {_named(related)}."
