"""The command line: arguments → Settings → runner → renderer → exit code.

Heavy modules (dnspython, rich, the SDKs) are imported inside the commands that use them, so `--help` is fast.
stdout belongs to the report; errors and progress go to stderr as one line each.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import NoReturn, TextIO

from aksdiag import __version__
from aksdiag.errors import AksdiagError, UsageError
from aksdiag.exitcodes import ExitCode

DESCRIPTION = """\
Find out why a private AKS cluster's names don't resolve or its endpoints can't be reached:
which hop is broken, and what to change.

examples:
  aksdiag demo                                   diagnose the built-in broken lab (no Azure needed)
  aksdiag dns aks-x.<guid>.privatelink.eastus.azmk8s.io --server 10.1.0.4 --expect 10.224.0.4
  aksdiag dns --cluster aks-prod -g rg-aks       the cluster's name, VNet DNS and private zone, from Azure
  aksdiag apiserver                              TCP, TLS and health of the kubeconfig's API server
  aksdiag whois 10.244.3.17                      which pod, node, Service or node range holds an IP
  aksdiag pod --all-nodes -- dns aks-x.<guid>.privatelink.eastus.azmk8s.io   the DNS chain from a pod on every node
  aksdiag lb --cluster aks-prod -g rg-aks        load balancers, their Services, SNAT ports at the peak
  aksdiag tui --cluster aks-prod -g rg-aks       every probe at once, in an interactive terminal UI
  aksdiag dns api.my.com --output json           a report for a pipeline
  aksdiag explain DNS001                         what a finding means and how to fix it

exit codes: 0 no error found, 1 error findings, 2 bad input, 3 aksdiag could not run
"""

DNS_DESCRIPTION = """\
Trace the resolution of FQDN hop by hop: the host resolver (resolv.conf) → each custom DNS server →
Azure DNS (168.63.129.16) → the expected endpoint. Every server is asked over UDP and TCP, all at once under
one deadline; the answers are compared and each break is named with its fix.

examples:
  aksdiag dns aks-x.<guid>.privatelink.koreacentral.azmk8s.io
  aksdiag dns aks-x.<guid>.privatelink.koreacentral.azmk8s.io --server 10.1.0.4 --server 10.1.0.5 \\
      --expect 10.224.0.4
  aksdiag dns api.my.com --count 20 --output markdown > ticket.md
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, f"see `{self.prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aksdiag", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"aksdiag {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    dns = sub.add_parser(
        "dns",
        help="trace the DNS resolution chain of a private name",
        description=DNS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_dns_args(dns)
    dns.add_argument(
        "--from",
        dest="snapshot",
        metavar="SNAPSHOT",
        help="judge the facts saved by `aksdiag snapshot` instead of asking the network (offline)",
    )

    snap = sub.add_parser(
        "snapshot",
        help="save every fact `aksdiag dns` gathers as JSON, to judge offline later (--from)",
        description="Gather what `aksdiag dns` would (same flags) and print it as JSON: the DNS answers, the "
        "resolver configuration and the ARM resources. No token is ever saved. --redact masks subscription ids "
        "and IP addresses consistently, keeping private addresses private and public ones public.",
    )
    _add_dns_args(snap)
    snap.add_argument("--redact", action="store_true", help="mask subscription ids and IP addresses consistently")

    api = sub.add_parser(
        "apiserver",
        help="check the API server: TCP, TLS certificate names and trust, /readyz and /livez",
        description="Resolve the API server's name, connect to every address and port at once, check its TLS "
        "certificate (chain against the kubeconfig's CA, names, dates) and read /readyz and /livez: anonymously "
        "(a 401 or 403 proves reachability) and, over a verified connection only, with the kubeconfig's "
        "credentials. Without flags: the kubeconfig's current context, or the pod's service account in a pod.",
    )
    api.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    api.add_argument("--context", metavar="NAME", help="kubeconfig context (default: current-context)")
    api.add_argument("--fqdn", metavar="NAME", help="test this name instead of the kubeconfig's server")
    api.add_argument("--address", action="append", default=[], metavar="IP",
                     help="test this IP instead of what the name resolves to (repeatable)")  # fmt: skip
    api.add_argument("--port", action="append", type=int, default=[], metavar="PORT",
                     help="ports to test (repeatable; default: the server's, 443); add 4443 for VNet integration")  # fmt: skip
    api.add_argument("--resolv-conf", metavar="PATH", help="resolver configuration (env AKSDIAG_RESOLV_CONF)")
    api.add_argument("--egress-ip", metavar="IP",
                     help="this client's public egress address, to check against authorized IP ranges (API008)")  # fmt: skip
    _add_azure(api)
    _add_common(api)

    whois = sub.add_parser(
        "whois",
        help="who holds an IP in the cluster: a pod, a node, a Service, or the node whose pod range has it",
        description="Find what holds IP: the pod with that podIP (field selector, all namespaces), a node's "
        "InternalIP, a Service's clusterIP or load balancer address, or the node whose pod range (podCIDR, "
        "NodeNetworkConfig) contains it — and say when nothing does (IP001, IP003) or two things do (IP002).",
    )
    whois.add_argument("ip", metavar="IP", help="the address to look up (IPv4 or IPv6)")
    whois.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    whois.add_argument("--context", metavar="NAME", help="kubeconfig context (default: current-context)")
    _add_azure(whois)
    _add_common(whois)

    ipplan = sub.add_parser(
        "ipplan",
        help="will the cluster's subnets hold its nodes and pods at an upgrade surge or the autoscaler maximum?",
        description="Read the cluster's node pools and subnets from Azure and compare the addresses needed at the "
        "peak (Azure CNI: (nodes + surge) × (max pods + 1); kubenet and overlay: nodes + surge) with those the "
        "subnets have (IP004).",
    )
    _add_azure(ipplan)
    _add_common(ipplan)

    lb = sub.add_parser(
        "lb",
        help="the cluster's load balancers, the Services that own them, and SNAT capacity",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read the load balancers of the cluster's node resource group (kubernetes, kubernetes-internal):\n"
        "frontends, rules, health probes, backend pools, outbound rules; map each frontend and rule to the Service\n"
        "that owns it (with a kubeconfig); check that the outbound rule's SNAT ports hold the nodes now, in an\n"
        "upgrade and at the autoscaler maximum (LB001, LB002). Also: a public Service on a private cluster (LB003),\n"
        "a Service stuck without an IP and why (LB004), frontends or rules no Service owns (LB005), a health probe\n"
        "that does not match its Service (LB006). Without a kubeconfig the Azure half still runs.\n\n"
        "examples:\n"
        "  aksdiag lb --cluster aks-prod -g rg-aks\n"
        "  aksdiag lb --cluster aks-prod -g rg-aks --kubeconfig ~/.kube/aks-prod --output markdown > lb.md",
    )
    lb.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    lb.add_argument("--context", metavar="NAME", help="kubeconfig context (default: current-context)")
    _add_azure(lb)
    _add_common(lb)

    check = sub.add_parser(
        "check",
        help="run every probe that has what it needs, in one report and one exit code",
        description="Run the DNS chain (for --fqdn, or the cluster's FQDN), the private DNS zone and IP planning "
        "checks (with --cluster), and the API server checks (with a kubeconfig, --fqdn, or in a pod), all at once. "
        "A probe that lacks what it needs is reported as skipped, with the reason.",
    )
    check.add_argument("--fqdn", metavar="NAME", help="the API server's (or any private) name to trace and test")
    check.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    check.add_argument("--context", metavar="NAME", help="kubeconfig context")
    _add_azure(check)
    _add_common(check)

    tui = sub.add_parser(
        "tui",
        help="the probes of `check` in an interactive terminal UI: tiles, the DNS chain, findings, whois",
        description="Run what `aksdiag check` runs (same flags), each probe in its own worker, in a Textual app: a "
        "tile per probe updating live, the DNS chain hop by hop with each hop's evidence, the findings with their "
        "fix commands, the API server checks, a whois box, and each probe's tables and gauges (Enter on a tile). "
        "Keys: r re-run, c cancel a probe, e export (JSON or Markdown), / filter, ? help, q quit.",
    )
    tui.add_argument("--fqdn", metavar="NAME", help="the API server's (or any private) name to trace and test")
    tui.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    tui.add_argument("--context", metavar="NAME", help="kubeconfig context")
    _add_azure(tui)
    _add_common(tui)

    pod = sub.add_parser(
        "pod",
        help="run a probe inside the cluster from a one-shot pod, on one node or on all of them",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Create a one-shot pod (pinned to a node; non-root, read-only, no capabilities), wait for it by "
        "watch, read its JSON report from the log, and delete it: always, also on failure, timeout and Ctrl-C. "
        "--all-nodes runs one pod per node at once and merges the reports into a node × finding matrix. The pods "
        "use the service account of container/rbac.yaml (namespace aksdiag).\n\n"
        "examples:\n"
        "  aksdiag pod --image myacr.azurecr.io/aksdiag:0.1 -- dns aks-x.<guid>.privatelink.eastus.azmk8s.io\n"
        "  aksdiag pod --all-nodes -- dns aks-x.<guid>.privatelink.eastus.azmk8s.io   # image from AKSDIAG_IMAGE\n"
        "  aksdiag pod --all-nodes --dns-policy Default -- dns api.my.com   # the nodes' VNet DNS, not CoreDNS\n"
        "  aksdiag pod --node aks-gpu-12345678-vmss000003 --host-network -- apiserver\n"
        "  aksdiag pod --cleanup                                            # delete pods left by earlier runs\n\n"
        "exit codes: 0 no error found, 1 a pod found an error, 2 bad input, 3 a pod could not run",
    )
    pod.add_argument("--image", metavar="IMG", help="the aksdiag image (default: env AKSDIAG_IMAGE)")
    pod.add_argument("--namespace", "-n", metavar="NS", help="where the pods run (default aksdiag)")
    pod_where = pod.add_mutually_exclusive_group()
    pod_where.add_argument("--node", metavar="NODE", help="the node to run on (default: the first Ready one)")
    pod_where.add_argument("--all-nodes", action="store_true", help="one pod per Ready Linux node, all at once")
    pod.add_argument("--host-network", action="store_true", help="run in the node's network namespace")
    pod.add_argument("--dns-policy", choices=("ClusterFirst", "Default"), default="ClusterFirst",
                     help="ClusterFirst: through CoreDNS (default); Default: the node's VNet DNS, without CoreDNS")  # fmt: skip
    pod.add_argument("--timeout", metavar="S", help="the pods' whole life in seconds, waiting included (default 120)")
    pod.add_argument("--cleanup", action="store_true", help="delete the pods earlier runs left behind, and stop")
    pod.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    pod.add_argument("--context", metavar="NAME", help="kubeconfig context (default: current-context)")
    pod.add_argument("--output", "-o", choices=("text", "json", "markdown"), default=None,
                     help="text, json (aksdiag.report/v1) or markdown (default text)")  # fmt: skip
    pod.add_argument("args", nargs=argparse.REMAINDER, metavar="-- ARGS",
                     help="the aksdiag command to run in the pod, e.g. -- dns aks-x.<guid>.privatelink.eastus.azmk8s.io")  # fmt: skip

    explain = sub.add_parser("explain", help="explain a finding code (DNS001…)")
    explain.add_argument("code", metavar="CODE", nargs="?", help="a code such as DNS001; none lists them all")

    demo = sub.add_parser(
        "demo",
        help="start the built-in broken lab on loopback and diagnose it",
        description="Start the lab on loopback — a DNS scenario (pure-Python DNS servers) and a cluster world "
        "(a fake Azure Resource Manager and a fake Kubernetes API server: no root, no Azure, no cluster) — and "
        "diagnose it with every probe of `aksdiag check`: in the TUI on a terminal, or as a report with --no-tui "
        "or when stdout is not a terminal. Try --scenario and --world with any name from `aksdiag lab list`; "
        "--world none traces the DNS chain alone.",
    )
    demo.add_argument("--scenario", default=None, help="the lab scenario (default no-forwarder)")
    demo.add_argument(
        "--world",
        default="lb-pending",
        metavar="NAME",
        help="the cluster's Azure and Kubernetes side, served by a fake ARM and API server: an lb-… world of "
        "`aksdiag lab list` (default lb-pending), or none for the DNS chain alone",
    )
    demo.add_argument("--output", "-o", choices=("text", "json", "markdown"), default="text")
    demo.add_argument(
        "--no-tui",
        action="store_true",
        help="print the text report instead of opening the TUI (the default when stdout is not a terminal)",
    )

    lab = sub.add_parser("lab", help="run lab scenarios on loopback for experiments")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION", parser_class=_Parser)
    lab_sub.add_parser("list", help="list the scenarios")
    up = lab_sub.add_parser("up", help="start a scenario and wait (Ctrl-C stops it)")
    up.add_argument("--scenario", required=True, help="a name from `aksdiag lab list`")
    up.add_argument(
        "--backend",
        choices=("python", "bind"),
        default="python",
        help="serve with the pure-Python servers or real BIND 9 (named must be installed)",
    )
    arm = lab_sub.add_parser(
        "arm",
        help="serve a fake Azure Resource Manager (HTTPS on loopback) for a lab world",
        description="Serve an ARM world on https://127.0.0.1: a world name (see `aksdiag lab list`) or a directory "
        "of resource JSON files (one GET body per file, with its id; `_faults.json` injects 403/404/429).",
    )
    arm.add_argument("--world", required=True, help="a world name (healthy, hub-not-linked, …) or a directory")
    arm.add_argument("--port", type=int, default=0, help="the port to listen on (default: any free one)")
    kube = lab_sub.add_parser(
        "kube",
        help="serve a fake Kubernetes API server (HTTPS on loopback) for a directory of objects",
        description="Serve Kubernetes objects (YAML or JSON files, documents or Lists) like an API server: "
        "discovery, get, list with paging and selectors, NodeNetworkConfig, pod create/delete/log; `_rbac.yaml` "
        "(deny: [list pods]) makes it answer 403. Writes a kubeconfig for kubectl and aksdiag.",
    )
    kube.add_argument(
        "--world", required=True, metavar="DIR", help="a directory of Kubernetes object files, or an lb-… world"
    )
    return parser


def _add_dns_args(dns: argparse.ArgumentParser) -> None:
    dns.add_argument(
        "fqdn",
        metavar="FQDN",
        nargs="?",
        help="the name to resolve (the API server's private FQDN, or any); with --cluster, the cluster's by default",
    )
    dns.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="IP[:PORT]",
        help="a custom DNS server to test (repeatable; default: the resolv.conf nameservers that are not Azure DNS)",
    )
    dns.add_argument(
        "--azure-dns",
        metavar="IP[:PORT]",
        help="the Azure-provided resolver (default 168.63.129.16:53; env AKSDIAG_AZURE_DNS)",
    )
    dns.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="IP",
        help="the address the name must resolve to: the private endpoint or API server IP (repeatable)",
    )
    dns.add_argument(
        "--resolv-conf",
        metavar="PATH",
        help="the host resolver configuration to read (default /etc/resolv.conf; env AKSDIAG_RESOLV_CONF)",
    )
    dns.add_argument("--no-resolver", action="store_true", help="skip the host resolver hop")
    _add_azure(dns)
    _add_common(dns)
    dns.add_argument(
        "--count",
        type=int,
        default=1,
        metavar="N",
        help="send every query N times and report loss and latency percentiles (default 1)",
    )
    dns.add_argument(
        "--slow-ms",
        type=float,
        default=None,
        metavar="MS",
        help="a p95 latency above this is reported as slow, DNS009 (default 300)",
    )


def _add_azure(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group(
        "Azure context (read-only)",
        "With a cluster, aksdiag reads it from Azure Resource Manager: its private FQDN, VNet DNS servers, private "
        "DNS zone, links and records, and private endpoint; and judges them (DNS011-DNS016, AZ001-AZ002). "
        "Credentials: AKSDIAG_ARM_TOKEN, else DefaultAzureCredential (az login, managed identity, workload identity).",
    )
    group.add_argument("--cluster", metavar="NAME", help="the AKS cluster's name")
    group.add_argument("--resource-group", "-g", metavar="RG", help="the cluster's resource group")
    group.add_argument("--subscription", metavar="ID", help="subscription id (default: env AZURE_SUBSCRIPTION_ID)")
    group.add_argument(
        "--cloud",
        choices=("AzureCloud", "AzureChinaCloud", "AzureUSGovernment"),
        default=None,
        help="which Azure cloud's ARM endpoint to read (env AKSDIAG_ARM_ENDPOINT sets any other)",
    )


def azure_need(args: argparse.Namespace) -> object:
    """The AzureContextNeed the flags ask for, or None without --cluster."""
    import os

    if not args.cluster and not args.resource_group:
        return None
    if not (args.cluster and args.resource_group):
        raise UsageError("--cluster and --resource-group go together")
    subscription = args.subscription or os.environ.get("AZURE_SUBSCRIPTION_ID")
    if not subscription:
        raise UsageError("no subscription", "pass --subscription or set AZURE_SUBSCRIPTION_ID")
    from aksdiag.facts import AzureContextNeed
    from aksdiag.sources.azure import endpoint_for

    return AzureContextNeed(subscription, args.resource_group, args.cluster, endpoint_for(args.cloud))


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout",
        default=None,
        metavar="SECONDS",
        help="one deadline for all queries; a dead server costs this once (default 2)",
    )
    p.add_argument(
        "--output",
        "-o",
        choices=("text", "json", "markdown"),
        default="text",
        help="text for people, json for pipelines (aksdiag.report/v1), markdown for tickets",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        args = build_parser().parse_args(args_list)
        return int(_dispatch(args))
    except AksdiagError as e:
        _say_error(e)
        return int(e.exit_code)
    except KeyboardInterrupt:
        print("aksdiag: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if debug:
            raise
        print(
            f"aksdiag: internal error: {type(e).__name__}: {e} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return int(ExitCode.CANNOT_RUN)


def _say_error(e: AksdiagError) -> None:
    print(f"aksdiag: error: {e.message}" + (f" ({e.hint})" if e.hint else ""), file=sys.stderr)


def _dispatch(args: argparse.Namespace) -> ExitCode:
    if args.command == "dns":
        return _cmd_dns(args)
    if args.command == "snapshot":
        return _cmd_snapshot(args)
    if args.command == "apiserver":
        return _cmd_apiserver(args)
    if args.command == "whois":
        return _cmd_whois(args)
    if args.command == "ipplan":
        return _cmd_ipplan(args)
    if args.command == "lb":
        return _cmd_lb(args)
    if args.command == "check":
        return _cmd_check(args)
    if args.command == "tui":
        return _cmd_tui(args)
    if args.command == "pod":
        return _cmd_pod(args)
    if args.command == "explain":
        return _cmd_explain(args.code, sys.stdout)
    if args.command == "demo":
        return _cmd_demo(args)
    if args.command == "lab":
        return _cmd_lab(args)
    build_parser().print_help()
    return ExitCode.OK


def dns_settings(args: argparse.Namespace) -> tuple[str, object]:
    from aksdiag import settings as settings_mod
    from aksdiag.inputs import parse_endpoint, parse_fqdn, parse_ip

    azure = azure_need(args)
    if args.fqdn is None and azure is None:
        raise UsageError("give the FQDN to trace, or --cluster and --resource-group to use the cluster's")
    fqdn = parse_fqdn(args.fqdn) if args.fqdn is not None else ""
    if not 1 <= args.count <= 1000:
        raise UsageError(f"--count {args.count} is out of range", "use 1 to 1000")
    if args.slow_ms is not None and args.slow_ms <= 0:
        raise UsageError("--slow-ms must be a positive number of milliseconds")
    overrides: dict[str, object] = {
        "servers": tuple(dict.fromkeys(parse_endpoint(s) for s in args.server)),
        "expect": tuple(dict.fromkeys(parse_ip(e, "address for --expect") for e in args.expect)),
        "azure_dns": parse_endpoint(args.azure_dns) if args.azure_dns else None,
        "resolv_conf": args.resolv_conf,
        "use_resolver": not args.no_resolver,
        "count": args.count,
        "slow_ms": args.slow_ms,
        "timeout": settings_mod.parse_timeout(args.timeout) if args.timeout is not None else None,
        "output": args.output,
        "azure": azure,
    }
    return fqdn, settings_mod.from_env(**overrides)


def _cmd_dns(args: argparse.Namespace) -> ExitCode:
    if args.snapshot:
        return _dns_from_snapshot(args.snapshot, args.output)
    fqdn, settings = dns_settings(args)
    return _run_and_render("dns", fqdn, settings, args.output, _dns_probes(settings))


def _dns_probes(settings: object) -> list[str]:
    return ["dns_chain", "private_dns"] if getattr(settings, "azure", None) else ["dns_chain"]


def _dns_from_snapshot(path: str, output: str) -> ExitCode:
    import json

    from aksdiag import runner, snapshot

    try:
        with open(path, encoding="utf-8") as f:
            command, target, settings, facts = snapshot.load(json.load(f))
    except OSError as e:
        raise UsageError(f"cannot read the snapshot {path}: {e.strerror or e}") from None
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{path} is not an aksdiag snapshot ({e})") from None
    return _run_and_render(command, target, settings, output, _dns_probes(settings), runner.from_snapshot(facts))


def _cmd_apiserver(args: argparse.Namespace) -> ExitCode:
    from aksdiag import kubeconfig
    from aksdiag import settings as settings_mod
    from aksdiag.inputs import parse_fqdn, parse_ip

    azure = azure_need(args)
    config = None
    if args.kubeconfig or args.context or not (args.fqdn or azure):
        config = None if (args.fqdn or args.kubeconfig) else kubeconfig.in_cluster()
        config = config or kubeconfig.load(args.kubeconfig, args.context)
    if args.fqdn:
        name = args.fqdn if _looks_like_ip(args.fqdn) else parse_fqdn(args.fqdn)
    elif config is None:
        name = ""  # the cluster's FQDN, read from Azure
    else:
        if not config.server.startswith("https://"):
            raise AksdiagError(f"the API server {config.server!r} ({config.source}) is not an https:// URL")
        name = config.host if _looks_like_ip(config.host) else parse_fqdn(config.host)
    for port in args.port:
        if not 1 <= port <= 65535:
            raise UsageError(f"--port {port} is not a port number from 1 to 65535")
    ports = tuple(dict.fromkeys(args.port)) or (
        (config.port,) if config and config.port != 443 and not args.fqdn else ()
    )
    settings = settings_mod.from_env(
        apiserver=config,
        azure=azure,
        extra={"egress_ip": parse_ip(args.egress_ip, "address for --egress-ip")} if args.egress_ip else {},
        ports=ports,
        addresses=tuple(parse_ip(a, "address for --address") for a in args.address),
        resolv_conf=args.resolv_conf,
        timeout=settings_mod.parse_timeout(args.timeout) if args.timeout is not None else None,
        output=args.output,
    )
    return _run_and_render("apiserver", name, settings, args.output, ["apiserver"])


def _cmd_whois(args: argparse.Namespace) -> ExitCode:
    from aksdiag.inputs import parse_ip

    ip = parse_ip(args.ip)
    return _run_and_render("whois", ip, whois_settings(args), args.output, ["whois"])


def whois_settings(args: argparse.Namespace) -> object:
    """The settings whois asks with: the kubeconfig context (or in-cluster) and, with --cluster, Azure's view."""
    import os

    from aksdiag import settings as settings_mod
    from aksdiag.facts import KubeContextNeed

    in_pod = bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not (args.kubeconfig or args.context)
    kube = KubeContextNeed(args.kubeconfig, args.context, in_cluster=in_pod)
    azure = azure_need(args)
    if azure is not None:
        from dataclasses import replace as with_changes

        azure = with_changes(azure, load_balancers=True)  # type: ignore[type-var]
    return settings_mod.from_env(
        kube=kube,
        azure=azure,
        timeout=settings_mod.parse_timeout(args.timeout) if args.timeout is not None else None,
        output=args.output,
    )


def _cmd_check(args: argparse.Namespace) -> ExitCode:
    name, settings, probes = check_plan(args)
    return _run_and_render("check", name, settings, args.output, probes)


def _cmd_tui(args: argparse.Namespace) -> ExitCode:
    from aksdiag.tui import app
    from aksdiag.tui.session import Session

    name, settings, probes = check_plan(args)
    session = Session.of("check", name, settings, probes, whois_settings=whois_settings(args))  # type: ignore[arg-type]
    return ExitCode(app.run(session))


def check_plan(args: argparse.Namespace) -> tuple[str, object, list[str]]:
    """What `check` and `tui` run: the target name, the settings and the probe ids, from the context flags."""
    import os

    from aksdiag import kubeconfig
    from aksdiag import settings as settings_mod
    from aksdiag.inputs import parse_fqdn

    azure = azure_need(args)
    name = parse_fqdn(args.fqdn) if args.fqdn else ""
    config, kube_error = None, ""
    try:
        if args.kubeconfig or args.context or not os.environ.get("KUBERNETES_SERVICE_HOST"):
            config = kubeconfig.load(args.kubeconfig, args.context)
        else:
            config = kubeconfig.in_cluster()
    except AksdiagError as e:
        kube_error = str(e)  # the API server probe is skipped with this reason; the others run
    if azure is not None:
        from dataclasses import replace as with_changes

        azure = with_changes(azure, load_balancers=True)  # type: ignore[type-var]  # the lb probe reads them
    from aksdiag.facts import KubeContextNeed

    in_pod = config is not None and not (args.kubeconfig or args.context) and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))  # fmt: skip
    settings = settings_mod.from_env(
        azure=azure,
        apiserver=config,
        kube=KubeContextNeed(args.kubeconfig, args.context, in_cluster=in_pod) if config is not None else None,
        timeout=settings_mod.parse_timeout(args.timeout) if args.timeout is not None else None,
        output=args.output,
        extra={"kube_error": kube_error} if kube_error else {},
    )
    probes = ["dns_chain", "private_dns", "apiserver", "ipplan", "lb"]
    return name, settings, probes


def _optional_kube(args: argparse.Namespace) -> tuple[object, str]:
    """The Kubernetes context when one is at hand, else None and why: for commands that can do without it.

    An explicit --kubeconfig or --context that cannot be read is still an error (exit 3)."""
    import os

    from aksdiag import kubeconfig
    from aksdiag.facts import KubeContextNeed

    explicit = bool(args.kubeconfig or args.context)
    in_pod = bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not explicit
    try:
        kubeconfig.in_cluster() if in_pod else kubeconfig.load(args.kubeconfig, args.context)
    except AksdiagError as e:
        if explicit:
            raise
        return None, str(e)
    return KubeContextNeed(args.kubeconfig, args.context, in_cluster=in_pod), ""


def _cmd_lb(args: argparse.Namespace) -> ExitCode:
    from dataclasses import replace as with_changes

    from aksdiag import settings as settings_mod

    azure = azure_need(args)
    if azure is None:
        raise UsageError("aksdiag lb needs the cluster", "pass --cluster and --resource-group")
    kube, kube_error = _optional_kube(args)
    settings = settings_mod.from_env(
        azure=with_changes(azure, load_balancers=True),  # type: ignore[type-var]
        kube=kube,
        timeout=settings_mod.parse_timeout(args.timeout) if args.timeout is not None else None,
        output=args.output,
        extra={"kube_error": kube_error} if kube_error else {},
    )
    return _run_and_render("lb", "", settings, args.output, ["lb"])


def _cmd_ipplan(args: argparse.Namespace) -> ExitCode:
    from aksdiag import settings as settings_mod

    azure = azure_need(args)
    if azure is None:
        raise UsageError("aksdiag ipplan needs the cluster", "pass --cluster and --resource-group")
    settings = settings_mod.from_env(azure=azure, output=args.output)
    return _run_and_render("ipplan", "", settings, args.output, ["ipplan"])


def _looks_like_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _cmd_snapshot(args: argparse.Namespace) -> ExitCode:
    import json

    from aksdiag import probe, runner, snapshot

    fqdn, settings = dns_settings(args)
    facts: dict[object, object] = {}
    runner.run("dns", [probe.load(p) for p in _dns_probes(settings)], fqdn, settings, facts=facts)  # type: ignore[arg-type]
    doc = snapshot.dump("dns", fqdn, settings, facts)  # type: ignore[arg-type]
    if args.redact:
        doc = snapshot.redact(doc)
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return ExitCode.OK


def _run_and_render(
    command: str,
    target: str,
    settings: object,
    output: str,
    probes: Sequence[str] = ("dns_chain",),
    source: object = None,
) -> ExitCode:
    from aksdiag import probe, runner
    from aksdiag.model import Verdict
    from aksdiag.render import render

    azure = getattr(settings, "azure", None)
    label = target or (f"{azure.resource_group}/{azure.cluster}" if azure else "")
    loaded = [probe.load(p) for p in probes]
    report = runner.run(command, loaded, target, settings, source or runner.fetch)  # type: ignore[arg-type]
    report = replace(report, target=label) if label != target else report
    render(report, output, sys.stdout)
    if report.verdict is Verdict.BROKEN:
        return ExitCode.FINDINGS
    if any(p.status.value == "error" for p in report.probes):
        return ExitCode.CANNOT_RUN  # a probe failed inside aksdiag: its silence is not a clean bill of health
    return ExitCode.OK


def _cmd_pod(args: argparse.Namespace) -> ExitCode:
    from aksdiag.pod import command

    return command.run(args)


def _cmd_explain(code: str | None, out: TextIO) -> ExitCode:
    from aksdiag import codes

    if not code:
        for entry in codes.CATALOGUE.values():
            out.write(f"{entry.id}  {entry.severity.value:<7}  {entry.title}\n")
        return ExitCode.OK
    entry = codes.lookup(code)
    if entry is None:
        raise UsageError(f"unknown code {code!r}", "`aksdiag explain` lists the codes")
    out.write(
        f"{entry.id} ({entry.severity.value}): {entry.title}\n\n"
        f"What it means:\n  {entry.summary}\n\nHow to fix it:\n  {entry.fix}\n\nDocs: {entry.docs}\n"
    )
    return ExitCode.OK


def _cmd_demo(args: argparse.Namespace) -> ExitCode:
    from aksdiag.lab import demo as demo_lab
    from aksdiag.lab import lbworld
    from aksdiag.lab.scenarios import DEMO_SCENARIO, SCENARIOS

    name = args.scenario or DEMO_SCENARIO
    if name not in SCENARIOS:
        raise UsageError(f"unknown scenario {name!r}", "`aksdiag lab list` shows them")
    world = None if args.world == "none" else args.world
    if world is not None and world not in lbworld.WORLDS:
        raise UsageError(f"unknown cluster world {args.world!r}", f"one of {', '.join(lbworld.WORLDS)}, or none")
    scenario = SCENARIOS[name]
    print(f"aksdiag demo: lab scenario {name!r}: {scenario.summary}", file=sys.stderr)
    if world:
        print(f"aksdiag demo: cluster world {world!r}: {lbworld.WORLDS[world][0]}", file=sys.stderr)
    tui = not args.no_tui and args.output == "text" and sys.stdout.isatty() and sys.stdin.isatty()
    with demo_lab.start(scenario, world) as lab:
        if tui:
            return _demo_tui(lab)
        if not world:
            print(f"aksdiag demo: running `aksdiag {' '.join(lab.dns.dns_args())}`", file=sys.stderr)
            return _run_and_render("dns", scenario.fqdn, lab.settings(), args.output)
        probes = [p for p in lab.probes() if p not in demo_lab.SKIP]
        return _run_and_render("demo", lab.target, lab.settings(), args.output, probes)


def _demo_tui(lab: object) -> ExitCode:
    """The TUI on the demo's lab: every probe of `check`, and the whois box on the lab's cluster."""
    from aksdiag.lab import demo as demo_lab
    from aksdiag.tui import app
    from aksdiag.tui.session import Session, demo_session

    if not lab.world:  # type: ignore[attr-defined]
        return ExitCode(app.run(demo_session(lab.dns)))  # type: ignore[attr-defined]
    settings = lab.settings()  # type: ignore[attr-defined]
    session = Session.of("demo", lab.target, settings, lab.probes(), whois_settings=settings, skip=demo_lab.SKIP)  # type: ignore[attr-defined]
    return ExitCode(app.run(session))


def _cmd_lab(args: argparse.Namespace) -> ExitCode:
    from aksdiag.lab.scenarios import SCENARIOS

    if args.lab_command == "up":
        return _lab_up(args.scenario, args.backend)
    if args.lab_command == "arm":
        return _lab_arm(args.world, args.port)
    if args.lab_command == "kube":
        return _lab_kube(args.world)
    print("DNS scenarios (aksdiag lab up --scenario NAME; aksdiag demo --scenario NAME):")
    for s in SCENARIOS.values():
        expected = ", ".join(sorted(s.expected)) or "no fault"
        print(f"  {s.name:<18} {expected:<16} {s.summary}")
    from aksdiag.lab.armworld import WORLDS

    print("\nARM worlds (aksdiag lab arm --world NAME):")
    for name, summary in WORLDS.items():
        print(f"  {name:<18} {summary}")
    return ExitCode.OK


def _lab_kube(world: str) -> ExitCode:
    import tempfile
    import threading
    from pathlib import Path

    from aksdiag.lab import lbworld
    from aksdiag.lab.kube import FakeKubeApi, KubeWorld

    if world in lbworld.WORLDS:  # the Kubernetes half of an `aksdiag lab arm --world lb-…` world
        objects = KubeWorld()
        objects.add_all(lbworld.kube(world))
    elif not Path(world).is_dir():
        raise UsageError(f"{world!r} is not a directory of Kubernetes object files nor an lb-… lab world")
    else:
        try:
            objects = KubeWorld.load(world)
        except (ValueError, KeyError, OSError) as e:
            raise UsageError(f"cannot load {world}: {e}") from None
    home = Path(tempfile.mkdtemp(prefix="aksdiag-kube-"))
    with FakeKubeApi(objects, home / "pki") as api:
        kubeconfig = api.kubeconfig(home / "kubeconfig")
        count = sum(len(v) for v in objects.objects.values())
        print(f"fake Kubernetes API server at {api.url}, serving {count} objects from {world}")
        print(f"\n  export KUBECONFIG={kubeconfig}\n  kubectl get pods -A -o wide\n\nCtrl-C stops it.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("fake Kubernetes API server stopped", file=sys.stderr)
    return ExitCode.OK


def _lab_arm(world: str, port: int) -> ExitCode:
    import tempfile
    import threading
    from pathlib import Path

    from aksdiag.lab import arm, armworld

    if world in armworld.WORLDS:
        directory = armworld.write(world, tempfile.mkdtemp(prefix=f"aksdiag-arm-{world}-"))
    elif Path(world).is_dir():
        directory = Path(world)
    else:
        raise UsageError(f"{world!r} is neither an ARM world nor a directory", "`aksdiag lab list` shows the worlds")
    try:
        fake = arm.FakeArm(arm.ArmWorld.load(directory), directory / ".tls", port=port)
    except OSError as e:
        raise AksdiagError(f"the fake ARM could not start: {e}") from e
    with fake:
        print(f"fake ARM serving {directory} at {fake.endpoint}")
        print(f"\n  export AKSDIAG_ARM_ENDPOINT={fake.endpoint}")
        print(f"  export REQUESTS_CA_BUNDLE={fake.ca_path}")
        print("  export AKSDIAG_ARM_TOKEN=lab")
        if world in armworld.WORLDS:
            print(
                f"  aksdiag dns --subscription {armworld.SUBSCRIPTION} --resource-group {armworld.CLUSTER_RG} "
                f"--cluster {armworld.CLUSTER} --server <a lab DNS server> --azure-dns <the lab's Azure DNS>"
            )
        print("\nCtrl-C stops it.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("fake ARM stopped", file=sys.stderr)
    return ExitCode.OK


def _lab_up(name: str, backend: str) -> ExitCode:
    import shlex
    import threading

    from aksdiag.lab import world as lab_world
    from aksdiag.lab.scenarios import SCENARIOS

    if name not in SCENARIOS:
        raise UsageError(f"unknown scenario {name!r}", "`aksdiag lab list` shows them")
    try:
        world = lab_world.start(SCENARIOS[name], backend)
    except (OSError, RuntimeError) as e:
        raise AksdiagError(f"the lab could not start: {e}") from e
    with world:
        print(f"scenario {name}: {world.scenario.summary}")
        for role, endpoint in world.endpoints.items():
            print(f"  {role:<10} {endpoint}")
        print(f"  resolv.conf {world.resolv_conf}")
        print(f"\ntry:\n  aksdiag {shlex.join(world.dns_args())}\n\nCtrl-C stops the lab.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("lab stopped", file=sys.stderr)
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
