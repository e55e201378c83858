"""Benchmark: `aksdiag dns --watch` on a healthy loopback chain, beside one plain `aksdiag dns` run — the issue's
bar: a watch costs no more than one chain per interval.

The lab's servers (pure Python, in this process) count every query they receive, by transport; aksdiag runs as a
child process, so its CPU time (user + system, from the child's rusage) is its own. The watch is stopped with
SIGINT (Ctrl-C) after `--rounds` intervals and says how many rounds it ran. Printed: queries received per second
and per round, against one plain run's, and CPU seconds per minute of watching (start-up included, and without
it: minus one plain run's CPU).

Loopback only. Run: python tests/benchmarks/watch.py [--interval 1] [--rounds 20] [--scenario healthy]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from aksdiag.lab import dnsserver
from aksdiag.lab import world as lab_world

ENV = {**os.environ, "AKSDIAG_RESOLVED_CONF": "/nonexistent"}
RECEIVED: Counter[str] = Counter()
"""Queries the lab's servers received, by transport (forwards between them included)."""


def count_queries() -> None:
    """Wrap every lab server's handler so it counts what it receives (this process serves the whole lab)."""
    add = dnsserver.LabServers.add

    def counting_add(self: dnsserver.LabServers, spec: dnsserver.ServerSpec, port: int | None = None) -> Any:
        inner = spec.handler

        async def handler(query: Any, transport: str) -> Any:
            RECEIVED[transport] += 1
            return await inner(query, transport)

        return add(self, replace(spec, handler=handler), port)

    dnsserver.LabServers.add = counting_add  # type: ignore[method-assign]


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plain(args: list[str]) -> tuple[float, float, int]:
    """One `aksdiag dns`: wall seconds, CPU seconds, queries received."""
    RECEIVED.clear()
    cpu, t0 = child_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "aksdiag", *args], stdout=subprocess.DEVNULL, env=ENV, check=False)
    return time.perf_counter() - t0, child_cpu() - cpu, sum(RECEIVED.values())


def watched(args: list[str], interval: float, rounds: int) -> tuple[float, float, int, int]:
    """`aksdiag dns --watch INTERVAL` stopped by SIGINT after `rounds` intervals: wall s, CPU s, queries, rounds."""
    RECEIVED.clear()
    cpu, t0 = child_cpu(), time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "aksdiag", *args, "--watch", str(interval)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    time.sleep(rounds * interval - interval / 2)  # mid-way through the last interval's sleep
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    wall = time.perf_counter() - t0
    done = re.search(r"stopped after (\d+) round", err)
    if done is None:
        sys.exit(f"the watch did not stop as expected (exit {child.returncode}):\n{err}")
    return wall, child_cpu() - cpu, sum(RECEIVED.values()), int(done[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--scenario", default="healthy")
    opts = parser.parse_args()
    count_queries()
    with tempfile.TemporaryDirectory() as tmp, lab_world.start(opts.scenario, "python", tmp) as world:
        args = world.dns_args()
        runs = [plain(args) for _ in range(3)]
        wall1, cpu1, q1 = (sorted(r[i] for r in runs)[1] for i in range(3))  # the median of 3
        print(f"scenario {opts.scenario} (pure-Python lab servers, in this process); aksdiag as a child process")
        print(f"one plain `aksdiag dns`:      {wall1:6.2f} s wall, {cpu1:5.2f} s CPU, {q1:.0f} queries received")
        wall, cpu, queries, done = watched(args, opts.interval, opts.rounds)
        per_round = queries / done
        print(f"`--watch {opts.interval:g}`, SIGINT after {opts.rounds} intervals: {done} rounds in {wall:.1f} s wall")
        print(f"  queries received:           {queries} = {per_round:.1f} per round ({per_round / q1:.2f}× one run)")
        print(
            f"  queries per second:         {queries / wall:.1f} over the wall time (start-up included), "
            f"{per_round / opts.interval:.1f} while watching; the bar, one chain per {opts.interval:g} s: "
            f"{q1 / opts.interval:.1f}"
        )
        print(f"  CPU:                        {cpu:.2f} s = {cpu / wall * 60:.2f} CPU s per minute of watching")
        print(
            f"  CPU without start-up:       {max(0.0, cpu - cpu1):.2f} s = {max(0.0, cpu - cpu1) / wall * 60:.2f} CPU s per minute"
        )
        print(f"  by transport:               {dict(RECEIVED)}")


if __name__ == "__main__":
    main()
