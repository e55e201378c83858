"""`aksdiag dns --watch`: the same plan round after round against the lab's relay worlds, the relay's clock moved on
by the watch's sleep (never slept): the custom server's answer changes first, the relay's when its cached NXDOMAIN
runs out, and the watch ends with the new verdict and its exit code; Ctrl-C ends it with the last one's.

Lines are matched by server and answer, not by hop kind: dns_chain's relay hop kinds are changing (issue 14).
"""

from __future__ import annotations

import io
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from aksdiag import commands
from aksdiag.cli import main
from aksdiag.cli.parser import build_parser
from aksdiag.cli.watch import one_round, watch
from aksdiag.exitcodes import ExitCode
from aksdiag.lab.scenarios import ENDPOINT_IP, FORWARD_ZONE
from aksdiag.plan import Plan

T0 = datetime(2026, 12, 1, 14, 0, 0, tzinfo=timezone.utc)
LINE = re.compile(r"^(\d\d:\d\d:\d\d)  (\S+)\s+(\S+)\s+(\S+)  TTL (\S+)$")


def plan_for(world: Any, *extra: str) -> tuple[Plan, float]:
    args = build_parser().parse_args([*world.dns_args(), *extra])
    return commands.plan("dns", args), args.watch


class Watched:
    """A watch over a frozen lab world: each sleep moves the world's clock on by the interval, and `at_sleep`
    changes the world before a given round (the engineer adds the forwarder)."""

    def __init__(self, world: Any, at_sleep: dict[int, Callable[[], None]] | None = None) -> None:
        self.world, self.at_sleep, self.sleeps = world, at_sleep or {}, []
        world.live.clock.freeze()
        self.err, self.out = io.StringIO(), io.StringIO()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        change = self.at_sleep.get(len(self.sleeps))
        if change is not None:
            change()
        self.world.live.clock.advance(self.interval)

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.world.live.clock.offset)

    def run(self, output: str = "text", interval: float = 10.0, rounds: int | None = 20) -> ExitCode:
        self.interval = interval
        plan, _ = plan_for(self.world)
        return watch(plan, output, interval, out=self.out, err=self.err, sleep=self.sleep, now=self.now, rounds=rounds)

    def lines(self) -> list[tuple[str, str, str, str]]:
        """(time, server, answer, ttl) of every hop-change line."""
        found = []
        for line in self.err.getvalue().splitlines():
            m = LINE.match(line)
            if m:
                found.append((m[1], m[3], m[4], m[5]))
        return found


def fixed(world: Any) -> Callable[[], None]:
    return lambda: world.add_forward("custom", FORWARD_ZONE, "azure")


def test_the_fix_shows_at_the_custom_server_first_then_at_the_relay_when_its_ttl_runs_out(start_world: Any) -> None:
    world = start_world("relay-cached-nxdomain")
    relay, custom = str(world.endpoints["coredns"]), str(world.endpoints["custom"])
    watched = Watched(world, {1: fixed(world)})  # the forwarder is added after the first round
    code = watched.run()
    lines = watched.lines()
    assert ("14:00:00", relay, "NXDOMAIN", "30") in lines, "the first round shows every hop: CoreDNS's cache 30"
    assert ("14:00:00", custom, "NXDOMAIN", "60") in lines
    assert ("14:00:10", custom, ENDPOINT_IP, "60") in lines, "the custom server gives the new answer at once"
    relay_fixed = [line for line in lines if line[1] == relay and line[2] == ENDPOINT_IP]
    assert relay_fixed == [("14:00:30", relay, ENDPOINT_IP, "30")], "the relay's only when its denial TTL ran out"
    assert lines.index(("14:00:10", custom, ENDPOINT_IP, "60")) < lines.index(relay_fixed[0])
    err = watched.err.getvalue()
    assert f"cached NXDOMAIN expires in 20 s (14:00:30 UTC), at {relay}" in err, err
    assert f"cached NXDOMAIN expires in 10 s (14:00:30 UTC), at {relay}" in err, err
    assert err.splitlines()[-1].endswith("→ ok"), "it ends when the verdict changed and no cache is counting down"
    assert code is ExitCode.OK
    assert len(watched.sleeps) == 3, "four rounds: 14:00:00, :10, :20, :30"
    assert "verdict OK" in watched.out.getvalue(), "the final report, once, on stdout"
    assert watched.out.getvalue().count("aksdiag dns") == 1


def test_a_world_never_fixed_is_watched_until_ctrl_c_with_the_last_verdict(start_world: Any) -> None:
    world = start_world("relay-cached-nxdomain")

    def interrupt() -> None:
        raise KeyboardInterrupt

    watched = Watched(world, {3: interrupt})
    code = watched.run(output="json", rounds=None)
    assert code is ExitCode.FINDINGS, "Ctrl-C: the last verdict's exit code (broken)"
    doc = json.loads(watched.out.getvalue())  # one report, not one per round
    assert doc["verdict"] == "broken"
    assert "stopped after 3 round(s)" in watched.err.getvalue()
    changed = [line for line in watched.lines() if line[0] != "14:00:00"]
    assert changed == [], "nothing changed, so no hop line after the first round"
    assert "custom DNS still answers NXDOMAIN (TTL 60 s" in watched.err.getvalue(), "not a cache counting down"


def test_a_healthy_world_raises_no_alarm_and_runs_one_chain_per_interval(start_world: Any) -> None:
    world = start_world("relay-healthy")
    watched = Watched(world)
    queries: list[int] = []

    def counted(plan: Plan) -> Any:
        report, facts = one_round(plan)
        queries.append(sum(type(n).__name__ == "DnsQuery" for n in facts))
        return report, facts

    watched.interval = 1.0
    plan, _ = plan_for(world)
    code = watch(plan, "text", 1.0, out=watched.out, err=watched.err, sleep=watched.sleep, now=watched.now,
                 run_round=counted, rounds=4)  # fmt: skip
    assert code is ExitCode.OK
    assert [line for line in watched.lines() if line[0] != "14:00:00"] == []
    assert "expires" not in watched.err.getvalue() and "still answers" not in watched.err.getvalue()
    assert len(watched.sleeps) == 3
    assert all(0 < s <= 1.0 for s in watched.sleeps), "the next round starts an interval after the last began"
    _, alone = one_round(plan)
    once = sum(type(n).__name__ == "DnsQuery" for n in alone)
    assert queries == [once] * 4, "each round asks what one plain run asks, no more"


def test_a_round_longer_than_the_interval_is_followed_at_once_never_overlapped(start_world: Any) -> None:
    world = start_world("relay-healthy")
    spans: list[tuple[float, float]] = []

    def slow_round(plan: Plan) -> Any:
        began = time.monotonic()
        time.sleep(0.6)
        found = one_round(plan)
        spans.append((began, time.monotonic()))
        return found

    plan, _ = plan_for(world)
    sleeps: list[float] = []
    watch(plan, "text", 0.5, out=io.StringIO(), err=io.StringIO(), sleep=sleeps.append, run_round=slow_round, rounds=3)
    assert sleeps == [0.0, 0.0]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), "rounds never overlap"


def test_ctrl_c_before_the_first_round_ends_as_any_interrupted_command(start_world: Any) -> None:
    world = start_world("relay-healthy")
    plan, _ = plan_for(world)

    def interrupted(plan: Plan) -> Any:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        watch(plan, "text", 1.0, out=io.StringIO(), err=io.StringIO(), run_round=interrupted)


def test_the_command_line_watches_until_the_fix_takes(start_world: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Through main(), real sleeps of 0.5 s: the forwarder added and CoreDNS's cache flushed while it watches."""
    world = start_world("relay-cached-nxdomain")

    def fix() -> None:
        time.sleep(0.8)
        world.add_forward("custom", FORWARD_ZONE, "azure")
        world.flush("coredns")

    fixer = threading.Thread(target=fix)
    fixer.start()
    try:
        code = main([*world.dns_args(), "--watch", "0.5", "--output", "json"])
    finally:
        fixer.join()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["verdict"] == "ok"
    assert "verdict broken → ok" in captured.err


WATCH_ARGS = {
    "zero": (["--watch", "0"], "out of bounds"),
    "too long": (["--watch", "7200"], "out of bounds"),
    "negative": (["--watch", "-1"], "out of bounds"),
    "not a number": (["--watch", "often"], "not a number of seconds"),
    "nan": (["--watch", "nan"], "out of bounds"),
}


@pytest.mark.parametrize("extra,says", WATCH_ARGS.values(), ids=WATCH_ARGS.keys())
def test_a_bad_interval_is_one_line_exit_2(extra: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dns", "x.example", *extra]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("aksdiag: error: ") and says in err, err


def test_watch_defaults_to_5_s_and_takes_the_name_after_it() -> None:
    parse = build_parser().parse_args
    assert parse(["dns", "x.example", "--watch"]).watch == 5.0
    assert parse(["dns", "x.example", "--watch", "2.5"]).watch == 2.5
    args = parse(["dns", "--watch", "x.example"])
    assert (args.fqdn, args.watch) == ("x.example", 5.0)
    assert parse(["dns", "x.example"]).watch is None


def test_watch_refuses_a_snapshot(tmp_path: Any, start_world: Any, capsys: pytest.CaptureFixture[str]) -> None:
    world = start_world("relay-healthy")
    snap = tmp_path / "snap.json"
    assert main(["snapshot", *world.dns_args()[1:]]) == 0
    snap.write_text(capsys.readouterr().out)
    assert main([*world.dns_args(), "--from", str(snap), "--watch", "1"]) == 2
    err = capsys.readouterr().err
    assert "snapshot (--from) never changes" in err and len(err.splitlines()) == 1


def _report(*hops: Any) -> Any:
    from aksdiag.model import ProbeResult, Report, Status

    return Report("dns", "x.example", (ProbeResult("dns_chain", Status.FAIL, 1.0, hops=hops),), 1.0)


def _hop(kind: str, server: str, answer: str, ttl: int | None = None) -> Any:
    from aksdiag.model import Hop, Status

    ips = () if answer == "NXDOMAIN" else (answer,)
    rcode = "NXDOMAIN" if answer == "NXDOMAIN" else "NOERROR"
    return Hop(1, kind, kind, Status.OK, server=server, rcode=rcode, answers=ips, ttl=ttl)


def test_ttls_come_from_the_facts_when_the_hop_has_none_and_a_repeated_ttl_is_no_countdown() -> None:
    from aksdiag import watch as seen
    from aksdiag.facts import DnsAnswer, DnsQuery, DnsResult, Endpoint, Outcome

    relay, custom = Endpoint("127.0.0.1", 5301), Endpoint("127.0.0.1", 5302)

    def facts(relay_ttl: int) -> dict[Any, Any]:
        found: dict[Any, Any] = {}
        for server, ttl in ((relay, relay_ttl), (custom, 60)):
            for transport, shift in (("udp", 0), ("tcp", 5)):  # UDP's answer is the one read
                query = DnsQuery(server, "x.example", transport=transport)
                found[query] = DnsResult(query, (DnsAnswer(Outcome.NXDOMAIN, "NXDOMAIN", ttl=ttl + shift),))
        return found

    hops = (_hop("coredns", str(relay), "NXDOMAIN"), _hop("custom-dns", str(custom), "NXDOMAIN"),
            _hop("azure-dns", "127.0.0.1:5303", ENDPOINT_IP, ttl=60))  # fmt: skip
    watcher = seen.Watcher(expect=(ENDPOINT_IP,))
    watcher.round(_report(*hops), facts(30), T0)
    assert watcher.before is not None and [h.ttl for h in watcher.before.values()] == [30, 60, 60]
    assert watcher.expiry and watcher.expiry.startswith("custom-dns still answers NXDOMAIN (TTL 60 s")
    lines = watcher.round(_report(*hops), facts(20), T0 + timedelta(seconds=10))
    assert lines == [], "nothing changed"
    assert watcher.expiry == f"coredns's cached NXDOMAIN expires in 20 s (14:00:30 UTC), at {relay}", (
        "the relay counts down; the custom server repeats its 60 s: not a cache about to expire"
    )
    assert watcher.draining and not watcher.ended
