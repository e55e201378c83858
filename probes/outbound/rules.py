"""The outbound probe's rules, one small function per code, each over one node subnet (`Way`) or the cluster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aksdiag import egresspath
from aksdiag.armview import parse_id
from aksdiag.azfacts import AzureFacts, Cluster, NatGateway, RouteTable, Subnet
from aksdiag.azfacts_egress import Route
from aksdiag.codes import outbound as eg
from aksdiag.model import Finding

ID = "outbound"
UDR = "userDefinedRouting"
PUBLIC_SAMPLE = "20.150.0.1"
"""An Azure public address that stands for "the internet" where a rule or a route is matched by address."""
FORWARDING_HOPS = ("VirtualAppliance", "VirtualNetworkGateway")


@dataclass(frozen=True)
class Way:
    """One node subnet's way out: its pools, route table, NAT gateway and the route a public address takes."""

    subnet_id: str
    subnet: Subnet | None
    pools: tuple[str, ...]
    table: RouteTable | None
    nat: NatGateway | None
    internet: egresspath.NextHop

    @property
    def name(self) -> str:
        return self.subnet.name if self.subnet else self.subnet_id.rsplit("/", 1)[-1]

    @property
    def routes_unread(self) -> bool:
        """The subnet (its VNet) or the route table it names could not be read: no verdict rests on its routes."""
        return self.subnet is None or bool(self.subnet.route_table_id and self.table is None)

    @property
    def nat_unread(self) -> bool:
        return self.subnet is None or bool(self.subnet.nat_gateway_id and self.nat is None)

    @property
    def default_route(self) -> Route | None:
        return next((r for r in self.table.routes if r.prefix.strip() == "0.0.0.0/0"), None) if self.table else None

    def fields(self) -> dict[str, Any]:
        table_rg = parse_id(self.table.id).get("resourcegroups", "") if self.table else ""
        return {"subnet": self.name, "subnet_id": self.subnet_id, "pools": ", ".join(self.pools),
                "table": self.table.name if self.table else "", "table_rg": table_rg}  # fmt: skip


def ways(arm: AzureFacts, cluster: Cluster) -> list[Way]:
    """The node subnets (BYO VNet), each once, in pool order."""
    by_subnet: dict[str, list[str]] = {}
    for pool in cluster.pools:
        if pool.vnet_subnet_id:
            by_subnet.setdefault(pool.vnet_subnet_id, []).append(pool.name)
    return [
        Way(s, arm.subnet(s), tuple(pools), arm.route_table_of(s), arm.nat_gateway_of(s),
            egresspath.next_hop(arm, s, PUBLIC_SAMPLE))
        for s, pools in by_subnet.items()
    ]  # fmt: skip


def _hop_fields(route: Route) -> dict[str, Any]:
    return {"route": route.name, "prefix": route.prefix,
            "next_hop": f"{route.next_hop_type} {route.next_hop_ip}".strip()}  # fmt: skip


def _appliance(arm: AzureFacts, route: Route) -> str:
    if route.next_hop_type == "VirtualNetworkGateway":
        return "the VPN/ExpressRoute gateway"
    firewall = arm.firewall_at(route.next_hop_ip)
    owner = arm.owning_vnet(route.next_hop_ip) if route.next_hop_ip else None
    where = f" in {owner.name}" if owner else ""
    return f"Azure Firewall {firewall.name} ({route.next_hop_ip})" if firewall else f"{route.next_hop_ip}{where}"


def default_route(arm: AzureFacts, cluster: Cluster, way: Way, names: dict[str, Any]) -> list[Finding]:
    """EG010 (to None), EG011 (to an appliance, as userDefinedRouting means), EG012 (bypassing the LB or NAT
    gateway), EG016 (userDefinedRouting without one)."""
    if way.routes_unread:
        return []
    route = way.default_route
    base = {**way.fields(), "outbound_type": cluster.outbound_type, **names}
    if route is None:
        if cluster.outbound_type != UDR:
            return []
        why = f"route table {way.table.name} has no 0.0.0.0/0 route" if way.table else "no route table"
        return [eg.EG016.at(ID, **base, why=why, evidence={"subnet": way.subnet_id})]
    fields = {**base, **_hop_fields(route), "appliance": _appliance(arm, route)}
    evidence = {"subnet": way.subnet_id, "route_table": way.table.id if way.table else "", "route": route.name}
    if route.next_hop_type == "None":
        return [eg.EG010.at(ID, **fields, evidence=evidence)]
    if route.next_hop_type not in FORWARDING_HOPS:
        return []
    if cluster.outbound_type == "loadBalancer" or cluster.outbound_type in egresspath.NAT_OUTBOUND:
        return [eg.EG012.at(ID, **fields, evidence=evidence)]
    return [eg.EG011.at(ID, **fields, evidence=evidence)]


def routes_away(arm: AzureFacts, way: Way) -> list[Finding]:
    """EG013 (the API server's address) and EG014 (the node range) sent off the VNet's own route."""
    out: list[Finding] = []
    if way.table is None:
        return out
    for address in arm.endpoint_ips:
        hop = egresspath.next_hop(arm, way.subnet_id, address)
        route = way.table.route_for(address) if hop.user else None
        if route and hop.next_hop_type != "VnetLocal":
            out.append(eg.EG013.at(ID, **way.fields(), **_hop_fields(route), address=address,
                                evidence={"subnet": way.subnet_id, "route": route.name, "address": address}))  # fmt: skip
    node_prefix = way.subnet.prefix if way.subnet else ""
    own = [
        _length(p)
        for p, t in egresspath.system_routes(arm, way.subnet_id)
        if t == "VnetLocal" and _overlaps(p, node_prefix)
    ]
    system = max(own, default=33)  # a route at least as specific as the VNet's own route wins over it
    for route in way.table.routes:
        api_only = route.length == 32 and route.prefix.split("/")[0] in arm.endpoint_ips  # EG013 says it
        if (
            node_prefix
            and not api_only
            and route.next_hop_type != "VnetLocal"
            and route.length >= system
            and _overlaps(route.prefix, node_prefix)
        ):
            out.append(eg.EG014.at(ID, **way.fields(), **_hop_fields(route), node_prefix=node_prefix,
                                evidence={"subnet": way.subnet_id, "route": route.name}))  # fmt: skip
    return out


def bgp_needed(arm: AzureFacts, cluster: Cluster, way: Way) -> list[Finding]:
    """EG015: BGP propagation off, and a DNS server or the proxy sits where only a gateway's route reaches."""
    if way.table is None or not way.table.bgp_propagation_disabled:
        return []
    needed = [("the VNet's DNS server", s) for s in arm.vnet_dns_servers]
    needed += [("the HTTP proxy", h) for h in (_host(cluster.http_proxy), _host(cluster.https_proxy)) if h]
    out: list[Finding] = []
    for what, address in dict.fromkeys(needed):
        if egresspath.in_vnets(arm, address) or egresspath.is_public(address):
            continue
        hop = egresspath.next_hop(arm, way.subnet_id, address)
        if hop.next_hop_type == "None" and not hop.user:
            out.append(eg.EG015.at(ID, **way.fields(), what=what, address=address, via=hop.describe(),
                                evidence={"subnet": way.subnet_id, "address": address}))  # fmt: skip
    return out


def nat_gateway(arm: AzureFacts, cluster: Cluster, way: Way, names: dict[str, Any]) -> list[Finding]:
    """EG017 (no public IP), EG018 (a NAT gateway under a loadBalancer cluster)."""
    nat = way.nat
    if nat is None:
        return []
    fields = {**way.fields(), **names, "nat": nat.name, "outbound_type": cluster.outbound_type,
              "nat_rg": parse_id(nat.id).get("resourcegroups", "")}  # fmt: skip
    evidence = {"subnet": way.subnet_id, "nat_gateway": nat.id}
    if not nat.public_ip_ids and not nat.public_prefix_ids:
        return [eg.EG017.at(ID, **fields, evidence=evidence)]
    if cluster.outbound_type == "loadBalancer":
        ips = len(nat.public_ip_ids)
        return [eg.EG018.at(ID, **fields, ips=ips, ports=ips * NatGateway.PORTS_PER_IP, idle=nat.idle_timeout_minutes,
                         evidence=evidence)]  # fmt: skip
    return []


def no_way_out(cluster: Cluster, way: Way) -> list[Finding]:
    """EG020: a private subnet, no NAT gateway, an internet route of Azure's own, and no outbound from AKS."""
    if cluster.outbound_type not in ("none", UDR) or way.nat is not None or way.subnet is None or way.nat_unread:
        return []
    if way.routes_unread or way.subnet.default_outbound_access is not False or way.internet.next_hop_type != "Internet":
        return []
    return [eg.EG020.at(ID, **way.fields(), via=way.internet.describe(), outbound_type=cluster.outbound_type,
                     evidence={"subnet": way.subnet_id})]  # fmt: skip


def nsg_denies(arm: AzureFacts, way: Way) -> list[Finding]:
    """EG021: an NSG on the pool's NICs or subnet denies outbound TCP 443 to the internet."""
    out: list[Finding] = []
    for pool in way.pools:
        blocker = egresspath.nsg_blocker(arm, pool, way.subnet, PUBLIC_SAMPLE, 443, "Tcp")
        if blocker is None:
            continue
        nsg = next((n for n in arm.nsgs.values() if n.name == blocker.evidence["nsg"]), None)
        out.append(eg.EG021.at(ID, decision=blocker.sentence.split(" (outbound")[0], pool=pool, subnet=way.name,
                            source=egresspath.node_address(way.subnet), rule=blocker.evidence["rule"],
                            nsg=blocker.evidence["nsg"], priority=blocker.evidence["priority"],
                            nsg_rg=parse_id(nsg.id).get("resourcegroups", "") if nsg else "",
                            evidence={**blocker.evidence, "subnet": way.subnet_id}))  # fmt: skip
    return out


def proxy_wildcards(cluster: Cluster, names: dict[str, Any]) -> list[Finding]:
    """EG019: `*.suffix` in noProxy, which AKS does not support."""
    starred = [n for n in cluster.no_proxy if n.startswith("*") and len(n) > 1]
    if not starred:
        return []
    fixed = ", ".join("." + n.lstrip("*").lstrip(".") for n in starred)
    return [eg.EG019.at(ID, entries=", ".join(starred), fixed=fixed, proxy=cluster.https_proxy or cluster.http_proxy,
                     **names, evidence={"no_proxy": list(cluster.no_proxy)})]  # fmt: skip


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""


def _length(prefix: str) -> int:
    return Route("", prefix, "").length


def _overlaps(a: str, b: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_network(a, strict=False).overlaps(ipaddress.ip_network(b, strict=False))
    except (ValueError, TypeError):
        return False
