"""cluster_state: is the cluster running, did its last operation succeed, and did its nodes bootstrap?

Read from the managedClusters GET that every Azure probe shares (settings.azure): powerState, provisioningState
and status.provisioningError of the cluster and of each agent pool. A stopped cluster is said first (CL001), so
no one reads a dead API server into it. A node bootstrap (CSE) exit code in an error becomes one finding per exit
code, naming every place it failed, with evidence `relates_to` the probes whose findings explain it (52 → the DNS
chain, 51 → the API server path, 50 → egress): the join (aksdiag.joins) then says "here is why". `cse` reads the
exit codes out of the error texts.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from aksdiag.probes.cluster_state.cse import ExitCode, describe, exit_code

from aksdiag.azfacts import AzureFacts, Cluster, NodePool, digest
from aksdiag.codes import cluster as cl
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

__all__ = ["ID", "PROBE", "judge", "plan", "stopped"]

ID = "cluster_state"
IN_PROGRESS = (
    "creating",
    "updating",
    "upgrading",
    "scaling",
    "starting",
    "stopping",
    "deleting",
    "migrating",
    "canceling",
    "reconciling",
)
"""provisioningState values of an operation that has not ended (Succeeded, Failed and Canceled have)."""
SHORT = 300
"""Characters of an error message shown in a finding's detail (the whole message is in its evidence)."""


def plan(target: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure is None:
        raise Skip("no Azure context: pass --cluster and --resource-group (and --subscription)")
    return [settings.azure]


def stopped(cluster: Cluster | None) -> bool:
    """A cluster whose powerState is Stopped (its API server and nodes are not running)."""
    return cluster is not None and cluster.power_state.lower() == "stopped"


def judge(target: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.azure is not None
    arm = digest(facts[settings.azure])
    cluster = arm.cluster
    if cluster is None:
        return _unread(settings.azure.cluster, arm)
    fields: dict[str, Any] = {
        "resource_group": settings.azure.resource_group,
        "cluster": cluster.name or settings.azure.cluster,
    }
    findings: list[Finding] = []
    if stopped(cluster):
        findings.append(_cl001(cluster, fields))
    else:
        findings += _operations(cluster, fields)
        findings += _failures(cluster, arm, fields)
        findings += _stopped_pools(cluster, fields)
    hops = (_cluster_hop(cluster), *(_pool_hop(i + 2, p, stopped(cluster)) for i, p in enumerate(cluster.pools)))
    return Judgement(hops=hops, findings=tuple(findings), facts=_summary(cluster))


# ---------------------------------------------------------------- CL001 stopped, CL003 in progress


def _cl001(cluster: Cluster, fields: dict[str, Any]) -> Finding:
    starting = cluster.provisioning_state.lower() == "starting"
    return cl.CL001.at(
        ID,
        provisioning=cluster.provisioning_state or "?",
        nodes=sum(p.count for p in cluster.pools),
        pools=", ".join(p.name for p in cluster.pools) or "no pool",
        starting=" It is starting now: run aksdiag again when it is Running." if starting else "",
        **fields,
        evidence={"power_state": cluster.power_state, "provisioning_state": cluster.provisioning_state},
    )


def _busy(state: str) -> bool:
    return state.lower() in IN_PROGRESS


def _operations(cluster: Cluster, fields: dict[str, Any]) -> list[Finding]:
    """CL003 once: the cluster's operation, or the pools' (a pool scales or upgrades on its own)."""
    if _busy(cluster.provisioning_state):
        what, state = cluster.name, cluster.provisioning_state
    else:
        busy = [p for p in cluster.pools if _busy(p.provisioning_state)]
        if not busy:
            return []
        what = ", ".join(f"pool {p.name}" for p in busy)
        state = "/".join(dict.fromkeys(p.provisioning_state for p in busy))
    evidence = {"cluster": cluster.provisioning_state, "pools": {p.name: p.provisioning_state for p in cluster.pools}}
    return [
        cl.CL003.at(
            ID, what=what, state=f"is {state}" if "," not in what else f"are {state}", **fields, evidence=evidence
        )
    ]


def _stopped_pools(cluster: Cluster, fields: dict[str, Any]) -> list[Finding]:
    """CL005 for each pool stopped in a running cluster."""
    return [
        cl.CL005.at(
            ID,
            pool=p.name,
            mode=p.mode or "?",
            nodes=p.count,
            **fields,
            evidence={"pool": p.name, "power_state": p.power_state},
        )
        for p in cluster.pools
        if p.power_state.lower() == "stopped"
    ]


# ---------------------------------------------------------------- CL002/CL004 failures, CL006–CL009 CSE exit codes


def _failures(cluster: Cluster, arm: AzureFacts, fields: dict[str, Any]) -> list[Finding]:
    """One finding per CSE exit code (every place it failed), then CL002/CL004 for failures that name none."""
    places: list[tuple[str, str, str, NodePool | None]] = []
    if cluster.provisioning_state.lower() == "failed" or cluster.error_code:
        places.append(("the cluster", cluster.error_code, cluster.error_message, None))
    for p in cluster.pools:
        if p.provisioning_state.lower() == "failed" or p.error_code:
            places.append((f"pool {p.name}", p.error_code, p.error_message, p))
    by_exit: dict[int, list[tuple[str, str, str, NodePool | None]]] = {}
    plain: list[tuple[str, str, str, NodePool | None]] = []
    for place in places:
        number = exit_code(place[1], place[2])
        (by_exit.setdefault(number, []) if number is not None else plain).append(place)
    findings = [_cse(describe(n), where, cluster, arm, fields) for n, where in by_exit.items()]
    for _, code, message, pool in plain:
        error = f"{code}: {_short(message)}" if code or message else "ARM gives no error text (see the Activity log)."
        evidence = {"error_code": code, "message": message}
        if pool is None:
            findings.append(cl.CL002.at(ID, error=error, error_code=code or "the error", **fields, evidence=evidence))
        else:
            findings.append(
                cl.CL004.at(
                    ID,
                    pool=pool.name,
                    mode=pool.mode or "?",
                    nodes=pool.count,
                    error=error,
                    error_code=code or "the error",
                    **fields,
                    evidence=evidence,
                )
            )
    return findings


_CSE_CODES = {50: cl.CL008, 51: cl.CL007, 52: cl.CL006, 53: cl.CL006}


def _cse(
    exit: ExitCode,
    where: list[tuple[str, str, str, NodePool | None]],
    cluster: Cluster,
    arm: AzureFacts,
    fields: dict[str, Any],
) -> Finding:
    code = _CSE_CODES.get(exit.number, cl.CL009)
    meaning = f"{exit.constant}: {exit.meaning}" if exit.constant and exit.number != 124 else exit.meaning
    evidence: dict[str, Any] = {
        "exit_code": exit.number,
        "where": [w[0] for w in where],
        "errors": [{"where": w[0], "code": w[1], "message": w[2]} for w in where],
    }
    if exit.probes:
        evidence["relates_to"] = {"probes": list(exit.probes), "as": "cause", "codes": list(exit.prefixes)}
    return code.at(
        ID,
        where=_places(w[0] for w in where),
        exit_code=exit.number,
        meaning=meaning,
        fqdn=cluster.api_fqdn or "the API server's name",
        dns_servers=", ".join(arm.vnet_dns_servers) or "Azure DNS",
        ports="443 and 4443" if cluster.vnet_integration else "443",
        outbound_type=cluster.outbound_type,
        advice=exit.advice,
        **fields,
        evidence=evidence,
    )


def _places(names: Any) -> str:
    listed = list(names)
    text = " and ".join([", ".join(listed[:-1]), listed[-1]] if len(listed) > 1 else listed)
    return text[0].upper() + text[1:]


def _short(message: str) -> str:
    """The message on one line, its first SHORT characters."""
    text = re.sub(r"\s+", " ", message).strip()
    return text if len(text) <= SHORT else text[: SHORT - 1].rstrip() + "…"


# ---------------------------------------------------------------- hops and facts


def _state(power: str, provisioning: str) -> str:
    return (
        ", ".join(
            s for s in (power and f"powerState {power}", provisioning and f"provisioningState {provisioning}") if s
        )
        or "state not given"
    )


def _cluster_hop(cluster: Cluster) -> Hop:
    failed = stopped(cluster) or cluster.provisioning_state.lower() == "failed"
    status = Status.FAIL if failed else Status.WARN if _busy(cluster.provisioning_state) else Status.OK
    return Hop(
        1,
        "cluster",
        cluster.name,
        status,
        server=cluster.api_fqdn,
        detail=_state(cluster.power_state, cluster.provisioning_state),
    )


def _pool_hop(index: int, pool: NodePool, cluster_stopped: bool) -> Hop:
    if pool.provisioning_state.lower() == "failed":
        status = Status.FAIL
    elif cluster_stopped:
        status = Status.SKIPPED
    elif pool.power_state.lower() == "stopped" or _busy(pool.provisioning_state):
        status = Status.WARN
    else:
        status = Status.OK
    detail = f"{pool.mode or '?'}, {pool.count} node(s); {_state(pool.power_state, pool.provisioning_state)}"
    if pool.error_code or pool.error_message:
        detail += f"; {pool.error_code}: {_short(pool.error_message)}"
    return Hop(index, "pool", pool.name, status, detail=detail)


def _summary(cluster: Cluster) -> dict[str, Any]:
    return {
        "power_state": cluster.power_state,
        "provisioning_state": cluster.provisioning_state,
        "error_code": cluster.error_code,
        "pools": [
            {
                "name": p.name,
                "mode": p.mode,
                "count": p.count,
                "power_state": p.power_state,
                "provisioning_state": p.provisioning_state,
                "error_code": p.error_code,
            }
            for p in cluster.pools
        ],
    }


def _unread(name: str, arm: AzureFacts) -> Judgement:
    """The cluster could not be read: a refusal is private_dns's finding (AZ001/AZ002), anything else unread."""
    mine = [e for e in arm.errors if e.scope.lower().endswith("/managedclusters/" + name.lower())]
    reason = mine[0].reason if mine else "the cluster was not read"
    hop = Hop(1, "cluster", name, Status.SKIPPED, detail=f"not read: {reason}")
    return Judgement(hops=(hop,), unread=tuple(e.reason for e in mine if not e.refusal))


PROBE = Probe(
    id=ID,
    title="Cluster state",
    codes=tuple(f"CL{n:03d}" for n in range(1, 10)),
    plan=plan,
    judge=judge,
    commands=("check", "fleet"),
    order=1,
)
