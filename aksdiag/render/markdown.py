"""Markdown renderer: a report that pastes into a ticket or a pull request as it is."""

from __future__ import annotations

from typing import TextIO

from aksdiag.model import Report
from aksdiag.render.graph import mermaid

_ICON = {"ok": "✅", "warn": "⚠️", "fail": "❌", "error": "💥", "skipped": "⏭️"}


def render(report: Report, out: TextIO) -> None:
    w = out.write
    w(f"## aksdiag {report.command} `{report.target}`: **{report.verdict.value.upper()}**\n\n")
    w(f"aksdiag {report.version}, {report.elapsed_ms / 1000:.2f} s\n")
    for probe in report.probes:
        w(f"\n### {probe.title or probe.probe} — {_ICON[probe.status.value]} {probe.status.value}\n\n")
        if probe.reason:
            w(f"{probe.reason}\n")
        if probe.hops:
            w("| # | hop | server | status | rcode | answers | ms |\n|---|---|---|---|---|---|---|\n")
            for h in probe.hops:
                answers = ", ".join(h.answers) or "—"
                ms = "" if h.elapsed_ms is None else f"{h.elapsed_ms:.1f}"
                w(
                    f"| {h.index} | {_cell(h.name)} | {h.server or ''} | {_ICON[h.status.value]} {h.status.value} "
                    f"| {h.rcode or ''} | {_cell(answers)} | {ms} |\n"
                )
            details = [h for h in probe.hops if h.detail]
            if details:
                w("\n")
                for h in details:
                    w(f"- hop {h.index}: {h.detail}\n")
        if probe.graph is not None and probe.graph.edges:
            w(f"\n**{_cell(probe.graph.title or 'Path')}**\n\n```mermaid\n")
            w("".join(line + "\n" for line in mermaid(probe.graph)))
            w("```\n")
        for gauge in probe.gauges:
            w(f"\n**{gauge.title}:** {gauge.value:,.0f} of {gauge.maximum:,.0f} {gauge.unit}")
            w(f" — {gauge.label}\n" if gauge.label else "\n")
        for table in probe.tables:
            w(f"\n**{table.title}**\n\n")
            if not table.rows:
                w("none\n")
                continue
            w("| " + " | ".join(_cell(c) for c in table.columns) + " |\n")
            w("|" + "---|" * len(table.columns) + "\n")
            for row in table.rows:
                w("| " + " | ".join(_cell(str(c)) for c in row) + " |\n")
    findings = report.findings
    w(f"\n### Findings ({len(findings)})\n\n")
    if not findings:
        w("No fault found.\n")
    for f in findings:
        hop = f" (hop {f.hop})" if f.hop else ""
        w(f"#### {f.id} {f.severity.value}: {f.title}{hop}\n\n{f.detail}\n\n**Fix:** {f.remediation}\n\n")
        if f.command:
            w(f"```\n{f.command}\n```\n\n")
        if f.docs:
            w(f"Docs: {f.docs}\n\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
