"""The fleet worlds for `aksdiag fleet` (issue 16): many private clusters in many subscriptions sharing a few
landing-zone hubs (FIELD.md E1-E5, E13), generated, with faults planted in known clusters.

Not in armworld.WORLDS (the tests iterate those as single-cluster worlds): `WORLDS` here, `build(name)` → bodies,
`faults(name)` → the fake ARM's faults (hidden subscriptions), `planted(name)` → {cluster id: codes}, and
`generate(...)` for any size.

The topology: each hub is a connectivity subscription ("conn-prod-weu"…) with a hub VNet, its DNS server (a Windows
DNS VM, a DNS Private Resolver inbound endpoint with a ruleset, or an Azure Firewall DNS proxy: enterprise's
bodies) and the shared zone privatelink.<region>.azmk8s.io linked to the hub VNet; the workload subscriptions
("lz-payments-prod"…) hold one spoke VNet per cluster, peered with their region's hub and using its DNS server;
three clusters in four use the hub's zone (BYO: the cluster's identity holds Private DNS Zone Contributor on it),
the fourth a system zone in its node resource group (linked to its spoke, and to the hub by the platform team).
Other privatelink zones (blob, vault, …: Learn's "Azure Private Endpoint private DNS zone values") in the hubs and
in the workload subscriptions make up the zone count; their links to spokes the link count. Bodies come from the
single-cluster worlds' builders (fleetparts), ids, names and addresses rewritten.

Lab markers (aksdiag.lab.arm): `"_index": "stale"` (Resource Graph's older copy of an id), `"_index": "missing"`
(ARM has it, Resource Graph does not list it yet), `{"_management_group": …, "subscriptions": […]}`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any

Body = dict[str, Any]
HIDDEN = "hidden_subscriptions"
REGIONS = (("weu", "westeurope"), ("neu", "northeurope"), ("eus", "eastus"), ("krc", "koreacentral"))
HUB_KINDS = ("vm", "resolver", "firewall", "vm")
APPS = ("payments", "orders", "catalog", "search", "identity", "billing", "ledger", "risk", "fraud", "shipping",
        "inventory", "pricing", "checkout", "reviews", "media", "chat", "notify", "reports", "analytics", "ml",
        "feeds", "ads", "loyalty", "support", "hr", "crm", "erp", "docs", "wiki", "build", "gateway", "edge",
        "iot", "maps", "travel", "tickets", "quotes", "claims", "lending", "cards")  # fmt: skip
PRIVATELINK = ("blob.core.windows.net", "file.core.windows.net", "queue.core.windows.net", "table.core.windows.net",
               "dfs.core.windows.net", "web.core.windows.net", "vaultcore.azure.net", "azurecr.io",
               "database.windows.net", "documents.azure.com", "mongo.cosmos.azure.com", "postgres.database.azure.com",
               "mysql.database.azure.com", "mariadb.database.azure.com", "redis.cache.windows.net",
               "servicebus.windows.net", "eventgrid.azure.net", "azurewebsites.net", "scm.azurewebsites.net",
               "monitor.azure.com", "oms.opinsights.azure.com", "ods.opinsights.azure.com",
               "agentsvc.azure-automation.net", "azure-automation.net", "search.windows.net", "cognitiveservices.azure.com",
               "openai.azure.com", "api.azureml.ms", "notebooks.azure.net", "datafactory.azure.net", "adf.azure.com",
               "sql.azuresynapse.net", "dev.azuresynapse.net", "azuresynapse.net", "azurehdinsight.net",
               "batch.azure.com", "service.signalr.net", "webpubsub.azure.com", "azconfig.io", "siterecovery.windowsazure.com",
               "purview.azure.com", "purviewstudio.azure.com", "digitaltwins.azure.net", "azure-devices.net",
               "azure-devices-provisioning.net", "wvd.microsoft.com", "grafana.azure.com", "prod.migration.windowsazure.com",
               "managedhsm.azure.net", "vaultcore.usgovcloudapi.net")  # fmt: skip
"""Private zone names (each prefixed privatelink.), as Learn lists them: the filler zones' names."""


@dataclass(frozen=True)
class Faults:
    """What is broken, and how many clusters each (picked by the seed among healthy BYO-zone clusters)."""

    unlinked_hub: int | None = None
    """The hub whose privatelink.<region>.azmk8s.io is not linked to its hub VNet: DNS011 on its BYO clusters."""
    missing_record: int = 0
    """DNS012: the cluster's A record is gone from the zone."""
    peering_down: int = 0
    """DNS014: the spoke's peering with the hub is Disconnected (both sides)."""
    stopped: int = 0
    """CL001: `az aks stop`."""
    failed: int = 0
    """CL002: the last operation failed (a quota error on the cluster)."""
    route_none: int = 0
    """EG010: userDefinedRouting and the node subnet's default route to None."""
    subnet_small: int = 0
    """IP004: a /24 node subnet, Azure CNI, 30 pods a node, the autoscaler up to 10 nodes."""
    lag_links: int = 0
    """A system zone's link to the hub that Resource Graph does not list yet (`_index: missing`): DNS011 (and DNS019:
    the hub's privatelink.<region>.azmk8s.io then answers for it) from Resource Graph's rows, cleared by the GET."""
    lag_stopped: int = 0
    """A cluster Resource Graph still shows Stopped (`_index: stale`) while ARM says Running: CL001, cleared."""
    hidden_hubs: tuple[int, ...] = ()
    """Hubs whose connectivity subscription the identity cannot read."""
    hidden_workloads: tuple[int, ...] = ()
    """Workload subscriptions (by index) the identity cannot read."""


PLANTED = Faults(unlinked_hub=1, missing_record=2, peering_down=1, stopped=1, failed=1, route_none=1, subnet_small=1)
PLANTED_1000 = replace(PLANTED, missing_record=5, peering_down=3, stopped=4, failed=2, route_none=3, subnet_small=3)


@dataclass
class FleetWorld:
    bodies: list[Body]
    planted: dict[str, set[str]]
    """Cluster id → the codes (error and warning) its report must show; clusters not named show none."""
    hidden: set[str]
    """Subscriptions the identity cannot read."""
    management_groups: dict[str, list[str]]
    lagged: dict[str, set[str]] = field(default_factory=dict)
    """Cluster id → the codes Resource Graph's rows raise that the confirming GETs clear."""
    clusters: list[str] = field(default_factory=list)
    """Every cluster id, hidden subscriptions' included."""
    subscriptions: dict[str, str] = field(default_factory=dict)
    """Subscription id → display name."""
    hubs: list[str] = field(default_factory=list)
    """The connectivity subscriptions, by hub index."""

    def faults(self) -> dict[str, Any]:
        return {HIDDEN: sorted(self.hidden)} if self.hidden else {}


SMALL = {"clusters": 30, "subscriptions": 6, "hubs": 2, "zones": 60, "links": 400}
SPECS: dict[str, tuple[str, dict[str, Any], Faults]] = {
    "fleet-small": ("30 clusters in 4 workload subscriptions, 2 hubs; planted: hub 1's zone unlinked (DNS011), "
                    "A records missing (DNS012), a peering down (DNS014), stopped (CL001), failed (CL002), "
                    "route to None (EG010), node subnet too small (IP004)", SMALL, PLANTED),
    "fleet-healthy": ("the fleet-small topology, nothing broken", SMALL, Faults()),
    "fleet-lag": ("fleet-small healthy, and Resource Graph behind ARM: a zone link it does not list yet, a "
                  "cluster it still shows stopped", SMALL, Faults(lag_links=2, lag_stopped=1)),
    "fleet-hidden-hub": ("fleet-small healthy, and hub 1's connectivity subscription unreadable (AZ001, no DNS011)",
                         SMALL, Faults(hidden_hubs=(1,))),
    "fleet-hidden-spoke": ("fleet-small healthy, and one workload subscription unreadable: its clusters unseen",
                           SMALL, Faults(hidden_workloads=(0,))),
    "fleet-1000": ("1,000 clusters in 40 subscriptions sharing 4 hubs, 2,000 zones, 20,000 zone links, faults "
                   "planted as in fleet-small", {}, PLANTED_1000),
}  # fmt: skip
WORLDS = {name: summary for name, (summary, _, _) in SPECS.items()}


@functools.cache
def world(name: str) -> FleetWorld:
    """The named world (generated once per process)."""
    if name not in SPECS:
        raise ValueError(f"unknown fleet world {name!r}; one of {', '.join(SPECS)}")
    _, size, faults_ = SPECS[name]
    return generate(**size, faults=faults_)


def build(name: str) -> list[Body]:
    """The named world's bodies (copies: a caller may strip the markers)."""
    return [dict(b) for b in world(name).bodies]


def faults(name: str) -> dict[str, Any]:
    return world(name).faults()


def planted(name: str) -> dict[str, set[str]]:
    return {k: set(v) for k, v in world(name).planted.items()}


def generate(clusters: int = 1000, subscriptions: int = 40, hubs: int = 4, zones: int = 2000, links: int = 20000,
             seed: int = 0, faults: Faults = PLANTED_1000) -> FleetWorld:  # fmt: skip
    """A fleet: `hubs` connectivity subscriptions and subscriptions - hubs workload ones, `clusters` clusters
    round-robin over the workload subscriptions, `zones` private zones and about `links` zone links in all."""
    if not 0 < hubs < subscriptions or clusters < 1:
        raise ValueError("a fleet needs at least one hub, one workload subscription and one cluster")
    from aksdiag.lab.armworld.fleetgen import Generator

    return Generator(clusters, subscriptions, hubs, zones, links, seed, faults).run()
