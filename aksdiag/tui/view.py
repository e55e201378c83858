"""How results are shown: status marks and colours, timings (hideable), and a mask over every shown string.

`View(show_timings=False, mask=...)` makes a screen independent of the clock and of the lab's random loopback
ports: the snapshot tests use it; people get the defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rich.text import Text

from aksdiag.model import Finding, Hop, ProbeResult
from aksdiag.render.style import MARK as MARK  # re-exported: the widgets and the app take the tables from here
from aksdiag.render.style import SEVERITY_STYLE
from aksdiag.render.style import STYLE as STYLE
from aksdiag.render.style import VERDICT_STYLE as VERDICT_STYLE


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class View:
    show_timings: bool = True
    mask: Callable[[str], str] = field(default=_same)

    def ms(self, value: float | None, prefix: str = "") -> str:
        if value is None or not self.show_timings:
            return ""
        return f"{prefix}{value / 1000:.2f} s" if value >= 1000 else f"{prefix}{value:.1f} ms"

    def text(self, value: object) -> str:
        return self.mask("" if value is None else str(value))


def hop_answer(hop: Hop) -> str:
    answer = ", ".join(hop.answers) if hop.answers else (hop.rcode or hop.status.value)
    return " → ".join([*hop.cname_chain, answer]) if hop.cname_chain else answer


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def finding_line(f: Finding, view: View) -> Text:
    where = f"  ({f.probe}, hop {f.hop})" if f.hop else f"  ({f.probe})"
    return Text.assemble(
        (f"{f.id} ", "bold"),
        (f"{f.severity.value:<7} ", SEVERITY_STYLE[f.severity.value]),
        view.text(f.title),
        (where, "dim"),
    )


def summary(result: ProbeResult, view: View) -> str:
    """One line under a tile: the findings, or why it was skipped or broke."""
    if result.reason:
        return view.text(result.reason)
    if result.findings:
        return ", ".join(dict.fromkeys(f.id for f in result.findings))
    return "no fault found" if result.hops or result.facts else "nothing to report"
