"""Text renderer (rich): the chain as numbered hops with status and timing, then each finding with its fix.

Colours only on a terminal; piped output is plain text at a fixed width, so it pastes cleanly.
"""

from __future__ import annotations

import textwrap
from typing import TextIO

from rich.console import Console
from rich.text import Text

from aksdiag.model import Finding, Gauge, Graph, ProbeResult, Report, Table
from aksdiag.render.graph import edge_lines
from aksdiag.render.style import MARK, SEVERITY_STYLE, STYLE, VERDICT_STYLE


def console_for(out: TextIO) -> Console:
    terminal = out.isatty()
    return Console(
        file=out,
        width=None if terminal else 110,
        no_color=not terminal,
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )


def render(report: Report, out: TextIO) -> None:
    console = console_for(out)
    findings = report.findings
    shown, style = report.headline
    broke = f" · could not run: {report.could_not_run}" if report.could_not_run else ""
    _line(console, Text.assemble((f"aksdiag {report.command} ", "bold"), (report.target, "bold cyan")))
    _line(
        console,
        Text.assemble(
            "verdict ",
            (shown, VERDICT_STYLE[style]),
            (f"{broke}", "bold red"),
            (
                f" · {len(findings)} finding{'s' if len(findings) != 1 else ''} · {report.elapsed_ms / 1000:.2f} s",
                "dim",
            ),
        ),
    )
    for probe in report.probes:
        console.print()
        _probe(console, probe)
    console.print()
    _findings(console, findings)
    broken = [p.title or p.probe for p in report.probes if p.status.value == "error"]
    if broken:
        _line(console, Text(f"aksdiag could not finish: {', '.join(broken)} (see above).", style="magenta"))


def _probe(console: Console, probe: ProbeResult) -> None:
    mark, style = MARK[probe.status.value], STYLE[probe.status.value]
    _line(
        console,
        Text.assemble((f"{mark} ", style), (probe.title or probe.probe, "bold"), (f"  {probe.status.value}", style)),
    )
    if probe.reason:
        _indented(console, probe.reason, 2, "dim")
    for hop in probe.hops:
        mark, style = MARK[hop.status.value], STYLE[hop.status.value]
        answer = ", ".join(hop.answers) if hop.answers else (hop.rcode or hop.status.value)
        if hop.cname_chain:
            answer = " → ".join([*hop.cname_chain, answer])
        where = Text.assemble(
            f"{hop.index:>3} ", (mark, style), f" {hop.kind:<12} ", (hop.name, "bold"),
            (f"  {hop.server}" if hop.server else "", "cyan"),
        )  # fmt: skip
        ms = f"  {hop.elapsed_ms:.1f} ms" if hop.elapsed_ms is not None else ""
        result = Text.assemble("→ ", (answer, style), (ms, "dim"))
        if where.cell_len + 2 + result.cell_len <= console.width:
            _line(console, Text.assemble(where, "  ", result))
        else:
            _line(console, where)
            _line(console, Text.assemble(" " * 20, result))
        if hop.detail:
            _indented(console, hop.detail, 20, "dim")
    if probe.graph is not None and probe.graph.edges:
        _graph(console, probe.graph)
    for gauge in probe.gauges:
        _gauge(console, gauge)
    for table in probe.tables:
        _table(console, table)


def _graph(console: Console, graph: Graph) -> None:
    """The path, one edge a line in query order; the broken edge marked ✘ in red."""
    console.print()
    _line(console, Text.assemble("  ", (graph.title or "path", "bold")))
    for edge, line in edge_lines(graph):
        status = edge.status.value
        shown = STYLE[status] if status != "ok" else ""
        _line(console, Text.assemble("    ", (MARK[status], STYLE[status]), " ", (line, shown)))


def _gauge(console: Console, gauge: Gauge) -> None:
    """A capacity bar: `title  [██████░░░░]  62%  40,000 / 64,000 ports`, red when full."""
    value, maximum, share = gauge.value, gauge.maximum, gauge.share
    cells = 30
    filled = min(cells, round(share * cells))
    style = "red" if share > 1 else "yellow" if share > 0.8 else "green"
    _line(console, Text.assemble("  ", (gauge.title, "bold")))
    _line(
        console,
        Text.assemble(
            "  [", ("█" * filled, style), ("░" * (cells - filled), "dim"), "]",
            (f" {share:.0%}", style), f"  {value:,.0f} / {maximum:,.0f} {gauge.unit}",
        ),
    )  # fmt: skip
    if gauge.label:
        _indented(console, gauge.label, 4, "dim")


def _table(console: Console, table: Table) -> None:
    """A probe's table, as plain aligned columns that paste cleanly; wide ones wrap."""
    from rich import box
    from rich.table import Table as Grid

    rows = table.rows
    console.print()
    _line(console, Text.assemble("  ", (f"{table.title} ({len(rows)})", "bold")))
    if not rows:
        _indented(console, "none", 4, "dim")
        return
    grid = Grid(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), header_style="dim")
    for column in table.columns:
        grid.add_column(str(column), overflow="fold")
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    with console.capture() as capture:
        console.print(grid)
    for line in capture.get().splitlines():
        _line(console, Text.from_ansi("  " + line.rstrip()))


def _findings(console: Console, findings: tuple[Finding, ...]) -> None:
    if not findings:
        console.print(Text("No fault found on this path.", style="green"))
        return
    console.print(Text(f"Findings ({len(findings)})", style="bold"))
    for f in findings:
        hop = f"  (hop {f.hop})" if f.hop else ""
        severity = (f"{f.severity.value:<7} ", SEVERITY_STYLE[f.severity.value])
        _line(console, Text.assemble((f"{f.id} ", "bold"), severity, f.title, (hop, "dim")))
        _indented(console, f.detail, 4)
        _indented(console, f"Fix: {f.remediation}", 4)
        if f.command:
            _indented(console, f"Run: {f.command}", 4, "cyan")
        if f.docs:
            _indented(console, f"Docs: {f.docs}", 4, "dim")


def _indented(console: Console, text: str, indent: int, style: str = "") -> None:
    """Wrapped with a hanging indent and no trailing blanks, so it pastes cleanly into a ticket."""
    width = max(40, console.width - indent)
    for line in textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]:
        _line(console, Text(" " * indent + line, style=style))


def _line(console: Console, text: Text) -> None:
    """One physical line, never re-wrapped by rich (a long name stays whole rather than split mid-word)."""
    console.print(text, overflow="ignore", crop=False, no_wrap=True)
