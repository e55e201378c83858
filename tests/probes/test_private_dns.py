"""private_dns judged from ARM bodies (the lab's worlds, built from real payloads) through the probe's digest:
no network."""

from __future__ import annotations

import pytest
from aksdiag.probes import private_dns
from probeworlds import NEED, azure_context

from aksdiag import codes
from aksdiag.facts import AzureContext, AzureReadError
from aksdiag.lab import armworld
from aksdiag.model import Severity, Status
from aksdiag.probe import Skip
from aksdiag.settings import Settings


def context(world: str, errors: tuple[AzureReadError, ...] = (), drop: str = "") -> AzureContext:
    """The AzureContext the source would read from `world` (bodies by type, as ARM serves them)."""
    return azure_context(world, errors=errors, drop=drop)


def judge(ctx: AzureContext):
    return private_dns.judge("", Settings(azure=NEED), {NEED: ctx})


def ids(judgement) -> list[str]:
    return [f.id for f in judgement.findings]


def test_without_azure_context_the_probe_is_skipped_with_the_reason() -> None:
    with pytest.raises(Skip, match="--cluster"):
        private_dns.plan("x", Settings(), {})


def test_healthy_world_raises_nothing() -> None:
    j = judge(context("healthy"))
    assert j.findings == ()
    assert [h.kind for h in j.hops] == ["cluster", "vnet-dns", "private-zone", "record", "endpoint"]
    assert all(h.status is Status.OK for h in j.hops)
    assert j.hops[-1].answers == ("10.224.0.4",)


def test_dns011_zone_not_linked_to_the_dns_server_vnet() -> None:
    j = judge(context("hub-not-linked"))
    assert ids(j) == ["DNS011"]
    f = j.findings[0]
    assert f.title == codes.DNS011.title and f.severity is Severity.ERROR
    assert "vnet-hub" in f.remediation and "10.1.0.4" in f.detail
    assert f.command and f"--zone-name {armworld.CLUSTER_ZONE}" in f.command and "vnet-hub" in f.command


def test_dns011_cluster_vnet_using_azure_dns_must_be_linked() -> None:
    ctx = context("hub-not-linked")
    spoke = ctx.vnets[armworld.AKS_VNET.lower()]
    spoke["properties"]["dhcpOptions"]["dnsServers"] = []
    ctx.zone["links"] = [link for link in ctx.zone["links"] if "link-aks" not in link["id"]]
    j = judge(ctx)
    assert ids(j) == ["DNS011"] and "uses Azure DNS" in j.findings[0].detail


def test_dns012_stale_record() -> None:
    j = judge(context("record-stale"))
    assert ids(j) == ["DNS012"]
    f = j.findings[0]
    assert "10.224.0.9" in f.detail and "10.224.0.4" in f.detail
    assert f.command and "--ipv4-address 10.224.0.4" in f.command


def test_dns012_missing_record() -> None:
    ctx = context("healthy")
    ctx.zone["records"] = []
    j = judge(ctx)
    assert ids(j) == ["DNS012"] and "has no A record" in j.findings[0].detail


def test_dns014_peering_not_connected_both_ways() -> None:
    j = judge(context("peering-down"))
    assert ids(j) == ["DNS014", "DNS014"]
    assert {f.remediation for f in j.findings} == {
        "Repair the peering between vnet-aks and vnet-hub (both directions must be Connected).",
        "Repair the peering between vnet-hub and vnet-aks (both directions must be Connected).",
    }


def test_dns016_byo_zone_for_another_region() -> None:
    j = judge(context("bad-zone-name"))
    assert "DNS016" in ids(j)
    f = next(f for f in j.findings if f.id == "DNS016")
    assert "eastus" in f.detail and "koreacentral" in f.detail
    assert "privatelink.koreacentral.azmk8s.io" in f.remediation


@pytest.mark.parametrize(
    ("zone", "vnet_integration", "problem"),
    [
        ("privatelink.koreacentral.azmk8s.io", False, None),
        ("team-a.privatelink.koreacentral.azmk8s.io", False, None),
        ("private.koreacentral.azmk8s.io", True, None),
        ("privatelink.koreacentral.azmk8s.io", True, "not for VNet-integrated"),
        ("x" * 33 + ".privatelink.koreacentral.azmk8s.io", False, "longer than 32"),
        ("contoso.internal", False, "not of the form"),
    ],
)
def test_dns016_zone_name_rules(zone: str, vnet_integration: bool, problem: str | None) -> None:
    ctx = context("healthy")
    zone_id = f"/subscriptions/{armworld.SUBSCRIPTION}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/{zone}"
    ctx = AzureContext(**{**ctx.__dict__, "zone_mode": zone_id})
    ctx.cluster["properties"]["apiServerAccessProfile"]["enableVnetIntegration"] = vnet_integration
    found = [f for f in judge(ctx).findings if f.id == "DNS016"]
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0].detail


def test_dns019_a_leftover_more_specific_zone_linked_to_the_hub_shadows_the_name() -> None:
    j = judge(context("shadowed"))
    assert ids(j) == ["DNS019"]
    f = j.findings[0]
    assert "vnet-hub" in f.detail and "resolution policy Default" in f.detail and "Completed" in f.detail
    assert f.command and "--resource-group rg-old" in f.command and "link-hub-old" in f.command


def test_dns019_not_raised_when_the_other_zone_holds_the_record_or_is_less_specific() -> None:
    ctx = context("shadowed")
    other = ctx.other_zones[0]
    relative = armworld.CLUSTER_FQDN[: -len(other["name"]) - 1]
    other["records"] = [{"id": other["id"] + "/A/" + relative, "name": relative, "properties": {}}]
    assert judge(ctx).findings == ()
    ctx = context("healthy")  # the cluster's own zone is the most specific: a broader linked zone cannot shadow it
    broad = {**ctx.zone, "id": ctx.zone["id"] + "-broad", "name": "privatelink.koreacentral.azmk8s.io", "records": []}
    ctx.other_zones.append(broad)
    assert judge(ctx).findings == ()


def test_byo_zone_with_its_roles_is_healthy() -> None:
    assert judge(context("byo-zone")).findings == ()


def test_dns015_identity_lacks_private_dns_zone_contributor_on_a_byo_zone() -> None:
    j = judge(context("missing-role"))
    assert ids(j) == ["DNS015"]
    f = j.findings[0]
    assert "Private DNS Zone Contributor" in f.remediation and "privatelink.koreacentral.azmk8s.io" in f.detail
    assert f.command and "--assignee-object-id 00000000-0000-0000-0000-000000000001" in f.command


def test_dns015_a_custom_role_is_not_judged() -> None:
    ctx = context("missing-role")
    zone_scope = next(s for s in ctx.role_assignments if "privateDnsZones" in s)
    custom = {"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/custom-guid"}}
    ctx.role_assignments[zone_scope] = [custom]
    assert judge(ctx).findings == (), "a custom role may grant the permission: aksdiag says nothing it cannot see"


def test_az001_a_403_leaves_its_checks_out_and_names_the_action() -> None:
    denied = AzureReadError(
        "/scope/zone", 403, "AuthorizationFailed", "no", "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read"
    )
    j = judge(context("hub-not-linked", errors=(denied,), drop="links"))
    assert ids(j) == ["AZ001"], "no DNS011 guessed from links that could not be read"
    assert "virtualNetworkLinks/read on /scope/zone" in j.findings[0].remediation
    assert next(h for h in j.hops if h.kind == "private-zone").status is Status.SKIPPED


def test_az002_missing_cluster() -> None:
    missing = AzureReadError(NEED.cluster_id, 404, "ResourceNotFound", "not found")
    j = judge(AzureContext(need=NEED, errors=(missing,)))
    assert ids(j) == ["AZ002"] and j.findings[0].severity is Severity.ERROR and j.hops == ()
