"""An AKS detector's answer, digested once: the AppLens-shaped body of GET managedClusters/{name}/detectors/{id}.

The body (as recorded by the AKS VS Code extension) is `properties.metadata` (id, name, category, description),
`properties.status.statusId` and `properties.dataset`: tables, each with `renderingProperties.type`. Type 7 is the
insights table, columns Status, Message, Data.Name, Data.Value, Expanded, Solutions — one row per data pair, the
rows of one insight sharing its Status and Message. Other types (9 markdown, 2 time series, 23 search) are for
people and are not read. Status words and `statusId` follow AppLens's InsightStatus: Critical 0, Warning 1, Info 2,
Success 3, None 4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STATUSES = ("Critical", "Warning", "Info", "Success", "None")
"""AppLens's InsightStatus in its order: a detector's `statusId` is the index, the worst comes first."""
INSIGHTS_TABLE = 7
MAX_SAID = 3
"""Insight messages quoted in a finding (every one is in the evidence)."""


@dataclass(frozen=True)
class Insight:
    status: str
    message: str
    data: tuple[tuple[str, str], ...] = ()
    """Plain name/value pairs the insight shows (markdown and HTML values are left out: they are for the portal)."""


@dataclass(frozen=True)
class Verdict:
    detector: str
    name: str
    category: str
    status: str
    """The worst insight's status, else the detector's statusId; "None" when it says nothing either way."""
    insights: tuple[Insight, ...] = ()

    @property
    def claims_problem(self) -> bool:
        return self.status in ("Critical", "Warning")

    @property
    def says(self) -> str:
        """The messages of the insights with the verdict's status, as one sentence."""
        messages = list(dict.fromkeys(i.message.strip().rstrip(".") for i in self.insights if i.status == self.status))
        shown = "; ".join(m for m in messages[:MAX_SAID] if m) or "no message"
        more = len(messages) - MAX_SAID
        return shown + (f"; and {more} more" if more > 0 else "") + "."

    def to_dict(self) -> dict[str, Any]:
        insights = [{"status": i.status, "message": i.message, "data": dict(i.data)} for i in self.insights]
        return {"detector": self.detector, "name": self.name, "category": self.category, "status": self.status,
                "insights": insights}  # fmt: skip


def verdict(detector: str, body: dict[str, Any]) -> Verdict:
    """The verdict in one detector's answer; an answer of another shape is a verdict of "None"."""
    props = _dict(body, "properties")
    meta = _dict(props, "metadata")
    insights = tuple(i for ds in props.get("dataset") or [] if _is_insights(ds) for i in _insights(ds["table"]))
    status = _worst([i.status for i in insights])
    if status is None:
        status_id = _dict(props, "status").get("statusId")
        status = STATUSES[status_id] if isinstance(status_id, int) and 0 <= status_id < len(STATUSES) else "None"
    return Verdict(
        detector=str(meta.get("id") or detector),
        name=str(meta.get("name") or detector),
        category=str(meta.get("category") or "Connectivity Issues"),
        status=status,
        insights=insights,
    )


def _dict(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _is_insights(dataset: Any) -> bool:
    if not isinstance(dataset, dict) or not isinstance(dataset.get("table"), dict):
        return False
    rendering = dataset.get("renderingProperties") or {}
    columns = [c.get("columnName") for c in dataset["table"].get("columns") or [] if isinstance(c, dict)]
    return rendering.get("type") == INSIGHTS_TABLE or columns[:2] == ["Status", "Message"]


def _insights(table: dict[str, Any]) -> list[Insight]:
    columns = [str(c.get("columnName")) for c in table.get("columns") or [] if isinstance(c, dict)]
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in table.get("rows") or []:
        if not isinstance(row, list):
            continue
        cell = dict(zip(columns, (str(v) if v is not None else "" for v in row), strict=False))
        status = _status_word(cell.get("Status", ""))
        if status is None:
            continue
        pairs = grouped.setdefault((status, cell.get("Message", "")), [])
        name, value = cell.get("Data.Name", "").strip(), cell.get("Data.Value", "").strip()
        if name and value and not _markup(value):
            pairs.append((name, value))
    return [Insight(status, message, tuple(pairs)) for (status, message), pairs in grouped.items()]


def _status_word(word: str) -> str | None:
    for status in STATUSES:
        if word.strip().lower() == status.lower():
            return status
    return None


def _worst(statuses: list[str]) -> str | None:
    ranked = [s for s in STATUSES if s in statuses]
    return ranked[0] if ranked else None


def _markup(value: str) -> bool:
    return bool(re.search(r"<[a-z/][^>]*>", value, re.IGNORECASE)) or "\n" in value
