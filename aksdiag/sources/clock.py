"""The clock as a source: the one place a run reads the time its verdicts are judged by (certificate dates)."""

from __future__ import annotations

import datetime

from aksdiag.facts import Clock


def read() -> Clock:
    """Now, in UTC, to the second."""
    return Clock(datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat())
