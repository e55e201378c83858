"""dns_chain with the cluster's relays on the path (CoreDNS, LocalDNS), and DNS036 (the node's view), from facts.

A relay caches and forwards what the servers behind it say: dns_chain draws it as a hop of its own kind with what
it answered (and its TTL), but never judges or fixes it as a custom DNS server — why a relay disagrees is the
cluster_dns probe's finding. Each world: a pod's or a node's resolv.conf, what each server answers; no socket.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from aksdiag.probes import dns_chain

from aksdiag import codes
from aksdiag.facts import DnsAnswer, DnsQuery, DnsResult, Endpoint, Outcome, ResolverConfig, ResolverConfigNeed
from aksdiag.model import Severity, Status
from aksdiag.probe import Judgement
from aksdiag.settings import Settings

NAME = "aks-x-k3x9q2.5e2c1a7b.privatelink.koreacentral.azmk8s.io"
ZONE = "5e2c1a7b.privatelink.koreacentral.azmk8s.io"
RESOLV = "/lab/resolv.conf"
IP, STALE = "10.224.0.4", "10.224.0.9"

KUBE_DNS = Endpoint("10.0.0.10")
LOCALDNS_KUBE = Endpoint("169.254.10.11")
LOCALDNS_VNET = Endpoint("169.254.10.10")
STUB = Endpoint("127.0.0.53")
AZURE = Endpoint("127.0.0.1", 5302)  # Settings.azure_dns's stand-in for 168.63.129.16
HUB_DNS, HUB_DNS2 = Endpoint("10.1.0.4"), Endpoint("10.1.0.5")  # the VNet's DNS servers now
OLD_DNS = Endpoint("10.9.9.9")  # the VNet's DNS server before the change
POD_SEARCH = ("default.svc.cluster.local", "svc.cluster.local", "cluster.local")


def ok(*addresses: str, ttl: int = 30) -> DnsAnswer:
    return DnsAnswer(Outcome.ANSWER, "NOERROR", addresses or (IP,), elapsed_ms=1.0, ttl=ttl)


def nx(ttl: int = 3600) -> DnsAnswer:
    return DnsAnswer(Outcome.NXDOMAIN, "NXDOMAIN", zone="azmk8s.io", elapsed_ms=1.0, ttl=ttl)


def judge(
    nameservers: Sequence[Endpoint],
    answers: Mapping[Endpoint, DnsAnswer],
    *,
    search: Sequence[str] = (),
    upstreams: Sequence[Endpoint] = (),
    **settings: Any,
) -> Judgement:
    """Judge a world where resolv.conf lists `nameservers`, each server answers as given (Azure DNS: the
    endpoint's address), and every finding sits on a real hop, from the catalogue."""
    s = Settings(azure_dns=AZURE, resolv_conf=RESOLV, expect=(IP,), **settings)
    config = ResolverConfig(RESOLV, nameservers=tuple(nameservers), search=tuple(search), upstreams=tuple(upstreams))
    facts: dict[Hashable, Any] = {ResolverConfigNeed(RESOLV): config}
    for server, answer in {AZURE: ok(ttl=10), **answers}.items():
        for transport in ("udp", "tcp"):
            q = DnsQuery(server, NAME, "A", transport, s.count)
            facts[q] = DnsResult(q, (answer,))
    soa = DnsQuery(AZURE, NAME, "SOA", "udp")
    facts[soa] = DnsResult(soa, (DnsAnswer(Outcome.NODATA, "NOERROR", zone=ZONE),))
    planned = dns_chain.plan(NAME, s, facts)
    asked = {q.server for q in planned if isinstance(q, DnsQuery)}
    assert asked <= set(facts_servers(facts)), f"asks a server the world does not have: {asked}"
    j = dns_chain.judge(NAME, s, facts)
    indices = [h.index for h in j.hops]
    assert indices == list(range(1, len(j.hops) + 1))
    for f in j.findings:
        assert f.title == codes.CATALOGUE[f.id].title and f.id in dns_chain.PROBE.codes
        assert f.hop in indices
    return j


def facts_servers(facts: Mapping[Hashable, Any]) -> list[Endpoint]:
    return [k.server for k in facts if isinstance(k, DnsQuery)]


def hop(j: Judgement, kind: str) -> Any:
    (found,) = [h for h in j.hops if h.kind == kind]
    return found


def no_word_on(j: Judgement, relay: Endpoint) -> None:
    """No finding is shown on the relay's hop, and no finding's text or fix names the relay."""
    relay_hops = {h.index for h in j.hops if h.server == str(relay)}
    for f in j.findings:
        assert f.hop not in relay_hops, (f.id, f.detail)
        for text in (f.detail, f.remediation, f.command or ""):
            assert relay.host not in text, (f.id, text)


# ---------------------------------------------------------------- CoreDNS: a ClusterFirst pod


def test_a_pods_kube_dns_is_a_coredns_relay_not_a_custom_server() -> None:
    j = judge([KUBE_DNS], {KUBE_DNS: nx()}, search=POD_SEARCH, in_cluster=True)
    assert [h.kind for h in j.hops] == ["resolver", "coredns", "azure-dns", "endpoint"]
    relay = hop(j, "coredns")
    assert relay.name == "CoreDNS, kube-dns service" and relay.server == str(KUBE_DNS)
    assert relay.rcode == "NXDOMAIN" and relay.ttl == 3600 and relay.status is Status.FAIL
    assert "judged by cluster_dns" in relay.detail
    assert j.findings == (), "no DNS001/DNS003/DNS005/DNS006/DNS008/DNS017 on CoreDNS"
    assert hop(j, "endpoint").status is Status.FAIL
    assert hop(j, "endpoint").detail.startswith("the pod's resolver gives NXDOMAIN"), "what the pod gets"
    (server,) = [s for s in j.facts["servers"] if s["server"] == str(KUBE_DNS)]
    assert server["roles"] == ["resolver", "relay"] and server["relay"] == "coredns"


def test_the_search_domains_alone_say_a_pods_resolv_conf() -> None:
    j = judge([KUBE_DNS], {KUBE_DNS: ok(STALE)}, search=POD_SEARCH)
    assert hop(j, "coredns").answers == (STALE,)
    assert j.findings == (), "a stale CoreDNS cache is not DNS003 of a custom server"


def test_kube_dns_that_does_not_answer_is_no_dns005() -> None:
    silent = DnsAnswer(Outcome.TIMEOUT, error="timed out")
    j = judge([KUBE_DNS], {KUBE_DNS: silent}, search=POD_SEARCH, in_cluster=True)
    assert j.findings == () and hop(j, "coredns").status is Status.FAIL


def test_with_server_the_custom_server_is_tested_and_coredns_is_not_blamed() -> None:
    j = judge([KUBE_DNS], {KUBE_DNS: ok(STALE), HUB_DNS: nx()}, search=POD_SEARCH, in_cluster=True, servers=(HUB_DNS,))
    assert [h.kind for h in j.hops] == ["resolver", "coredns", "custom-dns", "azure-dns", "endpoint"]
    assert [f.id for f in j.findings] == ["DNS001"], "the custom server lacks the forwarder; no DNS008 on CoreDNS"
    (f,) = j.findings
    assert f.hop == hop(j, "custom-dns").index and HUB_DNS.host in (f.command or "")
    assert "-ComputerName 10.0.0.10" not in (f.command or "")
    no_word_on(j, KUBE_DNS)


def test_with_vnet_dns_the_vnets_servers_are_the_custom_ones() -> None:
    # CoreDNS forwards to the node's servers; `aksdiag pod` passes the VNet's as --vnet-dns: they are tested
    j = judge([KUBE_DNS], {KUBE_DNS: nx(), HUB_DNS: ok()}, search=POD_SEARCH, in_cluster=True, vnet_dns=(HUB_DNS,))
    assert hop(j, "custom-dns").server == str(HUB_DNS) and hop(j, "custom-dns").ttl == 30
    assert j.findings == (), "no DNS008 (CoreDNS answers otherwise: cluster_dns's), no DNS036 (a pod is not the node)"


# ---------------------------------------------------------------- LocalDNS


def test_a_localdns_pod_asks_the_kube_dns_listener() -> None:
    j = judge([LOCALDNS_KUBE], {LOCALDNS_KUBE: nx()}, search=POD_SEARCH, in_cluster=True)
    assert [h.kind for h in j.hops] == ["resolver", "localdns", "azure-dns", "endpoint"]
    relay = hop(j, "localdns")
    assert relay.name == "AKS LocalDNS (kube-dns listener)" and relay.ttl == 3600
    assert j.findings == ()
    no_word_on(j, LOCALDNS_KUBE)


def test_a_localdns_node_asks_the_vnet_dns_listener() -> None:
    j = judge([LOCALDNS_VNET], {LOCALDNS_VNET: ok(STALE)}, in_cluster=True, dns_policy="Default")
    assert [h.kind for h in j.hops] == ["resolver", "localdns", "azure-dns", "endpoint"]
    assert hop(j, "localdns").name == "AKS LocalDNS (VNet DNS listener)"
    assert j.findings == ()
    no_word_on(j, LOCALDNS_VNET)


def test_localdns_behind_the_systemd_stub_is_a_relay_too() -> None:
    j = judge([STUB], {STUB: ok(STALE), LOCALDNS_VNET: ok(STALE)}, upstreams=[LOCALDNS_VNET])
    assert [h.kind for h in j.hops] == ["resolver", "localdns", "azure-dns", "endpoint"]
    assert j.findings == ()
    no_word_on(j, LOCALDNS_VNET)


def test_localdns_given_as_server_is_still_a_relay() -> None:
    j = judge([HUB_DNS], {HUB_DNS: ok(), LOCALDNS_VNET: nx()}, servers=(LOCALDNS_VNET,))
    assert "localdns" in [h.kind for h in j.hops] and "custom-dns" not in [h.kind for h in j.hops]
    no_word_on(j, LOCALDNS_VNET)


# ---------------------------------------------------------------- healthy


def test_healthy_pod_path_raises_nothing_and_shows_each_ttl() -> None:
    j = judge(
        [LOCALDNS_KUBE],
        {LOCALDNS_KUBE: ok(ttl=25), HUB_DNS: ok(ttl=30)},
        search=POD_SEARCH,
        in_cluster=True,
        vnet_dns=(HUB_DNS,),
    )
    assert j.findings == ()
    assert [h.status for h in j.hops if h.kind != "resolver"] == [Status.OK] * 4
    assert [(h.kind, h.ttl) for h in j.hops if h.kind != "endpoint"] == [
        ("resolver", 25),
        ("localdns", 25),
        ("custom-dns", 30),
        ("azure-dns", 10),
    ]


# ---------------------------------------------------------------- DNS036: the node's view


def node(nameservers: Sequence[Endpoint], vnet: Sequence[Endpoint], **kw: Any) -> Judgement:
    answers = {s: ok() for s in [*nameservers, *vnet, *kw.get("upstreams", ())]}
    return judge(nameservers, answers, in_cluster=True, dns_policy="Default", vnet_dns=tuple(vnet), **kw)


def test_dns036_a_node_still_on_the_old_vnet_dns() -> None:
    j = node([OLD_DNS], [HUB_DNS, HUB_DNS2])
    (f,) = j.findings
    assert f.id == "DNS036" and f.severity is Severity.WARNING and f.hop == 1
    assert f.detail == (
        f"the VNet's DNS servers are {HUB_DNS.host}, {HUB_DNS2.host}; the node's resolver ({RESOLV}) uses "
        f"{OLD_DNS.host}: it does not ask {HUB_DNS.host}, {HUB_DNS2.host} and it still asks {OLD_DNS.host}."
    )
    assert "az vmss restart" in f.remediation and "az aks nodepool upgrade --node-image-only" in f.remediation
    assert (f.command or "").startswith("az vmss restart --resource-group <node-resource-group>")
    assert f.evidence["missing"] == [str(HUB_DNS), str(HUB_DNS2)] and f.evidence["extra"] == [str(OLD_DNS)]
    assert hop(j, "resolver").status is Status.WARN


def test_dns036_one_server_missing_behind_the_systemd_stub() -> None:
    j = node([STUB], [HUB_DNS, HUB_DNS2], upstreams=[HUB_DNS])
    (f,) = j.findings
    assert f.id == "DNS036" and f"it does not ask {HUB_DNS2.host}." in f.detail
    assert "still asks" not in f.detail and "systemd-resolved's upstreams" in f.detail


def test_dns036_a_jump_box_given_vnet_dns_renews_its_lease() -> None:
    j = judge([OLD_DNS], {OLD_DNS: ok(), HUB_DNS: ok()}, vnet_dns=(HUB_DNS,))
    (f,) = j.findings
    assert f.id == "DNS036" and "this host's resolver" in f.detail
    assert f.command == "sudo systemctl restart systemd-networkd"


def test_no_dns036_when_the_node_uses_the_vnets_servers_in_any_order() -> None:
    assert node([HUB_DNS2, HUB_DNS], [HUB_DNS, HUB_DNS2]).findings == ()
    assert node([STUB], [HUB_DNS, HUB_DNS2], upstreams=[HUB_DNS2, HUB_DNS]).findings == ()


def test_no_dns036_when_the_vnets_servers_are_unknown() -> None:
    assert node([OLD_DNS], []).findings == ()


def test_no_dns036_behind_localdns_which_forwards_to_the_vnets_servers() -> None:
    assert node([LOCALDNS_VNET], [HUB_DNS]).findings == ()


def test_no_dns036_in_a_clusterfirst_pod() -> None:
    j = judge([KUBE_DNS], {KUBE_DNS: ok(), OLD_DNS: ok()}, search=POD_SEARCH, in_cluster=True, vnet_dns=(OLD_DNS,))
    assert j.findings == ()
