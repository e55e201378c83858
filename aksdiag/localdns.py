"""AKS LocalDNS as Azure configures it: each agent pool's `localDNSProfile` (the managedClusters GET), typed.

LocalDNS is a caching DNS proxy on every node of a pool whose profile is enabled. Its VNet DNS listener
(169.254.10.10) takes kubelet's and dnsPolicy Default pods' queries (`vnetDNSOverrides`), its kube-dns listener
(169.254.10.11) the ClusterFirst pods' (`kubeDNSOverrides`). Per domain, an override says where to forward
(`VnetDNS`: the VNet's DNS servers, `ClusterCoreDNS`: the kube-dns Service), over which protocol (`PreferUDP`,
`ForceTCP`), and how long to cache (`cacheDurationInSeconds`, default 3600) and to serve stale answers
(`serveStale` Immediate/Verify/Disable, `serveStaleDurationInSeconds`, default 3600). `VnetDNS` is the servers the
node got by DHCP when its localdns service started (a VNet DNS change reaches it only with a node reimage). Learn:
"Configure LocalDNS in AKS" (localdns-custom: defaults, validation rules) and the REST API's LocalDNSProfile /
LocalDNSOverride; how a node turns the overrides into its Corefile is AgentBaker's localdns Corefile template (one
server block per domain and listener).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from aksdiag.clusterdns import LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP

VNET_DNS = "VnetDNS"
CLUSTER_CORE_DNS = "ClusterCoreDNS"
ROOT = "."
CLUSTER_LOCAL = "cluster.local"
FORCE_TCP = "ForceTCP"


@dataclass(frozen=True)
class LocalDnsOverride:
    """One domain's settings in `vnetDNSOverrides` or `kubeDNSOverrides`."""

    domain: str
    """The domain the override applies to (`.` for everything else; `cluster.local` and others), lower case."""
    forward_destination: str = VNET_DNS
    """As configured: `VnetDNS` (the VNet's DNS servers) or `ClusterCoreDNS` (the kube-dns Service). Where the
    node really sends the name is `destination` (AKS forces some domains one way)."""
    protocol: str = "PreferUDP"
    """`PreferUDP` (UDP, TCP again on truncation) or `ForceTCP`."""
    forward_policy: str = "Sequential"
    """`Sequential`, `RoundRobin` or `Random` (CoreDNS forward `policy`)."""
    max_concurrent: int | None = 1000
    cache_seconds: int = 3600
    """`cacheDurationInSeconds`: the cache's cap on an answer's TTL, NXDOMAIN included (CoreDNS `cache N`, success
    and denial 9984 entries each); it lowers a longer upstream TTL, never raises a shorter one."""
    serve_stale: str = "Immediate"
    """`Immediate` (answer from the expired entry, then refresh), `Verify` (ask upstream first) or `Disable`.
    Learn forbids `Verify` with ForceTCP."""
    serve_stale_seconds: int = 3600
    query_logging: str = "Error"
    listener: str = LOCALDNS_VNET_IP
    """The listener whose map holds it: 169.254.10.10 (vnetDNSOverrides) or 169.254.10.11 (kubeDNSOverrides)."""
    configured: bool = True
    """False: not in the body; AKS's default for the domain (`.` and `cluster.local` always have a block)."""

    @property
    def force_tcp(self) -> bool:
        return self.protocol.lower() == FORCE_TCP.lower()

    @property
    def destination(self) -> str:
        """Where the node forwards the domain: AgentBaker's template sends a domain ending in `cluster.local`, or
        one whose forwardDestination is ClusterCoreDNS, to the kube-dns Service — except `.` on the VNet DNS
        listener, which always goes to the VNet's DNS servers; every other block goes to the VNet's DNS servers."""
        if self.listener == LOCALDNS_VNET_IP and self.domain == ROOT:
            return VNET_DNS
        if self.domain.endswith(CLUSTER_LOCAL) or self.forward_destination.lower() == CLUSTER_CORE_DNS.lower():
            return CLUSTER_CORE_DNS
        return VNET_DNS

    @property
    def serves_stale(self) -> bool:
        return self.serve_stale.lower() not in ("disable", "disabled") and self.serve_stale_seconds > 0


@dataclass(frozen=True)
class LocalDnsProfile:
    """One agent pool's LocalDNS: whether it runs, and its overrides."""

    pool: str
    mode: str = "Disabled"
    """`Required` (installed and enforced), `Preferred` (Learn, 2026: the configuration is validated, LocalDNS not
    installed) or `Disabled`, as configured (a pool with no localDNSProfile: Disabled)."""
    state: str = "Disabled"
    """`Enabled` or `Disabled`, as AKS reports it (Preferred on an unsupported version stays Disabled). When the
    body has no state: Disabled for mode Disabled, else `Unknown`."""
    vnet_overrides: tuple[LocalDnsOverride, ...] = field(default_factory=tuple)
    kube_overrides: tuple[LocalDnsOverride, ...] = field(default_factory=tuple)
    configured: bool = True
    """False: the pool has no localDNSProfile at all."""

    @property
    def enabled(self) -> bool:
        return self.state.lower() == "enabled"

    def overrides(self, listener: str) -> tuple[LocalDnsOverride, ...]:
        """The overrides of the listener at `listener` (169.254.10.10 or 169.254.10.11); () for another address."""
        if listener == LOCALDNS_VNET_IP:
            return self.vnet_overrides
        if listener == LOCALDNS_KUBE_IP:
            return self.kube_overrides
        return ()


def default_override(domain: str, listener: str) -> LocalDnsOverride:
    """AKS's default for a domain on a listener (Learn's table): ForceTCP for cluster.local, else PreferUDP;
    ClusterCoreDNS for cluster.local and for kube-dns traffic, else VnetDNS; the rest as LocalDnsOverride's."""
    local = domain.endswith(CLUSTER_LOCAL)
    to_coredns = local or listener == LOCALDNS_KUBE_IP
    return LocalDnsOverride(
        domain=domain,
        forward_destination=CLUSTER_CORE_DNS if to_coredns else VNET_DNS,
        protocol=FORCE_TCP if local else "PreferUDP",
        listener=listener,
        configured=False,
    )


def for_listener(profile: LocalDnsProfile, listener: str, name: str) -> LocalDnsOverride | None:
    """The override the listener at `listener` applies to `name`: the longest domain that is `name` or one of
    its parent domains (CoreDNS picks the most specific server block), else `.`, else AKS's default for `.`.
    None when `listener` is no LocalDNS listener."""
    if listener not in (LOCALDNS_VNET_IP, LOCALDNS_KUBE_IP):
        return None
    wanted = name.strip().rstrip(".").lower()
    best: LocalDnsOverride | None = None
    for override in profile.overrides(listener):
        covers = override.domain in (ROOT, wanted) or wanted.endswith("." + override.domain)
        if covers and (best is None or _depth(override.domain) > _depth(best.domain)):
            best = override
    return best or default_override(ROOT, listener)


def profiles(cluster: dict[str, Any] | None) -> tuple[LocalDnsProfile, ...]:
    """Each agent pool's LocalDNS, from a managedClusters body (ARM's camelCase `properties.agentPoolProfiles`).

    Tolerant: what is not a dict (or list) where one is expected is skipped, never an exception. A pool without
    a localDNSProfile is a Disabled, unconfigured profile; `.` and `cluster.local` get AKS's defaults when absent."""
    props = cluster.get("properties") if isinstance(cluster, dict) else None
    pools = props.get("agentPoolProfiles") if isinstance(props, dict) else None
    if not isinstance(pools, list):
        return ()
    out: list[LocalDnsProfile] = []
    for pool in pools:
        if isinstance(pool, dict):
            out.append(_profile(pool))
    return tuple(out)


def _profile(pool: dict[str, Any]) -> LocalDnsProfile:
    name = _text(pool.get("name"), "")
    body = pool.get("localDNSProfile")
    if not isinstance(body, dict):
        return LocalDnsProfile(pool=name, configured=False)
    mode = _text(body.get("mode"), "Preferred")  # the REST API's default mode
    state = _text(body.get("state"), "Disabled" if mode.lower() == "disabled" else "Unknown")
    return LocalDnsProfile(
        pool=name,
        mode=mode,
        state=state,
        vnet_overrides=_overrides(body.get("vnetDNSOverrides"), LOCALDNS_VNET_IP),
        kube_overrides=_overrides(body.get("kubeDNSOverrides"), LOCALDNS_KUBE_IP),
    )


def _overrides(body: object, listener: str) -> tuple[LocalDnsOverride, ...]:
    got: dict[str, LocalDnsOverride] = {}
    for domain, value in body.items() if isinstance(body, dict) else ():
        zone = _zone(domain)
        if zone is not None and isinstance(value, dict):
            got[zone] = _override(zone, value, listener)
    for zone in (ROOT, CLUSTER_LOCAL):
        got.setdefault(zone, default_override(zone, listener))
    return tuple(sorted(got.values(), key=lambda o: (-_depth(o.domain), o.domain)))


def _override(zone: str, body: dict[str, Any], listener: str) -> LocalDnsOverride:
    d = default_override(zone, listener)
    return replace(
        d,
        forward_destination=_text(body.get("forwardDestination"), d.forward_destination),
        protocol=_text(body.get("protocol"), d.protocol),
        forward_policy=_text(body.get("forwardPolicy"), d.forward_policy),
        max_concurrent=_int(body.get("maxConcurrent"), d.max_concurrent),
        cache_seconds=_int(body.get("cacheDurationInSeconds"), d.cache_seconds) or 0,
        serve_stale=_text(body.get("serveStale"), d.serve_stale),
        serve_stale_seconds=_int(body.get("serveStaleDurationInSeconds"), d.serve_stale_seconds) or 0,
        query_logging=_text(body.get("queryLogging"), d.query_logging),
        configured=True,
    )


def _zone(domain: object) -> str | None:
    if not isinstance(domain, str) or not domain.strip():
        return None
    zone = domain.strip().lower()
    return ROOT if zone == ROOT else zone.rstrip(".") or None


def _depth(zone: str) -> int:
    return 0 if zone == ROOT else zone.count(".") + 1


def _text(value: object, default: str) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else default


def _int(value: object, default: int | None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value if value >= 0 else default
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return default
