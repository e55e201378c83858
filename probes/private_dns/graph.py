"""The resolution path as a picture: from each cluster VNet through its DNS servers (custom server, firewall's
DNS proxy, resolver inbound endpoint), the ruleset rule that takes the name, the VNet view where Azure DNS answers,
the zone linked there, the record and the endpoint — with the broken edge a finding names marked.

Pure: drawn from AzureFacts as Azure resolves (a rule linked to the asking VNet wins over its zones; the most
specific linked zone answers), and from the findings, which alone decide what is `fail` (or `warn`): the picture
never raises an alarm the findings do not.
"""

from __future__ import annotations

import json
import re

from aksdiag.armview import name_of, same_id, vnet_of_subnet
from aksdiag.azfacts import ApiEndpoint, AzureFacts, Cluster, ForwardingRule, Ruleset, VNet, Zone
from aksdiag.model import Finding, Graph, GraphEdge, GraphNode, Severity, Status
from aksdiag.settings import AZURE_DNS

RULE_CODES = ("DNS023", "DNS024", "DNS025", "DNS026")
FIREWALL_CODES = ("DNS027", "DNS028")
MAX_DEPTH = 6
"""Servers behind servers (a rule's target that is a firewall whose proxy asks an inbound endpoint…): deep enough
for any real path, and a loop (a rule that targets its own resolver) ends."""


def graph(arm: AzureFacts, cluster: Cluster, cluster_vnets: list[VNet], findings: list[Finding]) -> Graph | None:
    """The path each cluster VNet's query for the cluster's private FQDN takes, in query order; None when no
    cluster VNet was read (an AKS-managed VNet: there is no path to draw)."""
    draw = _Draw(arm, cluster.private_fqdn.lower().rstrip("."), findings)
    for vnet in cluster_vnets:
        start = draw.node(f"vnet:{vnet.id.lower()}", "vnet", vnet.name or name_of(vnet.id), detail=vnet.id)
        servers = [s for s in vnet.dns_servers if s != AZURE_DNS.host]
        if not servers or len(servers) < len(vnet.dns_servers):
            draw.view(start, vnet.id, f"asks Azure DNS {AZURE_DNS.host}", 0)
        for server in servers:
            draw.server(start, server, vnet, "DNS server", 0)
    if not draw.nodes:
        return None
    return Graph(tuple(draw.nodes.values()), tuple(draw.edges), title=f"How {draw.fqdn or 'the name'} resolves")


class _Draw:
    """Nodes by id (each once) and edges in the order the walk reaches them."""

    def __init__(self, arm: AzureFacts, fqdn: str, findings: list[Finding]) -> None:
        self.arm, self.fqdn, self.findings = arm, fqdn, findings
        self.nodes: dict[str, GraphNode] = {}
        self.edges: list[GraphEdge] = []
        self.expanded: set[str] = set()
        self._texts = {id(f): _text(f) for f in findings}

    # ---------------------------------------------------------------- building blocks

    def node(self, node_id: str, kind: str, label: str, status: Status = Status.OK, detail: str = "") -> str:
        old = self.nodes.get(node_id)
        if old is None or _worse(status, old.status):
            self.nodes[node_id] = GraphNode(node_id, kind, label, status, detail or (old.detail if old else ""))
        return node_id

    def edge(self, source: str, target: str, label: str, status: Status = Status.OK) -> None:
        if not any(e.source == source and e.target == target and e.label == label for e in self.edges):
            self.edges.append(GraphEdge(source, target, label, status))

    def named(self, codes: tuple[str, ...], *needles: str) -> Status:
        """fail (or warn, for a warning) when a finding of `codes` names every needle (whole: vnet-hub is not
        vnet-hub2); else ok."""
        status = Status.OK
        for f in self.findings:
            if f.id in codes and all(n and _mentions(self._texts[id(f)], n) for n in needles):
                status = _worst(status, _status(f))
        return status

    def blames_zone(self, codes: tuple[str, ...], zone: Zone) -> Status:
        """A finding about this zone: its evidence names the zone's id (zones of one name differ by id only)."""
        status = Status.OK
        for f in self.findings:
            if f.id in codes and same_id(str(f.evidence.get("zone") or ""), zone.id):
                status = _worst(status, _status(f))
        return status

    def any_of(self, codes: tuple[str, ...]) -> Status:
        return _worst(Status.OK, *(_status(f) for f in self.findings if f.id in codes))

    # ---------------------------------------------------------------- DNS servers

    def server(self, source: str, ip: str, asking: VNet | None, label: str, depth: int) -> None:
        """A DNS server the query is sent to, and what it does with it."""
        arm = self.arm
        resolver, firewall = arm.resolver_at(ip), arm.firewall_at(ip)
        home = resolver.vnet_id if resolver else firewall.vnet_id if firewall else ""
        owner = arm.vnets.get(home.lower()) if home else arm.owning_vnet(ip)
        status = Status.OK
        if asking is not None and owner is not None and not same_id(asking.id, owner.id):
            status = self.named(("DNS014",), asking.id, owner.id)
            label = f"{label} (peering {_peering(asking, owner)})"
        node_id = f"dns:{ip}"
        if depth > MAX_DEPTH:
            self.edge(source, self.node(node_id, "dns-server", ip), f"{label} (loop)", Status.WARN)
            return
        if resolver is not None:
            self.node(node_id, "resolver-inbound", f"{resolver.name} inbound {ip}", detail=resolver.id)
            self.edge(source, node_id, label, status)
            self.view(node_id, resolver.vnet_id, "answers from its VNet", depth + 1)
        elif firewall is not None:
            self.firewall(source, node_id, ip, label, status, depth)
        else:
            host = arm.server_hosts.get(ip)
            what = ", ".join(filter(None, [name_of(host.vm_id) if host else "", host.os_type if host else ""]))
            self.node(node_id, "custom-dns", f"{ip} ({what})" if what else ip, detail=host.vm_id if host else "")
            self.edge(source, node_id, label, status)
            if owner is None:
                off = self.node(f"off:{ip}", "unknown", "beyond the VNets read (on-premises?)")
                self.edge(node_id, off, "forwards", Status.SKIPPED)
            else:
                self.view(node_id, owner.id, "forwards (if it has the forwarder)", depth + 1)

    def firewall(self, source: str, node_id: str, ip: str, label: str, status: Status, depth: int) -> None:
        fw = self.arm.firewall_at(ip)
        assert fw is not None
        proxy = "unreadable" if fw.proxy is None else "on" if fw.proxy else "off"
        upstream = ", ".join(fw.servers) or "Azure DNS"
        named = _worst(self.named(FIREWALL_CODES, fw.id), self.named(FIREWALL_CODES, fw.name))
        self.node(node_id, "firewall", f"{fw.name} {ip} (DNS proxy {proxy})", named,
                  detail=f"{fw.id}; proxy servers: {upstream}")  # fmt: skip
        self.edge(source, node_id, label, _worst(status, named if fw.proxy is False else Status.OK))
        if fw.proxy is not True:
            return  # proxy off: the firewall drops the query (DNS027); unreadable: the path stops here
        if not fw.servers:
            self.view(node_id, fw.vnet_id, "proxy forwards", depth + 1)
        for upstream_ip in fw.servers:
            shown = "proxy forwards" + (" (one server at random)" if len(fw.servers) > 1 else "")
            self.server(node_id, upstream_ip, None, shown, depth + 1)

    # ---------------------------------------------------------------- where Azure DNS answers

    def view(self, source: str, vnet_id: str, label: str, depth: int) -> None:
        """Azure DNS as seen from `vnet_id`: a linked ruleset's rule first, else the most specific linked zone."""
        key = vnet_id.lower()
        vnet = self.arm.vnets.get(key)
        name = vnet.name if vnet else name_of(vnet_id) or "an unknown VNet"
        node_id = self.node(f"view:{key}", "azure-dns", f"Azure DNS in {name}", detail=vnet_id)
        self.edge(source, node_id, label)
        if key in self.expanded:
            return
        self.expanded.add(key)
        taken = self.rule(vnet_id)
        if taken is not None:
            ruleset, rule = taken
            status = self.named(RULE_CODES, rule.id) if rule.id else Status.OK
            if status is Status.OK and self.named(RULE_CODES, ruleset.name, rule.shown_domain) is not Status.OK:
                status = self.named(RULE_CODES, ruleset.name, rule.shown_domain)
            targets = ", ".join(str(t) for t in rule.targets) or "no target"
            rule_id = self.node(f"rule:{(rule.id or ruleset.id + '/' + rule.name).lower()}", "rule",
                                f"{ruleset.name}: {rule.shown_domain}", status, detail=f"{rule.id}; → {targets}")  # fmt: skip
            self.edge(node_id, rule_id, "ruleset rule", status)
            for target in rule.targets:
                self.server(rule_id, target.ip, None, "forwards", depth + 1)
            return
        self.zone(node_id, vnet_id)

    def rule(self, vnet_id: str) -> tuple[Ruleset, ForwardingRule] | None:
        """The enabled rule with the longest matching domain among the rulesets linked to the VNet."""
        found = [(rs, r) for rs in self.arm.rulesets_linked_to(vnet_id) if (r := rs.rule_for(self.fqdn))]
        return max(found, key=lambda pair: len(pair[1].domain), default=None)

    def zone(self, view: str, vnet_id: str) -> None:
        arm = self.arm
        zones = [z for z in [arm.zone, *arm.other_zones] if z is not None and _suffix(z.name, self.fqdn)]
        linked = [z for z in zones if any(same_id(link.vnet_id, vnet_id) for link in z.links or ())]
        zone = max(linked, key=lambda z: len(z.name), default=None)
        if zone is None:
            zone = arm.zone
            if zone is None:
                public = (arm.zone_mode or "").lower() == "none"
                none = self.node(
                    "zone:none", "zone", "no private zone: public DNS answers" if public else "no private zone"
                )
                self.edge(view, none, "", Status.OK if public else Status.SKIPPED)
                return
            zone_id = self.node(f"zone:{zone.id.lower()}", "zone", zone.name, detail=zone.id)
            if zone.links is None:
                self.edge(view, zone_id, "links unreadable", Status.SKIPPED)
            else:
                self.edge(view, zone_id, "no link", _judged(self.named(("DNS011",), vnet_id)))
            return
        link = next(link for link in zone.links or () if same_id(link.vnet_id, vnet_id))
        zone_id = self.node(f"zone:{zone.id.lower()}", "zone", zone.name, detail=zone.id)
        self.edge(view, zone_id, f"link {link.name}")
        self.record(zone_id, zone)

    def record(self, zone_id: str, zone: Zone) -> None:
        if zone.records is None:
            self.edge(zone_id, self.node(f"{zone_id}/unread", "record", "records unreadable"), "", Status.SKIPPED)
            return
        relative = self.fqdn[: -len(zone.name) - 1] if self.fqdn.endswith("." + zone.name.lower()) else "@"
        record = next((r for r in zone.records if r.name.lower() == relative), None)
        broken = self.blames_zone(("DNS012", "DNS019"), zone)
        if record is None:
            missing = self.node(f"{zone_id}/{relative}", "record", f"no A record {relative}", broken)
            self.edge(zone_id, missing, "record", broken)
            return
        shown = ", ".join(record.addresses) or "no address"
        record_id = self.node(f"record:{record.id.lower() or zone_id + '/' + relative}", "record",
                              f"{record.name} A {shown}", broken, detail=record.id)  # fmt: skip
        self.edge(zone_id, record_id, "record")
        endpoint = self.endpoint_for(record.addresses, zone)
        if endpoint is None:
            what = (
                "API server load balancer"
                if self.arm.cluster and self.arm.cluster.vnet_integration
                else "private endpoint"
            )
            none = self.node("endpoint:none", "endpoint", f"no {what} found", Status.SKIPPED)
            self.edge(record_id, none, "", _worst(broken, Status.SKIPPED))
            return
        holds = set(record.addresses) & set(endpoint.ips)
        label = "holds its address" if holds else f"endpoint has {', '.join(endpoint.ips) or 'no address'}"
        end = self.node(f"endpoint:{endpoint.id.lower() or endpoint.name}", "endpoint",
                        f"{endpoint.name} {', '.join(endpoint.ips)}".strip(), detail=endpoint.id)  # fmt: skip
        self.edge(record_id, end, label, Status.OK if holds else _judged(broken))

    def endpoint_for(self, addresses: tuple[str, ...], zone: Zone) -> ApiEndpoint | None:
        """The endpoint holding the record's address; else the one in a VNet the zone is linked to; else the first."""
        endpoints = self.arm.endpoints
        linked = {link.vnet_id.lower() for link in zone.links or ()}
        return (
            next((e for e in endpoints if set(addresses) & set(e.ips)), None)
            or next((e for e in endpoints if any(vnet_of_subnet(s).lower() in linked for s in e.subnet_ids)), None)
            or next(iter(endpoints), None)
        )


# ---------------------------------------------------------------- helpers

_RANK = {Status.OK: 0, Status.SKIPPED: 1, Status.WARN: 2, Status.ERROR: 3, Status.FAIL: 4}


def _worse(a: Status, b: Status) -> bool:
    return _RANK[a] > _RANK[b]


def _worst(first: Status, *more: Status) -> Status:
    return max((first, *more), key=lambda s: _RANK[s])


def _judged(status: Status) -> Status:
    """A fault the facts show but no finding names stays unjudged (`skipped`), never a red edge of its own."""
    return Status.SKIPPED if status is Status.OK else status


def _status(f: Finding) -> Status:
    return Status.FAIL if f.severity is Severity.ERROR else Status.WARN if f.severity is Severity.WARNING else Status.OK


def _text(f: Finding) -> str:
    """Everything a finding says, lower-cased: where to look for the names of what it blames."""
    return " ".join([f.detail, f.remediation, f.command or "", json.dumps(f.evidence, default=str)]).lower()


def _mentions(text: str, needle: str) -> bool:
    return re.search(re.escape(needle.lower()) + r"(?![\w.-])", text) is not None


def _suffix(zone: str, fqdn: str) -> bool:
    name = zone.lower().rstrip(".")
    return bool(fqdn) and (fqdn == name or fqdn.endswith("." + name))


def _peering(a: VNet, b: VNet) -> str:
    there, back = a.peering_to(b.id), b.peering_to(a.id)
    states = {there.state if there else "none", back.state if back else "none"}
    return "Connected" if states == {"Connected"} else "/".join(sorted(states))
