"""cluster_dns with AKS LocalDNS: the listeners as relays (169.254.10.11 → CoreDNS, 169.254.10.10 → the VNet's DNS
servers), the pools' localDNSProfile from the Azure context; healthy worlds raise nothing, each broken one its code."""

from __future__ import annotations

from cluster_dns_worlds import (
    CUSTOM,
    CUSTOM2,
    IP,
    KUBE_DNS,
    LOCAL_KUBE,
    LOCAL_VNET,
    POD1,
    POD2,
    ZONE,
    Split,
    alarms,
    azure_context,
    coredns_objects,
    hop,
    ids,
    localdns_profile,
    nx,
    ok,
    servfail,
    silent,
    the,
    world,
)

from aksdiag.model import Severity, Status

FORCE_TCP = {".": {"protocol": "ForceTCP", "forwardDestination": "VnetDNS", "serveStale": "Immediate"}}


def test_a_healthy_localdns_path_raises_nothing() -> None:
    ctx = azure_context(localdns=localdns_profile())
    j = world({LOCAL_KUBE: ok(ttl=25)}, resolver=(LOCAL_KUBE,), context=ctx, name="").run()
    assert ids(j) == []
    assert [(h.kind, h.server) for h in j.hops[:2]] == [("localdns", "169.254.10.11:53"), ("coredns", "10.0.0.10:53")]
    assert (
        hop(j, LOCAL_KUBE).ttl == 25
        and "LocalDNS ClusterCoreDNS (pool nodes, '.', PreferUDP)" in hop(j, LOCAL_KUBE).detail
    )
    assert hop(j, LOCAL_KUBE).status is Status.OK


def test_a_healthy_vnet_listener_without_azure_context_uses_aks_defaults() -> None:
    j = world(resolver=(LOCAL_VNET,), search=(), dns_policy="Default").run()
    assert ids(j) == [] and "LocalDNS VnetDNS (default, '.', PreferUDP)" in hop(j, LOCAL_VNET).detail
    assert "behind 169.254.10.10, 10.0.0.10" in hop(j, CUSTOM).detail


def test_dns032_localdns_serves_a_cached_nxdomain_coredns_no_longer_gives() -> None:
    ctx = azure_context(localdns=localdns_profile())
    j = world({LOCAL_KUBE: nx(ttl=1204)}, resolver=(LOCAL_KUBE,), context=ctx, name="").run()
    f = the(j, "DNS032")
    assert alarms(j) == ["DNS032"] and f.hop == hop(j, LOCAL_KUBE).index
    assert "now answer 10.224.0.4" in f.detail and "expires in 1,204 s, at 14:20:15 UTC" in f.detail
    assert "LocalDNS caps it with cacheDurationInSeconds 3600 (pool nodes, '.')" in f.detail
    assert "systemctl restart localdns" in f.remediation and "systemctl restart localdns" in (f.command or "")


def test_dns033_localdns_stale_answer_while_the_vnet_server_is_dead_is_a_warning() -> None:
    ctx = azure_context(localdns=localdns_profile())
    j = world({LOCAL_VNET: ok(ttl=0), CUSTOM: silent()}, resolver=(LOCAL_VNET,), search=(), dns_policy="Default",
              context=ctx, name="").run()  # fmt: skip
    f = the(j, "DNS033")
    assert alarms(j) == ["DNS033"] and f.severity is Severity.WARNING and f.hop == hop(j, LOCAL_VNET).index
    assert "serve-stale) for up to 3600 s more" in f.detail


def test_dns033_behind_localdns_the_failing_coredns_gets_the_finding() -> None:
    ctx = azure_context(localdns=localdns_profile())
    dead = {LOCAL_KUBE: servfail(), KUBE_DNS: servfail(), POD1: servfail(), POD2: servfail(), CUSTOM: silent()}
    j = world(dead, resolver=(LOCAL_KUBE,), context=ctx, name="").run()
    assert alarms(j) == ["DNS033"] and the(j, "DNS033").hop == hop(j, KUBE_DNS).index


def test_dns034_force_tcp_towards_a_udp_only_server() -> None:
    ctx = azure_context(localdns=localdns_profile(vnet=FORCE_TCP))
    answers = {LOCAL_VNET: servfail(), CUSTOM: Split(ok(), silent())}
    j = world(answers, resolver=(LOCAL_VNET,), search=(), dns_policy="Default", context=ctx, name="").run()
    f = the(j, "DNS034")
    assert alarms(j) == ["DNS034"] and f.hop == hop(j, LOCAL_VNET).index  # not DNS033: ForceTCP explains it
    assert "LocalDNS of pool nodes forwards . with protocol ForceTCP (the vnetDNSOverrides of pool nodes)" in f.detail
    assert "10.1.0.4 (VNet DNS) does not answer over TCP" in f.detail and "over UDP it answers 10.224.0.4" in f.detail
    assert f.command == (
        "az aks nodepool update --resource-group rg-aks --cluster-name aks-x --name nodes "
        "--localdns-config ./localdnsconfig.json"
    )


def test_dns034_inferred_in_a_pod_without_the_profile() -> None:
    """`aksdiag pod -- dns` reads no ARM: LocalDNS failing while the VNet's server answers UDP only is ForceTCP's mark."""
    answers = {LOCAL_KUBE: servfail(), CUSTOM: Split(ok(), silent())}
    j = world(answers, resolver=(LOCAL_KUBE,)).run()
    f = the(j, "DNS034")
    assert alarms(j) == ["DNS034"] and f.hop == hop(j, LOCAL_KUBE).index
    assert f.detail.startswith(
        "LocalDNS at 169.254.10.11 forwards the name with protocol ForceTCP (the pool's kubeDNSOverrides"
    )
    assert "--name <pool>" in (f.command or "")


def test_a_failing_localdns_with_a_tcp_serving_upstream_is_not_force_tcp() -> None:
    j = world({LOCAL_KUBE: servfail()}, resolver=(LOCAL_KUBE,)).run()
    assert alarms(j) == ["DNS033"] and "answers from here" in the(j, "DNS033").detail


def test_dns034_is_seen_from_a_jump_box_by_the_profile_alone() -> None:
    ctx = azure_context(localdns=localdns_profile(vnet=FORCE_TCP))
    j = world({CUSTOM: Split(ok(), silent())}, resolver=(CUSTOM,), search=(), kube=None, in_cluster=False,
              context=ctx, name="").run()  # fmt: skip
    assert alarms(j) == ["DNS034"] and the(j, "DNS034").hop == hop(j, CUSTOM).index


def test_force_tcp_towards_a_server_that_serves_tcp_is_no_alarm() -> None:
    ctx = azure_context(localdns=localdns_profile(vnet=FORCE_TCP))
    j = world(resolver=(LOCAL_VNET,), search=(), dns_policy="Default", context=ctx, name="").run()
    assert ids(j) == []


def test_dns035_localdns_sends_kube_dns_traffic_past_the_coredns_override() -> None:
    server = f"{ZONE}:53 {{\n    forward . {CUSTOM2.host}\n}}\n"
    kube = {ZONE: {"forwardDestination": "VnetDNS", "protocol": "PreferUDP"}}
    ctx = azure_context(localdns=localdns_profile(kube=kube))
    answers = {LOCAL_KUBE: nx(), CUSTOM: nx()}  # the VNet's server does not hold the zone; CUSTOM2 does
    j = world(answers, resolver=(LOCAL_KUBE,), context=ctx, name="", expect=(IP,),
              kube=coredns_objects(custom={"privatelink.server": server})).run()  # fmt: skip
    f = the(j, "DNS035")
    assert alarms(j) == ["DNS035"] and f.hop == hop(j, LOCAL_KUBE).index
    assert f"kubeDNSOverrides '{ZONE}' forwardDestination VnetDNS, pool nodes" in f.detail
    assert "CoreDNS (coredns-custom's privatelink.server, line 2)" in f.detail
    assert f.remediation.startswith(f"Set forwardDestination ClusterCoreDNS for '{ZONE}' in kubeDNSOverrides")


# ---------------------------------------------------------------- the LocalDNS ARM worlds of the lab, from a jump box


def jumpbox(arm_world: str, answers: dict | None = None):  # type: ignore[no-untyped-def]
    """`aksdiag dns --cluster …` from a jump box that asks the VNet's server: the profile is all it sees of LocalDNS."""
    import probeworlds

    ctx = probeworlds.azure_context(arm_world)
    return world(answers, resolver=(CUSTOM,), search=(), kube=None, in_cluster=False, context=ctx, name="", vnet_dns=())


def test_the_lab_localdns_healthy_world_raises_nothing() -> None:
    assert ids(jumpbox("localdns-healthy").run()) == []


def test_dns034_the_lab_force_tcp_world_against_a_udp_only_server() -> None:
    j = jumpbox("localdns-force-tcp", {CUSTOM: Split(ok(), silent())}).run()
    assert alarms(j) == ["DNS034", "DNS034"]  # both listeners: vnetDNSOverrides '.' and kubeDNSOverrides for the zone
    assert {f.detail.split(" (")[1].split(")")[0] for f in j.findings} == {
        "the vnetDNSOverrides of pool nodepool1",
        "the kubeDNSOverrides of pool nodepool1",
    }


def test_dns035_the_lab_world_whose_vnet_listener_sends_the_zone_to_coredns() -> None:
    f = the(jumpbox("localdns-skips-vnet-dns").run(), "DNS035")
    assert f"vnetDNSOverrides '{ZONE}' forwardDestination ClusterCoreDNS, pool nodepool1" in f.detail
    assert "LocalDNS again, not the VNet's servers" in f.detail and f.hop is None
    assert f.remediation.startswith(
        f"Set forwardDestination VnetDNS for '{ZONE}' in vnetDNSOverrides of pool nodepool1"
    )


def test_a_coredns_custom_forward_for_the_zone_makes_the_vnet_listeners_override_right() -> None:
    import probeworlds

    server = f"{ZONE}:53 {{\n    forward . {CUSTOM.host}\n}}\n"
    ctx = probeworlds.azure_context("localdns-skips-vnet-dns")
    w = world(resolver=(LOCAL_VNET,), search=(), dns_policy="Default", context=ctx, name="", vnet_dns=(),
              kube=coredns_objects(custom={"privatelink.server": server}))  # fmt: skip
    assert ids(w.run()) == []


def test_disabled_and_preferred_localdns_pools_are_not_judged() -> None:
    import pytest

    from aksdiag.probe import Skip

    for arm_world in ("localdns-disabled", "localdns-preferred"):
        with pytest.raises(Skip):
            jumpbox(arm_world, {CUSTOM: Split(ok(), silent())}).run()
