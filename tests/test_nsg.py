"""The NSG evaluator, table-driven from Azure's documented semantics, on NSG bodies built with the SDK's models."""

from __future__ import annotations

import pytest
from azure.mgmt.network.models import NetworkSecurityGroup, SecurityRule

from aksdiag.nsg import AZURE_LOAD_BALANCER, Flow, evaluate, evaluate_path

VNET = ["10.224.0.0/12"]
DEFAULTS = {"AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound"}
CLUSTER_NODE, API_ILB = "10.224.0.10", "10.225.0.4"


def rule(name: str, priority: int, access: str = "Allow", direction: str = "Inbound", **kw: object) -> SecurityRule:
    fields = {"protocol": "Tcp", "source_address_prefix": "*", "destination_address_prefix": "*",
              "source_port_range": "*", "destination_port_range": "*"} | kw  # fmt: skip
    return SecurityRule(name=name, priority=priority, access=access, direction=direction, **fields)


def nsg(*rules: SecurityRule, name: str = "nsg-apiserver") -> dict:
    body = NetworkSecurityGroup(location="koreacentral", security_rules=list(rules)).as_dict()
    body["name"] = name
    return body


def inbound(source: str, port: int, protocol: str = "Tcp") -> Flow:
    return Flow("Inbound", protocol, source, API_ILB, port)


@pytest.mark.parametrize(
    ("rules", "flow", "allowed", "decided_by"),
    [
        # no custom rule: the defaults decide
        ((), inbound(CLUSTER_NODE, 443), True, "AllowVnetInBound"),
        ((), inbound("203.0.113.7", 443), False, "DenyAllInBound"),
        ((), inbound(AZURE_LOAD_BALANCER, 9988), True, "AllowAzureLoadBalancerInBound"),
        # priority: the lowest number wins, whatever the order in the list
        (
            (
                rule("allow-443", 200, destination_port_range="443"),
                rule("deny-all-vnet", 100, "Deny", source_address_prefix="VirtualNetwork"),
            ),
            inbound(CLUSTER_NODE, 443),
            False,
            "deny-all-vnet",
        ),
        (
            (rule("deny-4443", 300, "Deny", destination_port_range="4443"),),
            inbound(CLUSTER_NODE, 4443),
            False,
            "deny-4443",
        ),
        (
            (rule("deny-4443", 300, "Deny", destination_port_range="4443"),),
            inbound(CLUSTER_NODE, 443),
            True,
            "AllowVnetInBound",
        ),
        # port ranges and lists
        (
            (rule("deny-range", 300, "Deny", destination_port_range="4000-5000"),),
            inbound(CLUSTER_NODE, 4443),
            False,
            "deny-range",
        ),
        (
            (rule("deny-list", 300, "Deny", destination_port_range=None, destination_port_ranges=["80", "443"]),),
            inbound(CLUSTER_NODE, 443),
            False,
            "deny-list",
        ),
        # protocol: a UDP rule does not match TCP traffic
        ((rule("deny-udp", 300, "Deny", protocol="Udp"),), inbound(CLUSTER_NODE, 443), True, "AllowVnetInBound"),
        ((rule("deny-any", 300, "Deny", protocol="*"),), inbound(CLUSTER_NODE, 443), False, "deny-any"),
        # prefixes and service tags
        (
            (rule("deny-nodes", 300, "Deny", source_address_prefix="10.224.0.0/24"),),
            inbound(CLUSTER_NODE, 443),
            False,
            "deny-nodes",
        ),
        (
            (rule("deny-internet", 300, "Deny", source_address_prefix="Internet"),),
            inbound(CLUSTER_NODE, 443),
            True,
            "AllowVnetInBound",
        ),
        (
            (rule("deny-lb", 300, "Deny", source_address_prefix="AzureLoadBalancer"),),
            inbound(AZURE_LOAD_BALANCER, 9988),
            False,
            "deny-lb",
        ),
        (
            (
                rule(
                    "deny-prefixes",
                    300,
                    "Deny",
                    source_address_prefix=None,
                    source_address_prefixes=["10.9.0.0/16", "10.224.0.0/16"],
                ),
            ),
            inbound(CLUSTER_NODE, 443),
            False,
            "deny-prefixes",
        ),
        # an outbound rule never decides inbound traffic
        ((rule("deny-out", 100, "Deny", direction="Outbound"),), inbound(CLUSTER_NODE, 443), True, "AllowVnetInBound"),
    ],
)
def test_semantics(rules, flow, allowed, decided_by) -> None:
    decision = evaluate(nsg(*rules), flow, VNET)
    assert (decision.allowed, decision.rule) == (allowed, decided_by)
    assert decision.default is (decided_by in DEFAULTS)


def test_outbound_defaults() -> None:
    out = Flow("Outbound", "Tcp", CLUSTER_NODE, "20.41.65.7", 443)
    assert evaluate(nsg(), out, VNET).rule == "AllowInternetOutBound"


def test_subnet_then_nic_inbound_both_must_allow() -> None:
    subnet = nsg(name="nsg-subnet")
    nic = nsg(rule("deny-443", 100, "Deny", destination_port_range="443"), name="nsg-nic")
    decisions = evaluate_path(inbound(CLUSTER_NODE, 443), VNET, subnet, nic)
    assert [(d.nsg, d.allowed) for d in decisions] == [("nsg-subnet", True), ("nsg-nic", False)]
    subnet_denies = nsg(rule("deny", 100, "Deny"), name="nsg-subnet")
    decisions = evaluate_path(inbound(CLUSTER_NODE, 443), VNET, subnet_denies, nic)
    assert [d.nsg for d in decisions] == ["nsg-subnet"], "the NIC's NSG is never reached"
    assert "denies it: rule deny (priority 100)" in decisions[0].describe()


def test_application_security_groups_are_reported_as_unknown() -> None:
    from azure.mgmt.network.models import ApplicationSecurityGroup

    asg_rule = rule("deny-asg", 100, "Deny", source_application_security_groups=[ApplicationSecurityGroup(id="/x/asg")],
                    source_address_prefix=None)  # fmt: skip
    decision = evaluate(nsg(asg_rule), inbound(CLUSTER_NODE, 443), VNET)
    assert decision.allowed and decision.unknown == ("deny-asg",)
