"""The egress probe from facts: a world broken one way per code raises exactly that code, a healthy world none;
plan and judge are driven as the runner drives them (plan → answer the needs → plan again → judge), with no I/O."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aksdiag.probes.egress import PROBE
from aksdiag.probes.egress.endpoints import essentials

from aksdiag.facts import (
    AzureContext,
    AzureContextNeed,
    AzureDocument,
    AzureGetNeed,
    AzureReadError,
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
from aksdiag.lab.armworld import dependencies
from aksdiag.probe import Skip
from aksdiag.settings import Settings

NS = Endpoint("10.1.0.4")
RESOLV = "/lab/resolv.conf"
PUBLIC_CA = "CN=DigiCert Global Root G2,O=DigiCert Inc,C=US"
FIREWALL_CA = "CN=Contoso Firewall TLS Inspection CA"


@dataclass
class Way:
    """How one endpoint behaves: the DNS outcome and addresses, then TCP, TLS and HTTP."""

    dns: Outcome = Outcome.ANSWER
    address: str = ""
    tcp: str = "open"
    trusted: bool | None = True
    issuer: str = PUBLIC_CA
    names: tuple[str, ...] = ()
    tls: str = "ok"
    status: int = 200
    body: str = "ok"
    http: str = "ok"


class World:
    """Answers the probe's needs from `ways` (name → Way; others healthy), counting what was asked."""

    def __init__(self, ways: dict[str, Way] | None = None, document: AzureDocument | None = None,
                 cluster: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.ways = ways or {}
        self.document = document
        self.cluster = cluster
        self.by_address: dict[str, str] = {}
        self.asked: list[Hashable] = []

    def way(self, name: str) -> Way:
        return self.ways.get(name) or Way()

    def answer(self, need: Hashable) -> Any:
        self.asked.append(need)
        if isinstance(need, ResolverConfigNeed):
            return ResolverConfig(need.path, nameservers=(NS,))
        if isinstance(need, AzureContextNeed):
            return AzureContext(need, cluster=self.cluster)
        if isinstance(need, AzureGetNeed):
            return self.document or AzureDocument(
                error=AzureReadError(need.path, 404, "NotFound", "no", failure="not-found")
            )
        if isinstance(need, DnsQuery):
            w = self.way(need.name)
            address = w.address or f"20.60.0.{len(self.by_address) + 1}"
            if w.dns is Outcome.ANSWER:
                self.by_address[address] = need.name
                return DnsResult(need, (DnsAnswer(Outcome.ANSWER, "NOERROR", (address,)),))
            return DnsResult(need, (DnsAnswer(w.dns, w.dns.value.upper()),))
        name = self.by_address.get(need.address, need.address)  # type: ignore[attr-defined]
        w = self.way(name)
        if isinstance(need, TcpConnectNeed):
            return TcpConnect(w.tcp, 1.0, None if w.tcp == "open" else w.tcp)
        if isinstance(need, TlsNeed):
            if w.tcp != "open":
                return TlsPeer(w.tcp, error=w.tcp)
            if w.tls != "ok":
                return TlsPeer(w.tls, error="Connection reset by peer")
            verify_error = None if w.trusted else "unable to get local issuer certificate"
            return TlsPeer("ok", w.trusted, verify_error, f"CN={name}", w.issuer, w.names or (name,))
        if isinstance(need, HttpNeed):
            if w.tcp != "open" or w.tls != "ok":
                return HttpResult("timeout" if w.tcp == "timeout" else "refused")
            if w.http != "ok":
                return HttpResult(w.http, error=w.http)
            return HttpResult("ok", w.status, w.body)
        raise AssertionError(f"unexpected need {need}")


def settings(**more: Any) -> Settings:
    values: dict[str, Any] = {"resolv_conf": RESOLV, "extra": {"egress": "run"}, **more}
    return Settings(**values)


def run(world: World, s: Settings) -> Any:
    facts: dict[Hashable, Any] = {}
    for _ in range(6):
        needs = PROBE.plan("", s, facts)
        missing = [n for n in dict.fromkeys(needs) if n not in facts]
        if not missing:
            break
        for need in missing:
            facts[need] = world.answer(need)
    else:
        raise AssertionError("the plan never settled")
    return PROBE.judge("", s, facts)


def ids(judgement: Any) -> list[str]:
    return sorted(f.id for f in judgement.findings)


AZURE = AzureContextNeed(dependencies.CLUSTER_ID.split("/")[2], "rg-aks", "aks-lab")
CLUSTER = {"id": dependencies.CLUSTER_ID, "name": "aks-lab", "location": "koreacentral",
           "properties": {"privateFQDN": "aks-lab-1234.privatelink.koreacentral.azmk8s.io",
                          "apiServerAccessProfile": {"enablePrivateCluster": True},
                          "agentPoolProfiles": [{"name": "nodepool1", "mode": "System", "count": 3}]}}  # fmt: skip


def listed(**kwargs: Any) -> AzureDocument:
    return AzureDocument(items=tuple(dependencies.document(**kwargs)["value"]))


# ---------------------------------------------------------------- healthy


def test_healthy_essentials_raise_nothing_and_every_layer_is_asked_once() -> None:
    world = World()
    j = run(world, settings())
    assert ids(j) == []
    names = [n for _, n in essentials("")]
    assert [h.name for h in j.hops] == [f"{n}:443" for n in names]
    kinds = [type(n).__name__ for n in world.asked]
    assert kinds.count("TcpConnectNeed") == kinds.count("TlsNeed") == kinds.count("HttpNeed") == len(names)
    assert all(t.ca_file == "" for t in world.asked if isinstance(t, TlsNeed)), "the system store, by default"


def test_the_cluster_list_the_region_and_the_api_server_with_azure_context() -> None:
    extra = {"images": [dependencies.endpoint("koreacentral.data.mcr.microsoft.com")]}
    world = World(document=listed(extra=extra), cluster=CLUSTER)
    j = run(world, settings(azure=AZURE))
    shown = {h.name for h in j.hops}
    assert {"koreacentral.data.mcr.microsoft.com:443", "ntp.ubuntu.com:123", "*.azmk8s.io:9000",
            "aks-lab-1234.privatelink.koreacentral.azmk8s.io:443", "security.ubuntu.com:80"} <= shown  # fmt: skip
    assert ids(j) == ["EG008"], "the wildcards and NTP are shown, not tested: an info, no alarm"
    (eg008,) = j.findings
    assert "*.data.mcr.microsoft.com:443" in eg008.detail and "ntp.ubuntu.com:123 (UDP" in eg008.detail
    http = [n for n in world.asked if isinstance(n, HttpNeed)]
    assert any(n.path == "/healthz" and n.server_name.startswith("aks-lab-1234") for n in http)
    assert not any(n.server_name == "security.ubuntu.com" for n in http), "plain HTTP: reached by TCP only"
    assert not any(isinstance(n, DnsQuery) and "*" in n.name for n in world.asked), "a wildcard is not asked for"
    api_tls = next(n for n in world.asked if isinstance(n, TlsNeed) and n.server_name.startswith("aks-lab"))
    assert api_tls.verify is False, "the cluster's own CA is unknown without a kubeconfig"


def test_a_private_api_server_name_resolving_privately_is_no_alarm() -> None:
    api = "aks-lab-1234.privatelink.koreacentral.azmk8s.io"
    world = World({api: Way(address="10.224.0.4")}, document=listed(value=[]), cluster=CLUSTER)
    assert ids(run(world, settings(azure=AZURE))) == []


# ---------------------------------------------------------------- one code per broken world


@pytest.mark.parametrize(
    ("way", "code"),
    [
        (Way(dns=Outcome.NXDOMAIN), "EG001"),
        (Way(dns=Outcome.TIMEOUT), "EG001"),
        (Way(address="10.1.9.9"), "EG002"),
        (Way(tcp="timeout"), "EG003"),
        (Way(tcp="refused"), "EG004"),
        (Way(trusted=False, issuer=FIREWALL_CA), "EG005"),
        (Way(names=("*.contoso.example",)), "EG005"),
        (Way(status=470, body="Action: Deny. Reason: No rule matched. Proceeding with default action."), "EG006"),
        (Way(status=407, body="Proxy Authentication Required"), "EG006"),
        (Way(status=403, body="HTTP request to x. Action: Deny. Reason: policy"), "EG006"),
        (Way(tls="error"), "EG007"),
        (Way(tls="timeout"), "EG007"),
        (Way(http="timeout"), "EG007"),
    ],
)
def test_each_broken_way_raises_its_code(way: Way, code: str) -> None:
    j = run(World({"mcr.microsoft.com": way}), settings())
    assert ids(j) == [code]
    (finding,) = j.findings
    assert finding.detail.startswith("mcr.microsoft.com")
    assert finding.hop == 1 and j.hops[0].status.value == ("warn" if code == "EG002" else "fail")


def test_any_status_of_the_endpoint_is_an_answer() -> None:
    for status in (200, 301, 400, 401, 403, 404, 500):
        assert ids(run(World({"mcr.microsoft.com": Way(status=status, body="Not Found")}), settings())) == []


def test_the_inspecting_issuer_is_named() -> None:
    j = run(World({"login.microsoftonline.com": Way(trusted=False, issuer=FIREWALL_CA)}), settings())
    (f,) = j.findings
    assert "Contoso Firewall TLS Inspection CA" in f.detail and f.evidence["issuer"] == FIREWALL_CA


def test_three_blackholed_endpoints_are_tested_in_one_round() -> None:
    ways = {n: Way(tcp="timeout") for n in ("mcr.microsoft.com", "packages.microsoft.com", "management.azure.com")}
    s = settings()
    world, facts = World(ways), {}
    rounds = []
    for _ in range(6):
        missing = [n for n in dict.fromkeys(PROBE.plan("", s, facts)) if n not in facts]
        if not missing:
            break
        rounds.append({type(n).__name__ for n in missing})
        facts.update({n: world.answer(n) for n in missing})
    assert rounds == [{"ResolverConfigNeed"}, {"DnsQuery"}, {"TcpConnectNeed", "TlsNeed", "HttpNeed"}]
    assert ids(PROBE.judge("", s, facts)) == ["EG003"] * 3


def test_the_users_endpoints_come_first_and_may_resolve_privately() -> None:
    s = settings(endpoints=("myacr.azurecr.io:443", "proxy.corp.example:8080"))
    world = World({"myacr.azurecr.io": Way(address="10.5.0.7"), "proxy.corp.example": Way(tcp="refused")})
    j = run(world, s)
    assert [h.name for h in j.hops][:2] == ["myacr.azurecr.io:443", "proxy.corp.example:8080"]
    assert ids(j) == ["EG004"]
    assert not any(isinstance(n, TlsNeed) and n.port == 8080 for n in world.asked), "port 8080: TCP only"


def test_a_tls_ca_bundle_is_what_the_handshake_trusts() -> None:
    world = World()
    run(world, settings(tls_ca_bundle="/lab/ca.pem"))
    assert {n.ca_file for n in world.asked if isinstance(n, TlsNeed)} == {"/lab/ca.pem"}


# ---------------------------------------------------------------- the list from Azure


def test_a_refused_list_is_eg009_and_a_missing_one_is_quiet() -> None:
    path = f"{dependencies.CLUSTER_ID}/outboundNetworkDependenciesEndpoints"
    forbidden = AzureDocument(error=AzureReadError(path, 403, "AuthorizationFailed", "no", failure="forbidden"))
    j = run(World(document=forbidden, cluster=CLUSTER), settings(azure=AZURE))
    assert ids(j) == ["EG009"] and not j.unread
    j = run(World(cluster=CLUSTER), settings(azure=AZURE))  # the World's default: 404
    assert ids(j) == [] and not j.unread and "not available" in j.facts["cluster_list"]
    broken = AzureDocument(error=AzureReadError(path, 503, "ServiceUnavailable", "busy", failure="server"))
    j = run(World(document=broken, cluster=CLUSTER), settings(azure=AZURE))
    assert ids(j) == [] and j.unread, "a read that could not be made is no all-clear"


# ---------------------------------------------------------------- in check: only with a reason


def test_check_leaves_egress_out_without_a_reason() -> None:
    s = Settings(resolv_conf=RESOLV)
    with pytest.raises(Skip):
        PROBE.plan("", s, {})
    assert PROBE.plan("", replace(s, in_cluster=True), {}) == [ResolverConfigNeed(RESOLV)]
    assert PROBE.plan("", replace(s, endpoints=("x.example:443",)), {}) == [ResolverConfigNeed(RESOLV)]
    healthy = {replace(s, azure=AZURE).azure: AzureContext(AZURE, cluster=CLUSTER)}
    with pytest.raises(Skip):
        PROBE.plan("", replace(s, azure=AZURE), healthy)
    failed = {**CLUSTER, "properties": {**CLUSTER["properties"], "agentPoolProfiles": [
        {"name": "nodepool1", "provisioningState": "Failed", "status": {"provisioningError": {
            "code": "VMExtensionProvisioningError", "message": "vmssCSE failed: Enable failed: exit status=50 "
            "OutboundConnFailVMExtensionError"}}}]}}  # fmt: skip
    needs = PROBE.plan("", replace(s, azure=AZURE), {AZURE: AzureContext(AZURE, cluster=failed)})
    assert ResolverConfigNeed(RESOLV) in needs and any(isinstance(n, AzureGetNeed) for n in needs)


def test_a_cluster_that_could_not_be_read_is_no_all_clear() -> None:
    world = World(cluster=None)
    original = world.answer

    def failing(need: Hashable) -> Any:
        if isinstance(need, AzureContextNeed):
            return AzureContext(
                need, errors=(AzureReadError(need.cluster_id, 503, "ServerBusy", "busy", failure="server"),)
            )
        return original(need)

    world.answer = failing  # type: ignore[method-assign]
    j = run(world, settings(azure=AZURE))
    assert ids(j) == [] and j.unread and "busy" in j.unread[0]
    assert [h.name for h in j.hops] == [f"{n}:443" for _, n in essentials("")], "the essentials are still tested"


def test_an_unreadable_resolver_tests_nothing_and_says_so() -> None:
    """No resolv.conf: no name is asked, so no endpoint is ok — each is skipped ("not tested") and the probe could
    not look (unread), never a row of ✔ over endpoints nobody reached."""
    from aksdiag.model import Status

    world = World()
    original = world.answer

    def unreadable(need: Hashable) -> Any:
        if isinstance(need, ResolverConfigNeed):
            return ResolverConfig(need.path, error="cannot read /lab/resolv.conf: No such file or directory")
        return original(need)

    world.answer = unreadable  # type: ignore[method-assign]
    j = run(world, settings())
    assert ids(j) == [] and j.unread, "could not look"
    assert {h.status for h in j.hops} == {Status.SKIPPED}
    assert all(h.detail.startswith("not tested") for h in j.hops)
    (table,) = [t for t in j.tables if t.title == "Required endpoints"]
    assert {row[-1] for row in table.rows} == {"not tested"}
    assert not any(isinstance(n, TcpConnectNeed) for n in world.asked)
