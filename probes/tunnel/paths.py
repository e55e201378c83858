"""The node paths AKS needs, through the NSGs on both ends (aksdiag.nsg.evaluate_path: outbound at the source's
NIC then subnet, inbound at the destination's subnet then NIC): TCP 10250 from the tunnel's nodes to every pool
(TUN004), the nodes to the API server (TUN005) and, with API Server VNet Integration, the API server to the
kubelets (TUN006).

Each pool is one `End`: an address of its nodes (a node's InternalIP when the cluster was read, else the subnet's
first address Azure hands out, .4), the prefix a rule would name (its subnet's), the subnet's NSG and its scale
set's NIC NSG. One address stands for the pool: NSG rules name prefixes, so a pool's nodes share a verdict unless a
rule names single node addresses (said in the caveat of each hop).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aksdiag.armview import name_of, parse_id
from aksdiag.azfacts import AzureFacts, Nsg
from aksdiag.codes.entry import Code
from aksdiag.codes.tunnel import TUN004, TUN005, TUN006
from aksdiag.kubefacts import Node
from aksdiag.model import Finding, Hop, Status
from aksdiag.nsg import Decision, Flow, evaluate_path

ID = "tunnel"
KUBELET = 10250
API_PORTS_INTEGRATED = (443, 4443)
"""With API Server VNet Integration the nodes dial the API server's internal load balancer on 443 and 4443."""
API_PORTS_PRIVATE = (443,)


@dataclass(frozen=True)
class End:
    """One end of a path: a pool's nodes, or the API server."""

    label: str
    address: str
    prefix: str
    """What an NSG rule names this end by: its subnet's prefix (else the address as a /32)."""
    subnet_nsg: Nsg | None = None
    nic_nsg: Nsg | None = None
    unread: tuple[str, ...] = ()
    """The NSGs on this end that could not be read: the verdict leaves them out."""
    others: tuple[str, ...] = ()
    """Other addresses of this end (a pool's other nodes): the destination of a path from the same pool."""
    note: str = ""
    """What the verdict leaves out on purpose, said on the hop."""


@dataclass(frozen=True)
class Step:
    nsg: Nsg
    direction: str
    decision: Decision


@dataclass(frozen=True)
class Crossing:
    source: End
    destination: End
    port: int
    steps: tuple[Step, ...] = field(default=())

    @property
    def blocked(self) -> Step | None:
        return next((s for s in self.steps if not s.decision.allowed), None)

    @property
    def flow(self) -> str:
        return (f"TCP {self.port} from {self.source.label} ({self.source.address}) to {self.destination.label} "
                f"({self._to})")  # fmt: skip

    @property
    def _to(self) -> str:
        same = self.source is self.destination and self.destination.others
        return self.destination.others[0] if same else self.destination.address

    def detail(self) -> str:
        lines = [f"{s.direction.lower()} {s.decision.describe()}" for s in self.steps]
        unknown = sorted({r for s in self.steps for r in s.decision.unknown})
        unread = [*self.source.unread, *self.destination.unread]
        if not self.steps:
            lines.append("no NSG on either end: nothing filters")
        if unknown:
            lines.append(f"rules naming application security groups not judged: {', '.join(unknown)}")
        if unread:
            lines.append(f"not read: {', '.join(unread)}")
        lines += [e.note for e in (self.source, self.destination) if e.note]
        return "; ".join(lines)


def cross(source: End, destination: End, port: int, prefixes: list[str]) -> Crossing:
    """The path through every NSG on it, in Azure's order; it stops at the first that denies."""
    to = destination.others[0] if source is destination and destination.others else destination.address
    steps: list[Step] = []
    for direction, end, order in (("Outbound", source, (source.nic_nsg, source.subnet_nsg)),
                                  ("Inbound", destination, (destination.subnet_nsg, destination.nic_nsg))):  # fmt: skip
        flow = Flow(direction, "Tcp", source.address, to, port)
        present = [n for n in order if n is not None]
        decisions = evaluate_path(flow, prefixes, end.subnet_nsg, end.nic_nsg)
        steps += [Step(nsg, direction, d) for nsg, d in zip(present, decisions, strict=False)]
        if decisions and not decisions[-1].allowed:
            break
    return Crossing(source, destination, port, tuple(steps))


# ---------------------------------------------------------------- the ends, from the facts


def _first_host(prefix: str) -> str:
    """The first address Azure hands out in a subnet (.4: it keeps the first four)."""
    network = ipaddress.ip_network(prefix, strict=False)
    return str(network.network_address + 4) if network.num_addresses > 8 else str(network.network_address)


def _nsg(arm: AzureFacts, nsg_id: str, what: str, unread: list[str]) -> Nsg | None:
    if not nsg_id:
        return None
    found = arm.nsgs.get(nsg_id.lower())
    if found is None:
        unread.append(f"{name_of(nsg_id)} ({what})")
    return found


def pool_ends(arm: AzureFacts | None, nodes: Sequence[Node] | None) -> dict[str, End]:
    """Every pool the facts know (Azure's agent pools, the nodes' pool labels), by pool name."""
    by_pool: dict[str, list[str]] = {}
    for node in nodes or ():
        if node.internal_ip:
            by_pool.setdefault(node.pool, []).append(node.internal_ip)
    pools = {p.name: p.vnet_subnet_id for p in (arm.cluster.pools if arm and arm.cluster else ())}
    ends = (_pool_end(arm, name, pools.get(name), by_pool.get(name, [])) for name in dict.fromkeys([*pools, *by_pool]))
    return {e.label: e for e in ends if e is not None}


def _pool_end(arm: AzureFacts | None, name: str, subnet_id: str | None, addresses: list[str]) -> End | None:
    """One pool's end: its first node's address (else its subnet's first), its subnet's NSG and its NICs'."""
    unread: list[str] = []
    subnet = arm.subnet(subnet_id) if arm and subnet_id else None
    if arm and subnet_id is not None and subnet is None:
        unread.append(f"{name_of(subnet_id)} (subnet)" if subnet_id else "the subnet's NSG (an AKS-managed VNet)")
    subnet_nsg = _nsg(arm, subnet.nsg_id, "subnet", unread) if arm and subnet else None
    nic_nsg = None
    if arm:
        nic_ids = [i for s in arm.scale_sets if s.pool.lower() == name.lower() for i in s.nsg_ids]
        nic_nsg = next(iter(arm.nic_nsgs_of(name)), None)
        if nic_ids and nic_nsg is None:
            unread.append(f"{name_of(nic_ids[0])} (NIC)")
        elif not any(s.pool.lower() == name.lower() for s in arm.scale_sets):
            unread.append("the NICs' NSG (no scale set of the pool was read)")
    address = addresses[0] if addresses else _first_host(subnet.prefix) if subnet and subnet.prefix else ""
    if not address:
        return None
    prefix = subnet.prefix if subnet and subnet.prefix else f"{address}/32"
    return End(name, address, prefix, subnet_nsg, nic_nsg, tuple(unread), tuple(addresses[1:]))


def api_end(arm: AzureFacts) -> tuple[End | None, tuple[int, ...]]:
    """The API server's private end and the ports the nodes dial: its internal load balancer in the API server
    subnet (VNet Integration: the subnet's NSG filters it), or its private endpoint (NSGs on a private endpoint
    apply only with network policies on its subnet: not judged here). None for a public API server."""
    cluster = arm.cluster
    if cluster is None:
        return None, ()
    if cluster.vnet_integration and cluster.api_subnet_id:
        subnet = arm.subnet(cluster.api_subnet_id)
        if subnet is None or not subnet.prefix:
            return None, ()
        unread: list[str] = []
        nsg = _nsg(arm, subnet.nsg_id, "API server subnet", unread)
        network = ipaddress.ip_network(subnet.prefix, strict=False)
        inside = [ip for ip in arm.endpoint_ips if ipaddress.ip_address(ip) in network]
        address = inside[0] if inside else _first_host(subnet.prefix)
        return End("the API server", address, subnet.prefix, nsg, None, tuple(unread)), API_PORTS_INTEGRATED
    if cluster.private and arm.endpoint_ips:
        address = arm.endpoint_ips[0]
        note = "inbound at the private endpoint not judged (its subnet's NSG applies only with network policies on)"
        return End("the API server's private endpoint", address, f"{address}/32", note=note), API_PORTS_PRIVATE
    return None, ()


def vnet_prefixes(arm: AzureFacts | None, ends: Mapping[str, End]) -> list[str]:
    """What VirtualNetwork covers: the address spaces read, and the ends' own prefixes (a VNet not read still
    holds its subnets)."""
    return [*(arm.vnet_prefixes if arm else ()), *(e.prefix for e in ends.values())]


# ---------------------------------------------------------------- the hops and findings


def _finding(code: Code, index: int, crossing: Crossing, **fields: str) -> Finding:
    step = crossing.blocked
    assert step is not None
    inbound = step.direction == "Inbound"
    return code.at(
        ID, hop=index, flow=crossing.flow, decision=step.decision.describe(), nsg=step.nsg.name,
        nsg_rg=parse_id(step.nsg.id).get("resourcegroups", "<rg>"), port=crossing.port,
        direction=step.direction, direction_word="inbound" if inbound else "outbound",
        source_prefix=crossing.source.prefix, destination_prefix=crossing.destination.prefix,
        priority=step.decision.priority, rule=step.decision.rule,
        new_priority=min(4096, max(100, step.decision.priority - 10)),
        evidence={"flow": crossing.flow, "nsg_id": step.nsg.id, "direction": step.direction,
                  "rule": step.decision.rule, "priority": step.decision.priority, "default": step.decision.default,
                  "path": [{"nsg": s.nsg.name, "direction": s.direction, "allowed": s.decision.allowed,
                            "rule": s.decision.rule} for s in crossing.steps]},
        **fields,
    )  # fmt: skip


def _hop(index: int, kind: str, crossing: Crossing) -> Hop:
    status = Status.FAIL if crossing.blocked else Status.OK
    name = f"{crossing.source.label} → {crossing.destination.label} :{crossing.port}"
    return Hop(index, kind, name, status, server=crossing.destination.address, detail=crossing.detail())


def kubelet_paths(index: int, ends: Mapping[str, End], agent_pools: Sequence[str], where: str, prefixes: list[str],
                  findings: list[Finding]) -> list[Hop]:  # fmt: skip
    """TCP 10250 from each pool the tunnel runs on to every pool (its own too); `where` names the agents' nodes."""
    hops: list[Hop] = []
    named = ", ".join(agent_pools)
    for source in (ends[p] for p in agent_pools if p in ends):
        for destination in ends.values():
            crossing = cross(source, destination, KUBELET, prefixes)
            if crossing.blocked:
                findings.append(_finding(TUN004, index + len(hops), crossing, pool=destination.label,
                                         agent_pools=named, where=where))  # fmt: skip
            hops.append(_hop(index + len(hops), "kubelet", crossing))
    return hops


def apiserver_paths(index: int, ends: Mapping[str, End], api: End, ports: Sequence[int], prefixes: list[str],
                    integrated: bool, findings: list[Finding]) -> list[Hop]:  # fmt: skip
    """Every pool to the API server on its ports (TUN005); with VNet Integration the API server to every pool's
    kubelets as well (TUN006)."""
    hops: list[Hop] = []
    for source in ends.values():
        for port in ports:
            crossing = cross(source, api, port, prefixes)
            if crossing.blocked:
                findings.append(_finding(TUN005, index + len(hops), crossing, pool=source.label))
            hops.append(_hop(index + len(hops), "apiserver", crossing))
    if integrated:
        for destination in ends.values():
            crossing = cross(api, destination, KUBELET, prefixes)
            if crossing.blocked:
                findings.append(_finding(TUN006, index + len(hops), crossing, pool=destination.label))
            hops.append(_hop(index + len(hops), "kubelet", crossing))
    return hops
