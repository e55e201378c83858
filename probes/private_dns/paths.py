"""The resolution paths ARM describes, walked as Azure resolves the cluster's private FQDN: the DNS server each
cluster VNet asks (Azure DNS, a custom server, a DNS Private Resolver's inbound endpoint, an Azure Firewall's DNS
proxy), the forwarding rule that takes the name where the query reaches Azure DNS, and the VNet whose view of
Azure DNS answers in the end. Judged here: the peerings those paths need (DNS014) and the zone linked where each
path answers (DNS011).

At a VNet's view of Azure DNS (168.63.129.16), as Azure applies it:
- a private zone linked to that VNet that holds the name answers first, before any forwarding rule (Microsoft's
  product team in MicrosoftDocs/azure-docs#100273: with the same name in a linked private zone and in a ruleset
  "Private DNS Zone will take the precedence"; #109292; Microsoft's resolver troubleshooting guide: "Private Zones
  take higher precedence than forwarding rules");
- then the rulesets linked to the VNet, "whether or not the linked VNet peers" with the ruleset's VNet: "if
  multiple rules are matched, the longest prefix match is used", disabled rules are ignored, and a wildcard rule
  "." leaves the domains reserved for Azure services (windows.net, azure.com, azmk8s.io …) to Azure DNS (Learn,
  "Azure DNS Private Resolver endpoints and rulesets", Rule processing);
- a rule's target that is an inbound endpoint answers from its resolver's VNet view; a target in a VNet read is a
  custom server there; any other is off Azure (on-premises) and cannot answer a private zone.
A custom DNS server answers from its own VNet (its forwarder to Azure DNS is the DNS plane's to check); a
firewall's DNS proxy forwards to its servers (each judged as a custom server, one level: "the server used is
chosen randomly") or, with none, to Azure DNS from the firewall's VNet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aksdiag.probes.private_dns.common import ID, unique

from aksdiag import codes
from aksdiag.armview import name_of, same_id
from aksdiag.azfacts import AzureFacts, Firewall, ForwardingRule, Ruleset, VNet, Zone
from aksdiag.facts import AzureReadError
from aksdiag.model import Finding
from aksdiag.settings import AZURE_DNS

RESERVED = ("azmk8s.io", "windows.net", "azure.com", "azure.net", "windowsazure.us")
"""Domains a wildcard rule leaves to Azure DNS (Learn names the two-label names of the Azure services' zones)."""

Resolvers = list[tuple[str, "VNet | None"]]
"""(DNS server, the VNet whose view of Azure DNS answers, None when the path ends off Azure, in a VNet not read,
or cannot be followed) for each path of each cluster VNet."""


@dataclass(frozen=True)
class Step:
    """One stage of a path: `kind` is dns-server, firewall, inbound, azure-dns, rule or target."""

    kind: str
    name: str
    detail: str = ""
    resource_id: str = ""


@dataclass(frozen=True)
class Path:
    """How one query of a cluster VNet's clients travels, and where it ends.

    `end`: view (Azure DNS answers from `view`), off-azure (a server no VNet read holds: `last`), unknown (a
    resolver's or firewall's VNet not read), loop (a rule sends the name back to a view it came through),
    proxy-off (a firewall whose DNS proxy is off), unread (a firewall policy or the rules where the name goes
    could not be read)."""

    start: VNet
    server: str
    """The DNS server the start VNet names (168.63.129.16 where it uses Azure DNS)."""
    steps: tuple[Step, ...] = ()
    end: str = ""
    view: VNet | None = None
    last: str = ""
    why: str = ""
    """Why `view` answers, as DNS011 says it ("it uses Azure DNS", "…'s inbound endpoint 10.1.2.4 answers from there")."""
    views: tuple[VNet, ...] = ()
    """Every VNet view of Azure DNS the query passed through, in order."""
    first: VNet | None = None
    """The VNet the start VNet's clients send the query into (a custom server's, an inbound endpoint's, a
    firewall's): the one they must be peered with. A ruleset's forwarding needs no peering."""
    firewall: Firewall | None = None
    rule: ForwardingRule | None = None
    ruleset: Ruleset | None = None
    """The last rule that took the name, and its ruleset."""

    def then(self, step: Step, **changes: object) -> Path:
        return replace(self, steps=(*self.steps, step), **changes)  # type: ignore[arg-type]

    def ended(self, end: str, **changes: object) -> Path:
        return replace(self, end=end, **changes)  # type: ignore[arg-type]


def fqdn_of(arm: AzureFacts) -> str:
    return arm.cluster.private_fqdn.lower().rstrip(".") if arm.cluster else ""


def paths(arm: AzureFacts, cluster_vnets: list[VNet]) -> list[Path]:
    """Every path of every cluster VNet, in VNet and DNS server order."""
    walk = Walk(arm)
    out: list[Path] = []
    for vnet in cluster_vnets:
        for server in vnet.dns_servers or (AZURE_DNS.host,):
            out += walk.server(Path(vnet, server), server, vnet)
    return out


def resolving_vnets(arm: AzureFacts, cluster_vnets: list[VNet]) -> Resolvers:
    """(DNS server, answering VNet) for each path: what DNS014's peerings and DNS019's shadowing zones look at."""
    return resolvers_of(paths(arm, cluster_vnets))


def resolvers_of(walked: list[Path]) -> Resolvers:
    return [(p.server, p.view if p.end == "view" else None) for p in walked]


def zone_rule(rule: ForwardingRule, zone_name: str) -> bool:
    """Whether `rule` is the zone's own (its domain is the zone's or one inside it), not a wider one."""
    zone_name = zone_name.lower().rstrip(".")
    return rule.domain == zone_name or rule.domain.endswith("." + zone_name)


def effective_rule(rulesets: list[Ruleset], fqdn: str) -> tuple[ForwardingRule, Ruleset] | None:
    """The rule Azure applies to `fqdn` among the rulesets linked to one VNet: the longest enabled match, a
    wildcard left out for Azure's reserved domains. The rulesets' rules must have been read."""
    reserved = any(fqdn == d or fqdn.endswith("." + d) for d in RESERVED)
    found = [
        (r, rs)
        for rs in rulesets
        for r in rs.rules or ()
        if r.enabled and r.matches(fqdn) and not (reserved and not r.domain)
    ]
    return max(found, key=lambda pair: len(pair[0].domain), default=None)


def zone_answers(arm: AzureFacts, vnet: VNet, fqdn: str) -> bool:
    """Whether a private zone linked to `vnet` holds `fqdn` (then it answers, before any forwarding rule)."""
    zones = ([arm.zone] if arm.zone else []) + list(arm.other_zones)
    return any(
        (fqdn == z.name.lower() or fqdn.endswith("." + z.name.lower()))
        and z.linked_to(vnet.id)
        for z in zones
    )


class Walk:
    def __init__(self, arm: AzureFacts) -> None:
        self.arm, self.fqdn = arm, fqdn_of(arm)

    def server(self, path: Path, ip: str, asking: VNet | None) -> list[Path]:
        """The query sent to DNS server `ip` by clients (or a firewall) in `asking`."""
        arm = self.arm
        if ip == AZURE_DNS.host:
            if asking is None:
                return [path.ended("unknown", last=ip)]
            fw = path.firewall
            at = next((s.detail.split(":", 1)[0] for s in path.steps if s.kind == "firewall"), "")
            why = (
                f"Azure Firewall {fw.name}'s DNS proxy ({at}) forwards to Azure DNS from there"
                if fw
                else "it uses Azure DNS"
            )
            return self.azure_dns(path, asking, why)
        resolver = arm.resolver_at(ip)
        if resolver is not None:
            vnet = arm.vnets.get(resolver.vnet_id.lower())
            path = path.then(Step("inbound", resolver.name, f"inbound endpoint {ip}", resolver.id),
                             first=path.first or vnet)  # fmt: skip
            if vnet is None:
                return [path.ended("unknown", last=ip)]
            why = f"DNS Private Resolver {resolver.name}'s inbound endpoint {ip} answers from there"
            return self.azure_dns(path, vnet, why)
        firewall = arm.firewall_at(ip)
        if firewall is not None and path.firewall is None:
            return self._firewall(path, ip, firewall)
        owner = arm.owning_vnet(ip)
        path = path.then(Step("dns-server", ip, f"in {owner.name}" if owner else "in no VNet read"),
                         first=path.first or owner)  # fmt: skip
        if owner is None:
            return [path.ended("off-azure", last=ip)]
        return self.azure_dns(path, owner, f"DNS server {ip} lives there")

    def _firewall(self, path: Path, ip: str, firewall: Firewall) -> list[Path]:
        vnet = self.arm.vnets.get(firewall.vnet_id.lower())
        proxy = {None: "policy unread", True: "DNS proxy on", False: "DNS proxy off"}[firewall.proxy]
        servers = ", ".join(firewall.servers) or "Azure DNS"
        path = path.then(Step("firewall", firewall.name, f"{ip}: {proxy}, servers {servers}", firewall.id),
                         first=path.first or vnet, firewall=firewall)  # fmt: skip
        if firewall.proxy is None:
            return [path.ended("unread", last=ip)]
        if not firewall.proxy:
            return [path.ended("proxy-off", last=ip)]
        if not firewall.servers:
            return self.server(path, AZURE_DNS.host, vnet)
        out: list[Path] = []
        for server in firewall.servers:
            out += self.server(path, server, vnet)
        return out

    def azure_dns(self, path: Path, vnet: VNet, why: str) -> list[Path]:
        """The query reaching Azure DNS from `vnet`: a linked zone answers, else the rules linked there."""
        if any(same_id(v.id, vnet.id) for v in path.views):
            return [path.ended("loop", view=vnet)]
        path = path.then(
            Step("azure-dns", vnet.name, f"Azure DNS from {vnet.name}", vnet.id), views=(*path.views, vnet)
        )
        if zone_answers(self.arm, vnet, self.fqdn):
            return [path.ended("view", view=vnet, why=why)]
        linked = self.arm.rulesets_linked_to(vnet.id)
        if any(rs.rules is None for rs in linked):
            return [path.ended("unread", view=vnet, why=why)]
        taken = effective_rule(linked, self.fqdn)
        if taken is None:
            return [path.ended("view", view=vnet, why=why + self._left_to_azure(linked))]
        rule, ruleset = taken
        targets = ", ".join(map(str, rule.targets)) or "no target"
        path = path.then(Step("rule", f"{ruleset.name}/{rule.name}", f"{rule.shown_domain} → {targets}", rule.id),
                         rule=rule, ruleset=ruleset)  # fmt: skip
        out: list[Path] = []
        for target in rule.targets:
            out += self._target(path.then(Step("target", str(target))), target.ip, rule, ruleset)
        return out or [path.ended("off-azure")]

    def _left_to_azure(self, linked: list[Ruleset]) -> str:
        """Why no rule took a reserved name although a wildcard is linked there (DNS011 says it), else ""."""
        domain = next((d for d in RESERVED if self.fqdn == d or self.fqdn.endswith("." + d)), "")
        wildcard = next(((r, rs) for rs in linked for r in rs.rules or () if r.enabled and not r.domain), None)
        if not domain or wildcard is None:
            return ""
        rule, ruleset = wildcard
        return f"; the wildcard rule {rule.name} ('.') of {ruleset.name} leaves {domain} to Azure DNS"

    def _target(self, path: Path, ip: str, rule: ForwardingRule, ruleset: Ruleset) -> list[Path]:
        arm = self.arm
        resolver = arm.resolver_at(ip)
        sent = f"forwarding rule {rule.name} of {ruleset.name} sends the name to"
        if resolver is not None:
            vnet = arm.vnets.get(resolver.vnet_id.lower())
            path = path.then(Step("inbound", resolver.name, f"inbound endpoint {ip}", resolver.id))
            if vnet is None:
                return [path.ended("unknown", last=ip)]
            why = f"{sent} DNS Private Resolver {resolver.name}'s inbound endpoint {ip}, which answers from there"
            return self.azure_dns(path, vnet, why)
        owner = arm.owning_vnet(ip)
        if owner is None:
            return [path.ended("off-azure", last=ip)]
        return self.azure_dns(path, owner, f"{sent} DNS server {ip}, which lives there")


# ---------------------------------------------------------------- rules


def dns014_peering(cluster_vnets: list[VNet], walked: list[Path]) -> list[Finding]:
    """The VNet each cluster VNet's clients send their queries into must be peered with it, both ways."""
    findings = []
    for path in walked:
        local, remote = path.start, path.first
        if remote is None or same_id(remote.id, local.id):
            continue
        for a, b in ((local, remote), (remote, local)):
            peering = a.peering_to(b.id)
            state = peering.state if peering else "no peering"
            if state == "Connected":
                continue
            findings.append(
                codes.DNS014.at(
                    ID,
                    local=a.id,
                    remote=b.id,
                    local_name=a.name,
                    remote_name=b.name,
                    local_rg=a.resource_group or "<rg>",
                    state=state,
                    evidence={"peering": peering.id if peering else None, "state": state},
                )
            )
    return unique(findings)


def dns011_not_linked(zone: Zone | None, walked: list[Path], errors: tuple[AzureReadError, ...] = ()) -> list[Finding]:
    """The zone must be linked to the VNet whose view of Azure DNS answers each path."""
    if not zone or zone.links is None:
        return []  # no zone (privateDNSZone none) or links unreadable (AZ001 says so)
    if any(e.refusal and same_id(e.scope, zone.id) for e in errors):
        return []  # the zone itself is gone (AZ002) or unreadable (AZ001): its links say nothing
    linked = [link.vnet_id for link in zone.links]
    findings = []
    seen: set[str] = set()
    for path in walked:
        vnet = path.view
        if path.end != "view" or vnet is None or vnet.id.lower() in seen or any(same_id(vnet.id, v) for v in linked):
            continue
        seen.add(vnet.id.lower())
        findings.append(
            codes.DNS011.at(
                ID,
                zone=zone.name,
                zone_rg=zone.resource_group,
                vnet=vnet.id,
                vnet_name=vnet.name,
                linked=", ".join(name_of(v) for v in linked) or "no VNet",
                why=path.why,
                link_name=f"link-{vnet.name}",
                evidence={"links": linked, "dns_server": path.server, "path": [s.name for s in path.steps]},
            )
        )
    return findings
