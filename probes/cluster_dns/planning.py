"""Planning: the relays on the name's path (and, with a kube context, the kube-dns Service and each CoreDNS pod),
the servers each forwards the name to, and the questions to ask them all.

Round one reads what the layout depends on (the resolver configuration, the Azure context, kube-system's DNS
objects, the clock); round two asks every relay and upstream the name over UDP and TCP with the same DnsQuery
values dns_chain asks (its `with_azure_context`, `resolver_servers`, `custom_servers`, TRANSPORTS), so the runner
sends each question once for both probes. `layout` is the one place that decides who forwards to whom: the plan
asks from it and the judgement reads its answers from it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import Any

from aksdiag.probes.dns_chain.planning import (
    TRANSPORTS,
    azure_facts,
    custom_servers,
    is_azure,
    resolver_servers,
    with_azure_context,
)

from aksdiag import clusterdns, localdns
from aksdiag.clusterdns import (
    COREDNS_CONFIGMAP,
    COREDNS_CUSTOM_CONFIGMAP,
    COREDNS_LABEL,
    KUBE_DNS_SERVICE,
    NAMESPACE,
    ConfigMapRead,
    CoreDnsPod,
    DnsEndpoint,
    KubeDnsService,
    RelayKind,
)
from aksdiag.corefile import CoreDNSConfig, CorefileError, Explanation, parse_coredns
from aksdiag.facts import (
    AzureContext,
    ClockNeed,
    DnsQuery,
    Endpoint,
    KubeContextNeed,
    KubeList,
    KubeListNeed,
    ResolverConfig,
    ResolverConfigNeed,
)
from aksdiag.localdns import LocalDnsOverride, LocalDnsProfile
from aksdiag.probe import Facts, Skip
from aksdiag.settings import Settings

ID = "cluster_dns"
NO_RELAY = "no cluster DNS relay on this path: run it in the cluster (aksdiag pod -- dns …) or give --kubeconfig"
NODE_RESOLVER = "the node's resolver (forward . /etc/resolv.conf)"


def kube_context(settings: Settings) -> KubeContextNeed | None:
    """The cluster to read kube-system from: --kubeconfig/--context, or the pod's service account."""
    if settings.kube is not None:
        return settings.kube
    return KubeContextNeed(in_cluster=True) if settings.in_cluster else None


def kube_needs(settings: Settings) -> dict[str, KubeListNeed]:
    """kube-system's DNS objects by what they are: the kube-dns Service, its EndpointSlices, the CoreDNS pods (lists
    with selectors) and the two ConfigMaps (GETs by name: RBAC grants those by resourceNames)."""
    ctx = kube_context(settings)
    if ctx is None:
        return {}
    return {
        "services": KubeListNeed(ctx, "services", field_selector=f"metadata.name={KUBE_DNS_SERVICE}", namespace=NAMESPACE),
        "endpointslices": KubeListNeed(ctx, "endpointslices", label_selector=f"kubernetes.io/service-name={KUBE_DNS_SERVICE}",
                                       namespace=NAMESPACE),
        "pods": KubeListNeed(ctx, "pods", label_selector=COREDNS_LABEL, namespace=NAMESPACE),
        COREDNS_CONFIGMAP: KubeListNeed(ctx, "configmaps", namespace=NAMESPACE, name=COREDNS_CONFIGMAP),
        COREDNS_CUSTOM_CONFIGMAP: KubeListNeed(ctx, "configmaps", namespace=NAMESPACE, name=COREDNS_CUSTOM_CONFIGMAP),
    }  # fmt: skip


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    resolver_need = ResolverConfigNeed(settings.resolv_conf)
    first: list[Hashable] = [n for n in (resolver_need if settings.use_resolver else None, settings.azure) if n]
    first += [*kube_needs(settings).values(), ClockNeed()]
    if any(n not in facts for n in first):
        return first  # what the layout depends on first: every question then goes out in one round
    shape = layout(name, settings, facts)
    if not shape.name:
        raise Skip("no name to trace: pass the FQDN, or --cluster and --resource-group to use the cluster's")
    if not shape.relays and kube_context(settings) is None and not shape.localdns_pools:
        raise Skip(NO_RELAY)
    needs = list(first)
    for server, asked in shape.questions():
        needs += [DnsQuery(server, asked, "A", t, shape.settings.count) for t in TRANSPORTS]
    return needs


# ---------------------------------------------------------------- the layout: who forwards the name to whom


@dataclass(frozen=True)
class Ask:
    """A server the name passes through: a relay (kind set) or an upstream, and the name it is asked."""

    endpoint: Endpoint
    asked: str
    kind: RelayKind | None = None
    label: str = ""


@dataclass(frozen=True)
class RelayPlan:
    """One relay: where it is, why it is asked, and what it forwards the name to (and how, in words)."""

    endpoint: Endpoint
    kind: RelayKind
    on_path: bool
    """The resolver (or --server) names it; otherwise it is asked because the cluster says it serves kube-dns."""
    upstreams: tuple[Ask, ...]
    via: str
    """How it forwards the name: NODE_RESOLVER, `coredns-custom privatelink.server line 4: forward . 10.1.0.99`,
    `LocalDNS VnetDNS (pool nodes, '.')`…; empty when it answers itself (hosts) or the way is unknown."""
    unknown: str = ""
    """Why the servers behind it are not known here (empty when they are)."""
    localdns: tuple[tuple[str, LocalDnsOverride], ...] = ()
    """(pool, the override the listener applies to the name), for a LocalDNS listener."""


@dataclass(frozen=True)
class Layout:
    name: str
    settings: Settings
    config: ResolverConfig | None
    relays: tuple[RelayPlan, ...]
    vnet: tuple[Endpoint, ...]
    """The servers the VNet's clients (the nodes' resolvers) use: its custom DNS servers, or Azure DNS."""
    vnet_custom: bool | None
    """The VNet names custom DNS servers (True), uses Azure DNS (False), or it is not known (None)."""
    kube_dns_ip: str | None
    service: KubeDnsService | None
    endpoints: tuple[DnsEndpoint, ...]
    pods: tuple[CoreDnsPod, ...]
    reads: dict[str, KubeList | None] = field(default_factory=dict)
    configmaps: dict[str, ConfigMapRead] = field(default_factory=dict)
    corefile: CoreDNSConfig | None = None
    corefile_error: str = ""
    explanation: Explanation | None = None
    profiles: tuple[LocalDnsProfile, ...] = ()

    @property
    def localdns_pools(self) -> tuple[LocalDnsProfile, ...]:
        """The pools where LocalDNS runs (or may: AKS did not say it is off)."""
        return tuple(p for p in self.profiles if p.enabled or (p.configured and p.state.lower() == "unknown"))

    def questions(self) -> list[tuple[Endpoint, str]]:
        """Every (server, name) to ask: the relays, what they forward to, the VNet's servers and Azure DNS."""
        out = [(r.endpoint, self.name) for r in self.relays]
        out += [(u.endpoint, u.asked) for r in self.relays for u in r.upstreams]
        out += [(s, self.name) for s in (*self.vnet, self.settings.azure_dns)]
        return list(dict.fromkeys(out))


def layout(name: str, settings: Settings, facts: Facts) -> Layout:
    name, settings = with_azure_context(name, settings, facts)
    config = facts.get(ResolverConfigNeed(settings.resolv_conf)) if settings.use_resolver else None
    reads: dict[str, KubeList | None] = {k: facts.get(n) for k, n in kube_needs(settings).items()}
    service = clusterdns.kube_dns_service(reads.get("services"))
    endpoints = clusterdns.dns_endpoints(reads.get("endpointslices"))
    pods = clusterdns.coredns_pods(reads.get("pods"))
    configmaps = {k: clusterdns.config_map(reads[k], k) for k in (COREDNS_CONFIGMAP, COREDNS_CUSTOM_CONFIGMAP)
                  if k in reads}  # fmt: skip
    corefile, corefile_error = _corefile(configmaps)
    explanation = corefile.explain(name) if corefile is not None and name else None
    ctx = facts.get(settings.azure) if settings.azure else None
    cluster = ctx.cluster if isinstance(ctx, AzureContext) else None
    vnet, vnet_custom = _vnet(settings, config, facts)
    kube_dns_ip = (
        (service.cluster_ip if service else None) or _arm_dns_ip(cluster) or _resolver_kube_dns(settings, config)
    )
    pod_ips = tuple(dict.fromkeys([e.ip for e in endpoints] + [p.ip for p in pods if p.ip]))
    base = Layout(name, settings, config, (), vnet, vnet_custom, kube_dns_ip, service, endpoints, pods, reads,
                  configmaps, corefile, corefile_error, explanation, localdns.profiles(cluster) if cluster else ())  # fmt: skip
    return _with_relays(base, pod_ips)


def _with_relays(base: Layout, pod_ips: tuple[str, ...]) -> Layout:
    settings, config = base.settings, base.config
    path = [*resolver_servers(config), *settings.servers]
    found: dict[Endpoint, tuple[RelayKind, bool]] = {}
    for server in path:
        kind = clusterdns.relay_kind(server.host, kube_dns_ip=base.kube_dns_ip, coredns_pod_ips=pod_ips)
        if kind is not None:
            found.setdefault(server, (kind, True))
    # the kube-dns Service where the path names it (with its port: the lab's stand-ins listen off 53), else at 53
    named = next((e for e in found if e.host == base.kube_dns_ip), None)
    coredns = named or (Endpoint(base.kube_dns_ip) if base.kube_dns_ip else None)
    localdns_here = any(k is RelayKind.LOCALDNS for k, _ in found.values())
    wanted_kube = kube_context(settings) is not None or (localdns_here and coredns is not None)
    if coredns is not None and wanted_kube:
        found.setdefault(coredns, (RelayKind.COREDNS, False))
    if kube_context(settings) is not None:
        for ip in pod_ips:
            found.setdefault(Endpoint(ip), (RelayKind.COREDNS_POD, False))
    relays = tuple(_relay(base, server, kind, on_path, coredns) for server, (kind, on_path) in found.items())
    return replace(base, relays=relays)


def _relay(base: Layout, server: Endpoint, kind: RelayKind, on_path: bool, coredns: Endpoint | None) -> RelayPlan:
    if kind is RelayKind.LOCALDNS:
        return _localdns(base, server, on_path, coredns)
    return _coredns(base, server, kind, on_path)


def _coredns(base: Layout, server: Endpoint, kind: RelayKind, on_path: bool) -> RelayPlan:
    """CoreDNS forwards as its Corefile says for the name (AKS's default when it was not read: the node's resolver)."""
    e = base.explanation
    if base.corefile is None:
        upstreams, unknown = _vnet_hops(base)
        why = (
            "the coredns ConfigMap was not read: AKS's default assumed"
            if not base.corefile_error
            else base.corefile_error
        )
        return RelayPlan(server, kind, on_path, upstreams, f"{NODE_RESOLVER}, {why}", unknown)
    if e is None:
        return RelayPlan(server, kind, on_path, (), "no server block of the Corefile covers the name (REFUSED)")
    if e.hosts:
        entry = e.hosts[0]
        return RelayPlan(server, kind, on_path, (), f"answers from hosts ({entry.origin}: {entry.address})")
    if e.forward is None:
        return RelayPlan(
            server, kind, on_path, (), f"no forward for the name in the block of {e.zone} ({e.block.origin})"
        )
    forward = e.forward
    if forward.node_resolver:
        upstreams, unknown = _vnet_hops(base, _asked(base.name, e.rewritten))
        return RelayPlan(server, kind, on_path, upstreams, f"{NODE_RESOLVER} ({forward.origin})", unknown)
    targets = tuple(
        Ask(t, _asked(base.name, e.rewritten)) for t in (_target(t) for t in forward.targets) if t is not None
    )
    words = " ".join((forward.from_zone.rstrip(".") or ".", *forward.targets))
    return RelayPlan(server, kind, on_path, targets, f"{forward.origin}: forward {words}")


def _localdns(base: Layout, server: Endpoint, on_path: bool, coredns: Endpoint | None) -> RelayPlan:
    """A LocalDNS listener forwards the name as the pools' overrides say (AKS's defaults without Azure context)."""
    pools = base.localdns_pools or (LocalDnsProfile(pool="?", state="Enabled"),)
    chosen = tuple((p.pool, o) for p in pools for o in [localdns.for_listener(p, server.host, base.name)] if o)
    destinations = {o.destination for _, o in chosen} or {localdns.default_override(".", server.host).destination}
    upstreams: list[Ask] = []
    unknown = ""
    if localdns.CLUSTER_CORE_DNS in destinations:
        if coredns is not None:
            upstreams.append(Ask(coredns, base.name, RelayKind.COREDNS))
        else:
            unknown = "the kube-dns Service IP is not known here (give --kubeconfig or --cluster)"
    if localdns.VNET_DNS in destinations:
        hops, unknown_vnet = _vnet_hops(base)
        upstreams += hops
        unknown = unknown or unknown_vnet
    labels = ", ".join(f"{o.destination} ({'pool ' + pool if pool != '?' else 'default'}, {o.domain!r}, {o.protocol})"
                       for pool, o in chosen)  # fmt: skip
    return RelayPlan(server, RelayKind.LOCALDNS, on_path, tuple(upstreams), f"LocalDNS {labels}", unknown, chosen)


def _asked(name: str, rewritten: str) -> str:
    """The name a relay asks its upstreams: the name as given, or what a rewrite made of it (no final dot)."""
    return name if rewritten.rstrip(".") == name.lower().rstrip(".") else rewritten.rstrip(".")


def _vnet_hops(base: Layout, asked: str | None = None) -> tuple[tuple[Ask, ...], str]:
    if base.vnet_custom is None:
        return (), "the VNet's DNS servers are not known here (give --vnet-dns, --server or --cluster)"
    return tuple(Ask(s, asked or base.name) for s in base.vnet), ""


def _target(text: str) -> Endpoint | None:
    """A forward target as CoreDNS writes it (`10.0.0.4`, `dns://10.0.0.4:53`, `10.0.0.4:5353`); None for others
    (`tls://`, a path)."""
    scheme, _, rest = text.rpartition("://")
    if scheme not in ("", "dns") or rest.startswith("/"):
        return None
    host, port = rest, 53
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") and tail[1:].isdigit() else 53
    elif rest.count(":") == 1:
        host, _, tail = rest.partition(":")
        port = int(tail) if tail.isdigit() else 53
    return Endpoint(host, port) if host else None


def _vnet(settings: Settings, config: ResolverConfig | None, facts: Facts) -> tuple[tuple[Endpoint, ...], bool | None]:
    """The servers a node's resolver asks: --vnet-dns, else the VNet's from ARM (or --server, which
    with_azure_context has filled from it), else the resolver's non-relay nameservers; Azure DNS when the VNet
    names none (ARM said so)."""
    relays = set(clusterdns.LOCALDNS_LISTENERS)
    if settings.vnet_dns:
        given = [s for s in settings.vnet_dns if not is_azure(s, settings)]
        return (tuple(given), True) if given else ((settings.azure_dns,), False)
    custom = [s for s in custom_servers(settings, config) if s.host not in relays and not _kube_ip(s, settings, config)]
    if custom:
        return tuple(dict.fromkeys(custom)), True
    arm = azure_facts(settings, facts)
    if arm is not None:
        return (settings.azure_dns,), False  # the VNet names no DNS server: its clients ask Azure DNS
    return (), None


def _kube_ip(server: Endpoint, settings: Settings, config: ResolverConfig | None) -> bool:
    return server.host == _resolver_kube_dns(settings, config)


def _resolver_kube_dns(settings: Settings, config: ResolverConfig | None) -> str | None:
    if config is None or config.error:
        return None
    cluster_first = clusterdns.told_cluster_first(settings.in_cluster, settings.dns_policy)
    return clusterdns.pod_kube_dns_ip(tuple(s.host for s in config.nameservers), config.search, cluster_first)


def _arm_dns_ip(cluster: dict[str, Any] | None) -> str | None:
    """networkProfile.dnsServiceIP of the managedClusters body: the kube-dns Service's ClusterIP."""
    profile = ((cluster or {}).get("properties") or {}).get("networkProfile") or {}
    ip = profile.get("dnsServiceIP") if isinstance(profile, dict) else None
    return str(ip) if ip else None


def _corefile(configmaps: dict[str, ConfigMapRead]) -> tuple[CoreDNSConfig | None, str]:
    """The Corefile with coredns-custom imported; (None, why) when the coredns ConfigMap is not at hand or does
    not parse (a coredns-custom that cannot be read counts as empty: the hop and DNS037 say so)."""
    main = configmaps.get(COREDNS_CONFIGMAP)
    if main is None or main.data is None or "Corefile" not in main.data:
        return None, ""
    custom = configmaps.get(COREDNS_CUSTOM_CONFIGMAP)
    try:
        return parse_coredns(main.data["Corefile"], (custom.data if custom else None) or {}), ""
    except CorefileError as e:
        return None, f"the Corefile does not parse ({e.message}): AKS's default assumed"
