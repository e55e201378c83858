"""Planning: which servers to ask for the name, over which transports, once the nameservers and the Azure
context are known."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from aksdiag.azfacts import AzureFacts, digest
from aksdiag.clusterdns import RelayKind, pod_kube_dns_ip, relay_kind, told_cluster_first
from aksdiag.facts import AzureContext, DnsQuery, Endpoint, ResolverConfig, ResolverConfigNeed
from aksdiag.probe import CouldNotLook, Facts, Skip
from aksdiag.settings import AZURE_DNS, Settings

ID = "dns_chain"
TRANSPORTS = ("udp", "tcp")
SYSTEMD_STUB = "127.0.0.53"


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if not name and settings.azure is None:
        raise Skip("no name to trace: pass --fqdn, or --cluster and --resource-group")
    resolver_need = ResolverConfigNeed(settings.resolv_conf)
    first: list[Hashable] = [
        n for n in (resolver_need if settings.use_resolver else None, settings.azure) if n and n not in facts
    ]
    if first:
        return first  # nameservers and the Azure context first: every query then goes out in one round
    name, settings = with_azure_context(name, settings, facts)
    if not name:
        ctx = facts.get(settings.azure) if settings.azure else None
        failed = [e for e in ctx.errors if not e.refusal] if isinstance(ctx, AzureContext) else []
        if failed:  # ARM could not be read (unreachable, 5xx, 429, garbage): the chain could not be looked at
            raise CouldNotLook(f"the cluster's private FQDN could not be read from Azure ({failed[0].reason}): "
                               "give the FQDN to trace it anyway")  # fmt: skip
        raise Skip("the cluster's private FQDN could not be read from Azure: give the FQDN to trace it anyway")
    config = facts.get(resolver_need) if settings.use_resolver else None
    servers = resolver_servers(config) + relays(settings, config) + custom_servers(settings, config)
    servers.append(settings.azure_dns)
    needs: list[Hashable] = [resolver_need] if settings.use_resolver else []
    for server in dict.fromkeys(servers):
        needs += [DnsQuery(server, name, "A", t, settings.count) for t in TRANSPORTS]
    needs.append(DnsQuery(settings.azure_dns, name, "SOA", "udp"))
    return needs


def with_azure_context(name: str, settings: Settings, facts: Facts) -> tuple[str, Settings]:
    """With --cluster: the cluster's private FQDN when no name was given, its VNet's DNS servers when no
    --server (nor --vnet-dns) was, and the private endpoint's address when no --expect was."""
    if not settings.servers and settings.vnet_dns:  # --vnet-dns: the servers ARM names, given by hand
        settings = replace(settings, servers=settings.vnet_dns)
    arm = azure_facts(settings, facts)
    if arm is None or arm.cluster is None:
        return name, settings
    name = name or arm.cluster.api_fqdn
    changes: dict[str, Any] = {}
    if not settings.servers and arm.vnet_dns_servers:
        changes["servers"] = tuple(Endpoint(s) for s in arm.vnet_dns_servers)
    if not settings.expect and arm.endpoint_ips:
        changes["expect"] = tuple(arm.endpoint_ips)
    return name, replace(settings, **changes) if changes else settings


def azure_facts(settings: Settings, facts: Facts) -> AzureFacts | None:
    """The Azure context digested, when --cluster gave one and it was read; None otherwise."""
    ctx = facts.get(settings.azure) if settings.azure else None
    return digest(ctx) if isinstance(ctx, AzureContext) and ctx.cluster is not None else None


def resolver_servers(config: ResolverConfig | None) -> list[Endpoint]:
    return list(config.nameservers) if config and not config.error else []


def custom_servers(settings: Settings, config: ResolverConfig | None) -> list[Endpoint]:
    """--server, or else the resolver's nameservers (a systemd stub's upstreams); Azure DNS has its own hop, and a
    relay (CoreDNS, LocalDNS) is never a custom server: it is drawn as a relay and judged by cluster_dns."""
    if settings.servers:
        pool: tuple[Endpoint, ...] = settings.servers
    elif config and not config.error:
        pool = config.upstreams or config.nameservers
    else:
        return []
    return [
        s
        for s in pool
        if not is_azure(s, settings) and s.host != SYSTEMD_STUB and relay_of(s, settings, config) is None
    ]


def relays(settings: Settings, config: ResolverConfig | None) -> list[Endpoint]:
    """The relays on the path, in order: the resolver's nameservers (and a stub's upstreams, and --server) that are
    CoreDNS or LocalDNS."""
    pool = [*resolver_servers(config), *(config.upstreams if config and not config.error else ()), *settings.servers]
    return [s for s in dict.fromkeys(pool) if relay_of(s, settings, config) is not None]


def relay_of(server: Endpoint, settings: Settings, config: ResolverConfig | None) -> RelayKind | None:
    """What relay `server` is: a LocalDNS listener always; the kube-dns Service when it is a ClusterFirst pod's
    first nameserver (the very endpoint: in the lab, servers share 127.0.0.1 on other ports)."""
    if is_azure(server, settings):
        return None
    first = config.nameservers[0] if config and not config.error and config.nameservers else None
    kube_dns = None
    if config is not None and server == first:
        cluster_first = told_cluster_first(settings.in_cluster, settings.dns_policy)
        kube_dns = pod_kube_dns_ip(tuple(n.host for n in config.nameservers), config.search, cluster_first)
    return relay_kind(server.host, kube_dns_ip=kube_dns)


def is_azure(server: Endpoint, settings: Settings) -> bool:
    return server == settings.azure_dns or server.host == AZURE_DNS.host
