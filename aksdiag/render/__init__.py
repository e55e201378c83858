"""Renderers: the same Report as text (rich), JSON (the contract) or Markdown (for a ticket)."""

from __future__ import annotations

from typing import TextIO

from aksdiag.model import Report

FORMATS = ("text", "json", "markdown")


def render(report: Report, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        from aksdiag.render import json as renderer
    elif fmt == "markdown":
        from aksdiag.render import markdown as renderer  # type: ignore[no-redef]  # one name, the module picked
    else:
        from aksdiag.render import text as renderer  # type: ignore[no-redef]  # one name, the module picked
    renderer.render(report, out)
