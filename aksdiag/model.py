"""The report's vocabulary: hops, findings, probe results and the report, with the JSON round trip.

The field names here are the JSON contract of DESIGN.md (`aksdiag.report/v1`); renderers never rename them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SCHEMA = "aksdiag.report/v1"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


class Status(str, Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


class Verdict(str, Enum):
    OK = "ok"
    DEGRADED = "degraded"
    BROKEN = "broken"


@dataclass(frozen=True)
class Hop:
    """One step of a path (a DNS server asked, a zone, an endpoint), with what it answered."""

    index: int
    kind: str
    name: str
    status: Status
    server: str | None = None
    rcode: str | None = None
    answers: tuple[str, ...] = ()
    cname_chain: tuple[str, ...] = ()
    elapsed_ms: float | None = None
    detail: str = ""
    ttl: int | None = None
    """The answer's TTL as the server gave it (a relay's counts down: when its cached answer expires)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "name": self.name,
            "server": self.server,
            "status": self.status.value,
            "rcode": self.rcode,
            "answers": list(self.answers),
            "cname_chain": list(self.cname_chain),
            "elapsed_ms": _ms(self.elapsed_ms),
            "detail": self.detail,
            **({"ttl": self.ttl} if self.ttl is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Hop:
        return cls(
            index=d["index"],
            kind=d["kind"],
            name=d["name"],
            status=Status(d["status"]),
            server=d.get("server"),
            rcode=d.get("rcode"),
            answers=tuple(d.get("answers", ())),
            cname_chain=tuple(d.get("cname_chain", ())),
            elapsed_ms=d.get("elapsed_ms"),
            detail=d.get("detail", ""),
            ttl=d.get("ttl"),
        )


@dataclass(frozen=True)
class Finding:
    """A named fault: what was seen, what to change, and where to read more. Made only by `codes.Code.at`."""

    id: str
    severity: Severity
    title: str
    detail: str
    remediation: str
    probe: str
    hop: int | None = None
    command: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    docs: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity.value,
            "title": self.title,
            "detail": self.detail,
            "remediation": self.remediation,
            "command": self.command,
            "probe": self.probe,
            "hop": self.hop,
            "evidence": self.evidence,
            "docs": self.docs,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(
            id=d["id"],
            severity=Severity(d["severity"]),
            title=d["title"],
            detail=d.get("detail", ""),
            remediation=d.get("remediation", ""),
            command=d.get("command"),
            probe=d.get("probe", ""),
            hop=d.get("hop"),
            evidence=dict(d.get("evidence") or {}),
            docs=d.get("docs", ""),
        )


@dataclass(frozen=True)
class Table:
    """Rows a probe lays out for people (the load balancer's rules): the renderers and the TUI draw it as it is."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": list(self.columns), "rows": [list(r) for r in self.rows]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Table:
        rows = tuple(tuple(str(c) for c in r) for r in d.get("rows") or [])
        return cls(str(d.get("title", "")), tuple(str(c) for c in d.get("columns") or []), rows)


@dataclass(frozen=True)
class Gauge:
    """A quantity against its limit (SNAT ports needed at the peak of those available): a bar, red when over."""

    title: str
    value: float
    maximum: float
    unit: str = ""
    label: str = ""

    @property
    def share(self) -> float:
        return self.value / self.maximum if self.maximum else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "value": self.value, "maximum": self.maximum, "unit": self.unit,
                "label": self.label}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Gauge:
        return cls(str(d.get("title", "")), float(d.get("value") or 0), float(d.get("maximum") or 0),
                   str(d.get("unit", "")), str(d.get("label", "")))  # fmt: skip


@dataclass(frozen=True)
class GraphNode:
    """One place on a path (a VNet, a DNS server, a rule, a zone, a record, an endpoint); `kind` says which."""

    id: str
    kind: str
    label: str
    status: Status = Status.OK
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": self.label, "status": self.status.value,
                "detail": self.detail}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GraphNode:
        return cls(str(d.get("id", "")), str(d.get("kind", "")), str(d.get("label", "")),
                   Status(d.get("status") or "ok"), str(d.get("detail", "")))  # fmt: skip


@dataclass(frozen=True)
class GraphEdge:
    """A step from one node to the next, in query order; `fail` marks the broken one a finding names."""

    source: str
    target: str
    label: str = ""
    status: Status = Status.OK

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "label": self.label, "status": self.status.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GraphEdge:
        return cls(str(d.get("source", "")), str(d.get("target", "")), str(d.get("label", "")),
                   Status(d.get("status") or "ok"))  # fmt: skip


@dataclass(frozen=True)
class Graph:
    """A path as a picture (the resolution path of a private name): Mermaid in markdown, edges in text and TUI."""

    nodes: tuple[GraphNode, ...] = ()
    edges: tuple[GraphEdge, ...] = ()
    title: str = ""

    def node(self, node_id: str) -> GraphNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    @property
    def failed(self) -> tuple[GraphEdge, ...]:
        return tuple(e for e in self.edges if e.status is Status.FAIL)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "nodes": [n.to_dict() for n in self.nodes],
                "edges": [e.to_dict() for e in self.edges]}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Graph:
        return cls(tuple(GraphNode.from_dict(n) for n in d.get("nodes") or []),
                   tuple(GraphEdge.from_dict(e) for e in d.get("edges") or []), str(d.get("title", "")))  # fmt: skip


@dataclass(frozen=True)
class ProbeResult:
    """What one probe saw and concluded. `reason` explains a skipped or errored probe."""

    probe: str
    status: Status
    elapsed_ms: float
    hops: tuple[Hop, ...] = ()
    findings: tuple[Finding, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    title: str = ""
    tables: tuple[Table, ...] = ()
    gauges: tuple[Gauge, ...] = ()
    graph: Graph | None = None
    """The path the probe judged, drawn (private_dns: the resolution path with the broken edge marked)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "probe": self.probe,
            "title": self.title,
            "status": self.status.value,
            "elapsed_ms": _ms(self.elapsed_ms),
            "hops": [h.to_dict() for h in self.hops],
            "facts": self.facts,
        }
        if self.tables:
            d["tables"] = [t.to_dict() for t in self.tables]
        if self.gauges:
            d["gauges"] = [g.to_dict() for g in self.gauges]
        if self.graph is not None:
            d["graph"] = self.graph.to_dict()
        if self.reason:
            d["reason"] = self.reason
        return d


@dataclass(frozen=True)
class Report:
    """Everything one command found; `verdict` and the exit code follow from the findings."""

    command: str
    target: str
    probes: tuple[ProbeResult, ...]
    elapsed_ms: float
    version: str = ""

    @property
    def findings(self) -> tuple[Finding, ...]:
        ordered = [f for p in self.probes for f in p.findings]
        return tuple(sorted(ordered, key=lambda f: -f.severity.rank))

    @property
    def verdict(self) -> Verdict:
        severities = {f.severity for f in self.findings}
        if Severity.ERROR in severities:
            return Verdict.BROKEN
        if Severity.WARNING in severities:
            return Verdict.DEGRADED
        return Verdict.OK

    @property
    def could_not_run(self) -> int:
        """How many probes could not look (status `error`): with no error finding, the run is no all-clear."""
        return sum(p.status is Status.ERROR for p in self.probes)

    @property
    def headline(self) -> tuple[str, str]:
        """(what a face shows as the verdict, the VERDICT_STYLE key): `INCOMPLETE` for an `ok` verdict with
        probes that could not run, so no header says OK over errors. The JSON `verdict` is unchanged."""
        verdict = self.verdict.value
        if self.verdict is Verdict.OK and self.could_not_run:
            return "INCOMPLETE", Verdict.DEGRADED.value
        return verdict.upper(), verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "tool": {"name": "aksdiag", "version": self.version},
            "command": self.command,
            "target": self.target,
            "verdict": self.verdict.value,
            "elapsed_ms": _ms(self.elapsed_ms),
            "probes": [p.to_dict() for p in self.probes],
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Report:
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not an {SCHEMA} document (schema: {d.get('schema')!r})")
        findings_by_probe: dict[str, list[Finding]] = {}
        for fd in d.get("findings", []):
            finding = Finding.from_dict(fd)
            findings_by_probe.setdefault(finding.probe, []).append(finding)
        probes = tuple(
            ProbeResult(
                probe=p["probe"],
                title=p.get("title", ""),
                status=Status(p["status"]),
                elapsed_ms=p.get("elapsed_ms") or 0.0,
                hops=tuple(Hop.from_dict(h) for h in p.get("hops", [])),
                findings=tuple(findings_by_probe.get(p["probe"], [])),
                facts={k: v for k, v in (p.get("facts") or {}).items() if k not in ("tables", "gauges")},
                reason=p.get("reason"),
                # before 0.2 the tables and gauges sat in facts: a pod running an older image still reports so
                tables=tuple(Table.from_dict(t) for t in p.get("tables") or (p.get("facts") or {}).get("tables") or []),
                gauges=tuple(Gauge.from_dict(g) for g in p.get("gauges") or (p.get("facts") or {}).get("gauges") or []),
                graph=Graph.from_dict(p["graph"]) if p.get("graph") else None,
            )
            for p in d.get("probes", [])
        )
        return cls(
            command=d["command"],
            target=d["target"],
            probes=probes,
            elapsed_ms=d.get("elapsed_ms") or 0.0,
            version=d.get("tool", {}).get("version", ""),
        )


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
