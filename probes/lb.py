"""lb: the cluster's load balancers (`kubernetes`, `kubernetes-internal` in the node resource group), the Services
that own their frontends and rules, and whether the outbound rule's SNAT ports hold the nodes at the peak.

Ownership follows the cloud provider's naming: a Service's frontend is `a<uid without dashes>`, its rules and
probes `a<uid>-<protocol>-<port>`; outbound frontends are those the outbound rule names. SNAT: 64,000 ports per
outbound IP, shared as allocatedOutboundPorts per node, or Azure's default by pool size (aksdiag.snat).
Without a Kubernetes context the Azure half still runs, and the report says what it could not judge.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Any

from aksdiag import codes, snat
from aksdiag.armview import name_of, props
from aksdiag.facts import AzureContext, AzureContextNeed, KubeContextNeed, KubeList, KubeListNeed
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

ID = "lb"
INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal"
SHARED_PROBE_PORT = 10256
"""kube-proxy's health port: the probe target of every rule in the cloud provider's shared probe mode."""
LOW_PORTS = 1024
"""What each node gets by default in a pool of up to 50: fewer is what LB002 calls low."""
_UID = re.compile(r"^a([0-9a-f]{32})(?:$|-)")


def _azure(settings: Settings) -> AzureContextNeed:
    assert settings.azure is not None
    return settings.azure if settings.azure.load_balancers else replace(settings.azure, load_balancers=True)


def _kube_needs(ctx: KubeContextNeed) -> dict[str, KubeListNeed]:
    return {
        "services": KubeListNeed(ctx, "services"),
        "events": KubeListNeed(ctx, "events", field_selector="involvedObject.kind=Service"),
    }


def plan(target: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure is None:
        raise Skip("no Azure context: pass --cluster and --resource-group (and --subscription)")
    kube = list(_kube_needs(settings.kube).values()) if settings.kube else []
    return [_azure(settings), *kube]


# ---------------------------------------------------------------- the Azure side, digested


@dataclass
class Frontend:
    lb: str
    name: str
    id: str
    address: str
    public: bool
    owner: str = ""


@dataclass
class Capacity:
    rule: str
    lb: str
    ports: int  # per node, at the peak
    explicit: bool
    ips: int
    now: int
    upgrade: int
    peak: int
    peak_label: str
    max_nodes: int


def _frontends(ctx: AzureContext) -> list[Frontend]:
    public = {p.get("id", "").lower(): props(p).get("ipAddress") or "" for p in ctx.public_ips}
    out = []
    for lb in ctx.load_balancers:
        for fe in props(lb).get("frontendIPConfigurations") or []:
            fp = props(fe)
            pip = (fp.get("publicIPAddress") or {}).get("id", "")
            address = public.get(pip.lower(), "") if pip else fp.get("privateIPAddress") or ""
            out.append(Frontend(lb["name"], fe.get("name", ""), fe.get("id", ""), address or "?", bool(pip)))
    return out


def _pool_size(lb: dict[str, Any], pool_id: str) -> int:
    for pool in props(lb).get("backendAddressPools") or []:
        if pool.get("id", "").lower() == pool_id.lower():
            p = props(pool)
            return len(p.get("backendIPConfigurations") or []) or len(p.get("loadBalancerBackendAddresses") or [])
    return 0


def _node_counts(cluster: dict[str, Any]) -> tuple[int, int, int, str]:
    """Nodes now, during an upgrade (now + surge) and at the peak (autoscaler maximum + surge), from the pools."""
    from aksdiag.probes.ipplan import surge

    now = upgrade = peak = 0
    autoscaled = False
    for pool in props(cluster).get("agentPoolProfiles") or []:
        count = int(pool.get("count") or 0)
        top = max(count, int(pool.get("maxCount") or 0)) if pool.get("enableAutoScaling") else count
        autoscaled = autoscaled or bool(pool.get("enableAutoScaling"))
        now += count
        upgrade += count + surge(pool, count)
        peak += top + surge(pool, top)
    return now, upgrade, peak, "the autoscaler maximum plus upgrade surge" if autoscaled else "an upgrade surge"


def _capacities(ctx: AzureContext) -> list[Capacity]:
    assert ctx.cluster is not None
    now, upgrade, peak, peak_label = _node_counts(ctx.cluster)
    out = []
    for lb in ctx.load_balancers:
        for rule in props(lb).get("outboundRules") or []:
            rp = props(rule)
            ips = len(rp.get("frontendIPConfigurations") or [])
            pool = _pool_size(lb, (rp.get("backendAddressPool") or {}).get("id", ""))
            now = max(now, pool)  # the pool is the truth when the pools' counts lag behind
            ports = int(rp.get("allocatedOutboundPorts") or 0)
            if ports:
                cap = snat.capacity(ports, ips, peak)
                out.append(Capacity(rule["name"], lb["name"], ports, True, ips, now, upgrade, peak, peak_label,
                                    cap.max_nodes))  # fmt: skip
            else:
                out.append(Capacity(rule["name"], lb["name"], snat.default_ports(peak), False, max(ips, 1), now,
                                    upgrade, peak, peak_label, 1000))  # fmt: skip
    return out


# ---------------------------------------------------------------- the Kubernetes side


def _compact(uid: str) -> str:
    return uid.replace("-", "").lower()


def _owner_uid(name: str) -> str | None:
    m = _UID.match(name.lower())
    return m.group(1) if m else None


def _lb_services(services: KubeList) -> list[dict[str, Any]]:
    return [s for s in services.items if (s.get("spec") or {}).get("type") == "LoadBalancer"]


def _ref(svc: dict[str, Any]) -> str:
    meta = svc.get("metadata") or {}
    return f"{meta.get('namespace', 'default')}/{meta.get('name', '?')}"


def _ingress(svc: dict[str, Any]) -> list[str]:
    return [i.get("ip") or i.get("hostname") or "" for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]  # fmt: skip


def _is_internal(svc: dict[str, Any]) -> bool:
    return str(((svc.get("metadata") or {}).get("annotations") or {}).get(INTERNAL, "")).lower() == "true"


# ---------------------------------------------------------------- judging


def judge(target: str, settings: Settings, facts: Facts) -> Judgement:
    ctx: AzureContext = facts[_azure(settings)]
    findings: list[Finding] = _read_errors(ctx)
    if ctx.cluster is None:
        hop = Hop(1, "cluster", settings.azure.cluster if settings.azure else "?", Status.SKIPPED, detail="not read")
        return Judgement(hops=(hop,), findings=tuple(findings))
    cluster_props = props(ctx.cluster)
    fields = {
        "resource_group": settings.azure.resource_group if settings.azure else "",
        "cluster": settings.azure.cluster if settings.azure else "",
        "node_resource_group": cluster_props.get("nodeResourceGroup", ""),
    }
    hops: list[Hop] = []
    frontends = _frontends(ctx)
    outbound_ids = _outbound_frontend_ids(ctx)
    for fe in frontends:
        if fe.id.lower() in outbound_ids:
            fe.owner = "outbound (SNAT)"
    for lb in ctx.load_balancers:
        hops.append(_lb_hop(len(hops) + 1, lb))
    outbound_type = (cluster_props.get("networkProfile") or {}).get("outboundType") or "loadBalancer"
    capacities = _capacities(ctx) if outbound_type == "loadBalancer" else []
    hop, snat_findings = _outbound(len(hops) + 1, outbound_type, capacities, fields)
    hops.append(hop)
    findings += snat_findings

    services: list[dict[str, Any]] | None = None
    events: KubeList | None = None
    if settings.kube is None:
        why = settings.extra.get("kube_error") or "no Kubernetes context: pass --kubeconfig"
        hops.append(Hop(len(hops) + 1, "services", "LoadBalancer Services", Status.SKIPPED, detail=f"not read ({why})"))
    else:
        needs = _kube_needs(settings.kube)
        listed: KubeList = facts[needs["services"]]
        events = facts[needs["events"]]
        if listed.error:
            hops.append(Hop(len(hops) + 1, "services", "LoadBalancer Services", Status.SKIPPED,
                            detail=f"not read: {listed.status} {listed.error}"))  # fmt: skip
            findings.append(codes.IP005.at(ID, resource="services", status=listed.status, error=listed.error))
        else:
            services = _lb_services(listed)
    private = bool((cluster_props.get("apiServerAccessProfile") or {}).get("enablePrivateCluster"))
    if services is not None:
        by_uid = {_compact((s.get("metadata") or {}).get("uid", "")): s for s in services}
        for fe in frontends:
            uid = _owner_uid(fe.name)
            if not fe.owner and uid and uid in by_uid:
                fe.owner = _ref(by_uid[uid])
        for svc in services:
            hop, found = _service(len(hops) + 1, svc, frontends, ctx, events, private, fields)
            hops.append(hop)
            findings += found
        findings += _orphans(ctx, frontends, by_uid, fields)
    tables = _tables(ctx, frontends, capacities, services)
    gauges = [_gauge(c) for c in capacities]
    return Judgement(
        hops=tuple(hops),
        findings=tuple(findings),
        facts={
            "outbound_type": outbound_type,
            "capacity": [c.__dict__ for c in capacities],
            "tables": tables,
            "gauges": gauges,
        },
    )


def _read_errors(ctx: AzureContext) -> list[Finding]:
    """Failed reads of what this probe needs: the cluster, load balancers, public IPs."""
    out = []
    for e in ctx.errors:
        scope = e.scope.lower()
        if "/loadbalancers" in scope or "/publicipaddresses" in scope or scope.endswith("/" + ctx.need.cluster.lower()):
            code = codes.AZ002 if e.status == 404 else codes.AZ001
            out.append(code.at(ID, status=e.status, code=e.code, scope=e.scope, message=e.message,
                               action=e.action or "read access", evidence=e.to_dict()))  # fmt: skip
    return out


def _outbound_frontend_ids(ctx: AzureContext) -> set[str]:
    ids = set()
    for lb in ctx.load_balancers:
        for rule in props(lb).get("outboundRules") or []:
            ids |= {f.get("id", "").lower() for f in props(rule).get("frontendIPConfigurations") or []}
    return ids


def _lb_hop(index: int, lb: dict[str, Any]) -> Hop:
    p = props(lb)
    pools = ", ".join(f"{pool['name']} ({_pool_size(lb, pool.get('id', ''))})" for pool in p.get("backendAddressPools") or [])  # fmt: skip
    detail = (
        f"{len(p.get('frontendIPConfigurations') or [])} frontends, {len(p.get('loadBalancingRules') or [])} rules, "
        f"{len(p.get('probes') or [])} probes, {len(p.get('outboundRules') or [])} outbound rules; "
        f"backend pools: {pools or 'none'}"
    )
    return Hop(index, "lb", lb["name"], Status.OK, server=(lb.get("sku") or {}).get("name"), detail=detail)


def _outbound(
    index: int, outbound_type: str, capacities: list[Capacity], fields: dict[str, str]
) -> tuple[Hop, list[Finding]]:
    if outbound_type != "loadBalancer":
        why = {
            "managedNATGateway": "a managed NAT gateway: SNAT ports are the gateway's (64,512 per public IP)",
            "userAssignedNATGateway": "your NAT gateway: SNAT ports are the gateway's (64,512 per public IP)",
            "userDefinedRouting": "your route table (a firewall or appliance): SNAT happens there",
        }.get(outbound_type, outbound_type)
        return Hop(
            index, "outbound", outbound_type, Status.OK, detail=f"egress through {why}, not the load balancer"
        ), []
    if not capacities:
        return Hop(
            index, "outbound", outbound_type, Status.WARN, detail="no outbound rule read on the load balancers"
        ), []
    findings = []
    status = Status.OK
    details = []
    for c in capacities:
        details.append(_capacity_text(c))
        if c.peak > c.max_nodes or c.ports == 0:
            status = Status.FAIL
            when = "the peak" if c.upgrade <= c.max_nodes else "an upgrade" if c.now <= c.max_nodes else "now"
            nodes = c.peak if when == "the peak" else c.upgrade if when == "an upgrade" else c.now
            ports = c.ports or snat.DEFAULT_ALLOCATION[-1][1]
            findings.append(
                codes.LB001.at(
                    ID,
                    hop=index,
                    lb=c.lb,
                    rule=c.rule,
                    ports=ports,
                    nodes=nodes,
                    when=f"{when} ({c.peak_label})" if when == "the peak" else when,
                    needed=nodes * ports,
                    available=c.ips * snat.PORTS_PER_IP,
                    ips=c.ips,
                    max_nodes=c.max_nodes,
                    ips_needed=_ips_for(nodes, ports),
                    ports_fit=_ports_fit(nodes, c.ips),
                    **fields,
                    evidence=c.__dict__ | {"needed_nodes": nodes},
                )
            )
        elif c.ports < LOW_PORTS:
            status = Status.WARN if status is Status.OK else status
            how = "explicit allocatedOutboundPorts" if c.explicit else f"Azure's default for a pool of {c.peak}"
            findings.append(
                codes.LB002.at(
                    ID,
                    hop=index,
                    lb=c.lb,
                    rule=c.rule,
                    ports=c.ports,
                    nodes=c.peak,
                    when=f"the peak ({c.peak_label})",
                    how=how,
                    ips_needed=_ips_for(c.peak, LOW_PORTS),
                    **fields,
                    evidence=dict(c.__dict__),
                )
            )
    return Hop(index, "outbound", "loadBalancer", status, detail="; ".join(details)), findings


def _capacity_text(c: Capacity) -> str:
    how = "explicit" if c.explicit else "default by pool size"
    return (
        f"{c.lb}/{c.rule}: {c.ports:,} ports per node ({how}) on {c.ips} IP(s): fits {c.max_nodes} nodes; "
        f"{c.now} now, {c.upgrade} in an upgrade, {c.peak} at the peak"
    )


def _ips_for(nodes: int, ports: int) -> int:
    per_ip = snat.PORTS_PER_IP // max(ports, 8)
    return max(1, math.ceil(nodes / max(per_ip, 1)))


def _ports_fit(nodes: int, ips: int) -> int:
    return max(0, snat.PORTS_PER_IP // max(math.ceil(nodes / max(ips, 1)), 1) // 8 * 8)


def _service(
    index: int,
    svc: dict[str, Any],
    frontends: list[Frontend],
    ctx: AzureContext,
    events: KubeList | None,
    private: bool,
    fields: dict[str, str],
) -> tuple[Hop, list[Finding]]:
    ref = _ref(svc)
    meta = svc.get("metadata") or {}
    ns_name = {"service": ref, "namespace": meta.get("namespace", "default"), "name": meta.get("name", "?")}
    ingress = _ingress(svc)
    uid = _compact(meta.get("uid", ""))
    mine = [f for f in frontends if _owner_uid(f.name) == uid or (f.address in ingress and not f.owner.startswith("outbound"))]  # fmt: skip
    findings: list[Finding] = []
    if not ingress:
        reason, remediation, command = _pending_reason(svc, events, _principal(ctx))
        command = command or f"kubectl -n {ns_name['namespace']} describe service {ns_name['name']}"
        findings.append(codes.LB004.at(ID, hop=index, reason=reason, remediation=remediation, command=command,
                                       **ns_name, evidence={"service": ref}))  # fmt: skip
        return Hop(index, "service", ref, Status.FAIL, detail="no external IP (pending)"), findings
    public = [f for f in mine if f.public] or [
        _public_frontend(ip) for ip in ingress if ip and _is_public_ip(ip) and not any(f.address == ip for f in mine)
    ]
    if private and public and not _is_internal(svc):
        fe = public[0]
        findings.append(codes.LB003.at(ID, hop=index, ip=fe.address, frontend=f"{fe.lb}/{fe.name}", **ns_name,
                                       evidence={"service": ref, "ip": fe.address}))  # fmt: skip
    findings += _probe_mismatches(index, svc, ctx, uid, ns_name)
    where = ", ".join(f"{f.lb}/{f.name}" for f in mine) or "no frontend found on the cluster's load balancers"
    status = (
        Status.FAIL if any(f.severity.value == "error" for f in findings) else Status.WARN if findings else Status.OK
    )
    policy = (svc.get("spec") or {}).get("externalTrafficPolicy") or "Cluster"
    kind = "internal" if _is_internal(svc) else "public"
    return Hop(index, "service", ref, status, answers=tuple(ingress), detail=f"{kind}, {policy}; frontend {where}"), findings  # fmt: skip


def _public_frontend(ip: str) -> Frontend:
    return Frontend("?", "(not on the cluster's load balancers)", "", ip, True)


def _is_public_ip(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


_AUTHZ = re.compile(r"perform action '([^']+)' over scope '([^']+)'")


def _principal(ctx: AzureContext) -> str:
    return str(((ctx.cluster or {}).get("identity") or {}).get("principalId") or "<cluster identity>")


def _pending_reason(svc: dict[str, Any], events: KubeList | None, principal: str) -> tuple[str, str, str]:
    """What the Service's latest Warning event says, what to do about it, and the command that does it (or "")."""
    if events is None:
        return "Its Events were not read.", "Read the Service's Events: kubectl describe service.", ""
    if events.error:
        return f"Its Events could not be read ({events.status} {events.error}).", "Read them: kubectl describe service.", ""  # fmt: skip
    meta = svc.get("metadata") or {}
    mine = [
        e
        for e in events.items
        if (e.get("involvedObject") or {}).get("uid") == meta.get("uid")
        or (
            (e.get("involvedObject") or {}).get("name") == meta.get("name")
            and (e.get("involvedObject") or {}).get("namespace") == meta.get("namespace")
        )
    ]
    warnings = sorted(
        (e for e in mine if e.get("type") == "Warning"),
        key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""),
    )
    if not warnings:
        return (
            "No Warning event explains it (the controller may still be working).",
            ("Wait a minute and look again; then check the cloud-controller-manager's logs."),
            "",
        )
    e = warnings[-1]
    message = str(e.get("message") or "")
    said = f"Event {e.get('reason')} (×{e.get('count') or 1})"
    m = _AUTHZ.search(message)
    if m:
        action, scope = m.groups()
        role = "Network Contributor" if action.lower().startswith("microsoft.network/") else "a role that allows it"
        where = name_of(scope) + (f" in {name_of(scope.rsplit('/subnets/', 1)[0])}" if "/subnets/" in scope else "")
        return (
            f"{said}: AuthorizationFailed — the cluster identity may not perform {action} on {where}.",
            f"Grant the cluster identity {role} on {where}; the cloud provider then retries by itself.",
            f"az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal "
            f'--role "{role}" --scope {scope}',
        )
    return f"{said}: {_shorten(message)}", "Fix what the Event names; the cloud provider retries by itself.", ""


def _shorten(message: str, limit: int = 240) -> str:
    m = re.search(r'"message":"([^"]+)"', message)
    text = m.group(1) if m else message
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _probe_mismatches(
    index: int, svc: dict[str, Any], ctx: AzureContext, uid: str, ns_name: dict[str, str]
) -> list[Finding]:
    spec = svc.get("spec") or {}
    local = spec.get("externalTrafficPolicy") == "Local"
    out = []
    for lb in ctx.load_balancers:
        probes = {p.get("id", "").lower(): props(p) for p in props(lb).get("probes") or []}
        for rule in props(lb).get("loadBalancingRules") or []:
            if _owner_uid(rule.get("name", "")) != uid:
                continue
            rp = props(rule)
            port = next((p for p in spec.get("ports") or [] if p.get("port") == rp.get("frontendPort")), None)
            probe = probes.get(((rp.get("probe") or {}).get("id") or "").lower())
            if port is None or probe is None:
                continue
            actual = f"{str(probe.get('protocol', '')).upper()} {probe.get('port')}{probe.get('requestPath') or ''}"
            if local:
                ok = probe.get("port") == spec.get("healthCheckNodePort")
                expected = f"HTTP {spec.get('healthCheckNodePort')}/healthz (the healthCheckNodePort)"
            else:
                ok = probe.get("port") in (port.get("nodePort"), SHARED_PROBE_PORT)
                expected = f"the nodePort {port.get('nodePort')} (or {SHARED_PROBE_PORT}/healthz, shared probe mode)"
            if not ok:
                out.append(codes.LB006.at(ID, hop=index, port=port.get("port"), policy="Local" if local else "Cluster",
                                          rule=rule.get("name"), actual=actual, expected=expected,
                                          service=ns_name["service"], evidence={"rule": rule.get("id"), "probe": probe}))  # fmt: skip
    return out


def _orphans(
    ctx: AzureContext, frontends: list[Frontend], by_uid: dict[str, dict[str, Any]], fields: dict[str, str]
) -> list[Finding]:
    out = []
    orphan_frontends = {f.id.lower() for f in frontends if not f.owner and f.id}
    for fe in frontends:
        if fe.id.lower() in orphan_frontends:
            out.append(codes.LB005.at(ID, lb=fe.lb, what="frontend", name=fe.name, ip=f" ({fe.address})",
                                      query=f"frontendIPConfigurations[?name=='{fe.name}']", **fields,
                                      evidence={"id": fe.id, "address": fe.address}))  # fmt: skip
    for lb in ctx.load_balancers:
        for rule in props(lb).get("loadBalancingRules") or []:
            frontend = ((props(rule).get("frontendIPConfiguration") or {}).get("id") or "").lower()
            uid = _owner_uid(rule.get("name", ""))
            if frontend in orphan_frontends or (uid and uid in by_uid):
                continue  # said with its frontend, or owned
            out.append(codes.LB005.at(ID, lb=lb["name"], what="rule", name=rule.get("name", ""), ip="",
                                      query=f"loadBalancingRules[?name=='{rule.get('name')}']", **fields,
                                      evidence={"id": rule.get("id")}))  # fmt: skip
    return out


# ---------------------------------------------------------------- tables for the renderers and the TUI


def _tables(
    ctx: AzureContext, frontends: list[Frontend], capacities: list[Capacity], services: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    def table(title: str, columns: list[str], rows: list[list[str]]) -> dict[str, Any]:
        return {"title": title, "columns": columns, "rows": rows}

    unknown = "?" if services is None else "none"
    out = [
        table("Frontends", ["load balancer", "frontend", "address", "kind", "owner"],
              [[f.lb, f.name, f.address, "public" if f.public else "private", f.owner or unknown] for f in frontends]),
    ]  # fmt: skip
    rules, probe_rows, pool_rows, outbound_rows = [], [], [], []
    owners = {_owner_uid(f.name): f.owner for f in frontends if _owner_uid(f.name)}
    for lb in ctx.load_balancers:
        p = props(lb)
        for rule in p.get("loadBalancingRules") or []:
            rp = props(rule)
            rules.append([lb["name"], rule.get("name", ""), f"{rp.get('frontendPort')} → {rp.get('backendPort')}",
                          str(rp.get("protocol", "")), _probe_cell(rule, rp),
                          owners.get(_owner_uid(rule.get("name", "")), "") or unknown])  # fmt: skip
        for probe in p.get("probes") or []:
            pp = props(probe)
            probe_rows.append([lb["name"], probe.get("name", ""), str(pp.get("protocol", "")), str(pp.get("port", "")),
                               str(pp.get("requestPath") or "")])  # fmt: skip
        for pool in p.get("backendAddressPools") or []:
            pool_rows.append([lb["name"], pool.get("name", ""), str(_pool_size(lb, pool.get("id", "")))])
        for rule in p.get("outboundRules") or []:
            rp = props(rule)
            ports = int(rp.get("allocatedOutboundPorts") or 0)
            outbound_rows.append([lb["name"], rule.get("name", ""), f"{ports:,}" if ports else "0 (default by pool size)",
                                  str(len(rp.get("frontendIPConfigurations") or [])),
                                  f"{rp.get('idleTimeoutInMinutes', '?')} min", str(rp.get("enableTcpReset", "?")).lower(),
                                  name_of((rp.get("backendAddressPool") or {}).get("id", ""))])  # fmt: skip
    out.append(table("Load-balancing rules", ["load balancer", "rule", "ports", "protocol", "probe", "owner"], rules))
    out.append(table("Health probes", ["load balancer", "probe", "protocol", "port", "path"], probe_rows))
    out.append(table("Backend pools", ["load balancer", "pool", "members"], pool_rows))
    out.append(table("Outbound rules", ["load balancer", "rule", "ports per node", "frontend IPs", "idle timeout",
                                        "TCP reset", "pool"], outbound_rows))  # fmt: skip
    if services is not None:
        out.append(table("LoadBalancer Services", ["service", "kind", "policy", "external IP"],
                         [[_ref(s), "internal" if _is_internal(s) else "public",
                           (s.get("spec") or {}).get("externalTrafficPolicy") or "Cluster",
                           ", ".join(_ingress(s)) or "<pending>"] for s in services]))  # fmt: skip
    cap_rows = []
    for c in capacities:
        for when, nodes in (("now", c.now), ("upgrade", c.upgrade), ("peak", c.peak)):
            ports = c.ports if c.explicit else snat.default_ports(nodes)
            cap_rows.append([f"{c.lb}/{c.rule}", when, str(nodes), f"{ports:,}", f"{nodes * ports:,}",
                             f"{c.ips * snat.PORTS_PER_IP:,}", "yes" if nodes <= c.max_nodes and ports else "NO"])  # fmt: skip
    out.append(table("SNAT capacity", ["outbound rule", "when", "nodes", "ports per node", "ports needed",
                                       "ports available", "fits"], cap_rows))  # fmt: skip
    return out


def _probe_cell(rule: dict[str, Any], rp: dict[str, Any]) -> str:
    probe = name_of((rp.get("probe") or {}).get("id", ""))
    return "none" if not probe else "(same name)" if probe == rule.get("name") else probe


def _gauge(c: Capacity) -> dict[str, Any]:
    available = c.ips * snat.PORTS_PER_IP
    needed = c.peak * (c.ports or snat.DEFAULT_ALLOCATION[-1][1])
    return {
        "title": f"SNAT ports at the peak ({c.lb}/{c.rule})",
        "value": needed,
        "maximum": available,
        "unit": "ports",
        "label": f"{c.peak} nodes × {c.ports:,} ports of {c.ips} IP(s) × 64,000; fits {c.max_nodes} nodes",
    }


PROBE = Probe(
    id=ID,
    title="Load balancers and SNAT",
    codes=("LB001", "LB002", "LB003", "LB004", "LB005", "LB006"),  # also AZ001/AZ002 and IP005, owned elsewhere
    plan=plan,
    judge=judge,
    commands=("lb", "check"),
    order=50,
)
