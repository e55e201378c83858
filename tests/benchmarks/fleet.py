"""Benchmark: `aksdiag fleet` on the 1,000-cluster world (fleet-1000: 40 subscriptions, 4 hubs, 2,000 zones, 20,000
zone links) with a fixed latency per ARM request, beside `aksdiag check --cluster` run once per cluster.

The fake ARM (and its Resource Graph) serves the world from a child process, as ARM is not in ours; `aksdiag fleet
-o json` runs in another child process, as a user runs it: its wall time, peak RSS (os.wait4's rusage of that
process), the requests it counted by kind (the report's `requests`) and the requests the fake saw (GETs by what they
read, Resource Graph POSTs). Then `aksdiag check --cluster` on a sample of clusters, one after another, each a fresh
process: the mean, extrapolated to every cluster of the world (an estimate: it says so). Goal: fleet under 10 s and
400 MB at 50 ms per request.

The fake ARM's list pages hold `--page-size` resources (the lab's default is 2, to exercise paging in the tests; ARM
pages record sets and most lists by 100): at 2, the shared zone's ~190 A records are ~95 pages read one after
another, which measures the lab rather than aksdiag.

Loopback only. Run: python tests/benchmarks/fleet.py [--latency-ms 50] [--sample 10] [--world fleet-1000] [--profile PATH]
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from typing import Any


def _warm(world: Any) -> None:
    """Ask the fake's Resource Graph each fleet query once (its per-type rows and per-query results are built on
    first use) and one child list (its lookup index): the fleet run then meets a warm index, as it would Azure's."""
    from aksdiag.fleet.queries import fleet_queries
    from aksdiag.lab import armgraph

    subs = [str(b.get("subscriptionId") or "") for b in world.subscription_bodies()]
    for query in fleet_queries():
        armgraph.answer(world, {"subscriptions": subs, "query": query.text, "options": {"$top": 1000}})
    world.children("/subscriptions")


def serve(world_name: str, latency: float, page_size: int, conn: Any) -> None:
    """The fake ARM in a child process: sends (endpoint, ca_path, seconds to build and load the world), serves
    until told, on "log" sends the request log since the last one."""
    from aksdiag.lab import arm
    from aksdiag.lab.armworld import fleetworld

    started = time.perf_counter()
    arm.PAGE_SIZE = page_size
    world = arm.ArmWorld()
    for body in fleetworld.build(world_name):
        world.add(body)
    world.faults = fleetworld.faults(world_name)
    _warm(world)  # Resource Graph's index and ARM's lookups exist before anyone asks: build the fake's before timing
    loaded = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp, arm.FakeArm(world, tmp, latency_s=latency) as fake:
        conn.send((fake.endpoint, fake.ca_path, loaded))
        while conn.recv() == "log":
            conn.send([(r.method, r.path, r.status) for r in fake.requests])
            fake.requests.clear()


def kind(method: str, path: str) -> str:
    """What a request read, for the table."""
    p = path.lower()
    if method == "POST":
        return "Resource Graph query (POST)"
    if p.rstrip("/") == "/subscriptions":
        return "GET /subscriptions"
    if p.endswith("/a"):
        return "GET a zone's A records"
    if p.endswith("/forwardingrules"):
        return "GET a ruleset's rules"
    if p.endswith("/virtualnetworklinks"):
        return "GET links (a zone's, a ruleset's)"
    return "GET a resource or another list"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """(wall seconds, peak RSS in MB, the finished process) of one command."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(command, proc.returncode, out.read(), err.read())
    return wall, usage.ru_maxrss // 1024, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", default="fleet-1000")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--page-size", type=int, default=100, help="resources per list page of the fake ARM")
    parser.add_argument("--sample", type=int, default=10, help="clusters to run `check --cluster` on (0: none)")
    parser.add_argument("--profile", metavar="PATH", help="run the fleet process under cProfile, its stats to PATH, "
                        "and print the functions that took longest")  # fmt: skip
    args = parser.parse_args()

    from aksdiag.lab.armworld import fleetworld

    t0 = time.perf_counter()
    world = fleetworld.world(args.world)
    generated = time.perf_counter() - t0
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=serve, args=(args.world, args.latency_ms / 1000, args.page_size, child), daemon=True
    )
    server.start()
    endpoint, ca_path, loaded = parent.recv()

    def log() -> list[tuple[str, str, int]]:
        parent.send("log")
        found: list[tuple[str, str, int]] = parent.recv()
        return found

    env = dict(os.environ, AKSDIAG_ARM_ENDPOINT=endpoint, AKSDIAG_ARM_TOKEN="bench", REQUESTS_CA_BUNDLE=ca_path,
               AKSDIAG_LOOPBACK_ONLY="1")  # fmt: skip
    zones = sum(1 for b in world.bodies if str(b.get("type", "")).lower() == "microsoft.network/privatednszones")
    links = sum(
        1 for b in world.bodies if str(b.get("type", "")).lower().endswith("privatednszones/virtualnetworklinks")
    )
    print(f"world {args.world}: {len(world.clusters)} clusters, {len(world.subscriptions)} subscriptions, "
          f"{len(world.hubs)} hubs, {zones} zones, {links} zone links, {len(world.bodies)} bodies "
          f"(generated in {generated:.1f} s; the fake ARM loaded it in {loaded:.1f} s)")  # fmt: skip
    print(f"fake ARM in its own process, {args.latency_ms:g} ms per request, list pages of {args.page_size}\n")

    profiled = ["-m", "cProfile", "-o", args.profile] if args.profile else []
    wall, rss, done = timed([sys.executable, *profiled, "-m", "aksdiag", "fleet", "-o", "json"], env)
    seen = log()
    if not done.stdout.strip():
        sys.exit(f"aksdiag fleet printed nothing (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    found = {c["id"]: {f["id"] for f in c["report"]["findings"] if f["severity"] != "info"} for c in report["clusters"]}
    found = {k: v for k, v in found.items() if v}
    print(f"aksdiag fleet -o json: {wall:.2f} s wall, peak RSS {rss} MB, exit {done.returncode}, "
          f"{len(report['clusters'])} clusters judged, in process {report['elapsed_ms'] / 1000:.2f} s")  # fmt: skip
    print(f"  planted faults named exactly: {'yes' if found == world.planted else 'NO'} "
          f"({len(world.planted)} clusters planted, {len(found)} with findings)")  # fmt: skip
    counted = report.get("requests") or {}
    print("  requests as the report counts them: " + ", ".join(f"{k} {v}" for k, v in counted.items())
          + f" — {sum(counted.values()) / max(1, len(report['clusters'])):.2f} per cluster")  # fmt: skip
    print("  requests the fake ARM saw:")
    for what, n in collections.Counter(kind(m, p) for m, p, _ in seen).most_common():
        print(f"    {n:6d}  {what}")
    print(f"    {len(seen):6d}  in all ({sum(1 for _, _, s in seen if s >= 400)} answered 4xx/5xx)")
    for q in report.get("queries") or []:
        print(f"  query {q.get('name')}: {q.get('rows')} rows, {q.get('pages')} pages, {q.get('batches')} batches, "
              f"{q.get('elapsed_ms', 0):.0f} ms")  # fmt: skip
    for group in (report.get("groups") or [])[:8]:
        print(f"  {group['code']} on {len(group['clusters'])}: {group['cause'][:110]}")

    if args.profile:
        import pstats

        print(f"\nprofile ({args.profile}; its overhead roughly doubles the time):")
        pstats.Stats(args.profile, stream=sys.stdout).sort_stats("cumtime").print_stats(r"aksdiag|probes", 25)
    if args.sample:
        step = max(1, len(world.clusters) // args.sample)
        sample = world.clusters[::step][: args.sample]
        walls, requests = [], 0
        for cid in sample:
            p = cid.split("/")
            cmd = [sys.executable, "-m", "aksdiag", "check", "--subscription", p[2], "-g", p[4], "--cluster", p[8],
                   "--timeout", "1", "-o", "json"]  # fmt: skip
            took, _, _ = timed(cmd, env)
            walls.append(took)
            requests += len(log())
        mean = sum(walls) / len(walls)
        print(f"\naksdiag check --cluster, {len(sample)} clusters one after another: mean {mean:.2f} s, "
              f"{requests / len(sample):.0f} ARM requests each (min {min(walls):.2f} s, max {max(walls):.2f} s)")  # fmt: skip
        print(f"  extrapolated to {len(world.clusters)} clusters: {mean * len(world.clusters) / 60:.0f} min "
              f"({mean * len(world.clusters):.0f} s; an estimate from the sample, not measured; check also runs the "
              "DNS-plane probes, which here meet no DNS server)")  # fmt: skip
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    parent.send("stop")
    server.join(timeout=10)


if __name__ == "__main__":
    main()
