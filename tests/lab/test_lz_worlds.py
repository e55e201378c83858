"""The landing-zone ARM worlds: each builds, every body sits under a subscription and resource group the world
holds, the fake ARM serves them across both subscriptions, and each differs from lz-healthy as the table says."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aksdiag.lab import arm, armworld
from aksdiag.lab.armworld import enterprise, landing

LZ = [w for w in armworld.WORLDS if w.startswith("lz-")]
Body = dict[str, Any]


def by_id(world: str) -> dict[str, Body]:
    return {b["id"].lower(): b for b in armworld.build(world)}


def get(world: str, rid: str) -> Body:
    return by_id(world)[rid.lower()]


def props(world: str, rid: str) -> Body:
    return get(world, rid)["properties"]


def under(world: str, parent: str) -> dict[str, Body]:
    """The bodies right under the collection `parent` (…/virtualNetworkLinks), by name."""
    return {b["name"]: b for b in armworld.build(world) if b["id"].lower().rsplit("/", 1)[0] == parent.lower()}


def rules(world: str, ruleset: str = landing.RULESET) -> dict[str, tuple[str, tuple[str, ...], str]]:
    return {
        n: (
            b["properties"]["domainName"],
            tuple(t["ipAddress"] for t in b["properties"]["targetDnsServers"]),
            b["properties"]["forwardingRuleState"],
        )
        for n, b in under(world, ruleset + "/forwardingRules").items()
    }


def linked(world: str, parent: str) -> set[str]:
    return {b["properties"]["virtualNetwork"]["id"] for b in under(world, parent).values()}


def spoke_dns(world: str) -> list[str]:
    return props(world, landing.SPOKE_VNET)["dhcpOptions"]["dnsServers"]


def test_the_lz_worlds_are_registered_as_the_table_names_them() -> None:
    assert list(enterprise.WORLDS) == LZ and len(LZ) == 22
    assert all(armworld.WORLDS[w] for w in LZ)


@pytest.mark.parametrize("world", LZ)
def test_every_body_has_a_unique_id_under_an_existing_subscription_and_group(world: str, tmp_path: Path) -> None:
    bodies = armworld.build(world)
    ids = [b["id"].lower() for b in bodies]
    assert len(ids) == len(set(ids)), "unique ids"
    assert all(b.get("id") and b.get("name") and b.get("type") for b in bodies)
    subs = {i.split("/")[2] for i in ids if len(i.split("/")) == 3}
    groups = {(i.split("/")[2], i.split("/")[4]) for i in ids if len(i.split("/")) == 5}
    assert subs == {landing.WORKLOAD, landing.CONNECTIVITY}
    for i in ids:
        p = i.split("/")
        assert p[1] == "subscriptions" and p[2] in subs, i
        if len(p) > 4 and p[3] == "resourcegroups":
            assert (p[2], p[4]) in groups, f"{i}: its resource group is a body too"
    written = armworld.write(world, tmp_path / world)
    loaded = arm.ArmWorld.load(written)
    assert len(loaded.resources) + len(loaded.subscriptions) == len(bodies)
    assert loaded.hidden() == set(enterprise.SPECS[world][1].hidden)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    running: list[tuple[arm.FakeArm, httpx.Client]] = []

    def start(world: str) -> tuple[arm.FakeArm, httpx.Client]:
        w = arm.ArmWorld()
        for body in armworld.build(world):
            w.add(body)
        w.faults = armworld.faults(world)
        fake = arm.FakeArm(w, tmp_path / world)
        trust = ssl.create_default_context(cafile=fake.ca_path)
        client = httpx.Client(base_url=fake.endpoint, verify=trust, headers={"Authorization": "Bearer t"})
        running.append((fake, client))
        return fake, client

    yield start
    for fake, client in running:
        client.close()
        fake.close()


def listed(client: httpx.Client, path: str) -> list[Body]:
    out: list[Body] = []
    while path:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
        out += answer.json()["value"]
        path = answer.json().get("nextLink", "")
    return out


def test_the_fake_arm_serves_lz_healthy_across_both_subscriptions(serve: Any) -> None:
    fake, client = serve("lz-healthy")
    zone = client.get(landing.ZONE + "?api-version=2024-06-01")
    assert zone.status_code == 200 and zone.json()["name"] == "privatelink.koreacentral.azmk8s.io"
    assert [r["name"] for r in listed(client, landing.RULESET + "/forwardingRules")] == ["corp"]
    links = listed(client, landing.RULESET + "/virtualNetworkLinks")
    assert {x["properties"]["virtualNetwork"]["id"] for x in links} == {landing.SPOKE_VNET, landing.HUB_VNET}
    connections = listed(client, landing.CLUSTER_ID + "/privateEndpointConnections")
    assert [c["properties"]["privateEndpoint"]["id"] for c in connections] == [landing.NODE_ENDPOINT]
    inbound = listed(client, landing.RESOLVER + "/inboundEndpoints")
    assert inbound[0]["properties"]["ipConfigurations"][0]["privateIpAddress"] == landing.INBOUND_IP
    zones = listed(client, f"/subscriptions/{landing.CONNECTIVITY}/providers/Microsoft.Network/privateDnsZones")
    assert [z["id"] for z in zones] == [landing.ZONE]
    subs = listed(client, "/subscriptions")
    assert {s["displayName"] for s in subs} == {"sub-workload-aks", "sub-connectivity"}
    definition = client.get(f"/subscriptions/{landing.CONNECTIVITY}/providers/Microsoft.Authorization/"
                            f"roleDefinitions/{armworld.PRIVATE_DNS_ZONE_CONTRIBUTOR}").json()  # fmt: skip
    assert "Microsoft.Network/privateDnsZones/*" in definition["properties"]["permissions"][0]["actions"]
    by_sub = fake.requests_by_subscription()
    assert set(by_sub) == {"", landing.CONNECTIVITY, landing.WORKLOAD} and fake.writes() == []


def test_lz_denied_sub_hides_the_connectivity_subscription(serve: Any) -> None:
    _, client = serve("lz-denied-sub")
    assert [s["subscriptionId"] for s in listed(client, "/subscriptions")] == [landing.WORKLOAD]
    for rid in (landing.ZONE, landing.HUB_VNET, landing.RULESET + "/forwardingRules"):
        answer = client.get(rid)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "AuthorizationFailed", rid
    assert client.get(landing.CLUSTER_ID).status_code == 200


def test_lz_zone_gone_keeps_an_empty_rg_dns(serve: Any) -> None:
    _, client = serve("lz-zone-gone")
    answer = client.get(landing.ZONE)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "ResourceNotFound"
    rg = landing.ZONE.split("/providers/")[0]
    assert listed(client, rg + "/providers/Microsoft.Network/privateDnsZones") == []
    assert client.get(rg).status_code == 200
    assert get("lz-zone-gone", landing.CLUSTER_ID)["properties"]["apiServerAccessProfile"]["privateDNSZone"] == (
        landing.ZONE
    )


# ---------------------------------------------------------------- each world differs from lz-healthy as specified


def test_lz_healthy_is_the_table_s_baseline() -> None:
    w = "lz-healthy"
    assert spoke_dns(w) == [landing.FIREWALL_IP]
    assert linked(w, landing.ZONE + "/virtualNetworkLinks") == {landing.HUB_VNET}
    assert linked(w, landing.RULESET + "/virtualNetworkLinks") == {landing.SPOKE_VNET, landing.HUB_VNET}
    assert rules(w) == {"corp": ("corp.contoso.com.", (landing.ONPREM_DNS_IP,), "Enabled")}
    assert props(w, landing.FIREWALL_POLICY)["dnsSettings"] == {
        "servers": [], "enableProxy": True, "requireProxyForNetworkRules": False}  # fmt: skip
    fw = props(w, landing.FIREWALL)
    assert fw["ipConfigurations"][0]["properties"]["privateIPAddress"] == landing.FIREWALL_IP
    assert fw["firewallPolicy"]["id"] == landing.FIREWALL_POLICY
    assert props(w, landing.DNS_VM)["storageProfile"]["osDisk"]["osType"] == "Windows"
    records = under(w, landing.ZONE + "/A")
    assert [r["properties"]["aRecords"] for r in records.values()] == [[{"ipv4Address": landing.NODE_ENDPOINT_IP}]]
    peers = props(w, landing.SPOKE_VNET)["virtualNetworkPeerings"]
    assert [(p["properties"]["remoteVirtualNetwork"]["id"], p["properties"]["peeringState"]) for p in peers] == [
        (landing.HUB_VNET, "Connected")
    ]
    cluster = get(w, landing.CLUSTER_ID)
    assert cluster["properties"]["apiServerAccessProfile"]["privateDNSZone"] == landing.ZONE
    assert list(cluster["identity"]["userAssignedIdentities"]) == [landing.IDENTITY]
    assert props(w, landing.IDENTITY)["principalId"] == landing.IDENTITY_PRINCIPAL
    assignments = [b for b in armworld.build(w) if b["type"] == "Microsoft.Authorization/roleAssignments"]
    assert {(a["properties"]["scope"], a["properties"]["roleDefinitionId"].rsplit("/", 1)[1]) for a in assignments} == {
        (landing.ZONE, armworld.PRIVATE_DNS_ZONE_CONTRIBUTOR), (landing.SPOKE_VNET, armworld.NETWORK_CONTRIBUTOR)}  # fmt: skip
    zone_role = next(a for a in assignments if a["properties"]["scope"] == landing.ZONE)
    assert zone_role["properties"]["roleDefinitionId"].lower() in by_id(w), "the definition is in the world"
    assert zone_role["properties"]["principalId"] == landing.IDENTITY_PRINCIPAL
    assert enterprise.faults(w) == {}


def differences(world: str, base_world: str = "lz-healthy") -> set[str]:
    """The ids whose bodies differ from the base world's (added, removed or changed)."""
    base, other = by_id(base_world), by_id(world)
    return {i for i in base.keys() | other.keys() if base.get(i) != other.get(i)}


def test_the_dns_server_worlds() -> None:
    assert spoke_dns("lz-resolver") == [landing.INBOUND_IP]
    assert differences("lz-resolver") == {landing.SPOKE_VNET.lower()}
    assert spoke_dns("lz-azure-dns") == []
    assert linked("lz-azure-dns", landing.ZONE + "/virtualNetworkLinks") == {landing.HUB_VNET, landing.SPOKE_VNET}
    for w in ("lz-windows-dns", "lz-linux-dns"):
        assert spoke_dns(w) == [landing.DNS_VM_IP]
    storage = props("lz-linux-dns", landing.DNS_VM)["storageProfile"]
    assert storage["osDisk"]["osType"] == "Linux" and storage["imageReference"]["publisher"] == "Canonical"
    nic = props("lz-windows-dns", landing.DNS_NIC)
    assert nic["ipConfigurations"][0]["properties"]["privateIPAddress"] == landing.DNS_VM_IP
    assert nic["virtualMachine"]["id"] == landing.DNS_VM


def test_the_rule_worlds() -> None:
    corp = ("corp.contoso.com.", (landing.ONPREM_DNS_IP,), "Enabled")
    zone = "privatelink.koreacentral.azmk8s.io."
    for w in ("lz-catch-all", "lz-parent-rule", "lz-rule-target", "lz-rule-fixed", "lz-rule-disabled"):
        assert spoke_dns(w) == [], w
        assert linked(w, landing.RULESET + "/virtualNetworkLinks") == {landing.SPOKE_VNET}, w
        assert linked(w, landing.ZONE + "/virtualNetworkLinks") == {landing.HUB_VNET}, w
    w = "lz-rules-zone-linked"
    assert spoke_dns(w) == [] and linked(w, landing.RULESET + "/virtualNetworkLinks") == {landing.SPOKE_VNET}
    assert linked(w, landing.ZONE + "/virtualNetworkLinks") == {landing.HUB_VNET, landing.SPOKE_VNET}
    assert rules("lz-catch-all") == {"corp": corp, "catch-all": (".", (landing.ONPREM_DNS_IP,), "Enabled")}
    assert rules("lz-parent-rule") == {"corp": corp, "azmk8s": ("azmk8s.io.", (landing.ONPREM_DNS_IP,), "Enabled")}
    assert rules("lz-rule-target") == {"corp": corp, "aks-private-zone": (zone, (landing.ONPREM_DNS_IP,), "Enabled")}
    fixed = {"corp": corp, "catch-all": (".", (landing.ONPREM_DNS_IP,), "Enabled"),
             "aks-private-zone": (zone, (landing.INBOUND_IP,), "Enabled")}  # fmt: skip
    assert rules("lz-rule-fixed") == fixed
    assert rules("lz-rule-disabled") == {**fixed, "aks-private-zone": (zone, (landing.INBOUND_IP,), "Disabled")}
    assert rules("lz-rules-zone-linked") == {
        "corp": corp, "catch-all": (".", (landing.ONPREM_DNS_IP,), "Enabled"),
        "azmk8s": ("azmk8s.io.", (landing.ONPREM_DNS_IP,), "Enabled"),
        "aks-private-zone": (zone, (landing.ONPREM_DNS_IP,), "Enabled")}  # fmt: skip
    w = "lz-ruleset-conflict"
    spoke_set = landing.RULESET.replace("/rs-hub", "/rs-spoke")
    assert spoke_dns(w) == [landing.INBOUND_IP]
    assert linked(w, landing.RULESET + "/virtualNetworkLinks") == {landing.HUB_VNET}
    assert linked(w, spoke_set + "/virtualNetworkLinks") == {landing.SPOKE_VNET}
    assert rules(w, spoke_set) == {"aks-private-zone": (zone, (landing.ONPREM_DNS_IP,), "Enabled")}
    assert props(w, spoke_set)["dnsResolverOutboundEndpoints"] == [{"id": landing.OUTBOUND}]


def test_the_unlinked_and_proxy_worlds() -> None:
    assert spoke_dns("lz-inbound-unlinked") == [landing.INBOUND_IP]
    for w in ("lz-inbound-unlinked", "lz-firewall-unlinked"):
        assert linked(w, landing.ZONE + "/virtualNetworkLinks") == set(), w
        assert props(w, landing.ZONE)["numberOfVirtualNetworkLinks"] == 0
    assert spoke_dns("lz-firewall-unlinked") == [landing.FIREWALL_IP]
    assert props("lz-proxy-off", landing.FIREWALL_POLICY)["dnsSettings"]["enableProxy"] is False
    assert differences("lz-proxy-off") == {landing.FIREWALL_POLICY.lower()}
    servers = props("lz-proxy-servers", landing.FIREWALL_POLICY)["dnsSettings"]
    assert servers["servers"] == [landing.DNS_VM_IP, landing.INBOUND_IP] and servers["enableProxy"] is True
    assert differences("lz-proxy-servers") == {landing.FIREWALL_POLICY.lower()}


def test_the_second_endpoint_worlds() -> None:
    for w, address in (("lz-second-endpoint", landing.JUMP_ENDPOINT_IP), ("lz-second-stale", landing.JUMP_STALE_IP)):
        connections = under(w, landing.CLUSTER_ID + "/privateEndpointConnections")
        assert {c["properties"]["privateEndpoint"]["id"] for c in connections.values()} == {
            landing.NODE_ENDPOINT, landing.JUMP_ENDPOINT}  # fmt: skip
        nic_id = props(w, landing.JUMP_ENDPOINT)["networkInterfaces"][0]["id"]
        assert props(w, nic_id)["ipConfigurations"][0]["properties"]["privateIPAddress"] == landing.JUMP_ENDPOINT_IP
        assert get(w, landing.JUMP_ZONE)["name"] == get(w, landing.ZONE)["name"]
        assert linked(w, landing.JUMP_ZONE + "/virtualNetworkLinks") == {landing.JUMP_VNET}
        records = under(w, landing.JUMP_ZONE + "/A")
        assert [r["properties"]["aRecords"] for r in records.values()] == [[{"ipv4Address": address}]]
        assert props(w, landing.JUMP_VNET)["virtualNetworkPeerings"] == []
    (record,) = under("lz-second-stale", landing.JUMP_ZONE + "/A").values()
    assert differences("lz-second-stale", "lz-second-endpoint") == {record["id"].lower()}


def test_the_role_and_subscription_worlds() -> None:
    for w, actions in (("lz-custom-role", ["Microsoft.Network/privateDnsZones/*"]),
                       ("lz-custom-role-read", ["Microsoft.Network/privateDnsZones/read"])):  # fmt: skip
        zone_role = next(
            b for b in armworld.build(w)
            if b["type"] == "Microsoft.Authorization/roleAssignments" and b["properties"]["scope"] == landing.ZONE
        )  # fmt: skip
        definition = get(w, zone_role["properties"]["roleDefinitionId"])
        assert definition["name"] == landing.CUSTOM_ROLE and definition["properties"]["type"] == "CustomRole"
        assert definition["properties"]["permissions"][0]["actions"] == actions
    assert differences("lz-denied-sub") == set()
    assert enterprise.faults("lz-denied-sub") == {arm.HIDDEN: [landing.CONNECTIVITY]}
    gone = differences("lz-zone-gone")
    assert landing.ZONE.lower() in gone and all(i.startswith(landing.ZONE.lower()) or "roleassignments" in i
                                                for i in gone)  # fmt: skip
    assert not any(i.startswith(landing.ZONE.lower()) for i in by_id("lz-zone-gone"))
    rg_dns = landing.ZONE.split("/providers/")[0].lower()
    assert rg_dns in by_id("lz-zone-gone")


def test_the_real_sdk_clients_read_the_lz_bodies(serve: Any) -> None:
    """The bodies deserialize in the SDKs the Azure source uses, each read sent to its resource's subscription."""
    from azure.core.credentials import AccessToken
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.dnsresolver import DnsResolverManagementClient
    from azure.mgmt.network import NetworkManagementClient

    class Token:
        def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
            return AccessToken("t", 2**31)

    fake, _ = serve("lz-proxy-servers")
    kw: dict[str, Any] = {"base_url": fake.endpoint, "connection_verify": fake.ca_path}
    hub, work = landing.CONNECTIVITY, landing.WORKLOAD
    dns = DnsResolverManagementClient(Token(), hub, **kw)
    [inbound] = dns.inbound_endpoints.list(landing.HUB_RG, "dnspr-hub")
    assert inbound.ip_configurations[0].private_ip_address == landing.INBOUND_IP
    assert [r.domain_name for r in dns.forwarding_rules.list(landing.HUB_RG, "rs-hub")] == ["corp.contoso.com."]
    links = dns.virtual_network_links.list(landing.HUB_RG, "rs-hub")
    assert {x.virtual_network.id for x in links} == {landing.SPOKE_VNET, landing.HUB_VNET}
    assert dns.dns_resolvers.get(landing.HUB_RG, "dnspr-hub").virtual_network.id == landing.HUB_VNET
    net = NetworkManagementClient(Token(), hub, **kw)
    firewall = net.azure_firewalls.get(landing.HUB_RG, "afw-hub")
    assert firewall.ip_configurations[0].private_ip_address == landing.FIREWALL_IP
    policy = net.firewall_policies.get(landing.HUB_RG, "afwp-hub")
    assert policy.dns_settings.enable_proxy and policy.dns_settings.servers == [landing.DNS_VM_IP, landing.INBOUND_IP]
    aks = ContainerServiceClient(Token(), work, **kw)
    [connection] = aks.private_endpoint_connections.list(armworld.CLUSTER_RG, armworld.CLUSTER).value or []
    assert connection.private_endpoint is not None and connection.private_endpoint.id == landing.NODE_ENDPOINT
    roles = AuthorizationManagementClient(Token(), hub, **kw)
    definition = roles.role_definitions.get(f"/subscriptions/{hub}", armworld.PRIVATE_DNS_ZONE_CONTRIBUTOR)
    assert definition.role_name == "Private DNS Zone Contributor"
    by_sub = fake.requests_by_subscription()
    assert len(by_sub[hub]) == 7 and len(by_sub[work]) == 1 and fake.writes() == []
