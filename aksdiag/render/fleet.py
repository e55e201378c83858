"""The fleet report for people and pipelines: text (rich), markdown (for a ticket) and JSON (`aksdiag.fleet/v1`).

Text and markdown say the same things in the same order: the verdict and scope; the cause groups ("DNS011 error on
14 of 212 clusters: …", the first clusters named, "+N more"); the clusters that are not healthy as a table (the
healthy ones counted, not listed); the fleet's own findings (AZ001); what Resource Graph could not tell (notes); the
queries sent and the requests by kind. Text is plain at 100 columns when piped, coloured only on a terminal.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from aksdiag.fleet.model import CauseGroup, FleetCluster, FleetReport
from aksdiag.model import Finding, Severity, Verdict
from aksdiag.render.style import SEVERITY_STYLE, VERDICT_STYLE

FORMATS = ("text", "json", "markdown")


def as_json(doc: dict[str, Any]) -> str:
    """The fleet's JSON, in one write: indented, but each cluster's report on one line (`jq -c '.clusters[]'` gives
    them back one by one). An indented encode of 1,000 reports runs in Python's pure encoder (about 4 s); a compact
    one per cluster runs in C (a tenth of that)."""
    fields = []
    for key, value in doc.items():
        if key == "clusters" and value:
            text = "[\n    " + ",\n    ".join(json.dumps(c, ensure_ascii=False) for c in value) + "\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        fields.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


WIDTH = 100
"""Piped text is this wide: it pastes into a ticket or a chat without re-wrapping."""
NAMED = 5
"""A cause group names its first clusters (text); markdown names up to MD_NAMED."""
MD_NAMED = 25
ROWS = 200
"""At most this many not-healthy clusters in the table (the JSON has every one)."""
_MARK = {"error": ("✘", "bold red"), "warning": ("!", "bold yellow"), "info": ("i", "cyan")}


def render(report: FleetReport, output: str, out: TextIO) -> None:
    """`output`: one of FORMATS (anything else is text)."""
    if output == "json":
        out.write(as_json(report.to_dict()))
    elif output == "markdown":
        markdown(report, out)
    else:
        text(report, out)


# ---------------------------------------------------------------- what both faces say


def headline(report: FleetReport) -> tuple[str, str]:
    """(the verdict shown, its VERDICT_STYLE key): INCOMPLETE for an ok fleet where something could not look."""
    verdict = report.verdict
    incomplete = any(c.could_not_look for c in report.clusters) or any(q.error for q in report.queries)
    if verdict is Verdict.OK and incomplete:
        return "INCOMPLETE", Verdict.DEGRADED.value
    return verdict.value.upper(), verdict.value


def counts(report: FleetReport) -> str:
    """`30 clusters: 5 broken, 2 degraded, 1 incomplete, 22 healthy`."""
    tally = {"broken": 0, "degraded": 0, "incomplete": 0, "healthy": 0}
    for c in report.clusters:
        tally[_state(c)] += 1
    n = len(report.clusters)
    shown = ", ".join(f"{v} {k}" for k, v in tally.items() if v)
    return f"{n} cluster{'s' if n != 1 else ''}" + (f": {shown}" if shown else "")


def unhealthy(report: FleetReport) -> list[FleetCluster]:
    """The clusters a table lists: broken, degraded or incomplete; worst first, then by name."""
    order = {"broken": 0, "degraded": 1, "incomplete": 2}
    listed = [c for c in report.clusters if _state(c) != "healthy"]
    return sorted(listed, key=lambda c: (order[_state(c)], c.name.lower(), c.id.lower()))


def subscription_name(report: FleetReport, subscription: str) -> str:
    return report.names.get(subscription.lower(), subscription)


def cluster_codes(cluster: FleetCluster) -> str:
    """`DNS011 DNS012`, then what a reader must know beside them: error codes no GET confirmed (the confirming read
    failed: they stand on Resource Graph's rows alone), codes the lag raised that GETs cleared, probes that could
    not look."""
    text = " ".join(dict.fromkeys(f.id for f in _alarms(cluster)))
    said = []
    if cluster.verdict is Verdict.BROKEN and not cluster.confirmed:
        said.append("unconfirmed")
    if cluster.lagged:
        said.append("lagged: " + " ".join(cluster.lagged))
    if cluster.could_not_look:
        said.append("could not look: " + ", ".join(_errored(cluster)))
    return " ".join([text, *(f"({s})" for s in said)]).strip()


def group_title(group: CauseGroup, total: int) -> str:
    return f"{group.code} {group.severity.value} on {len(group.clusters)} of {total} clusters: {group.title}"


def group_clusters(report: FleetReport, group: CauseGroup, named: int) -> str:
    names = [_cluster_name(report, cid) for cid in group.clusters[:named]]
    more = f" +{len(group.clusters) - named} more" if len(group.clusters) > named else ""
    return ", ".join(names) + more


def requests_line(report: FleetReport) -> str:
    """`requests: 8 graph, 1 subscriptions, 40 get, 12 confirm (61 in all, 2.0 per cluster)`."""
    kinds = [f"{n} {k}" for k, n in report.requests.items()]
    total = sum(report.requests.values())
    per = f", {total / len(report.clusters):.1f} per cluster" if report.clusters else ""
    return "requests: " + (", ".join(kinds) + f" ({total} in all{per})" if kinds else "none")


def lagged(report: FleetReport) -> list[FleetCluster]:
    return [c for c in report.clusters if c.lagged]


def _state(c: FleetCluster) -> str:
    if c.verdict is Verdict.BROKEN:
        return "broken"
    if c.verdict is Verdict.DEGRADED:
        return "degraded"
    return "incomplete" if c.could_not_look else "healthy"


def _alarms(c: FleetCluster) -> list[Finding]:
    return [f for f in c.report.findings if f.severity in (Severity.ERROR, Severity.WARNING)]


def _errored(c: FleetCluster) -> list[str]:
    return [p.probe for p in c.report.probes if p.status.value == "error"]


def _cluster_name(report: FleetReport, cluster_id: str) -> str:
    found = report.cluster(cluster_id)
    return found.name if found else cluster_id.rsplit("/", 1)[-1]


# ---------------------------------------------------------------- text


def text(report: FleetReport, out: TextIO) -> None:
    terminal = out.isatty()
    console = Console(file=out, width=None if terminal else WIDTH, no_color=not terminal, highlight=False,
                      soft_wrap=False, emoji=False)  # fmt: skip
    shown, style = headline(report)
    subs = len(report.subscriptions)
    _line(console, Text.assemble(("aksdiag fleet ", "bold"), (report.scope, "bold cyan")))
    _line(console, Text.assemble(
        "verdict ", (shown, VERDICT_STYLE[style]),
        (f" · {counts(report)} · {subs} subscription{'s' if subs != 1 else ''} searched"
         f" · {report.elapsed_ms / 1000:.2f} s", "dim"),
    ))  # fmt: skip
    total = len(report.clusters)
    console.print()
    if report.groups:
        _line(console, Text(f"Causes ({len(report.groups)})", style="bold"))
        for g in report.groups:
            mark, mark_style = _MARK[g.severity.value]
            first, *rest = textwrap.wrap(group_title(g, total), (console.width or WIDTH) - 2) or [""]
            _line(console, Text.assemble((f"{mark} ", mark_style), (first, "bold")))
            for line in rest:
                _line(console, Text("    " + line, style="bold"))
            _indented(console, g.cause, 4)
            _indented(console, "Clusters: " + group_clusters(report, g, NAMED), 4, "cyan")
            if g.remediation:
                _indented(console, f"Fix: {g.remediation}", 4)
    elif total:
        _line(console, Text(f"No fault found on {total} cluster{'s' if total != 1 else ''}.", style="green"))
    else:
        _line(console, Text("No cluster found in this scope.", style="yellow"))
    _clusters_table(console, report)
    if lagged(report):
        console.print()
        _line(console, Text(f"Resource Graph lagged ARM ({len(lagged(report))})", style="bold"))
        _indented(console, "codes the index raised that the confirming GETs cleared (not findings):", 2, "dim")
        for c in lagged(report):
            _indented(console, f"{c.name}: {' '.join(c.lagged)}", 4)
    if report.findings:
        console.print()
        _line(console, Text(f"Fleet findings ({len(report.findings)})", style="bold"))
        for f in report.findings:
            severity = (f"{f.severity.value:<7} ", SEVERITY_STYLE[f.severity.value])
            _line(console, Text.assemble((f"{f.id} ", "bold"), severity, f.title))
            _indented(console, f.detail, 4)
            _indented(console, f"Fix: {f.remediation}", 4)
    if report.notes:
        console.print()
        _line(console, Text("What Resource Graph could not tell", style="bold"))
        for note in report.notes:
            _indented(console, f"- {note}", 2, hang=2)
    console.print()
    for q in report.queries:
        said = f"error: {q.error}" if q.error else f"{q.rows} rows"
        _indented(console, f"query {q.name}: {q.batches} batch(es), {q.pages} page(s), {said}, {q.elapsed_ms:.0f} ms",
                  0, "red" if q.error else "dim", hang=4)  # fmt: skip
    _indented(console, requests_line(report), 0, "dim", hang=4)


def _clusters_table(console: Console, report: FleetReport) -> None:
    """Aligned columns drawn by hand (rich's Table takes seconds over a few hundred rows); the codes wrap under
    their column, a long name pushes the row wider rather than being cut."""
    listed = unhealthy(report)
    if not listed:
        return
    healthy = len(report.clusters) - len(listed)
    console.print()
    _line(console, Text(f"Clusters not healthy ({len(listed)} of {len(report.clusters)}; {healthy} healthy not listed)",
                        style="bold"))  # fmt: skip
    head = ("cluster", "subscription", "resource group", "verdict")
    rows = [(c.name, subscription_name(report, c.subscription), c.resource_group, _state(c), cluster_codes(c))
            for c in listed[:ROWS]]  # fmt: skip
    widths = [max(len(r[i]) for r in [(*head, ""), *rows]) for i in range(len(head))]
    lead = 2 + sum(w + 2 for w in widths)
    room = max(24, (console.width or WIDTH) - lead)
    _line(
        console, Text("  " + "".join(h.ljust(w + 2) for h, w in zip(head, widths, strict=True)) + "codes", style="dim")
    )
    _line(console, Text("  " + "─" * (lead - 2 + min(room, max(len(r[4]) for r in rows))), style="dim"))
    for *cells, codes in rows:
        state = cells[3]
        left = Text.assemble("  ", "".join(c.ljust(w + 2) for c, w in zip(cells[:3], widths[:3], strict=True)),
                             (state.ljust(widths[3] + 2), VERDICT_STYLE.get(state, "magenta")))  # fmt: skip
        first, *more = textwrap.wrap(codes, room, break_long_words=False) or [""]
        _line(console, Text.assemble(left, first))
        for line in more:
            _line(console, Text(" " * lead + line))
    if len(listed) > ROWS:
        _indented(console, f"+{len(listed) - ROWS} more (aksdiag fleet -o json lists every cluster)", 2, "dim")


def _indented(console: Console, text: str, indent: int, style: str = "", hang: int = 0) -> None:
    """Wrapped at `indent` (later lines `hang` deeper), no trailing blanks: it pastes cleanly into a ticket."""
    width = max(40, (console.width or WIDTH) - indent)
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False,
                          subsequent_indent=" " * hang) or [""]  # fmt: skip
    for line in lines:
        _line(console, Text(" " * indent + line, style=style))


def _line(console: Console, text: Text) -> None:
    """One physical line, never re-wrapped by rich (a long id stays whole rather than split mid-word)."""
    console.print(text, overflow="ignore", crop=False, no_wrap=True)


# ---------------------------------------------------------------- markdown


def markdown(report: FleetReport, out: TextIO) -> None:
    w = out.write
    shown, _ = headline(report)
    total = len(report.clusters)
    w(f"## aksdiag fleet: **{shown}**\n\n")
    w(f"{_md(report.scope)} · {counts(report)} · {len(report.subscriptions)} subscriptions searched · ")
    w(f"aksdiag {report.version}, {report.elapsed_ms / 1000:.2f} s\n")
    w(f"\n### Causes ({len(report.groups)})\n\n")
    if not report.groups:
        w(f"No fault found on {total} clusters.\n" if total else "No cluster found in this scope.\n")
    for g in report.groups:
        w(f"#### {_md(group_title(g, total))}\n\n{_md(g.cause)}\n\n")
        w(f"Clusters: {_md(group_clusters(report, g, MD_NAMED))}\n\n")
        if g.remediation:
            w(f"**Fix:** {_md(g.remediation)}\n\n")
    listed = unhealthy(report)
    if listed:
        w(f"### Clusters not healthy ({len(listed)} of {total}; {total - len(listed)} healthy not listed)\n\n")
        w("| cluster | subscription | resource group | verdict | codes |\n|---|---|---|---|---|\n")
        for c in listed[:ROWS]:
            sub = subscription_name(report, c.subscription)
            w(f"| {_md(c.name)} | {_md(sub)} | {_md(c.resource_group)} | {_state(c)} | {_md(cluster_codes(c))} |\n")
        if len(listed) > ROWS:
            w(f"\n+{len(listed) - ROWS} more (`aksdiag fleet -o json` lists every cluster)\n")
        w("\n")
    if lagged(report):
        w(f"### Resource Graph lagged ARM ({len(lagged(report))})\n\n")
        w("Codes the index raised that the confirming GETs cleared (not findings):\n\n")
        for c in lagged(report):
            w(f"- {_md(c.name)}: {' '.join(c.lagged)}\n")
        w("\n")
    if report.findings:
        w(f"### Fleet findings ({len(report.findings)})\n\n")
        for f in report.findings:
            w(f"#### {f.id} {f.severity.value}: {_md(f.title)}\n\n{_md(f.detail)}\n\n**Fix:** {_md(f.remediation)}\n\n")
    if report.notes:
        w("### What Resource Graph could not tell\n\n")
        for note in report.notes:
            w(f"- {_md(note)}\n")
        w("\n")
    if report.queries:
        w("### Queries\n\n| query | batches | pages | rows | ms | error |\n|---|---|---|---|---|---|\n")
        for q in report.queries:
            w(f"| {q.name} | {q.batches} | {q.pages} | {q.rows} | {q.elapsed_ms:.0f} | {_md(q.error)} |\n")
        w("\n")
    w(f"{requests_line(report).capitalize()}\n")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
