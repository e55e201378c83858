"""One probe in full (Enter on a tile): its checks, the tables and gauges it reports (the load balancer's rules and
SNAT capacity), its findings. Updated live when the probe finishes or is re-run."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from aksdiag.model import ProbeResult
from aksdiag.tui.view import View
from aksdiag.tui.widgets.facts import ProbeDetail


class ProbeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="probe.back"),
        Binding("c", "cancel", "Cancel probe", id="probe.cancel"),
    ]

    def __init__(self, probe_id: str, title: str, result: ProbeResult | None, view: View) -> None:
        super().__init__()  # no fixed id: Enter, Escape, Enter typed fast opens a second one before the first is gone
        self.probe_id = probe_id
        self.probe_title = title
        self.first = result
        self.view = view

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield ProbeDetail(self.view, empty=f"{self.probe_title}: running…", id="probe-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.probe_title
        self.update(self.first)

    @property
    def detail(self) -> ProbeDetail:
        return self.query_one("#probe-detail", ProbeDetail)

    def update(self, result: ProbeResult | None) -> None:
        """Show `result`; a screen already popped again (Enter then Escape, typed faster than it mounts) has no
        detail left to show it in, and that is no error."""
        for detail in self.query("#probe-detail").results(ProbeDetail):
            detail.result = result

    def action_cancel(self) -> None:
        self.app.cancel_probe(self.probe_id)  # type: ignore[attr-defined]  # self.app is AksdiagApp; textual types it App
