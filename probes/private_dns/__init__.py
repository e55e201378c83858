"""private_dns: the management plane of a private cluster's DNS, as ARM describes it.

Hops: the cluster (private FQDN, zone mode) → the DNS servers of its VNet → the private DNS zone and its VNet
links → the A record → the API server's private endpoint. Judged: the zone not linked to the VNet that
resolves (DNS011), the record missing or stale (DNS012), the DNS VNet's peering (DNS014), the cluster identity's
roles (DNS015), a BYO zone's name (DNS016), another linked zone shadowing the name (DNS019), and reads that failed
(AZ001 403, AZ002 404) — a failed read leaves its checks out, never guesses. The modules: `paths` (each VNet's
name path as Azure resolves it: DNS server, firewall proxy, inbound endpoint, forwarding rule, the VNet view that
answers), `forwarding` (rulesets DNS023-DNS026, firewall proxies DNS027-DNS028, unsearched subscriptions AZ003),
`zones`, `roles`, `hops` (what a report draws).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from aksdiag.probes.private_dns.common import ID
from aksdiag.probes.private_dns.forwarding import judge_forwarding
from aksdiag.probes.private_dns.graph import graph
from aksdiag.probes.private_dns.hops import hops
from aksdiag.probes.private_dns.paths import dns011_not_linked, dns014_peering, paths, resolvers_of
from aksdiag.probes.private_dns.roles import dns015_roles, unread_roles
from aksdiag.probes.private_dns.zones import dns012_record, dns016_zone_name, dns019_shadowed

from aksdiag import codes
from aksdiag.azfacts import AzureFacts, digest
from aksdiag.model import Finding
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

__all__ = ["ID", "PROBE", "judge", "plan"]


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure is None:
        raise Skip("no Azure context: pass --cluster and --resource-group (and --subscription)")
    return [settings.azure]


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.azure is not None
    arm = digest(facts[settings.azure])
    findings = _read_errors(arm)
    unread = tuple(e.reason for e in arm.errors if not e.refusal) + unread_roles(arm)  # could not look: `error`
    if arm.cluster is None:
        return Judgement(findings=tuple(findings), facts=_facts(arm), unread=unread)
    cluster, cluster_vnets = arm.cluster, arm.cluster_vnets
    walked = paths(arm, cluster_vnets)
    resolvers = resolvers_of(walked)
    findings += dns011_not_linked(arm.zone, walked, arm.errors)
    findings += dns012_record(arm, cluster)
    findings += dns014_peering(cluster_vnets, walked)
    findings += dns015_roles(arm, cluster)
    findings += dns016_zone_name(arm.zone_mode, cluster)
    findings += dns019_shadowed(arm, cluster, resolvers)
    forwarded, not_seen = judge_forwarding(arm, walked)
    findings += forwarded
    unread += tuple(not_seen)
    drawn = hops(arm, cluster, cluster_vnets, resolvers, findings, walked)
    picture = graph(arm, cluster, cluster_vnets, findings)
    return Judgement(hops=tuple(drawn), findings=tuple(findings), facts=_facts(arm), unread=unread, graph=picture)


# ---------------------------------------------------------------- rules


def _read_errors(arm: AzureFacts) -> list[Finding]:
    findings = []
    for e in arm.errors:
        if not e.refusal:
            continue  # not a finding about a role or a resource: `unread`, the probe's error
        if e.status == 404:
            findings.append(codes.AZ002.at(ID, code=e.code, scope=e.scope, evidence=e.to_dict()))
        else:
            findings.append(
                codes.AZ001.at(
                    ID,
                    status=e.status,
                    code=e.code,
                    scope=e.scope,
                    message=e.message,
                    action=e.action or "read access",
                    evidence=e.to_dict(),
                )
            )
    return findings


def _facts(arm: AzureFacts) -> dict[str, Any]:
    return {
        "cluster": arm.cluster.id or None if arm.cluster else None,
        "private_fqdn": arm.cluster.private_fqdn or None if arm.cluster else None,
        "zone": arm.zone.id or None if arm.zone else None,
        "zone_mode": arm.zone_mode,
        "endpoint_ips": arm.endpoint_ips,
        "vnets": sorted(v.id or k for k, v in arm.vnets.items()),
        "errors": [e.to_dict() for e in arm.errors],
        "arm_requests": arm.requests,
    }


PROBE = Probe(
    id=ID,
    title="Private DNS zone (Azure)",
    codes=(
        *("DNS011", "DNS012", "DNS014", "DNS015", "DNS016", "DNS019", "AZ001", "AZ002"),
        *("DNS023", "DNS024", "DNS025", "DNS026", "DNS027", "DNS028", "AZ003"),
    ),
    plan=plan,
    judge=judge,
    commands=("dns", "check", "fleet"),
    optional_in=("dns",),
    order=20,
)
