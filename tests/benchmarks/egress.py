"""Benchmark: `aksdiag egress` against 30 endpoints on the loopback egress lab, 3 of them blackholed (a listener
whose accept queue is full: the kernel drops the SYNs), with --timeout 2. Budget: one timeout in all — every
endpoint's TCP connect, TLS handshake and GET / go out in one round after DNS — not one per blackholed endpoint
or per layer. Prints the wall time (start-up included), the DNS queries and the connections the lab accepted.

Run: python tests/benchmarks/egress.py [--runs N] [--timeout S]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aksdiag.probes.egress.endpoints import essentials

from aksdiag.lab.egresslab import EgressLab

ENDPOINTS = 30


def names() -> list[str]:
    base = [n for _, n in essentials("")]  # what egress tests anyway (no region without --cluster)
    return base + [f"registry{i}.contoso.example" for i in range(ENDPOINTS - len(base))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", default="2")
    opts = parser.parse_args()
    wanted = names()
    for broken in ({}, {wanted[i]: "blackholed" for i in (7, 17, 27)}):
        run(wanted, broken, opts.runs, opts.timeout)


def run(wanted: list[str], broken: dict[str, str], runs: int, timeout: str) -> None:
    """`runs` runs against the lab with these endpoints broken; prints the figures."""
    with tempfile.TemporaryDirectory() as tmp, EgressLab(Path(tmp), wanted, broken) as lab:
        env = {**os.environ, **lab.env()}
        args = [sys.executable, "-m", "aksdiag", "egress", "--resolv-conf", str(lab.write_resolv_conf()),
                "--tls-ca-bundle", str(lab.ca_path), "--timeout", timeout, "--output", "json"]  # fmt: skip
        for n in wanted:
            args += ["--endpoint", n]
        times, rounds = [], []
        proc = None
        for _ in range(runs):
            q0, c0 = lab.queries, lab.accepted
            t0 = time.perf_counter()
            proc = subprocess.run(args, capture_output=True, text=True, env=env)
            times.append((time.perf_counter() - t0) * 1000)
            rounds.append((lab.queries - q0, lab.accepted - c0))
        assert proc is not None
        report = json.loads(proc.stdout)
        result = report["probes"][0]
        codes = sorted(f["id"] for f in report["findings"])
        print(f"aksdiag egress, {len(wanted)} endpoints, {len(broken)} blackholed, --timeout {timeout}: "
              f"median {statistics.median(times):.0f} ms, min {min(times):.0f}, max {max(times):.0f} "
              f"(exit {proc.returncode}; budget: about one timeout + start-up)")  # fmt: skip
        print(f"the probe's own time: {result['elapsed_ms']:.0f} ms; report elapsed {report['elapsed_ms']:.0f} ms")
        print(f"per run: {rounds[-1][0]} DNS queries, {rounds[-1][1]} connections accepted by the lab "
              f"(the blackholed endpoints' connects are dropped, not counted)")  # fmt: skip
        print("findings:", codes)


if __name__ == "__main__":
    main()
