"""The clusters × findings matrix, grouped by shared cause: one CauseGroup per (code, the resources its findings rest
on that the clusters share). "DNS011 on 14 of 212 clusters: all in subscription conn-prod, zone
privatelink.westeurope.azmk8s.io not linked to vnet-hub-weu". Pure.

What a finding rests on is read from the finding itself: every ARM id in its evidence and in its detail, remediation
and command (DNS011 names the unlinked hub VNet only in its text), less the cluster's own resources (under the
cluster's id, its resource group or its node resource group). For each code, the id held by the most clusters opens
a group of those clusters (ties: the larger set they all share, then an id the text names); `shared` is what they
all hold. A cluster is in one group per code; clusters that share nothing with another go into one group "each its
own cause".
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator
from typing import Any

from aksdiag import codes
from aksdiag.fleet.model import CauseGroup, FleetCluster
from aksdiag.model import Finding, Severity

ARM_ID = re.compile(r"/subscriptions/[0-9A-Za-z-]+(?:/[^\s/,;:()'\"`\[\]{}<>]+)*")
"""An ARM resource id inside a text (a finding's detail names `/subscriptions/…/virtualNetworks/vnet-hub (…)`)."""

KINDS = {
    "privatednszones": "zone",
    "virtualnetworklinks": "zone link",
    "virtualnetworks": "VNet",
    "subnets": "subnet",
    "virtualnetworkpeerings": "peering",
    "privateendpoints": "private endpoint",
    "networkinterfaces": "NIC",
    "virtualmachines": "VM",
    "dnsresolvers": "resolver",
    "inboundendpoints": "inbound endpoint",
    "outboundendpoints": "outbound endpoint",
    "dnsforwardingrulesets": "ruleset",
    "forwardingrules": "forwarding rule",
    "azurefirewalls": "firewall",
    "firewallpolicies": "firewall policy",
    "routetables": "route table",
    "routes": "route",
    "natgateways": "NAT gateway",
    "networksecuritygroups": "NSG",
    "loadbalancers": "load balancer",
    "publicipaddresses": "public IP",
    "managedclusters": "cluster",
    "agentpools": "node pool",
    "virtualmachinescalesets": "scale set",
    "resourcegroups": "resource group",
    "a": "A record",
}
"""How a cause names a resource, by the last type segment of its id."""

CONTEXT_KEYS = frozenset({"links", "vnets", "searched", "listed"})
"""Evidence keys that list what a probe looked at, not what is wrong (DNS011's zone links that exist, DNS012's VNets
the zone is seen from): two clusters whose hub zone links to the same spokes share no cause by that."""

NAMED = 3
"""At most this many shared resources named in a cause line (then "+N more")."""
DETAIL = 200
"""A representative finding's detail is cut to about this many characters in the cause line."""


def groups(clusters: list[FleetCluster], names: dict[str, str] | None = None) -> list[CauseGroup]:
    """Warning and error findings of `clusters` grouped by (code, shared cause), worst and largest first.
    `names`: subscription display names by lower-cased id (the cause names a subscription by its name)."""
    names = {k.lower(): v for k, v in (names or {}).items()}
    by_code: dict[str, dict[str, list[Finding]]] = {}
    for cluster in sorted(clusters, key=lambda c: (c.name.lower(), c.id.lower())):
        for f in cluster.report.findings:
            if f.severity in (Severity.ERROR, Severity.WARNING):
                by_code.setdefault(f.id, {}).setdefault(cluster.id, []).append(f)
    known = {c.id: c for c in clusters}
    found: list[CauseGroup] = []
    for code, findings in by_code.items():
        found += _code_groups(code, [known[i] for i in findings], findings, names)
    return sorted(found, key=lambda g: (-g.severity.rank, -len(g.clusters), g.code, not g.shared, g.cause))


def _code_groups(
    code: str, clusters: list[FleetCluster], findings: dict[str, list[Finding]], names: dict[str, str]
) -> list[CauseGroup]:
    rests = {c.id: rests_on(c, findings[c.id]) for c in clusters}
    mentioned = {c.id: _mentioned(findings[c.id]) for c in clusters}
    shown: dict[str, str] = {}
    for c in clusters:
        for rid in _ids_of(findings[c.id]):
            shown.setdefault(rid.lower(), rid)
    left = list(clusters)
    out: list[CauseGroup] = []
    while True:
        holders: dict[str, list[FleetCluster]] = {}
        for c in left:
            for rid in rests[c.id]:
                holders.setdefault(rid, []).append(c)
        best: tuple[int, int, bool, str] | None = None
        for rid, held in holders.items():
            if len(held) < 2:
                continue
            common = set.intersection(*(rests[c.id] for c in held))
            score = (len(held), len(common), any(rid in mentioned[c.id] for c in held), rid)
            if best is None or score[:3] > best[:3] or (score[:3] == best[:3] and rid < best[3]):
                best = score
        if best is None:
            break
        members = holders[best[3]]
        common = set.intersection(*(rests[c.id] for c in members))
        out.append(_group(code, members, findings, sorted(common, key=_rank(mentioned, members)), shown, names))
        left = [c for c in left if c not in members]
    if left:
        out.append(_group(code, left, findings, [], shown, names))
    return out


def _group(
    code: str,
    members: list[FleetCluster],
    findings: dict[str, list[Finding]],
    shared: list[str],
    shown: dict[str, str],
    names: dict[str, str],
) -> CauseGroup:
    first = members[0]
    finding = findings[first.id][0]
    subscriptions = sorted({c.subscription.lower() for c in members})
    where = _clusters_where(subscriptions, names)
    example = f"e.g. {first.name}: {shorten(finding.detail, names)}" if finding.detail else f"e.g. {first.name}"
    if shared:
        cause = f"{_naming([shown.get(s, s) for s in shared], names)}; clusters {where}. {example}"
    elif len(members) == 1:
        sub = subscriptions[0]
        cause = f"its own cause: {first.name} in subscription {names.get(sub, sub)}: {shorten(finding.detail, names)}"
    else:
        cause = f"each its own cause; clusters {where}. {example}"
    remediation = finding.remediation
    entry = codes.lookup(code)
    if entry is not None and len({findings[c.id][0].remediation for c in members}) > 1:
        remediation = f"{entry.fix} For {first.name}: {finding.remediation}"  # one fix per cluster, not one for all
    return CauseGroup(
        code=code,
        severity=finding.severity,
        title=finding.title,
        cause=cause,
        clusters=tuple(c.id for c in members),
        shared=tuple(shown.get(s, s) for s in shared),
        subscriptions=tuple(subscriptions),
        remediation=remediation,
    )


# ---------------------------------------------------------------- what a finding rests on


def rests_on(cluster: FleetCluster, findings: Iterable[Finding]) -> set[str]:
    """The lower-cased ARM ids `findings` name that are not the cluster's own resources."""
    own = own_scopes(cluster)
    return {
        rid.lower()
        for rid in _ids_of(findings)
        if not any(rid.lower() == scope or rid.lower().startswith(scope + "/") for scope in own)
    }


def own_scopes(cluster: FleetCluster) -> set[str]:
    """The cluster's id, its resource group's and its node resource group's (lower-cased): what is under them is
    the cluster's own, not a cause it shares."""
    sub = f"/subscriptions/{cluster.subscription}/resourcegroups/".lower()
    node = {f"mc_{cluster.resource_group}_{cluster.name}_{cluster.location}".lower()}
    for probe in cluster.report.probes:
        value = probe.facts.get("node_resource_group") if isinstance(probe.facts, dict) else None
        if isinstance(value, str) and value:
            node.add(value.lower())
    return {cluster.id.lower(), sub + cluster.resource_group.lower(), *(sub + n for n in node)}


def _ids_of(findings: Iterable[Finding]) -> Iterator[str]:
    for f in findings:
        yield from _walk(f.evidence)
        for text in (f.detail, f.remediation, f.command or ""):
            yield from _in_text(text)


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.lower().startswith("/subscriptions/"):
            yield from _in_text(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in CONTEXT_KEYS:
                yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)


def _in_text(text: str) -> Iterator[str]:
    for match in ARM_ID.finditer(text):
        yield match.group(0).rstrip(".")


def _mentioned(findings: list[Finding]) -> set[str]:
    """The ids a finding's remediation names: the thing to change, named first in a cause."""
    return {rid.lower() for f in findings for rid in _in_text(f.remediation + " " + (f.command or ""))}


def _rank(mentioned: dict[str, set[str]], members: list[FleetCluster]) -> Any:
    said = set.union(*(mentioned[c.id] for c in members))
    return lambda rid: (rid not in said, rid.count("/"), rid)


# ---------------------------------------------------------------- how a cause reads


def name_of(rid: str) -> str:
    """`VNet vnet-hub`, `zone privatelink.westeurope.azmk8s.io`, `subnet vnet-aks/snet-aks`, `subscription X`."""
    parts = rid.strip("/").split("/")
    if len(parts) <= 2:
        return "subscription " + (parts[1] if len(parts) == 2 else rid)
    kind = KINDS.get(parts[-2].lower(), parts[-2])
    name = parts[-1]
    if len(parts) > 8 and parts[-4].lower() in KINDS:  # a child: subnets, peerings, endpoints, rules
        name = f"{parts[-3]}/{name}"
    return f"{kind} {name}"


def subscription_of(rid: str) -> str:
    parts = rid.strip("/").split("/")
    return parts[1].lower() if len(parts) >= 2 else ""


def _naming(shared: list[str], names: dict[str, str]) -> str:
    """`shared VNet vnet-hub-weu, zone privatelink… in subscription conn-prod-weu` (at most NAMED, then +N more);
    a subscription itself is named only when none of its resources is."""
    inside = {subscription_of(rid) for rid in shared if rid.strip("/").count("/") > 1}
    shared = [rid for rid in shared if rid.strip("/").count("/") > 1 or subscription_of(rid) not in inside]
    by_sub: dict[str, list[str]] = {}
    for rid in shared[:NAMED]:
        sub = subscription_of(rid)
        if rid.strip("/").count("/") <= 1:
            by_sub.setdefault("", []).append(f"subscription {names.get(sub, sub)}")
        else:
            by_sub.setdefault(sub, []).append(name_of(rid))
    parts = [
        ", ".join(shown) + (f" in subscription {names.get(sub, sub)}" if sub else "") for sub, shown in by_sub.items()
    ]
    more = f" +{len(shared) - NAMED} more" if len(shared) > NAMED else ""
    return "shared " + "; ".join(parts) + more


def _clusters_where(subscriptions: list[str], names: dict[str, str]) -> str:
    if len(subscriptions) == 1:
        return f"all in subscription {names.get(subscriptions[0], subscriptions[0])}"
    return f"in {len(subscriptions)} subscriptions"


def shorten(text: str, names: dict[str, str] | None = None, width: int = DETAIL) -> str:
    """A finding's detail for one line: ARM ids by their short names, subscriptions by their display names,
    whitespace folded, cut at a word."""
    short = ARM_ID.sub(
        lambda m: m.group(0).rstrip(".").rsplit("/", 1)[-1] + ("." if m.group(0).endswith(".") else ""), text
    )
    for sub, name in (names or {}).items():
        if name and sub in short.lower():
            short = re.sub(re.escape(sub), name, short, flags=re.IGNORECASE)
    short = " ".join(short.split())
    return textwrap.shorten(short, width, placeholder=" …")
