"""The typed facts (aksdiag.azfacts, lbfacts, kubefacts): real payloads digest to what they say, and a body with
keys left out digests to empty values, never an exception."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

import pytest

from aksdiag import azfacts, kubefacts, lbfacts
from aksdiag.facts import AzureContext, AzureContextNeed, KubeList
from aksdiag.lab import armworld, kubeworlds, lbworld

NEED = AzureContextNeed("s", "rg", "c")
EMPTY: tuple[Any, ...] = ("", 0, None, (), {}, False, "?")  # "?": a name the object did not give


def not_empty(fact: Any) -> dict[str, Any]:
    """The fields of `fact` that are neither an empty value nor the default the dataclass declares."""
    odd = {}
    for f in fields(fact):
        value = getattr(fact, f.name)
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if value == default or any(type(value) is type(e) and value == e for e in EMPTY):
            continue
        if f.name.endswith("namespace") and value == "default":
            continue  # Kubernetes's own default for an object that names none
        odd[f.name] = value
    return odd


@pytest.mark.parametrize(
    "cls",
    [lbfacts.PublicIp, lbfacts.Frontend, lbfacts.LbRule, lbfacts.HealthProbe, lbfacts.BackendPool,
     lbfacts.OutboundRule, lbfacts.LoadBalancer, azfacts.Nic, azfacts.IpConfig, azfacts.ApiEndpoint, azfacts.Subnet,
     azfacts.Peering, azfacts.VNet, azfacts.Link, azfacts.RecordSet, azfacts.Zone, azfacts.NodePool, azfacts.Cluster,
     azfacts.Nsg, azfacts.NsgRule],
)  # fmt: skip
def test_an_empty_arm_body_digests_to_empty_values(cls: type) -> None:
    assert not_empty(cls.from_arm({})) == {}


@pytest.mark.parametrize(
    "cls", [kubefacts.Node, kubefacts.Pod, kubefacts.Service, kubefacts.Event, kubefacts.NodeNetworkConfig]
)
def test_an_empty_kubernetes_object_digests_to_empty_values(cls: type) -> None:
    assert not_empty(cls.from_kube({})) == {}


def test_a_filled_body_is_not_empty() -> None:
    """The check above can fail: a field the body set is reported."""
    assert not_empty(azfacts.Subnet.from_arm({"id": "/s", "properties": {"addressPrefix": "10.0.0.0/24"}})) == {
        "id": "/s",
        "prefix": "10.0.0.0/24",
    }


def test_digest_of_nothing_read() -> None:
    arm = azfacts.digest(AzureContext(need=NEED))
    assert arm.cluster is None and arm.cluster_vnets == [] and arm.endpoint_ips == [] and arm.subnet("/x/subnets/y") is None  # fmt: skip


def test_the_lb_world_digests_with_its_addresses_and_pools() -> None:
    bodies = lbworld.arm("lb-public-service")
    ctx = AzureContext(
        need=NEED,
        load_balancers=[b for b in bodies if b["type"] == "Microsoft.Network/loadBalancers"],
        public_ips=[b for b in bodies if b["type"] == "Microsoft.Network/publicIPAddresses"],
    )
    arm = azfacts.digest(ctx)
    public = next(lb for lb in arm.load_balancers if lb.name == "kubernetes")
    assert {arm.address(f) for f in public.frontends} == {"20.41.66.10", lbworld.PUBLIC_LB_IP}
    assert all(f.public for f in public.frontends)
    (rule,) = public.outbound_rules
    assert public.pool_size(rule.backend_pool_id) == 3 and rule.allocated_ports == 0 and rule.tcp_reset is True
    internal = next(lb for lb in arm.load_balancers if lb.name == "kubernetes-internal")
    (fe,) = internal.frontends
    assert arm.address(fe) == lbworld.INTERNAL_LB_IP and fe.subnet_id == armworld.AKS_SUBNET
    (r,) = internal.rules
    probe = internal.probe(r.probe_id)
    assert probe is not None and (probe.protocol, probe.port) == ("Tcp", 30080)


def test_a_public_frontend_whose_ip_was_not_read_has_no_address() -> None:
    fe = lbfacts.Frontend("f", "f", public_ip_id="/x/publicIPAddresses/gone")
    assert azfacts.digest(AzureContext(need=NEED)).address(fe) == ""


def test_kubernetes_objects_digest() -> None:
    objects = kubeworlds.build("cilium")
    node = next(n for n in kubefacts.nodes(KubeList(tuple(o for o in objects if o["kind"] == "Node"))))
    assert node.pod_cidrs == ("10.244.0.0/24", "fd00:10:244:0::/64") and node.max_pods == 30
    assert node.internal_ip == "10.240.0.4" and node.pool == "nodepool1"
    assert node.vmss == ("mc_rg-aks_aks-lab_koreacentral", kubeworlds.VMSS)
    assert node.vmss_instance == (kubeworlds.VMSS, "0")
    web = next(s for s in kubefacts.services(KubeList(tuple(objects))) if s.name == "web")
    assert (web.internal, web.load_balancer, web.ingress, web.cluster_ips) == (True, True, ("10.240.0.200",), ("10.0.12.34",))  # fmt: skip
    pod = next(p for p in kubefacts.pods(KubeList(tuple(o for o in objects if o["kind"] == "Pod"))))
    assert pod.owner == ("ReplicaSet", "web-7d9c8") and not pod.finished


@pytest.mark.parametrize(("value", "internal"), [("true", True), ("True", False), ("false", False)])
def test_only_exactly_true_asks_for_an_internal_load_balancer(value: str, internal: bool) -> None:
    """As the Azure cloud provider reads the annotation."""
    svc = {"metadata": {"name": "s", "annotations": {kubefacts.INTERNAL_LB: value}}, "spec": {"type": "LoadBalancer"}}
    assert kubefacts.Service.from_kube(svc).internal is internal
