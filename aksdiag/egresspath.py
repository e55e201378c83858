"""What on the Azure side stops a node's packets to an address (issue 15): the route Azure picks on the node subnet
(a user-defined route to a virtual appliance, to None, a service-tag route), the NSGs on the way (the NIC's, then the
subnet's, outbound), the cluster's outbound type. Pure: AzureFacts in, a Blocker (or None) out — the egress probe
names it beside an endpoint that could not be reached, the outbound probe judges the routes themselves.

Routes follow Learn's "Virtual network traffic routing": the longest prefix wins, a user route over a system route
of the same length. The system routes modelled are the VNet's own address space (VnetLocal), its peered VNets'
(VNetPeering), 0.0.0.0/0 to Internet, and 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 to None (an
address in them outside every VNet is reached only through a route a gateway propagates over BGP, or a user route).
Routes a gateway learns over BGP are not visible in ARM: with BGP propagation on, an address they might cover is
"nothing seen", never a blocker.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aksdiag.nsg import Flow, evaluate_path

if TYPE_CHECKING:
    from aksdiag.azfacts import AzureFacts, NodePool
    from aksdiag.azfacts_egress import RouteTable
    from aksdiag.azfacts_network import Nsg, Subnet

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
"""Azure's default system routes with next hop None (outside the VNet's own address space)."""
NAT_OUTBOUND = ("managedNATGateway", "userAssignedNATGateway")


@dataclass(frozen=True)
class Blocker:
    """What Azure's configuration does with the packets: `kind` route-none | appliance | gateway | nsg |
    outbound-none | no-way-out, the resource (`what`: a route table and route, an appliance, an NSG and rule) and
    one sentence for people. An appliance or a gateway forwards the packets: it blocks only if it does not allow them,
    which ARM does not show (the sentence says so)."""

    kind: str
    what: str
    sentence: str
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NextHop:
    """The route Azure picks for an address on a subnet: a user route (`table`/`route` set) or a system one."""

    next_hop_type: str
    """VnetLocal, VNetPeering, Internet, None, VirtualAppliance, VirtualNetworkGateway."""
    prefix: str
    next_hop_ip: str = ""
    table: str = ""
    route: str = ""

    @property
    def user(self) -> bool:
        return bool(self.route)

    def describe(self) -> str:
        to = f"{self.next_hop_type} {self.next_hop_ip}".strip()
        if self.user:
            return f"route {self.route} ({self.prefix} → {to}) of route table {self.table}"
        return f"the system route {self.prefix} → {to}"


@functools.lru_cache(maxsize=4096)
def _network(prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The prefix parsed (None when it is not one); cached: a fleet asks the same few prefixes thousands of times."""
    try:
        return ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return None


@functools.lru_cache(maxsize=16384)
def _holds(prefix: str, address: str) -> bool:
    net = _network(prefix)
    try:
        return net is not None and ipaddress.ip_address(address) in net
    except ValueError:
        return False


def system_routes(facts: AzureFacts, subnet_id: str) -> list[tuple[str, str]]:
    """(prefix, next hop type) of the system routes on `subnet_id`'s VNet, as far as the VNets read show them."""
    from aksdiag.armview import vnet_of_subnet

    own = facts.vnets.get(vnet_of_subnet(subnet_id).lower())
    routes = [(p, "VnetLocal") for p in own.prefixes] if own else []
    for peering in own.peerings if own else ():
        remote = facts.vnets.get(peering.remote_vnet_id.lower())
        if remote and (peering.state or "Connected") == "Connected":
            routes += [(p, "VNetPeering") for p in remote.prefixes]
    return [*routes, ("0.0.0.0/0", "Internet"), *((p, "None") for p in PRIVATE_RANGES)]


def next_hop(facts: AzureFacts, subnet_id: str, address: str) -> NextHop:
    """The route Azure picks for `address` from `subnet_id`: the longest prefix, a user route winning a tie."""
    system = [(p, t) for p, t in system_routes(facts, subnet_id) if _holds(p, address)]
    best_system = max(system, key=lambda r: _length(r[0]), default=("0.0.0.0/0", "Internet"))
    # a VNet's own space overrides the None ranges it overlaps: VnetLocal/VNetPeering of equal length beat None
    same = [r for r in system if _length(r[0]) == _length(best_system[0])]
    best_system = next((r for r in same if r[1] != "None"), best_system)
    table = facts.route_table_of(subnet_id)
    user = table.route_for(address) if table else None
    if table and user and user.length >= _length(best_system[0]):
        return NextHop(user.next_hop_type, user.prefix, user.next_hop_ip, table.name, user.name)
    return NextHop(best_system[1], best_system[0])


def _length(prefix: str) -> int:
    net = _network(prefix)
    return net.prefixlen if net else -1


def pool_subnet(facts: AzureFacts, pool: str) -> tuple[str, str]:
    """(pool name, node subnet) of `pool` (by name, without case), else of the cluster's first pool with a subnet;
    the subnet is "" when the cluster's VNet is AKS-managed (no vnetSubnetID)."""
    pools: tuple[NodePool, ...] = facts.cluster.pools if facts.cluster else ()
    named = next((p for p in pools if p.name.lower() == pool.lower()), None)
    found = named if named and named.vnet_subnet_id else next((p for p in pools if p.vnet_subnet_id), named)
    return (found.name, found.vnet_subnet_id) if found else (pool, "")


def node_address(subnet: Subnet | None) -> str:
    """A node's address on the subnet, for rules that match sources: the first one Azure gives (.4)."""
    net = _network(subnet.prefix) if subnet else None
    return str(net.network_address + 4) if net and net.num_addresses > 4 else "10.0.0.4"


def in_vnets(facts: AzureFacts, address: str) -> bool:
    return any(_holds(p, address) for p in facts.vnet_prefixes)


def is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_global and not any(_holds(p, address) for p in PRIVATE_RANGES)


def explain(facts: AzureFacts, pool: str, address: str, port: int, protocol: str = "Tcp") -> Blocker | None:
    """What stops `pool`'s nodes from reaching address:port, as far as ARM shows it; None: nothing seen."""
    cluster = facts.cluster
    if cluster is None:
        return None
    pool, subnet_id = pool_subnet(facts, pool)
    subnet = facts.subnet(subnet_id) if subnet_id else None
    public = is_public(address) and not in_vnets(facts, address)
    if public and cluster.outbound_type == "block":
        return Blocker("outbound-none", cluster.name, f"the cluster's outbound type is block: AKS blocks the nodes' "
                       f"egress to the internet, {address}:{port} included", {"outbound_type": "block"})  # fmt: skip
    found = nsg_blocker(facts, pool, subnet, address, port, protocol)
    if found or not subnet_id:
        return found
    hop = next_hop(facts, subnet_id, address)
    evidence = {"subnet": subnet_id, "next_hop_type": hop.next_hop_type, "prefix": hop.prefix,
                "next_hop_ip": hop.next_hop_ip, "route_table": hop.table, "route": hop.route}  # fmt: skip
    table: RouteTable | None = facts.route_table_of(subnet_id)
    if hop.next_hop_type == "None":
        if not hop.user and not (table and table.bgp_propagation_disabled):
            return None  # a gateway may propagate a route for it over BGP, which ARM does not show
        why = "" if hop.user else f" (route table {table.name if table else ''} takes no BGP routes)"
        return Blocker("route-none", f"{hop.table}/{hop.route}" if hop.user else hop.prefix,
                       f"{hop.describe()} drops {address}:{port}{why}", evidence)  # fmt: skip
    if hop.next_hop_type == "VirtualAppliance":
        firewall = facts.firewall_at(hop.next_hop_ip)
        name = f"Azure Firewall {firewall.name} ({hop.next_hop_ip})" if firewall else f"the appliance {hop.next_hop_ip}"
        return Blocker("appliance", name, f"{hop.describe()} sends {address}:{port} to {name}, which must allow it "
                       f"(its rules are not read here)", evidence)  # fmt: skip
    if hop.next_hop_type == "VirtualNetworkGateway":
        return Blocker("gateway", f"{hop.table}/{hop.route}", f"{hop.describe()} sends {address}:{port} to the VPN or "
                       "ExpressRoute gateway (forced tunnelling): the network beyond it must allow it", evidence)  # fmt: skip
    if public and hop.next_hop_type == "Internet":
        return _no_way_out(facts, subnet_id, subnet, address, port, evidence)
    return None


def nsg_blocker(
    facts: AzureFacts, pool: str, subnet: Subnet | None, address: str, port: int, protocol: str
) -> Blocker | None:
    """The first NSG that denies the flow outbound: the pool's NIC NSGs, then the subnet's."""
    subnet_nsg = facts.nsgs.get(subnet.nsg_id.lower()) if subnet and subnet.nsg_id else None
    nic_nsgs = facts.nic_nsgs_of(pool) if pool else []
    if subnet_nsg is None and not nic_nsgs:
        return None
    flow = Flow("Outbound", protocol.capitalize(), node_address(subnet), address, port)
    candidates: list[Nsg | None] = [*nic_nsgs] or [None]
    for nic_nsg in candidates:
        for decision in evaluate_path(flow, facts.vnet_prefixes, subnet_nsg, nic_nsg):
            if not decision.allowed:
                return Blocker("nsg", f"{decision.nsg}/{decision.rule}", f"{decision.describe()} (outbound "
                               f"{protocol.upper()} {address}:{port} from {flow.source})",
                               {"nsg": decision.nsg, "rule": decision.rule, "priority": str(decision.priority)})  # fmt: skip
    return None


def _no_way_out(
    facts: AzureFacts, subnet_id: str, subnet: Subnet | None, address: str, port: int, evidence: dict[str, str]
) -> Blocker | None:
    """The route says Internet, but nothing on the subnet gives the nodes a public source address: outbound type
    none or userDefinedRouting, no NAT gateway, and a private subnet (defaultOutboundAccess false)."""
    cluster = facts.cluster
    if cluster is None or cluster.outbound_type in ("loadBalancer", *NAT_OUTBOUND) or facts.nat_gateway_of(subnet_id):
        return None
    if not subnet or subnet.default_outbound_access is not False or subnet.nat_gateway_id:
        return None  # a NAT gateway named but not read may well be there
    return Blocker("no-way-out", subnet.name, f"{address}:{port} is routed to the internet, but subnet {subnet.name} is "
                   f"private (defaultOutboundAccess false), has no NAT gateway and outbound type "
                   f"{cluster.outbound_type} gives it no public address", evidence)  # fmt: skip
