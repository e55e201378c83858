"""Process exit codes: the contract pipelines rely on (DESIGN.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """No error-level finding (warnings and info may exist)."""
    FINDINGS = 1
    """At least one error-level finding: something on the path is broken."""
    USAGE = 2
    """The command line was wrong: bad FQDN, bad IP, bad flag."""
    CANNOT_RUN = 3
    """aksdiag itself could not run: no credentials, kubeconfig unreadable, lab cannot start."""
