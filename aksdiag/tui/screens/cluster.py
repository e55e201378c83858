"""One cluster of a fleet in full (Enter on a row of the fleet view): the check TUI's tiles, one per probe, and its
findings pane with the fixes; Enter on a tile opens the probe screen. The report is final: nothing runs here."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from aksdiag.fleet.model import FleetCluster
from aksdiag.tui.screens.probe import ProbeScreen
from aksdiag.tui.view import VERDICT_STYLE, View, plural
from aksdiag.tui.widgets.findings import FindingsPane
from aksdiag.tui.widgets.tile import ProbeTile


class FinalTile(ProbeTile):
    """A probe's tile over a final result: Enter opens it; there is nothing to cancel (no `c`)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "cancel"


class FinalProbeScreen(ProbeScreen):
    """The probe screen over a final result: no `c` (cancel) in its keys."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "cancel"


class ClusterScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="cluster.back"),
    ]

    def __init__(self, cluster: FleetCluster, view: View, subscription: str = "") -> None:
        """`subscription`: how the fleet names the cluster's subscription (its display name), else its id."""
        super().__init__()  # no fixed id: Enter, Escape, Enter typed fast opens a second before the first is gone
        self.cluster = cluster
        self.view = view
        self.subscription = subscription or cluster.subscription

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(self._head(), id="cluster-head")
        with Grid(id="cluster-tiles"):
            for p in self.cluster.report.probes:
                yield FinalTile(p.probe, p.title or p.probe, self.view)
        yield FindingsPane(self.view, id="cluster-findings")
        yield Footer()

    def _head(self) -> Text:
        c = self.cluster
        headline, style = c.report.headline
        line = Text.assemble((self.view.text(c.name), "bold"), " ", (headline, VERDICT_STYLE[style]))
        line.append(f" · {plural(len(c.report.findings), 'finding')}")
        if c.confirmed:
            line.append(" · errors confirmed by GET", style="dim")
        where = f"subscription {self.subscription} · resource group {c.resource_group} · {c.location}"
        line.append(f"\n{self.view.text(where)}\n{self.view.text(c.id)}", style="dim")
        if c.lagged:
            lagged = ", ".join(c.lagged)
            line.append(f"\nResource Graph lagged ARM: {lagged} cleared by the confirming GETs", style="yellow")
        return line

    def on_mount(self) -> None:
        self.sub_title = self.view.text(self.cluster.name)
        tiles = list(self.query(ProbeTile))
        for tile, result in zip(tiles, self.cluster.report.probes, strict=True):
            tile.finish(result)
        self.run_worker(self.findings.show(self.cluster.report.findings), group="views")
        if tiles:
            tiles[0].focus()

    @property
    def findings(self) -> FindingsPane:
        return self.query_one("#cluster-findings", FindingsPane)

    @property
    def tiles(self) -> dict[str, ProbeTile]:
        return {t.probe_id: t for t in self.query(ProbeTile)}

    def on_probe_tile_open(self, message: ProbeTile.Open) -> None:
        message.stop()
        result = next((p for p in self.cluster.report.probes if p.probe == message.probe_id), None)
        title = result.title if result is not None and result.title else message.probe_id
        self.app.push_screen(FinalProbeScreen(message.probe_id, title, result, self.view))
