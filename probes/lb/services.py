"""The LoadBalancer Services against the frontends, rules and probes made for them.

LB003 a public IP for a Service on a private cluster, LB004 a Service still pending (with what its latest
Warning Event says), LB005 frontends and rules whose Service is gone, LB006 a health probe that asks the wrong
port for the Service's externalTrafficPolicy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aksdiag.probes.lb.frontends import ID, FrontendRow, owner_uid

from aksdiag import codes
from aksdiag.armview import name_of
from aksdiag.azfacts import AzureFacts
from aksdiag.facts import is_public_address
from aksdiag.kubefacts import Event, Service
from aksdiag.model import Finding, Hop, Status

SHARED_PROBE_PORT = 10256
"""kube-proxy's health port: the probe target of every rule in the cloud provider's shared probe mode."""
_AUTHZ = re.compile(r"perform action '([^']+)' over scope '([^']+)'")


@dataclass(frozen=True)
class Events:
    """The Services' Events as read, or why they could not be (`error`: "403 forbidden")."""

    items: tuple[Event, ...] = ()
    error: str | None = None


def service_hop(
    index: int,
    svc: Service,
    rows: list[FrontendRow],
    arm: AzureFacts,
    events: Events | None,
    private: bool,
) -> tuple[Hop, list[Finding]]:
    ns_name = {"service": svc.ref, "namespace": svc.namespace, "name": svc.name}
    ingress = svc.ingress
    uid = svc.compact_uid
    mine = [f for f in rows if owner_uid(f.name) == uid or (f.address in ingress and not f.outbound)]
    findings: list[Finding] = []
    if not ingress:
        reason, remediation, command = _pending_reason(svc, events, arm)
        command = command or f"kubectl -n {svc.namespace} describe service {svc.name}"
        findings.append(codes.LB004.at(ID, hop=index, reason=reason, remediation=remediation, command=command,
                                       **ns_name, evidence={"service": svc.ref}))  # fmt: skip
        return Hop(index, "service", svc.ref, Status.FAIL, detail="no external IP (pending)"), findings
    public = [f for f in mine if f.public] or [
        _elsewhere(ip) for ip in ingress if ip and is_public_address(ip) and not any(f.address == ip for f in mine)
    ]
    if private and public and not svc.internal:
        fe = public[0]
        findings.append(codes.LB003.at(ID, hop=index, ip=fe.address, frontend=f"{fe.lb}/{fe.name}", **ns_name,
                                       evidence={"service": svc.ref, "ip": fe.address}))  # fmt: skip
    findings += _lb006_probe_mismatches(index, svc, arm)
    where = ", ".join(f"{f.lb}/{f.name}" for f in mine) or "no frontend found on the cluster's load balancers"
    status = (
        Status.FAIL if any(f.severity.value == "error" for f in findings) else Status.WARN if findings else Status.OK
    )
    kind = "internal" if svc.internal else "public"
    detail = f"{kind}, {svc.external_traffic_policy}; frontend {where}"
    return Hop(index, "service", svc.ref, status, answers=ingress, detail=detail), findings


def _elsewhere(ip: str) -> FrontendRow:
    """A public ingress address that no frontend of the cluster's load balancers has."""
    return FrontendRow("?", "(not on the cluster's load balancers)", "", ip, True)


def _pending_reason(svc: Service, events: Events | None, arm: AzureFacts) -> tuple[str, str, str]:
    """What the Service's latest Warning event says, what to do about it, and the command that does it (or "")."""
    if events is None:
        return "Its Events were not read.", "Read the Service's Events: kubectl describe service.", ""
    if events.error:
        return f"Its Events could not be read ({events.error}).", "Read them: kubectl describe service.", ""
    warnings = sorted((e for e in events.items if e.about(svc) and e.type == "Warning"), key=lambda e: e.when)
    if not warnings:
        return (
            "No Warning event explains it (the controller may still be working).",
            "Wait a minute and look again; then check the cloud-controller-manager's logs.",
            "",
        )
    e = warnings[-1]
    said = f"Event {e.reason} (×{e.count or 1})"
    m = _AUTHZ.search(e.message)
    if m:
        action, scope = m.groups()
        role = "Network Contributor" if action.lower().startswith("microsoft.network/") else "a role that allows it"
        where = name_of(scope) + (f" in {name_of(scope.rsplit('/subnets/', 1)[0])}" if "/subnets/" in scope else "")
        principal = (arm.cluster.principal_id if arm.cluster else "") or "<cluster identity>"
        return (
            f"{said}: AuthorizationFailed — the cluster identity may not perform {action} on {where}.",
            f"Grant the cluster identity {role} on {where}; the cloud provider then retries by itself.",
            f"az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal "
            f'--role "{role}" --scope {scope}',
        )
    return f"{said}: {_shorten(e.message)}", "Fix what the Event names; the cloud provider retries by itself.", ""


def _shorten(message: str, limit: int = 240) -> str:
    m = re.search(r'"message":"([^"]+)"', message)
    text = m.group(1) if m else message
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lb006_probe_mismatches(index: int, svc: Service, arm: AzureFacts) -> list[Finding]:
    local = svc.external_traffic_policy == "Local"
    out = []
    for lb in arm.load_balancers:
        for rule in lb.rules:
            if owner_uid(rule.name) != svc.compact_uid:
                continue
            port = next((p for p in svc.ports if p.port == rule.frontend_port), None)
            probe = lb.probe(rule.probe_id)
            if port is None or probe is None:
                continue
            actual = f"{probe.protocol.upper()} {probe.port}{probe.request_path}"
            if local:
                ok = probe.port == svc.health_check_node_port
                expected = f"HTTP {svc.health_check_node_port}/healthz (the healthCheckNodePort)"
            else:
                ok = probe.port in (port.node_port, SHARED_PROBE_PORT)
                expected = f"the nodePort {port.node_port} (or {SHARED_PROBE_PORT}/healthz, shared probe mode)"
            if not ok:
                out.append(codes.LB006.at(ID, hop=index, port=port.port, policy="Local" if local else "Cluster",
                                          rule=rule.name, actual=actual, expected=expected, service=svc.ref,
                                          evidence={"rule": rule.id, "probe": dict(probe.properties)}))  # fmt: skip
    return out


def lb005_orphans(
    arm: AzureFacts, rows: list[FrontendRow], by_uid: Mapping[str, Service], fields: Mapping[str, Any]
) -> list[Finding]:
    """Frontends nobody owns, and rules whose Service is gone (a rule on an orphan frontend is said with it)."""
    out = []
    orphan_frontends = {f.id.lower() for f in rows if not f.owner and f.id}
    for fe in rows:
        if fe.id.lower() in orphan_frontends:
            out.append(codes.LB005.at(ID, lb=fe.lb, what="frontend", name=fe.name, ip=f" ({fe.address})",
                                      query=f"frontendIPConfigurations[?name=='{fe.name}']", **fields,
                                      evidence={"id": fe.id, "address": fe.address}))  # fmt: skip
    for lb in arm.load_balancers:
        for rule in lb.rules:
            uid = owner_uid(rule.name)
            if rule.frontend_id.lower() in orphan_frontends or (uid and uid in by_uid):
                continue  # said with its frontend, or owned
            out.append(codes.LB005.at(ID, lb=lb.name, what="rule", name=rule.name, ip="",
                                      query=f"loadBalancingRules[?name=='{rule.name}']", **fields,
                                      evidence={"id": rule.id}))  # fmt: skip
    return out
