"""`aksdiag pod`: flags → plan → run → one report on stdout, progress on stderr, the exit code.

Exit codes by the one policy (exitcodes.exit_code_for): 1 when any pod's report has an error finding (the report is
there: something is broken), else 3 when a pod could not run (the `pod` probe is then an error: aksdiag could not
look there), else 0. A pod that could not be deleted is exit 3 naming it (pod.run.LeftBehind); SIGTERM or SIGHUP
deletes the run's pods, then exits 128 + the signal, as Ctrl-C exits 130. `--cleanup` deletes what earlier runs left
behind (exit 3 when it cannot).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import Any, TextIO

from aksdiag.errors import AksdiagError, UsageError
from aksdiag.exitcodes import ExitCode, exit_code_for
from aksdiag.pod import spec
from aksdiag.pod.run import PodOutcome, say


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> ExitCode:
    out, err = out or sys.stdout, err or sys.stderr
    from aksdiag.commands import validate

    validate.not_empty(args)
    validate.kube_names(args)
    if args.cleanup:
        if args.args and args.args != ["--"]:
            raise UsageError("--cleanup takes no command")
        return cleanup(_config(args), args.namespace, err)
    inner, inner_output = inner_args(args.args)
    output = args.output or inner_output or "text"
    from aksdiag.pod import nodeview

    read_azure = nodeview.check(args, inner)
    image = args.image or os.environ.get(spec.ENV_IMAGE)
    if not image:
        raise UsageError(
            "no image to run",
            f"build and push container/Dockerfile (README), then pass --image or set {spec.ENV_IMAGE}",
        )
    if args.node is not None and not args.node.strip():
        raise UsageError("--node needs a node name")
    egress = read_azure and inner[0] == "egress"
    vnet_dns = nodeview.vnet_dns_from_azure(args, err) if read_azure and not egress else ()
    if egress:
        from aksdiag.pod import egress as pod_egress

        inner = (*inner[:-2], *pod_egress.args_from_azure(args, err), *inner[-2:])
    plan = spec.PodPlan(
        image=image,
        namespace=args.namespace or spec.default_namespace(args.host_network, args.node_resolver_files),
        args=nodeview.pod_args(inner, vnet_dns, args.node_resolver_files, args.dns_policy, err),
        run_id=spec.new_run_id(),
        timeout=spec.parse_pod_timeout(args.timeout),
        host_network=args.host_network,
        dns_policy=args.dns_policy,
        node_resolver_files=args.node_resolver_files,
    )
    from aksdiag.pod import merge
    from aksdiag.pod import run as pod_run
    from aksdiag.render import render

    try:
        outcomes = pod_run.execute(_config(args), plan, args.node, args.all_nodes, err)
    except pod_run.Terminated as e:
        say(err, f"terminated by {signal.Signals(e.signum).name}")
        raise SystemExit(128 + e.signum) from None
    if not args.all_nodes:
        outcome = outcomes[0]
        if not outcome.ran:
            raise AksdiagError(
                f"the pod {plan.namespace}/{outcome.pod} on {outcome.node} could not run: {outcome.error}",
                _hint(outcome, plan),
            )
        report = merge.single(plan, outcome)
        render(report, output, out)
        return exit_code_for(report)
    report = merge.merged(plan, outcomes)
    render(report, output, out)
    if output == "text":
        out.write(f"\nNodes × findings\n{merge.matrix_text(outcomes)}\n")
    elif output == "markdown":
        out.write(f"\n## Nodes × findings\n\n```\n{merge.matrix_text(outcomes)}\n```\n")
    failed = [o for o in outcomes if o.could_not_run]
    ran = sum(1 for o in outcomes if o.ran)
    say(err, f"{ran} of {len(outcomes)} nodes ran aksdiag {plan.command}; verdict {report.verdict.value}")
    for o in failed:
        say(err, f"{o.node}: could not run: {o.error}")
    return exit_code_for(report)  # the `pod` probe is an error when a pod could not run: exit 3 unless broken


def inner_args(raw: list[str]) -> tuple[tuple[str, ...], str | None]:
    """The pod's aksdiag arguments (checked here, so a typo fails before a pod exists) and any --output in them.

    The pod always prints JSON (`--output json` is appended); an --output among ARGS is what the user wants to
    see, so it is taken out and returned to become the local output format.
    """
    from aksdiag.cli import build_parser
    from aksdiag.render import FORMATS

    args = raw[1:] if raw[:1] == ["--"] else list(raw)
    if not args:
        raise UsageError("no command to run in the pod", "e.g. `aksdiag pod -- dns aks-x.<guid>.privatelink…`")
    if args[0] in spec.NOT_IN_A_POD or args[0].startswith("-"):
        raise UsageError(f"`aksdiag {args[0]}` cannot run in the pod", "run a probe: dns, apiserver, whois, check…")
    kept, output, i = [], None, 0
    while i < len(args):
        arg = args[i]
        if arg in ("--output", "-o") and i + 1 < len(args):
            output, i = args[i + 1], i + 2
            continue
        if arg.startswith("--output="):
            output = arg.split("=", 1)[1]
        else:
            kept.append(arg)
        i += 1
    kept += ["--output", "json"]
    from aksdiag.commands import validate

    try:
        parsed = build_parser().parse_args(kept)
        validate.flags(parsed.command, parsed)  # the command's own checks, before a pod exists
        if getattr(parsed, "watch", None) is not None:
            raise UsageError(
                "--watch cannot run in the one-shot pod (it would watch until the pod's deadline, unseen)",
                "run `aksdiag pod -- dns …` again after the fix, or watch from a jump box: `aksdiag dns FQDN --watch`",
            )
    except UsageError as e:
        raise UsageError(f"in the pod's command `aksdiag {' '.join(args)}`: {e.message}", e.hint) from None
    except SystemExit:
        raise UsageError(f"`aksdiag {' '.join(args)}` is not a command to run in the pod") from None
    if output is not None and output not in FORMATS:
        raise UsageError(f"--output {output!r} is not one of {', '.join(FORMATS)}")
    return tuple(kept), output


def _hint(outcome: PodOutcome, plan: spec.PodPlan) -> str:
    if "Image" in outcome.reason or "image" in outcome.error:
        return f"check --image {plan.image} and that the nodes may pull from its registry (az aks check-acr)"
    if outcome.exit_code == 2:
        return "aksdiag in the pod refused its arguments: is the image the same version as this aksdiag?"
    if "did not finish" in outcome.error or outcome.reason == "DeadlineExceeded":
        return "raise --timeout, or look at the node: kubectl describe node"
    return f"kubectl get events -n {plan.namespace} may say more"


def _config(args: argparse.Namespace) -> Any:
    from aksdiag.sources import kubeconfig

    if not (args.kubeconfig or args.context) and os.environ.get("KUBERNETES_SERVICE_HOST"):
        found = kubeconfig.in_cluster()
        if found is not None:
            return found
    return kubeconfig.load(args.kubeconfig, args.context)


def cleanup(config: Any, namespace: str | None, err: TextIO) -> ExitCode:
    """Delete every pod labelled managed-by=aksdiag: in all namespaces, or in one when listing all is refused."""
    from aksdiag.pod.client import ApiError, KubeApi
    from aksdiag.pod.run import LeftBehind, delete_pods

    selector = f"{spec.MANAGED_BY}={spec.APP}"

    async def leftovers() -> list[dict[str, Any]]:
        async with KubeApi(config) as api:
            if namespace:
                return (await api.pods(namespace, selector))[0]
            try:
                return (await api.pods("", selector))[0]
            except ApiError as e:
                if e.status != 403:
                    raise
            found = []  # listing all namespaces is refused: aksdiag's own two, each as far as it may be listed
            for ns in (spec.DEFAULT_NAMESPACE, spec.HOST_NETWORK_NAMESPACE):
                try:
                    found += (await api.pods(ns, selector))[0]
                except ApiError as e:
                    if e.status not in (403, 404) or ns == spec.DEFAULT_NAMESPACE:
                        raise
            return found

    pods = asyncio.run(leftovers())
    if not pods:
        say(err, "no pods of earlier runs left")
        return ExitCode.OK
    by_namespace: dict[str, list[str]] = {}
    for pod in pods:
        meta = pod["metadata"]
        by_namespace.setdefault(meta.get("namespace", ""), []).append(meta["name"])
        say(
            err,
            f"deleting {meta.get('namespace')}/{meta['name']} (run {(meta.get('labels') or {}).get(spec.RUN_LABEL)})",
        )
    left = {ns: delete_pods(config, ns, names, err) for ns, names in by_namespace.items()}
    for ns, names in left.items():
        if names:
            raise LeftBehind(ns, names)
    return ExitCode.OK
