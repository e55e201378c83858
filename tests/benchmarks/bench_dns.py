"""Benchmark: `aksdiag dns` on the healthy lab served by BIND 9, against the same queries made with `dig`
one after another, and the dead-server case with --timeout 1 (budget < 1.3 s in total).

Loopback only: every server is a lab server on 127.0.0.1. Run: python tests/benchmarks/bench_dns.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from aksdiag import runner
from aksdiag.lab import world as lab_world
from aksdiag.plan import Plan

ENV = {**os.environ, "AKSDIAG_RESOLVED_CONF": "/nonexistent"}


def cli_ms(args: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "aksdiag", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    return (time.perf_counter() - t0) * 1000, proc.returncode


def in_process_ms(world: lab_world.World, **overrides: object) -> float:
    t0 = time.perf_counter()
    runner.run(Plan.of("dns", world.scenario.fqdn, world.settings(**overrides), ["dns_chain"]))
    return (time.perf_counter() - t0) * 1000


def dig_ms(world: lab_world.World) -> float:
    """The queries aksdiag makes (each server over UDP and TCP, plus Azure DNS's SOA), one after another."""
    servers = list(dict.fromkeys([world.endpoints[r] for r in world.scenario.resolver] + [world.azure_dns]))
    commands = []
    for server in servers:
        for tcp in (False, True):
            commands.append(
                ["dig", f"@{server.host}", "-p", str(server.port), world.scenario.fqdn, "A", "+tries=1", "+time=2"]
                + (["+tcp"] if tcp else [])
            )
    commands.append(["dig", f"@{world.azure_dns.host}", "-p", str(world.azure_dns.port), world.scenario.fqdn, "SOA"])
    t0 = time.perf_counter()
    for c in commands:
        subprocess.run(c, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t0) * 1000


def report(label: str, times: list[float]) -> None:
    print(f"{label:<58} median {statistics.median(times):7.1f} ms  min {min(times):7.1f}  max {max(times):7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    backend = "bind" if shutil.which("named") or os.path.exists("/usr/sbin/named") else "python"
    print(f"lab backend: {backend}; {runs} runs each")
    with tempfile.TemporaryDirectory() as tmp, lab_world.start("healthy", backend, tmp) as world:
        args = world.dns_args()
        report("aksdiag dns, healthy lab (CLI wall time, incl. start-up)", [cli_ms(args)[0] for _ in range(runs)])
        report("aksdiag dns, healthy lab (in process: queries + verdict)", [in_process_ms(world) for _ in range(runs)])
        if shutil.which("dig"):
            report("dig, the same 5 queries one after another", [dig_ms(world) for _ in range(runs)])
        else:
            print("dig not installed (apt-get install bind9-dnsutils): comparison skipped")
    with tempfile.TemporaryDirectory() as tmp, lab_world.start("dead-server", "python", tmp) as world:
        args = [*world.dns_args(), "--timeout", "1"]
        times = [cli_ms(args)[0] for _ in range(max(3, runs // 3))]
        report("aksdiag dns, a dead nameserver, --timeout 1 (budget 1300)", times)
        report("  the same in process (one timeout: ~1000)", [in_process_ms(world, timeout=1.0) for _ in range(3)])


if __name__ == "__main__":
    main()
