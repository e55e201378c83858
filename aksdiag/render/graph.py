"""A probe's Graph drawn for people: a Mermaid flowchart (markdown, tickets render it) and one line per edge
(the text renderer and the TUI). Shared so every face draws the same path the same way."""

from __future__ import annotations

import re

from aksdiag.model import Graph, GraphEdge, Status

SHAPE = {
    "vnet": ('["', '"]'),
    "azure-dns": ('(["', '"])'),
    "rule": ('{{"', '"}}'),
    "zone": ('[("', '")]'),
    "record": ('[/"', '"/]'),
    "endpoint": ('(("', '"))'),
}
"""Mermaid node shapes by kind (rectangle for the rest: DNS servers, firewalls, inbound endpoints)."""

_ENTITY = {"#": "#35;", '"': "#quot;", "|": "#124;", "<": "#lt;", ">": "#gt;", "`": "#96;", "[": "#91;", "]": "#93;"}
_UNSAFE = re.compile("[" + re.escape("".join(_ENTITY)) + "]")
FAILED = "stroke:#d32f2f,stroke-width:3px,color:#d32f2f"
WARNED = "stroke:#f9a825,stroke-width:3px"


def mermaid_label(text: str) -> str:
    """Text safe inside a quoted Mermaid label: the characters Mermaid or a code fence would read as syntax
    become entity codes (`#quot;`), whitespace one space."""
    return _UNSAFE.sub(lambda m: _ENTITY[m.group()], " ".join(text.split()))


def mermaid(graph: Graph) -> list[str]:
    """`flowchart LR` lines: nodes as n1, n2… (ids that Mermaid always parses), edges in query order; a failed
    edge dotted and red (linkStyle), a failed node red (classDef fail), a warned one yellow."""
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes, 1)}
    lines = ["flowchart LR"]
    for n in graph.nodes:
        left, right = SHAPE.get(n.kind, ('["', '"]'))
        lines.append(f"    {ids[n.id]}{left}{mermaid_label(n.label)}{right}")
    for e in graph.edges:
        if e.source not in ids or e.target not in ids:
            continue  # an edge to a node the graph does not hold: nothing to draw it to
        arrow = "-.->" if e.status in (Status.FAIL, Status.SKIPPED) else "-->"
        text = f'|"{mermaid_label(e.label)}"|' if e.label else ""
        lines.append(f"    {ids[e.source]} {arrow}{text} {ids[e.target]}")
    drawn = [e for e in graph.edges if e.source in ids and e.target in ids]
    for style, status in ((FAILED, Status.FAIL), (WARNED, Status.WARN)):
        links = [str(i) for i, e in enumerate(drawn) if e.status is status]
        if links:
            lines.append(f"    linkStyle {','.join(links)} {style}")
    for cls, style, status in (("fail", FAILED, Status.FAIL), ("warn", WARNED, Status.WARN)):
        marked = [ids[n.id] for n in graph.nodes if n.status is status]
        if marked:
            lines.append(f"    classDef {cls} {style}")
            lines.append(f"    class {','.join(marked)} {cls}")
    return lines


def edge_lines(graph: Graph) -> list[tuple[GraphEdge, str]]:
    """Each edge as `source ─label→ target`, in query order, with the edge it draws (for its status)."""
    labels = {n.id: n.label for n in graph.nodes}
    out = []
    for e in graph.edges:
        via = f" ─{e.label}→ " if e.label else " → "
        out.append((e, f"{labels.get(e.source, e.source)}{via}{labels.get(e.target, e.target)}"))
    return out
