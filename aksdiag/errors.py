"""The few exceptions aksdiag raises on purpose; each carries a one-line message and a hint.

AksdiagError            the tool cannot go on (exit 3)
└── UsageError          the user's input is wrong (exit 2)
"""

from __future__ import annotations

from aksdiag.exitcodes import ExitCode


class AksdiagError(Exception):
    """aksdiag cannot go on; `message` says why and `hint` what to do."""

    exit_code = ExitCode.CANNOT_RUN

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(AksdiagError):
    """Bad input on the command line."""

    exit_code = ExitCode.USAGE
