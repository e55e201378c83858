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
    assert "LocalDNS of pool nodes forwards . with protocol ForceTCP (vnetDNSOverrides)" in f.detail
    assert "10.1.0.4 (VNet DNS) does not answer over TCP" in f.detail and "over UDP it answers 10.224.0.4" in f.detail
    assert f.command == (
        "az aks nodepool update --resource-group rg-aks --cluster-name aks-x --name nodes "
        "--localdns-config ./localdnsconfig.json"
    )


def test_dns034_is_seen_from_a_jump_box_by_the_profile_alone() -> None:
    ctx = azure_context(localdns=localdns_profile(vnet=FORCE_TCP))
    j = world({CUSTOM: Split(ok(), silent())}, resolver=(CUSTOM,), search=(), kube=None, in_cluster=False,
              context=ctx, name="").run()  # fmt: skip
    assert alarms(j) == ["DNS034"] and the(j, "DNS034").hop == hop(j, CUSTOM).index


def test_force_tcp_towards_a_server_that_serves_tcp_is_no_alarm() -> None:
    ctx = azure_context(localdns=localdns_profile(vnet=FORCE_TCP))
    j = world(resolver=(LOCAL_VNET,), search=(), dns_policy="Default", context=ctx, name="").run()
    assert ids(j) == []


def test_a_disabled_localdns_pool_is_not_judged_from_a_jump_box() -> None:
    ctx = azure_context(localdns={**localdns_profile(vnet=FORCE_TCP), "mode": "Disabled", "state": "Disabled"})
    w = world({CUSTOM: Split(ok(), silent())}, resolver=(CUSTOM,), search=(), kube=None, in_cluster=False,
              context=ctx, name="")  # fmt: skip
    try:
        w.run()
    except Exception as e:  # Skip: no relay, no kube context, no LocalDNS pool
        assert "no cluster DNS relay" in str(e)
    else:
        raise AssertionError("expected a Skip")


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
