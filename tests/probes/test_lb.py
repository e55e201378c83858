"""lb judged from facts: the lab's load balancer worlds (real ARM payloads, the cloud provider's naming) and their
Services and Events, as raw facts through the probe's one digest, or as typed facts built by hand. No server."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from aksdiag.probes import lb
from aksdiag.probes.lb.outbound import Capacity, outbound_hop
from probeworlds import KUBE, LB_NEED, NEED, Body, azure_context, forbidden, kube_list

from aksdiag import codes
from aksdiag.facts import AzureContext, AzureReadError, KubeList
from aksdiag.kubefacts import INTERNAL_LB
from aksdiag.lab import armworld, lbworld
from aksdiag.model import Severity, Status
from aksdiag.probe import Judgement, Skip
from aksdiag.settings import Settings

OWN = {*lb.PROBE.codes, "AZ001", "AZ002", "IP005"}
LB_SCOPE = f"/subscriptions/{armworld.SUBSCRIPTION}/resourceGroups/{armworld.NODE_RG}/providers/Microsoft.Network"


def world_facts(
    world: str,
    kube: bool = True,
    patch: Callable[[Body], None] | None = None,
    services: KubeList | None = None,
    events: KubeList | None = None,
    kube_patch: Callable[[Body], None] | None = None,
    **azure: Any,
) -> tuple[Settings, dict[Any, Any]]:
    """The settings and raw facts `aksdiag lb` would have for a lab world (`kube=False`: no kubeconfig)."""
    facts: dict[Any, Any] = {LB_NEED: azure_context(world, patch=patch, need=LB_NEED, **azure)}
    if not kube:
        return Settings(azure=NEED), facts
    objects = lbworld.kube(world)
    for o in objects:
        if kube_patch is not None:
            kube_patch(o)
    needs = lb._kube_needs(KUBE)
    facts[needs["services"]] = services or kube_list(objects, "Service")
    facts[needs["events"]] = events or kube_list(objects, "Event")
    return Settings(azure=NEED, kube=KUBE), facts


def judge(world: str, **kw: Any) -> Judgement:
    settings, facts = world_facts(world, **kw)
    j = lb.judge("", settings, facts)
    assert {f.id for f in j.findings} <= OWN and all(f.probe == "lb" for f in j.findings)
    assert [h.index for h in j.hops] == list(range(1, len(j.hops) + 1))
    return j


def ids(j: Judgement) -> list[str]:
    return sorted(f.id for f in j.findings)


def table(j: Judgement, title: str) -> list[dict[str, str]]:
    (t,) = [t for t in j.tables if t.title == title]
    return [dict(zip(t.columns, row, strict=True)) for row in t.rows]


def hop(j: Judgement, kind: str, name: str | None = None) -> Any:
    return next(h for h in j.hops if h.kind == kind and (name is None or h.name == name))


def on_type(kind: str, change: Callable[[Body], None]) -> Callable[[Body], None]:
    def patch(body: Body) -> None:
        if body.get("type", "").lower() == kind.lower():
            change(body)

    return patch


# ---------------------------------------------------------------- plan


def test_without_azure_context_the_probe_is_skipped() -> None:
    with pytest.raises(Skip, match="--cluster"):
        lb.plan("", Settings(), {})


def test_plan_asks_for_the_load_balancers_and_the_services_and_their_events() -> None:
    needs = lb.plan("", Settings(azure=NEED, kube=KUBE), {})
    assert needs[0] == LB_NEED
    assert [(n.resource, n.field_selector) for n in needs[1:]] == [
        ("services", ""), ("events", "involvedObject.kind=Service"),
    ]  # fmt: skip


# ---------------------------------------------------------------- healthy


def test_healthy_cluster_raises_nothing_and_maps_every_frontend() -> None:
    j = judge("lb-healthy")
    assert j.findings == ()
    assert [h.kind for h in j.hops] == ["lb", "lb", "outbound", "service", "service"]
    assert all(h.status is Status.OK for h in j.hops)
    owners = {f["address"]: f["owner"] for f in table(j, "Frontends")}
    assert owners == {"20.41.66.10": "outbound (SNAT)", "10.224.0.200": "default/web", "10.224.0.201": "default/api"}
    assert hop(j, "service", "default/api").answers == ("10.224.0.201",)
    assert "Local" in hop(j, "service", "default/api").detail
    snat = [(r["when"], r["nodes"], r["ports per node"], r["fits"]) for r in table(j, "SNAT capacity")]
    assert snat == [("now", "3", "1,024", "yes"), ("upgrade", "4", "1,024", "yes"), ("peak", "4", "1,024", "yes")]
    pools = {(r["load balancer"], r["pool"]): r["members"] for r in table(j, "Backend pools")}
    assert pools == {("kubernetes", "kubernetes"): "3", ("kubernetes", "aksOutboundBackendPool"): "3",
                     ("kubernetes-internal", "kubernetes"): "3"}  # fmt: skip
    (outbound,) = table(j, "Outbound rules")
    assert outbound["ports per node"] == "0 (default by pool size)" and outbound["TCP reset"] == "true"
    assert outbound["idle timeout"] == "30 min" and outbound["pool"] == "aksOutboundBackendPool"
    rules = {r["rule"]: (r["probe"], r["owner"]) for r in table(j, "Load-balancing rules")}
    assert set(rules.values()) == {("(same name)", "default/web"), ("(same name)", "default/api")}


def test_judging_leaves_the_raw_facts_as_they_were() -> None:
    """Snapshots save the raw payloads: the digest reads them and changes nothing."""
    settings, facts = world_facts("lb-healthy")
    before = copy.deepcopy(facts)
    lb.judge("", settings, facts)
    assert facts == before


# ---------------------------------------------------------------- LB001, LB002: SNAT


def test_lb001_explicit_ports_cap_the_autoscaler_maximum() -> None:
    j = judge("lb-explicit-capped")
    assert ids(j) == ["LB001"]
    (f,) = j.findings
    assert f.severity is Severity.ERROR and f.title == codes.LB001.title
    assert "4,000 ports per node × 21 nodes at the peak" in f.detail and "enough for 16 nodes" in f.detail
    assert "at most 3,040 ports per node" in f.remediation  # 64,000 / 21 nodes, down to a multiple of 8
    assert f.command and f.command.endswith("--load-balancer-managed-outbound-ip-count 2")
    (gauge,) = j.gauges
    assert (gauge.value, gauge.maximum) == (84_000, 64_000)
    assert hop(j, "outbound").status is Status.FAIL


def test_lb001_not_raised_when_more_outbound_ips_lift_the_cap() -> None:
    """The same 4,000 ports per node on 2 outbound IPs fit 32 nodes: the peak of 21 raises nothing."""

    def two_ips(body: Body) -> None:
        if body.get("name") == "kubernetes":
            rule = body["properties"]["outboundRules"][0]["properties"]
            rule["frontendIPConfigurations"].append({"id": body["id"] + "/frontendIPConfigurations/second"})

    j = judge("lb-explicit-capped", patch=on_type("Microsoft.Network/loadBalancers", two_ips))
    assert j.findings == () and j.facts["capacity"][0]["max_nodes"] == 32


@pytest.mark.parametrize(
    ("now", "upgrade", "peak", "when"),
    [(10, 11, 21, "the peak (an upgrade surge)"), (10, 17, 21, "an upgrade"), (17, 18, 21, "now")],
)
def test_lb001_names_the_first_moment_the_ports_run_out(now: int, upgrade: int, peak: int, when: str) -> None:
    """From typed facts: a Capacity as the outbound rule gives it, 16 nodes at most."""
    c = Capacity("aksOutboundRule", "kubernetes", 4000, True, 1, now, upgrade, peak, "an upgrade surge", 16)
    hop_, findings = outbound_hop(
        3, "loadBalancer", [c], {"resource_group": "rg", "cluster": "c", "node_resource_group": "mc"}
    )
    (f,) = findings
    assert f.id == "LB001" and f.hop == 3 and hop_.status is Status.FAIL
    assert f.evidence["needed_nodes"] == {"now": now, "an upgrade": upgrade}.get(when, peak)
    assert f"nodes at {when} needs" in f.detail


def test_lb002_default_allocation_past_50_nodes_is_low() -> None:
    j = judge("lb-default-grown")
    assert ids(j) == ["LB002"]
    (f,) = j.findings
    assert f.severity is Severity.WARNING
    assert "512 ports per node for a pool of 61 nodes" in f.detail and "default" in f.detail
    assert f.command and "--load-balancer-outbound-ports 1024" in f.command
    assert hop(j, "outbound").status is Status.WARN


def test_nat_gateway_egress_is_not_the_load_balancers_problem() -> None:
    def nat(body: Body) -> None:
        body["properties"]["networkProfile"]["outboundType"] = "managedNATGateway"

    j = judge("lb-explicit-capped", patch=on_type("Microsoft.ContainerService/ManagedClusters", nat))
    assert j.findings == () and j.facts["capacity"] == [] and j.facts["outbound_type"] == "managedNATGateway"
    assert "NAT gateway" in hop(j, "outbound").detail


# ---------------------------------------------------------------- LB003: public Service on a private cluster


def test_lb003_public_service_on_a_private_cluster() -> None:
    j = judge("lb-public-service")
    assert ids(j) == ["LB003"]
    (f,) = j.findings
    assert "default/shop is served on public IP 20.41.65.9" in f.detail
    assert f.command == "kubectl -n default annotate service shop service.beta.kubernetes.io/azure-load-balancer-internal=true"  # fmt: skip
    assert hop(j, "service", "default/shop").status is Status.WARN


def test_lb003_not_raised_on_a_public_cluster() -> None:
    def public(body: Body) -> None:
        body["properties"]["apiServerAccessProfile"]["enablePrivateCluster"] = False

    assert (
        judge("lb-public-service", patch=on_type("Microsoft.ContainerService/ManagedClusters", public)).findings == ()
    )


def test_lb003_an_annotation_the_cloud_provider_does_not_read_as_true_is_public() -> None:
    """The cloud provider makes an internal load balancer only for exactly "true": "True" still gets a public IP."""

    def capital(obj: Body) -> None:
        if obj.get("kind") == "Service" and obj["metadata"]["name"] == "shop":
            obj["metadata"]["annotations"] = {INTERNAL_LB: "True"}

    assert ids(judge("lb-public-service", kube_patch=capital)) == ["LB003"]


# ---------------------------------------------------------------- LB004: pending Service


def test_lb004_pending_service_names_the_missing_role() -> None:
    j = judge("lb-pending")
    assert ids(j) == ["LB004"]
    (f,) = j.findings
    assert "default/payments has no ingress address" in f.detail
    assert "AuthorizationFailed" in f.detail and "Microsoft.Network/virtualNetworks/subnets/read" in f.detail
    assert "Network Contributor on snet-aks in vnet-aks" in f.remediation
    assert f.command and f.command.startswith("az role assignment create --assignee-object-id 00000000-0000-0000-0000-000000000001 ")  # fmt: skip
    assert f.command.endswith(f'--role "Network Contributor" --scope {armworld.AKS_SUBNET}')
    assert hop(j, "service", "default/payments").status is Status.FAIL


def test_lb004_events_unreadable_says_so() -> None:
    j = judge("lb-pending", events=forbidden("events"))
    assert ids(j) == ["LB004"]
    assert "could not be read (403 events is forbidden" in j.findings[0].detail
    assert j.findings[0].command == "kubectl -n default describe service payments"


def test_lb004_without_a_warning_event_says_the_controller_may_still_work() -> None:
    j = judge("lb-pending", events=KubeList())
    assert ids(j) == ["LB004"] and "No Warning event explains it" in j.findings[0].detail


def test_lb004_other_warnings_are_quoted_and_the_latest_wins() -> None:
    objects = lbworld.kube("lb-pending")
    (event,) = [o for o in objects if o["kind"] == "Event"]
    older = copy.deepcopy(event) | {"message": "an older complaint", "lastTimestamp": "2026-11-23T07:00:00Z"}
    newer = copy.deepcopy(event) | {"message": 'x {"message":"quota exceeded"}', "lastTimestamp": "2026-11-23T09:00:00Z"}  # fmt: skip
    j = judge("lb-pending", events=KubeList((event, newer, older)))
    assert ids(j) == ["LB004"]
    assert "Event SyncLoadBalancerFailed (×7): quota exceeded" in j.findings[0].detail


# ---------------------------------------------------------------- LB005: orphans


def test_lb005_orphan_frontend_and_its_rule_said_once() -> None:
    j = judge("lb-orphan")
    assert ids(j) == ["LB005"]  # the orphan's rule is named with its frontend, not again
    (f,) = j.findings
    orphan = lbworld.WORLDS["lb-orphan"][1].orphans[0]
    assert f"frontend {orphan.prefix} (10.224.0.210)" in f.detail
    rules = {r["rule"]: r["owner"] for r in table(j, "Load-balancing rules")}
    assert rules[f"{orphan.prefix}-TCP-80"] == "none"


def test_lb005_a_rule_left_on_an_owned_frontend() -> None:
    gone = "a" + "f" * 32 + "-TCP-8080"

    def stray_rule(body: Body) -> None:
        if body["name"] == "kubernetes-internal":
            rules = body["properties"]["loadBalancingRules"]
            rules.append(copy.deepcopy(rules[0]) | {"name": gone, "id": rules[0]["id"].rsplit("/", 1)[0] + "/" + gone})

    j = judge("lb-healthy", patch=on_type("Microsoft.Network/loadBalancers", stray_rule))
    assert ids(j) == ["LB005"] and f"rule {gone}" in j.findings[0].detail


# ---------------------------------------------------------------- LB006: health probes


def test_lb006_local_service_probed_on_the_node_port() -> None:
    j = judge("lb-probe-mismatch")
    assert ids(j) == ["LB006"]
    (f,) = j.findings
    assert "probes TCP 30443, expected HTTP 31500/healthz" in f.detail
    assert f.evidence["probe"]["port"] == 30443


@pytest.mark.parametrize(("port", "codes_"), [(30080, []), (10256, []), (30999, ["LB006"])])
def test_lb006_cluster_policy_probe_on_the_node_port_or_the_shared_port(port: int, codes_: list[str]) -> None:
    def probe_port(body: Body) -> None:
        for probe in body["properties"].get("probes") or []:
            if probe["name"].endswith("-TCP-80"):
                probe["properties"]["port"] = port

    assert ids(judge("lb-healthy", patch=on_type("Microsoft.Network/loadBalancers", probe_port))) == codes_


# ---------------------------------------------------------------- what could not be read


def test_without_kubernetes_the_azure_half_still_runs() -> None:
    j = judge("lb-explicit-capped", kube=False)
    assert ids(j) == ["LB001"]
    assert hop(j, "services").status is Status.SKIPPED and "kubeconfig" in hop(j, "services").detail
    assert {f["owner"] for f in table(j, "Frontends")} == {"outbound (SNAT)", "?"}
    assert not any(t.title == "LoadBalancer Services" for t in j.tables)


def test_ip005_services_forbidden_and_snat_still_judged() -> None:
    j = judge("lb-explicit-capped", services=forbidden("services"))
    assert ids(j) == ["IP005", "LB001"]
    assert next(f for f in j.findings if f.id == "IP005").detail.startswith("services: 403")
    assert hop(j, "services").status is Status.SKIPPED


def test_az001_load_balancers_forbidden() -> None:
    denied = AzureReadError(LB_SCOPE + "/loadBalancers", 403, "AuthorizationFailed", "no read on loadBalancers",
                            "Microsoft.Network/loadBalancers/read")  # fmt: skip
    j = judge("lb-healthy", errors=(denied,), drop="load_balancers")
    assert ids(j) == ["AZ001"]  # a warning; the orphan check needs the frontends, so it stays silent
    assert "Microsoft.Network/loadBalancers/read" in j.findings[0].remediation
    assert hop(j, "outbound").status is Status.WARN and "no outbound rule" in hop(j, "outbound").detail


def test_az002_cluster_not_found() -> None:
    missing = AzureReadError(NEED.cluster_id, 404, "ResourceNotFound", "not found")
    j = lb.judge("", Settings(azure=NEED), {LB_NEED: AzureContext(need=LB_NEED, errors=(missing,))})
    assert ids(j) == ["AZ002"]
    assert [(h.kind, h.status) for h in j.hops] == [("cluster", Status.SKIPPED)]


def test_other_read_errors_are_not_this_probes_to_report() -> None:
    """A 403 on the zone's links is private_dns's AZ001, not lb's."""
    denied = AzureReadError(
        "/subscriptions/s/x/privateDnsZones/z/virtualNetworkLinks", 403, "AuthorizationFailed", "no"
    )
    assert judge("lb-healthy", errors=(denied,)).findings == ()
