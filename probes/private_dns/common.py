"""What the private_dns modules share: the probe's id, and findings made once."""

from __future__ import annotations

from aksdiag.model import Finding

ID = "private_dns"


def unique(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        if f.detail not in seen:
            seen.add(f.detail)
            out.append(f)
    return out
