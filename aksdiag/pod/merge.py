"""The pods' reports as one aksdiag.report/v1: a `pod` probe whose hops are the nodes and whose facts hold the
node × finding matrix, and one finding per code saying on how many nodes, of which pools, it was seen
("DNS001 on 3 of 12 nodes: pool gpu"), and, when the pods traced DNS, a table of each node's resolver (nameservers,
upstreams, whether they are the VNet's DNS servers: which pools or nodes differ). Pure: outcomes in, Report out.

A single pod's report is kept whole (its probes, hops and findings), behind the same `pod` probe naming the node.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aksdiag import __version__
from aksdiag.model import Finding, Hop, ProbeResult, Report, Severity, Status
from aksdiag.pod import nodeview
from aksdiag.pod.run import PodOutcome
from aksdiag.pod.spec import PodPlan

PROBE = "pod"
MARK = {"error": "✘", "warning": "!", "info": "i"}


def single(plan: PodPlan, outcome: PodOutcome) -> Report:
    """The pod's own report, with a first `pod` probe saying where it ran."""
    assert outcome.report is not None
    inner = Report.from_dict(outcome.report)
    return Report(
        command=f"pod {inner.command}",
        target=inner.target,
        probes=(_pod_probe(plan, [outcome], {outcome.node: inner.findings}), *inner.probes),
        elapsed_ms=outcome.elapsed_ms,
        version=__version__,
    )


def merged(plan: PodPlan, outcomes: list[PodOutcome]) -> Report:
    """One report for --all-nodes: the matrix in the `pod` probe, the findings merged across nodes by code."""
    ran = [o for o in outcomes if o.ran]
    per_node = {o.node: Report.from_dict(o.report).findings for o in ran if o.report is not None}
    findings = _merge_findings(per_node, outcomes)
    target = next((str(o.report.get("target", "")) for o in ran if o.report), "")
    probe = _pod_probe(plan, outcomes, per_node, findings)
    resolvers = nodeview.resolver_table(nodeview.given(plan.args, "--vnet-dns"),
                                        [(o.node, o.pool, o.report) for o in ran])  # fmt: skip
    return Report(
        command=f"pod {plan.command}",
        target=target,
        probes=(replace(probe, tables=(resolvers,)) if resolvers else probe,),
        elapsed_ms=max((o.elapsed_ms for o in outcomes), default=0.0),
        version=__version__,
    )


def matrix(outcomes: list[PodOutcome]) -> dict[str, Any]:
    """{codes, rows}: a row per node with its pool, state, and the severity of each code found there."""
    codes: dict[str, Severity] = {}
    rows = []
    for o in outcomes:
        cells: dict[str, str] = {}
        if o.report is not None:
            for f in Report.from_dict(o.report).findings:
                cells[f.id] = f.severity.value
                codes[f.id] = max(codes.get(f.id, f.severity), f.severity, key=lambda s: s.rank)
        state = "skipped" if o.skipped else "ran" if o.ran else "could not run"
        rows.append({"node": o.node, "pool": o.pool, "state": state, "cells": cells,
                     "why": o.skipped or o.error})  # fmt: skip
    ordered = sorted(codes, key=lambda c: (-codes[c].rank, c))
    return {"codes": ordered, "rows": rows}


def matrix_text(outcomes: list[PodOutcome]) -> str:
    """The matrix as a plain table for the text and Markdown outputs."""
    m = matrix(outcomes)
    codes, rows = m["codes"], m["rows"]
    width = max([4, *(len(r["node"]) for r in rows)])
    pool_width = max([4, *(len(r["pool"]) for r in rows)])
    head = f"{'node':<{width}}  {'pool':<{pool_width}}  " + "  ".join(f"{c:<6}" for c in codes)
    lines = [head.rstrip()]
    for r in rows:
        if r["state"] == "ran":
            cells = "  ".join(f"{MARK.get(r['cells'].get(c, ''), '·'):<6}" for c in codes)
        else:
            why = r["why"] if len(r["why"]) <= 90 else r["why"][:89] + "…"
            cells = f"{r['state']}: {why}"
        lines.append(f"{r['node']:<{width}}  {r['pool'] or '-':<{pool_width}}  {cells}".rstrip())
    ran = [r["node"] for r in rows if r["state"] == "ran"]
    pools = {r["node"]: r["pool"] for r in rows}
    for code in codes:
        hit = [r["node"] for r in rows if code in r["cells"]]
        lines.append(f"{code} on {len(hit)} of {len(ran)} nodes: {spread(hit, ran, pools)}")
    return "\n".join(lines)


def _pod_probe(
    plan: PodPlan,
    outcomes: list[PodOutcome],
    per_node: dict[str, tuple[Finding, ...]],
    findings: list[Finding] | None = None,
) -> ProbeResult:
    findings = findings or []
    hops = []
    for i, o in enumerate(outcomes, 1):
        found = per_node.get(o.node, ())
        worst = max((f.severity.rank for f in found), default=-1)
        if o.skipped:
            status, answer, detail = Status.SKIPPED, "skipped", o.skipped
        elif not o.ran:
            answer = f"exit {o.exit_code}" if o.exit_code is not None else o.reason or "not run"
            status, detail = Status.FAIL, f"could not run: {o.error}"
        else:
            status = Status.FAIL if worst == 2 else Status.WARN if worst == 1 else Status.OK
            answer = ", ".join(dict.fromkeys(f.id for f in found)) or "no finding"
            detail = f"verdict {o.report.get('verdict') if o.report else '?'}, exit {o.exit_code}"
        where = f"pool {o.pool} · " if o.pool else ""
        pod = f"pod {plan.namespace}/{o.pod} · " if o.pod else ""
        hops.append(Hop(i, "node", o.node, status, rcode=answer, elapsed_ms=o.elapsed_ms or None,
                        detail=f"{where}{pod}{detail}"))  # fmt: skip
    failed = [o for o in outcomes if o.could_not_run]
    worst = max((f.severity.rank for f in findings), default=-1)
    status = Status.ERROR if failed else Status.FAIL if worst == 2 else Status.WARN if worst == 1 else Status.OK
    ran = sum(1 for o in outcomes if o.ran)
    reason = (
        f"{len(failed)} of {len(outcomes)} pods could not run: " + "; ".join(f"{o.node}: {o.error}" for o in failed)
        if failed
        else None
    )
    facts = {
        "run_id": plan.run_id,
        "image": plan.image,
        "namespace": plan.namespace,
        "args": list(plan.args),
        "dns_policy": plan.dns_policy,
        "host_network": plan.host_network,
        "nodes_ran": ran,
        "matrix": matrix(outcomes),
        "pods": [
            {"node": o.node, "pool": o.pool, "pod": o.pod, "phase": o.phase, "reason": o.reason,
             "exit_code": o.exit_code, "error": o.error, "skipped": o.skipped, "report": o.report}
            for o in outcomes
        ],
    }  # fmt: skip
    title = f"aksdiag {plan.command} in a pod on {len(outcomes)} node{'s' if len(outcomes) != 1 else ''}"
    return ProbeResult(PROBE, status, max((o.elapsed_ms for o in outcomes), default=0.0), tuple(hops),
                       tuple(findings), facts, reason, title)  # fmt: skip


def _merge_findings(per_node: dict[str, tuple[Finding, ...]], outcomes: list[PodOutcome]) -> list[Finding]:
    """One finding per code: the first node's words, prefixed with where it was seen, every node's in evidence."""
    pools = {o.node: o.pool for o in outcomes}
    ran = [o.node for o in outcomes if o.ran]
    by_code: dict[str, list[tuple[str, Finding]]] = {}
    for node in ran:
        for f in per_node.get(node, ()):
            by_code.setdefault(f.id, []).append((node, f))
    merged = []
    for seen in by_code.values():
        nodes = list(dict.fromkeys(n for n, _ in seen))
        first = seen[0][1]
        where = f"On {len(nodes)} of {len(ran)} nodes ({spread(nodes, ran, pools)})"
        evidence = {
            "probe": first.probe,
            "nodes": nodes,
            "by_node": {n: {"detail": f.detail, "hop": f.hop, "evidence": f.evidence} for n, f in seen},
        }
        merged.append(replace(first, probe=PROBE, hop=None, detail=f"{where}: {first.detail}", evidence=evidence))
    return sorted(merged, key=lambda f: (-f.severity.rank, f.id))


def spread(nodes: list[str], ran: list[str], pools: dict[str, str]) -> str:
    """Where a finding was seen, by pool: "pool gpu" when every node of it that ran, else "2 of 5 in pool user"."""
    parts = []
    for pool in dict.fromkeys(pools[n] for n in nodes):
        hit = [n for n in nodes if pools[n] == pool]
        total = [n for n in ran if pools[n] == pool]
        name = f"pool {pool}" if pool else "no pool label"
        parts.append(name if len(hit) == len(total) else f"{len(hit)} of {len(total)} in {name}: {', '.join(hit)}")
    return "; ".join(parts)
