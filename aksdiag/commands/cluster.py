"""The commands about one cluster: `apiserver`, `whois`, `ipplan`, `lb`, and `check` (which `tui` runs too)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from aksdiag import probe
from aksdiag import settings as settings_mod
from aksdiag.commands import builder, context
from aksdiag.errors import AksdiagError, UsageError
from aksdiag.inputs import is_ip
from aksdiag.plan import Plan

if TYPE_CHECKING:
    from aksdiag.sources.kubeconfig import ApiServerConfig


def _plan(command: str, target: str, settings: settings_mod.Settings, **more: Any) -> Plan:
    probes = tuple(probe.for_command(command))
    return Plan(command, target, settings, probes, **more)


@builder("apiserver")
def apiserver(args: argparse.Namespace) -> Plan:
    from aksdiag.inputs import parse_fqdn, parse_ip

    azure = context.azure_need(args)
    config = None
    if args.kubeconfig or args.context or not (args.fqdn or azure):
        config = None if (args.fqdn or args.kubeconfig) else _in_cluster()
        config = context.trusted(config or _kubeconfig(args))
    if args.fqdn:
        name = args.fqdn if is_ip(args.fqdn) else parse_fqdn(args.fqdn)
    elif config is None:
        name = ""  # the cluster's FQDN, read from Azure
    else:
        if not config.server.startswith("https://"):
            raise AksdiagError(f"the API server {config.server!r} ({config.source}) is not an https:// URL")
        name = config.host if is_ip(config.host) else parse_fqdn(config.host)
    for port in args.port:
        if not 1 <= port <= 65535:
            raise UsageError(f"--port {port} is not a port number from 1 to 65535")
    ports = tuple(dict.fromkeys(args.port)) or (
        (config.port,) if config and config.port != 443 and not args.fqdn else ()
    )
    from aksdiag.sources import files

    settings = settings_mod.from_env(
        apiserver=config,
        azure=azure,
        extra={"egress_ip": parse_ip(args.egress_ip, "address for --egress-ip")} if args.egress_ip else {},
        ports=ports,
        addresses=tuple(parse_ip(a, "address for --address") for a in args.address),
        resolv_conf=files.flag_path(args.resolv_conf, "--resolv-conf", 1 << 20),
        **context.limits(args),
    )
    return _plan("apiserver", name, settings)


def _in_cluster() -> ApiServerConfig | None:
    from aksdiag.sources import kubeconfig

    return kubeconfig.in_cluster()


def _kubeconfig(args: argparse.Namespace) -> ApiServerConfig:
    from aksdiag.sources import kubeconfig

    return kubeconfig.load(args.kubeconfig, args.context)


@builder("whois")
def whois(args: argparse.Namespace) -> Plan:
    from aksdiag.inputs import parse_ip

    ip = parse_ip(args.ip)
    return _plan("whois", ip, whois_settings(args))


def whois_settings(args: argparse.Namespace) -> settings_mod.Settings:
    """What whois asks with: the kubeconfig context (or in-cluster) and, with --cluster, Azure's view."""
    return settings_mod.from_env(
        kube=context.kube_need(args), azure=context.azure_need(args, load_balancers=True), **context.limits(args)
    )


@builder("ipplan")
def ipplan(args: argparse.Namespace) -> Plan:
    azure = context.azure_need(args)
    if azure is None:
        raise UsageError("aksdiag ipplan needs the cluster", "pass --cluster and --resource-group")
    return _plan("ipplan", "", settings_mod.from_env(azure=azure, **context.limits(args)))


@builder("lb")
def lb(args: argparse.Namespace) -> Plan:
    azure = context.azure_need(args, load_balancers=True)
    if azure is None:
        raise UsageError("aksdiag lb needs the cluster", "pass --cluster and --resource-group")
    _config, kube, kube_error = context.optional_kube(args)
    settings = settings_mod.from_env(
        azure=azure, kube=kube, extra={"kube_error": kube_error} if kube_error else {}, **context.limits(args)
    )
    return _plan("lb", "", settings)


@builder("check", "tui")
def check(args: argparse.Namespace) -> Plan:
    """Every probe of `check`: the DNS chain (--fqdn or the cluster's name), the private zone, the API server (with
    a kubeconfig, --fqdn or in a pod), IP planning and the load balancers (with --cluster). What lacks its context
    is skipped with the reason; the whois box of the TUI asks with the same context."""
    from aksdiag.inputs import parse_fqdn

    azure = context.azure_need(args, load_balancers=True)  # the lb probe reads them
    name = parse_fqdn(args.fqdn) if args.fqdn else ""
    config, kube, kube_error = None, None, ""
    try:
        config = context.apiserver_config(args)
        kube = context.kube_need(args)
    except UsageError:
        raise
    except AksdiagError as e:
        kube_error = str(e)  # the API server and Kubernetes halves are skipped with this reason; the others run
    from aksdiag.commands.egress import endpoints

    settings = settings_mod.from_env(
        azure=azure,
        apiserver=config,
        kube=kube,
        extra={"kube_error": kube_error} if kube_error else {},
        endpoints=endpoints(context.flag(args, "endpoint") or []),
        **context.limits(args),
    )
    return _plan("check", name, settings, whois=settings)
