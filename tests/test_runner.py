"""The one engine: probes run at once and stream as they finish; a read two probes need is fetched once; one probe
can be cancelled; one deadline bounds the run; a broken probe or source stops no other; one exit-code policy.

The probes here are small Probe values (the interface every probe module fills); facts come through the FactSource
interface the snapshot source also fills. The last tests run the real DNS source against the lab's servers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from aksdiag import codes, runner
from aksdiag.errors import AksdiagError
from aksdiag.exitcodes import ExitCode, exit_code_for
from aksdiag.model import Report, Status
from aksdiag.plan import Plan
from aksdiag.probe import Judgement, Probe, Skip
from aksdiag.settings import Settings


@dataclass(frozen=True)
class Need:
    name: str


class Source:
    """Answers Need(name) with name.upper() after `delays[name]` seconds (forever when None); counts each ask."""

    def __init__(self, delays: dict[str, float | None] | None = None, fail: str = "") -> None:
        self.delays = delays or {}
        self.fail = fail
        self.asked: list[str] = []

    async def __call__(self, needs: Iterable[Hashable], settings: Settings, deadline: float) -> dict[Hashable, Any]:
        needs = list(needs)
        self.asked += [n.name for n in needs]  # type: ignore[attr-defined]  # the test's own Need
        for n in needs:
            if n.name == self.fail:  # type: ignore[attr-defined]
                raise AksdiagError("no credential", "run az login")
        waits = [self.delays.get(n.name, 0.0) for n in needs]  # type: ignore[attr-defined]
        if any(w is None for w in waits):
            await asyncio.Event().wait()
        await asyncio.sleep(max(waits, default=0.0))  # type: ignore[type-var, arg-type]
        return {n: n.name.upper() for n in needs}  # type: ignore[attr-defined]


def probe(pid: str, *needs: str, then: tuple[str, ...] = (), skip: str = "", boom: bool = False, **kw: Any) -> Probe:
    """A probe that needs `needs`, then (once those are known) `then`; it finds DNS001 when it saw "BAD"."""

    def plan(target: str, settings: Settings, facts: Any) -> list[Hashable]:
        if skip:
            raise Skip(skip)
        if boom:
            raise RuntimeError("bug in the probe")
        first = [Need(n) for n in needs]
        if all(n in facts for n in first):
            return first + [Need(n) for n in then]
        return first

    def judge(target: str, settings: Settings, facts: Any) -> Judgement:
        seen = {facts[Need(n)] for n in (*needs, *then)}
        fields = {"server": "10.1.0.4", "outcome": "NXDOMAIN", "name": target, "azure_view": "Azure DNS answered",
                  "note": "", "zone": "z", "forward_to": "168.63.129.16", "server_host": "10.1.0.4", "remediation": "fix", "command": "do"}  # fmt: skip
        found = (codes.DNS001.at(pid, **fields),) if "BAD" in seen else ()
        return Judgement(findings=found, facts={"seen": sorted(seen)})

    return Probe(pid, pid.title(), (), plan, judge, **kw)


def plan_of(*probes: Probe, source: Any, command: str = "check", **settings: Any) -> Plan:
    return Plan(command, "aks.example", Settings(**settings), tuple(probes), source=source)


def test_results_stream_as_each_probe_finishes_and_the_report_keeps_plan_order() -> None:
    source = Source({"slow": 0.4, "fast": 0.0})
    streamed: list[str] = []
    report = runner.run(
        plan_of(probe("a", "slow"), probe("b", "fast"), source=source), lambda r: streamed.append(r.probe)
    )
    assert streamed == ["b", "a"]
    assert [p.probe for p in report.probes] == ["a", "b"]


def test_a_read_two_probes_need_is_fetched_once() -> None:
    source = Source({"shared": 0.2})
    report = runner.run(plan_of(probe("a", "shared", "own-a"), probe("b", "shared"), source=source))
    assert sorted(source.asked) == ["own-a", "shared"]
    assert {p.probe: p.facts["seen"] for p in report.probes} == {"a": ["OWN-A", "SHARED"], "b": ["SHARED"]}


def test_a_later_round_asks_for_what_depends_on_an_earlier_fact() -> None:
    source = Source()
    (result,) = runner.run(plan_of(probe("a", "first", then=("second",)), source=source)).probes
    assert source.asked == ["first", "second"] and result.facts["seen"] == ["FIRST", "SECOND"]


def test_cancel_one_probe_the_others_finish_and_keep_their_shared_read() -> None:
    source = Source({"shared": 0.3, "forever": None})
    plan = plan_of(probe("b", "shared"), probe("a", "shared", "forever"), source=source)  # b asks for shared first
    engine = runner.Run(plan)
    threading.Timer(0.1, engine.cancel, ["a"]).start()
    results = {r.probe: r for r in asyncio.run(asyncio.wait_for(engine.stream(), 10))}
    assert results["a"].status is Status.SKIPPED and results["a"].reason == runner.CANCELLED
    assert results["b"].status is Status.OK and results["b"].facts["seen"] == ["SHARED"]


def test_one_deadline_bounds_the_run_and_names_what_did_not_answer() -> None:
    source = Source({"forever": None})

    async def bounded(needs: Iterable[Hashable], settings: Settings, deadline: float) -> dict[Hashable, Any]:
        left = deadline - time.monotonic()
        try:
            return await asyncio.wait_for(source(needs, settings, deadline), left)
        except asyncio.TimeoutError:
            raise runner.DeadlinePassed(f"the run's deadline ({settings.deadline:g} s) passed") from None

    started = time.monotonic()
    results = {
        r.probe: r
        for r in runner.run(plan_of(probe("a", "forever"), probe("b", "quick"), source=bounded, deadline=0.5)).probes
    }
    assert time.monotonic() - started < 5, "the run outlived its 0.5 s deadline by far"
    assert results["a"].status is Status.ERROR and "deadline (0.5 s)" in (results["a"].reason or "")
    assert results["b"].status is Status.OK


def test_a_broken_probe_or_a_probe_that_cannot_run_stops_no_other() -> None:
    source = Source()
    report = runner.run(
        plan_of(probe("a", "x", boom=True), probe("b", "x", skip="no Azure context"), probe("c", "x"), source=source)
    )
    status = {p.probe: (p.status, p.reason) for p in report.probes}
    assert status["a"] == (Status.ERROR, "RuntimeError: bug in the probe")
    assert status["b"] == (Status.SKIPPED, "no Azure context")
    assert status["c"] == (Status.OK, None)


def test_a_source_that_says_what_to_do_stops_the_run() -> None:
    with pytest.raises(AksdiagError, match="no credential"):
        runner.run(plan_of(probe("a", "token"), probe("b", "x"), source=Source(fail="token")))


def test_a_probe_optional_in_a_command_is_left_out_there_and_shown_skipped_elsewhere() -> None:
    zone = probe("zone", "x", skip="no Azure context", optional_in=("dns",))
    chain = probe("chain", "x")
    in_dns = runner.run(plan_of(chain, zone, source=Source(), command="dns"))
    in_check = runner.run(plan_of(chain, zone, source=Source(), command="check"))
    assert [p.probe for p in in_dns.probes] == ["chain"]
    assert [(p.probe, p.status) for p in in_check.probes] == [("chain", Status.OK), ("zone", Status.SKIPPED)]


def test_skips_the_plan_names_are_reported_before_anything_is_asked() -> None:
    source = Source()
    plan = replace(plan_of(probe("a", "x"), probe("b", "y"), source=source), skip={"a": "the lab has no API server"})
    report = runner.run(plan)
    assert source.asked == ["y"]
    assert next((p.probe, p.status, p.reason) for p in report.probes) == (
        "a",
        Status.SKIPPED,
        "the lab has no API server",
    )


@pytest.mark.parametrize(
    ("needs", "boom", "code"),
    [
        (("BAD",), False, ExitCode.FINDINGS),
        (("ok",), True, ExitCode.CANNOT_RUN),  # a probe broke and nothing is an error: not a clean bill of health
        (("ok",), False, ExitCode.OK),
    ],
)
def test_one_exit_code_policy(needs: tuple[str, ...], boom: bool, code: ExitCode) -> None:
    source = Source()
    probes = [probe("a", *needs), probe("b", "ok", boom=boom)]
    report = runner.run(plan_of(*probes, source=source))
    assert exit_code_for(report) is code


def test_findings_win_over_a_broken_probe() -> None:
    report = runner.run(plan_of(probe("a", "BAD"), probe("b", "x", boom=True), source=Source()))
    assert exit_code_for(report) is ExitCode.FINDINGS


def test_an_empty_report_is_ok() -> None:
    assert exit_code_for(Report(command="dns", target="x", probes=(), elapsed_ms=0.0)) is ExitCode.OK


def test_the_deadline_holds_a_dead_dns_server_whatever_the_timeout(start_world) -> None:
    """The real DNS source: --timeout 5 --deadline 1 on a dead server ends at the deadline, not the timeout."""
    world = start_world("dead-server")
    settings = world.settings(timeout=5.0, deadline=1.0)
    started = time.monotonic()
    report = runner.run(Plan.of("dns", world.scenario.fqdn, settings, ["dns_chain"]))
    assert time.monotonic() - started < 4, "a 5 s timeout outlived the 1 s deadline"
    assert "DNS005" in {f.id for f in report.findings}
