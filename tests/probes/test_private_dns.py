"""private_dns judged from ARM bodies (the lab's worlds, built from real payloads) through the probe's digest:
no network."""

from __future__ import annotations

import pytest
from aksdiag.probes import private_dns
from probeworlds import NEED, azure_context

from aksdiag import codes
from aksdiag.facts import AzureContext, AzureReadError
from aksdiag.lab import armworld
from aksdiag.lab.armworld import landing
from aksdiag.lab.scenarios import ENDPOINT_IP, FORWARD_ZONE
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
    held = {"aRecords": [{"ipv4Address": "10.224.0.4"}]}
    other["records"] = [{"id": other["id"] + "/A/" + relative, "name": relative, "properties": held}]
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


# ---------------------------------------------------------------- every private endpoint (issue 13 item 5)

JUMP_NIC = landing.rid(landing.CONNECTIVITY, landing.JUMP_RG, "networkInterfaces", "pe-aks-lab-jumpbox-nic")


def with_jump_box(ctx: AzureContext, record_ip: str = landing.JUMP_ENDPOINT_IP, peered: bool = False) -> AzureContext:
    """`ctx` plus a jump box VNet (connectivity subscription) with its own private endpoint to the cluster (from
    privateEndpointConnections) and its own zone of the cluster zone's name, linked to that VNet only."""
    nic = {
        "id": JUMP_NIC,
        "name": "pe-aks-lab-jumpbox-nic",
        "properties": {
            "ipConfigurations": [
                {
                    "name": "privateEndpointIpConfig",
                    "properties": {"privateIPAddress": landing.JUMP_ENDPOINT_IP, "subnet": {"id": landing.JUMP_SUBNET}},
                }
            ]
        },
    }
    endpoint = {
        "id": landing.JUMP_ENDPOINT,
        "name": "pe-aks-lab-jumpbox",
        "properties": {"networkInterfaces": [{"id": JUMP_NIC}], "subnet": {"id": landing.JUMP_SUBNET}},
    }
    connection = {"id": ctx.cluster["id"] + "/privateEndpointConnections/pe-aks-lab-jumpbox", "properties": {}}
    ctx.endpoints.append({"endpoint": endpoint, "nics": [nic], "connection": connection})
    zone_id, name = landing.JUMP_ZONE, FORWARD_ZONE
    relative = armworld.CLUSTER_FQDN[: -len(name) - 1]
    link = {
        "id": zone_id + "/virtualNetworkLinks/link-jumpbox",
        "name": "link-jumpbox",
        "properties": {"virtualNetwork": {"id": landing.JUMP_VNET}, "virtualNetworkLinkState": "Completed"},
    }
    record = {
        "id": f"{zone_id}/A/{relative}",
        "name": relative,
        "properties": {"aRecords": [{"ipv4Address": record_ip}]},
    }
    ctx.other_zones.append(
        {"id": zone_id, "name": name, "resource_group": landing.JUMP_RG, "zone": {"id": zone_id, "name": name},
         "links": [link], "records": [record]}
    )  # fmt: skip
    jump = {
        "id": landing.JUMP_VNET,
        "name": "vnet-jumpbox",
        "properties": {
            "addressSpace": {"addressPrefixes": [landing.JUMP_PREFIX]},
            "subnets": [{"id": landing.JUMP_SUBNET, "name": "snet-jumpbox", "properties": {}}],
            "virtualNetworkPeerings": [],
        },
    }
    if peered:
        jump["properties"]["virtualNetworkPeerings"].append(
            {"id": landing.JUMP_VNET + "/virtualNetworkPeerings/to-hub",
             "properties": {"remoteVirtualNetwork": {"id": armworld.HUB_VNET}, "peeringState": "Connected"}}
        )  # fmt: skip
    ctx.vnets[landing.JUMP_VNET.lower()] = jump
    return ctx


def test_a_second_endpoint_in_a_jump_box_vnet_with_its_own_zone_is_no_stale_record() -> None:
    ctx = with_jump_box(context("byo-zone"))
    j = judge(ctx)
    assert j.findings == (), [f.detail for f in j.findings]


def test_a_stale_record_in_the_jump_box_zone_is_dns012_on_that_zone() -> None:
    j = judge(with_jump_box(context("byo-zone"), record_ip=landing.JUMP_STALE_IP))
    assert ids(j) == ["DNS012"]
    f = j.findings[0]
    assert landing.JUMP_RG in f.detail and landing.CONNECTIVITY in f.detail and landing.JUMP_STALE_IP in f.detail
    assert f"reachable from vnet-jumpbox has {landing.JUMP_ENDPOINT_IP}" in f.detail
    assert f.command and f"--resource-group {landing.JUMP_RG} --zone-name" in f.command
    assert f"--ipv4-address {landing.JUMP_ENDPOINT_IP} --subscription {landing.CONNECTIVITY}" in f.command
    assert f"remove-record --resource-group {landing.JUMP_RG}" in f.command and landing.JUMP_STALE_IP in f.command
    assert f.evidence["zone"] == landing.JUMP_ZONE


def test_the_jump_box_zone_holding_the_node_endpoint_it_cannot_reach_is_stale() -> None:
    j = judge(with_jump_box(context("byo-zone"), record_ip=ENDPOINT_IP))
    assert ids(j) == ["DNS012"] and "10.50.0.5" in j.findings[0].detail, "vnet-jumpbox is peered with nothing"


def test_the_cluster_zone_must_hold_an_endpoint_its_linked_vnets_reach() -> None:
    ctx = with_jump_box(context("byo-zone"))
    ctx.zone["records"][0]["properties"]["aRecords"] = [{"ipv4Address": landing.JUMP_ENDPOINT_IP}]
    j = judge(ctx)
    assert ids(j) == ["DNS012"], "the jump box's endpoint is not reachable from vnet-aks or vnet-hub"
    assert "reachable from vnet-aks, vnet-hub has 10.224.0.4" in j.findings[0].detail
    ctx = with_jump_box(context("byo-zone"), peered=True)  # peered with the hub: both endpoints are reachable
    ctx.zone["records"][0]["properties"]["aRecords"] = [{"ipv4Address": landing.JUMP_ENDPOINT_IP}]
    assert judge(ctx).findings == ()


def test_a_zone_linked_to_nothing_accepts_any_endpoint_address() -> None:
    ctx = with_jump_box(context("byo-zone"))
    ctx.zone["links"] = []
    ctx.zone["records"][0]["properties"]["aRecords"] = [{"ipv4Address": landing.JUMP_ENDPOINT_IP}]
    assert "DNS012" not in ids(judge(ctx)), "no VNet asks it: the missing link is DNS011's, not a stale record"


def test_a_more_specific_zone_on_the_path_with_a_stale_record_is_dns012_not_dns019() -> None:
    ctx = context("shadowed")
    other = ctx.other_zones[0]
    relative = armworld.CLUSTER_FQDN[: -len(other["name"]) - 1]
    stale = {"aRecords": [{"ipv4Address": "10.224.0.9"}]}
    other["records"] = [{"id": other["id"] + "/A/" + relative, "name": relative, "properties": stale}]
    j = judge(ctx)
    assert ids(j) == ["DNS012"]
    f = j.findings[0]
    assert "rg-old" in f.detail and "10.224.0.9" in f.detail and "--resource-group rg-old" in (f.command or "")


def test_dns019_names_the_other_zones_subscription() -> None:
    f = judge(context("shadowed")).findings[0]
    assert f.id == "DNS019" and f"subscription {armworld.SUBSCRIPTION}" in f.detail
    assert f.command and f.command.endswith(f"--subscription {armworld.SUBSCRIPTION}")


def test_a_same_name_zone_answers_a_vnet_the_cluster_zone_is_not_linked_to() -> None:
    """Judged by what it does, not its name: the jump box zone linked to the hub (the cluster zone is not) answers
    the hub's DNS server; without the record that is DNS019, with a stale one DNS012."""
    ctx = with_jump_box(context("byo-zone"))
    ctx.zone["links"] = [link for link in ctx.zone["links"] if "link-hub" not in link["id"]]
    jump_zone = ctx.other_zones[-1]
    jump_zone["links"][0]["properties"]["virtualNetwork"]["id"] = armworld.HUB_VNET
    jump_zone["records"] = []
    found = judge(ctx).findings
    assert [f.id for f in found if f.id != "DNS011"] == ["DNS019"]
    assert "answers there instead of" in next(f.detail for f in found if f.id == "DNS019")


# ---------------------------------------------------------------- roles by definition (issue 13 item 6)

ROLE_DEFS = "/providers/Microsoft.Authorization/roleDefinitions/"


def definition(guid: str, name: str, actions: list[str], not_actions: list[str] | None = None, custom: bool = False):
    return {
        "id": f"/subscriptions/{landing.CONNECTIVITY}{ROLE_DEFS}{guid}",
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "type": "CustomRole" if custom else "BuiltInRole",
            "permissions": [
                {"actions": actions, "notActions": not_actions or [], "dataActions": [], "notDataActions": []}
            ],
        },
    }


NETWORK_CONTRIBUTOR = definition(
    "4d97b98b-1d4f-4787-a291-c67834d212e7", "Network Contributor",
    ["Microsoft.Authorization/*/read", "Microsoft.Network/*", "Microsoft.Resources/deployments/*"],
)  # fmt: skip


def with_custom_zone_role(actions: list[str], not_actions: list[str] | None = None, user_assigned: bool = True):
    """byo-zone, the identity's zone role a custom role (CUSTOM_ROLE) with `actions`; a user-assigned identity."""
    ctx = context("byo-zone")
    zone_scope = next(s for s in ctx.role_assignments if "privateDnsZones" in s)
    for a in ctx.role_assignments[zone_scope]:
        a["properties"]["roleDefinitionId"] = f"/subscriptions/{landing.CONNECTIVITY}{ROLE_DEFS}{landing.CUSTOM_ROLE}"
    ctx.role_definitions.update({
        landing.CUSTOM_ROLE: definition(landing.CUSTOM_ROLE, "DNS zone writer", actions, not_actions, custom=True),
        "4d97b98b-1d4f-4787-a291-c67834d212e7": NETWORK_CONTRIBUTOR,
    })  # fmt: skip
    if user_assigned:
        ctx.cluster["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {landing.IDENTITY: {}}}
        ctx.identities[landing.IDENTITY.lower()] = {
            "id": landing.IDENTITY,
            "name": "id-aks-lab",
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "properties": {"principalId": landing.IDENTITY_PRINCIPAL, "clientId": "c1", "tenantId": "t"},
        }
    return ctx, zone_scope


def test_dns015_a_custom_role_granting_private_dns_zones_star_is_enough() -> None:
    ctx, _ = with_custom_zone_role(["Microsoft.Network/privateDnsZones/*"])
    j = judge(ctx)
    assert j.findings == () and j.unread == ()


def test_dns015_a_custom_role_granting_only_read_names_the_user_assigned_principal() -> None:
    ctx, scope = with_custom_zone_role(["Microsoft.Network/privateDnsZones/read"])
    j = judge(ctx)
    assert ids(j) == ["DNS015"]
    f = j.findings[0]
    assert "DNS zone writer (custom)" in f.detail and "Microsoft.Network/privateDnsZones/A/write" in f.detail
    assert "Microsoft.Network/privateDnsZones/read," not in f.detail, "what it grants is not listed as missing"
    assert f.command == (
        f"az role assignment create --assignee-object-id {landing.IDENTITY_PRINCIPAL} --assignee-principal-type "
        f'ServicePrincipal --role "Private DNS Zone Contributor" --scope {scope}'
    )


def test_dns015_not_actions_take_away_what_the_wildcard_grants() -> None:
    ctx, _ = with_custom_zone_role(["Microsoft.Network/privateDnsZones/*"], ["Microsoft.Network/privateDnsZones/A/*"])
    j = judge(ctx)
    assert ids(j) == ["DNS015"] and "privateDnsZones/A/write" in j.findings[0].detail


def test_dns015_a_definition_that_was_not_read_is_not_guessed_at() -> None:
    ctx, _ = with_custom_zone_role(["Microsoft.Network/privateDnsZones/read"])
    del ctx.role_definitions[landing.CUSTOM_ROLE]
    j = judge(ctx)
    assert j.findings == ()
    assert len(j.unread) == 1 and landing.CUSTOM_ROLE in j.unread[0] and "not judged" in j.unread[0]


def test_dns015_a_definition_read_that_failed_is_az001_alone() -> None:
    ctx, _ = with_custom_zone_role(["Microsoft.Network/privateDnsZones/read"])
    del ctx.role_definitions[landing.CUSTOM_ROLE]
    rid = f"/subscriptions/{landing.CONNECTIVITY}{ROLE_DEFS}{landing.CUSTOM_ROLE}"
    denied = AzureReadError(rid, 403, "AuthorizationFailed", "no", "Microsoft.Authorization/roleDefinitions/read")
    ctx = AzureContext(**{**ctx.__dict__, "errors": (denied,)})
    j = judge(ctx)
    assert ids(j) == ["AZ001"] and j.unread == ()


def test_dns015_the_vnet_role_is_judged_by_its_definition_too() -> None:
    ctx, _ = with_custom_zone_role(["Microsoft.Network/privateDnsZones/*"])
    ctx.role_definitions["4d97b98b-1d4f-4787-a291-c67834d212e7"] = definition(
        "4d97b98b-1d4f-4787-a291-c67834d212e7", "Network Contributor", ["Microsoft.Network/virtualNetworks/read"]
    )
    j = judge(ctx)
    assert ids(j) == ["DNS015"] and "subnets/join/action" in j.findings[0].detail
    assert '--role "Network Contributor"' in (j.findings[0].command or "")


def test_dns015_with_no_principal_read_the_command_looks_it_up() -> None:
    ctx, _ = with_custom_zone_role(["Microsoft.Network/privateDnsZones/read"])
    ctx.identities[landing.IDENTITY.lower()]["properties"] = {}
    f = judge(ctx).findings[0]
    assert f"--assignee-object-id $(az identity show --ids {landing.IDENTITY} --query principalId -o tsv)" in (
        f.command or ""
    )
    assert "<" not in (f.command or ""), "never a placeholder"


def test_dns015_the_principal_from_the_clusters_body_when_the_identity_resource_was_not_read() -> None:
    ctx, _ = with_custom_zone_role(["Microsoft.Network/privateDnsZones/read"])
    ctx.identities.clear()
    ctx.cluster["identity"]["userAssignedIdentities"][landing.IDENTITY] = {"principalId": landing.IDENTITY_PRINCIPAL}
    f = judge(ctx).findings[0]
    assert f.command and f"--assignee-object-id {landing.IDENTITY_PRINCIPAL} " in f.command


def test_dns015_not_judged_on_a_zone_that_is_gone() -> None:
    ctx, scope = with_custom_zone_role(["Microsoft.Network/privateDnsZones/read"])
    gone = AzureReadError(scope, 404, "ResourceNotFound", "The Resource was not found.")
    ctx = AzureContext(**{**ctx.__dict__, "errors": (gone,), "zone": None})
    assert ids(judge(ctx)) == ["AZ002"], "the zone is missing: that is AZ002, not a role it lacks"


# ---------------------------------------------------------------- the landing-zone worlds (aksdiag.lab.armworld.enterprise)


def lz_context(world: str) -> AzureContext:
    """probeworlds' context of an lz-* world: the landing-zone fields as the Azure source fills them."""
    return azure_context(world)


@pytest.mark.parametrize(
    ("world", "expected"),
    [
        ("lz-healthy", []),
        ("lz-second-endpoint", []),
        ("lz-second-stale", ["DNS012"]),
        ("lz-custom-role", []),
        ("lz-custom-role-read", ["DNS015"]),
    ],
)
def test_landing_zone_worlds(world: str, expected: list[str]) -> None:
    j = judge(lz_context(world))
    assert [f.id for f in j.findings if f.severity is not Severity.INFO] == expected, [f.detail for f in j.findings]
    assert j.unread == ()


def test_lz_second_stale_names_the_jump_box_zone() -> None:
    (f,) = judge(lz_context("lz-second-stale")).findings
    assert f.evidence["zone"] == landing.JUMP_ZONE and f.evidence["endpoint_ips"] == [landing.JUMP_ENDPOINT_IP]
    assert f"resource group {landing.JUMP_RG}, subscription {landing.CONNECTIVITY}" in f.detail


def test_lz_custom_role_read_names_the_identity_principal() -> None:
    (f,) = judge(lz_context("lz-custom-role-read")).findings
    assert f.command and f"--assignee-object-id {landing.IDENTITY_PRINCIPAL} " in f.command
    assert f"--scope {landing.ZONE}" in f.command and "privateDnsZones/A/write" in f.detail


def test_no_dns012_on_a_zone_that_is_gone() -> None:
    ctx = context("byo-zone")
    gone = AzureReadError(ctx.zone["id"], 404, "ResourceNotFound", "The Resource was not found.")
    ctx.zone["records"] = []
    ctx = AzureContext(**{**ctx.__dict__, "errors": (gone,)})
    assert "DNS012" not in ids(judge(ctx)), "AZ002 says the zone is missing; its record is not also 'missing'"
