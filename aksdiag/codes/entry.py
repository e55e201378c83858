"""One catalogue entry, `Code`: the templates a probe fills to make a finding (`CODE.at(...)`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aksdiag.model import Finding, Severity


@dataclass(frozen=True)
class Code:
    """One catalogue entry. `detail`, `remediation` and `command` are templates with named fields."""

    id: str
    severity: Severity
    title: str
    summary: str
    fix: str
    detail: str
    remediation: str
    docs: str
    command: str | None = None

    def at(
        self, probe: str, *, hop: int | None = None, evidence: dict[str, Any] | None = None, **fields: Any
    ) -> Finding:
        """A finding of this code, its templates filled from `fields` (a missing field is a bug: KeyError)."""
        return Finding(
            id=self.id,
            severity=self.severity,
            title=self.title,
            detail=self.detail.format_map(fields),
            remediation=self.remediation.format_map(fields),
            command=self.command.format_map(fields) if self.command else None,
            probe=probe,
            hop=hop,
            evidence=dict(evidence or {}),
            docs=self.docs,
        )
