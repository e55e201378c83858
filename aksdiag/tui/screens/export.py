"""Export the report (`e`): JSON or Markdown, to a path that defaults to aksdiag-report-<timestamp>.<ext> here."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet

from aksdiag.tui.session import EXPORT_FORMATS, export_path


class ExportScreen(ModalScreen[tuple[str, Path] | None]):
    """Dismisses with (format, path), or None on escape. The format is the radio's, or the one the path's suffix
    names (.json, .md)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
    ]
    HEADING: ClassVar[str] = "Export the report"
    WHAT: ClassVar[str] = "report"
    """The default file's name: aksdiag-<WHAT>-<timestamp>.<ext>."""
    SCHEMA: ClassVar[str] = "aksdiag.report/v1"

    def __init__(self, directory: Path, now: float | None = None) -> None:
        super().__init__()
        self.directory = directory
        self.now = now
        self.fmt = "json"

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Label(self.HEADING, classes="bold")
            with RadioSet(id="export-format"):
                yield RadioButton(f"JSON ({self.SCHEMA})", value=True, id="export-json")
                yield RadioButton("Markdown (for a ticket)", id="export-markdown")
            yield Label("to the file (Enter writes it, escape cancels):")
            yield Input(str(export_path("json", self.directory, self.now, self.WHAT)), id="export-path")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.action_format("markdown" if event.pressed.id == "export-markdown" else "json")

    def action_format(self, fmt: str) -> None:
        if fmt == self.fmt:
            return
        self.fmt = fmt
        path_input = self.query_one("#export-path", Input)
        path = Path(path_input.value)
        if path.suffix.lstrip(".") in EXPORT_FORMATS.values():
            path_input.value = str(path.with_suffix("." + EXPORT_FORMATS[fmt]))
        button = self.query_one(f"#export-{fmt}", RadioButton)
        if not button.value:
            button.value = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            return
        path = Path(value)
        by_suffix = {"." + ext: fmt for fmt, ext in EXPORT_FORMATS.items()} | {".markdown": "markdown"}
        self.dismiss((by_suffix.get(path.suffix.lower(), self.fmt), path))

    def action_cancel(self) -> None:
        self.dismiss(None)
