"""ARM worlds of SNAT, live: Azure Monitor metrics of the outbound load balancer and the NAT gateway (issue 15).

Every world starts from the lb-healthy world's shape (aksdiag.lab.lbworld: the healthy ARM world, the managed load
balancers, four nodes at 10.224.0.4-7 on default outbound ports) and adds the last hour's metrics as the metrics REST
API answers them (`GET {resource}/providers/Microsoft.Insights/metrics`, the 2023-10-01 specification example's
shape: `value[].timeseries[].metadatavalues` with lower-cased dimension names, one point a minute). The fake ARM
filters a metrics document by `metricnames`, as Azure Monitor does; the worlds hold only what the probe's `$filter`
would leave (the Failed connection state). The NAT gateway and its public IP are built from the network SDK's models.
Names start with `snat-`; the lb-… worlds, which hold no metrics, are the "not available" case.
"""

from __future__ import annotations

from typing import Any

from aksdiag.lab.armworld.names import AKS_SUBNET, AKS_VNET, CLUSTER_RG, NODE_RG, REGION, net_id

Body = dict[str, Any]

NODES = 4
NAT_GATEWAY = net_id(CLUSTER_RG, "natGateways", "ng-aks-snat")
NAT_IP = net_id(CLUSTER_RG, "publicIPAddresses", "pip-ng-aks-snat")
START = "2026-11-23T13:30:00Z"
"""The worlds' hour: 13:30 to 14:30 UTC, one point a minute; the trouble peaks at 14:20 (minute 50)."""
_HOUR = "2026-11-23T13:30:00Z/2026-11-23T14:30:00Z"

WORLDS: dict[str, str] = {
    "snat-healthy": "4 nodes on default outbound ports (1,024 each); the last hour's metrics: the busiest node used "
    "31% of its ports, no failed SNAT connection",
    "snat-exhausted": "4 nodes on 1,024 ports each fit the outbound rule, yet node 10.224.0.7 used 98% of its ports "
    "with 1,204 failed SNAT connections (486 at 14:20 UTC)",
    "snat-near": "node 10.224.0.6 peaked at 85% of its 1,024 SNAT ports at 14:20 UTC; no failed connection yet",
    "snat-nat-healthy": "userAssignedNATGateway: a NAT gateway with 1 public IP on the node subnet; no failed SNAT "
    "connection, no dropped packet",
    "snat-nat-failed": "userAssignedNATGateway: the node subnet's NAT gateway failed 3,150 SNAT connections in the "
    "last hour (820 at 14:20 UTC)",
    "snat-nat-drops": "userAssignedNATGateway: the NAT gateway dropped 240 packets (90 at 14:05 UTC), no failed SNAT "
    "connection",
    "snat-metrics-denied": "snat-exhausted, but reading metrics is refused (403 AuthorizationFailed: no Monitoring "
    "Reader)",
}
"""World name → one line saying how it is broken (or that it is healthy)."""


def build(world: str) -> list[Body]:
    """The resource bodies (and documents) of `world`."""
    if world not in WORLDS:
        raise ValueError(f"unknown ARM world {world!r}; one of {', '.join(WORLDS)}")
    if world.startswith("snat-nat-"):
        return _nat_world(world)
    from aksdiag.lab import lbworld

    bodies = _lb_bodies(lbworld.LbSpec(nodes=NODES, services=(lbworld.WEB, lbworld.API)))
    lb_id = net_id(NODE_RG, "loadBalancers", "kubernetes")
    peaks = {"snat-exhausted": (3, 1004), "snat-near": (2, 870)}.get(world)
    used = [[_bump(minute, 120 + 40 * i, 0) for minute in range(60)] for i in range(NODES)]
    if peaks:
        node, peak = peaks
        used[node] = [_bump(minute, 200, peak) for minute in range(60)]
    else:
        used[NODES - 1] = [_bump(minute, 200, 317) for minute in range(60)]  # 31% of 1,024 at its busiest
    failed = [[0] * 60 for _ in range(NODES)]
    if world in ("snat-exhausted", "snat-metrics-denied"):
        for minute, count in zip(range(47, 54), (40, 120, 210, 486, 198, 110, 40), strict=True):  # 1,204 in all
            failed[3][minute] = count
    if world == "snat-metrics-denied":
        used[3] = [_bump(minute, 200, 1004) for minute in range(60)]
    ips = [node_ip(i) for i in range(NODES)]
    metrics = [
        _metric(lb_id, "AllocatedSnatPorts", "Allocated SNAT Ports", [({"backendipaddress": ip}, [1024] * 60)
                                                                      for ip in ips]),
        _metric(lb_id, "UsedSnatPorts", "Used SNAT Ports", [({"backendipaddress": ip}, u) for ip, u in zip(ips, used,
                                                                                                          strict=True)]),
        _metric(lb_id, "SnatConnectionCount", "SNAT Connection Count",
                [({"backendipaddress": ip, "connectionstate": "Failed"}, f) for ip, f in zip(ips, failed, strict=True)],
                aggregation="total"),
    ]  # fmt: skip
    return [*bodies, _document(lb_id, "Microsoft.Network/loadBalancers", metrics)]


def faults(world: str) -> dict[str, Any]:
    """snat-metrics-denied: every metrics read answers 403 as ARM does without Microsoft.Insights/metrics/read."""
    if world != "snat-metrics-denied":
        return {}
    scope = net_id(NODE_RG, "loadBalancers", "kubernetes")
    message = (
        "The client 'aksdiag@contoso.com' with object id '5b3f0a6e-2c1d-4e8f-9a7b-6c5d4e3f2a1b' does not have "
        f"authorization to perform action 'Microsoft.Insights/metrics/read' over scope '{scope}' or the scope is "
        "invalid. If access was recently granted, please refresh your credentials."
    )
    return {"/providers/microsoft.insights/metrics": {"status": 403, "code": "AuthorizationFailed", "message": message}}


def node_ip(i: int) -> str:
    """The private IP of node i (lbworld's nodes: 10.224.0.4 on)."""
    return f"10.224.0.{4 + i}"


def kube(world: str) -> list[Body]:
    """The Kubernetes half: lb-healthy's Services and four nodes, named as AKS names them."""
    from aksdiag.lab import kubeworlds, lbworld

    objects = [o for o in lbworld.kube("lb-healthy") if o.get("kind") != "Node"]
    nodes = [kubeworlds.node(node_name(i), node_ip(i), [f"10.244.{i}.0/24"], i) for i in range(NODES)]
    return [*nodes, *objects]


def node_name(i: int) -> str:
    return f"aks-nodepool1-12345678-vmss{i:06x}"


# ---------------------------------------------------------------- the pieces


def _lb_bodies(spec: Any) -> list[Body]:
    """The healthy ARM world with `spec`'s load balancers, public IPs and outbound profile (as lbworld.arm)."""
    from aksdiag.lab import lbworld
    from aksdiag.lab.armworld import worlds

    drop = ("microsoft.network/loadbalancers", "microsoft.network/publicipaddresses")
    bodies = [b for b in worlds.build("healthy") if str(b.get("type", "")).lower() not in drop]
    cluster = next(b for b in bodies if b.get("type", "").lower() == "microsoft.containerservice/managedclusters")
    lbworld._patch_cluster(cluster, spec)  # the lb worlds' one way to size the pools and the outbound profile
    if spec.outbound_type != "loadBalancer":
        cluster["properties"]["networkProfile"].pop("loadBalancerProfile", None)
    return bodies + lbworld.load_balancers(spec)


def _nat_world(world: str) -> list[Body]:
    from aksdiag.lab import lbworld

    spec = lbworld.LbSpec(nodes=NODES, services=(lbworld.WEB, lbworld.API), outbound_ips=0,
                          outbound_type="userAssignedNATGateway")  # fmt: skip
    bodies = _lb_bodies(spec)
    spoke = next(b for b in bodies if b["id"] == AKS_VNET)
    subnet = next(s for s in spoke["properties"]["subnets"] if s["id"] == AKS_SUBNET)
    subnet.setdefault("properties", {})["natGateway"] = {"id": NAT_GATEWAY}
    connections = [_bump(minute, 1800, 2400) for minute in range(60)]
    failed, dropped = [0] * 60, [0] * 60
    if world == "snat-nat-failed":
        counts = (50, 120, 200, 310, 430, 600, 820, 300, 150, 90, 50, 20, 10)  # 3,150 in all, 820 at 14:20
        for minute, count in zip(range(44, 57), counts, strict=True):
            failed[minute] = count
        connections = [_bump(minute, 1800, 64_000) for minute in range(60)]
    if world == "snat-nat-drops":
        for minute, count in zip(range(33, 38), (20, 60, 90, 50, 20), strict=True):  # 240 in all, 90 at 14:05
            dropped[minute] = count
    metrics = [
        _metric(NAT_GATEWAY, "SNATConnectionCount", "SNAT Connection Count", [({"connectionstate": "Failed"}, failed)],
                aggregation="total"),
        _metric(NAT_GATEWAY, "TotalConnectionCount", "Total SNAT Connection Count", [({}, connections)],
                aggregation="total"),
        _metric(NAT_GATEWAY, "PacketDropCount", "Dropped Packets", [({}, dropped)], aggregation="total"),
    ]  # fmt: skip
    return [*bodies, _nat_gateway(), _public_ip(), _document(NAT_GATEWAY, "Microsoft.Network/natGateways", metrics)]


def _bump(minute: int, base: int, peak: int) -> int:
    """A value at `base`, rising to `peak` around minute 50 (14:20) and back within 8 minutes either side."""
    if peak <= base:
        return base
    return round(base + (peak - base) * max(0.0, 1 - abs(minute - 50) / 8))


def _stamp(minute: int) -> str:
    return f"2026-11-23T{13 + (30 + minute) // 60:02d}:{(30 + minute) % 60:02d}:00Z"


def _metric(
    resource_id: str, name: str, display: str, series: list[tuple[dict[str, str], list[int]]], aggregation: str = ""
) -> Body:
    """One metric of a metrics answer: a time series per combination of dimension values."""
    timeseries = []
    for dims, values in series:
        if aggregation == "total":
            data = [{"timeStamp": _stamp(m), "total": float(v)} for m, v in enumerate(values)]
        else:  # ports: the average of the minute and its maximum
            data = [{"timeStamp": _stamp(m), "average": float(round(v * 0.9)), "maximum": float(v)}
                    for m, v in enumerate(values)]  # fmt: skip
        metadata = [{"name": {"value": k, "localizedValue": k}, "value": v} for k, v in dims.items()]
        timeseries.append({"metadatavalues": metadata, "data": data})
    return {"id": f"{resource_id}/providers/Microsoft.Insights/metrics/{name}", "type": "Microsoft.Insights/metrics",
            "name": {"value": name, "localizedValue": display}, "displayDescription": display, "unit": "Count",
            "timeseries": timeseries, "errorCode": "Success"}  # fmt: skip


def _document(resource_id: str, namespace: str, metrics: list[Body]) -> Body:
    """The metrics answer at the resource's metrics path (a fake-ARM document)."""
    return {"_document": True, "_path": f"{resource_id}/providers/Microsoft.Insights/metrics", "cost": 0,
            "timespan": _HOUR, "interval": "PT1M", "value": metrics, "namespace": namespace,
            "resourceregion": REGION}  # fmt: skip


def _nat_gateway() -> Body:
    from azure.mgmt.network.models import NatGateway, NatGatewaySku, SubResource

    body: Body = NatGateway(
        id=NAT_GATEWAY, location=REGION, sku=NatGatewaySku(name="Standard"), idle_timeout_in_minutes=4,
        public_ip_addresses=[SubResource(id=NAT_IP)],
    ).as_dict()  # fmt: skip
    body["name"], body["type"] = "ng-aks-snat", "Microsoft.Network/natGateways"
    body["properties"]["provisioningState"] = "Succeeded"
    body["properties"]["subnets"] = [{"id": AKS_SUBNET}]
    return body


def _public_ip() -> Body:
    from azure.mgmt.network.models import PublicIPAddress, PublicIPAddressSku

    body: Body = PublicIPAddress(
        id=NAT_IP, location=REGION, sku=PublicIPAddressSku(name="Standard"), ip_address="20.41.70.10",
        public_ip_allocation_method="Static",
    ).as_dict()  # fmt: skip
    body["name"], body["type"] = "pip-ng-aks-snat", "Microsoft.Network/publicIPAddresses"
    return body
