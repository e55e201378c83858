"""The reads of the cluster's way out (issue 15): the route tables and NAT gateways on its subnets, the node
resource group's scale sets, and the NSGs their NIC configurations name.

Kept apart from context.py, which only spawns these reads where their inputs arrive: the scale sets with the
VNets (they need only the cluster's node resource group), the route tables, NAT gateways and NIC NSGs with the
subnet NSGs (they need a VNet's subnets or the scale sets' bodies), so they add no sequential round. The compute
SDK is not a dependency: the scale set list goes through the network client's pipeline (read-only, same host,
the run's deadline), as the VM reads of servers.py do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aksdiag.armview import nic_nsg_ids, parse_id, subnet_refs  # noqa: F401  (moved to the pure layer)
from aksdiag.sources.azure.subscriptions import RestPager, subscription_of

if TYPE_CHECKING:
    from aksdiag.sources.azure.reads import Reads
    from aksdiag.sources.azure.subscriptions import Clients

Body = dict[str, Any]
COMPUTE_API = "2024-07-01"
"""The Microsoft.Compute api-version of the scale set list (as servers.py's VM reads)."""


async def scale_sets(reads: Reads, clients: Clients, sub: str, node_rg: str | None) -> list[Body]:
    """The node resource group's virtual machine scale sets (one list; [] when it cannot be read)."""
    if not node_rg:
        return []
    scope = f"/subscriptions/{sub}/resourceGroups/{node_rg}/providers/Microsoft.Compute/virtualMachineScaleSets"
    pager = RestPager(clients.get("net", sub), f"{scope}?api-version={COMPUTE_API}")
    return await reads.list_all(scope, pager, "Microsoft.Compute/virtualMachineScaleSets/read") or []


async def network_resource(reads: Reads, clients: Clients, default_sub: str, rid: str) -> tuple[str, Body | None]:
    """One route table, NAT gateway or NSG by id, read in its own subscription: (lower-cased id, body or None)."""
    p = parse_id(rid)
    net = clients.get("net", subscription_of(rid, default_sub))
    rg = p.get("resourcegroups", "")
    if "routetables" in p:
        call, action = net.route_tables.get(rg, p["routetables"]), "Microsoft.Network/routeTables/read"
    elif "natgateways" in p:
        call, action = net.nat_gateways.get(rg, p["natgateways"]), "Microsoft.Network/natGateways/read"
    else:
        call = net.network_security_groups.get(rg, p.get("networksecuritygroups", ""))
        action = "Microsoft.Network/networkSecurityGroups/read"
    return rid.lower(), await reads.get(rid, call, action)
