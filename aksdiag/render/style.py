"""How a status, a severity and a verdict look on a terminal: one mark and one colour each, shared by the text
renderer and the TUI (plain strings: rich and Textual both read these style names)."""

from __future__ import annotations

MARK = {"ok": "✔", "warn": "!", "fail": "✘", "error": "✘", "skipped": "–", "running": "…", "waiting": "·"}
"""A probe's or hop's status (and, in the TUI, a tile still running or waiting) as one character."""

STYLE = {
    "ok": "green",
    "warn": "yellow",
    "fail": "red",
    "error": "magenta",
    "skipped": "dim",
    "running": "cyan",
    "waiting": "dim",
}
SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "cyan"}
VERDICT_STYLE = {"ok": "bold green", "degraded": "bold yellow", "broken": "bold red"}
