"""context.py's reads of one cluster, answered from the fleet's index (Resource Graph rows) and the few GETs the
fleet makes (record sets, forwarding rules): each read finds its body or records the error check's GET would have
met, in ARM's words (a 403 AuthorizationFailed in a subscription not searched, a 404 ResourceNotFound in a searched
one). Pure; fleet.assemble is its interface.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aksdiag.armview import (
    cluster_networks,
    cluster_zone_id,
    could_answer,
    firewall_ips,
    is_apiserver_endpoint,
    joined,
    nic_ips,
    nic_nsg_ids,
    parse_id,
    same_id,
    subnet_refs,
    subscription_holding,
    subscription_in,
    to_search,
)
from aksdiag.facts import AzureContext, AzureContextNeed, AzureDocument, AzureGetNeed, AzureReadError, ReadFailure
from aksdiag.fleet.index import Index

T = TypeVar("T")

Body = dict[str, Any]

RECORDS_API = "2024-06-01"
RULES_API = "2022-07-01"
ZONE_TYPE = "microsoft.network/privatednszones"
UNKNOWN_CALLER = ("", "")


@dataclass(frozen=True)
class Visible:
    """What the identity can see: the subscription bodies GET /subscriptions listed, and the subscriptions searched
    (lower-cased ids): a resource id under any other subscription could not be read. `caller` is the (client id,
    object id) ARM names in a 403 (from the token's claims when known)."""

    subscriptions: tuple[Body, ...] = ()
    searched: frozenset[str] = field(default_factory=frozenset)
    caller: tuple[str, str] = UNKNOWN_CALLER


def records_need(zone_id: str, endpoint: str) -> AzureGetNeed:
    return AzureGetNeed(f"{zone_id}/A", RECORDS_API, paged=True, endpoint=endpoint)


def rules_need(ruleset_id: str, endpoint: str) -> AzureGetNeed:
    return AzureGetNeed(f"{ruleset_id}/forwardingRules", RULES_API, paged=True, endpoint=endpoint)


def named_for(index: Index, subscription: str, fqdn: str, zone_id: str | None) -> list[Body]:
    """The subscription's zones (every subscription's with "") named as a suffix of `fqdn` or as the cluster's
    zone, by id: what `could_answer` looks for, found by name instead of by a scan of every zone."""

    def build() -> dict[str, list[Body]]:
        zones = (index.in_subscription(subscription, ZONE_TYPE) if subscription
                 else sorted(index.of_type(ZONE_TYPE), key=lambda z: str(z.get("id")).lower()))  # fmt: skip
        out: dict[str, list[Body]] = {}
        for z in zones:
            out.setdefault(str(z.get("name") or "").lower(), []).append(z)
        return out

    by_name = index.memo(("zones by name", subscription.lower()), build)
    found = [z for n in _names(fqdn, zone_id) if (named := by_name.get(n)) for z in named]
    return by_id(found) if len(found) > 1 else found


@functools.lru_cache(maxsize=4096)
def _names(fqdn: str, zone_id: str | None) -> frozenset[str]:
    """Every suffix of `fqdn` and the name of the cluster's zone: the zone names that could answer it."""
    labels = fqdn.lower().rstrip(".").split(".")
    return frozenset({".".join(labels[i:]) for i in range(len(labels))} | {(zone_id or "").lower().rsplit("/", 1)[-1]})


def by_id(bodies: list[Body]) -> list[Body]:
    return sorted(bodies, key=lambda b: str(b.get("id") or "").lower())


# ---------------------------------------------------------------- ARM's words for what could not be read


def read_action(path: str) -> tuple[str, str]:
    """The `…/read` action and the scope ARM names in a 403 for a GET of `path`: a resource is read over itself; a
    list over its parent resource, or the scope the provider sits under."""
    parts = path.rstrip("/").split("/")
    lower = [p.lower() for p in parts]
    if "providers" not in lower:
        kind = "subscriptions/resourceGroups" if len(parts) > 3 else "subscriptions"
        return f"Microsoft.Resources/{kind}/read", "/".join(parts[:5] if len(parts) > 4 else parts[:3])
    at = len(lower) - 1 - lower[::-1].index("providers")
    namespace, rest = parts[at + 1], parts[at + 2 :]
    scope = "/".join(parts if len(rest) % 2 == 0 else parts[:-1] if len(rest) > 1 else parts[:at])
    return f"{namespace}/{'/'.join(rest[0::2])}/read", scope or "/"


def refused(path: str, caller: tuple[str, str] = UNKNOWN_CALLER) -> AzureReadError:
    """The 403 a GET of `path` meets in a subscription the identity cannot read (ARM's AuthorizationFailed)."""
    action, scope = read_action(path)
    client, oid = caller
    who = f"The client '{client}' with object id '{oid}'" if client or oid else "The client"
    message = (f"{who} does not have authorization to perform action '{action}' over scope '{scope}' or the scope "
               "is invalid. If access was recently granted, please refresh your credentials.")  # fmt: skip
    return AzureReadError(scope, 403, "AuthorizationFailed", message, action, ReadFailure.FORBIDDEN.value)


def not_found(path: str) -> AzureReadError:
    """The 404 a GET of `path` meets where the resource does not exist (ARM's ResourceNotFound)."""
    parts = path.rstrip("/").split("/")
    lower = [p.lower() for p in parts]
    if "providers" in lower and "resourcegroups" in lower:
        at = lower.index("providers")
        message = (f"The Resource '{'/'.join(parts[at + 1 :])}' under resource group "
                   f"'{parts[lower.index('resourcegroups') + 1]}' was not found. For more details please go to "
                   "https://aka.ms/ARMResourceNotFoundFix")  # fmt: skip
    else:
        message = f"The Resource '{path}' was not found."
    return AzureReadError(path, 404, "ResourceNotFound", message, read_action(path)[0], ReadFailure.NOT_FOUND.value)


# ---------------------------------------------------------------- the assembly of one cluster's context


class Assembly:
    """context.py's reads, answered from the index: each read either finds its body or records its error."""

    def __init__(
        self, need: AzureContextNeed, cluster: Body, index: Index, fetched: Mapping[AzureGetNeed, AzureDocument],
        visible: Visible,
    ) -> None:  # fmt: skip
        self.need, self.cluster, self.index, self.fetched, self.visible = need, cluster, index, fetched, visible
        self.endpoint = need.endpoint
        self.sub = self.need.subscription.lower()
        self.errors: list[AzureReadError] = []
        self.names = {str(s.get("subscriptionId") or "").lower(): str(s.get("displayName") or "")
                      for s in visible.subscriptions}  # fmt: skip
        self._listed: dict[tuple[str, str], list[Body] | None] = {}
        """The subscription-wide lists read (firewalls, NICs), each once: None where refused."""
        self.firewalls: dict[str, Body] = {}
        self.hosts: dict[str, Body] = {}

    # ---- one read

    def readable(self, path: str) -> bool:
        return (subscription_in(path) or self.sub) in self.visible.searched

    def fail(self, error: AzureReadError) -> None:
        """Record a failed read, naming the subscription where Azure's words do not (as sources.azure.reads)."""
        parts = error.scope.split("/")
        sub = parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""
        message = error.message
        if sub and sub.lower() not in message.lower():
            name = self.names.get(sub.lower())
            message = f"{message} (subscription {sub}{f' {name}' if name else ''})"
        self.errors.append(AzureReadError(error.scope, error.status, error.code, message, error.action,
                                          error.failure or error.kind.value))  # fmt: skip

    def get(self, rid: str) -> Body | None:
        if not self.readable(rid):
            self.fail(refused(rid, self.visible.caller))
            return None
        body = self.index.get(rid)
        if body is None:
            self.fail(not_found(rid))
        return body

    def listed(self, scope: str, found: list[Body]) -> list[Body] | None:
        """A list read at `scope`: what the index holds under it, or the 403 where it could not be read."""
        if not self.readable(scope):
            self.fail(refused(scope, self.visible.caller))
            return None
        return by_id(found)

    def document(self, need: AzureGetNeed) -> list[Body] | None:
        """A fetched paged GET's items (its error recorded); one the engine did not make is the 403 it would have
        met in a subscription not searched, else not read (None)."""
        doc = self.fetched.get(need)
        if doc is None:
            return None if self.readable(need.path) else self.listed(need.path, [])
        if doc.error is not None:
            self.fail(doc.error)
            return None
        return list(doc.items or ())

    # ---- the context

    def context(self) -> AzureContext:
        # the cluster's row, unless a confirming GET said it is gone (then its error is the one fact, as in check)
        cluster = self.cluster if self.index.get(self.need.cluster_id) is not None else self.get(self.need.cluster_id)
        subscriptions = list(self.visible.subscriptions)
        if cluster is None:
            return AzureContext(need=self.need, errors=tuple(self.errors), subscriptions=subscriptions)
        props = cluster.get("properties") or {}
        access = props.get("apiServerAccessProfile") or {}
        node_rg = props.get("nodeResourceGroup")
        zone_id = cluster_zone_id(cluster)
        own_vnets, subnet_ids, first_vnets = cluster_networks(cluster)

        vnets = self.bodies(first_vnets)
        peers = self.bodies(sorted(i for i in self.peered(vnets) if i.lower() not in vnets))
        sets = self.in_node_rg(node_rg, "Microsoft.Compute", "virtualMachineScaleSets")
        nsg_ids = sorted({*subnet_refs(vnets, subnet_ids, "networkSecurityGroup"), *nic_nsg_ids(sets or [])},
                         key=str.lower)  # fmt: skip
        nsgs = self.bodies(nsg_ids)
        route_tables = self.bodies(subnet_refs(vnets, subnet_ids, "routeTable"))
        nat_gateways = self.bodies(subnet_refs(vnets, subnet_ids, "natGateway"))
        self.servers(vnets, peers, own_vnets)
        zone_sub = subscription_in(zone_id) or self.sub if zone_id else ""
        searched, other_zones, resolvers, rulesets = self.search([self.sub, zone_sub], props.get("privateFQDN") or "",
                                                                 zone_id)  # fmt: skip
        endpoints = self.endpoints(node_rg, bool(access.get("enableVnetIntegration")))
        return AzureContext(
            need=self.need,
            cluster=cluster,
            nsgs=nsgs,
            vnets={**vnets, **peers},
            zone=self.zone(zone_id),
            endpoints=endpoints,
            load_balancers=self.in_node_rg(node_rg, "Microsoft.Network", "loadBalancers") or [],
            public_ips=self.in_node_rg(node_rg, "Microsoft.Network", "publicIPAddresses") or [],
            other_zones=other_zones,
            role_assignments={},
            zone_mode=access.get("privateDNSZone") or ("system" if access.get("enablePrivateCluster") else None),
            errors=tuple(self.errors),
            subscriptions=subscriptions,
            resolvers=resolvers,
            rulesets=rulesets,
            firewalls=list(self.firewalls.values()),
            server_hosts=dict(self.hosts),
            searched_subscriptions=tuple(searched),
            route_tables=route_tables,
            nat_gateways=nat_gateways,
            scale_sets=sets or [],
        )

    def bodies(self, ids: list[str]) -> dict[str, Body]:
        """Each resource by lower-cased id (one GET each in check), those that could be read."""
        found = ((i.lower(), self.get(i)) for i in ids)
        return {k: v for k, v in found if v is not None}

    @staticmethod
    def peered(vnets: dict[str, Body]) -> set[str]:
        return {
            p["properties"]["remoteVirtualNetwork"]["id"]
            for v in vnets.values()
            for p in (v.get("properties") or {}).get("virtualNetworkPeerings") or []
            if ((p.get("properties") or {}).get("remoteVirtualNetwork") or {}).get("id")
        }

    def in_node_rg(self, node_rg: str | None, namespace: str, kind: str) -> list[Body] | None:
        """The node resource group's resources of `kind` (one list read)."""
        if not node_rg:
            return []
        parent = f"/subscriptions/{self.need.subscription}/resourceGroups/{node_rg}/providers/{namespace}"
        return self.listed(f"{parent}/{kind}", self.index.children(parent, kind))

    # ---- the zone

    def zone(self, zone_id: str | None, known: Body | None = None) -> Body | None:
        """{"id", "name", "resource_group", "zone", "links", "records"}; `known` is a zone body a list found."""
        if not zone_id:
            return None

        def build() -> Body:
            p = parse_id(zone_id)
            body = known if known is not None else self.get(zone_id)
            links = self.listed(f"{zone_id}/virtualNetworkLinks", self.index.zone_links(zone_id))
            records = self.document(records_need(zone_id, self.endpoint))
            return {"id": zone_id, "name": p.get("privatednszones", ""), "resource_group": p.get("resourcegroups", ""),
                    "zone": body, "links": links, "records": records}  # fmt: skip

        return self.shared(("zone", zone_id.lower(), known is not None), build)

    # ---- the search of every searched subscription

    def search(self, first: list[str], fqdn: str, zone_id: str | None) -> tuple[list[str], list[Body], list[Body],
                                                                                  list[Body]]:  # fmt: skip
        listed = list(self.visible.subscriptions)
        visible = {str(s.get("subscriptionId") or "").lower() for s in listed}
        first = [s for s in first if s and s.lower() in visible]
        searched = [s for s in to_search(listed, first) if s in self.visible.searched]
        other: list[Body] = []
        named: dict[str, list[Body]] = {}
        if fqdn:  # every subscription's zones named like the FQDN, at once (not one lookup per subscription)
            for z in named_for(self.index, "", fqdn, zone_id):
                named.setdefault(subscription_in(str(z.get("id") or "")), []).append(z)
        for sub in searched:
            if not fqdn:  # check lists them whole where the cluster has no private FQDN
                other += self.index.in_subscription(sub, "microsoft.network/privatednszones")
            elif zones := named.get(sub.lower()):
                known = {str(z.get("id")).lower(): z for z in zones}
                found = (self.zone(i, known[i.lower()]) for i in could_answer(zones, fqdn, zone_id))
                other += [entry for entry in found if entry]
        resolvers, rulesets = self.shared(("forwarding", *searched), functools.partial(self.forwarding_in, searched))
        return searched, other, list(resolvers), list(rulesets)

    def forwarding_in(self, searched: list[str]) -> tuple[list[Body], list[Body]]:
        """The resolvers and the rulesets of the searched subscriptions, in their order (the same for every cluster
        that searches them in this order)."""
        resolvers: list[Body] = []
        rulesets: list[Body] = []
        for sub in searched:
            resolvers += self.shared(("resolvers", sub), functools.partial(self.resolvers_in, sub))
            rulesets += self.shared(("rulesets", sub), functools.partial(self.rulesets_in, sub))
        return resolvers, rulesets

    def resolvers_in(self, sub: str) -> list[Body]:
        out = []
        for r in self.index.in_subscription(sub, "microsoft.network/dnsresolvers"):
            rid = str(r["id"])
            out.append({"resolver": r, "inbound": by_id(self.index.children(rid, "inboundEndpoints")),
                        "outbound": by_id(self.index.children(rid, "outboundEndpoints"))})  # fmt: skip
        return out

    def rulesets_in(self, sub: str) -> list[Body]:
        out = []
        for rs in self.index.in_subscription(sub, "microsoft.network/dnsforwardingrulesets"):
            rid = str(rs["id"])
            links = by_id(self.index.children(rid, "virtualNetworkLinks"))
            need = rules_need(rid, self.endpoint)
            rules = self.document(need) if need in self.fetched else None  # not fetched: not read
            out.append({"ruleset": rs, "rules": rules, "links": links})
        return out

    def shared(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """What `build` makes from the index alone (the same for every cluster: a zone with its links and records,
        a subscription's resolvers and rulesets), made once per index and handed to every cluster as the same
        object — so the typed facts of a zone shared by 1,000 clusters are made once too (armview.once). The
        read errors it met are this cluster's as well: they are recorded again for each."""
        made: list[bool] = []

        def first() -> tuple[T, list[AzureReadError]]:
            mark = len(self.errors)
            value = build()
            made.append(True)
            return value, self.errors[mark:]

        value, errors = self.index.memo(("assembly", id(self.visible), id(self.fetched), *key), first)
        if not made:
            self.errors.extend(errors)
        return value

    # ---- the API server's endpoints

    def endpoints(self, node_rg: str | None, vnet_integration: bool) -> list[Body]:
        found: list[Body] = []
        if node_rg:
            parent = f"/subscriptions/{self.need.subscription}/resourceGroups/{node_rg}/providers/Microsoft.Network"
            if vnet_integration:
                lb = self.get(f"{parent}/loadBalancers/kube-apiserver")
                found = [lb] if lb else []
            else:
                listed = self.listed(f"{parent}/privateEndpoints", self.index.children(parent, "privateEndpoints"))
                found = [e for e in listed or [] if is_apiserver_endpoint(e)]
        cluster_id = str(self.cluster.get("id") or self.need.cluster_id)
        connected = [(_connection(cluster_id, e), e) for e in self.connected(cluster_id)]
        out = []
        for endpoint, connection in joined(found, connected):
            refs = (endpoint.get("properties") or {}).get("networkInterfaces") or []
            nics = [n for n in (self.get(str(r["id"])) for r in refs if r.get("id")) if n]
            entry: Body = {"endpoint": endpoint, "nics": nics}
            if connection is not None:
                entry["connection"] = connection
            out.append(entry)
        return out

    def connected(self, cluster_id: str) -> list[Body]:
        """The private endpoints (any subscription searched) whose private link service is the cluster: what its
        privateEndpointConnections name, read from the endpoints' side (Resource Graph does not index the
        connections)."""

        def targets(e: Body) -> list[str]:
            p = e.get("properties") or {}
            conns = [
                *(p.get("privateLinkServiceConnections") or []),
                *(p.get("manualPrivateLinkServiceConnections") or []),
            ]
            return [str((c.get("properties") or {}).get("privateLinkServiceId") or "") for c in conns]

        def build() -> dict[str, list[Body]]:
            out: dict[str, list[Body]] = {}
            for e in self.index.of_type("microsoft.network/privateendpoints"):
                for target in dict.fromkeys(t.lower().rstrip("/") for t in targets(e) if t):
                    out.setdefault(target, []).append(e)
            return out

        found = self.index.memo("endpoints by service", build).get(cluster_id.lower().rstrip("/"), [])
        return sorted(found, key=lambda e: str(e.get("name") or "").lower())

    # ---- what holds each DNS server address (sources.azure.servers)

    def servers(self, vnets: dict[str, Body], peers: dict[str, Body], own_vnets: list[str]) -> None:
        own = {i.lower() for i in own_vnets}
        ips = [str(ip) for k, v in vnets.items() if k in own
               for ip in ((v.get("properties") or {}).get("dhcpOptions") or {}).get("dnsServers") or []]  # fmt: skip

        def sub_of(ip: str) -> str | None:
            return subscription_holding(ip, vnets.values()) or subscription_holding(ip, [*vnets.values(),
                                                                                          *peers.values()])  # fmt: skip

        for ip in dict.fromkeys(ips):
            self.server(ip, sub_of, behind_firewall=False)

    def holders(self, kind: str, sub: str) -> dict[str, Body] | None:
        """The subscription's firewalls or NICs by the private address each holds (the first by id, as check's
        search of the list finds it): one list read per cluster, its map built once per index."""
        key = (kind, sub.lower())
        if key not in self._listed:
            scope = f"/subscriptions/{sub}/providers/Microsoft.Network/{kind}"
            self._listed[key] = self.listed(scope, [])  # the 403 where the subscription was not searched
        if self._listed[key] is None:
            return None
        ips_of = firewall_ips if kind == "azureFirewalls" else nic_ips

        def build() -> dict[str, Body]:
            out: dict[str, Body] = {}
            for body in self.index.in_subscription(sub, f"microsoft.network/{kind}"):
                for ip in sorted(ips_of(body)):
                    out.setdefault(ip, body)
            return out

        return self.index.memo(("holders", kind, sub.lower()), build)

    def server(self, ip: str, sub_of: Any, behind_firewall: bool) -> None:
        sub = sub_of(ip)
        if not sub:
            return  # off Azure (on premises) or in a VNet not read: its kind stays unknown
        firewalls = None if behind_firewall else self.holders("azureFirewalls", sub)
        nics = self.holders("networkInterfaces", sub)
        firewall = (firewalls or {}).get(ip)
        if firewall is not None:
            self.firewall(firewall, sub_of)
            return
        nic = (nics or {}).get(ip)
        if nic is not None and ip not in self.hosts:
            vm_id = str(((nic.get("properties") or {}).get("virtualMachine") or {}).get("id") or "")
            self.hosts[ip] = {"nic": nic, "vm": self.get(vm_id) if vm_id else None}

    def firewall(self, firewall: Body, sub_of: Any) -> None:
        fid = str(firewall.get("id") or "").lower()
        if fid in self.firewalls:
            return
        entry: Body = {"firewall": firewall, "policy": None}
        self.firewalls[fid] = entry
        policy_id = str(((firewall.get("properties") or {}).get("firewallPolicy") or {}).get("id") or "")
        if not policy_id:
            return
        entry["policy"] = self.get(policy_id)
        servers = ((entry["policy"] or {}).get("properties") or {}).get("dnsSettings", {}).get("servers") or []
        for s in servers:
            self.server(str(s), sub_of, behind_firewall=True)


def _connection(cluster_id: str, endpoint: Body) -> Body:
    """The cluster's privateEndpointConnections entry for `endpoint`, as the endpoint's side says it."""
    p = endpoint.get("properties") or {}
    conns = [*(p.get("privateLinkServiceConnections") or []), *(p.get("manualPrivateLinkServiceConnections") or [])]
    state = next(((c.get("properties") or {}).get("privateLinkServiceConnectionState") for c in conns
                  if same_id((c.get("properties") or {}).get("privateLinkServiceId"), cluster_id)), None)  # fmt: skip
    name = str(endpoint.get("name") or "")
    return {"id": f"{cluster_id}/privateEndpointConnections/{name}", "name": name,
            "type": "Microsoft.ContainerService/managedClusters/privateEndpointConnections",
            "properties": {"privateEndpoint": {"id": endpoint.get("id")},
                           "privateLinkServiceConnectionState": state or {}}}  # fmt: skip
