"""FleetClusters for the grouping and render tests, from real findings: the fleet's probes judge a lab world's
AzureContext (tests/probes/probeworlds: the bodies as ARM serves them), and the report is transplanted to cluster
`aks-NN` in its own resource group, spoke VNet and zone, in a workload subscription, on hub `vnet-hub[-H]` in a
connectivity subscription — as a fleet of many copies of the lab's topology would report it."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import cache

from aksdiag.probes import cluster_state, ipplan, outbound, private_dns

from aksdiag.fleet.model import FleetCluster
from aksdiag.lab import armworld
from aksdiag.model import Finding, ProbeResult, Report, Status
from aksdiag.settings import Settings
from tests.probes.probeworlds import NEED, azure_context, bodies

APP_PROD = "a0000000-0000-4000-8000-000000000001"
APP_DEV = "a0000000-0000-4000-8000-000000000002"
CONN = {"": "c0000000-0000-4000-8000-000000000000", "b": "c0000000-0000-4000-8000-00000000000b"}
NAMES = {APP_PROD: "app-prod", APP_DEV: "app-dev", CONN[""]: "conn-prod-weu", CONN["b"]: "conn-prod-neu"}
LAB_SUB = armworld.SUBSCRIPTION
LAB_ZONE_GUID = "5e2c1a7b-3f4d-4e8a-9b6c-0d1e2f3a4b5c"
PROBES = (cluster_state, private_dns, outbound, ipplan)
"""The fleet's probes that judge the AzureContext alone (lb also reads the clock: not needed for grouping)."""


def hub_vnet(hub: str = "") -> str:
    return (f"/subscriptions/{CONN[hub]}/resourceGroups/rg-hub{'-' + hub if hub else ''}/providers/"
            f"Microsoft.Network/virtualNetworks/vnet-hub{'-' + hub if hub else ''}")  # fmt: skip


@cache
def _judged(world: str) -> str:
    """The fleet probes' results on `world`, as report JSON (transplanted by text)."""
    by_type = bodies(world)
    ctx = replace(  # the way out as sources.azure.outbound reads it (tests/probes/test_outbound.py's context)
        azure_context(world),
        route_tables={b["id"].lower(): b for b in by_type.get("microsoft.network/routetables", [])},
        nat_gateways={b["id"].lower(): b for b in by_type.get("microsoft.network/natgateways", [])},
        scale_sets=by_type.get("microsoft.compute/virtualmachinescalesets", []),
    )
    settings = replace(Settings(), azure=NEED)
    results = []
    for probe in PROBES:
        j = probe.judge("", settings, {NEED: ctx})
        worst = Status.FAIL if any(f.severity.value == "error" for f in j.findings) else Status.OK
        results.append({"probe": probe.PROBE.id, "status": worst, "findings": [f.to_dict() for f in j.findings]})
    return json.dumps(results)


def cluster(world: str, i: int, subscription: str = APP_PROD, hub: str = "", error: str = "") -> FleetCluster:
    """Cluster aks-NN judged as `world`'s cluster is, in `subscription`, on hub `hub` ("" or "b"); `error` makes
    that probe one that could not look."""
    name, rg = f"aks-{i:02d}", f"rg-aks-{i:02d}"
    text = _judged(world)
    text = re.sub(
        rf"/subscriptions/{LAB_SUB}/resourcegroups/rg-hub",
        lambda m: m.group(0).replace(LAB_SUB, CONN[hub]) + (f"-{hub}" if hub else ""),
        text,
        flags=re.IGNORECASE,
    )
    words = {"rg-aks": rg, "vnet-aks": f"vnet-aks-{i:02d}", "aks-lab": name, LAB_SUB: subscription,
             LAB_ZONE_GUID: f"{i:08d}-0000-4000-8000-000000000000", "vnet-hub": "vnet-hub" + (f"-{hub}" if hub else "")}  # fmt: skip
    text = re.sub("|".join(re.escape(w) for w in words), lambda m: words[m.group(0)], text)
    probes = []
    for r in json.loads(text):
        findings = tuple(Finding.from_dict(f) for f in r["findings"])
        status = Status.ERROR if r["probe"] == error else Status(r["status"])
        reason = "boom: the read failed" if status is Status.ERROR else None
        probes.append(ProbeResult(r["probe"], status, 1.0, findings=findings, reason=reason))
    cid = (
        f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"
    )
    return FleetCluster(cid, name, subscription, rg, armworld.REGION, Report("fleet", cid, tuple(probes), 3.0))
