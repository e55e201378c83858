"""The messages worker threads post to the app: small dataclasses, one per event of a probe's life."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from textual.message import Message

from aksdiag.model import ProbeResult


class ProbeFinished(Message):
    """A probe's final result (`generation` tells a stale run, replaced by a re-run, from the current one)."""

    def __init__(self, result: ProbeResult, generation: int) -> None:
        super().__init__()
        self.result = result
        self.generation = generation


class ProbeLeftOut(Message):
    """A probe the command runs only when it can, and could not here: its tile goes (`dns` without Azure)."""

    def __init__(self, probe_id: str, generation: int) -> None:
        super().__init__()
        self.probe_id = probe_id
        self.generation = generation


class WhoisAnswered(Message):
    def __init__(self, ip: str, result: ProbeResult) -> None:
        super().__init__()
        self.ip = ip
        self.result = result


class WatchRound(Message):
    """One round of the watch (`w`), whole: every probe's result and the facts fetched, applied at once so the
    screen never flickers through "running" between rounds."""

    def __init__(self, results: list[ProbeResult], facts: dict[Hashable, Any], generation: int) -> None:
        super().__init__()
        self.results = results
        self.facts = facts
        self.generation = generation
