"""A probe's Graph in the TUI: one line per edge in query order, the broken edge marked and red (the DNS tab shows
the Azure resolution path under the chain's evidence; a probe's detail view shows any probe's graph)."""

from __future__ import annotations

from rich.text import Text

from aksdiag.model import Graph
from aksdiag.render.graph import edge_lines
from aksdiag.tui.view import MARK, STYLE, View


def graph_text(graph: Graph, view: View) -> Text:
    """The edges as `✔ source ─label→ target`; `✘` and red for the failed edge a finding names."""
    lines = []
    for edge, line in edge_lines(graph):
        status = edge.status.value
        style = STYLE[status] if status != "ok" else ""
        lines.append(Text.assemble((f"{MARK[status]} ", STYLE[status]), (view.text(line), style)))
    return Text("\n").join(lines)


def graph_heading(graph: Graph, view: View) -> Text:
    broken = len(graph.failed)
    tail = f" · {broken} broken" if broken else ""
    return Text.assemble((view.text(graph.title or "Path"), "bold underline"), (tail, "bold red"))
