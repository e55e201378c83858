"""The seed-000 topology's names, ids and addresses, and the real Azure payloads (arm_seeds/) bodies start from.

The names and addresses match the DNS lab's scenarios (aksdiag.lab.scenarios), so a world can be broken
consistently on both planes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).parent.parent / "arm_seeds"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
REGION = "koreacentral"
CLUSTER_RG, CLUSTER = "rg-aks", "aks-lab"
HUB_RG, DNS_SERVER_IP = "rg-hub", "10.1.0.4"
NODE_RG = f"MC_{CLUSTER_RG}_{CLUSTER}_{REGION}"


def seed(name: str) -> dict[str, Any]:
    return json.loads((SEEDS / f"{name}.json").read_text())


def rg_id(rg: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}"


def net_id(rg: str, kind: str, name: str) -> str:
    return f"{rg_id(rg)}/providers/Microsoft.Network/{kind}/{name}"


HUB_VNET = net_id(HUB_RG, "virtualNetworks", "vnet-hub")
AKS_VNET = net_id(CLUSTER_RG, "virtualNetworks", "vnet-aks")
AKS_SUBNET = AKS_VNET + "/subnets/snet-aks"
API_SUBNET = AKS_VNET + "/subnets/snet-apiserver"

NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"

PUBLIC_LB_IP = "20.41.65.9"
INTERNAL_LB_IP = "10.224.0.200"
VMSS = "aks-nodepool1-12345678-vmss"
