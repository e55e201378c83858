"""The command-line parser: subcommands, flags and their help. It only parses: aksdiag.commands turns the flags
into a plan, aksdiag.cli runs and shows it.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from aksdiag import __version__
from aksdiag.cli.watch import WatchSeconds
from aksdiag.errors import UsageError
from aksdiag.lab import cli as lab_cli

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
  aksdiag egress --cluster aks-prod -g rg-aks    can this host reach every endpoint the cluster needs?
  aksdiag tui --cluster aks-prod -g rg-aks       every probe at once, in an interactive terminal UI
  aksdiag dns api.my.com --output json           a report for a pipeline
  aksdiag explain DNS001                         what a finding means and how to fix it

exit codes: 0 no error found, 1 error findings, 2 bad input, 3 aksdiag could not run
"""

DNS_DESCRIPTION = """\
Trace the resolution of FQDN hop by hop: the host resolver (resolv.conf) → each custom DNS server →
Azure DNS (168.63.129.16) → the expected endpoint. Every server is asked over UDP and TCP, all at once under
one deadline; the answers are compared and each break is named with its fix. The cluster's own relays (CoreDNS
at the kube-dns IP and each CoreDNS pod, LocalDNS at 169.254.10.10/.11) are relays, judged as caches and
forwarders (the cluster_dns probe): with --kubeconfig, or in a pod, the kube-dns Service, the CoreDNS pods and the
coredns / coredns-custom ConfigMaps are read too.

examples:
  aksdiag dns aks-x.<guid>.privatelink.koreacentral.azmk8s.io
  aksdiag dns aks-x.<guid>.privatelink.koreacentral.azmk8s.io --server 10.1.0.4 --server 10.1.0.5 \\
      --expect 10.224.0.4
  aksdiag dns api.my.com --count 20 --output markdown > ticket.md
  aksdiag dns aks-x.<guid>.privatelink.koreacentral.azmk8s.io --kubeconfig ~/.kube/aks-prod   # CoreDNS too
  aksdiag dns aks-x.<guid>.privatelink.koreacentral.azmk8s.io --watch 10   # until the fix reaches every cache
"""


EGRESS_DESCRIPTION = """\
Test every endpoint the cluster's nodes need, from where aksdiag runs: each name through this host's resolver,
then a TCP connect, the TLS handshake with the name (SNI; the certificate checked against the system store) and
GET / — all endpoints at once, so dropped ones cost one --timeout in total. Any HTTP status is an answer, but
Azure Firewall's HTTP 470 "Action: Deny" (or a proxy's 407) is a deny, and a certificate from another issuer is a
TLS-inspecting firewall or proxy (the issuer is named).

The endpoints: with --cluster, the cluster's own list (outboundNetworkDependenciesEndpoints, as
`az aks egress-endpoints list` shows it); always the AKS essentials a node bootstrap needs (mcr.microsoft.com,
<region>.data.mcr.microsoft.com, login.microsoftonline.com, packages.microsoft.com, acs-mirror.azureedge.net,
management.azure.com) and the API server's /healthz (its name from Azure); and your --endpoint. Wildcards
(*.hcp.<region>.azmk8s.io) and UDP (NTP) are shown with what to allow, not tested: there is no one host or connect
to test. Plain-HTTP endpoints are tested by TCP. From a jump box this tests the jump box's way out; to test the
nodes' way, run it in the cluster: `aksdiag pod --cluster C -g RG -- egress` (the list is read here, the pod gets
no Azure credential).

examples:
  aksdiag egress --cluster aks-prod -g rg-aks
  aksdiag egress --endpoint myacr.azurecr.io --endpoint proxy.corp.example:8080
  aksdiag pod --cluster aks-prod -g rg-aks -- egress          # from a pod on a node
  aksdiag egress --cluster aks-prod -g rg-aks --timeout 5 --output markdown > egress.md
  aksdiag check --cluster aks-prod -g rg-aks --endpoint myacr.azurecr.io   # check tests egress too
"""


FLEET_DESCRIPTION = """\
Judge every AKS cluster the identity can read, at once, from Azure Resource Graph: four queries (the clusters,
the resources their DNS path depends on — private zones, zone links, VNets, private endpoints, resolvers,
rulesets, firewalls — the network's, the zones' links), paged with $skipToken and batched by subscription. Each
cluster is judged by the management-plane probes `check --cluster` runs (cluster state, private DNS zone and
rulesets, outbound, IP planning, load balancers), from those shared rows plus GETs of only what Resource Graph does
not index (record sets, forwarding rules). Resource Graph can lag ARM by minutes: every error finding is confirmed
by GETs of what it rests on before it stands (one Resource Graph saw and ARM did not is reported as lagged).
Subscriptions that could not be read are listed (AZ001), never dropped silently. Live SNAT metrics and role
assignments (DNS015) are not read: `aksdiag check --cluster` reads them for one cluster.

The scope: every subscription the identity can list (the default; --all-subscriptions says so), the subscriptions
given with --subscription, or the management groups given with --management-group.

examples:
  aksdiag fleet                                       every cluster in every subscription you can read
  aksdiag fleet --management-group mg-landing-zones   the clusters under one management group
  aksdiag fleet --subscription SUB-GUID-1 --subscription SUB-GUID-2   two subscriptions (their ids)
  aksdiag fleet --filter "tags['env'] == 'prod'"      prod clusters by tag (name, resourceGroup, location,
                                                      subscriptionId, tags['KEY'] with ==, =~, !=, startswith, …)
  aksdiag fleet --filter "name startswith 'aks-' and location == 'westeurope'" -o markdown > fleet.md
  aksdiag fleet -o json | jq -r '.groups[] | "\\(.code) \\(.count) \\(.cause)"'
  aksdiag fleet -o json | jq -r '.clusters[] | select(.verdict != "ok") | .id'
  aksdiag fleet --tui                                 clusters x status; Enter drills into one cluster's report

exit codes: 0 no error found, 1 a cluster is broken (or a fleet-level error), 2 bad input, 3 aksdiag could not
look (no credential, no subscription the identity can read, a Resource Graph query failed, a cluster that could
not be judged)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, f"see `{self.prog} --help`")

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        found, extras = super().parse_known_args(*args, **kwargs)
        return WatchSeconds.settle(found), extras  # `dns --watch NAME`: the name is the FQDN


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
    _add_kube(dns)
    dns.add_argument(
        "--from",
        dest="snapshot",
        metavar="SNAPSHOT",
        help="judge the facts saved by `aksdiag snapshot` instead of asking the network (offline)",
    )
    dns.add_argument("--watch", nargs="?", action=WatchSeconds, metavar="SECONDS",
                     help="ask again every SECONDS (default 5) until the verdict changes or Ctrl-C: a line per "
                     "hop whose answer changed, with its TTL, on stderr; the last report on stdout")  # fmt: skip

    snap = sub.add_parser(
        "snapshot",
        help="save every fact `aksdiag dns` gathers as JSON, to judge offline later (--from)",
        description="Gather what `aksdiag dns` would (same flags) and print it as JSON: the DNS answers, the "
        "resolver configuration and the ARM resources. No token is ever saved. --redact replaces every identifier "
        "(GUIDs, IPv4 and IPv6 addresses, resource, node and pod names, the cluster's FQDNs) consistently, keeping "
        "subnets, private addresses private and public ones public, so the verdicts stay the same.",
    )
    _add_dns_args(snap)
    _add_kube(snap)
    snap.add_argument("--redact", action="store_true", help="replace every identifier consistently (ids, names…)")

    api = sub.add_parser(
        "apiserver",
        help="check the API server: TCP, TLS certificate names and trust, /readyz and /livez",
        description="Resolve the API server's name, connect to every address and port at once, check its TLS "
        "certificate (chain against the kubeconfig's CA, names, dates) and read /readyz and /livez: anonymously "
        "(a 401 or 403 proves reachability) and, over a verified connection only, with the kubeconfig's "
        "credentials. Without flags: the kubeconfig's current context, or the pod's service account in a pod.",
    )
    _add_kube(api)
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
    _add_kube(whois)
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
    _add_kube(lb)
    _add_azure(lb)
    _add_common(lb)

    egress = sub.add_parser(
        "egress",
        help="can this host (or a pod, through `aksdiag pod`) reach every endpoint the cluster needs?",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=EGRESS_DESCRIPTION,
    )
    _add_egress_args(egress)
    egress.add_argument("--tls-ca-bundle", metavar="PATH",
                        help="trust this CA bundle for the endpoints' certificates instead of the system store (a "
                        "corporate CA you trust on purpose; the lab's test CA)")  # fmt: skip
    egress.add_argument("--resolv-conf", metavar="PATH", help="resolver configuration (env AKSDIAG_RESOLV_CONF)")
    egress.add_argument("--api-server", metavar="FQDN",
                        help="the cluster's API server name, tested at /healthz (with --cluster: read from Azure; "
                        "`aksdiag pod` passes it)")  # fmt: skip
    egress.add_argument("--region", metavar="REGION",
                        help="the cluster's region, for <region>.data.mcr.microsoft.com (with --cluster: read from "
                        "Azure; `aksdiag pod` passes it)")  # fmt: skip
    _add_kube(egress)
    _add_azure(
        egress,
        "With a cluster, aksdiag reads the endpoints it needs (GET managedClusters/…/outboundNetworkDependenciesEndpoints, "
        "as `az aks egress-endpoints list`), its region and API server name, and — when an endpoint is blocked — "
        "the route tables, NAT gateways and NSGs on the node subnet to name what blocks it. Credentials: "
        "AKSDIAG_ARM_TOKEN, else DefaultAzureCredential (az login, managed identity, workload identity).",
    )
    _add_common(egress)

    check = sub.add_parser(
        "check",
        help="run every probe that has what it needs, in one report and one exit code",
        description="Run the DNS chain (for --fqdn, or the cluster's FQDN), the private DNS zone, IP planning and "
        "load balancer checks (with --cluster), and the API server checks (with a kubeconfig, --fqdn, or in a pod), "
        "all at once. A probe that lacks what it needs is reported as skipped, with the reason; one that could not "
        "look (a read failed) as an error, and the exit code is then 3 unless an error finding stands.",
    )
    check.add_argument("--fqdn", metavar="NAME", help="the API server's (or any private) name to trace and test")
    _add_egress_args(check, " (and makes check test egress, which it otherwise does only in a pod or when the "
                     "nodes failed with CSE exit 50)")  # fmt: skip
    _add_kube(check)
    _add_azure(check)
    _add_common(check)

    tui = sub.add_parser(
        "tui",
        help="the probes of `check` in an interactive terminal UI: tiles, the DNS chain, findings, whois",
        description="Run what `aksdiag check` runs (same flags, one run of every probe at once), in a Textual app: a "
        "tile per probe updating live, the DNS chain hop by hop with each hop's evidence, the findings with their "
        "fix commands, the API server checks, a whois box, and each probe's tables and gauges (Enter on a tile). "
        "Keys: r re-run, c cancel a probe, e export (JSON or Markdown), / filter, ? help, q quit.",
    )
    tui.add_argument("--fqdn", metavar="NAME", help="the API server's (or any private) name to trace and test")
    _add_kube(tui)
    _add_azure(tui)
    _add_common(tui)

    pod = sub.add_parser(
        "pod",
        help="run a probe inside the cluster from a one-shot pod, on one node or on all of them",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Create a one-shot pod (pinned to a node; non-root, read-only, no capabilities), wait for it by "
        "watch, read its JSON report from the log, and delete it: always, also on failure, timeout and Ctrl-C. "
        "--all-nodes runs one pod per node at once and merges the reports into a node × finding matrix. The pods "
        "use the service account of container/rbac.yaml (namespace aksdiag, Pod Security restricted; with "
        "--host-network or --node-resolver-files, aksdiag-host-network: Pod Security privileged).\n\n"
        "examples:\n"
        "  aksdiag pod --image myacr.azurecr.io/aksdiag:0.1 -- dns aks-x.<guid>.privatelink.eastus.azmk8s.io\n"
        "  aksdiag pod --all-nodes -- dns aks-x.<guid>.privatelink.eastus.azmk8s.io   # image from AKSDIAG_IMAGE\n"
        "  aksdiag pod --all-nodes --dns-policy Default -- dns api.my.com   # the nodes' VNet DNS, not CoreDNS\n"
        "  aksdiag pod --all-nodes --host-network --dns-policy Default --node-resolver-files \\\n"
        "      --cluster aks-prod -g rg-aks -- dns api.my.com     # each node's resolver against the VNet's DNS\n"
        "  aksdiag pod --node aks-gpu-12345678-vmss000003 --host-network -- apiserver\n"
        "  aksdiag pod --cluster aks-prod -g rg-aks -- egress               # the nodes' way out, endpoints from Azure\n"
        "  aksdiag pod --cleanup                                            # delete pods left by earlier runs\n\n"
        "exit codes: 0 no error found, 1 a pod found an error, 2 bad input, 3 a pod could not run",
    )
    pod.add_argument("--image", metavar="IMG", help="the aksdiag image (default: env AKSDIAG_IMAGE)")
    pod.add_argument(
        "--namespace",
        "-n",
        metavar="NS",
        help="where the pods run (default aksdiag; aksdiag-host-network with --host-network or --node-resolver-files)",
    )
    pod_where = pod.add_mutually_exclusive_group()
    pod_where.add_argument("--node", metavar="NODE", help="the node to run on (default: the first Ready one)")
    pod_where.add_argument("--all-nodes", action="store_true", help="one pod per Ready Linux node, all at once")
    pod.add_argument("--host-network", action="store_true", help="run in the node's network namespace")
    pod.add_argument("--dns-policy", choices=("ClusterFirst", "Default"), default="ClusterFirst",
                     help="ClusterFirst: through CoreDNS (default); Default: the node's VNet DNS, without CoreDNS")  # fmt: skip
    pod.add_argument("--timeout", metavar="S", help="the pods' whole life in seconds, waiting included (default 120)")
    pod.add_argument(
        "--node-resolver-files",
        action="store_true",
        help="mount the node's /etc/resolv.conf and /run/systemd/resolve/ read-only (hostPath) and read them, so "
        "the node's real upstreams are shown; hostPath needs Pod Security privileged: the pods run in "
        "aksdiag-host-network",
    )
    pod.add_argument("--cleanup", action="store_true", help="delete the pods earlier runs left behind, and stop")
    _add_kube(pod)
    _add_azure(
        pod,
        "With a cluster, aksdiag reads its VNet's DNS servers from Azure Resource Manager here, on this machine, "
        "and passes each to the pod's `dns` as --vnet-dns (unless ARGS give --vnet-dns or --server): what the node "
        "resolves is then compared with them (DNS036). For `-- egress`, the endpoints the cluster needs, its API "
        "server's name and its region are read here and passed as --endpoint, --api-server and --region. The pod "
        "itself gets no Azure credential. Credentials: "
        "AKSDIAG_ARM_TOKEN, else DefaultAzureCredential (az login, managed identity, workload identity).",
    )
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

    fleet = sub.add_parser(
        "fleet",
        help="every cluster the identity can read, judged at once through Azure Resource Graph",
        description=FLEET_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_fleet_args(fleet)

    lab_cli.add_parser(sub, _Parser)

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
        "--vnet-dns",
        action="append",
        default=[],
        metavar="IP[:PORT]",
        help="the VNet's DNS servers as Azure has them (repeatable): the servers this host's resolver should be "
        "using; a resolver that uses others is DNS036. Without --server these are also the custom servers to test. "
        "`aksdiag pod --cluster …` passes them from Azure",
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


def _add_fleet_args(p: argparse.ArgumentParser) -> None:
    scope = p.add_argument_group("scope (default: every subscription the identity can list)")
    scope.add_argument("--subscription", action="append", default=[], metavar="ID",
                       help="a subscription to search (a GUID; repeatable)")  # fmt: skip
    scope.add_argument("--management-group", action="append", default=[], metavar="MG",
                       help="a management group to search, with every subscription under it (repeatable)")  # fmt: skip
    scope.add_argument("--all-subscriptions", action="store_true",
                       help="every subscription the identity can list (the default, said explicitly)")  # fmt: skip
    p.add_argument("--filter", metavar="KQL", default="",
                   help="which clusters: FIELD OP 'VALUE' joined by `and`, e.g. \"tags['env'] == 'prod'\" or "
                   "\"name startswith 'aks-'\" (FIELD: name, resourceGroup, location, subscriptionId, tags['KEY']; "
                   "OP: ==, =~, !=, !~, startswith, endswith, contains, !contains, has)")  # fmt: skip
    p.add_argument("--tui", action="store_true", help="show the fleet in the terminal UI (clusters x status)")
    p.add_argument("--cloud", choices=("AzureCloud", "AzureChinaCloud", "AzureUSGovernment"), default=None,
                   help="which Azure cloud's ARM endpoint to read (env AKSDIAG_ARM_ENDPOINT sets any other)")  # fmt: skip
    p.add_argument("--timeout", default=None, metavar="SECONDS",
                   help="how long one HTTP read may wait (default 2)")  # fmt: skip
    p.add_argument("--deadline", default=None, metavar="SECONDS",
                   help="the whole run's one deadline, every query, GET and retry included (default 60)")  # fmt: skip
    p.add_argument("--output", "-o", choices=("text", "json", "markdown"), default="text",
                   help="text for people, json for pipelines (aksdiag.fleet/v1), markdown for tickets")  # fmt: skip
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show tracebacks of internal errors")  # fmt: skip


def _add_egress_args(p: argparse.ArgumentParser, more: str = "") -> None:
    p.add_argument("--endpoint", action="append", default=[], metavar="NAME[:PORT]",
                   help="an endpoint of your own to test beside the cluster's (a registry, a proxy; repeatable; "
                   f"port 443 by default){more}")  # fmt: skip


def _add_kube(p: argparse.ArgumentParser) -> None:
    """--kubeconfig and --context (in a pod without them: the pod's service account)."""
    p.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    p.add_argument("--context", metavar="NAME", help="kubeconfig context (default: current-context)")


def _add_azure(p: argparse.ArgumentParser, about: str | None = None) -> None:
    group = p.add_argument_group(
        "Azure context (read-only)",
        about
        or "With a cluster, aksdiag reads it from Azure Resource Manager: its private FQDN, VNet DNS servers, private "
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


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout",
        default=None,
        metavar="SECONDS",
        help="how long one question may wait — a DNS query, a TCP connect, a TLS handshake, an HTTP read; they are "
        "sent at once, so a dead server costs this once (default 2)",
    )
    p.add_argument(
        "--deadline",
        default=None,
        metavar="SECONDS",
        help="the whole run's one deadline: every round of every source stops there, Azure and Kubernetes reads "
        "with their retries included; what has not answered by then is reported as not seen (default 30)",
    )
    p.add_argument(
        "--output",
        "-o",
        choices=("text", "json", "markdown"),
        default="text",
        help="text for people, json for pipelines (aksdiag.report/v1), markdown for tickets",
    )
