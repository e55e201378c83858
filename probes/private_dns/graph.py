"""The resolution path as a picture: each cluster VNet's query, step by step as `paths` walks it (DNS server,
firewall's DNS proxy, resolver inbound endpoint, the VNet view of Azure DNS, the ruleset rule that takes the name,
its targets), then the zone that answers in the last view, its record and the endpoint — with the broken edge
that a finding names marked.

Pure. The walk is the probe's own (`paths.paths`), so the picture and the findings never disagree on the route;
the findings alone decide what is `fail` (or `warn`): a fault the facts show but no finding names stays `skipped`,
never a red edge of its own.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from aksdiag.probes.private_dns.paths import Path, Step, paths

from aksdiag.armview import name_of, same_id, vnet_of_subnet
from aksdiag.azfacts import ApiEndpoint, AzureFacts, Cluster, VNet, Zone
from aksdiag.model import Finding, Graph, GraphEdge, GraphNode, Severity, Status

RULE_CODES = ("DNS023", "DNS024", "DNS025")
FIREWALL_CODES = ("DNS027", "DNS028")
KIND = {"dns-server": "custom-dns", "firewall": "firewall", "inbound": "resolver-inbound", "azure-dns": "azure-dns",
        "rule": "rule", "target": "dns-server"}  # fmt: skip
"""The graph's node kind for each kind of path step."""


def graph(arm: AzureFacts, cluster: Cluster, cluster_vnets: list[VNet], findings: list[Finding]) -> Graph | None:
    """Every path of every cluster VNet, in query order; None when no cluster VNet was read (an AKS-managed VNet:
    there is no path to draw)."""
    draw = _Draw(arm, cluster.private_fqdn.lower().rstrip("."), findings)
    for path in paths(arm, cluster_vnets):
        draw.path(path)
    draw.unused_rules()
    draw.blamed_zones()
    if not draw.nodes:
        return None
    return Graph(tuple(draw.nodes.values()), tuple(draw.edges), title=f"How {draw.fqdn or 'the name'} resolves")


class _Draw:
    """Nodes by id (each once, at its worst status) and edges in the order the paths reach them."""

    def __init__(self, arm: AzureFacts, fqdn: str, findings: list[Finding]) -> None:
        self.arm, self.fqdn, self.findings = arm, fqdn, findings
        self.nodes: dict[str, GraphNode] = {}
        self.edges: list[GraphEdge] = []
        self._texts = {id(f): _text(f) for f in findings}

    # ---------------------------------------------------------------- building blocks

    def node(self, node_id: str, kind: str, label: str, status: Status = Status.OK, detail: str = "") -> str:
        old = self.nodes.get(node_id)
        if old is None or _rank(status) > _rank(old.status):
            self.nodes[node_id] = GraphNode(node_id, kind, label, status, detail or (old.detail if old else ""))
        return node_id

    def edge(self, source: str, target: str, label: str, status: Status = Status.OK) -> None:
        for i, e in enumerate(self.edges):
            if e.source == source and e.target == target and e.label == label:
                if _rank(status) > _rank(e.status):
                    self.edges[i] = GraphEdge(source, target, label, status)
                return
        self.edges.append(GraphEdge(source, target, label, status))

    def blames(self, codes: tuple[str, ...], key: str, resource_id: str) -> Status:
        """fail (warn for a warning) when a finding of `codes` names `resource_id` in its evidence[key]."""
        hits = [f for f in self.findings if f.id in codes and same_id(str(f.evidence.get(key) or ""), resource_id)]
        return _worst(Status.OK, *(_status(f) for f in hits)) if resource_id else Status.OK

    def named(self, codes: tuple[str, ...], *needles: str) -> Status:
        """fail (warn) when a finding of `codes` names every needle whole (vnet-hub is not vnet-hub2)."""
        hits = [
            f for f in self.findings if f.id in codes and all(n and _mentions(self._texts[id(f)], n) for n in needles)
        ]
        return _worst(Status.OK, *(_status(f) for f in hits))

    # ---------------------------------------------------------------- one path

    def path(self, path: Path) -> None:
        start = path.start
        here = self.node(f"vnet:{start.id.lower()}", "vnet", start.name or name_of(start.id), detail=start.id)
        steps = [s for i, s in enumerate(path.steps) if not _merged(path.steps, i)]
        previous: Step | None = None
        for step in steps:
            there = self.step_node(step)
            self.edge(here, there, *self.label(previous, step, path))
            here, previous = there, step
        self.end(here, previous, path)

    def step_node(self, step: Step) -> str:
        kind = KIND.get(step.kind, "dns-server")
        if step.kind == "azure-dns":
            return self.node(
                f"view:{step.resource_id.lower()}", kind, f"Azure DNS in {step.name}", detail=step.resource_id
            )
        if step.kind == "rule":
            status = self.blames(RULE_CODES, "rule", step.resource_id)
            return self.node(f"rule:{step.resource_id.lower() or step.name}", kind, f"{step.name}: {step.detail}",
                             status, step.resource_id)  # fmt: skip
        if step.kind == "firewall":
            status = self.blames(FIREWALL_CODES, "firewall", step.resource_id)
            return self.node(f"fw:{step.resource_id.lower()}", kind, f"{step.name} {step.detail}", status,
                             step.resource_id)  # fmt: skip
        if step.kind == "inbound":
            ip = step.detail.rsplit(" ", 1)[-1]
            return self.node(f"dns:{ip}", kind, f"{step.name} inbound {ip}", detail=step.resource_id)
        ip = step.name  # a custom DNS server, or a rule's target
        host = self.arm.server_hosts.get(ip)
        what = ", ".join(filter(None, [name_of(host.vm_id), host.os_type])) if host else ""
        return self.node(f"dns:{ip}", kind, f"{ip} ({what})" if what else ip, detail=host.vm_id if host else "")

    def label(self, previous: Step | None, step: Step, path: Path) -> tuple[str, Status]:
        """What the query does on the edge into `step`, and whether a finding breaks it there."""
        # DNS027: the firewall's proxy is off, it drops the query on the edge into it
        into = self.blames(("DNS027",), "firewall", step.resource_id) if step.kind == "firewall" else Status.OK
        if previous is None:
            if step.kind == "azure-dns":
                return "asks Azure DNS", Status.OK
            first = path.first
            if first is None or same_id(first.id, path.start.id):
                return "DNS server", into
            peering = self.named(("DNS014",), path.start.id, first.id)
            return f"DNS server (peering {_peering(path.start, first)})", _worst(into, peering)
        if previous.kind == "firewall":
            several = path.firewall is not None and len(path.firewall.servers) > 1
            status = self.blames(("DNS028",), "firewall", previous.resource_id) if several else Status.OK
            return "proxy forwards" + (" (one server at random)" if several else ""), status
        if step.kind == "rule":
            status = _worst(self.blames(RULE_CODES, "rule", step.resource_id),
                            self.blames(("DNS025",), "view", previous.resource_id))  # fmt: skip
            return "ruleset rule", status
        if previous.kind == "rule":
            return "forwards", Status.OK
        if previous.kind == "inbound":
            return "answers from its VNet", Status.OK
        return "forwards (if it has the forwarder)", Status.OK

    def end(self, here: str, last: Step | None, path: Path) -> None:
        """Where the path stops: the zone in the answering view, or why it goes no further."""
        if path.end == "view" and path.view is not None:
            self.zone(here, path.view.id)
        elif path.end == "loop" and path.view is not None:
            back = self.node(f"view:{path.view.id.lower()}", "azure-dns", f"Azure DNS in {path.view.name}")
            status = self.blames(("DNS024",), "rule", path.rule.id) if path.rule else Status.OK
            self.edge(here, back, "loops back", _judged(status))
        elif path.end == "off-azure":
            if last is not None and last.kind in ("target", "dns-server"):  # the server itself is off Azure
                old = self.nodes[here]
                self.nodes[here] = replace(
                    old, kind="unknown", label=f"{last.name}: beyond the VNets read (on-premises?)"
                )
            else:
                stop = self.node(f"off:{here}", "unknown", "no target", Status.SKIPPED)
                self.edge(here, stop, "", Status.SKIPPED)
        elif path.end == "proxy-off":
            pass  # the firewall's node carries DNS027: its proxy drops the query
        elif path.end in ("unread", "unknown"):
            what = "could not be read" if path.end == "unread" else "in a VNet not read"
            stop = self.node(f"{path.end}:{here}", "unknown", f"the rest of the path {what}", Status.SKIPPED)
            self.edge(here, stop, "", Status.SKIPPED)

    def unused_rules(self) -> None:
        """The rules a finding names that no path takes, drawn where they sit: DNS025's disabled rule at the view
        whose name falls to a wider rule, DNS026's rule in a ruleset linked to a VNet whose DNS servers bypass it."""
        for f in self.findings:
            rule_id = str(f.evidence.get("rule") or "")
            if f.id == "DNS025":
                source, label = f"view:{str(f.evidence.get('view') or '').lower()}", "rule Disabled"
            elif f.id == "DNS026":
                source, label = f"vnet:{str(f.evidence.get('vnet') or '').lower()}", "linked ruleset (bypassed)"
            else:
                continue
            if source not in self.nodes or not rule_id:
                continue
            rule = self.node(f"rule:{rule_id.lower()}", "rule", f"{name_of(rule_id)} (not taken)", _status(f), rule_id)
            self.edge(source, rule, label, _status(f))

    def blamed_zones(self) -> None:
        """A zone a finding blames that no cluster VNet's path reaches (a jump box's own zone, DNS012), drawn from
        the VNets it is linked to, as their queries meet it."""
        zones = {z.id.lower(): z for z in [self.arm.zone, *self.arm.other_zones] if z is not None}
        for f in self.findings:
            zone = zones.get(str(f.evidence.get("zone") or "").lower()) if f.id in ("DNS012", "DNS019") else None
            if zone is None or f"zone:{zone.id.lower()}" in self.nodes:
                continue
            for link in zone.links or ():
                vnet = self.arm.vnets.get(link.vnet_id.lower())
                start = self.node(f"vnet:{link.vnet_id.lower()}", "vnet", vnet.name if vnet else name_of(link.vnet_id),
                                  detail=link.vnet_id)  # fmt: skip
                view = self.node(f"view:{link.vnet_id.lower()}", "azure-dns", f"Azure DNS in {self.nodes[start].label}",
                                 detail=link.vnet_id)  # fmt: skip
                self.edge(start, view, "asks Azure DNS")
                self.zone(view, link.vnet_id)

    # ---------------------------------------------------------------- where Azure DNS answers

    def zone(self, view: str, vnet_id: str) -> None:
        """The most specific zone linked to the view that holds the name; else the cluster's zone, not linked."""
        arm = self.arm
        zones = [z for z in [arm.zone, *arm.other_zones] if z is not None and _suffix(z.name, self.fqdn)]
        linked = [z for z in zones if any(same_id(link.vnet_id, vnet_id) for link in z.links or ())]
        zone = max(linked, key=lambda z: len(z.name), default=None)
        if zone is None:
            zone = arm.zone
            if zone is None:
                public = (arm.zone_mode or "").lower() == "none"
                shown = "no private zone: public DNS answers" if public else "no private zone"
                self.edge(view, self.node("zone:none", "zone", shown), "", Status.OK if public else Status.SKIPPED)
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
        broken = self.blames(("DNS012", "DNS019"), "zone", zone.id)
        if record is None:
            missing = self.node(f"{zone_id}/{relative}", "record", f"no A record {relative}", broken)
            self.edge(zone_id, missing, "record", broken)
            return
        shown = ", ".join(record.addresses) or "no address"
        record_id = self.node(f"record:{record.id.lower() or zone_id + '/' + relative}", "record",
                              f"{record.name} A {shown}", broken, record.id)  # fmt: skip
        self.edge(zone_id, record_id, "record")
        endpoint = self.endpoint_for(record.addresses, zone)
        if endpoint is None:
            ilb = self.arm.cluster is not None and self.arm.cluster.vnet_integration
            what = "API server load balancer" if ilb else "private endpoint"
            none = self.node("endpoint:none", "endpoint", f"no {what} found", Status.SKIPPED)
            self.edge(record_id, none, "", _worst(broken, Status.SKIPPED))
            return
        holds = set(record.addresses) & set(endpoint.ips)
        label = "holds its address" if holds else f"endpoint has {', '.join(endpoint.ips) or 'no address'}"
        end = self.node(f"endpoint:{endpoint.id.lower() or endpoint.name}", "endpoint",
                        f"{endpoint.name} {', '.join(endpoint.ips)}".strip(), detail=endpoint.id)  # fmt: skip
        self.edge(record_id, end, label, Status.OK if holds else _judged(broken))

    def endpoint_for(self, addresses: tuple[str, ...], zone: Zone) -> ApiEndpoint | None:
        """The endpoint holding the record's address; else one in a VNet the zone is linked to; else the first."""
        endpoints = self.arm.endpoints
        linked = {link.vnet_id.lower() for link in zone.links or ()}
        return (
            next((e for e in endpoints if set(addresses) & set(e.ips)), None)
            or next((e for e in endpoints if any(vnet_of_subnet(s).lower() in linked for s in e.subnet_ids)), None)
            or next(iter(endpoints), None)
        )


# ---------------------------------------------------------------- helpers


def _merged(steps: tuple[Step, ...], i: int) -> bool:
    """A rule's target step followed by the inbound endpoint it is: that endpoint's node stands for both."""
    step = steps[i]
    return step.kind == "target" and i + 1 < len(steps) and steps[i + 1].kind == "inbound"


_RANK = {Status.OK: 0, Status.SKIPPED: 1, Status.WARN: 2, Status.ERROR: 3, Status.FAIL: 4}


def _rank(status: Status) -> int:
    return _RANK[status]


def _worst(first: Status, *more: Status) -> Status:
    return max((first, *more), key=_rank)


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
    states = {(there.state if there else "") or "none", (back.state if back else "") or "none"}
    return "Connected" if states == {"Connected"} else "/".join(sorted(states))
