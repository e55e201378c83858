"""lb: the cluster's load balancers (`kubernetes`, `kubernetes-internal` in the node resource group), the Services
that own their frontends and rules, and whether the outbound rule's SNAT ports hold the nodes at the peak.

The probe reads typed facts (aksdiag.azfacts, aksdiag.kubefacts) digested once at the top of `judge`:
`frontends` maps frontends to owners, `outbound` judges SNAT (LB001, LB002), `live` joins the capacity model with
the last hour's Azure Monitor metrics of the outbound load balancer and the node subnets' NAT gateways (LB007–LB010;
a second round of reads, planned from the first), `services` the Services (LB003–LB006), `tables` lays out what the
renderers and the TUI show. Without a Kubernetes context the Azure
half still runs, and the report says what it could not judge.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import asdict, replace

from aksdiag.probes.lb import live, outbound
from aksdiag.probes.lb.frontends import ID, frontends
from aksdiag.probes.lb.services import Events, lb005_orphans, service_hop
from aksdiag.probes.lb.tables import tables

from aksdiag import codes, kubefacts
from aksdiag.azfacts import AzureFacts, digest
from aksdiag.facts import AzureContextNeed, AzureReadError, ClockNeed, KubeContextNeed, KubeList, KubeListNeed
from aksdiag.lbfacts import LoadBalancer
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

__all__ = ["ID", "PROBE", "judge", "plan"]


def _azure(settings: Settings) -> AzureContextNeed:
    assert settings.azure is not None
    return settings.azure if settings.azure.load_balancers else replace(settings.azure, load_balancers=True)


def _kube_needs(ctx: KubeContextNeed) -> dict[str, KubeListNeed]:
    return {
        "services": KubeListNeed(ctx, "services"),
        "events": KubeListNeed(ctx, "events", field_selector="involvedObject.kind=Service"),
        "nodes": KubeListNeed(ctx, "nodes"),  # names the node behind a backend IP in the SNAT metrics
    }


def plan(target: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure is None:
        raise Skip("no Azure context: pass --cluster and --resource-group (and --subscription)")
    kube = _kube_needs(settings.kube) if settings.kube else {}
    first: list[Hashable] = [_azure(settings), *(n for k, n in kube.items() if k != "nodes")]
    context = facts.get(_azure(settings))
    if context is None:
        return first
    clock = facts.get(ClockNeed())
    if clock is None:  # read on this machine, no wait: the metrics' window ends at the run's clock
        return [*first, ClockNeed()]
    metrics = live.needs(digest(context), clock.utc)  # the last hour's, of what ARM showed
    names = [kube["nodes"]] if metrics and "nodes" in kube else []  # who is behind a backend IP
    return [*first, ClockNeed(), *names, *metrics]


def judge(target: str, settings: Settings, facts: Facts) -> Judgement:
    arm = digest(facts[_azure(settings)])
    findings: list[Finding] = _read_errors(arm)
    unread = [e.reason for e in _relevant(arm) if not e.refusal]
    if arm.cluster is None:
        hop = Hop(1, "cluster", settings.azure.cluster if settings.azure else "?", Status.SKIPPED, detail="not read")
        return Judgement(hops=(hop,), findings=tuple(findings), unread=tuple(unread))
    cluster = arm.cluster
    fields = {
        "resource_group": settings.azure.resource_group if settings.azure else "",
        "cluster": settings.azure.cluster if settings.azure else "",
        "node_resource_group": cluster.node_resource_group,
    }
    hops = [_lb_hop(i + 1, lb) for i, lb in enumerate(arm.load_balancers)]
    capacities = outbound.capacities(arm, cluster) if cluster.outbound_type == "loadBalancer" else []
    hop, snat_findings = outbound.outbound_hop(len(hops) + 1, cluster.outbound_type, capacities, fields)
    hops.append(hop)
    findings += snat_findings
    clock = facts.get(ClockNeed())
    metrics = live.judge(arm, facts, clock.utc if clock else None, capacities, _node_names(settings, facts), fields,
                         len(hops) + 1)  # fmt: skip
    hops += metrics.hops
    findings += metrics.findings

    services: tuple[kubefacts.Service, ...] | None = None
    events: Events | None = None
    if settings.kube is None:
        why = settings.extra.get("kube_error") or "no Kubernetes context: pass --kubeconfig"
        hops.append(Hop(len(hops) + 1, "services", "LoadBalancer Services", Status.SKIPPED, detail=f"not read ({why})"))
    else:
        needs = _kube_needs(settings.kube)
        listed: KubeList = facts[needs["services"]]
        read: KubeList = facts[needs["events"]]
        events = Events(kubefacts.events(read), f"{read.status} {read.error}" if read.error else None)
        if listed.error:
            hops.append(Hop(len(hops) + 1, "services", "LoadBalancer Services", Status.SKIPPED,
                            detail=f"not read: {listed.status} {listed.error}"))  # fmt: skip
            if listed.forbidden:
                findings.append(codes.IP005.at(ID, resource="services", status=listed.status, error=listed.error))
            else:
                unread.append(listed.reason("services"))
        else:
            services = tuple(s for s in kubefacts.services(listed) if s.load_balancer)
    by_uid = {s.compact_uid: s for s in services or ()}
    rows = frontends(arm, by_uid)
    if services is not None:
        for svc in services:
            hop, found = service_hop(len(hops) + 1, svc, rows, arm, events, cluster.private)
            hops.append(hop)
            findings += found
        findings += lb005_orphans(arm, rows, by_uid, fields)
    return Judgement(
        hops=tuple(hops),
        findings=tuple(findings),
        facts={
            "outbound_type": cluster.outbound_type,
            "capacity": [asdict(c) for c in capacities],
            "snat_live": metrics.facts,
        },
        tables=(*tables(arm, rows, capacities, services), *metrics.tables),
        gauges=(*(outbound.gauge(c) for c in capacities), *metrics.gauges),
        unread=tuple(unread),
    )


def _node_names(settings: Settings, facts: Facts) -> dict[str, str]:
    """A node's private IP → its name, from the nodes list (empty without kube, or when it was refused)."""
    if settings.kube is None:
        return {}
    listed: KubeList | None = facts.get(_kube_needs(settings.kube)["nodes"])
    if listed is None or listed.error:
        return {}
    return {n.internal_ip: n.name for n in kubefacts.nodes(listed) if n.internal_ip}


def _relevant(arm: AzureFacts) -> list[AzureReadError]:
    """Failed reads of what this probe needs: the cluster, load balancers, public IPs."""
    out = []
    for e in arm.errors:
        scope = e.scope.lower()
        if "/loadbalancers" in scope or "/publicipaddresses" in scope or scope.endswith("/" + arm.need.cluster.lower()):
            out.append(e)
    return out


def _read_errors(arm: AzureFacts) -> list[Finding]:
    """Refused reads (403, 404) of what this probe needs; a read that could not be made is `unread` instead."""
    out = []
    for e in _relevant(arm):
        if e.refusal:
            code = codes.AZ002 if e.status == 404 else codes.AZ001
            out.append(code.at(ID, status=e.status, code=e.code, scope=e.scope, message=e.message,
                               action=e.action or "read access", evidence=e.to_dict()))  # fmt: skip
    return out


def _lb_hop(index: int, lb: LoadBalancer) -> Hop:
    pools = ", ".join(f"{pool.name} ({pool.members})" for pool in lb.pools)
    detail = (
        f"{len(lb.frontends)} frontends, {len(lb.rules)} rules, {len(lb.probes)} probes, "
        f"{len(lb.outbound_rules)} outbound rules; backend pools: {pools or 'none'}"
    )
    return Hop(index, "lb", lb.name, Status.OK, server=lb.sku, detail=detail)


CODES = ("LB001", "LB002", "LB003", "LB004", "LB005", "LB006", "LB007", "LB008", "LB009", "LB010")

PROBE = Probe(
    id=ID,
    title="Load balancers and SNAT",
    codes=CODES,  # also AZ001/AZ002 and IP005, owned elsewhere
    plan=plan,
    judge=judge,
    commands=("lb", "check", "fleet"),
    order=50,
)
