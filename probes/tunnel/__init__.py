"""tunnel: the konnectivity tunnel that carries the API server's calls to the kubelets (kubectl logs, exec,
port-forward, webhooks), and the node paths it and the nodes need through the NSGs (issue 15).

The Kubernetes half (`agents`): the konnectivity-agent pods in kube-system, ready, restarts, on which nodes and
pools. The Azure half (`paths`): the NSGs on the node subnets and on the pools' NICs, joined by the evaluator for TCP
10250 from the tunnel's pools to every pool, the nodes to the API server, and with API Server VNet Integration (no
tunnel) the API server to the kubelets. Without a Kubernetes context the NSG paths are judged alone (the tunnel's
pools taken as the System pools, where AKS prefers to run it); without Azure context, the pods alone.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace

from aksdiag.probes.tunnel import paths
from aksdiag.probes.tunnel.agents import ID, LABEL, NAMESPACE, Agent, agents, judge_agents

from aksdiag import codes, kubefacts
from aksdiag.azfacts import AzureFacts, digest
from aksdiag.facts import KubeContextNeed, KubeList, KubeListNeed
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

__all__ = ["ID", "PROBE", "judge", "plan"]


def _kube_context(settings: Settings) -> KubeContextNeed | None:
    if settings.kube is not None:
        return settings.kube
    return KubeContextNeed(in_cluster=True) if settings.in_cluster else None


def _kube_needs(ctx: KubeContextNeed) -> dict[str, KubeListNeed]:
    return {
        "agents": KubeListNeed(ctx, "pods", label_selector=LABEL, namespace=NAMESPACE),
        "nodes": KubeListNeed(ctx, "nodes"),
    }


def plan(target: str, settings: Settings, facts: Facts) -> list[Hashable]:
    ctx = _kube_context(settings)
    if settings.azure is None and ctx is None:
        why = settings.extra.get("kube_error") or "pass --kubeconfig"
        raise Skip(f"no Kubernetes context ({why}) and no Azure context (--cluster, --resource-group)")
    kube = list(_kube_needs(ctx).values()) if ctx else []
    return [*([settings.azure] if settings.azure else []), *kube]


def judge(target: str, settings: Settings, facts: Facts) -> Judgement:
    arm = digest(facts[settings.azure]) if settings.azure else None
    no_azure = "no Azure context" if arm is None else "the cluster could not be read from Azure"
    if arm is not None and arm.cluster is None:
        arm = None  # its pools, subnets and NSGs are unknown
    findings: list[Finding] = []
    unread: list[str] = []
    hops: list[Hop] = []
    ctx = _kube_context(settings)
    found: tuple[Agent, ...] | None = None
    nodes: list[kubefacts.Node] | None = None
    if ctx is None:
        why = settings.extra.get("kube_error") or "no Kubernetes context: pass --kubeconfig"
        hops.append(Hop(1, "tunnel", "konnectivity-agent", Status.SKIPPED, detail=f"not read ({why})"))
    else:
        needs = _kube_needs(ctx)
        listed: KubeList = facts[needs["agents"]]
        node_list: KubeList = facts[needs["nodes"]]
        for what, read in (("pods", listed), ("nodes", node_list)):
            if read.error and read.forbidden:
                findings.append(codes.IP005.at(ID, resource=what, status=read.status, error=read.error))
            elif read.error:
                unread.append(read.reason(what))
        nodes = None if node_list.error else list(kubefacts.nodes(node_list))
        pool_of = None if nodes is None else {n.name: n.pool for n in nodes}
        if listed.error:
            hops.append(Hop(1, "tunnel", "konnectivity-agent", Status.SKIPPED,
                            detail=f"not read: {listed.status} {listed.error}"))  # fmt: skip
        else:
            found = agents(listed)
            integrated = arm.cluster.vnet_integration if arm and arm.cluster else None
            hops.append(judge_agents(1, found, pool_of, integrated, findings))
    hops += _paths(len(hops) + 1, arm, nodes, found, findings, no_azure)
    _relate(findings)
    return Judgement(
        hops=tuple(hops),
        findings=tuple(findings),
        facts={"agents": [a.name for a in found or ()], "agent_pools": _agent_pools(arm, nodes, found)},
        unread=tuple(unread),
    )


def _agent_pools(
    arm: AzureFacts | None, nodes: list[kubefacts.Node] | None, found: tuple[Agent, ...] | None
) -> list[str]:
    """The pools the tunnel runs on: the agents' nodes' pools (the ready ones', else all); without the pods, the
    System pools (AKS schedules its add-ons there preferably), else every pool known."""
    pool_of = {n.name: n.pool for n in nodes or ()}
    if found:
        chosen = [a for a in found if a.ready] or list(found)
        pools = [pool_of[a.node] for a in chosen if a.node in pool_of]
        if pools:
            return list(dict.fromkeys(pools))
    known = arm.cluster.pools if arm and arm.cluster else ()
    system = [p.name for p in known if p.mode.lower() == "system"]
    return system or [p.name for p in known] or list(dict.fromkeys(n.pool for n in nodes or ()))


def _where(pools: list[str], nodes: list[kubefacts.Node] | None, found: tuple[Agent, ...] | None) -> str:
    """The agents' nodes (the ready ones'), or the pools taken for theirs, saying so."""
    known = {n.name for n in nodes or ()}
    chosen = [a for a in found or () if a.ready] or list(found or ())
    homes = sorted({a.node for a in chosen if a.node in known})
    if homes:
        return ", ".join(homes)
    why = "no pods read" if found is None else "no agent on a known node"
    return f"{', '.join(pools)}: {why}, the System pools taken, where AKS prefers to run it"


def _paths(index: int, arm: AzureFacts | None, nodes: list[kubefacts.Node] | None, found: tuple[Agent, ...] | None,
           findings: list[Finding], no_azure: str) -> list[Hop]:  # fmt: skip
    if arm is None:
        return [Hop(index, "nsg", "node paths", Status.SKIPPED,
                    detail=f"{no_azure}: the NSGs on the node subnets and NICs are not known")]  # fmt: skip
    ends = paths.pool_ends(arm, nodes)
    prefixes = paths.vnet_prefixes(arm, ends)
    api, ports = paths.api_end(arm)
    assert arm.cluster is not None
    integrated = arm.cluster.vnet_integration and api is not None
    hops: list[Hop] = []
    if not integrated or found:  # with VNet Integration and no agents, nothing dials the kubelets from the nodes
        pools = _agent_pools(arm, nodes, found)
        hops += paths.kubelet_paths(index, ends, pools, _where(pools, nodes, found), prefixes, findings)
    if api is not None:
        hops += paths.apiserver_paths(index + len(hops), ends, api, ports, prefixes, integrated, findings)
    else:
        hops.append(Hop(index + len(hops), "apiserver", "nodes → the API server", Status.SKIPPED,
                        detail="a public API server: the nodes' way out is the egress probes' to judge"))  # fmt: skip
    return hops


def _relate(findings: list[Finding]) -> None:
    """An agent down or crash-looping is explained by the nodes' way to the API server: this probe's TUN005, the
    outbound probe's routes and NSGs, the egress probe's tests."""
    for i, f in enumerate(findings):
        if f.id in ("TUN001", "TUN003"):
            spec = {"probes": [ID, "outbound", "egress"], "as": "cause", "codes": ["TUN005", "EG"]}
            findings[i] = replace(f, evidence={**f.evidence, "relates_to": spec})


PROBE = Probe(
    id=ID,
    title="The konnectivity tunnel and the node paths",
    codes=("TUN001", "TUN002", "TUN003", "TUN004", "TUN005", "TUN006"),  # also IP005, owned elsewhere
    plan=plan,
    judge=judge,
    commands=("check",),
    order=37,
)
