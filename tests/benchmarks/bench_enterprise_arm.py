"""Benchmark: the ARM reads of `aksdiag dns --cluster` in a landing zone (two subscriptions), with a fixed latency
per ARM request: wall time, requests, and the number of sequential rounds.

The rounds come from the fake ARM's own request log: a request's round is one more than the highest round among
the requests that had been answered before it arrived (the length of the longest chain of answer-then-ask). The
fake ARM runs in its own process (as ARM is not in ours), so its TLS and JSON work does not delay our requests;
`--in-process` serves it from a thread instead. Goal: at most 4 rounds and 1.5 s at 100 ms per request.

Loopback only. Run: python tests/benchmarks/bench_enterprise_arm.py [--world lz-healthy] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from typing import Any

from aksdiag.facts import AzureContext, AzureContextNeed
from aksdiag.lab import arm, armworld
from aksdiag.lab.armworld import landing


def serve(world_name: str, latency: float, conn: Any) -> None:
    """The fake ARM in a child process: sends (endpoint, ca_path), serves until told, sends the request log."""
    world = arm.ArmWorld()
    for body in armworld.build(world_name):
        world.add(body)
    world.faults = armworld.faults(world_name)
    with tempfile.TemporaryDirectory() as tmp, arm.FakeArm(world, tmp, latency_s=latency) as fake:
        conn.send((fake.endpoint, fake.ca_path))
        while conn.recv() == "log":
            conn.send([(r.method, r.path, r.status, r.started, r.ended) for r in fake.requests])
            fake.requests.clear()


def rounds(log: list[tuple[str, str, int, float, float]], verbose: bool = False) -> int:
    """The longest chain of requests each of which arrived after the one before it was answered."""
    ordered = sorted(log, key=lambda r: r[3])
    depth: list[int] = []
    for i, (_, _, _, started, _) in enumerate(ordered):
        depth.append(1 + max((depth[j] for j in range(i) if ordered[j][4] <= started), default=0))
    if verbose and ordered:
        t0 = ordered[0][3]
        for d, (method, path, status, started, ended) in zip(depth, ordered, strict=True):
            print(f"  {d}  {(started - t0) * 1000:6.0f} {(ended - t0) * 1000:6.0f} ms  {status} {method} {path[:110]}")
    return max(depth, default=0)


def fetch(endpoint: str) -> AzureContext:
    from aksdiag.sources import azure

    need = AzureContextNeed(landing.WORKLOAD, armworld.CLUSTER_RG, armworld.CLUSTER, endpoint)
    return asyncio.run(azure.fetch(need, deadline=time.monotonic() + 30))


def report(
    label: str, took: float, ctx: AzureContext, log: list[tuple[str, str, int, float, float]], verbose: bool
) -> None:
    gets = sum(1 for r in log if r[0] == "GET")
    print(f"{label:<28} {took * 1000:7.0f} ms  {len(log):3d} requests ({gets} GET)  {rounds(log, verbose)} rounds  "
          f"{len(ctx.errors)} read errors")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", default="lz-healthy")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--in-process", action="store_true", help="serve the fake ARM from a thread of this process")
    parser.add_argument("--verbose", action="store_true", help="each request with its round and times")
    parser.add_argument("--runs", type=int, default=5, help="warm runs after the cold one")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    if args.in_process:
        world = arm.ArmWorld()
        for body in armworld.build(args.world):
            world.add(body)
        world.faults = armworld.faults(args.world)
        tmp = tempfile.TemporaryDirectory()
        fake = arm.FakeArm(world, tmp.name, latency_s=latency)
        endpoint, ca_path = fake.endpoint, fake.ca_path

        def take_log() -> list[tuple[str, str, int, float, float]]:
            found = [(r.method, r.path, r.status, r.started, r.ended) for r in fake.requests]
            fake.requests.clear()
            return found
    else:
        parent, child = multiprocessing.Pipe()
        server = multiprocessing.get_context("fork").Process(target=serve, args=(args.world, latency, child))
        server.start()
        endpoint, ca_path = parent.recv()

        def take_log() -> list[tuple[str, str, int, float, float]]:
            parent.send("log")
            found: list[tuple[str, str, int, float, float]] = parent.recv()
            return found

    os.environ.update(AKSDIAG_ARM_TOKEN="bench", REQUESTS_CA_BUNDLE=ca_path)
    print(f"world {args.world}, {args.latency_ms:g} ms per ARM request, fake ARM "
          f"{'in this process' if args.in_process else 'in its own process'}")  # fmt: skip
    found: list[tuple[float, int]] = []
    for i in range(1 + args.runs):
        t0 = time.perf_counter()
        ctx = fetch(endpoint)
        took = time.perf_counter() - t0
        log = take_log()
        found.append((took, rounds(log)))
        report("cold (SDK imports included)" if i == 0 else f"warm {i}", took, ctx, log, args.verbose)
    warm = found[1:]
    if warm:
        walls, depths = sorted(t for t, _ in warm), sorted(d for _, d in warm)
        print(f"warm: best {walls[0] * 1000:.0f} ms, median {walls[len(walls) // 2] * 1000:.0f} ms; rounds best "
              f"{depths[0]}, median {depths[len(depths) // 2]}")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: a contended CPU spreads the requests of one "
          "round past the first answers, and the count of rounds grows with it")  # fmt: skip
    if args.in_process:
        fake.close()
        tmp.cleanup()
    else:
        parent.send("stop")
        server.join(5)


if __name__ == "__main__":
    main()
