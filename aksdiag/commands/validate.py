"""A command's argument checks without I/O: what `aksdiag pod` runs on the pod's command before a pod exists.

The same parsers the plan builders use (aksdiag.inputs, settings.parse_timeout), on the parsed flags alone: no
kubeconfig, no network, no local environment (the pod has its own). A bad argument is the UsageError the CLI
would give for it (exit 2).
"""

from __future__ import annotations

import argparse
import math
import re

from aksdiag import settings as settings_mod
from aksdiag.commands import context
from aksdiag.errors import UsageError
from aksdiag.inputs import is_ip, parse_endpoint, parse_fqdn, parse_ip

TEXT_FLAGS = ("fqdn", "cluster", "resource_group", "subscription", "kubeconfig", "context", "resolv_conf", "image",
              "namespace", "node")  # fmt: skip
"""Flags that take a name or a path: given empty (`--fqdn ''`), each would silently mean "not given"."""
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")


def not_empty(args: argparse.Namespace) -> None:
    """A name or path flag given as '' (or blanks) is a usage error, not the same as leaving it out."""
    for name in TEXT_FLAGS:
        if name == "fqdn" and context.flag(args, "command") in ("dns", "snapshot"):
            continue  # dns's FQDN is positional: parse_fqdn says "the name is empty"
        value = context.flag(args, name)
        if isinstance(value, str) and not value.strip():
            raise UsageError(f"--{name.replace('_', '-')} is empty", "give a value, or leave the flag out")


def kube_names(args: argparse.Namespace) -> None:
    """--namespace (an RFC 1123 label) and --node (an RFC 1123 subdomain), as the API server would check them."""
    namespace, node = context.flag(args, "namespace"), context.flag(args, "node")
    if namespace and not (len(namespace) <= 63 and _NAME.match(namespace)):
        raise UsageError(f"--namespace {namespace!r} is not a namespace name", "lower-case letters, digits and '-'")
    if node and not (len(node) <= 253 and all(_NAME.match(part) for part in node.split("."))):
        raise UsageError(f"--node {node!r} is not a node name", "`kubectl get nodes` lists them")


def flags(command: str, args: argparse.Namespace) -> None:
    """Raise the UsageError `aksdiag COMMAND` would raise for these flags (input checks only)."""
    flag = context.flag
    not_empty(args)
    if bool(flag(args, "cluster")) != bool(flag(args, "resource_group")):
        raise UsageError("--cluster and --resource-group go together")
    if flag(args, "snapshot"):
        raise UsageError("--from reads a local file: judge the snapshot here, without `aksdiag pod`")
    if command in ("dns", "snapshot"):
        if args.fqdn is None and not flag(args, "cluster"):
            raise UsageError("give the FQDN to trace, or --cluster and --resource-group to use the cluster's")
        if args.fqdn is not None:
            parse_fqdn(args.fqdn)
        for server in [*args.server, *(flag(args, "vnet_dns") or ())]:
            parse_endpoint(server)
        if args.azure_dns:
            parse_endpoint(args.azure_dns)
        for expect in args.expect:
            parse_ip(expect, "address for --expect")
        if not 1 <= args.count <= 1000:
            raise UsageError(f"--count {args.count} is out of range", "use 1 to 1000")
        if args.slow_ms is not None and not 0 < args.slow_ms < math.inf:
            raise UsageError(f"--slow-ms {args.slow_ms:g} is not a positive number of milliseconds")
    if command == "whois":
        parse_ip(args.ip)
    if command in ("apiserver", "check") and flag(args, "fqdn") and not (command == "apiserver" and is_ip(args.fqdn)):
        parse_fqdn(args.fqdn)
    if command == "apiserver":
        for port in args.port:
            if not 1 <= port <= 65535:
                raise UsageError(f"--port {port} is not a port number from 1 to 65535")
        for address in args.address:
            parse_ip(address, "address for --address")
        if args.egress_ip:
            parse_ip(args.egress_ip, "address for --egress-ip")
    if command in ("egress", "check"):
        from aksdiag.commands.egress import cluster_hints, endpoints

        endpoints(flag(args, "endpoint") or [])
        cluster_hints(args)
    if command in ("ipplan", "lb") and not flag(args, "cluster"):
        raise UsageError(f"aksdiag {command} needs the cluster", "pass --cluster and --resource-group")
    if flag(args, "timeout") is not None:
        settings_mod.parse_timeout(args.timeout)
    if flag(args, "deadline") is not None:
        low, high = context.DEADLINE_RANGE
        settings_mod.parse_timeout(args.deadline, low, high, flag="--deadline")
