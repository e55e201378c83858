"""Worlds for the cluster_dns probe, built from facts by hand: what each server answers (UDP and TCP, with TTLs),
the pod's resolv.conf, kube-system's objects (aksdiag.lab.corednsworld's, as the API server serves them), the pools'
LocalDNS profiles (an Azure context) and the run's clock. The plan is run round by round against these facts, so
a world also proves the probe asks what it judges.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aksdiag.probes import cluster_dns
from aksdiag.probes.cluster_dns import planning

from aksdiag import codes
from aksdiag.facts import (
    AzureContext,
    AzureContextNeed,
    Clock,
    ClockNeed,
    DnsAnswer,
    DnsQuery,
    DnsResult,
    Endpoint,
    KubeContextNeed,
    KubeList,
    KubeListNeed,
    Outcome,
    ResolverConfig,
    ResolverConfigNeed,
)
from aksdiag.lab import corednsworld
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP, FORWARD_ZONE, STALE_IP
from aksdiag.model import Finding, Severity, Status
from aksdiag.probe import Judgement
from aksdiag.settings import Settings

NAME = CLUSTER_FQDN
IP = ENDPOINT_IP
STALE = STALE_IP
PUBLIC = "20.41.65.7"
ZONE = FORWARD_ZONE

KUBE_DNS = Endpoint(corednsworld.KUBE_DNS_IP)
POD1, POD2 = Endpoint(corednsworld.PODS[0][1]), Endpoint(corednsworld.PODS[1][1])
LOCAL_KUBE, LOCAL_VNET = Endpoint("169.254.10.11"), Endpoint("169.254.10.10")
CUSTOM = Endpoint("10.1.0.4")  # the VNet's custom DNS server (with the conditional forwarder)
CUSTOM2 = Endpoint("10.1.0.5")  # another server that holds the zone
WRONG = Endpoint(corednsworld.WRONG_FORWARD)  # an old server without the forwarder
AZURE = Endpoint("127.0.0.1", 5302)  # stands in for 168.63.129.16 (Settings.azure_dns)
AZURE_IP = Endpoint("168.63.129.16")  # what a Corefile names
RESOLV = "/lab/resolv.conf"
POD_SEARCH = ("default.svc.cluster.local", "svc.cluster.local", "cluster.local")
NOW = "2026-12-01T14:00:11+00:00"
KUBE = KubeContextNeed(in_cluster=True)
AZ_NEED = AzureContextNeed("sub-1", "rg-aks", "aks-x", "https://127.0.0.1:1")
SPOKE = "/subscriptions/sub-1/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/spoke"


def ok(*addresses: str, ttl: int | None = 30) -> DnsAnswer:
    return DnsAnswer(Outcome.ANSWER, "NOERROR", addresses or (IP,), elapsed_ms=2.0, ttl=ttl)


def nx(ttl: int | None = 300) -> DnsAnswer:
    return DnsAnswer(Outcome.NXDOMAIN, "NXDOMAIN", zone="azmk8s.io", elapsed_ms=2.0, ttl=ttl)


def servfail() -> DnsAnswer:
    return DnsAnswer(Outcome.SERVFAIL, "SERVFAIL", elapsed_ms=2.0)


def silent(outcome: Outcome = Outcome.TIMEOUT) -> DnsAnswer:
    return DnsAnswer(outcome, error=f"{outcome.value} in test")


@dataclass(frozen=True)
class Split:
    udp: DnsAnswer
    tcp: DnsAnswer


Spec = DnsAnswer | Split


@dataclass
class World:
    name: str
    settings: Settings
    facts: dict[Hashable, Any]
    answers: Mapping[Endpoint, Spec]
    by_name: Mapping[tuple[Endpoint, str], Spec] = field(default_factory=dict)
    asked: list[DnsQuery] = field(default_factory=list)

    def run(self) -> Judgement:
        """The plan round by round (answering its DnsQuery needs from the world), then the judgement."""
        for _ in range(4):
            needs = cluster_dns.plan(self.name, self.settings, self.facts)
            missing = [n for n in needs if n not in self.facts]
            if not missing:
                break
            for need in missing:
                assert isinstance(need, DnsQuery), f"a need the world does not hold: {need}"
                self.asked.append(need)
                spec = (
                    self.by_name.get((need.server, need.name.rstrip("."))) or self.answers.get(need.server) or silent()
                )
                side = getattr(spec, need.transport) if isinstance(spec, Split) else spec
                self.facts[need] = DnsResult(need, (side,) * need.samples)
        j = cluster_dns.judge(self.name, self.settings, self.facts)
        check_invariants(j)
        return j


def kube_facts(objects: list[dict[str, Any]], settings: Settings, deny: Sequence[str] = ()) -> dict[Hashable, Any]:
    """What the kube source returns for the probe's reads of `objects`; a key of `deny` answers 403."""
    needs = planning.kube_needs(settings)
    kinds = {"services": "Service", "endpointslices": "EndpointSlice", "pods": "Pod"}
    out: dict[Hashable, Any] = {}
    for key, need in needs.items():
        if key in deny:
            what = f'configmaps "{key}"' if need.name else key
            verb = "get" if need.name else "list"
            out[need] = KubeList(status=403, error=f'{what} is forbidden: User "system:serviceaccount:aksdiag:aksdiag" '
                                 f'cannot {verb} resource "{need.resource}" in API group "" in the namespace "kube-system"',
                                 failure="forbidden")  # fmt: skip
            continue
        out[need] = _served(objects, need, kinds)
    return out


def _served(objects: list[dict[str, Any]], need: KubeListNeed, kinds: dict[str, str]) -> KubeList:
    if need.name:
        found = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == need.name]
        return KubeList(tuple(found)) if found else KubeList(status=404, error="not found", failure="not-found")
    return KubeList(tuple(o for o in objects if o["kind"] == kinds[need.resource]))


def coredns_objects(world: str = "coredns-healthy", custom: dict[str, str] | None = None) -> list[dict[str, Any]]:
    objects = corednsworld.kube(world)
    if custom is not None:
        for o in objects:
            if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "coredns-custom":
                o["data"] = dict(custom)
    return objects


def localdns_profile(vnet: dict[str, Any] | None = None, kube: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"mode": "Required", "state": "Enabled"}
    if vnet:
        body["vnetDNSOverrides"] = vnet
    if kube:
        body["kubeDNSOverrides"] = kube
    return body


def azure_context(vnet_dns: Sequence[str] = (CUSTOM.host,), localdns: dict[str, Any] | None = None) -> AzureContext:
    """The cluster in the spoke VNet (DNS servers `vnet_dns`), kube-dns at 10.0.0.10, pool `nodes` with `localdns`."""
    pool: dict[str, Any] = {"name": "nodes", "vnetSubnetID": f"{SPOKE}/subnets/nodes"}
    if localdns is not None:
        pool["localDNSProfile"] = localdns
    cluster = {
        "id": AZ_NEED.cluster_id,
        "properties": {"privateFQDN": NAME, "agentPoolProfiles": [pool],
                       "networkProfile": {"dnsServiceIP": KUBE_DNS.host}},
    }  # fmt: skip
    vnet = {"id": SPOKE, "properties": {"dhcpOptions": {"dnsServers": list(vnet_dns)}}}
    return AzureContext(need=AZ_NEED, cluster=cluster, vnets={SPOKE.lower(): vnet})


def world(
    answers: Mapping[Endpoint, Spec] | None = None,
    *,
    resolver: Sequence[Endpoint] = (KUBE_DNS,),
    search: Sequence[str] = POD_SEARCH,
    kube: list[dict[str, Any]] | str | None = "coredns-healthy",
    deny: Sequence[str] = (),
    context: AzureContext | None = None,
    by_name: Mapping[tuple[Endpoint, str], Spec] | None = None,
    in_cluster: bool = True,
    vnet_dns: Sequence[Endpoint] = (CUSTOM,),
    clock: str = NOW,
    name: str = NAME,
    edit: Callable[[dict[Hashable, Any], Settings], None] | None = None,
    **settings: Any,
) -> World:
    """A pod (in_cluster) or a jump box whose resolv.conf lists `resolver`; `answers` by server (default: every
    relay and the VNet's server answer the endpoint's address, Azure DNS too); kube-system holds `kube` (a
    corednsworld name, objects, or None: no kube context)."""
    if context is not None:
        settings["azure"] = context.need
    given = dict(settings)
    s = Settings(
        azure_dns=AZURE, resolv_conf=RESOLV, in_cluster=in_cluster,
        dns_policy=given.pop("dns_policy", "ClusterFirst" if in_cluster else ""),
        kube=None if kube is None else (KUBE if in_cluster else KubeContextNeed(kubeconfig="/lab/kubeconfig")),
        vnet_dns=tuple(vnet_dns), servers=given.pop("servers", tuple(vnet_dns)), **given,
    )  # fmt: skip
    facts: dict[Hashable, Any] = {
        ResolverConfigNeed(RESOLV): ResolverConfig(RESOLV, nameservers=tuple(resolver), search=tuple(search)),
    }
    facts[ClockNeed()] = Clock(clock)
    if context is not None:
        facts[context.need] = context
    if kube is not None:
        objects = coredns_objects(kube) if isinstance(kube, str) else kube
        facts.update(kube_facts(objects, s, deny))
    if edit is not None:
        edit(facts, s)
    base: dict[Endpoint, Spec] = {e: ok() for e in (KUBE_DNS, POD1, POD2, LOCAL_KUBE, LOCAL_VNET, CUSTOM, CUSTOM2)}
    base[AZURE] = ok()
    base.update(answers or {})
    return World(name, s, facts, base, dict(by_name or {}))


def check_invariants(j: Judgement) -> None:
    """Every finding: from the catalogue, owned by cluster_dns, on a real hop (or none, for the cluster's objects),
    the hop at least as bad as the finding."""
    indices = [h.index for h in j.hops]
    assert indices == list(range(1, len(j.hops) + 1))
    for f in j.findings:
        entry = codes.CATALOGUE[f.id]
        assert f.id in cluster_dns.PROBE.codes and f.probe == "cluster_dns"
        assert f.title == entry.title and f.docs == entry.docs
        assert f.severity is entry.severity or entry.severity is Severity.ERROR, f.id
        if f.hop is None:
            assert f.id in ("DNS029", "DNS035", "DNS037"), f"{f.id} on no hop"
            continue
        assert f.hop in indices, f"{f.id} on hop {f.hop}"
        hop = j.hops[f.hop - 1]
        if f.severity is Severity.ERROR:
            assert hop.status is Status.FAIL, (f.id, hop)
        if f.severity is Severity.WARNING:
            assert hop.status in (Status.WARN, Status.FAIL), (f.id, hop)


def ids(j: Judgement) -> list[str]:
    return sorted(f.id for f in j.findings)


def alarms(j: Judgement) -> list[str]:
    return sorted(f.id for f in j.findings if f.severity is not Severity.INFO)


def the(j: Judgement, code: str) -> Finding:
    found = [f for f in j.findings if f.id == code]
    assert len(found) == 1, [(f.id, f.detail) for f in j.findings]
    return found[0]


def hop(j: Judgement, server: Endpoint) -> Any:
    (found,) = [h for h in j.hops if h.server == str(server)]
    return found
