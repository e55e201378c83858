"""The node's view in `aksdiag pod`: the VNet's DNS servers read from Azure here (the pod gets no credential), the
pod's `dns` arguments that compare the node's resolver with them (--vnet-dns) and read the node's own resolver
files (--node-resolver-files), and, for --all-nodes, the table of each node's nameservers and upstreams.

Separate from command.py because it is the one place `aksdiag pod` reads Azure, and from merge.py because the
table reads the dns probe's facts, not the findings.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any, TextIO

from aksdiag.errors import AksdiagError, UsageError
from aksdiag.model import Table
from aksdiag.pod import spec
from aksdiag.pod.run import say

VNET_DNS_COMMANDS = ("dns",)
"""The pod commands that take --vnet-dns (what the node's resolver is compared with)."""
RESOLV_CONF_COMMANDS = ("dns", "apiserver")
"""The pod commands that take --resolv-conf; the others read AKSDIAG_RESOLV_CONF, which the pod also sets."""
AZURE_DNS = "168.63.129.16"


def given(args: tuple[str, ...] | list[str], flag: str) -> list[str]:
    """The values of `flag` among the pod's arguments (`--flag V` and `--flag=V`)."""
    values = []
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            values.append(args[i + 1])
        elif arg.startswith(flag + "="):
            values.append(arg.split("=", 1)[1])
    return values


def check(args: argparse.Namespace, inner: tuple[str, ...]) -> bool:
    """Refuse flags that cannot work (exit 2, before any read); True when the VNet DNS is to be read from Azure."""
    if args.node_resolver_files and not args.host_network:
        raise UsageError(
            "--node-resolver-files needs --host-network",
            "the node's /etc/resolv.conf names systemd-resolved's stub 127.0.0.53, which answers only in the node's "
            "network namespace",
        )
    azure = bool(args.cluster or args.resource_group)
    if not azure:
        return False
    if inner[0] == "egress":  # the required endpoints, read here (aksdiag.pod.egress)
        return True
    if inner[0] not in VNET_DNS_COMMANDS:
        raise UsageError(
            f"--cluster on `aksdiag pod` gives the VNet's DNS servers to `dns`, not to `{inner[0]}` (and the "
            "required endpoints to `egress`)",
            "leave --cluster and --resource-group out, or run `-- dns FQDN` or `-- egress`",
        )
    return not (given(inner, "--vnet-dns") or given(inner, "--server"))


def vnet_dns_from_azure(args: argparse.Namespace, err: TextIO) -> tuple[str, ...]:
    """The DNS servers of the cluster's VNets, read from ARM on this machine (read-only); Azure DNS when the VNets
    have none. A cluster or VNet that cannot be read is exit 3 saying why: comparing with a guess would mislead."""
    import asyncio
    import time

    from aksdiag import runner
    from aksdiag import settings as settings_mod
    from aksdiag.azfacts import digest
    from aksdiag.commands import context
    from aksdiag.facts import AzureContext

    need = context.azure_need(args)
    assert need is not None
    settings = settings_mod.from_env(azure=need)
    facts = asyncio.run(runner.fetch([need], settings, time.monotonic() + settings.deadline))
    ctx = facts[need]
    arm = digest(ctx) if isinstance(ctx, AzureContext) and ctx.cluster is not None else None
    errors = ctx.errors if isinstance(ctx, AzureContext) else ()
    why = f": {errors[0].reason}" if errors else ""
    if arm is None or arm.cluster is None:
        raise AksdiagError(
            f"could not read the cluster {need.cluster} in {need.resource_group} from Azure{why}",
            "check --cluster, --resource-group and --subscription, and `az login`; or pass --vnet-dns IP after --",
        )
    if not arm.cluster_vnets:
        raise AksdiagError(
            f"could not read the VNet of the cluster {need.cluster} from Azure{why}",
            "the identity needs Reader on the VNet; or pass --vnet-dns IP after --",
        )
    servers = tuple(arm.vnet_dns_servers) or (AZURE_DNS,)
    say(err, f"the VNet's DNS servers (from Azure): {', '.join(servers)}")
    return servers


def pod_args(
    inner: tuple[str, ...], vnet_dns: tuple[str, ...], node_resolver_files: bool, dns_policy: str, err: TextIO
) -> tuple[str, ...]:
    """The pod's arguments with the node view's flags put in before the closing `--output json`."""
    body, tail = list(inner[:-2]), list(inner[-2:])
    command = inner[0]
    for server in vnet_dns:
        body += ["--vnet-dns", server]
    if node_resolver_files and command in RESOLV_CONF_COMMANDS and not given(inner, "--resolv-conf"):
        body += ["--resolv-conf", spec.NODE_RESOLV_CONF]
    compared = vnet_dns or given(inner, "--vnet-dns") or given(inner, "--server")
    if command in VNET_DNS_COMMANDS and (dns_policy == "Default" or node_resolver_files) and not compared:
        say(
            err,
            "the node's resolver is shown but not compared with the VNet's DNS servers: add --cluster and "
            "--resource-group (read from Azure here), or --vnet-dns IP after --",
        )
    return (*body, *tail)


def resolver_table(vnet_dns: list[str], reports: list[tuple[str, str, dict[str, Any] | None]]) -> Table | None:
    """node · pool · nameservers · upstreams · against: each node's resolver, from its dns probe's facts, and
    whether it uses the VNet's DNS servers (when known, else: whether it is like most nodes). None without any."""
    rows = []
    for node, pool, report in reports:
        resolver = _resolver(report)
        if resolver is not None:
            used = [s for s in resolver["upstreams"] or resolver["nameservers"] if _host(s) != "127.0.0.53"]
            rows.append((node, pool, resolver["nameservers"], resolver["upstreams"], frozenset(map(_host, used))))
    if not rows:
        return None
    if vnet_dns:
        expected, against = frozenset(map(_host, vnet_dns)), f"the VNet's DNS servers ({', '.join(vnet_dns)})"
    else:
        expected, against = Counter(r[4] for r in rows).most_common(1)[0][0], "most nodes"
    differ = sum(1 for r in rows if r[4] != expected)
    title = f"Node resolvers: {differ} of {len(rows)} nodes differ from {against}"
    shown = tuple(
        (node, pool or "-", ", ".join(map(_host, ns)) or "-", ", ".join(map(_host, up)) or "-",
         "same" if used == expected else "differs")
        for node, pool, ns, up, used in rows
    )  # fmt: skip
    return Table(title, ("node", "pool", "nameservers", "upstreams", "vs " + ("VNet DNS" if vnet_dns else "most")),
                 shown)  # fmt: skip


def _resolver(report: dict[str, Any] | None) -> dict[str, list[str]] | None:
    for probe in (report or {}).get("probes") or []:
        resolver = (probe.get("facts") or {}).get("resolver") if isinstance(probe, dict) else None
        if isinstance(resolver, dict) and not resolver.get("error"):
            return {k: [str(s) for s in resolver.get(k) or []] for k in ("nameservers", "upstreams")}
    return None


def _host(server: str) -> str:
    """An address as the resolver facts and --vnet-dns write it (`10.1.0.4`, `10.1.0.4:53`): port 53 dropped."""
    from aksdiag.inputs import parse_endpoint

    try:
        return parse_endpoint(server).short
    except UsageError:
        return server
