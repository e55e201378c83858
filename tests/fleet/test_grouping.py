"""fleet.grouping from real findings (the fleet's probes on the lab's worlds, transplanted to many clusters): a hub's
fault on many clusters is one group naming the hub; two hubs are two groups; causes of each cluster's own are not
merged by what they merely look at; a healthy fleet has no group; the order is worst, largest, code."""

from __future__ import annotations

from aksdiag import codes
from aksdiag.fleet import grouping
from aksdiag.fleet.model import FleetCluster
from aksdiag.model import Severity
from tests.fleet.fleetclusters import APP_DEV, APP_PROD, CONN, NAMES, cluster, hub_vnet


def by_code(groups: list, code: str) -> list:
    return [g for g in groups if g.code == code]


def test_a_hub_fault_on_clusters_in_two_subscriptions_is_one_group_naming_the_hub() -> None:
    broken = [cluster("hub-not-linked", i, APP_PROD if i % 2 else APP_DEV) for i in range(1, 7)]
    healthy = [cluster("healthy", i) for i in range(7, 11)]
    (group,) = grouping.groups(broken + healthy, NAMES)
    assert group.code == "DNS011" and group.severity is Severity.ERROR and group.title == codes.DNS011.title
    assert group.clusters == tuple(c.id for c in broken)
    assert group.shared == (hub_vnet(),), "the hub VNet, not the spokes the zones link to (context, not cause)"
    assert set(group.subscriptions) == {APP_PROD, APP_DEV}
    assert "VNet vnet-hub in subscription conn-prod-weu" in group.cause and "in 2 subscriptions" in group.cause
    assert "e.g. aks-01:" in group.cause and "/subscriptions/" not in group.cause, "ids shortened to names"
    # each cluster's own zone must be linked: one fix per cluster, so the catalogue's fix, with aks-01's as example
    assert (
        group.remediation.startswith(codes.DNS011.fix) and "For aks-01: Link the private DNS zone" in group.remediation
    )


def test_one_shared_cause_keeps_the_findings_own_remediation() -> None:
    """IP004 on two clusters whose remediations read the same: that text is the group's fix as it is."""
    clusters = [cluster("subnet-full", i) for i in (1, 2)]
    (group,) = grouping.groups(clusters, NAMES)
    assert group.remediation == clusters[0].report.findings[0].remediation


def test_two_hubs_are_two_groups_and_no_cluster_is_in_both() -> None:
    a = [cluster("hub-not-linked", i) for i in range(1, 5)]
    b = [cluster("hub-not-linked", i, hub="b") for i in range(5, 7)]
    groups = grouping.groups(a + b, NAMES)
    assert [(g.code, len(g.clusters)) for g in groups] == [("DNS011", 4), ("DNS011", 2)]
    assert groups[0].shared == (hub_vnet(),) and groups[1].shared == (hub_vnet("b"),)
    assert "conn-prod-neu" in groups[1].cause and "all in subscription app-prod" in groups[1].cause
    assert not set(groups[0].clusters) & set(groups[1].clusters)


def test_own_causes_are_not_merged_by_the_vnets_they_were_seen_from() -> None:
    """DNS012's evidence lists the VNets the zone is seen from (the hub among them): each cluster's record is its
    own fault, so one group 'each its own cause' with no shared resource."""
    stale = [cluster("record-stale", i) for i in range(1, 4)]
    (group,) = grouping.groups(stale, NAMES)
    assert group.code == "DNS012" and group.shared == () and len(group.clusters) == 3
    assert group.cause.startswith("each its own cause; clusters all in subscription app-prod. e.g. aks-01:")
    assert group.remediation.startswith(codes.DNS012.fix) and "aks-01" in group.remediation


def test_every_cluster_once_per_code_and_each_code_on_exactly_its_clusters() -> None:
    fleet = (
        [cluster("hub-not-linked", i) for i in range(1, 4)]
        + [cluster("hub-not-linked", 4, hub="b")]  # alone on its hub: nothing shared with another cluster
        + [cluster("peering-down", i) for i in (5, 6)]  # two DNS014 findings each (both directions)
        + [cluster("state-stopped", i) for i in (7, 8)]
        + [cluster("egress-route-none", 9), cluster("subnet-full", 10), cluster("healthy", 11)]
    )
    groups = grouping.groups(fleet, NAMES)
    for code in {f.id for c in fleet for f in c.report.findings if f.severity is not Severity.INFO}:
        members = [cid for g in by_code(groups, code) for cid in g.clusters]
        assert sorted(members) == sorted(c.id for c in fleet if code in c.codes()), code
        assert len(members) == len(set(members)), f"{code}: a cluster in two groups"
    dns011 = by_code(groups, "DNS011")
    assert [len(g.clusters) for g in dns011] == [3, 1] and dns011[1].shared == ()
    assert dns011[1].cause.startswith("its own cause: aks-04 in subscription app-prod: ")
    (peering,) = by_code(groups, "DNS014")
    assert peering.shared == (hub_vnet(),) and len(peering.clusters) == 2
    assert [g.code for g in by_code(groups, "CL001")] == ["CL001"]
    assert all(cluster_id not in g.clusters for g in groups for cluster_id in [fleet[-1].id])


def test_order_is_error_before_warning_then_count_then_code() -> None:
    fleet = (
        [cluster("lz-denied-sub", i) for i in range(1, 6)]  # AZ001 warnings on five clusters
        + [cluster("state-stopped", i) for i in (6, 7)]
        + [cluster("subnet-full", i) for i in (8, 9)]
        + [cluster("record-stale", i) for i in (10, 11, 12)]
    )
    groups = grouping.groups(fleet, NAMES)
    assert [(g.code, len(g.clusters)) for g in groups] == [("DNS012", 3), ("CL001", 2), ("IP004", 2), ("AZ001", 5)]
    assert groups[-1].severity is Severity.WARNING
    assert groups[-1].shared, "the unreadable connectivity subscription's resources are what the five share"
    assert all(grouping.subscription_of(s) == "11111111-2222-4333-8444-555555555555" for s in groups[-1].shared)
    named = groups[-1].cause.split(";")[0]
    assert named.count("subscription") == 1, f"the subscription is said once, after its resources: {named}"


def test_a_healthy_fleet_has_no_group() -> None:
    assert grouping.groups([cluster("healthy", i) for i in range(1, 6)], NAMES) == []
    assert grouping.groups([], NAMES) == []


def test_the_clusters_own_resources_are_not_a_shared_cause() -> None:
    """Two clusters in one resource group share it and its VNet: that is their own, not a cause across a fleet."""
    one = cluster("egress-route-none", 1)
    two = cluster("egress-route-none", 2)
    assert grouping.rests_on(one, one.report.findings) == set()
    same_rg = FleetCluster(two.id.replace("rg-aks-02", "rg-aks-01"), two.name, two.subscription, "rg-aks-01",
                           two.location, one.report)  # fmt: skip
    (group,) = grouping.groups([one, same_rg], NAMES)
    assert group.shared == () and group.cause.startswith("each its own cause")


def test_node_resource_group_and_names() -> None:
    c = cluster("record-stale", 3)
    node = f"/subscriptions/{APP_PROD}/resourcegroups/mc_rg-aks-03_aks-03_koreacentral"
    assert node in grouping.own_scopes(c)
    assert grouping.name_of(hub_vnet() + "/subnets/snet-dns") == "subnet vnet-hub/snet-dns"
    assert grouping.name_of(hub_vnet()) == "VNet vnet-hub"
    assert grouping.name_of(f"/subscriptions/{CONN['']}") == f"subscription {CONN['']}"
    assert grouping.shorten(f"{hub_vnet()} (DNS server 10.1.0.4 lives there) is down.") == (
        "vnet-hub (DNS server 10.1.0.4 lives there) is down."
    )
    assert grouping.shorten(f"in subscription {APP_PROD.upper()}", NAMES) == "in subscription app-prod"
    assert list(grouping._in_text(f"Link it to vnet-hub: {hub_vnet()}.")) == [hub_vnet()]
