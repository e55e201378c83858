"""The messages worker threads post to the app: small dataclasses, one per event of a probe's life."""

from __future__ import annotations

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
