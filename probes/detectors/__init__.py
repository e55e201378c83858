"""detectors: Microsoft's own verdicts — the AKS networking detectors (the portal's Diagnose and solve problems) read
with GET managedClusters/{name}/detectors/{id}, shown beside aksdiag's.

Each detector with a verdict is one finding (DET001 critical, DET002 warning, DET003 no problem) whose evidence
`relates_to` the probes covering the same ground (`catalog`), as an agreement: aksdiag.joins, once every probe has
finished, says whether aksdiag agrees or disagrees. A detector not served here (404) or a read that failed is a
quiet hop; when no detector answered at all the probe is skipped (left out of check); refused reads (403) are
DET004, a note. The window is the last day ending at the run's clock. `applens` digests an answer.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime, timedelta

from aksdiag.probes.detectors import applens, catalog
from aksdiag.probes.detectors.catalog import DETECTORS, Detector

from aksdiag.codes import detectors as codes
from aksdiag.facts import AzureContextNeed, AzureDocument, AzureGetNeed, AzureReadError, Clock, ClockNeed, ReadFailure
from aksdiag.model import Finding, Hop, Status, Table
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

__all__ = ["ID", "PROBE", "judge", "plan"]

ID = "detectors"
HOP_STATUS = {"Critical": Status.FAIL, "Warning": Status.WARN, "Info": Status.OK, "Success": Status.OK,
              "None": Status.SKIPPED}  # fmt: skip
CODE_OF = {"Critical": codes.DET001, "Warning": codes.DET002, "Info": codes.DET003, "Success": codes.DET003}
TABLE = "Microsoft's detectors"


def window(clock: Clock) -> tuple[str, str]:
    """The last WINDOW_HOURS ending at the run's clock, as the detectors' startTime and endTime."""
    end = datetime.fromisoformat(clock.utc.replace("Z", "+00:00")).replace(microsecond=0)
    start = end - timedelta(hours=catalog.WINDOW_HOURS)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return start.strftime(fmt), end.strftime(fmt)


def _needs(azure: AzureContextNeed, clock: Clock) -> dict[str, AzureGetNeed]:
    start, end = window(clock)
    return {d.id: catalog.need(azure, d.id, start, end) for d in DETECTORS}


def plan(target: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure is None:
        raise Skip("no Azure context: pass --cluster and --resource-group (and --subscription)")
    clock = facts.get(ClockNeed())
    if clock is None:
        return [ClockNeed()]
    needs = _needs(settings.azure, clock)
    docs: list[AzureDocument | None] = [facts.get(n) for n in needs.values()]
    if all(d is not None for d in docs):
        answered = [d for d in docs if d is not None and (d.body is not None or _refused(d))]
        if not answered:
            raise Skip(f"no AKS detector answered here: {_why_not(docs)}")
    return [ClockNeed(), *needs.values()]


def _refused(doc: AzureDocument) -> bool:
    return doc.error is not None and doc.error.kind is ReadFailure.FORBIDDEN


def _why_not(docs: list[AzureDocument | None]) -> str:
    labels = [d.error.kind.label if d and d.error else "an empty answer" for d in docs]
    counted = {label: labels.count(label) for label in labels}
    return ", ".join(f"{n} × {label}" for label, n in counted.items())


def judge(target: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.azure is not None
    azure = settings.azure
    needs = _needs(azure, facts[ClockNeed()])
    hops: list[Hop] = []
    findings: list[Finding] = []
    rows: list[tuple[str, str, str, str]] = []
    seen: dict[str, str] = {}
    refused: list[AzureDocument] = []
    for index, detector in enumerate(DETECTORS, 1):
        need = needs[detector.id]
        doc: AzureDocument = facts[need]
        compared = ", ".join(detector.probes)
        if doc.body is not None:
            verdict = applens.verdict(detector.id, doc.body)
            seen[detector.id] = verdict.status
            detail = f"{verdict.status}: {verdict.says}" if verdict.insights else f"{verdict.status} (no insights)"
            hops.append(Hop(index, "detector", verdict.name, HOP_STATUS[verdict.status], server=detector.id,
                            detail=detail))  # fmt: skip
            rows.append((detector.id, verdict.status, verdict.says if verdict.insights else "", compared))
            if verdict.status in CODE_OF:
                findings.append(_finding(index, detector, verdict, f"{azure.endpoint}{need.url}"))
            continue
        if _refused(doc):
            refused.append(doc)
        seen[detector.id], said = _unanswered(doc.error)
        hops.append(Hop(index, "detector", detector.id, Status.SKIPPED, server=detector.id, detail=said))
        rows.append((detector.id, "—", said, compared))
    if refused:
        findings.append(_refusals(azure, refused))
    start, end = window(facts[ClockNeed()])
    return Judgement(
        hops=tuple(hops),
        findings=tuple(findings),
        facts={"window": {"start": start, "end": end}, "api_version": catalog.API_VERSION, "detectors": seen},
        tables=(Table(TABLE, ("detector", "verdict", "Microsoft says", "compared with"), tuple(rows)),),
    )


def _unanswered(error: AzureReadError | None) -> tuple[str, str]:
    """What the facts and a hop say of a detector without an answer: none of it is a verdict, nor a run error."""
    if error is not None and error.kind is ReadFailure.FORBIDDEN:
        return "refused", "refused (403): needs managedClusters/detectors/read"
    if error is not None and error.kind is ReadFailure.NOT_FOUND:
        return "not available", f"not available here (404 {error.code})"
    return "unread", f"could not be read: {error.kind.label}: {error.message}" if error else "could not be read"


def _finding(index: int, detector: Detector, verdict: applens.Verdict, url: str) -> Finding:
    relates = {"probes": list(detector.probes), "as": "agreement", "codes": list(detector.codes)}
    return CODE_OF[verdict.status].at(
        ID,
        hop=index,
        title=verdict.name,
        detector=verdict.detector,
        status=verdict.status,
        says=verdict.says,
        category=verdict.category,
        probes=", ".join(detector.probes),
        url=url,
        evidence={"detector": detector.id, "verdict": verdict.to_dict(), "relates_to": relates},
    )


def _refusals(azure: AzureContextNeed, refused: list[AzureDocument]) -> Finding:
    first = refused[0].error
    assert first is not None
    return codes.DET004.at(
        ID,
        count=len(refused),
        status=first.status,
        code=first.code,
        message=first.message,
        action=first.action or "Microsoft.ContainerService/managedClusters/detectors/read",
        cluster_id=azure.cluster_id,
        evidence={"errors": [d.error.to_dict() for d in refused if d.error]},
    )


PROBE = Probe(
    id=ID,
    title="Microsoft's detectors",
    codes=("DET001", "DET002", "DET003", "DET004"),
    plan=plan,
    judge=judge,
    commands=("check",),
    optional_in=("check", "demo"),  # the demo runs what check runs
    order=90,
)
