"""Process exit codes: the contract pipelines rely on (DESIGN.md)."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aksdiag.model import Report


class ExitCode(IntEnum):
    OK = 0
    """No error-level finding (warnings and info may exist)."""
    FINDINGS = 1
    """At least one error-level finding: something on the path is broken."""
    USAGE = 2
    """The command line was wrong: bad FQDN, bad IP, bad flag."""
    CANNOT_RUN = 3
    """aksdiag itself could not run: no credentials, kubeconfig unreadable, lab cannot start."""


def exit_code_for(report: Report) -> ExitCode:
    """The one exit-code policy every face uses (CLI, TUI, `aksdiag pod`).

    An error finding is FINDINGS: the report is there and something is broken. Else a probe that broke inside
    aksdiag is CANNOT_RUN: its silence is not a clean bill of health. Else OK (warnings and skips included)."""
    from aksdiag.model import Status, Verdict

    if report.verdict is Verdict.BROKEN:
        return ExitCode.FINDINGS
    if any(p.status is Status.ERROR for p in report.probes):
        return ExitCode.CANNOT_RUN
    return ExitCode.OK
