"""The hops a report draws for the management plane: cluster → VNet DNS servers → (firewall DNS proxy, forwarding
rule, resolver inbound endpoint, where the paths go through them) → zone → record → endpoint."""

from __future__ import annotations

from aksdiag.probes.private_dns.paths import Path, Resolvers

from aksdiag.armview import name_of
from aksdiag.azfacts import ApiEndpoint, AzureFacts, Cluster, VNet
from aksdiag.model import Finding, Hop, Status
from aksdiag.settings import AZURE_DNS


def hops(
    arm: AzureFacts,
    cluster: Cluster,
    cluster_vnets: list[VNet],
    resolvers: Resolvers,
    findings: list[Finding],
    walked: list[Path] | None = None,
) -> list[Hop]:
    failed = {f.id for f in findings if f.severity.value == "error"}
    hops = [
        Hop(1, "cluster", cluster.name or "cluster", Status.OK,
            answers=tuple(filter(None, [cluster.private_fqdn])),
            detail=_cluster_detail(arm.zone_mode, cluster, cluster_vnets)),
        Hop(2, "vnet-dns", "VNet DNS servers", Status.FAIL if "DNS014" in failed else Status.OK,
            answers=tuple(s for s, _ in resolvers),
            detail=_servers_detail(resolvers, walked)),
    ]  # fmt: skip
    hops += _forwarding_hops(len(hops), walked or [], findings)
    zone = arm.zone
    if zone:
        link_text = (
            "links unreadable"
            if zone.links is None
            else "; ".join(
                f"{link.name} → {name_of(link.vnet_id or '?')} ({link.state}, resolution policy "
                f"{link.resolution_policy})"
                for link in zone.links
            )
            or "no links"
        )
        status = Status.FAIL if {"DNS011", "DNS016"} & failed else Status.SKIPPED if zone.links is None else Status.OK
        hops.append(Hop(len(hops) + 1, "private-zone", zone.name, status, detail=link_text))
        records = zone.records or ()
        hops.append(
            Hop(
                len(hops) + 1,
                "record",
                "A records",
                Status.FAIL if "DNS012" in failed else Status.OK,
                answers=tuple(a for r in records for a in r.addresses),
                detail=", ".join(r.name or "?" for r in records) or "none readable",
            )
        )
    ips = arm.endpoint_ips
    hops.append(
        Hop(
            len(hops) + 1,
            "endpoint",
            "API server internal load balancer" if cluster.vnet_integration else "API server private endpoint",
            Status.OK if ips else Status.SKIPPED,
            answers=tuple(ips),
            detail="; ".join(_endpoint_detail(e) for e in arm.endpoints)
            or "no private endpoint found in the node resource group",
        )
    )
    return hops


_HOP_KINDS = {"firewall": "firewall", "rule": "forwarding-rule", "inbound": "resolver"}
_HOP_CODES = {"firewall": ("DNS027", "DNS028"), "rule": ("DNS023", "DNS024", "DNS025", "DNS026"),
              "inbound": ("DNS011",)}  # fmt: skip


def _forwarding_hops(before: int, walked: list[Path], findings: list[Finding]) -> list[Hop]:
    """One hop per firewall, forwarding rule and inbound endpoint the paths go through, in the order reached;
    failed (or warned) when a finding of its codes names it."""
    seen: dict[tuple[str, str], list[str]] = {}
    for path in walked:
        for step in path.steps:
            if step.kind in _HOP_KINDS:
                details = seen.setdefault((step.kind, step.name), [])
                if step.detail not in details:
                    details.append(step.detail)
    out: list[Hop] = []
    for (kind, name), details in seen.items():
        short = name.rsplit("/", 1)[-1]
        named = [f for f in findings if f.id in _HOP_CODES[kind] and short in f.detail + f.remediation]
        status = (Status.FAIL if any(f.severity.value == "error" for f in named)
                  else Status.WARN if named else Status.OK)  # fmt: skip
        out.append(Hop(before + len(out) + 1, _HOP_KINDS[kind], name, status, detail="; ".join(details)))
    return out


def _cluster_detail(zone_mode: str | None, cluster: Cluster, cluster_vnets: list[VNet]) -> str:
    parts = [f"private DNS zone mode: {zone_mode or 'not private'}"]
    if cluster.private:
        parts.append(
            f"public FQDN {cluster.fqdn}" if cluster.private_public_fqdn and cluster.fqdn else "no public FQDN"
        )
    if cluster.vnet_integration:
        parts.append(f"API Server VNet Integration, subnet {name_of(cluster.api_subnet_id) or 'AKS-managed'}")
    parts.append("VNets: " + (", ".join(v.name for v in cluster_vnets) or "AKS-managed"))
    return "; ".join(parts)


def _endpoint_detail(endpoint: ApiEndpoint) -> str:
    """Where the API server's address sits: AKS puts the private endpoint in the first node pool's subnet, and
    may recreate it elsewhere on a stop/start (then records and firewall rules pinned to the old IP go stale)."""
    where = ", ".join(f"subnet {name_of(s)}" for s in endpoint.subnet_ids)
    return f"{endpoint.name} in {where or 'an unknown subnet'}"


def _servers_detail(resolvers: Resolvers, walked: list[Path] | None) -> str:
    """What each cluster VNet asks and where its answer comes from (from the walked paths when there are some)."""
    if not walked:
        return "; ".join(f"{s} in {v.name if v else 'a VNet not read (on-premises or not peered)'}"
                         for s, v in resolvers)  # fmt: skip
    out = []
    for path in walked:
        asked = "Azure DNS" if path.server == AZURE_DNS.host else path.server
        if path.end == "view" and path.view is not None:
            where = f"answered by Azure DNS in {path.view.name}"
        elif path.end == "off-azure":
            where = f"sent on to {path.last or 'a server'} off Azure"
        else:
            where = {"loop": "loops", "proxy-off": "no answer (DNS proxy off)",
                     "unread": "not followed (a read failed)"}.get(path.end, "lost in a VNet not read")  # fmt: skip
        out.append(f"{path.start.name} asks {asked}: {where}")
    return "; ".join(dict.fromkeys(out))
