"""Benchmark: the ARM reads of one `aksdiag dns --cluster`, as aksdiag issues them (concurrently, level by level)
against the same GETs replayed one after another, on the fake ARM with a fixed latency per request.

Loopback only. Run: python tests/benchmarks/bench_arm.py [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import tempfile
import time
import urllib.request

from aksdiag.facts import AzureContextNeed
from aksdiag.lab import arm, armworld
from aksdiag.sources import azure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    latency = parser.parse_args().latency_ms / 1000
    world = arm.ArmWorld()
    for body in armworld.build("healthy"):
        world.add(body)
    with tempfile.TemporaryDirectory() as tmp, arm.FakeArm(world, tmp, latency_s=latency) as fake:
        os.environ.update(AKSDIAG_ARM_TOKEN="bench", REQUESTS_CA_BUNDLE=fake.ca_path)
        need = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, fake.endpoint)
        asyncio.run(azure.fetch(need))  # warm-up: imports, TLS
        fake.requests.clear()
        t0 = time.perf_counter()
        ctx = asyncio.run(azure.fetch(need))
        concurrent = time.perf_counter() - t0
        paths = [f"{r.path}?{r.query}" for r in fake.requests]
        context = ssl.create_default_context(cafile=fake.ca_path)
        t0 = time.perf_counter()
        for path in paths:
            request = urllib.request.Request(fake.endpoint + path, headers={"Authorization": "Bearer bench"})
            with urllib.request.urlopen(request, context=context) as response:
                response.read()
        sequential = time.perf_counter() - t0
    print(f"fake ARM latency per request: {latency * 1000:.0f} ms; GETs per `aksdiag dns --cluster`: {len(paths)}")
    print(f"aksdiag (concurrent, level by level): {concurrent * 1000:7.1f} ms   errors: {len(ctx.errors)}")
    print(f"the same GETs one after another:      {sequential * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
