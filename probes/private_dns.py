"""private_dns: the management plane of a private cluster's DNS, as ARM describes it.

Hops: the cluster (private FQDN, zone mode) → the DNS servers of its VNet → the private DNS zone and its VNet
links → the A record → the API server's private endpoint. Judged: the zone not linked to the VNet that
resolves (DNS011), the record missing or stale (DNS012), the DNS VNet's peering (DNS014), the cluster identity's roles (DNS015), a BYO zone's name
(DNS016), another linked zone shadowing the name (DNS019), and reads that failed (AZ001 403, AZ002 404) — a failed read leaves its checks out, never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from aksdiag import codes
from aksdiag.armview import (
    cluster_vnet_ids,
    endpoint_ips,
    name_of,
    owning_vnet,
    parse_id,
    peering_between,
    props,
    same_id,
)
from aksdiag.facts import AzureContext
from aksdiag.model import Finding, Hop, Status
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import AZURE_DNS, Settings

ID = "private_dns"
_BYO_ZONE = re.compile(r"^(?:(?P<sub>[a-z0-9-]+)\.)?(?P<kind>privatelink|private)\.(?P<region>[a-z0-9]+)\.azmk8s\.io$")


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure is None:
        raise Skip("no Azure context: pass --cluster and --resource-group (and --subscription)")
    return [settings.azure]


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    assert settings.azure is not None
    ctx: AzureContext = facts[settings.azure]
    findings = _read_errors(ctx)
    if ctx.cluster is None:
        return Judgement(findings=tuple(findings), facts=_facts(ctx))
    cluster_vnets = _cluster_vnets(ctx)
    resolvers = _resolving_vnets(ctx, cluster_vnets)
    findings += _dns011_not_linked(ctx, resolvers)
    findings += _dns012_record(ctx)
    findings += _dns014_peering(ctx, cluster_vnets, resolvers)
    findings += _dns015_roles(ctx)
    findings += _dns016_zone_name(ctx)
    findings += _dns019_shadowed(ctx, resolvers)
    hops = _hops(ctx, cluster_vnets, resolvers, findings)
    return Judgement(hops=tuple(hops), findings=tuple(findings), facts=_facts(ctx))


# ---------------------------------------------------------------- what the cluster depends on


def _cluster_vnets(ctx: AzureContext) -> list[dict[str, Any]]:
    return [ctx.vnets[i] for i in cluster_vnet_ids(ctx.cluster) if i in ctx.vnets]


def _resolving_vnets(ctx: AzureContext, cluster_vnets: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any] | None]]:
    """(DNS server, the VNet it lives in) for each cluster VNet's DNS servers; Azure DNS resolves in the VNet itself."""
    out: list[tuple[str, dict[str, Any] | None]] = []
    for vnet in cluster_vnets:
        servers = props(vnet).get("dhcpOptions", {}).get("dnsServers") or []
        if not servers:
            out.append((AZURE_DNS.host, vnet))
        for server in servers:
            out.append((server, vnet if server == AZURE_DNS.host else owning_vnet(server, ctx.vnets)))
    return out


def _zone_name(ctx: AzureContext) -> str:
    return (ctx.zone or {}).get("name") or "(no private zone)"


def _zone_rg(ctx: AzureContext) -> str:
    return (ctx.zone or {}).get("resource_group") or "<zone-resource-group>"


# ---------------------------------------------------------------- rules


def _read_errors(ctx: AzureContext) -> list[Finding]:
    findings = []
    for e in ctx.errors:
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


def _dns011_not_linked(ctx: AzureContext, resolvers: list[tuple[str, dict[str, Any] | None]]) -> list[Finding]:
    zone = ctx.zone
    if not zone or zone.get("links") is None:
        return []  # no zone (privateDNSZone none) or links unreadable (AZ001 says so)
    linked = [props(link).get("virtualNetwork", {}).get("id", "") for link in zone["links"]]
    findings = []
    seen: set[str] = set()
    for server, vnet in resolvers:
        if vnet is None or vnet["id"].lower() in seen or any(same_id(vnet["id"], v) for v in linked):
            continue
        seen.add(vnet["id"].lower())
        why = "it uses Azure DNS" if server == AZURE_DNS.host else f"DNS server {server} lives there"
        findings.append(
            codes.DNS011.at(
                ID,
                zone=zone["name"],
                zone_rg=zone["resource_group"],
                vnet=vnet["id"],
                vnet_name=vnet["name"],
                linked=", ".join(name_of(v) for v in linked) or "no VNet",
                why=why,
                link_name=f"link-{vnet['name']}",
                evidence={"links": linked, "dns_server": server},
            )
        )
    return findings


def _dns012_record(ctx: AzureContext) -> list[Finding]:
    zone = ctx.zone
    fqdn = (props(ctx.cluster).get("privateFQDN") or "").lower()
    if not zone or zone.get("records") is None or not fqdn:
        return []
    relative = fqdn[: -len(zone["name"]) - 1] if fqdn.endswith("." + zone["name"].lower()) else fqdn
    record = next((r for r in zone["records"] if r.get("name", "").lower() == relative), None)
    have = [a.get("ipv4Address") for a in props(record).get("aRecords", [])] if record else []
    want = endpoint_ips(ctx.endpoints)
    endpoint = ctx.endpoints[0]["endpoint"]["id"] if ctx.endpoints else "(not found in the node resource group)"
    if record is None:
        detail = f"{zone['name']} has no A record {relative} for {fqdn}"
    elif want and not set(have) & set(want):
        detail = f"the A record {relative} holds {', '.join(have) or 'no address'}; the private endpoint has {', '.join(want)}"
    else:
        return []
    return [
        codes.DNS012.at(
            ID,
            detail=detail,
            record=relative,
            zone=zone["name"],
            zone_rg=zone["resource_group"],
            endpoint_ip=", ".join(want) or "<endpoint-ip>",
            endpoint=endpoint,
            evidence={"record": have, "endpoint_ips": want},
        )
    ]


def _dns014_peering(
    ctx: AzureContext, cluster_vnets: list[dict[str, Any]], resolvers: list[tuple[str, dict[str, Any] | None]]
) -> list[Finding]:
    findings = []
    for local in cluster_vnets:
        for _, remote in resolvers:
            if remote is None or same_id(remote["id"], local["id"]):
                continue
            for a, b in ((local, remote), (remote, local)):
                peering = peering_between(a, b)
                state = props(peering).get("peeringState") if peering else "no peering"
                if state == "Connected":
                    continue
                findings.append(
                    codes.DNS014.at(
                        ID,
                        local=a["id"],
                        remote=b["id"],
                        local_name=a["name"],
                        remote_name=b["name"],
                        local_rg=parse_id(a["id"]).get("resourcegroups", "<rg>"),
                        state=state,
                        evidence={"peering": (peering or {}).get("id"), "state": state},
                    )
                )
    return _unique(findings)


# Built-in role definition ids (the same in every tenant).
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"
ROLE_NAMES = {
    OWNER: "Owner", CONTRIBUTOR: "Contributor", NETWORK_CONTRIBUTOR: "Network Contributor",
    PRIVATE_DNS_ZONE_CONTRIBUTOR: "Private DNS Zone Contributor",
}  # fmt: skip


def _dns015_roles(ctx: AzureContext) -> list[Finding]:
    principal = (ctx.cluster or {}).get("identity", {}).get("principalId") or "<cluster identity>"
    findings = []
    for scope, assignments in ctx.role_assignments.items():
        if assignments is None:
            continue  # unreadable: AZ001
        needed = PRIVATE_DNS_ZONE_CONTRIBUTOR if "/privatednszones/" in scope.lower() else NETWORK_CONTRIBUTOR
        held = [props(a).get("roleDefinitionId", "").rsplit("/", 1)[-1].lower() for a in assignments]
        if {needed, CONTRIBUTOR, OWNER} & set(held):
            continue
        if any(h not in ROLE_NAMES for h in held):
            continue  # a custom role may grant it: aksdiag cannot tell without reading its definition
        findings.append(
            codes.DNS015.at(
                ID,
                principal=principal,
                scope=scope,
                role=ROLE_NAMES[needed],
                held=", ".join(ROLE_NAMES[h] for h in held) or "no role",
                evidence={"scope": scope, "role_definitions": held},
            )
        )
    return findings


def _dns016_zone_name(ctx: AzureContext) -> list[Finding]:
    mode = ctx.zone_mode or ""
    if not mode.lower().startswith("/subscriptions/"):
        return []  # system or none: AKS names the zone itself
    zone = name_of(mode).lower()
    region = (ctx.cluster or {}).get("location", "").replace(" ", "").lower()
    vnet_integration = bool((props(ctx.cluster).get("apiServerAccessProfile") or {}).get("enableVnetIntegration"))
    kind = "private" if vnet_integration else "privatelink"
    expected = f"{kind}.{region}.azmk8s.io"
    m = _BYO_ZONE.match(zone)
    problem = None
    if not m:
        problem = f"not of the form {expected} or <subzone>.{expected}"
    elif m.group("region") != region:
        problem = f"the zone is for region {m.group('region')}, the cluster is in {region}"
    elif m.group("kind") != kind:
        problem = f"{m.group('kind')}.… zones are not for {'VNet-integrated' if vnet_integration else 'private-endpoint'} clusters"
    elif m.group("sub") and len(m.group("sub")) > 32:
        problem = f"the subzone {m.group('sub')} is longer than 32 characters"
    if not problem:
        return []
    return [codes.DNS016.at(ID, zone=zone, problem=problem, expected=expected, evidence={"zone_id": mode})]


def _dns019_shadowed(ctx: AzureContext, resolvers: list[tuple[str, dict[str, Any] | None]]) -> list[Finding]:
    fqdn = (props(ctx.cluster).get("privateFQDN") or "").lower()
    own = ((ctx.zone or {}).get("name") or "").lower()
    resolving = [v for _, v in resolvers if v is not None]
    findings = []
    for other in ctx.other_zones:
        name = other["name"].lower()
        if own and not name.endswith("." + own):
            continue  # less specific than the cluster's zone: the cluster's zone wins
        if other.get("records") is None or any(_holds(name, r, fqdn) for r in other["records"]):
            continue
        for link in other.get("links") or []:
            vnet = next(
                (v for v in resolving if same_id(v["id"], props(link).get("virtualNetwork", {}).get("id"))), None
            )
            if vnet is None:
                continue
            findings.append(
                codes.DNS019.at(
                    ID,
                    other_zone=other["name"],
                    other_rg=other["resource_group"],
                    vnet_name=vnet["name"],
                    link_name=link["name"],
                    link_state=props(link).get("virtualNetworkLinkState", "?"),
                    policy=props(link).get("resolutionPolicy", "Default"),
                    zone=own or "the cluster's zone",
                    fqdn=fqdn,
                    evidence={"zone": other["id"], "link": link["id"]},
                )
            )
    return _unique(findings)


def _holds(zone: str, record: dict[str, Any], fqdn: str) -> bool:
    relative = record.get("name", "").lower()
    return (fqdn == zone and relative == "@") or fqdn == f"{relative}.{zone}"


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in findings:
        if f.detail not in seen:
            seen.add(f.detail)
            out.append(f)
    return out


# ---------------------------------------------------------------- hops and facts


def _hops(
    ctx: AzureContext,
    cluster_vnets: list[dict[str, Any]],
    resolvers: list[tuple[str, dict[str, Any] | None]],
    findings: list[Finding],
) -> list[Hop]:
    p = props(ctx.cluster)
    failed = {f.id for f in findings if f.severity.value == "error"}
    hops = [
        Hop(1, "cluster", (ctx.cluster or {}).get("name", "cluster"), Status.OK,
            answers=tuple(filter(None, [p.get("privateFQDN")])),
            detail=_cluster_detail(ctx, cluster_vnets)),
        Hop(2, "vnet-dns", "VNet DNS servers", Status.FAIL if "DNS014" in failed else Status.OK,
            answers=tuple(s for s, _ in resolvers),
            detail="; ".join(f"{s} in {v['name'] if v else 'a VNet not read (on-premises or not peered)'}"
                             for s, v in resolvers)),
    ]  # fmt: skip
    zone = ctx.zone
    if zone:
        links = zone.get("links")
        link_text = (
            "links unreadable"
            if links is None
            else "; ".join(
                f"{link['name']} → {name_of(props(link).get('virtualNetwork', {}).get('id', '?'))} "
                f"({props(link).get('virtualNetworkLinkState', '?')}, resolution policy "
                f"{props(link).get('resolutionPolicy', 'Default')})"
                for link in links
            )
            or "no links"
        )
        status = Status.FAIL if {"DNS011", "DNS016"} & failed else Status.SKIPPED if links is None else Status.OK
        hops.append(Hop(3, "private-zone", zone["name"], status, detail=link_text))
        records = zone.get("records")
        a_records = tuple(
            a.get("ipv4Address") for r in records or [] for a in props(r).get("aRecords", []) if a.get("ipv4Address")
        )
        hops.append(
            Hop(
                4,
                "record",
                "A records",
                Status.FAIL if "DNS012" in failed else Status.OK,
                answers=a_records,
                detail=", ".join(r.get("name", "?") for r in records or []) or "none readable",
            )
        )
    ips = endpoint_ips(ctx.endpoints)
    hops.append(
        Hop(
            len(hops) + 1,
            "endpoint",
            "API server internal load balancer" if _vnet_integration(ctx) else "API server private endpoint",
            Status.OK if ips else Status.SKIPPED,
            answers=tuple(ips),
            detail="; ".join(_endpoint_detail(e) for e in ctx.endpoints)
            or "no private endpoint found in the node resource group",
        )
    )
    return hops


def _vnet_integration(ctx: AzureContext) -> bool:
    return bool((props(ctx.cluster).get("apiServerAccessProfile") or {}).get("enableVnetIntegration"))


def _cluster_detail(ctx: AzureContext, cluster_vnets: list[dict[str, Any]]) -> str:
    p = props(ctx.cluster)
    access = p.get("apiServerAccessProfile") or {}
    parts = [f"private DNS zone mode: {ctx.zone_mode or 'not private'}"]
    if access.get("enablePrivateCluster"):
        public = access.get("enablePrivateClusterPublicFQDN")
        parts.append(f"public FQDN {p.get('fqdn')}" if public and p.get("fqdn") else "no public FQDN")
    if _vnet_integration(ctx):
        parts.append(f"API Server VNet Integration, subnet {name_of(access.get('subnetId') or '') or 'AKS-managed'}")
    parts.append("VNets: " + (", ".join(v["name"] for v in cluster_vnets) or "AKS-managed"))
    return "; ".join(parts)


def _endpoint_detail(entry: dict[str, Any]) -> str:
    """Where the API server's address sits: AKS puts the private endpoint in the first node pool's subnet, and
    may recreate it elsewhere on a stop/start (then records and firewall rules pinned to the old IP go stale)."""
    body = entry.get("endpoint") or {}
    subnets = [props(nic_config).get("subnet", {}).get("id", "") for nic in entry.get("nics", [])
               for nic_config in props(nic).get("ipConfigurations", [])]  # fmt: skip
    subnets += [props(f).get("subnet", {}).get("id", "") for f in props(body).get("frontendIPConfigurations", [])]
    where = ", ".join(f"subnet {name_of(s)}" for s in subnets if s)
    return f"{body.get('name', '?')} in {where or 'an unknown subnet'}"


def _facts(ctx: AzureContext) -> dict[str, Any]:
    return {
        "cluster": (ctx.cluster or {}).get("id"),
        "private_fqdn": props(ctx.cluster).get("privateFQDN"),
        "zone": (ctx.zone or {}).get("id"),
        "zone_mode": ctx.zone_mode,
        "endpoint_ips": endpoint_ips(ctx.endpoints),
        "vnets": sorted(v.get("id", k) for k, v in ctx.vnets.items()),
        "errors": [e.to_dict() for e in ctx.errors],
        "arm_requests": ctx.requests,
    }


PROBE = Probe(
    id=ID,
    title="Private DNS zone (Azure)",
    codes=("DNS011", "DNS012", "DNS014", "DNS015", "DNS016", "DNS019", "AZ001", "AZ002"),
    plan=plan,
    judge=judge,
    commands=("dns", "check"),
    optional_in=("dns",),
    order=20,
)
