"""The fleet generator behind fleetworld.generate: lays out hubs, workload subscriptions and clusters, plants the
faults in clusters the seed picks, then adds filler zones and their links up to the counts asked.

Addresses: hub N's VNet is 10.N.0.0/16 (N from 1); cluster c's spoke is the c-th /20 from 10.64.0.0, its node
subnet snet-aks the first /21 of it (/24 when planted too small), its private endpoint at .4.
"""

from __future__ import annotations

import ipaddress
import json
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aksdiag.lab.armworld import fleetparts as fp

if TYPE_CHECKING:
    from aksdiag.lab.armworld.fleetworld import Faults, FleetWorld

Body = dict[str, Any]
SPOKES_FROM = int(ipaddress.ip_address("10.64.0.0"))
SPOKE_SIZE = 4096


def rid(subscription: str, rg: str, kind: str, name: str, namespace: str = "Microsoft.Network") -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/{namespace}/{kind}/{name}"


@dataclass
class Hub:
    index: int
    short: str
    region: str
    subscription: str
    name: str
    kind: str
    vnet: Body
    zone_id: str
    zone_name: str
    dns_ip: str
    records: list[Body] = field(default_factory=list)


@dataclass
class Workload:
    index: int
    app: str
    subscription: str
    name: str
    hub: Hub


@dataclass
class Cluster:
    index: int
    id: str
    name: str
    rg: str
    node_rg: str
    workload: Workload
    spoke_id: str
    prefix: ipaddress.IPv4Network
    system_zone: bool
    fault: str = ""

    @property
    def hub(self) -> Hub:
        return self.workload.hub


class Generator:
    def __init__(self, clusters: int, subscriptions: int, hubs: int, zones: int, links: int, seed: int,
                 faults: Faults) -> None:  # fmt: skip
        from aksdiag.lab.armworld.fleetworld import APPS, HUB_KINDS, REGIONS

        if clusters * SPOKE_SIZE > int(ipaddress.ip_address("10.255.255.255")) - SPOKES_FROM:
            raise ValueError(f"{clusters} clusters do not fit in 10.64.0.0-10.255.255.255 at a /20 each")
        self.seed, self.faults, self.zones, self.links = seed, faults, zones, links
        self.bodies: list[Body] = []
        self.hubs = []
        for h in range(hubs):
            short, region = REGIONS[h % len(REGIONS)]
            short += str(h // len(REGIONS) + 1) if h >= len(REGIONS) else ""
            sub = fp.guid("conn", str(seed), str(h))
            zone_name = f"privatelink.{region}.azmk8s.io"
            kind = HUB_KINDS[h % len(HUB_KINDS)]
            vnet_id = rid(sub, "rg-hub", "virtualNetworks", f"vnet-hub-{short}")
            self.hubs.append(Hub(h, short, region, sub, f"conn-prod-{short}", kind, fp.hub_vnet(vnet_id, h + 1, region),
                                 rid(sub, "rg-dns", "privateDnsZones", zone_name), zone_name,
                                 _octet(fp.HUB_DNS_IP[kind], h + 1)))  # fmt: skip
        self.workloads = []
        for w in range(subscriptions - hubs):
            app = APPS[w % len(APPS)] + (str(w // len(APPS) + 1) if w >= len(APPS) else "")
            sub = fp.guid("workload", str(seed), str(w))
            self.workloads.append(Workload(w, app, sub, f"lz-{app}-prod", self.hubs[w % hubs]))
        self.clusters = []
        for c in range(clusters):
            wl = self.workloads[c % len(self.workloads)]
            name = f"aks-{wl.app}-{c // len(self.workloads) + 1:02d}"
            rg = f"rg-{name}"
            cluster_id = rid(wl.subscription, rg, "managedClusters", name, "Microsoft.ContainerService")
            prefix = ipaddress.IPv4Network((SPOKES_FROM + c * SPOKE_SIZE, 20))
            self.clusters.append(Cluster(c, cluster_id, name, rg, f"MC_{rg}_{name}_{wl.hub.region}", wl,
                                         rid(wl.subscription, rg, "virtualNetworks", f"vnet-{name}"), prefix,
                                         system_zone=c // len(self.workloads) % 4 == 3))  # fmt: skip
        self.planted: dict[str, set[str]] = {}
        self.lagged: dict[str, set[str]] = {}

    # ---------------------------------------------------------------- the whole world

    def run(self) -> FleetWorld:
        from aksdiag.lab.armworld.fleetworld import FleetWorld

        self._plant()
        for cluster in self.clusters:
            self._cluster(cluster)
        for hub in self.hubs:
            self._hub(hub)
        self._fillers()
        hidden = {self.hubs[h].subscription for h in self.faults.hidden_hubs}
        hidden |= {self.workloads[w].subscription for w in self.faults.hidden_workloads}
        names = {h.subscription: h.name for h in self.hubs} | {w.subscription: w.name for w in self.workloads}
        groups = self._management_groups()
        return FleetWorld(
            bodies=[*self._containers(names), *self.bodies],
            planted={k: v for k, v in self.planted.items() if v},
            hidden=hidden,
            management_groups=groups,
            lagged=self.lagged,
            clusters=[c.id for c in self.clusters],
            subscriptions=names,
            hubs=[h.subscription for h in self.hubs],
        )

    def _plant(self) -> None:
        """Which clusters break how: the unlinked hub's BYO clusters all (one shared cause); the other faults in
        distinct BYO-zone clusters the seed picks, the lag in system-zone ones; hidden subscriptions' clusters
        have no fault of their own."""
        f = self.faults
        hidden_hubs, hidden_wl = set(f.hidden_hubs), set(f.hidden_workloads)
        for c in self.clusters:
            if c.hub.index in hidden_hubs:
                self.planted[c.id] = {"AZ001"}
            elif f.unlinked_hub == c.hub.index and not c.system_zone:
                self.planted[c.id] = {"DNS011"}
        free = [c for c in self.clusters if c.id not in self.planted and c.workload.index not in hidden_wl]
        rng = random.Random(self.seed)
        byo = [c for c in free if not c.system_zone]
        wanted = [("missing_record", "DNS012"), ("peering_down", "DNS014"), ("stopped", "CL001"),
                  ("failed", "CL002"), ("route_none", "EG010"), ("subnet_small", "IP004")]  # fmt: skip
        total = sum(getattr(f, k) for k, _ in wanted) + f.lag_stopped
        if total > len(byo):
            raise ValueError(f"{total} planted faults need as many healthy BYO-zone clusters; there are {len(byo)}")
        picked = iter(rng.sample(byo, total))
        for kind, code in [*wanted, ("lag_stopped", "")]:
            for _ in range(getattr(f, kind)):
                c = next(picked)
                c.fault = kind
                if code:
                    self.planted[c.id] = {code}
                else:
                    self.lagged[c.id] = {"CL001"}
        system = [c for c in free if c.system_zone]
        for c in rng.sample(system, min(f.lag_links, len(system))):
            c.fault = "lag_link"  # from the hub's view the zone is unlinked, and the hub's own zone shadows it
            self.lagged[c.id] = {"DNS011", "DNS019"}

    # ---------------------------------------------------------------- one cluster

    def _cluster(self, c: Cluster) -> None:
        hub, sub, region = c.hub, c.workload.subscription, c.hub.region
        small = c.fault == "subnet_small"
        subnet_net = ipaddress.IPv4Network((int(c.prefix.network_address), 24 if small else 21))
        subnet = f"{c.spoke_id}/subnets/snet-aks"
        endpoint_ip = str(subnet_net.network_address + 4)
        label = fp.short_hash("fqdn", c.id, n=8)
        if c.system_zone:
            zone_name = f"{fp.guid('zone', c.id)}.privatelink.{region}.azmk8s.io"
            zone_id = rid(sub, c.node_rg, "privateDnsZones", zone_name)
            zone_mode = "system"
        else:
            zone_name, zone_id = hub.zone_name, hub.zone_id
            zone_mode = zone_id
        fqdn = f"{c.name}-{label}.{zone_name}"
        principal = fp.guid("principal", c.id)
        cluster = fp.cluster(c.id, region, c.node_rg, fqdn, zone_mode, subnet, principal)
        self._break_cluster(c, cluster)
        spoke = fp.spoke_vnet(c.spoke_id, str(c.prefix), str(subnet_net), [hub.dns_ip], region)
        state = "Disconnected" if c.fault == "peering_down" else "Connected"
        fp.peer(spoke, hub.vnet, state)
        fp.peer(hub.vnet, spoke, state)
        out = [cluster, spoke]
        if c.fault == "route_none":
            table = _route_none(sub, c.rg, c.name, region)
            spoke["properties"]["subnets"][0]["properties"]["routeTable"] = {"id": table["id"]}
            out.append(table)
        public_ip = f"20.50.{c.index // 250}.{c.index % 250 + 1}"
        out += fp.node_rg(sub, c.node_rg, subnet, region, endpoint_ip, str(subnet_net.network_address + 200),
                          public_ip, c.id)  # fmt: skip
        record = fp.record(zone_id, zone_name, fqdn, endpoint_ip)
        if c.system_zone:
            hub_link = fp.link(zone_id, "link-hub", hub.vnet["id"])
            if c.fault == "lag_link":
                hub_link["_index"] = "missing"
            out += [fp.zone(zone_id, 2, 1), fp.link(zone_id, "link-aks", c.spoke_id), hub_link, record]
        elif c.fault != "missing_record":
            hub.records.append(record)
        out.append(fp.role(f"/subscriptions/{sub}/resourceGroups/{c.rg}", fp.NETWORK_CONTRIBUTOR, principal))
        if not c.system_zone:
            out.append(fp.role(zone_id, fp.PRIVATE_DNS_ZONE_CONTRIBUTOR, principal))
        self.bodies += out

    def _break_cluster(self, c: Cluster, cluster: Body) -> None:
        from aksdiag.lab.armworld.names import seed

        props = cluster["properties"]
        pools = props["agentPoolProfiles"]
        if c.fault == "stopped":
            props["powerState"] = {"code": "Stopped"}
            for pool in pools:
                pool["powerState"] = {"code": "Stopped"}
        elif c.fault == "failed":
            error = dict(seed("state_provisioning_errors")["quota"])
            error["message"] = error["message"].replace("aks-lab", c.name).replace("rg-aks", c.rg)
            error["message"] = error["message"].replace("koreacentral", c.hub.region)
            props["provisioningState"] = "Failed"
            props["status"] = {"provisioningError": error}
        elif c.fault == "subnet_small":
            for pool in pools:
                pool.update(count=3, maxPods=30, enableAutoScaling=True, minCount=1, maxCount=10)
        elif c.fault == "route_none":
            props["networkProfile"]["outboundType"] = "userDefinedRouting"
            props["networkProfile"].pop("loadBalancerProfile", None)
        elif c.fault == "lag_stopped":  # Resource Graph's copy from before `az aks start`
            stale = json.loads(json.dumps(cluster))
            stale["properties"]["powerState"] = {"code": "Stopped"}
            for pool in stale["properties"]["agentPoolProfiles"]:
                pool["powerState"] = {"code": "Stopped"}
            stale["_index"] = "stale"
            self.bodies.append(stale)

    # ---------------------------------------------------------------- hubs, fillers, containers

    def _hub(self, hub: Hub) -> None:
        pairs = fp.hub_pairs(hub.subscription, hub.vnet["name"], hub.index + 1, hub.region)
        links = [] if self.faults.unlinked_hub == hub.index else [fp.link(hub.zone_id, "link-hub", hub.vnet["id"])]
        zone = fp.zone(hub.zone_id, len(links), len(hub.records))
        self.bodies += [hub.vnet, *fp.hub_dns(hub.kind, pairs), zone, *links, *hub.records]

    def _fillers(self) -> None:
        """Privatelink zones in the hubs (rg-dns) and the workload subscriptions (rg-dns-<app>) up to the zone
        count, then links to spokes (and the hub, for a hub's zones) up to the link count: round-robin, a VNet
        linked to at most one zone of a name (Azure refuses a second)."""
        from aksdiag.lab.armworld.fleetworld import PRIVATELINK

        fixed_zones = len(self.hubs) + sum(c.system_zone for c in self.clusters)
        fixed_links = sum(self.faults.unlinked_hub != h.index for h in self.hubs) + 2 * sum(
            c.system_zone for c in self.clusters
        )
        owners: list[tuple[str, str, list[str]]] = []  # (subscription, rg, the VNets its zones may link to)
        for h in self.hubs:
            owners.append(
                (h.subscription, "rg-dns", [h.vnet["id"], *(c.spoke_id for c in self.clusters if c.hub is h)])
            )
        for w in self.workloads:
            owners.append((w.subscription, f"rg-dns-{w.app}", [c.spoke_id for c in self.clusters if c.workload is w]))
        zones: list[tuple[str, str, list[str]]] = []
        for k in range(max(0, self.zones - fixed_zones)):
            sub, rg, vnets = owners[k % len(owners)]
            n = k // len(owners)
            name = f"privatelink.{PRIVATELINK[n % len(PRIVATELINK)]}"
            if n >= len(PRIVATELINK):
                name = f"pl{n // len(PRIVATELINK)}.{name}"
            zones.append((rid(sub, rg, "privateDnsZones", name), name, vnets))
        linked: dict[str, list[str]] = {z: [] for z, _, _ in zones}
        used: set[tuple[str, str]] = set()
        cursor = dict.fromkeys(linked, 0)
        budget = max(0, self.links - fixed_links)
        progress = True
        while budget and progress:
            progress = False
            for zone_id, name, vnets in zones:
                while budget and cursor[zone_id] < len(vnets):
                    vnet = vnets[cursor[zone_id]]
                    cursor[zone_id] += 1
                    if (vnet.lower(), name) not in used:
                        used.add((vnet.lower(), name))
                        linked[zone_id].append(vnet)
                        budget -= 1
                        progress = True
                        break
        for zone_id, _, _ in zones:
            self.bodies.append(fp.zone(zone_id, len(linked[zone_id]), 0))
            self.bodies += [fp.link(zone_id, f"link-{v.rsplit('/', 1)[1]}", v) for v in linked[zone_id]]

    def _containers(self, names: dict[str, str]) -> list[Body]:
        """The subscriptions (with their display names) and the management groups."""
        from aksdiag.lab.arm import subscription_body

        out = []
        for sub, name in names.items():
            body = subscription_body(sub, name)
            body.update(name=name, type="Microsoft.Resources/subscriptions")  # for the lab's tooling; ARM drops them
            out.append(body)
        out += [{"_management_group": g, "subscriptions": subs} for g, subs in self._management_groups().items()]
        return out

    def _management_groups(self) -> dict[str, list[str]]:
        groups = {"mg-connectivity": [h.subscription for h in self.hubs],
                  "mg-landingzones": [w.subscription for w in self.workloads]}  # fmt: skip
        for h in self.hubs:
            groups[f"mg-landingzones-{h.short}"] = [w.subscription for w in self.workloads if w.hub is h]
        return groups


def _octet(ip: str, octet: int) -> str:
    a, _, c, d = ip.split(".")
    return f"{a}.{octet}.{c}.{d}"


def _route_none(subscription: str, rg: str, name: str, region: str) -> Body:
    """egress-route-none's route table (0.0.0.0/0 → None), stamped for the cluster."""
    from aksdiag.lab.armworld import egress
    from aksdiag.lab.armworld.names import CLUSTER_RG, SUBSCRIPTION

    table = egress.route_table([("default", "0.0.0.0/0", "None", "")])
    text = json.dumps(table).replace(f"/resourceGroups/{CLUSTER_RG}/", f"/resourceGroups/{rg}/")
    text = (
        text.replace("rt-aks", f"rt-{name}")
        .replace(SUBSCRIPTION, subscription)
        .replace('"koreacentral"', f'"{region}"')
    )
    body: Body = json.loads(text)
    return body
