"""What Azure says about the API server, from the typed Azure facts: with API Server VNet Integration its
subnet (API007) and that subnet's NSG (API006); for a public cluster its authorized IP ranges (API008)."""

from __future__ import annotations

import ipaddress

from aksdiag.probes.apiserver.planning import ID

from aksdiag import codes
from aksdiag.armview import name_of, parse_id
from aksdiag.azfacts import AzureFacts, Cluster
from aksdiag.model import Finding, Hop, Status
from aksdiag.nsg import AZURE_LOAD_BALANCER, Flow, evaluate
from aksdiag.settings import Settings

AKS_DELEGATION = "Microsoft.ContainerService/managedClusters"
REQUIRED_INBOUND = ((443, "cluster"), (4443, "cluster"), (9988, "AzureLoadBalancer"))
"""What the API server subnet must let in: the nodes on 443 and 4443, Azure's load balancer probe on 9988."""


def azure_hops(index: int, arm: AzureFacts, cluster: Cluster, settings: Settings, findings: list[Finding]) -> list[Hop]:
    hops = []
    if cluster.vnet_integration and cluster.api_subnet_id:
        hops.append(_api007_subnet(index, arm, cluster.api_subnet_id, findings))
        hops.append(_api006_nsg(index + 1, arm, cluster, findings))
    ranges = list(cluster.authorized_ip_ranges)
    if ranges and not cluster.private:
        hops.append(_api008_authorized(index + len(hops), arm, ranges, settings, findings))
    return hops


def _api007_subnet(index: int, arm: AzureFacts, subnet_id: str, findings: list[Finding]) -> Hop:
    sub = arm.subnet(subnet_id)
    if sub is None:
        return Hop(index, "subnet", name_of(subnet_id), Status.SKIPPED, detail="the API server subnet was not read")
    network = ipaddress.ip_network(sub.prefix, strict=False)
    free = network.num_addresses - 5 - sub.ip_configurations  # Azure reserves 5 addresses in every subnet
    delegated = AKS_DELEGATION in sub.delegations
    problems = []
    if not delegated:
        problems.append(f"not delegated to {AKS_DELEGATION}")
    if network.prefixlen > 28:
        problems.append(f"{sub.prefix} is smaller than a /28")
    if free < 9:
        problems.append(f"{free} free addresses, fewer than the 9 AKS reserves")
    if problems:
        findings.append(codes.API007.at(ID, hop=index, subnet=name_of(subnet_id), subnet_id=subnet_id,
                                        problems="; ".join(problems)))  # fmt: skip
    detail = f"{sub.prefix}, {'delegated' if delegated else 'not delegated'}, {free} addresses free"
    return Hop(index, "subnet", name_of(subnet_id), Status.FAIL if problems else Status.OK, detail=detail)


def _api006_nsg(index: int, arm: AzureFacts, cluster: Cluster, findings: list[Finding]) -> Hop:
    sub = arm.subnet(cluster.api_subnet_id)
    if sub is None or not sub.nsg_id:
        return Hop(index, "nsg", "API server subnet NSG", Status.OK, detail="no NSG on the subnet: nothing filters")
    nsg = arm.nsgs.get(sub.nsg_id.lower())
    if nsg is None:
        return Hop(index, "nsg", name_of(sub.nsg_id), Status.SKIPPED, detail="the NSG could not be read")
    target = str(next(ipaddress.ip_network(sub.prefix, strict=False).hosts()))
    node = arm.subnet(cluster.node_subnet_ids[0]) if cluster.node_subnet_ids else None
    node_prefix = node.prefix if node else ""
    source_ip = str(next(ipaddress.ip_network(node_prefix, strict=False).hosts())) if node_prefix else None
    lines, failed = [], False
    for port, who in REQUIRED_INBOUND:
        balancer = who == "AzureLoadBalancer"
        source = AZURE_LOAD_BALANCER if balancer else source_ip
        if source is None:
            continue
        decision = evaluate(nsg, Flow("Inbound", "Tcp", source, target, port), arm.vnet_prefixes)
        label = f"TCP {port} from {'AzureLoadBalancer' if balancer else node_prefix}"
        lines.append(f"{label}: {'allowed' if decision.allowed else 'DENIED'} by {decision.rule}")
        if not decision.allowed:
            failed = True
            findings.append(
                codes.API006.at(
                    ID,
                    hop=index,
                    flow=f"{label} to {sub.prefix}",
                    decision=decision.describe(),
                    nsg=decision.nsg,
                    nsg_rg=parse_id(sub.nsg_id).get("resourcegroups", "<rg>"),
                    protocol="TCP",
                    port=port,
                    source="AzureLoadBalancer" if balancer else node_prefix,
                    priority=decision.priority,
                    rule=decision.rule,
                    new_priority=max(100, decision.priority - 10),
                )
            )
    return Hop(index, "nsg", name_of(sub.nsg_id), Status.FAIL if failed else Status.OK, detail="; ".join(lines))


def _api008_authorized(
    index: int, arm: AzureFacts, ranges: list[str], settings: Settings, findings: list[Finding]
) -> Hop:
    egress = settings.extra.get("egress_ip")
    if not egress:
        return Hop(index, "authorized-ips", "authorized IP ranges", Status.SKIPPED,
                   detail=f"{', '.join(ranges)}; pass --egress-ip to check this client against them")  # fmt: skip
    inside = any(ipaddress.ip_address(egress) in ipaddress.ip_network(r, strict=False) for r in ranges)
    if not inside:
        need = arm.need
        findings.append(codes.API008.at(ID, hop=index, egress=egress, ranges=",".join(ranges),
                                        rg=need.resource_group, cluster=need.cluster))  # fmt: skip
    return Hop(index, "authorized-ips", "authorized IP ranges", Status.OK if inside else Status.FAIL,
               detail=f"{', '.join(ranges)}; egress {egress} {'inside' if inside else 'outside'}")  # fmt: skip
