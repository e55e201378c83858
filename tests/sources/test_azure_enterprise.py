"""The Azure source in a landing zone: the real SDK clients against the fake ARM serving two subscriptions.

The worlds here are built from the seed-000 BYO-zone world with the hub VNet and the zone's resource group moved to
the connectivity subscription, plus the enterprise resources (firewall and policy, resolver and endpoints, ruleset
with rules and links, the DNS VM and its NIC, a jump box's private endpoint connection, role definitions, a
user-assigned identity), in the REST shapes Azure returns. Each read must go to the subscription in the resource's
id: a read sent to the wrong one is a 404 ResourceGroupNotFound from the fake ARM, which these tests would see.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aksdiag.facts import AzureContext, AzureContextNeed
from aksdiag.lab import arm, armworld
from aksdiag.lab.armworld import landing
from aksdiag.sources import azure

WORK, CONN = landing.WORKLOAD, landing.CONNECTIVITY
NS = "Microsoft.Network"


def _move(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The seed-000 BYO-zone world with rg-hub and rg-dns in the connectivity subscription."""
    text = json.dumps(bodies)
    for rg in ("rg-hub", "rg-dns"):
        text = re.sub(f"/subscriptions/{WORK}/resourceGroups/{rg}/", f"/subscriptions/{CONN}/resourceGroups/{rg}/",
                      text, flags=re.IGNORECASE)  # fmt: skip
    moved: list[dict[str, Any]] = json.loads(text)
    return moved


def _cluster(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    return next(b for b in bodies if "/managedclusters/" in b["id"].lower())


def _vnet(bodies: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(b for b in bodies if b["id"].lower().endswith("/virtualnetworks/" + name))


def _nic(nic_id: str, ip: str, subnet: str, vm: str | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"ipConfigurations": [{"name": "ipconfig1", "id": f"{nic_id}/ipConfigurations/ipconfig1",
                         "properties": {"privateIPAddress": ip, "subnet": {"id": subnet}}}]}  # fmt: skip
    if vm:
        p["virtualMachine"] = {"id": vm}
    return {"id": nic_id, "name": nic_id.rsplit("/", 1)[-1], "type": f"{NS}/networkInterfaces", "properties": p}


def _role_definition(guid: str, name: str, actions: list[str]) -> dict[str, Any]:
    return {"id": f"/subscriptions/{WORK}/providers/Microsoft.Authorization/roleDefinitions/{guid}", "name": guid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {"roleName": name, "type": "BuiltInRole", "description": name,
                           "assignableScopes": ["/"], "permissions": [{"actions": actions, "notActions": []}]}}  # fmt: skip


def world(dns_servers: list[str] | None = None, user_identity: bool = False) -> list[dict[str, Any]]:
    """Two subscriptions: the cluster and spoke in WORKLOAD; hub, zone, firewall, resolver, ruleset, DNS VM and a
    jump box's private endpoint in CONNECTIVITY."""
    bodies = _move(armworld.build("byo-zone"))
    spoke = _vnet(bodies, "vnet-aks")
    spoke["properties"]["dhcpOptions"] = {"dnsServers": dns_servers or [landing.DNS_VM_IP]}
    hub = _vnet(bodies, "vnet-hub")
    cluster = _cluster(bodies)
    # the DNS VM and its NIC, the firewall and its policy
    bodies.append(_nic(landing.DNS_NIC, landing.DNS_VM_IP, hub["id"] + "/subnets/snet-dns", landing.DNS_VM))
    bodies.append({"id": landing.DNS_VM, "name": "vm-dns01", "type": "Microsoft.Compute/virtualMachines",
                   "location": "koreacentral", "properties": {"storageProfile": {
                       "imageReference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                                          "sku": "2022-datacenter"}, "osDisk": {"osType": "Windows"}}}})  # fmt: skip
    bodies.append({"id": landing.FIREWALL, "name": "afw-hub", "type": f"{NS}/azureFirewalls", "properties": {
        "ipConfigurations": [{"name": "cfg", "properties": {"privateIPAddress": landing.FIREWALL_IP,
                                                             "subnet": {"id": landing.FIREWALL_SUBNET}}}],
        "firewallPolicy": {"id": landing.FIREWALL_POLICY}}})  # fmt: skip
    bodies.append({"id": landing.FIREWALL_POLICY, "name": "afwp-hub", "type": f"{NS}/firewallPolicies",
                   "properties": {"dnsSettings": {"enableProxy": True, "servers": [landing.DNS_VM_IP]}}})  # fmt: skip
    # the resolver, its endpoints, a ruleset with a rule and links
    bodies.append({"id": landing.RESOLVER, "name": "dnspr-hub", "type": f"{NS}/dnsResolvers",
                   "location": "koreacentral", "properties": {"virtualNetwork": {"id": hub["id"]}}})  # fmt: skip
    bodies.append({"id": landing.INBOUND, "name": "in-hub", "type": f"{NS}/dnsResolvers/inboundEndpoints",
                   "location": "koreacentral", "properties": {"ipConfigurations": [
                       {"subnet": {"id": landing.INBOUND_SUBNET}, "privateIpAddress": landing.INBOUND_IP,
                        "privateIpAllocationMethod": "Static"}]}})  # fmt: skip
    bodies.append(
        {
            "id": landing.OUTBOUND,
            "name": "out-hub",
            "type": f"{NS}/dnsResolvers/outboundEndpoints",
            "location": "koreacentral",
            "properties": {"subnet": {"id": landing.OUTBOUND_SUBNET}},
        }
    )
    bodies.append({"id": landing.RULESET, "name": "rs-hub", "type": f"{NS}/dnsForwardingRulesets",
                   "location": "koreacentral",
                   "properties": {"dnsResolverOutboundEndpoints": [{"id": landing.OUTBOUND}]}})  # fmt: skip
    bodies.append({"id": landing.RULESET + "/forwardingRules/corp", "name": "corp",
                   "type": f"{NS}/dnsForwardingRulesets/forwardingRules", "properties": {
                       "domainName": "corp.contoso.com.", "forwardingRuleState": "Enabled",
                       "targetDnsServers": [{"ipAddress": landing.ONPREM_DNS_IP, "port": 53}]}})  # fmt: skip
    for vnet in (spoke, hub):
        bodies.append({"id": f"{landing.RULESET}/virtualNetworkLinks/link-{vnet['name']}", "name": f"link-{vnet['name']}",
                       "type": f"{NS}/dnsForwardingRulesets/virtualNetworkLinks",
                       "properties": {"virtualNetwork": {"id": vnet["id"]}}})  # fmt: skip
    # a jump box's own private endpoint to the cluster, in the connectivity subscription
    jump_nic = f"/subscriptions/{CONN}/resourceGroups/{landing.JUMP_RG}/providers/{NS}/networkInterfaces/pe-jump.nic"
    bodies.append(_nic(jump_nic, landing.JUMP_ENDPOINT_IP, landing.JUMP_SUBNET))
    bodies.append({"id": landing.JUMP_ENDPOINT, "name": "pe-aks-lab-jumpbox", "type": f"{NS}/privateEndpoints",
                   "properties": {"networkInterfaces": [{"id": jump_nic}], "privateLinkServiceConnections": [
                       {"name": "c", "properties": {"groupIds": ["management"],
                                                    "privateLinkServiceId": cluster["id"]}}]}})  # fmt: skip
    node_pe = next(b for b in bodies if b["id"].lower().endswith("/privateendpoints/kube-apiserver"))
    for name, pe in (("jump", landing.JUMP_ENDPOINT), ("node", node_pe["id"])):
        bodies.append({"id": f"{cluster['id']}/privateEndpointConnections/{name}", "name": name,
                       "type": "Microsoft.ContainerService/managedClusters/privateEndpointConnections",
                       "properties": {"privateEndpoint": {"id": pe}, "provisioningState": "Succeeded",
                                      "privateLinkServiceConnectionState": {"status": "Approved"}}})  # fmt: skip
    # role definitions of the assignments, an identity; a subscription body for each subscription
    bodies.append(_role_definition(armworld.PRIVATE_DNS_ZONE_CONTRIBUTOR, "Private DNS Zone Contributor",
                                   ["Microsoft.Network/privateDnsZones/*"]))  # fmt: skip
    bodies.append(_role_definition(armworld.NETWORK_CONTRIBUTOR, "Network Contributor", ["Microsoft.Network/*"]))
    for sub, name in landing.SUBSCRIPTION_NAMES.items():
        bodies.append({"id": f"/subscriptions/{sub}", "subscriptionId": sub, "displayName": name, "state": "Enabled"})
    if user_identity:  # the body names the identity without its principal id: the identity resource has it
        principal = cluster["identity"]["principalId"]
        cluster["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {landing.IDENTITY: {}}}
        bodies.append({"id": landing.IDENTITY, "name": "id-aks-lab", "location": "koreacentral",
                       "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                       "properties": {"principalId": principal, "clientId": "c1", "tenantId": arm.TENANT}})  # fmt: skip
    return bodies


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., arm.FakeArm]]:
    fakes: list[arm.FakeArm] = []

    def start(bodies: list[dict[str, Any]], faults: dict[str, Any] | None = None) -> arm.FakeArm:
        w = arm.ArmWorld()
        for body in bodies:
            w.add(body)
        w.faults = faults or {}
        fake = arm.FakeArm(w, tmp_path / "tls")
        fakes.append(fake)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        return fake

    yield start
    for f in fakes:
        f.close()


def read(fake: arm.FakeArm) -> AzureContext:
    need = AzureContextNeed(WORK, armworld.CLUSTER_RG, armworld.CLUSTER, fake.endpoint)
    return asyncio.run(azure.fetch(need))


def _in(fake: arm.FakeArm, sub: str, fragment: str) -> list[arm.Request]:
    return [r for r in fake.requests_by_subscription().get(sub.lower(), []) if fragment.lower() in r.path.lower()]


def test_every_read_goes_to_the_resources_subscription(serve) -> None:
    fake = serve(world())
    ctx = read(fake)
    assert ctx.errors == (), [e.reason for e in ctx.errors]
    assert fake.writes() == [] and all(r.method == "GET" and r.status == 200 for r in fake.requests)
    assert (
        ctx.zone and ctx.zone["zone"] and [r["name"].split(".")[0] for r in ctx.zone["records"]] == ["aks-lab-k3x9q2"]
    )
    for fragment in ("/privateDnsZones/", "/virtualNetworks/vnet-hub", "/azureFirewalls",
                     "/networkInterfaces", "/virtualMachines/vm-dns01", "/dnsResolvers", "/dnsForwardingRulesets",
                     "/privateEndpoints/pe-aks-lab-jumpbox"):  # fmt: skip
        assert _in(fake, CONN, fragment), f"{fragment} read in the connectivity subscription"
    for fragment in ("/managedClusters/", "/virtualNetworks/vnet-aks", "/privateEndpoints/kube-apiserver"):
        assert _in(fake, WORK, fragment), f"{fragment} read in the workload subscription"
    assert not _in(fake, WORK, "/resourceGroups/rg-hub") and not _in(fake, WORK, "/resourceGroups/rg-dns")
    assert _in(fake, CONN, "/privateDnsZones/" + landing.ZONE.rsplit("/", 1)[-1] + "/providers/Microsoft.Authorization")
    assert {v["name"] for v in ctx.vnets.values()} == {"vnet-aks", "vnet-hub"}
    assert [s["subscriptionId"] for s in ctx.subscriptions or []] == sorted([WORK, CONN])
    assert set(ctx.searched_subscriptions) == {WORK, CONN}


def test_the_enterprise_fields_are_filled(serve) -> None:
    ctx = read(serve(world(dns_servers=[landing.FIREWALL_IP])))
    assert ctx.errors == (), [e.reason for e in ctx.errors]
    (resolver,) = ctx.resolvers
    assert resolver["resolver"]["name"] == "dnspr-hub"
    assert [e["name"] for e in resolver["inbound"]] == ["in-hub"] and [e["name"] for e in resolver["outbound"]] == [
        "out-hub"
    ]
    (ruleset,) = ctx.rulesets
    assert [r["name"] for r in ruleset["rules"]] == ["corp"]
    assert sorted(link["name"] for link in ruleset["links"]) == ["link-vnet-aks", "link-vnet-hub"]
    (firewall,) = ctx.firewalls
    assert firewall["firewall"]["name"] == "afw-hub" and firewall["policy"]["properties"]["dnsSettings"]["enableProxy"]
    assert set(ctx.server_hosts) == {landing.DNS_VM_IP}, "the proxy's own server is looked up too"
    host = ctx.server_hosts[landing.DNS_VM_IP]
    assert host["nic"]["id"] == landing.DNS_NIC and host["vm"]["properties"]["storageProfile"]["osDisk"]["osType"] == (
        "Windows"
    )
    assert set(ctx.role_definitions) == {armworld.PRIVATE_DNS_ZONE_CONTRIBUTOR, armworld.NETWORK_CONTRIBUTOR}
    assert ctx.role_definitions[armworld.PRIVATE_DNS_ZONE_CONTRIBUTOR]["properties"]["roleName"] == (
        "Private DNS Zone Contributor"
    )


def test_custom_dns_vm_is_found_by_its_nic(serve) -> None:
    ctx = read(serve(world()))
    assert ctx.firewalls == [] and set(ctx.server_hosts) == {landing.DNS_VM_IP}
    assert ctx.server_hosts[landing.DNS_VM_IP]["vm"]["name"] == "vm-dns01"


def test_every_private_endpoint_connection_once_with_its_nics(serve) -> None:
    ctx = read(serve(world()))
    names = [e["endpoint"]["name"] for e in ctx.endpoints]
    assert names == ["kube-apiserver", "pe-aks-lab-jumpbox"], "the node RG's first, the jump box's once, no duplicate"
    assert all(e["connection"]["properties"]["privateEndpoint"]["id"] == e["endpoint"]["id"] for e in ctx.endpoints)
    ips = [c["properties"]["privateIPAddress"] for e in ctx.endpoints for n in e["nics"]
           for c in n["properties"]["ipConfigurations"]]  # fmt: skip
    assert ips == ["10.224.0.4", landing.JUMP_ENDPOINT_IP]


def test_the_principal_comes_from_the_identity_resource(serve) -> None:
    fake = serve(world(user_identity=True))
    ctx = read(fake)
    assert ctx.errors == (), [e.reason for e in ctx.errors]
    assert list(ctx.identities) == [landing.IDENTITY.lower()]
    zone_scope = next(s for s in ctx.role_assignments if "privatednszones" in s.lower())
    assert ctx.role_assignments[zone_scope], "assignments listed for the identity's principal"
    assert armworld.PRIVATE_DNS_ZONE_CONTRIBUTOR in ctx.role_definitions
    assert _in(fake, WORK, "/userAssignedIdentities/id-aks-lab")


def test_a_hidden_subscription_is_403_naming_it(serve) -> None:
    fake = serve(world(), faults={arm.HIDDEN: [CONN]})
    ctx = read(fake)
    assert ctx.cluster is not None and ctx.errors
    assert {e.status for e in ctx.errors} == {403}, "never a 404 for what lives where the identity cannot see"
    assert all(CONN in e.scope and CONN in e.message and e.action.endswith("/read") for e in ctx.errors)
    on_zone = {e.action for e in ctx.errors if e.scope.lower() == landing.ZONE.lower()}
    assert {"Microsoft.Network/privateDnsZones/read", "Microsoft.Network/privateDnsZones/A/read"} <= on_zone
    assert [s["subscriptionId"] for s in ctx.subscriptions or []] == [WORK]
    assert ctx.searched_subscriptions == (WORK,), "what could not be listed is not claimed as searched"
    assert fake.writes() == []


def test_a_zone_really_gone_is_a_404(serve) -> None:
    bodies = [b for b in world() if "/privatednszones/" not in b["id"].lower()]
    bodies.append({"id": f"/subscriptions/{CONN}/resourceGroups/{landing.DNS_RG}", "name": landing.DNS_RG,
                   "type": "Microsoft.Resources/resourceGroups", "location": "koreacentral"})  # fmt: skip
    ctx = read(serve(bodies))
    assert ctx.errors and all(e.status == 404 for e in ctx.errors)
    assert {e.scope.lower() for e in ctx.errors} >= {landing.ZONE.lower()}
    assert all(e.scope.lower().startswith(landing.ZONE.lower()) for e in ctx.errors), "only the zone's reads"


def test_the_subscription_list_failing_is_none_and_its_error(serve) -> None:
    class Broken(arm.ArmWorld):
        def subscription_bodies(self) -> list[dict[str, Any]]:
            raise ConnectionAbortedError("the subscription list breaks off")  # the connection closes unanswered

    fake = serve(world())
    broken = Broken()
    broken.__dict__.update(fake.world.__dict__)
    fake.world = broken
    ctx = read(fake)
    assert ctx.subscriptions is None
    (error,) = ctx.errors
    assert error.scope == "/subscriptions" and not error.refusal, "it could not look: not a finding about a role"
    assert set(ctx.searched_subscriptions) == {WORK, CONN}, "the cluster's and the zone's are searched still"
    assert ctx.resolvers and ctx.rulesets


# ---------------------------------------------------------------- the lab's landing-zone worlds (lz-*)

needs_lz = pytest.mark.skipif("lz-healthy" not in armworld.WORLDS, reason="the lab's lz-* worlds are not built yet")


def lz(serve: Callable[..., arm.FakeArm], name: str) -> tuple[arm.FakeArm, AzureContext]:
    fake = serve(armworld.build(name), armworld.faults(name))
    return fake, read(fake)


@needs_lz
def test_lz_healthy_fills_every_field(serve) -> None:
    fake, ctx = lz(serve, "lz-healthy")
    assert ctx.errors == (), [e.reason for e in ctx.errors]
    assert fake.writes() == [] and all(r.method == "GET" and r.status == 200 for r in fake.requests)
    assert ctx.zone and ctx.zone["zone"] and ctx.zone["id"].lower() == landing.ZONE.lower()
    (resolver,) = ctx.resolvers
    assert resolver["resolver"]["id"].lower() == landing.RESOLVER.lower()
    assert [e["id"].lower() for e in resolver["inbound"]] == [landing.INBOUND.lower()]
    assert [e["id"].lower() for e in resolver["outbound"]] == [landing.OUTBOUND.lower()]
    (ruleset,) = ctx.rulesets
    assert ruleset["ruleset"]["id"].lower() == landing.RULESET.lower()
    assert [r["properties"]["domainName"] for r in ruleset["rules"]] == [landing.ONPREM_DOMAIN + "."]
    linked = {link["properties"]["virtualNetwork"]["id"].lower() for link in ruleset["links"]}
    assert linked == {landing.SPOKE_VNET.lower(), landing.HUB_VNET.lower()}
    (firewall,) = ctx.firewalls
    assert firewall["firewall"]["id"].lower() == landing.FIREWALL.lower()
    assert firewall["policy"] and firewall["policy"]["id"].lower() == landing.FIREWALL_POLICY.lower()
    assert ctx.server_hosts == {}, "the spoke's DNS server is the firewall: no NIC holds it"
    assert list(ctx.identities) == [landing.IDENTITY.lower()]
    assert set(ctx.role_definitions) == {armworld.PRIVATE_DNS_ZONE_CONTRIBUTOR, armworld.NETWORK_CONTRIBUTOR}
    assert [e["endpoint"]["id"].lower() for e in ctx.endpoints] == [landing.NODE_ENDPOINT.lower()]
    assert "connection" in ctx.endpoints[0], "listed both ways, kept once with its connection"
    assert set(ctx.searched_subscriptions) == {WORK, CONN}
    for fragment in ("/azureFirewalls", "/firewallPolicies/", "/dnsResolvers", "/dnsForwardingRulesets",
                     "/privateDnsZones/", "/virtualNetworks/vnet-hub"):  # fmt: skip
        assert _in(fake, CONN, fragment), f"{fragment} read in the connectivity subscription"


@needs_lz
@pytest.mark.parametrize(("world", "os_type"), [("lz-windows-dns", "Windows"), ("lz-linux-dns", "Linux")])
def test_lz_dns_vm_is_its_nic_and_vm(serve, world: str, os_type: str) -> None:
    _, ctx = lz(serve, world)
    assert ctx.errors == ()
    host = ctx.server_hosts[landing.DNS_VM_IP]
    assert host["nic"]["id"].lower() == landing.DNS_NIC.lower()
    assert host["vm"]["properties"]["storageProfile"]["osDisk"]["osType"] == os_type


@needs_lz
def test_lz_second_endpoint_and_its_zone(serve) -> None:
    _, ctx = lz(serve, "lz-second-endpoint")
    assert ctx.errors == ()
    assert [e["endpoint"]["id"].lower() for e in ctx.endpoints] == [landing.NODE_ENDPOINT.lower(),
                                                                    landing.JUMP_ENDPOINT.lower()]  # fmt: skip
    assert [z["id"].lower() for z in ctx.other_zones] == [landing.JUMP_ZONE.lower()]
    assert ctx.other_zones[0]["links"] is not None and ctx.other_zones[0]["records"]


@needs_lz
def test_lz_denied_subscription_is_403s_naming_it(serve) -> None:
    fake, ctx = lz(serve, "lz-denied-sub")
    assert ctx.errors and {e.status for e in ctx.errors} == {403}, "never AZ002 for what the identity cannot see"
    assert all(CONN in e.scope and CONN in e.message for e in ctx.errors)
    assert ctx.searched_subscriptions == (WORK,)
    assert fake.writes() == []


@needs_lz
def test_lz_zone_gone_is_404_on_the_zone(serve) -> None:
    _, ctx = lz(serve, "lz-zone-gone")
    assert ctx.errors and all(e.status == 404 for e in ctx.errors)
    assert all(e.scope.lower().startswith(landing.ZONE.lower()) for e in ctx.errors)
    assert ctx.resolvers and ctx.firewalls, "the rest of the connectivity subscription is read as usual"


def test_the_search_is_bounded_and_says_what_it_left_out(serve) -> None:
    extra = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(1, 56)]
    bodies = world() + [{"id": f"/subscriptions/{s}", "subscriptionId": s, "displayName": f"sub-{i}",
                         "state": "Enabled"} for i, s in enumerate(extra)]  # fmt: skip
    fake = serve(bodies)
    ctx = read(fake)
    assert ctx.errors == ()
    listed = [s["subscriptionId"] for s in ctx.subscriptions or []]
    assert len(listed) == 57, "every page of the subscription list"
    assert len(ctx.searched_subscriptions) == 50 and ctx.searched_subscriptions[:2] == (WORK, CONN)
    left_out = set(listed) - set(ctx.searched_subscriptions)
    assert len(left_out) == 7 and not any(_in(fake, s, "/providers/") for s in left_out), "not one read there"
