"""Everything one probe reported, rendered generically: status and reason, its hops as a table, its path graph, the
tables and gauges it reports (ProbeResult.tables / .gauges: the load balancer's rules and SNAT capacity), and its
findings. A probe that appears later shows up here without a change to the TUI."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Label, ProgressBar, Static

from aksdiag.model import Gauge, ProbeResult
from aksdiag.tui.view import MARK, STYLE, View, finding_line, hop_answer, plural
from aksdiag.tui.widgets.graph import graph_heading, graph_text


class GaugeBar(Static):
    """A labelled bar: value of maximum, in unit."""

    def __init__(self, gauge: Gauge, view: View, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gauge = gauge
        self.view = view

    def compose(self) -> ComposeResult:
        g = self.gauge
        value, maximum, unit = g.value, g.maximum, g.unit
        yield Label(Text.assemble((self.view.text(g.title), "bold"), f"  {value:g} / {maximum:g} {unit}"))
        bar = ProgressBar(total=max(float(maximum), 1e-9), show_eta=False, classes="gauge-bar")
        bar.progress = min(float(value), float(maximum))
        yield bar
        if g.label:
            yield Label(Text(self.view.text(g.label), style="dim"))


class ProbeDetail(VerticalScroll):
    """One probe's result; assign `result` to show another (the content is recomposed)."""

    result: reactive[ProbeResult | None] = reactive(None, recompose=True)

    def __init__(self, view: View, empty: str = "waiting for the probe…", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view = view
        self.empty = empty

    def compose(self) -> ComposeResult:
        r = self.result
        if r is None:
            yield Static(self.empty, classes="note")
            return
        status = r.status.value
        head = Text.assemble(
            (f"{MARK[status]} ", STYLE[status]),
            (r.title or r.probe, "bold"),
            (f"  {status}", STYLE[status]),
            (self.view.ms(r.elapsed_ms, " · "), "dim"),
        )
        yield Static(head, classes="detail-head")
        if r.reason:
            yield Static(Text(self.view.text(r.reason), style="dim"), classes="detail-reason")
        for gauge in r.gauges:
            yield GaugeBar(gauge, self.view, classes="gauge")
        if r.hops:
            yield Label(Text(plural(len(r.hops), "check"), style="bold underline"), classes="section")
            table: DataTable[Text | str] = DataTable(classes="hop-table", cursor_type="row", zebra_stripes=True)
            columns = ["#", "status", "kind", "name", "server", "result"] + (["time"] if self.view.show_timings else [])
            table.add_columns(*columns)
            for h in r.hops:
                row: list[Text | str] = [
                    str(h.index),
                    Text(f"{MARK[h.status.value]} {h.status.value}", style=STYLE[h.status.value]),
                    h.kind,
                    self.view.text(h.name),
                    self.view.text(h.server),
                    self.view.text(hop_answer(h)),
                ]
                if self.view.show_timings:
                    row.append(self.view.ms(h.elapsed_ms))
                table.add_row(*row)
            yield table
            details = [h for h in r.hops if h.detail]
            if details:
                yield Static(
                    Text("\n").join(Text(f"{h.index}: {self.view.text(h.detail)}", style="dim") for h in details),
                    classes="hop-details",
                )
        if r.graph is not None and r.graph.edges:
            yield Label(graph_heading(r.graph, self.view), classes="section")
            yield Static(graph_text(r.graph, self.view), classes="path-graph")
        for spec in r.tables:
            yield Label(Text(self.view.text(spec.title), style="bold underline"), classes="section")
            facts_table: DataTable[str] = DataTable(classes="facts-table", cursor_type="row", zebra_stripes=True)
            facts_table.add_columns(*(self.view.text(c) for c in spec.columns))
            for row_values in spec.rows:
                facts_table.add_row(*(self.view.text(v) for v in row_values))
            yield facts_table
        if r.findings:
            yield Label(Text(f"Findings ({len(r.findings)})", style="bold underline"), classes="section")
            yield Static(Text("\n").join(finding_line(f, self.view) for f in r.findings), classes="detail-findings")
