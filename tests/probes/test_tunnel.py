"""tunnel judged from facts: the `tunnel-*` worlds' ARM bodies (aksdiag.lab.armworld.tunnel) and Kubernetes objects
(aksdiag.lab.tunnelworld) as raw facts through the probe's one digest. The NSGs and the scale sets (with their NIC
NSGs) are put in the AzureContext by hand, as the Azure source's reads of them fill it. No server."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
from aksdiag.probes import tunnel
from aksdiag.probes.tunnel import paths
from probeworlds import KUBE, NEED, azure_context, bodies, forbidden, kube_list

from aksdiag.azfacts import Nsg, NsgRule
from aksdiag.facts import AzureContext, KubeList
from aksdiag.lab import armworld, tunnelworld
from aksdiag.lab.armworld import tunnel as tunnel_worlds
from aksdiag.model import Status
from aksdiag.probe import Judgement, Skip
from aksdiag.settings import Settings

OWN = {*tunnel.PROBE.codes, "IP005"}
NSG_TYPE = "microsoft.network/networksecuritygroups"
VMSS_TYPE = "microsoft.compute/virtualmachinescalesets"


def context(world: str, nics: bool = True) -> AzureContext:
    """The AzureContext of `world` with its NSGs and (`nics`) its node scale sets read."""
    by_type = bodies(world)
    scale_sets = by_type.get(VMSS_TYPE, []) if nics else []
    wanted = {tunnel_worlds.NIC_NSG.lower()} if nics else set()
    subnet_nsgs = {
        s["properties"]["networkSecurityGroup"]["id"].lower()
        for v in by_type["microsoft.network/virtualnetworks"]
        for s in v["properties"]["subnets"]
        if (s["properties"].get("networkSecurityGroup") or {}).get("id")
    }
    nsgs = {b["id"].lower(): b for b in by_type.get(NSG_TYPE, []) if b["id"].lower() in subnet_nsgs | wanted}
    return replace(azure_context(world), nsgs=nsgs, scale_sets=scale_sets)


def world_facts(
    world: str, azure: bool = True, kube: bool = True, nics: bool = True, agents: KubeList | None = None
) -> tuple[Settings, dict[Any, Any]]:
    facts: dict[Any, Any] = {}
    if azure:
        facts[NEED] = context(world, nics)
    if kube:
        objects = tunnelworld.kube(world) if world.startswith("tunnel-") else []
        needs = tunnel._kube_needs(KUBE)
        facts[needs["agents"]] = agents or kube_list(objects, "Pod")
        facts[needs["nodes"]] = kube_list(objects, "Node")
    return Settings(azure=NEED if azure else None, kube=KUBE if kube else None), facts


def judge(world: str, **kw: Any) -> Judgement:
    settings, facts = world_facts(world, **kw)
    assert tunnel.plan("", settings, {}) == list(facts)
    j = tunnel.judge("", settings, facts)
    assert {f.id for f in j.findings} <= OWN and all(f.probe == "tunnel" for f in j.findings)
    assert [h.index for h in j.hops] == list(range(1, len(j.hops) + 1))
    failed = {h.index for h in j.hops if h.status is Status.FAIL}
    assert all(f.hop in failed for f in j.findings if f.severity.value == "error"), "an error finding fails its hop"
    return j


def ids(j: Judgement) -> list[str]:
    return sorted(f.id for f in j.findings)


def hops(j: Judgement, kind: str) -> dict[str, Any]:
    return {h.name: h for h in j.hops if h.kind == kind}


# ---------------------------------------------------------------- healthy worlds raise nothing


def test_healthy_two_pools_judge_every_path_through_subnet_and_nic_nsgs() -> None:
    j = judge("tunnel-healthy")
    assert ids(j) == [] and all(h.status is Status.OK for h in j.hops)
    assert j.facts["agent_pools"] == ["nodepool1"]
    kubelet = hops(j, "kubelet")
    assert sorted(kubelet) == ["nodepool1 → nodepool1 :10250", "nodepool1 → userpool :10250"]
    detail = kubelet["nodepool1 → userpool :10250"].detail
    # outbound at the source's NIC then subnet, inbound at the destination's subnet then NIC
    assert detail.index("outbound aks-agentpool-12345678-nsg") < detail.index("outbound nsg-snet-aks")
    assert detail.index("inbound nsg-snet-user") < detail.index("inbound aks-agentpool-12345678-nsg")
    assert kubelet["nodepool1 → userpool :10250"].server == "10.226.0.5"
    assert kubelet["nodepool1 → nodepool1 :10250"].server == "10.224.0.5"
    api = hops(j, "apiserver")
    assert sorted(api) == ["nodepool1 → the API server's private endpoint :443",
                           "userpool → the API server's private endpoint :443"]  # fmt: skip
    assert hops(j, "tunnel")["konnectivity-agent"].status is Status.OK
    assert (
        "inbound at the private endpoint not judged" in api["userpool → the API server's private endpoint :443"].detail
    )


def test_a_pool_in_an_aks_managed_vnet_says_its_subnet_is_not_known() -> None:
    settings, facts = world_facts("tunnel-healthy")
    cluster = copy.deepcopy(facts[NEED].cluster)
    del cluster["properties"]["agentPoolProfiles"][1]["vnetSubnetID"]
    facts[NEED] = replace(facts[NEED], cluster=cluster)
    j = tunnel.judge("", settings, facts)
    assert ids(j) == []
    detail = hops(j, "kubelet")["nodepool1 → userpool :10250"].detail
    assert "not read: the subnet's NSG (an AKS-managed VNet)" in detail and "inbound aks-agentpool" in detail


@pytest.mark.parametrize("world", ["healthy", "vnet-integration", "byo-zone", "localdns-healthy", "lb-healthy",
                                   "lz-healthy", "tunnel-vnet-integration"])  # fmt: skip
def test_existing_healthy_worlds_raise_nothing_from_azure_alone(world: str) -> None:
    j = judge(world, kube=False)
    assert ids(j) == [], j.findings
    assert hops(j, "tunnel")["konnectivity-agent"].status is Status.SKIPPED


BROKEN_OUR_WAY = {"nsg-blocks-4443": ["TUN005"], "state-failed-connect": ["TUN005"]}
"""Worlds that really are broken the tunnel's way: the nodes cannot reach the API server on 4443 (the second one is
why its nodes' bootstrap exited 51)."""


@pytest.mark.parametrize("world", sorted(w for w in armworld.WORLDS if not w.startswith("tunnel-")))
def test_every_other_arm_world_raises_only_what_really_breaks_a_node_path(world: str) -> None:
    settings, facts = world_facts(world, kube=False)
    assert ids(tunnel.judge("", settings, facts)) == BROKEN_OUR_WAY.get(world, [])


def test_vnet_integration_has_no_tunnel_and_the_api_server_dials_the_kubelets() -> None:
    j = judge("tunnel-vnet-integration")
    assert ids(j) == []
    assert "no tunnel" in hops(j, "tunnel")["konnectivity-agent"].detail
    api = hops(j, "apiserver")
    assert {n.rsplit(":", 1)[1] for n in api} == {"443", "4443"} and len(api) == 4
    kubelet = hops(j, "kubelet")
    assert sorted(kubelet) == ["the API server → nodepool1 :10250", "the API server → userpool :10250"]
    assert "outbound nsg-apiserver allows it" in kubelet["the API server → userpool :10250"].detail


# ---------------------------------------------------------------- the NSG paths


def test_10250_blocked_on_the_user_subnet_names_the_pool_and_the_rule() -> None:
    j = judge("tunnel-10250-blocked")
    assert ids(j) == ["TUN004"]
    (f,) = j.findings
    assert "from nodepool1 (10.224.0.5) to userpool (10.226.0.5)" in f.detail
    assert "nsg-snet-user denies it: rule deny-kubelet-inbound (priority 200)" in f.detail
    assert (
        "konnectivity-agent runs on nodepool1: kubectl logs / exec / port-forward work only for pods on the nodes "
        "where it runs (aks-nodepool1-12345678-vmss000000, aks-nodepool1-12345678-vmss000001), not for pods on userpool"
        in f.detail
    )
    assert "In nsg-snet-user, allow TCP 10250 inbound from 10.224.0.0/16 to 10.226.0.0/16" in f.remediation
    assert f.command is not None and "--resource-group rg-aks --nsg-name nsg-snet-user" in f.command
    assert "--priority 190 --direction Inbound" in f.command and "--destination-port-ranges 10250" in f.command
    assert f.evidence["path"][-1] == {"nsg": "nsg-snet-user", "direction": "Inbound", "allowed": False,
                                      "rule": "deny-kubelet-inbound"}  # fmt: skip
    assert hops(j, "kubelet")["nodepool1 → nodepool1 :10250"].status is Status.OK


def test_10250_blocked_without_kubernetes_takes_the_system_pools_as_the_tunnels() -> None:
    j = judge("tunnel-10250-blocked", kube=False)
    assert ids(j) == ["TUN004"] and j.facts["agent_pools"] == ["nodepool1"]
    assert "to userpool (10.226.0.4)" in j.findings[0].detail  # the subnet's first address stands for its nodes
    assert (
        "where it runs (nodepool1: no pods read, the System pools taken, where AKS prefers to run it)"
        in j.findings[0].detail
    )


def test_the_nic_nsg_joins_the_subnet_nsg() -> None:
    j = judge("tunnel-nic-10250-blocked")
    assert ids(j) == ["TUN004", "TUN004"]  # AKS puts one NSG on every pool's NICs: the System pool's too
    assert {f.evidence["nsg_id"].rsplit("/", 1)[1] for f in j.findings} == {"aks-agentpool-12345678-nsg"}
    assert all("--resource-group MC_rg-aks_aks-lab_koreacentral" in (f.command or "") for f in j.findings)
    assert {f.detail.split(" to ", 1)[1].split(" (")[0] for f in j.findings} == {"nodepool1", "userpool"}


def test_without_the_scale_sets_the_nic_nsg_is_said_unread_never_guessed() -> None:
    j = judge("tunnel-nic-10250-blocked", nics=False)
    assert ids(j) == []
    assert all("no scale set of the pool was read" in h.detail for h in j.hops if h.kind == "kubelet")


def test_a_nic_nsg_named_but_not_read_is_said() -> None:
    settings, facts = world_facts("tunnel-healthy")
    facts[NEED] = replace(facts[NEED], nsgs={k: v for k, v in facts[NEED].nsgs.items() if "aks-agentpool" not in k})
    j = tunnel.judge("", settings, facts)
    assert ids(j) == [] and all("aks-agentpool-12345678-nsg (NIC)" in h.detail for h in j.hops if h.kind == "kubelet")


def test_nodes_blocked_from_the_private_endpoint() -> None:
    j = judge("tunnel-apiserver-blocked")
    assert ids(j) == ["TUN001", "TUN003", "TUN003", "TUN005"]
    (f,) = [f for f in j.findings if f.id == "TUN005"]
    assert "TCP 443 from nodepool1 (10.224.0.5) to the API server's private endpoint (10.224.0.4)" in f.detail
    assert "nsg-snet-aks denies it: rule deny-https-outbound-vnet (priority 250)" in f.detail
    assert "allow TCP 443 outbound from 10.224.0.0/16 to 10.224.0.4/32" in f.remediation
    assert hops(j, "apiserver")["userpool → the API server's private endpoint :443"].status is Status.OK
    # the agents' failure points at the nodes' way to the API server: this probe's TUN005 first
    (down,) = [f for f in j.findings if f.id == "TUN001"]
    assert down.evidence["relates_to"] == {"probes": ["tunnel", "outbound", "egress"], "as": "cause",
                                           "codes": ["TUN005", "EG"]}  # fmt: skip


def test_nsg_blocking_4443_in_the_vnet_integration_world() -> None:
    j = judge("nsg-blocks-4443", kube=False)
    assert ids(j) == ["TUN005"]
    assert (
        "TCP 4443 from nodepool1" in j.findings[0].detail
        and "inbound nsg-apiserver denies it" in j.hops[j.findings[0].hop - 1].detail
    )


def test_vnet_integration_10250_from_the_api_server_subnet() -> None:
    j = judge("tunnel-vnet-integration-10250")
    assert ids(j) == ["TUN006"]
    (f,) = j.findings
    assert "TCP 10250 from the API server (10.225.0.4) to userpool (10.226.0.5)" in f.detail
    assert "from 10.225.0.0/28 to 10.226.0.0/16" in f.remediation


def test_cross_stops_at_the_first_deny_in_azure_order() -> None:
    deny = Nsg("/x/nsg-nic", "nsg-nic", (NsgRule("deny-out", 100, "Outbound", "Deny", "Tcp", ("*",), ("*",), (),
                                                 ("10250",)),))  # fmt: skip
    allow = Nsg("/x/nsg-subnet", "nsg-subnet")
    a = paths.End("a", "10.0.0.4", "10.0.0.0/24", subnet_nsg=allow, nic_nsg=deny)
    b = paths.End("b", "10.0.1.4", "10.0.1.0/24", subnet_nsg=allow)
    crossing = paths.cross(a, b, 10250, ["10.0.0.0/16"])
    assert [(s.nsg.name, s.direction, s.decision.allowed) for s in crossing.steps] == [("nsg-nic", "Outbound", False)]
    back = paths.cross(b, a, 10250, ["10.0.0.0/16"])
    assert [(s.nsg.name, s.direction) for s in back.steps] == [("nsg-subnet", "Outbound"), ("nsg-subnet", "Inbound"),
                                                                ("nsg-nic", "Inbound")]  # fmt: skip
    assert back.blocked is None  # deny-out is an outbound rule: nothing inbound stops it
    asg = Nsg("/x/asg", "asg", (NsgRule("by-asg", 100, "Inbound", "Deny", application_groups=True),))
    c = paths.End("c", "10.0.2.4", "10.0.2.0/24", subnet_nsg=asg)
    assert "application security groups not judged: by-asg" in paths.cross(a, c, 443, ["10.0.0.0/16"]).detail()


# ---------------------------------------------------------------- the konnectivity-agent pods


def test_agents_crash_looping() -> None:
    j = judge("tunnel-agents-crashloop")
    assert ids(j) == ["TUN001", "TUN003", "TUN003"]
    down = next(f for f in j.findings if f.id == "TUN001")
    assert "none of the 2 konnectivity-agent pods is ready" in down.detail
    loop = next(f for f in j.findings if f.id == "TUN003")
    assert "CrashLoopBackOff, 14 restarts, last ended Error, exit 1" in loop.detail
    assert loop.command == f"kubectl -n kube-system describe pod {loop.evidence['agents'][0]['name']}" or (
        loop.command or ""
    ).startswith("kubectl -n kube-system describe pod konnectivity-agent-")


def test_a_ready_agent_with_restarts_is_shown_not_judged() -> None:
    pods = [tunnelworld.agent(n, tunnelworld.node_name("nodepool1", i), f"10.224.0.{20 + i}", restarts=9)
            for i, n in enumerate(tunnelworld.AGENTS)]  # fmt: skip
    j = judge("tunnel-healthy", agents=kube_list(pods, "Pod"))
    assert ids(j) == [] and "9 restarts" in hops(j, "tunnel")["konnectivity-agent"].detail
    pods[0] = tunnelworld.agent(tunnelworld.AGENTS[0], tunnelworld.node_name("nodepool1", 0), "10.224.0.20",
                                ready=False, restarts=9, last_exit=("OOMKilled", 137))  # fmt: skip
    j = judge("tunnel-healthy", agents=kube_list(pods, "Pod"))
    assert ids(j) == ["TUN002", "TUN003"] and "last ended OOMKilled, exit 137" in j.findings[1].detail


def test_one_agent_not_ready() -> None:
    j = judge("tunnel-agent-not-ready")
    assert ids(j) == ["TUN002"]
    assert "1 of 2 konnectivity-agent pods are ready" in j.findings[0].detail
    assert "Pending, not ready (ContainerCreating)" in j.findings[0].detail
    assert hops(j, "tunnel")["konnectivity-agent"].status is Status.WARN


def test_no_agent_at_all() -> None:
    j = judge("tunnel-agents-missing")
    assert ids(j) == ["TUN001"]
    assert "no pod labelled app=konnectivity-agent in kube-system" in j.findings[0].detail
    assert "VNet Integration" not in j.findings[0].detail  # Azure says the cluster is not VNet-integrated


def test_no_node_no_agent_is_no_fault() -> None:
    settings, facts = world_facts("tunnel-agents-missing")
    facts[tunnel._kube_needs(KUBE)["nodes"]] = KubeList()
    j = tunnel.judge("", settings, facts)
    assert ids(j) == [] and "no node in the cluster" in hops(j, "tunnel")["konnectivity-agent"].detail
    facts[tunnel._kube_needs(KUBE)["nodes"]] = forbidden("nodes")  # the nodes unknown: no agents is still a fault
    assert ids(tunnel.judge("", settings, facts)) == ["IP005", "TUN001"]


def test_no_agent_without_azure_context_says_the_caveat() -> None:
    j = judge("tunnel-agents-missing", azure=False)
    assert ids(j) == ["TUN001"] and "unless the cluster uses API Server VNet Integration" in j.findings[0].detail
    assert hops(j, "nsg")["node paths"].status is Status.SKIPPED


def test_without_azure_the_pods_are_judged_alone() -> None:
    j = judge("tunnel-agents-crashloop", azure=False)
    assert ids(j) == ["TUN001", "TUN003", "TUN003"]
    assert "no Azure context" in hops(j, "nsg")["node paths"].detail


def test_pods_forbidden_is_ip005_and_no_tunnel_verdict() -> None:
    j = judge("tunnel-healthy", agents=forbidden("pods"))
    assert ids(j) == ["IP005"]
    assert hops(j, "tunnel")["konnectivity-agent"].status is Status.SKIPPED


def test_pods_unreachable_is_unread() -> None:
    j = judge("tunnel-healthy", agents=KubeList(status=0, error="connection refused", failure="unreachable"))
    assert ids(j) == [] and j.unread and j.unread[0].startswith("listing pods: ")


def test_neither_context_skips() -> None:
    with pytest.raises(Skip, match="no Kubernetes context"):
        tunnel.plan("", Settings(), {})


def test_every_world_is_named_and_its_kube_side_builds() -> None:
    for world in tunnel_worlds.WORLDS:
        assert world.startswith("tunnel-") and tunnelworld.kube(world)
    with pytest.raises(ValueError):
        tunnelworld.kube("healthy")
