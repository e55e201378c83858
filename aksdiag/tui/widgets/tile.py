"""One tile of the overview: a probe's status, timing and finding count, with progress while it runs."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ProgressBar, Static

from aksdiag.model import ProbeResult
from aksdiag.tui.view import MARK, STYLE, View, plural, summary

STATES = ("waiting", "running", "ok", "warn", "fail", "error", "skipped")


class ProbeTile(Vertical, can_focus=True):
    """`state` is waiting, running, or the final status of `result`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Details", id="tile.open"),
        Binding("c", "cancel", "Cancel probe", id="tile.cancel"),
    ]

    class Open(Message):
        def __init__(self, probe_id: str) -> None:
            super().__init__()
            self.probe_id = probe_id

    class Cancel(Message):
        def __init__(self, probe_id: str) -> None:
            super().__init__()
            self.probe_id = probe_id

    def __init__(self, probe_id: str, title: str, view: View) -> None:
        super().__init__(id=f"tile-{probe_id}", classes="tile -waiting")
        self.probe_id = probe_id
        self.title = title
        self.view = view
        self.state = "waiting"
        self.result: ProbeResult | None = None
        self._started = 0.0
        self.border_title = title

    def compose(self) -> ComposeResult:
        yield Static(self._status_line(), classes="tile-status")
        yield Static("", classes="tile-summary")
        yield ProgressBar(total=None, show_eta=False, show_percentage=False, classes="tile-progress")

    def on_mount(self) -> None:
        self.set_interval(0.25, self._tick)

    def _tick(self) -> None:
        if self.state == "running":
            self.query_one(".tile-status", Static).update(self._status_line())

    @property
    def final(self) -> bool:
        return self.state not in ("waiting", "running")

    def start(self) -> None:
        self._set_state("running")
        self.result = None
        self._started = time.perf_counter()
        self.query_one(".tile-summary", Static).update(Text("c cancels", style="dim") if self.has_focus else "")
        self._refresh()

    def finish(self, result: ProbeResult) -> None:
        self.result = result
        self._set_state(result.status.value)
        self.query_one(".tile-summary", Static).update(Text(summary(result, self.view), overflow="ellipsis"))
        self._refresh()

    def _set_state(self, state: str) -> None:
        self.remove_class(*(f"-{s}" for s in STATES))
        self.add_class(f"-{state}")
        self.state = state

    def _refresh(self) -> None:
        self.query_one(".tile-status", Static).update(self._status_line())

    def _status_line(self) -> Text:
        state = self.state
        parts: list[tuple[str, str] | str] = [(f"{MARK[state]} {state}", STYLE[state])]
        if state == "running":
            parts.append((self.view.ms((time.perf_counter() - self._started) * 1000, " · "), "dim"))
        elif self.result is not None:
            if self.result.findings:
                parts.append(f" · {plural(len(self.result.findings), 'finding')}")
            if state != "skipped" or self.result.reason == "cancelled":
                parts.append((self.view.ms(self.result.elapsed_ms, " · "), "dim"))
        return Text.assemble(*parts)

    def matches(self, needle: str) -> bool:
        haystack = [self.probe_id, self.title, self.state]
        if self.result is not None:
            haystack += [f.id for f in self.result.findings] + [self.result.reason or ""]
        return any(needle in h.lower() for h in haystack)

    def action_open(self) -> None:
        self.post_message(self.Open(self.probe_id))

    def action_cancel(self) -> None:
        self.post_message(self.Cancel(self.probe_id))
