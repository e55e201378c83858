"""What `aksdiag fleet` found: one full Report per cluster, the findings grouped by shared cause, what the run
asked Resource Graph and ARM, and the subscriptions it could not read. Plain dataclasses with a JSON round trip
(schema `aksdiag.fleet/v1`); pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aksdiag.model import Finding, Report, Severity, Status, Verdict

SCHEMA = "aksdiag.fleet/v1"


@dataclass(frozen=True)
class FleetScope:
    """Where the fleet is looked for: the subscriptions given, a management group, or (neither) every subscription
    the identity can list; `filter` is the checked KQL `where` clause on the clusters (queries.parse_filter)."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()
    filter: str = ""

    def describe(self) -> str:
        if self.management_groups:
            return "management group " + ", ".join(self.management_groups)
        if self.subscriptions:
            n = len(self.subscriptions)
            return f"{n} subscription{'s' if n != 1 else ''}"
        return "every subscription the identity can read"


@dataclass(frozen=True)
class FleetCluster:
    """One cluster: where it is and its full report (the shape `check --output json` has).

    `lagged`: codes the Resource Graph rows raised that the confirming GETs did not (ARG lagged ARM; dropped from
    `report`); `confirmed`: its error findings were confirmed by GETs (False for a cluster without one)."""

    id: str
    name: str
    subscription: str
    resource_group: str
    location: str
    report: Report
    lagged: tuple[str, ...] = ()
    confirmed: bool = False

    @property
    def verdict(self) -> Verdict:
        return self.report.verdict

    @property
    def could_not_look(self) -> bool:
        return any(p.status is Status.ERROR for p in self.report.probes)

    def codes(self, severity: Severity | None = None) -> list[str]:
        """The codes of its findings (of one severity), each once, in report order."""
        found = [f.id for f in self.report.findings if severity is None or f.severity is severity]
        return list(dict.fromkeys(found))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "subscription": self.subscription,
            "resource_group": self.resource_group,
            "location": self.location,
            "verdict": self.verdict.value,
            "codes": self.codes(),
            "lagged": list(self.lagged),
            "confirmed": self.confirmed,
            "report": self.report.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FleetCluster:
        return cls(
            id=d["id"], name=d["name"], subscription=d["subscription"], resource_group=d["resource_group"],
            location=d.get("location", ""), report=Report.from_dict(d["report"]), lagged=tuple(d.get("lagged", ())),
            confirmed=bool(d.get("confirmed")),
        )  # fmt: skip


@dataclass(frozen=True)
class CauseGroup:
    """One finding code on many clusters for one shared cause: "DNS011 on 14 of 212 clusters: all in subscription
    conn-prod, zone privatelink.westeurope.azmk8s.io not linked to vnet-hub-weu".

    `shared`: the resource ids the cause rests on that every cluster of the group shares (a hub VNet, a zone, a
    ruleset); empty when each cluster's cause is its own (then `cause` says so)."""

    code: str
    severity: Severity
    title: str
    cause: str
    clusters: tuple[str, ...]
    shared: tuple[str, ...] = ()
    subscriptions: tuple[str, ...] = ()
    remediation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "title": self.title,
            "cause": self.cause,
            "count": len(self.clusters),
            "clusters": list(self.clusters),
            "shared": list(self.shared),
            "subscriptions": list(self.subscriptions),
            "remediation": self.remediation,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CauseGroup:
        return cls(
            code=d["code"], severity=Severity(d["severity"]), title=d.get("title", ""), cause=d.get("cause", ""),
            clusters=tuple(d.get("clusters", ())), shared=tuple(d.get("shared", ())),
            subscriptions=tuple(d.get("subscriptions", ())), remediation=d.get("remediation", ""),
        )  # fmt: skip


@dataclass(frozen=True)
class QueryStat:
    """One named Resource Graph query as sent: its batches (subscription groups), pages, rows and time."""

    name: str
    text: str
    batches: int = 0
    pages: int = 0
    rows: int = 0
    elapsed_ms: float = 0.0
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "text": self.text, "batches": self.batches, "pages": self.pages,
                "rows": self.rows, "elapsed_ms": round(self.elapsed_ms, 1), "error": self.error}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QueryStat:
        return cls(d["name"], d.get("text", ""), d.get("batches", 0), d.get("pages", 0), d.get("rows", 0),
                   d.get("elapsed_ms", 0.0), d.get("error", ""))  # fmt: skip


@dataclass(frozen=True)
class FleetReport:
    """Everything `aksdiag fleet` found. `findings` are the fleet's own (AZ001 for a subscription it could not
    read, a query that failed); `requests` counts what left the process by kind: "graph" (Resource Graph POSTs),
    "subscriptions", "get" (record sets, forwarding rules), "confirm" (the GETs that confirmed findings)."""

    scope: str
    clusters: tuple[FleetCluster, ...]
    groups: tuple[CauseGroup, ...] = ()
    findings: tuple[Finding, ...] = ()
    queries: tuple[QueryStat, ...] = ()
    requests: dict[str, int] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    version: str = ""
    subscriptions: tuple[str, ...] = ()
    """The subscriptions searched (lower-cased ids)."""
    notes: tuple[str, ...] = ()
    """What Resource Graph could not tell this run (said in every face, never hidden)."""
    names: dict[str, str] = field(default_factory=dict)
    """Subscription display names by lower-cased id (from GET /subscriptions): the faces name a subscription so."""

    @property
    def verdict(self) -> Verdict:
        severities = {f.severity for f in self.findings} | {
            Severity.ERROR if c.verdict is Verdict.BROKEN else Severity.WARNING
            for c in self.clusters
            if c.verdict is not Verdict.OK
        }
        if Severity.ERROR in severities:
            return Verdict.BROKEN
        if Severity.WARNING in severities:
            return Verdict.DEGRADED
        return Verdict.OK

    def cluster(self, cluster_id: str) -> FleetCluster | None:
        wanted = cluster_id.lower()
        return next((c for c in self.clusters if c.id.lower() == wanted), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "tool": {"name": "aksdiag", "version": self.version},
            "command": "fleet",
            "scope": self.scope,
            "verdict": self.verdict.value,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "subscriptions": list(self.subscriptions),
            "requests": dict(self.requests),
            "queries": [q.to_dict() for q in self.queries],
            "findings": [f.to_dict() for f in self.findings],
            "groups": [g.to_dict() for g in self.groups],
            "clusters": [c.to_dict() for c in self.clusters],
            "notes": list(self.notes),
            "subscription_names": dict(self.names),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FleetReport:
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not an {SCHEMA} document (schema: {d.get('schema')!r})")
        return cls(
            scope=d.get("scope", ""),
            clusters=tuple(FleetCluster.from_dict(c) for c in d.get("clusters", ())),
            groups=tuple(CauseGroup.from_dict(g) for g in d.get("groups", ())),
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
            queries=tuple(QueryStat.from_dict(q) for q in d.get("queries", ())),
            requests=dict(d.get("requests") or {}),
            elapsed_ms=d.get("elapsed_ms", 0.0),
            version=(d.get("tool") or {}).get("version", ""),
            subscriptions=tuple(d.get("subscriptions", ())),
            notes=tuple(d.get("notes", ())),
            names=dict(d.get("subscription_names") or {}),
        )
