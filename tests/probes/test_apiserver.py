"""apiserver judged from facts built by hand: no socket, no TLS server, no fake ARM.

A world answers every need the probe plans with a healthy fact; a test breaks one answer and checks that exactly
the one code follows. The end-to-end runs against real TLS servers live in tests/test_apiserver_e2e.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aksdiag.probes import apiserver

from aksdiag import azfacts, codes, snapshot
from aksdiag.facts import (
    AzureContext,
    AzureContextNeed,
    Clock,
    ClockNeed,
    DnsAnswer,
    DnsQuery,
    DnsResult,
    Endpoint,
    HttpNeed,
    HttpResult,
    Outcome,
    ResolverConfig,
    ResolverConfigNeed,
    TcpConnect,
    TcpConnectNeed,
    TlsNeed,
    TlsPeer,
)
from aksdiag.lab import armworld
from aksdiag.model import Status
from aksdiag.probe import Judgement
from aksdiag.settings import Settings

NAME = "api.lab.example"
ADDRESS = "10.224.0.4"
NAMESERVER = Endpoint("10.1.0.4")
RESOLV = "/lab/resolv.conf"
NOT_BEFORE = "2025-01-01T00:00:00+00:00"
NOT_AFTER = "2026-01-01T00:00:00+00:00"
DURING = "2025-06-01T12:00:00+00:00"
AZURE = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, "https://127.0.0.1:1")

Answer = Callable[[Hashable], Any]


def healthy(need: Hashable) -> Any:
    """The fact a healthy world gives for `need`."""
    if isinstance(need, ResolverConfigNeed):
        return ResolverConfig(need.path, nameservers=(NAMESERVER,))
    if isinstance(need, DnsQuery):
        return DnsResult(need, (DnsAnswer(Outcome.ANSWER, "NOERROR", (ADDRESS,), elapsed_ms=1.0),))
    if isinstance(need, TcpConnectNeed):
        return TcpConnect("open", elapsed_ms=1.0)
    if isinstance(need, TlsNeed):
        return TlsPeer(
            "ok",
            trusted=True if need.verify else None,
            subject="CN=apiserver",
            issuer="CN=ca",
            dns_names=(need.server_name or NAME,),
            ip_addresses=(need.address,),
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
            elapsed_ms=2.0,
        )
    if isinstance(need, HttpNeed):
        if need.authenticated:
            return HttpResult("ok", 200, "[+]ping ok\n[+]etcd ok\nreadyz check passed\n", elapsed_ms=3.0)
        return HttpResult("ok", 401, '{"kind":"Status","code":401}', elapsed_ms=3.0)
    if isinstance(need, ClockNeed):
        return Clock(DURING)
    if isinstance(need, AzureContextNeed):
        return azure_context("vnet-integration")
    raise AssertionError(f"the probe planned a need no world answers: {need!r}")


def azure_context(world: str) -> AzureContext:
    """The AzureContext the Azure source would read from the lab's ARM `world` (bodies as ARM serves them)."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for body in armworld.build(world):
        by_type.setdefault(body["type"].lower(), []).append(body)

    def keyed(kind: str) -> dict[str, dict[str, Any]]:
        return {b["id"].lower(): b for b in by_type.get(kind, [])}

    return AzureContext(
        need=AZURE,
        cluster=by_type["microsoft.containerservice/managedclusters"][0],
        vnets=keyed("microsoft.network/virtualnetworks"),
        nsgs=keyed("microsoft.network/networksecuritygroups"),
    )


@dataclass
class World:
    """A name, settings, and an answer for each need: the probe's plan is run round by round against it."""

    name: str = NAME
    settings: Settings = field(default_factory=lambda: Settings(resolv_conf=RESOLV))
    broken: dict[Hashable, Any] = field(default_factory=dict)
    """Needs whose answer differs from the healthy world's."""

    def facts(self) -> dict[Hashable, Any]:
        facts: dict[Hashable, Any] = {}
        for _ in range(6):
            missing = [n for n in apiserver.plan(self.name, self.settings, facts) if n not in facts]
            if not missing:
                return facts
            facts.update({n: self.broken[n] if n in self.broken else healthy(n) for n in missing})
        raise AssertionError("the plan never settles")

    def judge(self, facts: dict[Hashable, Any] | None = None) -> Judgement:
        return apiserver.judge(self.name, self.settings, self.facts() if facts is None else facts)


def ids(j: Judgement) -> list[str]:
    return [f.id for f in j.findings]


def tls_need(port: int = 443, address: str = ADDRESS, name: str = NAME) -> TlsNeed:
    return TlsNeed(address, port, name, None, verify=False)


def peer(**changes: Any) -> TlsPeer:
    return replace(healthy(tls_need()), **changes)


def test_healthy_world_raises_nothing() -> None:
    j = World().judge()
    assert j.findings == ()
    assert [h.kind for h in j.hops] == ["name", "tcp", "tls", "health", "health"]
    assert all(h.status is Status.OK for h in j.hops), j.hops
    assert j.hops[0].answers == (ADDRESS,)
    assert "reachable" in j.hops[3].detail


def test_healthy_vnet_integrated_cluster_raises_nothing() -> None:
    world = World("", Settings(resolv_conf=RESOLV, azure=AZURE, addresses=(ADDRESS,)))
    j = world.judge()
    assert j.findings == (), j.findings
    assert [h.kind for h in j.hops] == ["name", "tcp", "tcp", "tls", "health", "health", "subnet", "nsg"]
    assert all(h.status is Status.OK for h in j.hops), j.hops


def test_api001_port_refused() -> None:
    j = World(broken={TcpConnectNeed(ADDRESS, 443): TcpConnect("refused", error="connection refused")}).judge()
    assert ids(j) == ["API001"]
    assert j.findings[0].detail == f"{ADDRESS}:443: refused (connection refused)."
    assert [h.status for h in j.hops if h.kind in ("tls", "health")] == [Status.SKIPPED] * 2


def test_api002_port_4443_timed_out() -> None:
    world = World(settings=Settings(resolv_conf=RESOLV, ports=(443, 4443)))
    world.broken = {TcpConnectNeed(ADDRESS, 4443): TcpConnect("timeout", error="timed out after 2 s")}
    j = world.judge()
    assert ids(j) == ["API002"] and j.findings[0].hop == 3
    assert "4443" in j.findings[0].detail


def test_api003_certificate_does_not_name_the_host() -> None:
    j = World(broken={tls_need(): peer(dns_names=("other.example",), ip_addresses=())}).judge()
    assert ids(j) == ["API003"]
    assert NAME in j.findings[0].detail and "other.example" in j.findings[0].detail


@pytest.mark.parametrize(
    ("now", "problem"),
    [
        ("2026-03-01T00:00:00+00:00", f"it expired on {NOT_AFTER}"),
        ("2024-12-31T23:59:59+00:00", f"it is not valid before {NOT_BEFORE}"),
        ("2025-12-31T23:59:59+00:00", None),
        ("2025-01-01T00:00:00+00:00", None),
    ],
)
def test_api004_certificate_dates_are_judged_by_the_clock_fact(now: str, problem: str | None) -> None:
    j = World(broken={ClockNeed(): Clock(now)}).judge()
    assert ids(j) == (["API004"] if problem else [])
    if problem:
        assert j.findings[0].detail == f"{problem}."


def test_api004_chain_not_trusted() -> None:
    from aksdiag.sources.kubeconfig import ApiServerConfig

    ca = "-----BEGIN CERTIFICATE-----\nthe cluster's CA\n-----END CERTIFICATE-----\n"
    config = ApiServerConfig(server=f"https://{NAME}", source="a test kubeconfig", ca_pem=ca)
    world = World(settings=Settings(resolv_conf=RESOLV, apiserver=config))
    world.broken = {TlsNeed(ADDRESS, 443, NAME, ca): peer(trusted=False, verify_error="unable to get local issuer")}
    j = world.judge()
    assert ids(j) == ["API004"]
    assert "does not verify against the kubeconfig's CA: unable to get local issuer" in j.findings[0].detail


def test_the_probe_asks_for_the_clock_and_never_reads_it() -> None:
    assert ClockNeed() in World().facts()
    facts = World().facts()
    del facts[ClockNeed()]
    j = World().judge(facts)
    assert ids(j) == [] and "dates not checked" in j.hops[2].detail


def test_an_expiring_certificate_judged_later_from_a_snapshot_gives_the_same_verdict() -> None:
    """The clock is saved with the facts: the verdict of the moment the snapshot was taken, not of today."""
    world = World(
        broken={tls_need(): peer(not_after="2020-06-01T00:00:00+00:00", not_before="2019-06-01T00:00:00+00:00")}
    )
    world.broken[ClockNeed()] = Clock("2020-05-01T00:00:00+00:00")  # taken a month before the certificate expired
    facts = world.facts()
    doc = json.loads(json.dumps(snapshot.dump("apiserver", NAME, world.settings, facts)))
    _, _, settings, loaded = snapshot.load(doc)
    assert loaded == facts
    assert ids(apiserver.judge(NAME, settings, loaded)) == []
    loaded[ClockNeed()] = Clock("2020-07-01T00:00:00+00:00")
    assert ids(apiserver.judge(NAME, settings, loaded)) == ["API004"]


def test_api005_failing_readyz_checks() -> None:
    failing = HttpResult("ok", 500, "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n")
    j = World(broken={HttpNeed(ADDRESS, 443, NAME, "/readyz?verbose"): failing}).judge()
    assert ids(j) == ["API005"]
    assert "etcd" in j.findings[0].detail and j.findings[0].evidence["body"].startswith("[+]ping")


def test_api006_nsg_denies_4443() -> None:
    world = World("", Settings(resolv_conf=RESOLV, azure=AZURE, addresses=(ADDRESS,)))
    world.broken = {AZURE: azure_context("nsg-blocks-4443")}
    j = world.judge()
    assert ids(j) == ["API006"]
    assert "deny-4443 (priority 200)" in j.findings[0].detail
    assert j.findings[0].command and "--destination-port-ranges 4443" in j.findings[0].command


def test_api007_apiserver_subnet_too_small_and_not_delegated() -> None:
    world = World("", Settings(resolv_conf=RESOLV, azure=AZURE, addresses=(ADDRESS,)))
    world.broken = {AZURE: azure_context("apiserver-subnet-small")}
    j = world.judge()
    assert ids(j) == ["API007"]
    detail = j.findings[0].detail
    assert "not delegated" in detail and "smaller than a /28" in detail and "fewer than the 9" in detail


def test_the_api_server_subnet_and_its_nsg_digest_to_typed_facts() -> None:
    arm = azfacts.digest(azure_context("nsg-blocks-4443"))
    assert arm.cluster is not None and arm.cluster.vnet_integration
    sub = arm.subnet(arm.cluster.api_subnet_id)
    assert sub is not None and sub.prefix == "10.225.0.0/28"
    assert sub.delegations == ("Microsoft.ContainerService/managedClusters",)
    nsg = arm.nsgs[sub.nsg_id.lower()]
    deny = next(r for r in nsg.rules if r.name == "deny-4443")
    assert (deny.priority, deny.direction, deny.allows, deny.protocol) == (200, "Inbound", False, "Tcp")
    assert (deny.sources, deny.destination_ports) == (("VirtualNetwork",), ("4443",))


def test_an_nsg_that_could_not_be_read_is_skipped_not_failed() -> None:
    world = World("", Settings(resolv_conf=RESOLV, azure=AZURE, addresses=(ADDRESS,)))
    world.broken = {AZURE: replace(azure_context("nsg-blocks-4443"), nsgs={})}
    j = world.judge()
    assert ids(j) == []
    (nsg,) = [h for h in j.hops if h.kind == "nsg"]
    assert (nsg.name, nsg.status, nsg.detail) == ("nsg-apiserver", Status.SKIPPED, "the NSG could not be read")


@pytest.mark.parametrize(("egress", "expected"), [("198.51.100.7", ["API008"]), ("203.0.113.9", [])])
def test_api008_egress_outside_the_authorized_ranges(egress: str, expected: list[str]) -> None:
    settings = Settings(resolv_conf=RESOLV, azure=AZURE, addresses=(ADDRESS,), extra={"egress_ip": egress})
    world = World("", settings, broken={AZURE: azure_context("public-authorized")})
    j = world.judge()
    assert ids(j) == expected
    assert j.hops[-1].kind == "authorized-ips"


def test_api009_name_does_not_resolve() -> None:
    query = DnsQuery(NAMESERVER, NAME, "A", "udp")
    j = World(broken={query: DnsResult(query, (DnsAnswer(Outcome.NXDOMAIN, "NXDOMAIN"),))}).judge()
    assert ids(j) == ["API009"]
    assert f"aksdiag dns {NAME}" in j.findings[0].remediation
    assert [h.kind for h in j.hops] == ["name"]


def test_api010_handshake_never_finishes() -> None:
    j = World(broken={tls_need(): TlsPeer("timeout", error="the handshake timed out")}).judge()
    assert ids(j) == ["API010"]
    assert j.findings[0].detail == f"{ADDRESS}:443: timeout (the handshake timed out)."


def test_every_code_of_the_probe_has_a_broken_world_here() -> None:
    tested = {name[5:11].upper() for name in globals() if name.startswith("test_api")}
    assert tested == set(apiserver.PROBE.codes)
    assert all(code in codes.CATALOGUE for code in tested)
