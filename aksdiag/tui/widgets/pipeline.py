"""The DNS chain as a vertical pipeline of hops, each coloured by status; the selected hop's evidence beside it,
and under that the Azure resolution path (private_dns's graph) when the run has one."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import ListItem, ListView, Static

from aksdiag.model import Hop, ProbeResult
from aksdiag.tui.view import MARK, STYLE, View, hop_answer
from aksdiag.tui.widgets.graph import graph_heading, graph_text


class HopItem(ListItem):
    def __init__(self, hop: Hop, last: bool, view: View) -> None:
        super().__init__(classes=f"hop -{hop.status.value}")
        self.hop = hop
        self.last = last
        self.view = view

    def compose(self) -> ComposeResult:
        h, style = self.hop, STYLE[self.hop.status.value]
        line = Text.assemble(
            (f"{MARK[h.status.value]} ", style), (f"{h.index} {h.kind}", "bold"), (f"  {self.view.text(h.name)}", "dim")
        )
        line.truncate(32, overflow="ellipsis")
        answer = Text.assemble(("│" if not self.last else " ", "dim"), "  → ", (self.view.text(hop_answer(h)), style))
        yield Static(Text("\n").join([line, answer]))


class HopEvidence(Static):
    def show(self, hop: Hop | None, view: View) -> None:
        if hop is None:
            self.update("")
            return
        rows = [
            ("hop", f"{hop.index} {hop.kind}: {view.text(hop.name)}"),
            ("status", hop.status.value),
            ("server", view.text(hop.server) or "—"),
            ("rcode", hop.rcode or "—"),
            ("answers", view.text(", ".join(hop.answers)) or "—"),
            ("CNAME chain", view.text(" → ".join(hop.cname_chain)) or "—"),
        ]
        if view.show_timings:
            rows.append(("time", view.ms(hop.elapsed_ms) or "—"))
        text = Text()
        for label, value in rows:
            style = STYLE[hop.status.value] if label == "status" else ""
            text.append(f"{label:<12}", style="bold")
            text.append(f"{value}\n", style=style)
        if hop.detail:
            text.append("\n")
            text.append(view.text(hop.detail), style="dim")
        self.update(text)


class HopPipeline(Horizontal):
    """The hops of one probe (the DNS chain by default); a probe without hops shows why."""

    def __init__(self, probe_id: str, view: View, **kwargs: Any) -> None:  # Widget's id=, classes=…
        super().__init__(**kwargs)
        self._showing = asyncio.Lock()  # one show() at a time: two interleaved would list the hops twice
        self.probe_id = probe_id
        self.view = view
        self.result: ProbeResult | None = None

    def compose(self) -> ComposeResult:
        yield ListView(id=f"{self.id}-hops", classes="hops")
        with VerticalScroll(classes="evidence-pane"):
            yield Static("waiting for the probe…", id=f"{self.id}-note", classes="note")
            yield HopEvidence(id=f"{self.id}-evidence", classes="evidence")
            yield Static("", id=f"{self.id}-path", classes="path-graph")

    @property
    def hops(self) -> ListView:
        return self.query_one(".hops", ListView)

    @property
    def evidence(self) -> HopEvidence:
        return self.query_one(".evidence", HopEvidence)

    async def show(self, result: ProbeResult | None, running: bool = False) -> None:
        async with self._showing:
            await self._show(result, running)

    async def _show(self, result: ProbeResult | None, running: bool) -> None:
        self.result = result
        note = self.query_one(".note", Static)
        await self.hops.clear()
        self.evidence.show(None, self.view)
        if result is None:
            note.update("running…" if running else "waiting for the probe…")
            return
        title = result.title or result.probe
        if not result.hops:
            note.update(Text(f"{title}: {result.status.value}. {self.view.text(result.reason or 'no hops')}"))
            return
        note.update(Text.assemble((title, "bold"), " — select a hop to see its evidence"))
        last = len(result.hops) - 1
        await self.hops.extend(HopItem(h, i == last, self.view) for i, h in enumerate(result.hops))
        failing = next((i for i, h in enumerate(result.hops) if h.status.value in ("fail", "error")), 0)
        self.hops.index = failing
        self.evidence.show(result.hops[failing], self.view)

    def show_path(self, result: ProbeResult | None) -> None:
        """Under the evidence, the Azure resolution path (private_dns's graph), the broken edge marked."""
        path = self.query_one(".path-graph", Static)
        graph = result.graph if result is not None else None
        path.display = graph is not None and bool(graph.edges)
        if graph is not None:
            path.update(Text("\n").join([graph_heading(graph, self.view), graph_text(graph, self.view)]))

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        if isinstance(event.item, HopItem):
            self.evidence.show(event.item.hop, self.view)
