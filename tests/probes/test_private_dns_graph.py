"""private_dns's resolution path as a graph, from the lab's worlds (real payload shapes) through the probe's judge:
the path in query order, and exactly the edge a finding names marked — a healthy world has none.

The landing-zone worlds (lz-*) come from aksdiag.lab.armworld once the enterprise worlds are registered there."""

from __future__ import annotations

import pytest
from aksdiag.probes import private_dns
from probeworlds import NEED, azure_context

from aksdiag.lab import armworld
from aksdiag.model import Graph, GraphEdge, Severity, Status
from aksdiag.render.graph import mermaid
from aksdiag.settings import Settings


def judged(world: str):
    return private_dns.judge("", Settings(azure=NEED), {NEED: azure_context(world)})


def drawn(world: str) -> Graph:
    graph = judged(world).graph
    assert graph is not None
    return graph


def kinds(graph: Graph, edge: GraphEdge) -> tuple[str, str]:
    source, target = graph.node(edge.source), graph.node(edge.target)
    assert source and target
    return source.kind, target.kind


def marked(graph: Graph) -> list[GraphEdge]:
    return [e for e in graph.edges if e.status in (Status.FAIL, Status.WARN)]


def well_formed(graph: Graph) -> None:
    ids = [n.id for n in graph.nodes]
    assert len(ids) == len(set(ids)), "each node once"
    assert all(e.source in ids and e.target in ids for e in graph.edges), "every edge joins drawn nodes"
    assert all(e.source != e.target for e in graph.edges)
    targets = {e.target for e in graph.edges}
    assert {n.kind for n in graph.nodes if n.id not in targets} == {"vnet"}, "every path starts at a cluster VNet"
    assert mermaid(graph)[0] == "flowchart LR"


def test_healthy_path_in_query_order_with_nothing_marked() -> None:
    graph = drawn("healthy")
    well_formed(graph)
    assert [kinds(graph, e) for e in graph.edges] == [
        ("vnet", "custom-dns"),
        ("custom-dns", "azure-dns"),
        ("azure-dns", "zone"),
        ("zone", "record"),
        ("record", "endpoint"),
    ]
    assert [e.label for e in graph.edges][2] == "link link-hub"
    assert marked(graph) == [] and all(n.status is Status.OK for n in graph.nodes)
    assert graph.node(graph.edges[-1].target).label == "kube-apiserver 10.224.0.4"  # type: ignore[union-attr]


def test_dns011_marks_the_missing_link_edge() -> None:
    graph = drawn("hub-not-linked")
    well_formed(graph)
    (broken,) = marked(graph)
    assert broken.status is Status.FAIL and broken.label == "no link"
    assert kinds(graph, broken) == ("azure-dns", "zone")
    assert graph.node(broken.source).label == "Azure DNS in vnet-hub"  # type: ignore[union-attr]
    assert broken is graph.edges[-1], "nothing is drawn past a zone that does not answer there"


def test_dns012_marks_record_to_endpoint() -> None:
    graph = drawn("record-stale")
    (broken,) = marked(graph)
    assert kinds(graph, broken) == ("record", "endpoint")
    assert broken.label == "endpoint has 10.224.0.4"
    record = graph.node(broken.source)
    assert record and record.status is Status.FAIL and record.label.endswith("A 10.224.0.9")


def test_dns014_marks_the_peering() -> None:
    graph = drawn("peering-down")
    (broken,) = marked(graph)
    assert kinds(graph, broken) == ("vnet", "custom-dns")
    assert "peering" in broken.label and "Disconnected" in broken.label


def test_dns019_the_shadowing_zone_answers_and_lacks_the_record() -> None:
    j = judged("shadowed")
    assert [f.id for f in j.findings] == ["DNS019"]
    graph = j.graph
    assert graph is not None
    (broken,) = marked(graph)
    assert kinds(graph, broken) == ("zone", "record")
    assert graph.node(broken.target).label.startswith("no A record")  # type: ignore[union-attr]
    zone = graph.node(broken.source)
    assert zone and zone.detail == j.findings[0].evidence["zone"], "the zone drawn is the one the finding blames"


def test_zone_none_public_dns_answers_without_alarm() -> None:
    graph = drawn("zone-none")
    assert marked(graph) == []
    assert graph.node(graph.edges[-1].target).label == "no private zone: public DNS answers"  # type: ignore[union-attr]


def test_no_cluster_vnet_no_graph() -> None:
    ctx = azure_context("healthy")
    ctx.vnets.clear()  # an AKS-managed VNet (none read): no path to draw
    j = private_dns.judge("", Settings(azure=NEED), {NEED: ctx})
    assert j.graph is None


WORLDS = ["healthy", "hub-not-linked", "record-stale", "peering-down", "shadowed", "zone-none", "byo-zone"]


@pytest.mark.parametrize("world", WORLDS)
def test_marked_edges_only_where_an_error_or_warning_stands(world: str) -> None:
    j = judged(world)
    assert j.graph is not None
    well_formed(j.graph)
    alarms = {f.severity for f in j.findings if f.id not in ("DNS015", "DNS016", "AZ001", "AZ002", "AZ003")}
    failed = [e for e in j.graph.edges if e.status is Status.FAIL]
    assert bool(failed) == (Severity.ERROR in alarms), (world, [f.id for f in j.findings], failed)


# ---------------------------------------------------------------- the landing zone (aksdiag.lab.armworld, lz-*)

ON_THE_PATH = {
    "DNS011": {("azure-dns", "zone")},
    "DNS012": {("record", "endpoint"), ("zone", "record")},
    "DNS014": {("vnet", "custom-dns"), ("vnet", "firewall"), ("vnet", "resolver-inbound")},
    "DNS019": {("zone", "record")},
    "DNS023": {("azure-dns", "rule")},
    "DNS024": {("azure-dns", "rule"), ("resolver-inbound", "azure-dns")},
    "DNS025": {("azure-dns", "rule")},
    "DNS026": {("vnet", "rule")},
    "DNS027": {("vnet", "firewall")},
    "DNS028": {("firewall", "custom-dns"), ("firewall", "resolver-inbound"), ("firewall", "dns-server")},
}
"""Where each finding that breaks the path shows: the node kinds of the edge it marks."""
LZ_WORLDS = sorted(w for w in armworld.WORLDS if w.startswith("lz-"))


def landing(world: str):
    assert azure_context(world).subscriptions is not None, f"probeworlds carries the landing zone's fields for {world}"
    return judged(world)


@pytest.mark.parametrize("world", LZ_WORLDS)
def test_landing_zone_marks_exactly_the_edges_its_findings_name(world: str) -> None:
    """Every lz-* world: each path finding marks an edge of its kind with its severity, and nothing else is
    marked (a healthy landing zone has no marked edge)."""
    j = landing(world)
    graph = j.graph
    assert graph is not None
    well_formed(graph)
    on_path = [f for f in j.findings if f.id in ON_THE_PATH and f.severity is not Severity.INFO]
    for f in on_path:
        status = Status.FAIL if f.severity is Severity.ERROR else Status.WARN
        hits = [e for e in marked(graph) if kinds(graph, e) in ON_THE_PATH[f.id] and e.status is status]
        assert hits, (f.id, [(kinds(graph, e), e.label, e.status.value) for e in marked(graph)])
    allowed = set().union(*(ON_THE_PATH[f.id] for f in on_path)) if on_path else set()
    assert all(kinds(graph, e) in allowed for e in marked(graph)), [f.id for f in j.findings]


def test_lz_healthy_and_inbound_unlinked() -> None:
    assert marked(landing("lz-healthy").graph) == []  # type: ignore[arg-type]
    graph = landing("lz-inbound-unlinked").graph
    assert graph is not None
    (broken,) = marked(graph)
    assert (kinds(graph, broken), broken.label, broken.status) == (("azure-dns", "zone"), "no link", Status.FAIL)
    assert graph.node(broken.source).label == "Azure DNS in vnet-hub"  # type: ignore[union-attr]


def test_lz_second_stale_draws_the_jump_box_zone_from_its_own_vnet() -> None:
    graph = landing("lz-second-stale").graph
    assert graph is not None
    (broken,) = marked(graph)
    assert kinds(graph, broken) == ("record", "endpoint")
    assert graph.node(broken.target).label == "pe-aks-lab-jumpbox 10.50.0.5"  # type: ignore[union-attr]
    starts = [n.label for n in graph.nodes if n.kind == "vnet"]
    assert starts == ["vnet-aks", "vnet-jumpbox"], "the jump box's VNet asks its own zone"


# ---------------------------------------------------------------- the landing zone from its raw bodies
# (test_forwarding's builder: the REST shapes of resolvers, rulesets, firewalls and policies, until probeworlds
# reads the lz-* worlds' own)


def lz_graph(**world: object) -> tuple[Graph, list[str]]:
    from test_forwarding import judge
    from test_forwarding import world as build

    j = judge(build(**world))  # type: ignore[arg-type]
    assert j.graph is not None
    well_formed(j.graph)
    return j.graph, sorted(f.id for f in j.findings if f.severity is not Severity.INFO)


def steps(graph: Graph) -> list[tuple[str, str, str, str]]:
    """(source kind, label, target kind, status) of every edge, in order."""
    return [(*kinds(graph, e)[:1], e.label, kinds(graph, e)[1], e.status.value) for e in graph.edges]


def test_lz_healthy_firewall_proxy_to_azure_dns_in_the_hub() -> None:
    graph, codes = lz_graph()
    assert codes == [] and marked(graph) == []
    assert steps(graph)[:3] == [
        ("vnet", "DNS server (peering Connected)", "firewall", "ok"),
        ("firewall", "proxy forwards", "azure-dns", "ok"),
        ("azure-dns", "link link-vnet-hub", "zone", "ok"),
    ]
    assert graph.node(graph.edges[0].target).label.startswith("afw-hub 10.1.1.4")  # type: ignore[union-attr]


def test_lz_resolver_and_inbound_unlinked() -> None:
    from aksdiag.lab.armworld import landing as L

    graph, codes = lz_graph(spoke_dns=(L.INBOUND_IP,))
    assert codes == [] and marked(graph) == []
    assert steps(graph)[1] == ("resolver-inbound", "answers from its VNet", "azure-dns", "ok")
    graph, codes = lz_graph(spoke_dns=(L.INBOUND_IP,), zone_links=())
    assert codes == ["DNS011"]
    (broken,) = marked(graph)
    assert (kinds(graph, broken), broken.label, broken.status) == (("azure-dns", "zone"), "no link", Status.FAIL)


def test_lz_proxy_off_fails_the_edge_into_the_firewall() -> None:
    graph, codes = lz_graph(proxy=False)
    assert codes == ["DNS027"]
    (broken,) = marked(graph)
    assert kinds(graph, broken) == ("vnet", "firewall") and broken.status is Status.FAIL
    assert graph.node(broken.target).status is Status.FAIL  # type: ignore[union-attr]
    assert broken is graph.edges[-1], "the proxy drops the query: nothing past the firewall"


def test_lz_proxy_servers_warns_on_the_random_choice() -> None:
    from aksdiag.lab.armworld import landing as L

    graph, codes = lz_graph(proxy_servers=("10.1.0.4", L.INBOUND_IP))
    assert codes == ["DNS028"]
    random = [e for e in graph.edges if "at random" in e.label]
    assert len(random) == 2 and all(e.status is Status.WARN for e in random)
    assert not [e for e in graph.edges if e.status is Status.FAIL]


def test_lz_parent_rule_fails_the_rule_edge() -> None:
    from test_forwarding import CORP, ONPREM

    from aksdiag.lab.armworld import landing as L

    parent = ("parent", "koreacentral.azmk8s.io.", (ONPREM,), True)
    graph, codes = lz_graph(spoke_dns=(), rules=[CORP, parent], rs_links=(L.SPOKE_VNET,))
    assert codes == ["DNS023"]
    (broken,) = marked(graph)
    assert (kinds(graph, broken), broken.label, broken.status) == (("azure-dns", "rule"), "ruleset rule", Status.FAIL)
    assert graph.node(graph.edges[-1].target).label == f"{ONPREM}: beyond the VNets read (on-premises?)"  # type: ignore[union-attr]


def test_lz_disabled_rule_is_drawn_where_it_sits() -> None:
    from test_forwarding import CORP, ONPREM, zone_rule

    from aksdiag.lab.armworld import landing as L

    parent = ("parent", "koreacentral.azmk8s.io.", (ONPREM,), True)
    graph, codes = lz_graph(spoke_dns=(), rules=[CORP, parent, zone_rule(enabled=False)], rs_links=(L.SPOKE_VNET,))
    assert codes == ["DNS025"]
    disabled = next(e for e in graph.edges if e.label == "rule Disabled")
    assert kinds(graph, disabled) == ("azure-dns", "rule") and disabled.status is Status.FAIL


def test_lz_ruleset_conflict_draws_the_bypassed_rule_as_a_warning() -> None:
    from test_forwarding import ONPREM, zone_rule

    from aksdiag.lab.armworld import landing as L

    graph, codes = lz_graph(spoke_dns=(L.INBOUND_IP,), spoke_rules=[zone_rule((ONPREM,))], rs_links=(L.HUB_VNET,))
    assert codes == ["DNS026"]
    (warned,) = marked(graph)
    assert (kinds(graph, warned), warned.status) == (("vnet", "rule"), Status.WARN)
    assert "bypassed" in warned.label


def test_lz_rule_loop_fails_the_rule_and_the_way_back() -> None:
    from test_forwarding import CORP, zone_rule

    from aksdiag.lab.armworld import landing as L

    graph, codes = lz_graph(spoke_dns=(), rules=[CORP, zone_rule()], rs_links=(L.SPOKE_VNET, L.HUB_VNET), zone_links=())
    assert codes == ["DNS024"]
    assert any(e.label == "loops back" and e.status is Status.FAIL for e in graph.edges)
    assert all(e.status is Status.FAIL for e in graph.edges if e.label == "ruleset rule")
