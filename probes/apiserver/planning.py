"""Planning: which name, addresses and ports to test, and the needs that test them (resolver first, then TCP,
TLS and the health paths of each address)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from aksdiag.azfacts import AzureFacts, digest
from aksdiag.facts import (
    AzureContext,
    ClockNeed,
    DnsAnswer,
    DnsQuery,
    DnsResult,
    HttpNeed,
    Outcome,
    ResolverConfig,
    ResolverConfigNeed,
    TcpConnectNeed,
    TlsNeed,
)
from aksdiag.inputs import is_ip
from aksdiag.probe import CouldNotLook, Facts, Skip
from aksdiag.settings import Settings

ID = "apiserver"
HEALTH_PATHS = ("/readyz?verbose", "/livez?verbose")


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure and settings.azure not in facts:
        return [settings.azure]
    arm = azure_facts(settings, facts)
    if arm is not None and arm.cluster is not None and arm.cluster.power_state.lower() == "stopped":
        raise Skip(stopped_cluster(arm, settings))
    name = name_to_test(name, settings, arm)
    if not name:
        why = settings.extra.get("kube_error")
        failed = arm_unread(settings, facts)
        if failed:
            raise CouldNotLook(f"the cluster's API server name could not be read from Azure: {failed[0]}")
        raise Skip(f"no API server: {why}" if why else "no API server: pass --fqdn or --kubeconfig (or run in a pod)")
    addresses = addresses_to_test(name, settings, facts)
    if addresses is None:  # resolve first
        need = ResolverConfigNeed(settings.resolv_conf)
        config = facts.get(need)
        if config is None:
            return [need]
        return [need, *stub_lookup(name, config, facts)[0]]
    needs: list[Hashable] = [ClockNeed()]  # the certificate's dates are judged against the run's clock
    sni = server_name(name, settings)
    ports = ports_to_test(settings, arm)
    for address in addresses:
        for port in ports:
            needs.append(TcpConnectNeed(address, port))
        needs.append(tls_need(address, ports[0], sni, settings))
        for path in HEALTH_PATHS:
            needs.append(HttpNeed(address, ports[0], sni or address, path))
            if _has_credentials(settings):
                needs.append(HttpNeed(address, ports[0], sni or address, path, authenticated=True))
    return needs


def stopped_cluster(arm: AzureFacts, settings: Settings) -> str:
    """Why a stopped cluster's API server is not tested: nothing runs to answer (cluster_state says CL001)."""
    assert arm.cluster is not None and settings.azure is not None
    name, group = arm.cluster.name or settings.azure.cluster, settings.azure.resource_group
    return (
        f"the cluster {name} is stopped (powerState Stopped): its API server is not running, so it is not tested; "
        f"start it with az aks start -g {group} -n {name}"
    )


def arm_unread(settings: Settings, facts: Facts) -> tuple[str, ...]:
    """The ARM reads that could not be made (not refused): what the probe could not look at."""
    ctx = facts.get(settings.azure) if settings.azure else None
    return tuple(e.reason for e in ctx.errors if not e.refusal) if isinstance(ctx, AzureContext) else ()


def azure_facts(settings: Settings, facts: Facts) -> AzureFacts | None:
    """The Azure context digested, when --cluster gave one and the cluster was read; None otherwise."""
    ctx = facts.get(settings.azure) if settings.azure else None
    return digest(ctx) if isinstance(ctx, AzureContext) and ctx.cluster is not None else None


def name_to_test(name: str, settings: Settings, arm: AzureFacts | None) -> str:
    """The name to test: given, the cluster's FQDN from Azure, or the kubeconfig's server host."""
    from_azure = arm.cluster.api_fqdn if arm is not None and arm.cluster is not None else ""
    return name or from_azure or (settings.apiserver.host if settings.apiserver else "")


def ports_to_test(settings: Settings, arm: AzureFacts | None) -> tuple[int, ...]:
    """--port, or 443 — and 4443 too when Azure says the API server is VNet-integrated."""
    if settings.ports:
        return settings.ports
    if arm is not None and arm.cluster is not None and arm.cluster.vnet_integration:
        return (443, 4443)
    return (443,)


def server_name(name: str, settings: Settings) -> str:
    """The name sent as SNI, which the certificate must name: the kubeconfig's tls-server-name when it sets one
    (as kubectl verifies it), else the name used (none for an address)."""
    config = settings.apiserver
    if config is not None and config.tls_server_name:
        return config.tls_server_name
    return "" if is_ip(name) else name


def tls_need(address: str, port: int, sni: str, settings: Settings) -> TlsNeed:
    """Verify against the kubeconfig's CA; without a kubeconfig no CA is known and the chain is not judged
    (an AKS API server is signed by a per-cluster CA that no system store trusts)."""
    config = settings.apiserver
    if config is None or config.insecure:
        return TlsNeed(address, port, sni, None, verify=False)
    return TlsNeed(address, port, sni, config.ca_pem)


def nameservers(config: ResolverConfig) -> list[Any]:
    return list(config.nameservers) if not config.error else []


def addresses_to_test(name: str, settings: Settings, facts: Facts) -> list[str] | None:
    """The addresses to test: --address, the name itself if it is an IP, or what the resolver answered (None
    until the resolver has been asked)."""
    if settings.addresses:
        return list(settings.addresses)
    if is_ip(name):
        return [name]
    config = facts.get(ResolverConfigNeed(settings.resolv_conf))
    if config is None:
        return None
    missing, answers = stub_lookup(name, config, facts)
    if missing:
        return None
    for answer in answers:
        if answer.outcome.conclusive:
            return list(answer.addresses)
    return []


def stub_lookup(name: str, config: ResolverConfig, facts: Facts) -> tuple[list[DnsQuery], list[DnsAnswer]]:
    """What the host's stub resolver does: ask each nameserver over UDP, and again over TCP after a truncated
    reply (whose TCP answer is the one it uses). Returns the queries still to send, and the answers so far."""
    missing: list[DnsQuery] = []
    answers: list[DnsAnswer] = []
    for server in nameservers(config):
        query = DnsQuery(server, name, "A", "udp")
        result = facts.get(query)
        if isinstance(result, DnsResult) and result.first.outcome is Outcome.TRUNCATED:
            query = DnsQuery(server, name, "A", "tcp")
            result = facts.get(query)
        if isinstance(result, DnsResult):
            answers.append(result.first)
        else:
            missing.append(query)
    return missing, answers


def _has_credentials(settings: Settings) -> bool:
    c = settings.apiserver
    return bool(c and (c.token or c.client_cert_pem or c.exec_command))


def at(address: str, port: int) -> str:
    """address:port as a hop's server, IPv6 in brackets."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
