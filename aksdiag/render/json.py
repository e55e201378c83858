"""JSON renderer: `aksdiag.report/v1`, exactly the field names of model.to_dict (DESIGN.md's contract)."""

from __future__ import annotations

import json
from typing import TextIO

from aksdiag.model import Report


def render(report: Report, out: TextIO) -> None:
    json.dump(report.to_dict(), out, indent=2, ensure_ascii=False)
    out.write("\n")
