"""The keys, on `?`."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("1 … 5", "overview, DNS chain, findings, API server, whois"),
    ("tab / shift+tab", "next / previous pane; ↑ ↓ move in a list"),
    ("enter", "on a tile: the probe in full (tables, gauges, checks)"),
    ("c", "on a tile or a probe: cancel it while it runs"),
    ("r", "re-run every probe"),
    ("w", "watch: re-run every few seconds; the DNS tab says what changed"),
    ("e", "export the report: JSON or Markdown, to a file"),
    ("/", "filter tiles and findings (escape clears)"),
    ("y", "on a finding: copy its fix command"),
    ("t", "light / dark"),
    ("escape", "back"),
    ("?", "this help"),
    ("q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "app.pop_screen", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        width = max(len(key) for key, _ in KEYS) + 2
        keys = Text("\n").join(Text.assemble((key.ljust(width), "bold cyan"), what) for key, what in KEYS)
        with VerticalScroll(id="help-box"):
            yield Static(Text("aksdiag — keys", style="bold"))
            yield Static(keys, id="help-keys")
            yield Static(Text("escape closes", style="dim"))
