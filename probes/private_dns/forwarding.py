"""Forwarding on the name path: DNS Private Resolver rulesets (DNS023 a parent rule takes the zone's name away,
DNS024 the zone's rule targets servers that cannot answer it or loops, DNS025 the zone's rule is disabled, DNS026 a
VNet's inbound-endpoint DNS and its own ruleset disagree), Azure Firewall DNS proxies (DNS027 proxy off, DNS028
several servers chosen at random), and the subscriptions that could not be searched (AZ003).

Judged from the walked paths (`paths`), which follow Azure's order: a linked zone holding the name answers before
any rule. Rules or zone links that could not be read leave their checks out, never a guess.
"""

from __future__ import annotations

from dataclasses import replace

from aksdiag.probes.private_dns.common import ID, unique
from aksdiag.probes.private_dns.paths import Path, Walk, effective_rule, fqdn_of, zone_rule

from aksdiag import codes
from aksdiag.armview import same_id
from aksdiag.azfacts import AzureFacts, Firewall, ForwardingRule, Ruleset, VNet
from aksdiag.azfacts_dns import subscription_of
from aksdiag.model import Finding, Severity
from aksdiag.settings import AZURE_DNS

BROKEN = ("off-azure", "loop")
"""Path ends where the name gets no private answer because of a rule."""


def judge_forwarding(arm: AzureFacts, walked: list[Path]) -> tuple[list[Finding], list[str]]:
    """The forwarding findings, and what could not be looked at (rules never read with no read error to say so)."""
    findings: list[Finding] = []
    if arm.zone is None or arm.zone.links is not None:  # links unread: a linked zone may answer before any rule
        findings += dns025_disabled(arm, walked)
        findings += dns023_parent_rule(arm, walked, findings)
        findings += dns024_zone_rule(arm, walked)
        findings += dns026_disagree(arm, walked)
    findings += dns027_proxy_off(arm, walked)
    findings += dns028_random(arm, walked)
    findings += az003_unsearched(arm)
    return unique(findings), _unread(arm, walked)


# ---------------------------------------------------------------- rulesets


def dns023_parent_rule(arm: AzureFacts, walked: list[Path], found: list[Finding]) -> list[Finding]:
    covered = {f.evidence.get("view") for f in found if f.id == "DNS025"}
    zone = _zone_name(arm)
    findings = []
    for path in walked:
        rule, ruleset = path.rule, path.ruleset
        if path.end not in BROKEN or rule is None or ruleset is None or zone_rule(rule, zone):
            continue
        asking = path.views[-1] if path.views else None  # where the rule took the name
        if asking is None or asking.id.lower() in covered:
            continue  # DNS025: the zone's own rule is there, disabled
        target, why = _inbound_for(arm, ruleset)
        findings.append(
            codes.DNS023.at(
                ID,
                detail=_taken(path, rule, ruleset, asking),
                ruleset=ruleset.name,
                ruleset_rg=ruleset.resource_group,
                zone=zone,
                zone_domain=zone + ".",
                target_ip=target,
                target_why=why,
                vnet_name=asking.name,
                rule_name=zone.replace(".", "-"),
                subscription=_sub(arm, ruleset.id),
                evidence={"rule": rule.id, "domain": rule.shown_domain, "view": asking.id.lower(), "end": path.end},
            )
        )
    return findings


def dns024_zone_rule(arm: AzureFacts, walked: list[Path]) -> list[Finding]:
    zone = _zone_name(arm)
    findings = []
    for path in walked:
        rule, ruleset = path.rule, path.ruleset
        if path.end not in BROKEN or rule is None or ruleset is None or not zone_rule(rule, zone):
            continue
        asking = path.views[-1] if path.views else None
        target, why = _inbound_for(arm, ruleset)
        also = ""
        if path.end == "loop" and path.view is not None:
            also = (f", and unlink {ruleset.name} from {path.view.name} (the inbound endpoint's VNet) or link "
                    f"{zone} to it")  # fmt: skip
        findings.append(
            codes.DNS024.at(
                ID,
                detail=_taken(path, rule, ruleset, asking),
                rule=rule.name,
                ruleset=ruleset.name,
                ruleset_rg=ruleset.resource_group,
                target_ip=target,
                target_why=why,
                also=also,
                subscription=_sub(arm, ruleset.id),
                evidence={"rule": rule.id, "targets": [str(t) for t in rule.targets], "end": path.end},
            )
        )
    return findings


def dns025_disabled(arm: AzureFacts, walked: list[Path]) -> list[Finding]:
    """A disabled rule for the zone in a ruleset linked to a view the query passed through."""
    zone, fqdn = _zone_name(arm), fqdn_of(arm)
    findings = []
    for path in walked:
        for view in path.views:
            for ruleset in arm.rulesets_linked_to(view.id):
                for rule in ruleset.rules or ():
                    if rule.enabled or not rule.matches(fqdn) or not zone_rule(rule, zone):
                        continue
                    unlinked = path.end == "view" and arm.zone is not None and not _linked(arm, path.view)
                    broken = path.end in BROKEN or unlinked
                    instead = _instead(path) + (f", where {zone} is not linked" if unlinked else "")
                    finding = codes.DNS025.at(
                        ID,
                        detail=(f"rule {rule.name} ({rule.shown_domain}) of {ruleset.name}, linked to {view.name}, "
                                f"is Disabled; {fqdn} {'goes to ' if broken else 'is answered by '}{instead}"),
                        rule=rule.name,
                        ruleset=ruleset.name,
                        ruleset_rg=ruleset.resource_group,
                        instead=instead,
                        subscription=_sub(arm, ruleset.id),
                        evidence={"rule": rule.id, "view": view.id.lower(), "end": path.end},
                    )  # fmt: skip
                    findings.append(finding if broken else replace(finding, severity=Severity.WARNING))
    return findings


def dns026_disagree(arm: AzureFacts, walked: list[Path]) -> list[Finding]:
    """A VNet whose DNS server is an inbound endpoint, while the ruleset linked to it sends the zone elsewhere."""
    fqdn = fqdn_of(arm)
    findings = []
    for path in walked:
        start = path.start
        if not path.steps or path.steps[0].kind != "inbound":
            continue
        taken = effective_rule(arm.rulesets_linked_to(start.id), fqdn)
        if taken is None or any(rs.rules is None for rs in arm.rulesets_linked_to(start.id)):
            continue
        rule, ruleset = taken
        direct = Walk(arm).azure_dns(Path(start, AZURE_DNS.host), start, "it asks Azure DNS")
        if all(p.end == "view" and _linked(arm, p.view) for p in direct):
            continue
        findings.append(
            codes.DNS026.at(
                ID,
                detail=(
                    f"{start.name} uses the inbound endpoint {path.server} as DNS server, but ruleset "
                    f"{ruleset.name}, linked to {start.name}, sends {fqdn} by rule {rule.name} "
                    f"({rule.shown_domain}) to {', '.join(map(str, rule.targets)) or 'no target'}"
                ),
                rule=rule.name,
                ruleset=ruleset.name,
                ruleset_rg=ruleset.resource_group,
                target_ip=path.server,
                vnet_name=start.name,
                subscription=_sub(arm, ruleset.id),
                evidence={"rule": rule.id, "vnet": start.id, "dns_server": path.server},
            )
        )
    return findings


# ---------------------------------------------------------------- Azure Firewall DNS proxy


def dns027_proxy_off(arm: AzureFacts, walked: list[Path]) -> list[Finding]:
    findings = []
    for path in walked:
        fw = path.firewall
        if path.end != "proxy-off" or fw is None:
            continue
        what, name, rg, where = _firewall_target(fw)
        findings.append(
            codes.DNS027.at(
                ID,
                vnet_name=path.start.name,
                ip=path.last,
                firewall=fw.name,
                where=where,
                what=what,
                name=name,
                rg=rg,
                subscription=_sub(arm, fw.policy_id or fw.id),
                evidence={"firewall": fw.id, "policy": fw.policy_id or None},
            )
        )
    return findings


def dns028_random(arm: AzureFacts, walked: list[Path]) -> list[Finding]:
    findings = []
    for path in walked:
        fw = path.firewall
        if fw is None or not fw.proxy or len(fw.servers) < 2:
            continue
        what, name, rg, where = _firewall_target(fw)
        keep = [s for s in fw.servers if arm.resolver_at(s) or s == AZURE_DNS.host]
        findings.append(
            codes.DNS028.at(
                ID,
                firewall=fw.name,
                where=where,
                servers=", ".join(fw.servers),
                zone=_zone_name(arm),
                keep=" ".join(keep or fw.servers[:1]),
                what=what,
                name=name,
                rg=rg,
                subscription=_sub(arm, fw.policy_id or fw.id),
                evidence={"firewall": fw.id, "servers": list(fw.servers)},
            )
        )
    return findings


# ---------------------------------------------------------------- what could not be seen


def az003_unsearched(arm: AzureFacts) -> list[Finding]:
    """Subscriptions listed (or holding the path's resources) that were not searched; nothing when the source
    searched none (facts from before the enterprise search)."""
    searched = {s.lower() for s in arm.searched_subscriptions}
    if not searched:
        return []
    ids = [arm.zone.id if arm.zone else ""] + [v.id for v in arm.vnets.values()]
    wanted = {s for s in map(subscription_of, ids) if s} | set(arm.subscriptions or ())
    wanted.update(*(v.peer_subscriptions for v in arm.vnets.values()))
    missing = sorted(wanted - searched)
    if arm.subscriptions is not None and not missing:
        return []
    parts = []
    if arm.subscriptions is None:
        parts.append("the list of subscriptions (GET /subscriptions) failed")
    if missing:
        parts.append(f"{', '.join(missing)} {'was' if len(missing) == 1 else 'were'} not searched")
    parts.append(f"searched: {', '.join(sorted(searched))}")
    return [
        codes.AZ003.at(
            ID,
            detail="; ".join(parts),
            subscriptions=", ".join(missing) or "the subscriptions the resources live in",
            first=missing[0] if missing else "<subscription>",
            evidence={"searched": sorted(searched), "not_searched": missing, "listed": arm.subscriptions},
        )
    ]


def _unread(arm: AzureFacts, walked: list[Path]) -> list[str]:
    out = []
    for path in walked:
        if path.end != "unread" or path.view is None:
            continue
        for rs in arm.rulesets_linked_to(path.view.id):
            if rs.rules is None and not any(
                rs.id.lower().startswith(e.scope.lower()) or e.scope.lower().startswith(rs.id.lower())
                for e in arm.errors
            ):
                out.append(f"the rules of ruleset {rs.id} were not read: the forwarding checks through it are left out")  # fmt: skip
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------- helpers


def _zone_name(arm: AzureFacts) -> str:
    if arm.zone and arm.zone.name:
        return arm.zone.name.lower()
    return fqdn_of(arm).split(".", 1)[-1]


def _linked(arm: AzureFacts, vnet: VNet | None) -> bool:
    return bool(vnet and arm.zone and any(same_id(link.vnet_id, vnet.id) for link in arm.zone.links or ()))


def _inbound_for(arm: AzureFacts, ruleset: Ruleset) -> tuple[str, str]:
    """The inbound endpoint a rule for the zone should target: of a resolver whose VNet is linked to the zone
    (the ruleset's own resolver first), and not linked to the ruleset (that would loop)."""
    good = [r for r in arm.resolvers if r.inbound_ips and _linked(arm, arm.vnets.get(r.vnet_id.lower()))]
    good = [r for r in good if not ruleset.linked_to(r.vnet_id)] or good
    own = [r for r in good if any(o.lower().startswith(r.id.lower() + "/") for o in ruleset.outbound_ids)]
    best = (own or good)[0] if own or good else None
    if best is None:
        return "<inbound endpoint IP>", "a DNS Private Resolver inbound endpoint whose VNet is linked to the zone"
    return best.inbound_ips[0], f"DNS Private Resolver {best.name}'s inbound endpoint, its VNet linked to the zone"


def _taken(path: Path, rule: ForwardingRule, ruleset: Ruleset, asking: VNet | None) -> str:
    where = asking.name if asking else "the VNet"
    targets = ", ".join(map(str, rule.targets)) or "no target"
    fate = (f"comes back to {path.view.name} (a loop)" if path.end == "loop" and path.view
            else f"goes to {path.last or targets}, off Azure, which cannot answer a private zone")  # fmt: skip
    return (f"from {where}, rule {rule.name} ({rule.shown_domain}) of ruleset {ruleset.name} takes {path.start.name}'s "
            f"query (targets {targets}) and it {fate}")  # fmt: skip


def _instead(path: Path) -> str:
    if path.end == "view" and path.view is not None:
        return f"Azure DNS from {path.view.name}"
    if path.end == "loop":
        return "a loop"
    if path.rule is not None:
        return f"rule {path.rule.name} ({path.rule.shown_domain}) → {path.last or 'no target'}"
    return path.last or path.end


def _firewall_target(fw: Firewall) -> tuple[str, str, str, str]:
    """(az subcommand, name, resource group, shown) for the firewall's DNS settings: its policy, or the firewall."""
    ident = fw.policy_id or fw.id
    parts = ident.split("/")
    rg = parts[4] if len(parts) > 4 else "<rg>"
    name = parts[-1] if parts else fw.name
    if fw.policy_id:
        return "policy update", name, rg, f"firewall policy {name}"
    return "update", name, rg, f"firewall {name}"


def _sub(arm: AzureFacts, resource_id: str) -> str:
    """` --subscription S` when the resource lives in another subscription than the cluster."""
    cluster_sub = subscription_of(arm.cluster.id) if arm.cluster and arm.cluster.id else arm.need.subscription.lower()
    sub = subscription_of(resource_id)
    return f" --subscription {sub}" if sub and sub != cluster_sub.lower() else ""
