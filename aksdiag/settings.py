"""Frozen run settings, built from flags and AKSDIAG_* environment variables.

Every address aksdiag may send to is a setting here, so tests and the lab can point all of them at loopback.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aksdiag.errors import UsageError
from aksdiag.facts import AzureContextNeed, Endpoint, KubeContextNeed

if TYPE_CHECKING:
    from aksdiag.sources.kubeconfig import ApiServerConfig
from aksdiag.inputs import parse_endpoint

T = TypeVar("T")

AZURE_DNS = Endpoint("168.63.129.16", 53)
"""The Azure-provided resolver (the platform's virtual public IP), reachable only from inside an Azure VNet."""

DEFAULT_RESOLV_CONF = "/etc/resolv.conf"
SYSTEMD_RESOLVED_UPSTREAMS = "/run/systemd/resolve/resolv.conf"

ENV_AZURE_DNS = "AKSDIAG_AZURE_DNS"
ENV_RESOLV_CONF = "AKSDIAG_RESOLV_CONF"
ENV_RESOLVED_UPSTREAMS = "AKSDIAG_RESOLVED_CONF"
ENV_TIMEOUT = "AKSDIAG_TIMEOUT"
ENV_ADDRESS_MAP = "AKSDIAG_ADDRESS_MAP"
ENV_LOOPBACK_ONLY = "AKSDIAG_LOOPBACK_ONLY"


@dataclass(frozen=True)
class Settings:
    timeout: float = 2.0
    """How long one question may wait (a DNS query, a TCP connect, a TLS handshake, an HTTP read): the queries of
    a round are sent at once, so a dead server costs this once."""
    deadline: float = 30.0
    """The whole run's one deadline, every round and source included (Azure and Kubernetes with their retries)."""
    count: int = 1
    """How many times each query is sent (loss and latency percentiles when more than 1)."""
    azure_dns: Endpoint = AZURE_DNS
    resolv_conf: str = DEFAULT_RESOLV_CONF
    resolved_upstreams: str = SYSTEMD_RESOLVED_UPSTREAMS
    use_resolver: bool = True
    servers: tuple[Endpoint, ...] = ()
    """Custom DNS servers given with --server; empty means: the resolver's nameservers that are not Azure DNS."""
    expect: tuple[str, ...] = ()
    vnet_dns: tuple[Endpoint, ...] = ()
    """The VNet's DNS servers as Azure has them (--vnet-dns; `aksdiag pod` passes what ARM says): the servers the
    host's (node's) resolver should be using. Empty: unknown here (the Azure context, when given, says)."""
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
    address_map: tuple[tuple[str, str], ...] = ()
    """(shown address[:port], real address:port) pairs: packets meant for the first go to the second, facts and
    findings keep the first (env AKSDIAG_ADDRESS_MAP `10.1.0.4=127.0.0.1:5301,…`; the lab stands in for a VNet)."""
    loopback_only: bool = False
    """Refuse every destination off loopback (env AKSDIAG_LOOPBACK_ONLY=1, which the tests set; the demo sets it)."""
    ca_bundle: str = ""
    """A CA bundle for ARM's TLS (the lab's fake ARM); empty: REQUESTS_CA_BUNDLE or SSL_CERT_FILE, else the system's."""
    arm_token: str = field(default="", repr=False)
    """A bearer token for ARM (the demo's); empty: AKSDIAG_ARM_TOKEN, else DefaultAzureCredential. Never saved."""
    endpoints: tuple[str, ...] = ()
    """`aksdiag egress --endpoint NAME[:PORT]`: the user's own endpoints to test beside the cluster's required ones."""
    tls_ca_bundle: str = ""
    """A CA bundle the egress probe trusts for endpoints' certificates (the lab's test CA); empty: the system store.
    (ARM's is ca_bundle; the API server's is the kubeconfig's.)"""
    interactive: bool = False
    """stdin is a terminal (the face says): an exec plugin that asks the user (kubelogin devicecode) can prompt."""
    output: str = "text"
    debug: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def from_env(environ: dict[str, str] | None = None, /, **overrides: object) -> Settings:
    """Settings with AKSDIAG_* env applied, then explicit overrides (flags) on top.

    A flag beats its env var: an env var whose setting a flag gives is not even parsed. A bad env var is a usage
    error that names the env var."""
    env = os.environ if environ is None else environ
    given = {k for k, v in overrides.items() if v is not None}
    values: dict[str, Any] = {}
    parsers: dict[str, tuple[str, Callable[[str], Any]]] = {
        "azure_dns": (ENV_AZURE_DNS, parse_endpoint),
        "resolv_conf": (ENV_RESOLV_CONF, str),
        "resolved_upstreams": (ENV_RESOLVED_UPSTREAMS, str),
        "timeout": (ENV_TIMEOUT, lambda text: parse_timeout(text, flag=ENV_TIMEOUT)),
        "address_map": (ENV_ADDRESS_MAP, parse_address_map),
    }
    for key, (name, parse) in parsers.items():
        if key not in given and env.get(name):
            values[key] = env_value(name, env[name], parse)
    values["loopback_only"] = env_value(ENV_LOOPBACK_ONLY, env.get(ENV_LOOPBACK_ONLY, ""), parse_switch)
    values["in_cluster"] = bool(env.get("KUBERNETES_SERVICE_HOST"))
    if values["in_cluster"] and env.get("AKSDIAG_DNS_POLICY"):
        values["dns_policy"] = env["AKSDIAG_DNS_POLICY"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)


def env_value(name: str, text: str, parse: Callable[[str], T]) -> T:
    """parse(text) of env var `name`; its usage error names the env var (not a flag the user did not type)."""
    try:
        return parse(text)
    except UsageError as e:
        message = e.message if e.message.startswith(name) else f"{name}={text!r}: {e.message}"
        raise UsageError(message, e.hint) from None


def parse_switch(text: str) -> bool:
    """1 (on) or 0 / empty (off): a guard that `true` would silently leave off is refused instead."""
    if text.strip() not in ("", "0", "1"):
        raise UsageError("is neither 1 (on) nor 0 (off)")
    return text.strip() == "1"


def parse_timeout(
    text: str, lowest: float = 0.05, highest: float = 60, what: str = "", flag: str = "--timeout"
) -> float:
    """Seconds from a flag, within [lowest, highest] (`what` says what the span covers, for the hint)."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a number of seconds") from None
    if not lowest <= value <= highest:
        raise UsageError(f"{flag} {text!r} is out of range", f"use {lowest:g} to {highest:g} seconds{what}")
    return value


def parse_address_map(text: str) -> tuple[tuple[str, str], ...]:
    """`shown=real,…` (AKSDIAG_ADDRESS_MAP) as Settings.address_map; a side that is not an address is a usage error.

    The shown side is kept as written by the sources' matching: an address alone (every port) or address:port."""
    pairs = []
    for pair in filter(None, (p.strip() for p in text.split(","))):
        meant, _, real = pair.partition("=")
        shown = parse_endpoint(meant, default_port=0)
        parse_endpoint(real)
        pairs.append((shown.host if shown.port == 0 else str(shown), real.strip()))
    return tuple(pairs)
