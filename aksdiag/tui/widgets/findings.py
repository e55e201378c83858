"""Findings sorted by severity, and the selected one's detail: what it means, the evidence, the fix with its exact
command (key `y` copies it), and the docs link."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import ListItem, ListView, Static

from aksdiag import codes
from aksdiag.model import Finding
from aksdiag.tui.view import SEVERITY_STYLE, View


class FindingItem(ListItem):
    def __init__(self, finding: Finding) -> None:
        super().__init__(classes=f"finding -{finding.severity.value}")
        self.finding = finding

    def compose(self) -> ComposeResult:
        f = self.finding
        yield Static(
            Text.assemble((f"{f.id} ", "bold"), (f.severity.value, SEVERITY_STYLE[f.severity.value])), markup=False
        )


class FindingDetail(Static):
    def show(self, f: Finding | None, view: View) -> None:
        if f is None:
            self.update(Text("No fault found.", style="green"))
            return
        text = Text()
        text.append(f"{f.id} ", style="bold")
        text.append(f.severity.value, style=SEVERITY_STYLE[f.severity.value])
        text.append(f"  {f.probe}" + (f", hop {f.hop}" if f.hop else ""), style="dim")
        text.append(f"\n{view.text(f.title)}\n", style="bold")
        entry = codes.lookup(f.id)
        if entry is not None:
            text.append("\nWhat it means\n", style="bold underline")
            text.append(view.text(entry.summary) + "\n")
        text.append("\nEvidence\n", style="bold underline")
        text.append(view.text(f.detail) + "\n")
        text.append("\nFix\n", style="bold underline")
        text.append(view.text(f.remediation) + "\n")
        if f.command:
            text.append("\nRun (y copies it)\n", style="bold underline")
            text.append(view.text(f.command) + "\n", style="bold cyan")
        if f.docs:
            text.append("\nDocs ", style="bold underline")
            text.append(f.docs, style=f"link {f.docs}")
            text.append("\n")
        if f.evidence:
            text.append("\nWhat was seen\n", style="bold underline")
        for key, value in f.evidence.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            text.append(f"  {view.text(key)}: ", style="dim")
            text.append(view.text(shown) + "\n", style="dim")
        self.update(text)


class FindingsPane(Horizontal):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "copy_command", "Copy fix", id="findings.copy")]

    def __init__(self, view: View, **kwargs: Any) -> None:  # Widget's id=, classes=…
        super().__init__(**kwargs)
        self._showing = asyncio.Lock()  # results stream in fast: one show() at a time, or two lists interleave
        self.view = view
        self.findings: tuple[Finding, ...] = ()
        self._wanted: tuple[Finding, ...] | None = None
        """The newest list asked for: a show() still waiting when a newer one comes is skipped."""
        self._auto: Finding | None = None
        """The finding the pane chose itself (the most severe): not a choice of the user's to keep."""

    def compose(self) -> ComposeResult:
        yield ListView(id="finding-list")
        with VerticalScroll(id="finding-pane"):
            yield FindingDetail(id="finding-detail")

    @property
    def list(self) -> ListView:
        return self.query_one("#finding-list", ListView)

    @property
    def detail(self) -> FindingDetail:
        return self.query_one("#finding-detail", FindingDetail)

    @property
    def selected(self) -> Finding | None:
        item = self.list.highlighted_child
        return item.finding if isinstance(item, FindingItem) else None

    async def show(self, findings: tuple[Finding, ...]) -> None:
        """Replace the list. A finding the user chose (the list has focus and they moved to it) stays selected
        while it is there; otherwise the most severe is, as findings arrive from probes finishing in any order."""
        self._wanted = findings
        async with self._showing:
            if self._wanted is not findings:
                return  # a newer list was asked for while this one waited: that one is shown
            await self._show(findings)

    async def _show(self, findings: tuple[Finding, ...]) -> None:
        chosen = self.selected if self.list.has_focus else None
        before = chosen if chosen is not None and chosen != self._auto else None
        self.findings = findings
        await self.list.clear()
        await self.list.extend(FindingItem(f) for f in findings)
        if findings:
            keep = next(
                (i for i, f in enumerate(findings) if before and (f.id, f.detail) == (before.id, before.detail)), 0
            )
            self.list.index = keep
            self._auto = None if before else findings[keep]
            self.detail.show(findings[keep], self.view)
        else:
            self.detail.show(None, self.view)

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        if isinstance(event.item, FindingItem):
            self.detail.show(event.item.finding, self.view)

    def action_copy_command(self) -> None:
        f = self.selected
        if f is None or not f.command:
            self.app.notify("this finding has no command to copy", severity="warning")
            return
        self.app.copy_to_clipboard(f.command)
        self.app.notify(f"copied: {self.view.text(f.command)}", title=f"{f.id} fix")
