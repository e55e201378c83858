"""One `aksdiag pod` run: pick the nodes, create the pods, wait for them by watch, read their reports, and always
delete them — on success, failure, timeout, a refused request, Ctrl-C, SIGTERM and SIGHUP (what CI systems and
`timeout` send). A delete that fails is not a quiet success: the run ends with exit 3 naming the pods left.

Waiting is list-then-watch, as informers do: one list of the run's pods (by its run-id label) gives the state and a
resourceVersion, one watch from there streams every change of every pod of the run (Kubernetes does the fan-out;
aksdiag holds one connection however many nodes). A stream the server ends is resumed from the last version seen;
a version too old for the server (410) starts over with a list. A pod stuck on an image it cannot pull is given up
at once (ImagePullBackOff), not at the deadline.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from aksdiag.errors import AksdiagError, UsageError
from aksdiag.model import SCHEMA
from aksdiag.pod import spec
from aksdiag.pod.client import ApiError, KubeApi

GIVE_UP = {"ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError",
           "CreateContainerError", "RunContainerError"}  # fmt: skip
"""Waiting reasons that will not clear by themselves: the pod is given up on at once."""


@dataclass
class PodOutcome:
    """What became of the pod on one node."""

    node: str
    pool: str
    pod: str
    phase: str = "Pending"
    reason: str = ""
    """The container's waiting or terminated reason, or the pod's (DeadlineExceeded)."""
    message: str = ""
    exit_code: int | None = None
    report: dict[str, Any] | None = None
    """The pod's aksdiag.report/v1, when it printed one (exit 0 or 1)."""
    error: str = ""
    """Why there is no report."""
    skipped: str = ""
    """Why no pod was created on this node (not Ready, not Linux)."""
    done: bool = False
    finished: float | None = None
    """time.monotonic() when it was seen done."""
    elapsed_ms: float = 0.0
    log: str = field(default="", repr=False)

    @property
    def ran(self) -> bool:
        return self.report is not None

    @property
    def could_not_run(self) -> bool:
        return not self.ran and not self.skipped


def say(err: TextIO, text: str) -> None:
    print(f"aksdiag pod: {text}", file=err, flush=True)


TERMINATING = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end a run as Ctrl-C does: its pods are deleted first (SIGINT is Python's KeyboardInterrupt)."""


class Terminated(KeyboardInterrupt):
    """A SIGTERM or SIGHUP ended the run; the process exits 128 + `signum`, as a shell reports a killed command.

    A KeyboardInterrupt, because asyncio lets only that (and SystemExit) out of a transport or a callback: any
    other exception raised there by the signal handler would be taken for a broken connection and swallowed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class LeftBehind(AksdiagError):
    """Pods of the run could not be deleted: exit 3, naming them and how to remove them."""

    def __init__(self, namespace: str, names: list[str]) -> None:
        listed = " ".join(names)
        super().__init__(
            f"could not delete {len(names)} pod{'s' if len(names) != 1 else ''} of this run in namespace "
            f"{namespace}: {', '.join(names)}",
            f"remove {'them' if len(names) != 1 else 'it'} with `aksdiag pod --cleanup --namespace {namespace}` "
            f"or `kubectl delete pod -n {namespace} {listed}`",
        )
        self.namespace, self.names = namespace, names


class _Signals:
    """While active, SIGTERM and SIGHUP raise Terminated; once `hold()` is called (the deletes are running) they
    are only noted, so nothing cuts the deletes short, and `release()` raises the first one noted."""

    def __init__(self) -> None:
        self.raising = True
        self.held: list[int] = []
        self.signalled = False

    def handler(self, signum: int, frame: object) -> None:
        self.signalled = True
        if self.raising:
            self.raising = False  # one Terminated per run: a second signal while it unwinds waits for the deletes
            raise Terminated(signum)
        self.held.append(signum)

    def hold(self) -> None:
        self.raising = False

    def release(self) -> None:
        if self.held:
            raise Terminated(self.held[0])


@contextmanager
def terminating_signals() -> Iterator[_Signals]:
    """SIGTERM and SIGHUP end the block as Ctrl-C does (Terminated), until `hold()`. Once one came, the handler
    stays: the process is on its way out, and a second signal must not kill it before it says how it ended."""
    signals = _Signals()
    previous = {s: signal.signal(s, signals.handler) for s in TERMINATING}
    try:
        yield signals
    finally:
        if not signals.signalled:
            for s, old in previous.items():
                signal.signal(s, old)


def execute(
    config: Any, plan: spec.PodPlan, node: str | None, all_nodes: bool, err: TextIO = sys.stderr
) -> list[PodOutcome]:
    """Run the plan's pods and return what became of each; the pods are deleted before this returns or raises.

    Raises Terminated on SIGTERM/SIGHUP (after the deletes), LeftBehind when a delete failed."""
    planned: list[str] = []
    with terminating_signals() as signals:
        try:
            outcomes = asyncio.run(_run(config, plan, node, all_nodes, planned, err))
        finally:
            signals.hold()
            left = delete_pods(config, plan.namespace, planned, err) if planned else []
            signals.release()
    if left:
        raise LeftBehind(plan.namespace, left)
    return outcomes


def delete_pods(config: Any, namespace: str, names: list[str], err: TextIO) -> list[str]:
    """Delete the named pods (already gone is fine) and return the names that could not be deleted, each said on
    `err` with why; never raises (but Ctrl-C)."""

    async def delete_all() -> list[bool | BaseException]:
        async with KubeApi(config) as api:
            return await asyncio.gather(*(api.delete_pod(namespace, n) for n in names), return_exceptions=True)

    try:
        results = asyncio.run(delete_all())
    except (AksdiagError, OSError) as e:
        results = [e] * len(names)
    except KeyboardInterrupt:
        say(err, f"interrupted while deleting: `aksdiag pod --cleanup` removes {', '.join(names)}")
        raise
    failed = [(n, r) for n, r in zip(names, results, strict=True) if isinstance(r, BaseException)]
    deleted = sum(1 for r in results if r is True)
    if deleted:
        say(err, f"deleted {deleted} pod{'s' if deleted != 1 else ''} in namespace {namespace}")
    for name, why in failed:
        say(err, f"could not delete {namespace}/{name}: {why}")
    return [name for name, _ in failed]


async def _run(
    config: Any, plan: spec.PodPlan, node: str | None, all_nodes: bool, planned: list[str], err: TextIO
) -> list[PodOutcome]:
    async with KubeApi(config) as api:
        outcomes = await _targets(api, plan, node, all_nodes)
        runs = [o for o in outcomes if not o.skipped]
        for o in outcomes:
            if o.skipped:
                say(err, f"skipping {o.node}: {o.skipped}")
        if not runs:
            raise AksdiagError("no node can run the pod", "every node is skipped (above)")
        planned += [o.pod for o in runs]
        started = time.monotonic()
        manifests = [spec.pod_manifest(plan, o.node, i if all_nodes else None) for i, o in enumerate(runs)]
        results = await asyncio.gather(*(api.create_pod(m) for m in manifests), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        if len(runs) == 1:
            say(err, f"created {plan.namespace}/{runs[0].pod} on {runs[0].node}, waiting…")
        else:
            say(err, f"created {len(runs)} pods (run {plan.run_id}) in namespace {plan.namespace}, waiting…")
        await _wait(api, plan, {o.pod: o for o in runs}, started + plan.timeout)
        await asyncio.gather(*(_read_report(api, plan, o) for o in runs if o.done))
        for o in runs:
            o.elapsed_ms = ((o.finished or time.monotonic()) - started) * 1000
            if not o.done:
                state = f"{o.phase}, {o.reason}" if o.reason else o.phase
                o.error = f"did not finish within {plan.timeout:g} s (still {state})"
        return outcomes


async def _targets(api: KubeApi, plan: spec.PodPlan, node: str | None, all_nodes: bool) -> list[PodOutcome]:
    """The nodes to run on, each as a not-yet-run outcome (or a skipped one, for --all-nodes)."""
    if node:
        try:
            found = await api.node(node)
        except ApiError as e:
            if e.status == 404:
                raise UsageError(f"there is no node named {node!r}", "kubectl get nodes lists them") from None
            if e.status != 403:
                raise
            found = {}  # may not read nodes: run anyway, without the pool's name
        return [PodOutcome(node, spec.node_pool(found), plan.pod_name())]
    try:
        nodes = sorted(await api.nodes(), key=lambda n: n["metadata"]["name"])
    except ApiError as e:
        if e.status == 403 and not all_nodes:
            e.hint = f"{e.hint}; or name the node with --node"
        raise
    if not nodes:
        raise AksdiagError("the cluster has no nodes")
    if all_nodes:
        out: list[PodOutcome] = []
        for n in nodes:
            why = spec.runnable(n)
            index = sum(1 for o in out if not o.skipped)
            out.append(
                PodOutcome(n["metadata"]["name"], spec.node_pool(n), "" if why else plan.pod_name(index), skipped=why)
            )
        return out
    ready = [n for n in nodes if not spec.runnable(n)] or nodes
    untainted = [n for n in ready if not any(t.get("effect") in ("NoSchedule", "NoExecute")
                                             for t in (n.get("spec") or {}).get("taints") or [])]  # fmt: skip
    chosen = (untainted or ready)[0]
    return [PodOutcome(chosen["metadata"]["name"], spec.node_pool(chosen), plan.pod_name())]


async def _wait(api: KubeApi, plan: spec.PodPlan, pods: dict[str, PodOutcome], deadline: float) -> None:
    """List, then watch from the list's version, until every pod is done or the deadline passes."""
    resource_version = ""
    while not all(o.done for o in pods.values()):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        if not resource_version:
            items, resource_version = await api.pods(plan.namespace, plan.selector)
            for item in items:
                _update(pods, item)
            continue
        try:
            resource_version = await asyncio.wait_for(_follow(api, plan, pods, resource_version, remaining), remaining)
        except asyncio.TimeoutError:
            return


async def _follow(api: KubeApi, plan: spec.PodPlan, pods: dict[str, PodOutcome], version: str, seconds: float) -> str:
    """Apply one watch stream's events; the version to resume from ("" after a 410: list again)."""
    async with aclosing(api.watch_pods(plan.namespace, plan.selector, version, seconds)) as events:
        async for event in events:
            obj = event.get("object") or {}
            if event.get("type") == "ERROR":
                return ""
            version = (obj.get("metadata") or {}).get("resourceVersion") or version
            if event.get("type") == "DELETED":
                _gone(pods, obj)
            elif event.get("type") in ("ADDED", "MODIFIED"):
                _update(pods, obj)
            if all(o.done for o in pods.values()):
                break
    return version


def _update(pods: dict[str, PodOutcome], pod: dict[str, Any]) -> None:
    outcome = pods.get((pod.get("metadata") or {}).get("name", ""))
    if outcome is None or outcome.done:
        return
    status = pod.get("status") or {}
    outcome.phase = status.get("phase") or "Pending"
    outcome.reason, outcome.message = status.get("reason") or "", status.get("message") or ""
    for c in status.get("containerStatuses") or []:
        state = c.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting:
            outcome.reason, outcome.message = waiting.get("reason") or "", waiting.get("message") or ""
        if terminated:
            outcome.reason = terminated.get("reason") or outcome.reason
            outcome.message = terminated.get("message") or outcome.message
            outcome.exit_code = terminated.get("exitCode")
    if outcome.phase in ("Succeeded", "Failed"):
        outcome.done, outcome.finished = True, time.monotonic()
    elif outcome.phase == "Pending" and outcome.reason in GIVE_UP:
        outcome.done, outcome.finished = True, time.monotonic()
        outcome.error = f"could not start: {outcome.reason}: {outcome.message}".rstrip(": ")


def _gone(pods: dict[str, PodOutcome], pod: dict[str, Any]) -> None:
    outcome = pods.get((pod.get("metadata") or {}).get("name", ""))
    if outcome is not None and not outcome.done:
        outcome.done = True
        outcome.error = "the pod was deleted before it finished (by someone else, or node eviction)"


async def _read_report(api: KubeApi, plan: spec.PodPlan, outcome: PodOutcome) -> None:
    if outcome.error:
        return
    if outcome.exit_code is None:
        why = f"{outcome.reason}: {outcome.message}" if outcome.reason else outcome.phase
        outcome.error = f"{outcome.phase} before aksdiag ran ({why})"
        return
    try:
        outcome.log = await api.logs(plan.namespace, outcome.pod, spec.CONTAINER)
    except ApiError as e:
        outcome.error = f"the pod {outcome.phase.lower()} (exit {outcome.exit_code}) but its log is unreadable: {e}"
        return
    outcome.report = find_report(outcome.log)
    if outcome.report is None:
        last = next((line for line in reversed(outcome.log.splitlines()) if line.strip()), outcome.message)
        outcome.error = f"aksdiag exited {outcome.exit_code} without a report: {last.strip()[:300] or 'no output'}"


def find_report(log: str) -> dict[str, Any] | None:
    """The aksdiag.report/v1 document in a pod's log, where stderr lines may come before or after it."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        start = log.find("{", position)
        if start < 0:
            return None
        try:
            doc, end = decoder.raw_decode(log, start)
        except ValueError:
            position = start + 1
            continue
        if isinstance(doc, dict) and doc.get("schema") == SCHEMA:
            return doc
        position = end
