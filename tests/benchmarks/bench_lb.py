"""Benchmark: one `aksdiag lb` (a fresh process, as a user runs it) on the lab's LB worlds, and on a big one —
1,000 nodes and 300 LoadBalancer Services — with the fake ARM answering after a fixed latency per request.

Prints wall time per world and how much of it is the probe's judgement (in process). Loopback only.
Run: python tests/benchmarks/bench_lb.py [--latency-ms 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aksdiag.lab import arm, armworld, lbworld
from aksdiag.lab.kube import FakeKubeApi, KubeWorld


def big_spec() -> lbworld.LbSpec:
    services = tuple(
        lbworld.Svc(f"svc-{i:03d}", f"10.224.{1 + i // 200}.{10 + i % 200}", node_port=30000 + i) for i in range(300)
    )
    return lbworld.LbSpec(nodes=1000, ports=64, outbound_ips=2, services=services)


def run(world: str, latency: float, runs: int, spec: lbworld.LbSpec | None = None) -> None:
    if spec is not None:
        lbworld.WORLDS[world] = ("benchmark", spec)
    w = arm.ArmWorld()
    for body in lbworld.arm(world):
        w.add(body)
    kw = KubeWorld()
    kw.add_all(lbworld.kube(world))
    with (
        tempfile.TemporaryDirectory() as tmp,
        arm.FakeArm(w, Path(tmp) / "arm", latency_s=latency) as fake,
        FakeKubeApi(kw, Path(tmp) / "pki") as kube,
    ):
        config = kube.kubeconfig(Path(tmp) / "kubeconfig")
        env = dict(os.environ, AKSDIAG_ARM_ENDPOINT=fake.endpoint, AKSDIAG_ARM_TOKEN="bench",
                   REQUESTS_CA_BUNDLE=fake.ca_path, AKSDIAG_LOOPBACK_ONLY="1")  # fmt: skip
        command = [sys.executable, "-m", "aksdiag", "lb", "--subscription", armworld.SUBSCRIPTION, "-g",
                   armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER, "--kubeconfig", str(config), "-o", "json"]  # fmt: skip
        walls, inside = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            walls.append(time.perf_counter() - t0)
            doc = json.loads(done.stdout)
            inside.append(doc["elapsed_ms"])
        codes = sorted({f["id"] for f in doc["findings"]})
    print(f"{world:<20} wall {statistics.median(walls) * 1000:7.0f} ms   in process {statistics.median(inside):7.0f} ms"
          f"   findings {', '.join(codes) or 'none'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    print(f"fake ARM latency per request: {args.latency_ms:.0f} ms; median of {args.runs} runs")
    for world in ("lb-healthy", "lb-explicit-capped", "lb-pending"):
        run(world, latency, args.runs)
    run("lb-big", latency, args.runs, spec=dataclasses.replace(big_spec()))


if __name__ == "__main__":
    main()
