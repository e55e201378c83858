"""ARM worlds for the fake ARM: the seed-000 topology (a hub VNet with a custom DNS server, a peered spoke
with a private cluster, its private DNS zone and links, the API server's private endpoint), healthy or broken.

Bodies start from real Azure payloads (`arm_seeds/`, copied from Azure CLI recordings) with ids and names
rewritten; what no recording covers (subnets, private endpoint, NIC) is built from the SDK's own models (parts).
The names and addresses (names) match the DNS lab's scenarios (aksdiag.lab.scenarios), so a world can be broken
consistently on both planes. The worlds themselves, by name, are in worlds.
"""

from __future__ import annotations

import sys

from aksdiag.lab.armworld.names import (
    AKS_SUBNET,
    AKS_VNET,
    API_SUBNET,
    CLUSTER,
    CLUSTER_RG,
    DNS_SERVER_IP,
    HUB_RG,
    HUB_VNET,
    INTERNAL_LB_IP,
    NETWORK_CONTRIBUTOR,
    NODE_RG,
    PRIVATE_DNS_ZONE_CONTRIBUTOR,
    PUBLIC_LB_IP,
    REGION,
    SEEDS,
    SUBSCRIPTION,
    VMSS,
    net_id,
    rg_id,
    seed,
)
from aksdiag.lab.armworld.parts import vmss_nics
from aksdiag.lab.armworld.worlds import WORLDS, build, faults, write
from aksdiag.lab.scenarios import CLUSTER_FQDN, CLUSTER_ZONE

__all__ = [
    "AKS_SUBNET",
    "AKS_VNET",
    "API_SUBNET",
    "CLUSTER",
    "CLUSTER_FQDN",
    "CLUSTER_RG",
    "CLUSTER_ZONE",
    "DNS_SERVER_IP",
    "HUB_RG",
    "HUB_VNET",
    "INTERNAL_LB_IP",
    "NETWORK_CONTRIBUTOR",
    "NODE_RG",
    "PRIVATE_DNS_ZONE_CONTRIBUTOR",
    "PUBLIC_LB_IP",
    "REGION",
    "SEEDS",
    "SUBSCRIPTION",
    "VMSS",
    "WORLDS",
    "build",
    "faults",
    "net_id",
    "rg_id",
    "seed",
    "vmss_nics",
    "write",
]

# The load balancer worlds (aksdiag lb) build on the healthy world; lbworld registers them in WORLDS when it is
# imported. Imported last, and only when lbworld is not the module importing this one (it then registers itself).
if "aksdiag.lab.lbworld" not in sys.modules:
    from aksdiag.lab import lbworld  # noqa: F401
