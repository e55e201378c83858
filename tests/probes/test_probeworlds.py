"""probeworlds builds the landing-zone fields of the AzureContext as the Azure source fills them."""

from __future__ import annotations

from aksdiag.azfacts import digest
from aksdiag.lab import armworld
from aksdiag.lab.armworld import landing
from tests.probes.probeworlds import azure_context

ZONE_ROLE = armworld.PRIVATE_DNS_ZONE_CONTRIBUTOR


def test_lz_healthy_has_the_resolver_ruleset_firewall_identity_and_role_definitions() -> None:
    facts = digest(azure_context("lz-healthy"))
    assert facts.subscriptions == (landing.WORKLOAD, landing.CONNECTIVITY)
    assert facts.searched_subscriptions == (landing.WORKLOAD, landing.CONNECTIVITY)
    resolver = facts.resolver_at(landing.INBOUND_IP)
    assert (
        resolver is not None and resolver.vnet_id == landing.HUB_VNET and resolver.outbound_ids == (landing.OUTBOUND,)
    )
    [ruleset] = facts.rulesets_linked_to(landing.SPOKE_VNET)
    assert ruleset.rule_for("dc01.corp.contoso.com") is not None and ruleset.rule_for(armworld.CLUSTER_FQDN) is None
    assert {link.vnet_id for link in ruleset.links or ()} == {landing.SPOKE_VNET, landing.HUB_VNET}
    firewall = facts.firewall_at(landing.FIREWALL_IP)
    assert firewall is not None and firewall.proxy is True and firewall.servers == ()
    assert firewall.vnet_id == landing.HUB_VNET
    assert facts.server_hosts == {}, "the spoke's DNS server is the firewall: no NIC holds it"
    [identity] = facts.identities.values()
    assert identity.principal_id == landing.IDENTITY_PRINCIPAL
    assert facts.role_definitions[ZONE_ROLE].allows("Microsoft.Network/privateDnsZones/A/write")
    assert facts.role_definitions[armworld.NETWORK_CONTRIBUTOR].allows("Microsoft.Network/virtualNetworks/join/action")
    assert [e.ips for e in facts.endpoints] == [(landing.NODE_ENDPOINT_IP,)]
    assert facts.zone is not None and facts.other_zones == () and facts.errors == ()


def test_the_server_hosts_and_the_second_endpoint() -> None:
    windows = digest(azure_context("lz-windows-dns")).server_hosts[landing.DNS_VM_IP]
    linux = digest(azure_context("lz-linux-dns")).server_hosts[landing.DNS_VM_IP]
    assert (windows.os_type, linux.os_type) == ("Windows", "Linux") and windows.vm_id == landing.DNS_VM
    assert linux.image.startswith("Canonical:")
    proxied = digest(azure_context("lz-proxy-servers"))
    assert set(proxied.server_hosts) == {landing.DNS_VM_IP}, "a proxy server on a NIC is a server host too"
    ctx = azure_context("lz-second-endpoint")
    assert {e["connection"]["properties"]["privateEndpoint"]["id"] for e in ctx.endpoints} == {
        landing.NODE_ENDPOINT, landing.JUMP_ENDPOINT}  # fmt: skip
    assert [z["id"] for z in ctx.other_zones] == [landing.JUMP_ZONE]


def test_a_custom_role_definition_is_read_for_the_zone_assignment() -> None:
    read_only = digest(azure_context("lz-custom-role-read")).role_definitions[landing.CUSTOM_ROLE]
    assert read_only.custom and not read_only.allows("Microsoft.Network/privateDnsZones/A/write")
    assert (
        digest(azure_context("lz-custom-role"))
        .role_definitions[landing.CUSTOM_ROLE]
        .allows("Microsoft.Network/privateDnsZones/A/write")
    )


def test_a_hidden_subscription_leaves_403s_and_a_gone_zone_a_404() -> None:
    denied = digest(azure_context("lz-denied-sub"))
    assert denied.subscriptions == (landing.WORKLOAD,) and denied.searched_subscriptions == (landing.WORKLOAD,)
    assert denied.zone is None and denied.resolvers == () and denied.firewalls == ()
    assert landing.HUB_VNET.lower() not in denied.vnets
    assert {(e.status, e.scope, e.action) for e in denied.errors} == {
        (403, landing.ZONE, "Microsoft.Network/privateDnsZones/read"),
        (403, landing.HUB_VNET, "Microsoft.Network/virtualNetworks/read"),
        (403, landing.ZONE, "Microsoft.Authorization/roleAssignments/read"),
    }
    assert all(landing.CONNECTIVITY in e.message for e in denied.errors)
    assert denied.role_assignments[landing.ZONE] is None
    gone = digest(azure_context("lz-zone-gone"))
    assert gone.zone is None and [(e.status, e.scope) for e in gone.errors] == [(404, landing.ZONE)]
