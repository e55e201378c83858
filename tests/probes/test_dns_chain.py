"""dns_chain judged from facts built by hand: no socket, no lab server.

Each test builds a world — what every DNS server answers over UDP and TCP, what resolv.conf lists, the run's
settings — with `world(...)`, then reads the probe's hops and findings like a scenario. One world broken exactly one
way per code the probe owns, a healthy world with no finding, and the resolver semantics the verdict rests on.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import probeworlds
import pytest
from aksdiag.probes import dns_chain
from aksdiag.probes.dns_chain.fixes import bind as bind_statement

from aksdiag import codes
from aksdiag.dnsnames import relative_record
from aksdiag.facts import (
    AzureContext,
    AzureContextNeed,
    DnsAnswer,
    DnsQuery,
    DnsResult,
    Endpoint,
    Outcome,
    ResolverConfig,
    ResolverConfigNeed,
)
from aksdiag.lab.scenarios import CLUSTER_FQDN
from aksdiag.model import Finding, Severity, Status
from aksdiag.probe import Judgement, Skip
from aksdiag.settings import Settings

# ---------------------------------------------------------------- the cast

NAME = "aks-x-k3x9q2.5e2c1a7b.privatelink.koreacentral.azmk8s.io"
PRIVATE_ZONE = "5e2c1a7b.privatelink.koreacentral.azmk8s.io"  # the cluster's own (GUID) private zone
FORWARD_ZONE = "privatelink.koreacentral.azmk8s.io"  # what a conditional forwarder must name
OTHER_NAME = "api.contoso.internal"  # not an AKS name

CUSTOM = Endpoint("127.0.0.1", 5301)
AZURE = Endpoint("127.0.0.1", 5302)  # stands in for 168.63.129.16 (Settings.azure_dns)
CUSTOM2 = Endpoint("127.0.0.1", 5303)
OLD = Endpoint("127.0.0.1", 5399)  # a nameserver the host still uses, not one of the custom servers
STUB = Endpoint("127.0.0.53")
COREDNS = Endpoint("10.0.0.10")
RESOLV = "/lab/resolv.conf"

IP = "10.224.0.4"  # the private endpoint
STALE = "10.224.0.9"  # where the endpoint used to be
PUBLIC = "20.41.65.7"  # what public DNS gives


# ---------------------------------------------------------------- answers


def ok(*addresses: str, ms: float = 2.0) -> DnsAnswer:
    return DnsAnswer(Outcome.ANSWER, "NOERROR", addresses or (IP,), elapsed_ms=ms)


def nx(zone: str | None = "azmk8s.io") -> DnsAnswer:
    """NXDOMAIN, with the owner of the SOA in the reply (public DNS: azmk8s.io)."""
    return DnsAnswer(Outcome.NXDOMAIN, "NXDOMAIN", zone=zone, elapsed_ms=2.0)


def nodata(zone: str | None = None) -> DnsAnswer:
    return DnsAnswer(Outcome.NODATA, "NOERROR", zone=zone, elapsed_ms=2.0)


def servfail() -> DnsAnswer:
    return DnsAnswer(Outcome.SERVFAIL, "SERVFAIL", elapsed_ms=2.0)


def refused() -> DnsAnswer:
    return DnsAnswer(Outcome.REFUSED, "REFUSED", elapsed_ms=2.0)


def silent(outcome: Outcome = Outcome.TIMEOUT) -> DnsAnswer:
    return DnsAnswer(outcome, error=f"{outcome.value} in test")


@dataclass(frozen=True)
class Split:
    """A server that answers UDP and TCP differently; each side one answer (every sample) or a list of samples."""

    udp: DnsAnswer | list[DnsAnswer]
    tcp: DnsAnswer | list[DnsAnswer]


Spec = DnsAnswer | list[DnsAnswer] | Split
"""A server's answers: the same on UDP and TCP (one answer for every sample, or the samples), or a Split."""


def _samples(given: DnsAnswer | list[DnsAnswer], count: int) -> tuple[DnsAnswer, ...]:
    return tuple(given) if isinstance(given, list) else (given,) * count


# ---------------------------------------------------------------- worlds


@dataclass
class World:
    name: str
    """The name the probe is asked about ("" with an Azure context: the cluster's FQDN)."""
    settings: Settings
    facts: dict[Hashable, Any]

    def plan(self, facts: Mapping[Hashable, Any] | None = None) -> list[Hashable]:
        return dns_chain.plan(self.name, self.settings, self.facts if facts is None else facts)

    def judge(self) -> Judgement:
        j = dns_chain.judge(self.name, self.settings, self.facts)
        _check_invariants(j)
        return j


def world(
    custom: Spec | None = None,
    azure: Spec | None = None,
    *,
    others: Mapping[Endpoint, Spec] | None = None,
    resolver: Sequence[Endpoint] = (CUSTOM,),
    upstreams: Sequence[Endpoint] = (),
    search: Sequence[str] = (),
    rotate: bool = False,
    resolv_error: str | None = None,
    name: str = NAME,
    ask: str | None = None,
    soa: str | None = PRIVATE_ZONE,
    context: AzureContext | None = None,
    **settings: Any,
) -> World:
    """A world where CUSTOM answers `custom`, Azure DNS answers `azure` (both default: the endpoint's address),
    `others` answer what they are given, and resolv.conf lists `resolver`. Azure DNS's SOA query names `soa`,
    unless Azure DNS does not answer at all. `settings` go to Settings as they are."""
    if context is not None:
        settings["azure"] = context.need
    s = Settings(azure_dns=AZURE, resolv_conf=RESOLV, **settings)
    facts: dict[Hashable, Any] = {
        ResolverConfigNeed(RESOLV): ResolverConfig(RESOLV, error=resolv_error)
        if resolv_error
        else ResolverConfig(
            RESOLV,
            nameservers=tuple(resolver),
            upstreams=tuple(upstreams),
            search=tuple(search),
            rotate=rotate,
        )
    }
    if context is not None:
        facts[context.need] = context
    servers: dict[Endpoint, Spec] = {
        CUSTOM: ok() if custom is None else custom,
        AZURE: ok() if azure is None else azure,
    }
    servers.update(others or {})
    for server, spec in servers.items():
        for transport in ("udp", "tcp"):
            side = getattr(spec, transport) if isinstance(spec, Split) else spec
            q = DnsQuery(server, name, "A", transport, s.count)
            facts[q] = DnsResult(q, _samples(side, s.count))
    azure_answers = [a for k, v in facts.items() if isinstance(k, DnsQuery) and k.server == AZURE for a in v.answers]
    soa_query = DnsQuery(AZURE, name, "SOA", "udp")
    if any(a.outcome.responded for a in azure_answers):
        facts[soa_query] = DnsResult(soa_query, (nodata(soa),))
    else:
        facts[soa_query] = DnsResult(soa_query, (silent(),))
    return World(name if ask is None else ask, s, facts)


def _check_invariants(j: Judgement) -> None:
    """What holds for every finding of every world: from the catalogue, owned by the probe, on a real hop."""
    indices = [h.index for h in j.hops]
    assert indices == list(range(1, len(j.hops) + 1))
    for f in j.findings:
        entry = codes.CATALOGUE[f.id]
        assert f.id in dns_chain.PROBE.codes
        assert f.title == entry.title
        assert f.severity is entry.severity
        assert f.probe == "dns_chain"
        assert f.docs == entry.docs
        assert f.hop in indices, f"{f.id} shown on hop {f.hop}, which does not exist"
        hop = j.hops[f.hop - 1]
        if f.severity is Severity.ERROR:
            assert hop.status is Status.FAIL, f"{f.id} on hop {hop.index} ({hop.status})"
        if f.severity is Severity.WARNING:
            assert hop.status in (Status.WARN, Status.FAIL), f"{f.id} on hop {hop.index} ({hop.status})"


def ids(j: Judgement) -> list[str]:
    """The codes found, sorted, repeats kept (a code raised twice shows twice)."""
    return sorted(f.id for f in j.findings)


def the(j: Judgement, code: str) -> Finding:
    found = [f for f in j.findings if f.id == code]
    assert len(found) == 1, [(f.id, f.detail) for f in j.findings]
    return found[0]


def hop(j: Judgement, kind: str, server: Endpoint | None = None) -> Any:
    (found,) = [h for h in j.hops if h.kind == kind and (server is None or h.server == str(server))]
    return found


# ---------------------------------------------------------------- an Azure context, by hand

SPOKE = "/subscriptions/sub-1/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/spoke"
HUB_DNS = Endpoint("10.1.0.4")
HOST_DNS = Endpoint("10.9.9.9")
CONTEXT_NEED = AzureContextNeed("sub-1", "rg-aks", "aks-x", "https://127.0.0.1:1")


def azure_context(
    vnet_dns: Sequence[str] = (HUB_DNS.host,), endpoint_ip: str | None = IP, fqdn: str = NAME
) -> AzureContext:
    """The cluster in the spoke VNet, whose DNS servers are `vnet_dns` (empty: Azure DNS), its endpoint at `endpoint_ip`."""
    cluster = {
        "id": CONTEXT_NEED.cluster_id,
        "properties": {
            "privateFQDN": fqdn,
            "agentPoolProfiles": [{"name": "nodes", "vnetSubnetID": f"{SPOKE}/subnets/nodes"}],
        },
    }
    vnet = {"id": SPOKE, "properties": {"dhcpOptions": {"dnsServers": list(vnet_dns)}}}
    endpoints = []
    if endpoint_ip:
        nic = {"properties": {"ipConfigurations": [{"properties": {"privateIPAddress": endpoint_ip}}]}}
        endpoints.append({"endpoint": {"properties": {}}, "nics": [nic]})
    return AzureContext(need=CONTEXT_NEED, cluster=cluster, vnets={SPOKE.lower(): vnet}, endpoints=endpoints)


# ---------------------------------------------------------------- one broken world per code

BROKEN: dict[str, tuple[Any, list[str]]] = {
    # custom server has no forwarder: NXDOMAIN from public DNS, while Azure DNS knows the name
    "DNS001": (lambda: world(custom=nx()), ["DNS001"]),
    # Azure DNS itself has no record (the custom server forwards faithfully, so it says the same)
    "DNS002": (lambda: world(custom=nx(PRIVATE_ZONE), azure=nx(PRIVATE_ZONE)), ["DNS002"]),
    # custom server holds a stale copy of the zone
    "DNS003": (lambda: world(custom=ok(STALE), expect=(IP,)), ["DNS003"]),
    # custom server forwards the private name to the internet
    "DNS004": (lambda: world(custom=ok(PUBLIC)), ["DNS004"]),
    # custom server is dead
    "DNS005": (lambda: world(custom=silent()), ["DNS005"]),
    # custom server cannot reach its forwarder
    "DNS006": (lambda: world(custom=servfail()), ["DNS006"]),
    # the record itself is stale: everyone agrees on the wrong address
    "DNS007": (lambda: world(custom=ok(STALE), azure=ok(STALE), expect=(IP,)), ["DNS007"]),
    # the host still asks an old server that does not know the name
    "DNS008": (lambda: world(resolver=(OLD,), servers=(CUSTOM,), others={OLD: nx()}), ["DNS008"]),
    # one of four UDP queries lost
    "DNS009": (lambda: world(custom=Split([ok(), silent(), ok(), ok()], ok()), count=4), ["DNS009"]),
    # not inside Azure: 168.63.129.16 does not answer
    "DNS010": (lambda: world(azure=silent()), ["DNS010"]),
    # the VNet says the hub's DNS server, the host still lists another
    "DNS013": (
        lambda: world(resolver=(HOST_DNS,), others={HUB_DNS: ok(), HOST_DNS: ok()}, context=azure_context(), ask=""),
        ["DNS013"],
    ),
    # the VNet's DNS servers changed to the custom server, the node still asks the old one (F5)
    "DNS036": (
        lambda: world(resolver=(OLD,), others={OLD: ok()}, vnet_dns=(CUSTOM,), in_cluster=True, dns_policy="Default"),
        ["DNS036"],
    ),
    # TCP 53 blocked to the custom server
    "DNS017": (lambda: world(custom=Split(ok(), silent(Outcome.UNREACHABLE))), ["DNS017"]),
    # resolv.conf mixes the custom server and Azure DNS
    "DNS018": (lambda: world(resolver=(CUSTOM, AZURE)), ["DNS018"]),
    # the custom server does not recurse for this client
    "DNS020": (lambda: world(custom=refused()), ["DNS020"]),
    # the custom server's copy of the zone makes the name a CNAME loop (not DNS001: it answers, badly)
    "DNS021": (
        lambda: world(custom=DnsAnswer(Outcome.CNAME_LOOP, "NOERROR", cname_chain=("alias.x", NAME), error="loop")),
        ["DNS021"],
    ),
    # an appliance answers NOTIMP (not DNS005: it did answer; not DNS001: it never said the name is missing)
    "DNS022": (lambda: world(custom=DnsAnswer(Outcome.RCODE, "NOTIMP", error="NOTIMP: not implemented")), ["DNS022"]),
}


def test_every_code_of_the_probe_has_a_broken_world() -> None:
    assert set(BROKEN) == set(dns_chain.PROBE.codes)


@pytest.mark.parametrize("code", sorted(BROKEN))
def test_a_world_broken_one_way_raises_exactly_that_code(code: str) -> None:
    build, expected = BROKEN[code]
    j = build().judge()
    assert ids(j) == expected, [(f.id, f.detail) for f in j.findings]
    assert codes.CATALOGUE[code].title == the(j, code).title


# ---------------------------------------------------------------- a healthy world


def test_healthy_world_raises_nothing_and_every_hop_is_ok() -> None:
    j = world(expect=(IP,)).judge()
    assert j.findings == ()
    assert [(h.index, h.kind) for h in j.hops] == [
        (1, "resolver"),
        (2, "custom-dns"),
        (3, "azure-dns"),
        (4, "endpoint"),
    ]
    assert all(h.status is Status.OK for h in j.hops), [(h.kind, h.status) for h in j.hops]
    assert [h.server for h in j.hops] == [str(CUSTOM), str(CUSTOM), str(AZURE), None]
    assert all(h.answers == (IP,) for h in j.hops)
    assert hop(j, "azure-dns").detail.endswith(f"zone {PRIVATE_ZONE}")
    assert hop(j, "azure-dns").name == "Azure DNS" and hop(j, "custom-dns").name == "custom DNS"


def test_healthy_world_over_many_samples_is_still_healthy() -> None:
    j = world(custom=[ok(ms=3), ok(ms=4), ok(ms=5), ok(ms=6)], count=4, expect=(IP,)).judge()
    assert j.findings == ()
    assert "(4 sent, 0 lost" in hop(j, "custom-dns").detail


def test_healthy_world_facts_summarise_servers_and_zones() -> None:
    j = world(expect=(IP,)).judge()
    assert j.facts["name"] == NAME
    assert j.facts["zone"] == PRIVATE_ZONE
    assert j.facts["forward_zone"] == FORWARD_ZONE
    assert j.facts["expect"] == [IP]
    roles = {s["server"]: s["roles"] for s in j.facts["servers"]}
    assert roles == {str(CUSTOM): ["resolver", "custom-dns"], str(AZURE): ["azure-dns"]}


def test_without_expect_there_is_no_endpoint_hop() -> None:
    j = world().judge()
    assert [h.kind for h in j.hops] == ["resolver", "custom-dns", "azure-dns"]
    assert j.findings == ()


# ---------------------------------------------------------------- planning


def test_plan_reads_resolv_conf_first_then_asks_every_server_over_udp_and_tcp() -> None:
    w = world(resolver=(CUSTOM, CUSTOM2), others={CUSTOM2: ok()})
    assert w.plan({}) == [ResolverConfigNeed(RESOLV)], "first round: only the resolver configuration"
    needs = w.plan()
    assert needs[0] == ResolverConfigNeed(RESOLV)
    queries = [n for n in needs if isinstance(n, DnsQuery)]
    assert {(q.server, q.rdtype, q.transport) for q in queries} == {
        (CUSTOM, "A", "udp"), (CUSTOM, "A", "tcp"),
        (CUSTOM2, "A", "udp"), (CUSTOM2, "A", "tcp"),
        (AZURE, "A", "udp"), (AZURE, "A", "tcp"),
        (AZURE, "SOA", "udp"),
    }  # fmt: skip
    assert len(needs) == len(set(needs)), "a server that is both a nameserver and a custom server is asked once"
    assert all(q.name == NAME for q in queries)
    assert all(n in w.facts for n in needs), "the world holds a fact for every need of the second round"


def test_plan_sends_count_samples_per_query() -> None:
    w = world(count=4)
    a_queries = [n for n in w.plan() if isinstance(n, DnsQuery) and n.rdtype == "A"]
    assert a_queries and all(q.samples == 4 for q in a_queries)


def test_plan_without_the_resolver_asks_the_servers_at_once() -> None:
    w = world(servers=(CUSTOM,), use_resolver=False)
    needs = w.plan({})
    assert ResolverConfigNeed(RESOLV) not in needs
    assert DnsQuery(CUSTOM, NAME, "A", "tcp") in needs and DnsQuery(AZURE, NAME, "SOA", "udp") in needs


def test_plan_skips_without_a_name() -> None:
    with pytest.raises(Skip, match="no name to trace"):
        dns_chain.plan("", Settings(azure_dns=AZURE, resolv_conf=RESOLV), {})


def test_plan_with_an_azure_context_reads_it_first_then_traces_the_clusters_fqdn() -> None:
    w = world(resolver=(HOST_DNS,), others={HUB_DNS: ok(), HOST_DNS: ok()}, context=azure_context(), ask="")
    assert w.plan({}) == [ResolverConfigNeed(RESOLV), CONTEXT_NEED]
    needs = w.plan()
    assert DnsQuery(HUB_DNS, NAME, "A", "udp") in needs, "the VNet's DNS server is a custom server"
    assert DnsQuery(HOST_DNS, NAME, "A", "udp") in needs, "the host's nameserver is still asked as the resolver"


def test_plan_skips_when_the_azure_context_has_no_fqdn() -> None:
    w = world(context=azure_context(fqdn=""), ask="")
    with pytest.raises(Skip, match="FQDN"):
        w.plan()


# ---------------------------------------------------------------- hops: kinds, order, resolver semantics


def test_hops_are_resolver_then_each_custom_server_then_azure_dns_then_the_endpoint() -> None:
    j = world(resolver=(CUSTOM, CUSTOM2), others={CUSTOM2: ok()}, expect=(IP,)).judge()
    assert [(h.kind, h.server) for h in j.hops] == [
        ("resolver", str(CUSTOM)),
        ("custom-dns", str(CUSTOM)),
        ("custom-dns", str(CUSTOM2)),
        ("azure-dns", str(AZURE)),
        ("endpoint", None),
    ]
    assert [h.index for h in j.hops] == [1, 2, 3, 4, 5]
    assert j.findings == ()


def test_resolver_tries_the_next_nameserver_when_the_first_times_out() -> None:
    j = world(custom=silent(), resolver=(CUSTOM, CUSTOM2), others={CUSTOM2: ok(ms=7)}).judge()
    resolver = hop(j, "resolver")
    assert resolver.server == str(CUSTOM2) and resolver.answers == (IP,) and resolver.elapsed_ms == 7
    assert resolver.status is Status.OK
    assert resolver.detail.endswith(f"answered by {CUSTOM2.short}")
    assert ids(j) == ["DNS005"]
    assert the(j, "DNS005").hop == hop(j, "custom-dns", CUSTOM).index == 2
    assert hop(j, "custom-dns", CUSTOM2).status is Status.OK


def test_resolver_stops_at_an_nxdomain_from_the_first_nameserver() -> None:
    # NXDOMAIN is an answer: glibc does not ask the second nameserver, so the host cannot resolve the name
    j = world(custom=nx(), resolver=(CUSTOM, CUSTOM2), others={CUSTOM2: ok()}).judge()
    resolver = hop(j, "resolver")
    assert resolver.server == str(CUSTOM) and resolver.rcode == "NXDOMAIN" and resolver.answers == ()
    assert resolver.status is Status.FAIL
    assert ids(j) == ["DNS001"] and the(j, "DNS001").hop == 2


def test_resolver_moves_past_refused_and_servfail() -> None:
    j = world(custom=refused(), resolver=(CUSTOM, CUSTOM2), others={CUSTOM2: ok()}).judge()
    assert hop(j, "resolver").server == str(CUSTOM2)
    assert ids(j) == ["DNS020"]
    j = world(custom=servfail(), resolver=(CUSTOM, CUSTOM2), others={CUSTOM2: ok()}).judge()
    assert hop(j, "resolver").server == str(CUSTOM2)
    assert ids(j) == ["DNS006"]


def test_resolver_with_no_nameserver_answering_fails_its_hop() -> None:
    j = world(custom=silent(), resolver=(CUSTOM, CUSTOM2), others={CUSTOM2: silent()}).judge()
    resolver = hop(j, "resolver")
    assert resolver.status is Status.FAIL
    assert resolver.detail.endswith("no nameserver answered")
    assert ids(j) == ["DNS005", "DNS005"]
    assert {f.hop for f in j.findings} == {2, 3}


def test_resolver_detail_lists_nameservers_search_and_options() -> None:
    j = world(search=("corp.contoso.com",), rotate=True).judge()
    detail = hop(j, "resolver").detail
    assert detail.startswith(f"{RESOLV}: nameservers {CUSTOM.short} (custom DNS)")
    assert "search corp.contoso.com, ndots:1" in detail
    assert "options rotate" in detail


def test_unreadable_resolv_conf_skips_the_resolver_hop_only() -> None:
    j = world(servers=(CUSTOM,), resolv_error="cannot read /lab/resolv.conf: denied").judge()
    assert hop(j, "resolver").status is Status.SKIPPED and "denied" in hop(j, "resolver").detail
    assert [h.kind for h in j.hops] == ["resolver", "custom-dns", "azure-dns"]
    assert j.findings == ()


def test_resolv_conf_without_nameservers_fails_the_resolver_hop() -> None:
    j = world(resolver=(), servers=(CUSTOM,)).judge()
    assert hop(j, "resolver").status is Status.FAIL and "lists no nameserver" in hop(j, "resolver").detail


def test_no_resolver_setting_leaves_out_the_host_hop() -> None:
    j = world(servers=(CUSTOM,), use_resolver=False, expect=(IP,)).judge()
    assert [h.kind for h in j.hops] == ["custom-dns", "azure-dns", "endpoint"]
    assert j.findings == ()
    j = world(custom=nx(), servers=(CUSTOM,), use_resolver=False).judge()
    assert ids(j) == ["DNS001"] and the(j, "DNS001").hop == 1, "the custom server is hop 1 without a resolver hop"


# ---------------------------------------------------------------- which servers are custom


def test_explicit_servers_replace_the_resolver_nameservers_as_custom_hops() -> None:
    w = world(resolver=(CUSTOM,), others={CUSTOM2: ok()}, servers=(CUSTOM2,))
    j = w.judge()
    assert [h.server for h in j.hops if h.kind == "custom-dns"] == [str(CUSTOM2)]
    assert hop(j, "resolver").server == str(CUSTOM), "the host resolver still asks its own nameserver"
    assert j.findings == ()
    assert DnsQuery(CUSTOM2, NAME, "A", "udp") in w.plan() and DnsQuery(CUSTOM, NAME, "A", "udp") in w.plan()


def test_explicit_server_that_is_broken_is_blamed_even_if_the_resolver_is_fine() -> None:
    j = world(resolver=(CUSTOM,), others={CUSTOM2: nx()}, servers=(CUSTOM2,)).judge()
    assert ids(j) == ["DNS001", "DNS008"]
    assert the(j, "DNS001").hop == hop(j, "custom-dns", CUSTOM2).index
    assert CUSTOM2.short in the(j, "DNS001").remediation


def test_systemd_stub_upstreams_become_the_custom_servers() -> None:
    w = world(resolver=(STUB,), upstreams=(CUSTOM,), others={STUB: ok()})
    j = w.judge()
    assert [h.server for h in j.hops if h.kind == "custom-dns"] == [str(CUSTOM)]
    assert hop(j, "resolver").server == str(STUB)
    assert f"{STUB.short} (systemd-resolved stub)" in hop(j, "resolver").detail
    assert j.findings == ()
    queried = {n.server for n in w.plan() if isinstance(n, DnsQuery)}
    assert queried == {STUB, CUSTOM, AZURE}


def test_systemd_stub_without_upstreams_is_not_a_custom_server() -> None:
    j = world(resolver=(STUB,), others={STUB: ok()}).judge()
    assert [h.kind for h in j.hops] == ["resolver", "azure-dns"]
    assert j.findings == ()


def test_azure_dns_in_resolv_conf_is_not_a_custom_hop() -> None:
    j = world(resolver=(CUSTOM, AZURE)).judge()
    assert [h.kind for h in j.hops] == ["resolver", "custom-dns", "azure-dns"]
    assert hop(j, "custom-dns").server == str(CUSTOM)


@pytest.mark.parametrize(
    ("server", "in_cluster", "policy", "search", "label"),
    [
        (COREDNS, True, "ClusterFirst", (), "CoreDNS, kube-dns service"),
        (COREDNS, True, "ClusterFirstWithHostNet", (), "CoreDNS, kube-dns service"),
        (COREDNS, True, "", ("default.svc.cluster.local", "svc.cluster.local"), "CoreDNS, kube-dns service"),
        (COREDNS, True, "", (), "custom DNS"),  # a pod of the user's own without the cluster's search: the node's
        (COREDNS, False, "", ("default.svc.cluster.local", "svc.cluster.local"), "CoreDNS, kube-dns service"),
        (COREDNS, False, "", (), "custom DNS"),
        (Endpoint("169.254.10.10"), False, "", (), "AKS LocalDNS (VNet DNS listener)"),
        (Endpoint("169.254.10.11"), False, "", (), "AKS LocalDNS (kube-dns listener)"),
    ],
)
def test_resolver_nameservers_are_named_for_what_they_are(
    server: Endpoint, in_cluster: bool, policy: str, search: tuple[str, ...], label: str
) -> None:
    j = world(
        resolver=(server,), others={server: ok()}, in_cluster=in_cluster, dns_policy=policy, search=search
    ).judge()
    assert f"nameservers {server.short} ({label})" in hop(j, "resolver").detail


def test_in_cluster_only_the_first_nameserver_is_coredns() -> None:
    j = world(resolver=(COREDNS, CUSTOM), others={COREDNS: ok()}, in_cluster=True, dns_policy="ClusterFirst").judge()
    assert f"nameservers {COREDNS.short} (CoreDNS, kube-dns service), {CUSTOM.short} (custom DNS)" in (
        hop(j, "resolver").detail
    )
    assert j.findings == ()


# ---------------------------------------------------------------- DNS001


def test_dns001_names_the_forward_zone_and_the_server() -> None:
    j = world(custom=nx()).judge()
    f = the(j, "DNS001")
    assert f.severity is Severity.ERROR and f.hop == 2
    assert f.detail == (
        f"{CUSTOM.short} (custom DNS) answered NXDOMAIN for {NAME}; Azure DNS ({AZURE.short}) answered {IP}."
    )
    assert f.remediation.startswith(
        f"Add a conditional forwarder for {FORWARD_ZONE} → {AZURE.short} on {CUSTOM.short}."
    )
    assert f"for {PRIVATE_ZONE}" not in f.remediation, "forwarders cover privatelink.<region>, not the GUID subzone"
    assert f.command == (
        f"Add-DnsServerConditionalForwarderZone -Name {FORWARD_ZONE} -MasterServers {AZURE.host} -ComputerName {CUSTOM.host}"
    ), "no Azure context: the server's kind is unknown, Windows DNS's command (BIND and unbound in the remediation)"
    assert hop(j, "custom-dns").status is Status.FAIL and hop(j, "azure-dns").status is Status.OK


def test_dns001_for_an_empty_answer_too() -> None:
    f = the(world(custom=nodata()).judge(), "DNS001")
    assert "no address (NOERROR, empty answer)" in f.detail


def test_dns001_with_azure_dns_unreachable_is_an_inference_for_aks_names() -> None:
    j = world(custom=nx(), azure=silent()).judge()
    assert ids(j) == ["DNS001", "DNS010"]
    f = the(j, "DNS001")
    assert "Azure DNS could not be asked from here to confirm" in f.detail
    assert "check both" in f.detail
    assert FORWARD_ZONE in f.remediation


def test_dns001_not_inferred_for_a_non_aks_name_without_azure_dns() -> None:
    j = world(custom=nx(None), azure=silent(), name=OTHER_NAME, soa=None).judge()
    assert ids(j) == ["DNS010"]


def test_dns001_for_a_non_aks_name_when_azure_dns_answers_names_the_zone_azure_saw() -> None:
    j = world(custom=nx(None), name=OTHER_NAME, soa="contoso.internal").judge()
    f = the(j, "DNS001")
    assert ids(j) == ["DNS001"]
    assert "conditional forwarder for contoso.internal →" in f.remediation


def test_no_dns001_when_azure_dns_has_no_record_either() -> None:
    j = world(custom=nx(), azure=nx()).judge()
    assert ids(j) == ["DNS002"], "a faithful forwarder repeating Azure's NXDOMAIN is not at fault"


# ---------------------------------------------------------------- DNS001: the fix fits the server's kind

HUB = "/subscriptions/sub-c/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"
VM = "/subscriptions/sub-c/resourceGroups/rg-hub/providers/Microsoft.Compute/virtualMachines/vm-dns01"
ZONE_ID = f"/subscriptions/sub-c/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/{FORWARD_ZONE}"
POLICY = "/subscriptions/sub-c/resourceGroups/rg-hub/providers/Microsoft.Network/firewallPolicies/afwp-hub"


def dns_vm(os_type: str, image: dict[str, str]) -> dict[str, Any]:
    """server_hosts' entry for the hub DNS server: its NIC and VM (bodies as ARM returns them)."""
    nic = {
        "id": VM.replace("Microsoft.Compute/virtualMachines/vm-dns01", "Microsoft.Network/networkInterfaces/vm-dns01-nic"),
        "name": "vm-dns01-nic",
        "properties": {
            "virtualMachine": {"id": VM},
            "ipConfigurations": [{"name": "ipconfig1", "properties": {"privateIPAddress": HUB_DNS.host,
                                                                       "subnet": {"id": HUB + "/subnets/snet-dns"}}}],
        },
    }  # fmt: skip
    vm = {"id": VM, "name": "vm-dns01",
          "properties": {"storageProfile": {"osDisk": {"osType": os_type}, "imageReference": image}}}  # fmt: skip
    return {"nic": nic, "vm": vm}


def zone_entry(linked: Sequence[str]) -> dict[str, Any]:
    links = [{"id": f"{ZONE_ID}/virtualNetworkLinks/link-{v.rsplit('/', 1)[-1]}", "name": f"link-{v.rsplit('/', 1)[-1]}",
              "properties": {"virtualNetwork": {"id": v}, "virtualNetworkLinkState": "Completed"}} for v in linked]  # fmt: skip
    return {"id": ZONE_ID, "name": FORWARD_ZONE, "resource_group": "rg-dns", "zone": {}, "links": links, "records": []}


def kind_world(**fields: Any) -> Judgement:
    """The hub DNS server 10.1.0.4 lacks the forwarder; the Azure context says what it is (`fields` of AzureContext)."""
    ctx = AzureContext(**{**azure_context().__dict__, **fields})
    return world(resolver=(HUB_DNS,), others={HUB_DNS: nx()}, context=ctx, ask="").judge()


WINDOWS_IMAGE = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2022-datacenter-azure-edition",
}
UBUNTU_IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}


def test_dns001_on_a_windows_dns_vm_is_the_powershell_forwarder() -> None:
    f = the(kind_world(server_hosts={HUB_DNS.host: dns_vm("Windows", WINDOWS_IMAGE)}), "DNS001")
    assert f.command == (
        f"Add-DnsServerConditionalForwarderZone -Name {FORWARD_ZONE} -MasterServers {AZURE.host} "
        f"-ComputerName {HUB_DNS.host}"
    )
    assert "Windows DNS server vm-dns01 (10.1.0.4)" in f.remediation and "PowerShell" in f.remediation


def test_dns001_on_a_linux_dns_vm_gives_bind_and_unbound() -> None:
    f = the(kind_world(server_hosts={HUB_DNS.host: dns_vm("Linux", UBUNTU_IMAGE)}), "DNS001")
    assert f.command == (
        f'zone "{FORWARD_ZONE}" {{ type forward; forward only; forwarders {{ {AZURE.host} port {AZURE.port}; }}; }};'
    )
    unbound = f'forward-zone: name: "{FORWARD_ZONE}" forward-addr: {AZURE.host}@{AZURE.port}'
    assert f"in unbound.conf: {unbound} (then unbound-control reload)" in f.remediation
    assert "Linux DNS server vm-dns01 (10.1.0.4, Canonical:ubuntu-24_04-lts:server)" in f.remediation
    assert "rndc reconfig" in f.remediation and "unbound-control reload" in f.remediation
    assert "Add-DnsServer" not in (f.command or "")


@pytest.mark.skipif(not shutil.which("named-checkconf"), reason="needs BIND's named-checkconf")
def test_dns001_bind_statement_is_valid_named_conf(tmp_path: Path) -> None:
    """The BIND line the fix gives, for Azure DNS and for a lab address with a port, as named-checkconf reads it."""
    for to in (Endpoint("168.63.129.16"), AZURE):
        conf = tmp_path / "named.conf"
        conf.write_text(f'options {{ directory "{tmp_path}"; }};\n{bind_statement(FORWARD_ZONE, to)}\n')
        done = subprocess.run(["named-checkconf", str(conf)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr


def test_dns001_on_a_private_resolver_inbound_endpoint_links_the_zone_to_its_vnet() -> None:
    resolver = {
        "resolver": {"id": HUB.replace("virtualNetworks/vnet-hub", "dnsResolvers/dnspr-hub"), "name": "dnspr-hub",
                     "properties": {"virtualNetwork": {"id": HUB}, "dnsResolverState": "Connected"}},
        "inbound": [{"id": "in-hub", "name": "in-hub", "properties": {"ipConfigurations": [
            {"privateIpAddress": HUB_DNS.host, "privateIpAllocationMethod": "Static",
             "subnet": {"id": HUB + "/subnets/snet-dnspr-inbound"}}]}}],
        "outbound": [],
    }  # fmt: skip
    f = the(kind_world(resolvers=[resolver], zone=zone_entry([SPOKE])), "DNS001")
    assert "inbound endpoint of the DNS Private Resolver dnspr-hub" in f.remediation
    assert f.command == (
        f"az network private-dns link vnet create --resource-group rg-dns --zone-name {FORWARD_ZONE} "
        f"--name link-vnet-hub --virtual-network {HUB} --registration-enabled false --subscription sub-c"
    )
    ruleset = {
        "ruleset": {"id": "/subscriptions/sub-c/resourceGroups/rg-hub/providers/Microsoft.Network/dnsForwardingRulesets/rs-hub",
                    "name": "rs-hub", "properties": {}},
        "rules": [{"id": "r1", "name": "everything", "properties": {"domainName": ".", "forwardingRuleState": "Enabled",
                   "targetDnsServers": [{"ipAddress": "192.168.10.4", "port": 53}]}}],
        "links": [{"id": "l1", "name": "link-hub", "properties": {"virtualNetwork": {"id": HUB}}}],
    }  # fmt: skip
    f = the(kind_world(resolvers=[resolver], zone=zone_entry([SPOKE, HUB]), rulesets=[ruleset]), "DNS001")
    assert "wider rule everything (.)" in f.remediation and "192.168.10.4" in f.remediation
    assert (
        f.command
        == "az dns-resolver vnet-link delete --resource-group rg-hub --ruleset-name rs-hub --name link-hub --subscription sub-c"
    )


def test_dns001_on_a_firewall_dns_proxy_fixes_the_policys_dns_servers() -> None:
    firewall = {
        "firewall": {"id": HUB.replace("virtualNetworks/vnet-hub", "azureFirewalls/afw-hub"), "name": "afw-hub",
                     "properties": {"firewallPolicy": {"id": POLICY}, "ipConfigurations": [{"name": "c", "properties": {
                         "privateIPAddress": HUB_DNS.host, "subnet": {"id": HUB + "/subnets/AzureFirewallSubnet"}}}]}},
        "policy": {"id": POLICY, "properties": {"dnsSettings": {"enableProxy": True, "servers": ["192.168.10.4"]}}},
    }  # fmt: skip
    f = the(kind_world(firewalls=[firewall]), "DNS001")
    assert "Azure Firewall afw-hub's DNS proxy" in f.remediation and "192.168.10.4" in f.remediation
    assert (
        f.command
        == "az network firewall policy update --resource-group rg-hub --name afwp-hub --subscription sub-c --remove dnsSettings.servers"
    )
    vm = "10.1.0.5"  # the proxy forwards to a Windows DNS VM: its own forwarder is the fix
    firewall["policy"]["properties"]["dnsSettings"]["servers"] = [vm]
    f = the(kind_world(firewalls=[firewall], server_hosts={vm: dns_vm("Windows", WINDOWS_IMAGE)}), "DNS001")
    assert (
        f.command
        and f.command.startswith("Add-DnsServerConditionalForwarderZone")
        and f"-ComputerName {vm}" in f.command
    )
    assert "its policy forwards to 10.1.0.5" in f.remediation and "Windows DNS server vm-dns01" in f.remediation
    firewall["policy"]["properties"]["dnsSettings"]["servers"] = []  # Azure DNS from the hub: link the zone there
    f = the(kind_world(firewalls=[firewall], zone=zone_entry([SPOKE])), "DNS001")
    assert f.command and f.command.startswith("az network private-dns link vnet create") and HUB in f.command


def test_dns001_when_azure_dns_here_cannot_see_the_zone_by_design_arm_is_the_reference() -> None:
    """The landing zone: the spoke uses the hub's DNS server, the zone is linked to the hub only. Azure DNS asked
    from the spoke says NXDOMAIN, rightly (no DNS002); the hub server's NXDOMAIN is DNS001 against the record ARM
    read, and the Azure DNS hop is skipped, not failed."""
    zone = zone_entry([HUB])
    zone["records"] = [{"id": f"{ZONE_ID}/A/rec", "name": relative_record(NAME, FORWARD_ZONE),
                        "properties": {"aRecords": [{"ipv4Address": IP}]}}]  # fmt: skip
    hub = {"id": HUB, "name": "vnet-hub", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}}
    ctx = AzureContext(**{**azure_context().__dict__, "zone": zone})
    ctx.vnets[HUB.lower()] = hub
    broken = world(resolver=(HUB_DNS,), others={HUB_DNS: nx()}, azure=nx(), context=ctx, ask="").judge()
    assert ids(broken) == ["DNS001"]
    assert (
        f"the private zone holds {IP} for it (ARM), which Azure DNS answers from vnet-hub" in broken.findings[0].detail
    )
    assert (
        hop(broken, "azure-dns").status is Status.SKIPPED
        and "linked to vnet-hub, not here" in hop(broken, "azure-dns").detail
    )
    healthy = world(resolver=(HUB_DNS,), others={HUB_DNS: ok()}, azure=nx(), context=ctx, ask="").judge()
    assert healthy.findings == ()
    unlinked = AzureContext(**{**ctx.__dict__, "zone": {**zone, "links": []}})  # where the hub server resolves
    assert ids(world(resolver=(HUB_DNS,), others={HUB_DNS: nx()}, azure=nx(), context=unlinked, ask="").judge()) == [
        "DNS002"
    ], "the zone is linked nowhere the servers resolve: Azure DNS's NXDOMAIN is the fault, no ARM reference"
    unread = AzureContext(**{**ctx.__dict__, "zone": None})  # the zone could not be read: the answers decide
    assert world(resolver=(HUB_DNS,), others={HUB_DNS: ok()}, azure=nx(), context=unread, ask="").judge().findings == ()
    assert ids(world(resolver=(HUB_DNS,), others={HUB_DNS: nx()}, azure=nx(), context=unread, ask="").judge()) == [
        "DNS002"
    ], "never a silent all-clear: the server failed and nothing vouches for Azure DNS's silence"
    # the spoke linked too: Azure DNS here should answer (a new context: a context's facts are digested once)
    linked = AzureContext(**{**ctx.__dict__, "zone": {**zone, "links": zone["links"] + zone_entry([SPOKE])["links"]}})
    assert ids(world(resolver=(HUB_DNS,), others={HUB_DNS: ok()}, azure=nx(), context=linked, ask="").judge()) == [
        "DNS002"
    ]


def test_dns001_through_a_firewall_proxy_to_a_dns_vm_is_judged_where_the_vm_resolves() -> None:
    """The spoke asks the firewall (10.1.0.4 here), whose proxy forwards to a Windows DNS VM in the hub: the zone
    linked to the hub is where that VM resolves, so ARM's record is the reference and the VM's fix is given."""
    zone = zone_entry([HUB])
    zone["records"] = [{"id": f"{ZONE_ID}/A/rec", "name": relative_record(NAME, FORWARD_ZONE),
                        "properties": {"aRecords": [{"ipv4Address": IP}]}}]  # fmt: skip
    vm = "10.1.0.5"
    firewall = {
        "firewall": {"id": "afw", "name": "afw-hub", "properties": {"firewallPolicy": {"id": POLICY},
                     "ipConfigurations": [{"properties": {"privateIPAddress": HUB_DNS.host}}]}},
        "policy": {"id": POLICY, "properties": {"dnsSettings": {"enableProxy": True, "servers": [vm]}}},
    }  # fmt: skip
    hub = {"id": HUB, "name": "vnet-hub", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}}
    ctx = AzureContext(**{**azure_context().__dict__, "zone": zone, "firewalls": [firewall],
                          "server_hosts": {vm: dns_vm("Windows", WINDOWS_IMAGE)}})  # fmt: skip
    ctx.vnets[HUB.lower()] = hub
    j = world(resolver=(HUB_DNS,), others={HUB_DNS: nx()}, azure=nx(), context=ctx, ask="").judge()
    assert ids(j) == ["DNS001"] and f"-ComputerName {vm}" in (j.findings[0].command or "")


@pytest.mark.parametrize(
    ("lz", "first_line"),
    [
        ("lz-windows-dns", "Add-DnsServerConditionalForwarderZone -Name privatelink.koreacentral.azmk8s.io"),
        ("lz-linux-dns", 'zone "privatelink.koreacentral.azmk8s.io" { type forward; forward only;'),
    ],
)
def test_dns001_in_the_landing_zone_worlds_fits_vm_dns01(lz: str, first_line: str) -> None:
    """The lab's lz worlds (probeworlds: the Azure context as the source reads it): the spoke asks vm-dns01
    (10.1.0.4), which lacks the forwarder; Azure DNS from the spoke says NXDOMAIN (the zone is linked to the hub)."""
    ctx = probeworlds.azure_context(lz)
    j = world(resolver=(HUB_DNS,), others={HUB_DNS: nx()}, azure=nx(), context=ctx, name=CLUSTER_FQDN, ask="").judge()
    assert ids(j) == ["DNS001"]
    f = j.findings[0]
    assert (f.command or "").startswith(first_line) and "vm-dns01 (10.1.0.4" in f.remediation
    assert ("forward-zone:" in f.remediation) is (lz == "lz-linux-dns")
    assert "\n" not in (f.command or ""), "one pasteable line"


def test_dns001_without_azure_context_gives_every_server_kind_briefly() -> None:
    f = the(world(custom=nx()).judge(), "DNS001")
    assert (f.command or "").startswith(f"Add-DnsServerConditionalForwarderZone -Name {FORWARD_ZONE} -MasterServers")
    assert f'on BIND, in named.conf: zone "{FORWARD_ZONE}" {{ type forward;' in f.remediation
    assert f'On unbound, in unbound.conf: forward-zone: name: "{FORWARD_ZONE}" forward-addr:' in f.remediation


def test_dns001_with_azure_context_but_no_nic_for_the_server_is_unknown_too() -> None:
    f = the(kind_world(), "DNS001")
    assert (f.command or "").startswith("Add-DnsServerConditionalForwarderZone") and "named.conf" in f.remediation


# ---------------------------------------------------------------- DNS002


def test_dns002_zone_linked_but_record_missing() -> None:
    j = world(custom=nx(PRIVATE_ZONE), azure=nx(PRIVATE_ZONE)).judge()
    f = the(j, "DNS002")
    assert f.hop == 3 == hop(j, "azure-dns").index
    assert f.detail == (
        f"Azure DNS ({AZURE.short}) answered NXDOMAIN for {NAME}; "
        f"the zone {PRIVATE_ZONE} is linked to this VNet but holds no record for the name."
    )
    assert f"Link the private DNS zone {PRIVATE_ZONE} to the VNet" in f.remediation
    assert f.command and f"--zone-name {PRIVATE_ZONE} " in f.command


def test_dns002_zone_linked_seen_through_the_soa_query() -> None:
    # the A reply carried no SOA, but the separate SOA query named the private zone
    f = the(world(custom=nx(None), azure=nx(None), soa=PRIVATE_ZONE).judge(), "DNS002")
    assert f"the zone {PRIVATE_ZONE} is linked" in f.detail


def test_dns002_zone_not_linked() -> None:
    # the private zone is not linked: Azure DNS falls through to public DNS, whose SOA is azmk8s.io
    f = the(world(custom=nx(), azure=nx("azmk8s.io"), soa="azmk8s.io").judge(), "DNS002")
    assert "no private zone holding the name is linked to the VNet asking" in f.detail
    assert "is linked to this VNet" not in f.detail
    assert f"Link the private DNS zone that holds {NAME} to" in f.remediation
    assert f.command and "--zone-name <private-zone> " in f.command


def test_dns002_for_a_non_aks_name_names_the_zone_that_answered() -> None:
    j = world(custom=nodata("contoso.internal"), azure=nodata("contoso.internal"), name=OTHER_NAME, soa=None).judge()
    f = the(j, "DNS002")
    assert ids(j) == ["DNS002"]
    assert "(the answer came from the zone contoso.internal)" in f.detail
    assert f.command and "--zone-name contoso.internal " in f.command


# ---------------------------------------------------------------- DNS003


def test_dns003_stale_copy_on_the_custom_server() -> None:
    j = world(custom=ok(STALE), expect=(IP,)).judge()
    f = the(j, "DNS003")
    assert f.hop == 2
    assert (
        f.detail
        == f"{CUSTOM.short} (custom DNS) answered {STALE} for {NAME}, but Azure DNS ({AZURE.short}) answered {IP}."
    )
    assert f.remediation.startswith(f"{CUSTOM.short} holds a stale copy of {FORWARD_ZONE}")
    assert hop(j, "endpoint").status is Status.FAIL, "the host resolver (the custom server) gives the stale address"


def test_dns003_is_about_sets_not_order() -> None:
    j = world(custom=ok("10.224.0.5", IP), azure=ok(IP, "10.224.0.5")).judge()
    assert j.findings == ()


def test_dns003_and_dns007_when_custom_and_azure_are_both_wrong_differently() -> None:
    j = world(custom=ok(STALE), azure=ok("10.224.0.7"), expect=(IP,)).judge()
    assert ids(j) == ["DNS003", "DNS007"]
    assert the(j, "DNS003").hop == 2 and the(j, "DNS007").hop == 3


# ---------------------------------------------------------------- DNS004


def test_dns004_public_address_for_a_privatelink_name() -> None:
    j = world(custom=ok(PUBLIC)).judge()
    f = the(j, "DNS004")
    assert f.hop == 2
    assert (
        f.detail
        == f"{CUSTOM.short} (custom DNS) answered {PUBLIC} for {NAME}: a public address; Azure DNS answered the private {IP}."
    )
    assert f"on {CUSTOM.short} add a conditional forwarder for {FORWARD_ZONE} → {AZURE.short}" in f.remediation


def test_dns004_for_a_privatelink_name_even_without_azure_dns() -> None:
    j = world(custom=ok(PUBLIC), azure=silent(), expect=(IP,)).judge()
    assert ids(j) == ["DNS004", "DNS010"], "DNS007 gives way to DNS004 for a public answer"
    assert the(j, "DNS004").detail.endswith(f"a public address; the endpoint is {IP}.")


def test_dns004_for_a_non_aks_name_azure_dns_resolves_privately() -> None:
    j = world(custom=ok(PUBLIC), name=OTHER_NAME, soa="contoso.internal").judge()
    assert ids(j) == ["DNS004"]


def test_dns004_not_raised_for_a_public_name_answered_publicly() -> None:
    j = world(custom=ok(PUBLIC), azure=ok(PUBLIC), name="www.example.org", soa=None).judge()
    assert j.findings == ()


# ---------------------------------------------------------------- DNS005 / DNS006 / DNS020


def test_dns005_dead_custom_server() -> None:
    j = world(custom=silent()).judge()
    f = the(j, "DNS005")
    assert f.hop == 2 and f.severity is Severity.ERROR
    assert f.detail == (
        f"{CUSTOM.short} (custom DNS) gave no answer for {NAME} over UDP and TCP: "
        "UDP: timeout in test; TCP: timeout in test."
    )
    assert f"Check that {CUSTOM.short} is running" in f.remediation


def test_dns005_for_garbage_and_unreachable_answers() -> None:
    f = the(world(custom=Split(silent(Outcome.ERROR), silent(Outcome.UNREACHABLE))).judge(), "DNS005")
    assert "UDP: error in test; TCP: unreachable in test" in f.detail


def test_dns006_servfail_names_the_forwarder_to_check() -> None:
    j = world(custom=servfail()).judge()
    f = the(j, "DNS006")
    assert f.hop == 2
    assert f.detail == f"{CUSTOM.short} (custom DNS) answered SERVFAIL for {NAME} over UDP and TCP."
    assert f"Check {CUSTOM.short}'s forwarder for {FORWARD_ZONE}: it must reach {AZURE.short}" in f.remediation


def test_dns006_on_one_transport_only_comes_with_dns017() -> None:
    j = world(custom=Split(servfail(), silent())).judge()
    assert ids(j) == ["DNS006", "DNS017"]
    assert the(j, "DNS006").detail.endswith("over UDP.")


def test_dns020_refused() -> None:
    j = world(custom=refused()).judge()
    f = the(j, "DNS020")
    assert f.hop == 2 and f.severity is Severity.ERROR
    assert f.detail == f"{CUSTOM.short} (custom DNS) answered REFUSED for {NAME} over UDP and TCP."
    assert f"on {CUSTOM.short}" in f.remediation


def test_dns020_not_raised_when_the_other_transport_answers() -> None:
    # what a client gets is the answer: a REFUSED over one transport alone is not "refuses the query"
    assert "DNS020" not in ids(world(custom=Split(ok(), refused())).judge())


# ---------------------------------------------------------------- DNS007


def test_dns007_stale_record_is_reported_on_the_azure_hop_only() -> None:
    j = world(custom=ok(STALE), azure=ok(STALE), expect=(IP,)).judge()
    f = the(j, "DNS007")
    assert f.hop == hop(j, "azure-dns").index == 3
    assert f.detail == f"{AZURE.short} (Azure DNS) answered {STALE} for {NAME}; the expected endpoint is {IP}."
    assert f"Update the A record {NAME} in {PRIVATE_ZONE} to {IP}" in f.remediation
    assert f.command and f"--zone-name {PRIVATE_ZONE} --record-set-name aks-x-k3x9q2 --ipv4-address {IP}" in f.command
    assert hop(j, "endpoint").status is Status.FAIL
    assert f"not the endpoint {IP}" in hop(j, "endpoint").detail


def test_dns007_without_azure_dns_is_reported_on_the_custom_hop() -> None:
    j = world(custom=ok(STALE), azure=silent(), expect=(IP,)).judge()
    assert ids(j) == ["DNS007", "DNS010"]
    assert the(j, "DNS007").hop == 2


def test_no_dns007_when_azure_dns_gives_the_expected_address() -> None:
    j = world(custom=ok(STALE), expect=(IP,)).judge()
    assert ids(j) == ["DNS003"]


def test_expect_matches_any_of_several_addresses() -> None:
    j = world(custom=ok(IP, "10.224.0.5"), azure=ok(IP, "10.224.0.5"), expect=(IP,)).judge()
    assert j.findings == ()
    assert hop(j, "endpoint").status is Status.OK


# ---------------------------------------------------------------- DNS008


def test_dns008_host_resolver_uses_another_server_than_the_custom_ones() -> None:
    j = world(resolver=(OLD,), servers=(CUSTOM,), others={OLD: nx()}).judge()
    f = the(j, "DNS008")
    assert f.hop == 1 and f.severity is Severity.WARNING
    assert f.detail == (
        f"the host resolver ({OLD.short} (custom DNS)) answered NXDOMAIN in 2 ms; "
        f"the custom DNS servers ({CUSTOM.short}) answered {IP} in 2 ms."
    )
    assert RESOLV in f.remediation
    assert hop(j, "resolver").status is Status.FAIL


def test_no_dns008_when_the_host_resolver_agrees() -> None:
    j = world(resolver=(OLD,), servers=(CUSTOM,), others={OLD: ok()}).judge()
    assert j.findings == ()


# ---------------------------------------------------------------- DNS009


def test_dns009_loss_among_samples() -> None:
    j = world(custom=Split([ok(), silent(), ok(), silent()], ok()), count=4).judge()
    f = the(j, "DNS009")
    assert f.hop == 2 and f.severity is Severity.WARNING
    assert f.detail == f"{CUSTOM.short} (custom DNS) over UDP: 2 of 4 queries lost; p50 2 ms, p95 2 ms, max 2 ms."
    assert f.evidence["lost"] == 2 and f.evidence["transport"] == "udp"
    assert "(4 sent, 2 lost" in hop(j, "custom-dns").detail
    assert hop(j, "custom-dns").status is Status.WARN, "the answer is right; the server is lossy"


def test_dns009_p95_over_slow_ms() -> None:
    # nearest rank over [5, 650, 700]: p50 is the 2nd (650), p95 the 3rd (700)
    samples = [ok(ms=5), ok(ms=700), ok(ms=650)]
    j = world(custom=Split(samples, ok()), count=3, slow_ms=300).judge()
    f = the(j, "DNS009")
    assert ids(j) == ["DNS009"]
    assert f.detail == f"{CUSTOM.short} (custom DNS) over UDP: 0 of 3 queries lost; p50 650 ms, p95 700 ms, max 700 ms."
    assert not world(custom=Split(samples, ok()), count=3, slow_ms=700).judge().findings, "700 ms is not above 700"


def test_dns009_one_outlier_in_twenty_is_not_the_p95() -> None:
    # nearest rank over 20 samples: p95 is the 19th, so one slow answer is the max, not the p95
    one = [ok(ms=2)] * 19 + [ok(ms=900)]
    assert world(custom=one, count=20).judge().findings == ()
    two = [ok(ms=2)] * 18 + [ok(ms=900)] * 2
    assert ids(world(custom=two, count=20).judge()) == ["DNS009", "DNS009"], "one per transport (UDP and TCP)"


def test_dns009_also_for_azure_dns() -> None:
    j = world(azure=Split(ok(), [ok(), ok(), silent(), ok()]), count=4).judge()
    f = the(j, "DNS009")
    assert f.hop == 3 and "over TCP: 1 of 4 queries lost" in f.detail


def test_all_samples_lost_on_one_transport_is_dns017_not_dns009() -> None:
    j = world(custom=Split([silent()] * 4, ok()), count=4).judge()
    assert ids(j) == ["DNS017"]


# ---------------------------------------------------------------- DNS010


def test_dns010_azure_dns_unreachable_is_info_and_skips_its_hop() -> None:
    j = world(azure=silent(), expect=(IP,), timeout=1.5).judge()
    f = the(j, "DNS010")
    assert ids(j) == ["DNS010"]
    assert f.severity is Severity.INFO and f.hop == 3
    assert f.detail.startswith(f"{AZURE.short} (Azure DNS) did not answer over UDP or TCP within 1.5 s")
    assert hop(j, "azure-dns").status is Status.SKIPPED
    assert [h.status for h in j.hops if h.kind != "azure-dns"] == [Status.OK, Status.OK, Status.OK]


def test_dns010_not_dns005_for_azure_dns_listed_in_resolv_conf() -> None:
    # Azure DNS listed as a nameserver is still Azure DNS: unreachable from outside Azure is INFO, not an error
    j = world(resolver=(CUSTOM, AZURE), azure=silent()).judge()
    assert ids(j) == ["DNS010", "DNS018"]
    assert the(j, "DNS010").hop == hop(j, "azure-dns").index


# ---------------------------------------------------------------- DNS013


def test_dns013_host_nameservers_differ_from_the_vnets() -> None:
    j = world(resolver=(HOST_DNS,), others={HUB_DNS: ok(), HOST_DNS: ok()}, context=azure_context(), ask="").judge()
    f = the(j, "DNS013")
    assert f.hop == 1 and f.severity is Severity.WARNING
    assert f.detail == (
        f"the cluster VNet's DNS servers are {HUB_DNS.host}; {RESOLV} lists {HOST_DNS.host} "
        "(expected only if this host sits in another VNet with other DNS servers)."
    )
    assert [h.server for h in j.hops if h.kind == "custom-dns"] == [str(HUB_DNS)], "the VNet's server is the custom one"
    assert hop(j, "endpoint").answers == (IP,), "the private endpoint's address is the expected one"
    assert j.facts["name"] == NAME


def test_in_a_clusterfirst_pod_the_nameserver_is_kube_dns_not_a_stale_vnet_server() -> None:
    # a ClusterFirst pod's first nameserver is the kube-dns Service: a relay, not a server the VNet should list
    j = world(
        resolver=(HOST_DNS,),
        others={HUB_DNS: ok(), HOST_DNS: ok()},
        context=azure_context(),
        ask="",
        in_cluster=True,
        dns_policy="ClusterFirst",
    ).judge()
    assert j.findings == ()
    assert [h.kind for h in j.hops] == ["resolver", "coredns", "custom-dns", "azure-dns", "endpoint"]


def test_in_a_default_pod_the_node_not_on_the_vnets_servers_is_dns036_not_dns013() -> None:
    j = world(
        resolver=(HOST_DNS,),
        others={HUB_DNS: ok(), HOST_DNS: ok()},
        context=azure_context(),
        ask="",
        in_cluster=True,
        dns_policy="Default",
    ).judge()
    f = the(j, "DNS036")
    assert ids(j) == ["DNS036"] and f.hop == 1
    assert f.detail == (
        f"the VNet's DNS servers are {HUB_DNS.host}; the node's resolver ({RESOLV}) uses {HOST_DNS.host}: "
        f"it does not ask {HUB_DNS.host} and it still asks {HOST_DNS.host}."
    )


def test_dns013_vnet_on_azure_dns() -> None:
    j = world(resolver=(HOST_DNS,), others={HOST_DNS: ok()}, context=azure_context(vnet_dns=()), ask="").judge()
    assert ids(j) == ["DNS013"]
    assert "the cluster VNet's DNS servers are 168.63.129.16;" in the(j, "DNS013").detail


def test_no_dns013_when_the_host_uses_the_vnets_servers() -> None:
    j = world(resolver=(HUB_DNS,), others={HUB_DNS: ok()}, context=azure_context(), ask="").judge()
    assert j.findings == ()


# ---------------------------------------------------------------- DNS017


def test_dns017_udp_answers_but_tcp_is_unreachable() -> None:
    j = world(custom=Split(ok(), silent(Outcome.UNREACHABLE))).judge()
    f = the(j, "DNS017")
    assert f.hop == 2 and f.severity is Severity.WARNING
    assert f.detail == f"{CUSTOM.short} (custom DNS) answered over UDP (an answer) but over TCP: unreachable in test."
    assert f.remediation.startswith(f"Open TCP/53 from the clients to {CUSTOM.short}")
    assert hop(j, "custom-dns").status is Status.WARN
    assert hop(j, "resolver").status is Status.OK


def test_dns017_tcp_answers_but_udp_times_out() -> None:
    j = world(custom=Split(silent(), ok())).judge()
    f = the(j, "DNS017")
    assert ids(j) == ["DNS017"]
    assert "answered over TCP (an answer) but over UDP: timeout in test" in f.detail
    # the host resolver asks over UDP: it gets nothing, though the server's own hop (TCP) has the address
    assert hop(j, "resolver").status is Status.FAIL
    assert hop(j, "custom-dns").answers == (IP,)


# ---------------------------------------------------------------- DNS018


def test_dns018_resolv_conf_lists_azure_dns_and_a_custom_server() -> None:
    j = world(resolver=(CUSTOM, AZURE)).judge()
    f = the(j, "DNS018")
    assert f.hop == 1 and f.severity is Severity.WARNING
    assert (
        f.detail
        == f"{RESOLV} lists {CUSTOM.short} (custom DNS), {AZURE.short} (Azure DNS): Azure DNS and custom servers together."
    )
    assert f.command and f.command.endswith(f"--dns-servers {CUSTOM.host}")
    assert hop(j, "resolver").status is Status.WARN


def test_dns018_for_the_real_azure_dns_address() -> None:
    real = Endpoint("168.63.129.16")
    j = world(resolver=(real, CUSTOM), others={real: ok()}).judge()
    assert ids(j) == ["DNS018"]
    assert f"{real.host} (Azure DNS)" in the(j, "DNS018").detail


def test_dns018_keeps_other_azure_dns_faults() -> None:
    j = world(custom=nx(PRIVATE_ZONE), azure=nx(PRIVATE_ZONE), resolver=(CUSTOM, AZURE)).judge()
    assert ids(j) == ["DNS002", "DNS018"]
    assert the(j, "DNS002").hop == hop(j, "azure-dns").index


def test_no_dns018_for_coredns_and_azure_dns_in_a_pod() -> None:
    j = world(resolver=(COREDNS, AZURE), others={COREDNS: ok()}, in_cluster=True, dns_policy="ClusterFirst").judge()
    assert "DNS018" not in ids(j)
