"""AKS LocalDNS as Azure configures it: each agent pool's `localDNSProfile` (the managedClusters GET), typed.

LocalDNS is a caching DNS proxy on every node of a pool whose profile is enabled. Its VNet DNS listener
(169.254.10.10) takes kubelet's and dnsPolicy Default pods' queries, its kube-dns listener (169.254.10.11) the
ClusterFirst pods'. Per domain, an override says where to forward (`VnetDNS`: the VNet's DNS servers,
`ClusterCoreDNS`: the kube-dns Service), over which protocol (`PreferUDP`, `ForceTCP`), and how long to cache
(`cacheDurationInSeconds`, default 3600) and to serve stale answers (`serveStale` Immediate/Verify/Disable,
`serveStaleDurationInSeconds`, default 3600). Learn: "Configure LocalDNS in AKS" and the LocalDNSOverride reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LocalDnsOverride:
    """One domain's settings in `vnetDNSOverrides` or `kubeDNSOverrides`."""

    domain: str
    """The domain the override applies to (`.` for everything else; `cluster.local` and others)."""
    forward_destination: str = "VnetDNS"
    """`VnetDNS` (the VNet's DNS servers) or `ClusterCoreDNS` (the kube-dns Service)."""
    protocol: str = "PreferUDP"
    """`PreferUDP` (UDP, TCP again on truncation) or `ForceTCP`."""
    forward_policy: str = "Sequential"
    max_concurrent: int | None = None
    cache_seconds: int = 3600
    serve_stale: str = "Immediate"
    """`Immediate`, `Verify` or `Disable`."""
    serve_stale_seconds: int = 3600
    query_logging: str = "Error"


@dataclass(frozen=True)
class LocalDnsProfile:
    """One agent pool's LocalDNS: whether it runs, and its overrides."""

    pool: str
    mode: str = "Disabled"
    """`Required`, `Preferred` or `Disabled`, as configured."""
    state: str = "Disabled"
    """`Enabled` or `Disabled`, as AKS reports it (Preferred on an unsupported version stays Disabled)."""
    vnet_overrides: tuple[LocalDnsOverride, ...] = field(default_factory=tuple)
    kube_overrides: tuple[LocalDnsOverride, ...] = field(default_factory=tuple)

    @property
    def enabled(self) -> bool:
        return self.state.lower() == "enabled"
