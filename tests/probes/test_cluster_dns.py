"""cluster_dns judged from facts built by hand (CoreDNS): a healthy relay path raises nothing; a world broken one
way raises exactly that code, on the relay's hop, naming what to change. LocalDNS cases: test_cluster_dns_localdns.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from aksdiag.probes import cluster_dns
from aksdiag.probes.cluster_dns.planning import NO_RELAY
from cluster_dns_worlds import (
    AZURE,
    AZURE_IP,
    CUSTOM,
    CUSTOM2,
    IP,
    KUBE_DNS,
    NAME,
    POD1,
    POD2,
    PUBLIC,
    STALE,
    WRONG,
    ZONE,
    Split,
    alarms,
    coredns_objects,
    hop,
    ids,
    nx,
    ok,
    servfail,
    silent,
    the,
    world,
)

from aksdiag.facts import DnsQuery, Endpoint, KubeList, Outcome
from aksdiag.lab import corednsworld
from aksdiag.model import Severity, Status
from aksdiag.probe import Skip

# ---------------------------------------------------------------- healthy worlds: no alarm


def test_a_healthy_coredns_path_raises_nothing_and_draws_each_relay() -> None:
    j = world().run()
    assert ids(j) == []
    assert [(h.kind, h.server, h.status) for h in j.hops] == [
        ("coredns", "10.0.0.10:53", Status.OK),
        ("coredns-pod", "10.244.0.5:53", Status.OK),
        ("coredns-pod", "10.244.1.7:53", Status.OK),
        ("custom-dns", "10.1.0.4:53", Status.OK),
    ]
    assert hop(j, KUBE_DNS).ttl == 30 and "kube-dns: 2 of 2 endpoints ready" in hop(j, KUBE_DNS).detail
    assert "the node's resolver (forward . /etc/resolv.conf)" in hop(j, KUBE_DNS).detail
    assert "pod coredns-6f8d9c5b7-4xk2p on aks-nodepool1-12345678-vmss000000: ready" in hop(j, POD1).detail


def test_a_relay_that_passes_on_its_upstreams_nxdomain_is_no_relay_fault() -> None:
    """The custom server lacks the forwarder (dns_chain's DNS001): CoreDNS relays what it is told, faithfully."""
    j = world({KUBE_DNS: nx(), POD1: nx(), POD2: nx(), CUSTOM: nx()}).run()
    assert ids(j) == [] and hop(j, KUBE_DNS).status is Status.OK


def test_an_override_that_answers_right_is_no_alarm() -> None:
    server = f"{ZONE}:53 {{\n    errors\n    cache 30\n    forward . {CUSTOM2.host}\n}}\n"
    j = world(kube=coredns_objects(custom={"privatelink.server": server})).run()
    assert ids(j) == []
    assert "privatelink.server line 4: forward . 10.1.0.5" in hop(j, KUBE_DNS).detail
    assert hop(j, CUSTOM2).kind == "custom-dns"


def test_from_a_jump_box_the_cluster_ips_are_skipped_not_failed() -> None:
    quiet = {KUBE_DNS: silent(), POD1: silent(), POD2: silent()}
    j = world(quiet, resolver=(CUSTOM,), search=(), in_cluster=False).run()
    assert ids(j) == []
    assert [h.status for h in j.hops[:3]] == [Status.SKIPPED] * 3
    assert (
        "answers only inside the cluster" in hop(j, POD2).detail and f"aksdiag pod -- dns {NAME}" in hop(j, POD2).detail
    )


def test_no_relay_on_the_path_and_no_kube_context_is_skipped() -> None:
    w = world(resolver=(CUSTOM,), search=(), kube=None, in_cluster=False)
    with pytest.raises(Skip, match="no cluster DNS relay on this path"):
        w.run()
    assert NO_RELAY.endswith("or give --kubeconfig")


def test_kube_dns_named_on_another_port_is_one_relay_not_two() -> None:
    """A resolv.conf that names kube-dns with a port (a lab stand-in): that endpoint is the Service's relay."""
    stand_in = Endpoint(KUBE_DNS.host, 5353)
    j = world({stand_in: ok()}, resolver=(stand_in,)).run()
    assert ids(j) == [] and [h.server for h in j.hops if h.kind == "coredns"] == ["10.0.0.10:5353"]


def test_the_queries_are_dns_chains_own() -> None:
    """The same DnsQuery values dns_chain asks (A, UDP and TCP, --count), so the runner sends each once."""
    w = world()
    w.run()
    assert {(q.server, q.transport) for q in w.asked} >= {
        (KUBE_DNS, "udp"),
        (KUBE_DNS, "tcp"),
        (CUSTOM, "tcp"),
        (AZURE, "udp"),
    }
    assert all(q == DnsQuery(q.server, NAME, "A", q.transport, 1) for q in w.asked)


# ---------------------------------------------------------------- DNS029: CoreDNS not serving


def test_dns029_no_ready_endpoint_is_an_error() -> None:
    j = world({KUBE_DNS: silent(), POD1: silent(), POD2: silent()}, kube="coredns-no-endpoints").run()
    f = the(j, "DNS029")
    assert alarms(j) == ["DNS029"] and f.severity is Severity.ERROR and f.hop == hop(j, KUBE_DNS).index
    assert "kube-dns (10.0.0.10) has 0 of 2 endpoints ready" in f.detail
    assert f.command == f"kubectl -n kube-system logs {corednsworld.PODS[0][0]} --previous"


def test_a_cluster_without_kube_dns_objects_has_no_coredns_to_judge() -> None:
    """A kube world that models no kube-dns at all (no Service, no slice, no pod): no DNS029 out of nothing."""
    assert ids(world(kube=[]).run()) == []


def test_dns029_a_crash_looping_pod_beside_a_ready_one_is_a_warning() -> None:
    j = world({POD2: silent()}, kube="coredns-crashloop").run()
    f = the(j, "DNS029")
    assert alarms(j) == ["DNS029"] and f.severity is Severity.WARNING  # the failing pod's silence: DNS029's, not DNS030
    assert (
        "coredns-6f8d9c5b7-q9wzt on aks-nodepool1-12345678-vmss000001 is not ready (CrashLoopBackOff, 37 restarts, last Error, exit 1)"
        in f.detail
    )


def test_dns029_a_pod_not_ready() -> None:
    j = world(kube="coredns-pod-not-ready").run()
    assert alarms(j) == ["DNS029"] and the(j, "DNS029").severity is Severity.WARNING
    assert "1 of 2 endpoints ready" in the(j, "DNS029").detail


# ---------------------------------------------------------------- DNS030: one pod or one path fails


def test_dns030_one_pod_silent_while_the_other_and_the_service_answer() -> None:
    j = world({POD2: silent()}).run()
    f = the(j, "DNS030")
    assert alarms(j) == ["DNS030"] and f.severity is Severity.WARNING and f.hop == hop(j, POD2).index
    assert f.detail == (
        "10.244.1.7 (CoreDNS pod) over UDP and TCP: no reply (no answer (timed out) (timeout in test)), while "
        "10.0.0.10 and 10.244.0.5 over UDP and TCP answer."
    )
    assert "network policy" in f.remediation and f.command == "kubectl get networkpolicy --all-namespaces"


def test_dns030_the_service_ip_over_udp_is_an_error() -> None:
    j = world({KUBE_DNS: Split(silent(), ok())}).run()
    f = the(j, "DNS030")
    assert f.severity is Severity.ERROR and f.hop == hop(j, KUBE_DNS).index and "UDP/53" in f.remediation


def test_dns030_is_never_raised_from_outside_the_cluster() -> None:
    j = world({POD2: silent()}, resolver=(CUSTOM,), search=(), in_cluster=False).run()
    assert ids(j) == [] and hop(j, POD2).status is Status.SKIPPED


# ---------------------------------------------------------------- DNS031: a coredns-custom override


def test_dns031_a_custom_forward_to_a_server_without_the_zone() -> None:
    wrong = {KUBE_DNS: nx(), POD1: nx(), POD2: nx(), WRONG: nx()}
    j = world(wrong, kube="coredns-custom-forward").run()
    f = the(j, "DNS031")
    assert alarms(j) == ["DNS031"] and f.hop == hop(j, KUBE_DNS).index
    assert (
        "coredns-custom's privatelink.server (line 4) forwards privatelink.koreacentral.azmk8s.io to 10.1.0.99"
        in f.detail
    )
    assert "10.1.0.99 (forward target) answers NXDOMAIN" in f.detail and "answer 10.224.0.4" in f.detail
    assert f.command == "kubectl -n kube-system edit configmap coredns-custom"
    assert "kubectl -n kube-system rollout restart deployment coredns" in f.remediation


def test_dns031_inferred_from_the_forward_target_when_coredns_is_out_of_reach() -> None:
    quiet = {KUBE_DNS: silent(), POD1: silent(), POD2: silent(), WRONG: nx()}
    j = world(quiet, kube="coredns-custom-forward", resolver=(CUSTOM,), search=(), in_cluster=False).run()
    assert alarms(j) == ["DNS031"] and "inferred from the servers it forwards to" in the(j, "DNS031").detail


def test_dns031_a_rewrite_to_the_public_zone() -> None:
    public_name = NAME.replace(".privatelink.", ".")
    answers = {KUBE_DNS: ok(PUBLIC), POD1: ok(PUBLIC), POD2: ok(PUBLIC)}
    j = world(answers, kube="coredns-custom-rewrite", by_name={(CUSTOM, public_name): ok(PUBLIC)}).run()
    f = the(j, "DNS031")
    assert alarms(j) == ["DNS031"]
    assert f"privatelink.override (line 1) rewrites {NAME} to {public_name}" in f.detail
    assert "remove or correct the rewrite" in f.remediation


# ---------------------------------------------------------------- DNS032: a cached answer


def test_dns032_coredns_serves_a_cached_nxdomain_after_the_fix() -> None:
    cached = {KUBE_DNS: nx(ttl=20), POD1: nx(ttl=20), POD2: nx(ttl=20), CUSTOM: ok(ttl=3600)}
    j = world(cached).run()
    f = the(j, "DNS032")
    assert alarms(j) == ["DNS032"] and f.hop == hop(j, KUBE_DNS).index
    assert (
        "answers NXDOMAIN (TTL 20) for" in f.detail
        and "the servers behind it (10.1.0.4 (VNet DNS)) now answer 10.224.0.4" in f.detail
    )
    assert "expires in 20 s, at 14:00:31 UTC" in f.detail
    assert "CoreDNS's cache (Corefile line 14) caps a denial at 30 s" in f.detail
    assert "the CoreDNS pods 10.244.0.5 and 10.244.1.7 answer it from their caches too" in f.detail
    assert f.command == "kubectl -n kube-system rollout restart deployment coredns"
    assert hop(j, KUBE_DNS).ttl == 20 and hop(j, KUBE_DNS).status is Status.FAIL


def test_dns032_one_pod_keeps_an_old_address() -> None:
    j = world({POD2: ok(STALE, ttl=1204)}).run()
    f = the(j, "DNS032")
    assert alarms(j) == ["DNS032"] and f.hop == hop(j, POD2).index
    assert "expires in 1,204 s, at 14:20:15 UTC" in f.detail


def test_dns032_is_a_warning_when_the_cache_keeps_the_right_answer_the_servers_lost() -> None:
    j = world({CUSTOM: nx()}, expect=(IP,)).run()
    assert alarms(j) == ["DNS032"] and the(j, "DNS032").severity is Severity.WARNING


def test_a_disagreement_between_upstreams_is_no_cache_verdict() -> None:
    """A forward to two servers that disagree: which one CoreDNS asked is not known, so no DNS032."""
    server = f"{ZONE}:53 {{\n    forward . {CUSTOM.host} {CUSTOM2.host}\n}}\n"
    j = world({CUSTOM2: ok(STALE)}, kube=coredns_objects(custom={"privatelink.server": server})).run()
    assert "DNS032" not in ids(j)


# ---------------------------------------------------------------- DNS033: the upstream fails


def test_dns033_coredns_servfails_and_its_upstream_is_dead() -> None:
    dead = {KUBE_DNS: servfail(), POD1: servfail(), POD2: servfail(), CUSTOM: silent(), AZURE: silent()}
    j = world(dead).run()
    f = the(j, "DNS033")
    assert alarms(j) == ["DNS033"] and f.severity is Severity.ERROR and f.hop == hop(j, KUBE_DNS).index
    assert "its upstream 10.1.0.4 (VNet DNS) gives no answer (timed out" in f.detail
    assert hop(j, CUSTOM).status is Status.FAIL


def test_dns033_an_override_to_a_silent_server_names_the_key() -> None:
    dead = {KUBE_DNS: servfail(), POD1: servfail(), POD2: servfail(), WRONG: silent()}
    j = world(dead, kube="coredns-custom-forward").run()
    assert alarms(j) == ["DNS033"] and "coredns-custom's privatelink.server (line 4)" in the(j, "DNS033").remediation


def test_dns033_serve_stale_masking_a_dead_upstream_is_a_warning() -> None:
    stale = ".:53 {\n    cache 30 {\n        serve_stale 3600s\n    }\n    forward . /etc/resolv.conf\n}\n"
    objects = coredns_objects()
    for o in objects:
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "coredns":
            o["data"] = {"Corefile": stale}
    gone = {KUBE_DNS: ok(ttl=0), POD1: ok(ttl=0), POD2: ok(ttl=0), CUSTOM: silent()}
    j = world(gone, kube=objects).run()
    f = the(j, "DNS033")
    assert alarms(j) == ["DNS033"] and f.severity is Severity.WARNING
    assert "with TTL 0 (serve-stale) for up to 3600 s more" in f.detail


# ---------------------------------------------------------------- DNS035: forwarded past the VNet's servers


def test_dns035_a_custom_forward_straight_to_azure_dns_skips_the_hub_forwarder() -> None:
    server = f"{ZONE}:53 {{\n    forward . {AZURE_IP.host}\n}}\n"
    answers = {KUBE_DNS: nx(), POD1: nx(), POD2: nx(), AZURE_IP: nx()}
    j = world(answers, kube=coredns_objects(custom={"privatelink.server": server})).run()
    f = the(j, "DNS035")
    assert alarms(j) == ["DNS035"] and f.hop == hop(j, KUBE_DNS).index
    assert (
        "sends" in f.detail
        and "to 168.63.129.16 (Azure DNS)" in f.detail
        and "the VNet's DNS servers 10.1.0.4" in f.detail
    )
    assert f.remediation.startswith(
        "In coredns-custom's privatelink.server, forward privatelink.koreacentral.azmk8s.io to 10.1.0.4"
    )


def test_a_forward_to_azure_dns_in_a_vnet_that_uses_azure_dns_is_no_alarm() -> None:
    server = f"{ZONE}:53 {{\n    forward . {AZURE_IP.host}\n}}\n"
    j = world(kube=coredns_objects(custom={"privatelink.server": server}), vnet_dns=(AZURE,)).run()
    assert ids(j) == []


# ---------------------------------------------------------------- DNS037: objects that could not be read


def test_dns037_a_denied_configmap_names_the_rule_and_the_rest_still_runs() -> None:
    j = world({POD2: silent()}, deny=("coredns-custom",)).run()
    f = the(j, "DNS037")
    assert ids(j) == ["DNS030", "DNS037"] and f.severity is Severity.INFO and f.hop is None
    assert "get on configmaps/coredns-custom" in f.remediation and "aksdiag-coredns-reader" in f.remediation
    assert f.detail.startswith("the ConfigMap kube-system/coredns-custom could not be read (configmaps")


def test_dns037_one_finding_for_a_missing_role_that_refuses_both_configmaps() -> None:
    j = world(deny=("coredns", "coredns-custom")).run()
    f = the(j, "DNS037")
    assert ids(j) == ["DNS037"] and "get on configmaps/coredns and get on configmaps/coredns-custom" in f.remediation
    assert f.detail.startswith("the ConfigMaps kube-system/coredns and kube-system/coredns-custom could not be read")
    assert "AKS's default (forward . /etc/resolv.conf) is assumed" in f.detail
    assert "the coredns ConfigMap was not read: AKS's default assumed" in hop(j, KUBE_DNS).detail


def test_an_unreachable_api_server_is_unread_not_a_finding() -> None:
    def down(facts: dict, settings: object) -> None:
        for need in list(facts):
            if getattr(need, "resource", "") == "pods":
                facts[need] = KubeList(status=0, error="connection refused", failure="unreachable")

    j = world(edit=down).run()
    assert ids(j) == [] and j.unread == ("listing pods: unreachable: connection refused",)


def test_a_missing_coredns_custom_is_no_finding() -> None:
    objects = [o for o in coredns_objects() if o["metadata"]["name"] != "coredns-custom"]
    assert ids(world(kube=objects).run()) == []


# ---------------------------------------------------------------- the catalogue


def test_every_code_of_the_probe_has_a_broken_world() -> None:
    folder = Path(__file__).parent
    here = (folder / "test_cluster_dns.py").read_text() + (folder / "test_cluster_dns_localdns.py").read_text()
    for code in cluster_dns.PROBE.codes:
        assert f"test_{code.lower()}_" in here, code


def test_hops_carry_the_answers_ttl_and_outcome() -> None:
    j = world({KUBE_DNS: nx(ttl=5), POD1: nx(ttl=5), POD2: nx(ttl=5), CUSTOM: nx(ttl=5)}).run()
    h = hop(j, KUBE_DNS)
    assert (h.rcode, h.ttl, h.answers) == ("NXDOMAIN", 5, ())
    assert Endpoint("10.0.0.10") == KUBE_DNS and Outcome.NXDOMAIN.label in h.detail
