"""Frozen run settings, built from flags and AKSDIAG_* environment variables.

Every address aksdiag may send to is a setting here, so tests and the lab can point all of them at loopback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aksdiag.errors import UsageError
from aksdiag.facts import AzureContextNeed, Endpoint, KubeContextNeed

if TYPE_CHECKING:
    from aksdiag.kubeconfig import ApiServerConfig
from aksdiag.inputs import parse_endpoint

AZURE_DNS = Endpoint("168.63.129.16", 53)
"""The Azure-provided resolver (the platform's virtual public IP), reachable only from inside an Azure VNet."""

DEFAULT_RESOLV_CONF = "/etc/resolv.conf"
SYSTEMD_RESOLVED_UPSTREAMS = "/run/systemd/resolve/resolv.conf"

ENV_AZURE_DNS = "AKSDIAG_AZURE_DNS"
ENV_RESOLV_CONF = "AKSDIAG_RESOLV_CONF"
ENV_RESOLVED_UPSTREAMS = "AKSDIAG_RESOLVED_CONF"
ENV_TIMEOUT = "AKSDIAG_TIMEOUT"


@dataclass(frozen=True)
class Settings:
    timeout: float = 2.0
    """One deadline for all queries of a run: a dead server costs this once."""
    count: int = 1
    """How many times each query is sent (loss and latency percentiles when more than 1)."""
    azure_dns: Endpoint = AZURE_DNS
    resolv_conf: str = DEFAULT_RESOLV_CONF
    resolved_upstreams: str = SYSTEMD_RESOLVED_UPSTREAMS
    use_resolver: bool = True
    servers: tuple[Endpoint, ...] = ()
    """Custom DNS servers given with --server; empty means: the resolver's nameservers that are not Azure DNS."""
    expect: tuple[str, ...] = ()
    slow_ms: float = 300.0
    """A p95 latency above this over --count queries is DNS009."""
    in_cluster: bool = False
    dns_policy: str = ""
    """In a pod (env AKSDIAG_DNS_POLICY, set by `aksdiag pod`): ClusterFirst (CoreDNS) or Default (the node's DNS)."""
    apiserver: ApiServerConfig | None = None
    """Where the API server is and how to authenticate (kubeconfig or in-cluster); never saved in a snapshot."""
    ports: tuple[int, ...] = ()
    """API server ports to test; empty: 443 (and 4443 with VNet integration)."""
    addresses: tuple[str, ...] = ()
    """--address: test these IPs instead of what the name resolves to."""
    kube: KubeContextNeed | None = None
    """The cluster to read from its API server (--kubeconfig/--context, or in-cluster); None: none."""
    azure: AzureContextNeed | None = None
    """The cluster to read from ARM (--cluster/--resource-group/--subscription); None: no Azure context."""
    output: str = "text"
    debug: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def from_env(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Settings with AKSDIAG_* env applied, then explicit overrides (flags) on top."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    if env.get(ENV_AZURE_DNS):
        values["azure_dns"] = parse_endpoint(env[ENV_AZURE_DNS])
    if env.get(ENV_RESOLV_CONF):
        values["resolv_conf"] = env[ENV_RESOLV_CONF]
    if env.get(ENV_RESOLVED_UPSTREAMS):
        values["resolved_upstreams"] = env[ENV_RESOLVED_UPSTREAMS]
    if env.get(ENV_TIMEOUT):
        values["timeout"] = parse_timeout(env[ENV_TIMEOUT])
    values["in_cluster"] = bool(env.get("KUBERNETES_SERVICE_HOST"))
    if values["in_cluster"] and env.get("AKSDIAG_DNS_POLICY"):
        values["dns_policy"] = env["AKSDIAG_DNS_POLICY"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)  # type: ignore[arg-type]


def parse_timeout(text: str, lowest: float = 0.05, highest: float = 60, what: str = "") -> float:
    """Seconds from a flag, within [lowest, highest] (`what` says what the span covers, for the hint)."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--timeout {text!r} is not a number of seconds") from None
    if not lowest <= value <= highest:
        raise UsageError(f"--timeout {text!r} is out of range", f"use {lowest:g} to {highest:g} seconds{what}")
    return value
