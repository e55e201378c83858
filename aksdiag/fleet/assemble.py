"""One cluster's AzureContext from the fleet's index: the same fact `check --cluster` reads with ~18 GETs, built from
Resource Graph rows plus the few GETs of what Resource Graph does not index. Pure.

What the probes judge comes out the same whichever way it was read: a world assembled here raises the findings
`check --cluster` raises for it (tests/fleet/test_assemble.py compares the two on every ARM world, and lists the
deliberate exceptions). Each read context.py makes is mirrored here in the same order of dependence (the cluster →
its VNets → their peers, NSGs, route tables, NAT gateways → the DNS servers' hosts; the zone; the endpoints; the
search of every searched subscription), and each of its failures too: a resource the cluster names in a subscription
that was not searched is the 403 AuthorizationFailed check's GET would have met (ARM's words), a resource a searched
subscription lacks is the 404 ResourceNotFound — never a silently missing resource.

Not read in fleet: role assignments, role definitions and user-assigned identities (DNS015, the cluster identity's
roles on a BYO zone and its VNets, is `check --cluster`'s: Resource Graph's authorizationresources table would need
another query shape and the definitions' permissions). Left empty, they raise no finding and no `unread`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aksdiag.armview import cluster_zone_id, could_answer, parse_id
from aksdiag.facts import AzureContext, AzureContextNeed, AzureDocument, AzureGetNeed
from aksdiag.fleet.fromrows import RECORDS_API, RULES_API, Assembly, Visible, named_for, records_need, rules_need
from aksdiag.fleet.index import Index

__all__ = ["RECORDS_API", "RULES_API", "Visible", "context_of", "gets_for", "need_of", "records_need", "rests_on",
           "rules_need"]  # fmt: skip

Body = dict[str, Any]

API_VERSIONS = {
    "microsoft.containerservice": "2026-08-01",
    "microsoft.network/privatednszones": "2024-06-01",
    "microsoft.network/dnsresolvers": "2022-07-01",
    "microsoft.network/dnsforwardingrulesets": "2022-07-01",
    "microsoft.network": "2024-05-01",
    "microsoft.compute": "2024-07-01",
}
"""The api-version of a confirming GET, by the longest matching prefix of the resource's type (its namespace and
first type segment): the versions the SDKs aksdiag reads with default to."""


def need_of(cluster: Body, endpoint: str) -> AzureContextNeed:
    """The AzureContextNeed the cluster's probes plan (load balancers read: the lb probe judges capacity)."""
    p = parse_id(str(cluster.get("id") or ""))
    return AzureContextNeed(
        subscription=p.get("subscriptions", ""),
        resource_group=p.get("resourcegroups", ""),
        cluster=p.get("managedclusters", "") or str(cluster.get("name") or ""),
        endpoint=endpoint,
        load_balancers=True,
    )


def gets_for(index: Index, clusters: list[Body], endpoint: str) -> list[AzureGetNeed]:
    """The GETs Resource Graph cannot spare: the A record sets of every zone a cluster's name path uses (its own,
    and the other zones that could answer its FQDN), the forwarding rules of every ruleset linked to a VNet. Each
    once, however many clusters share it.

    Every linked ruleset's rules, not only those linked to a cluster's own VNets and peers: a query may be forwarded
    on from a resolver's VNet the cluster does not peer with, and a tenant has tens of rulesets, not thousands."""
    needs: list[AzureGetNeed] = []
    for cluster in clusters:
        zone_id = cluster_zone_id(cluster)
        if zone_id:
            needs.append(records_need(zone_id, endpoint))
        fqdn = str((cluster.get("properties") or {}).get("privateFQDN") or "")
        if fqdn:
            zones = named_for(index, "", fqdn, zone_id)
            needs += [records_need(z, endpoint) for z in could_answer(zones, fqdn, zone_id)]
    for ruleset in sorted(index.of_type("microsoft.network/dnsforwardingrulesets"), key=lambda r: str(r["id"]).lower()):
        if index.children(str(ruleset["id"]), "virtualNetworkLinks"):
            needs.append(rules_need(str(ruleset["id"]), endpoint))
    return _unique(needs)


def context_of(
    cluster: Body, index: Index, fetched: Mapping[AzureGetNeed, AzureDocument], visible: Visible, endpoint: str
) -> AzureContext:
    """The cluster's AzureContext (need_of(cluster)) from the index and the fetched record sets and rules."""
    return Assembly(need_of(cluster, endpoint), cluster, index, fetched, visible).context()


def rests_on(context: AzureContext) -> list[AzureGetNeed]:
    """The GETs that confirm a finding of this cluster: every resource its context holds (the cluster, its VNets and
    peers, its zone and the zone's link list, NSGs, route tables, NAT gateways, endpoints, rulesets' link lists…),
    by id with the api-version ARM serves it at, and what it holds as missing (a 404: Resource Graph may not list it
    yet). The engine dedups them across clusters."""
    endpoint = context.need.endpoint
    ids: list[str] = []
    lists: list[str] = []
    if context.cluster is not None:
        ids.append(str(context.cluster.get("id") or context.need.cluster_id))
    else:
        ids.append(context.need.cluster_id)
    ids += [str(v.get("id") or k) for k, v in context.vnets.items()]
    for zone in [context.zone, *context.other_zones]:
        if zone and "links" in zone:  # a zone entry ({"id", "zone", "links", "records"}), not a bare zone body
            ids.append(str(zone["id"]))
            lists.append(f"{zone['id']}/virtualNetworkLinks")
    for group in (context.nsgs, context.route_tables, context.nat_gateways):
        ids += [str(v.get("id") or k) for k, v in group.items()]
    for entry in context.endpoints:
        ids.append(str((entry.get("endpoint") or {}).get("id") or ""))
        ids += [str(n.get("id") or "") for n in entry.get("nics") or []]
    ids += [str(b.get("id") or "") for b in (*context.load_balancers, *context.public_ips, *context.scale_sets)]
    for r in context.resolvers:
        ids.append(str(r["resolver"].get("id") or ""))
        ids += [str(b.get("id") or "") for b in (*(r.get("inbound") or ()), *(r.get("outbound") or ()))]
    for rs in context.rulesets:
        ids.append(str(rs["ruleset"].get("id") or ""))
        lists.append(f"{rs['ruleset']['id']}/virtualNetworkLinks")
    for fw in context.firewalls:
        ids += [str((fw.get("firewall") or {}).get("id") or ""), str((fw.get("policy") or {}).get("id") or "")]
    for host in context.server_hosts.values():
        ids += [str((host.get("nic") or {}).get("id") or ""), str((host.get("vm") or {}).get("id") or "")]
    for e in context.errors:
        if e.status == 404:
            (lists if _is_collection(e.scope) else ids).append(e.scope)
    needs = [AzureGetNeed(i, api_version(i), endpoint=endpoint) for i in ids if i]
    needs += [AzureGetNeed(c, api_version(c), paged=True, endpoint=endpoint) for c in lists]
    return _unique(needs)


def api_version(path: str) -> str:
    """The api-version a GET of `path` is sent with (API_VERSIONS)."""
    lower = path.lower().split("/")
    if "providers" not in lower:
        return "2022-12-01"
    at = len(lower) - 1 - lower[::-1].index("providers")
    namespace, first = [*lower[at + 1 : at + 3], "", ""][:2]
    return API_VERSIONS.get(f"{namespace}/{first}") or API_VERSIONS.get(namespace) or "2024-05-01"


def _unique(needs: list[AzureGetNeed]) -> list[AzureGetNeed]:
    seen: dict[tuple[str, bool], AzureGetNeed] = {}
    for n in needs:
        seen.setdefault((n.path.lower(), n.paged), n)
    return list(seen.values())


def _is_collection(path: str) -> bool:
    """A path ending in a type segment (an even number of segments after the last provider namespace)."""
    parts = path.strip("/").lower().split("/")
    if "providers" not in parts:
        return False
    at = len(parts) - 1 - parts[::-1].index("providers")
    after = parts[at + 1 :]
    return len(after) >= 2 and len(after) % 2 == 0
