"""Benchmark: wall time of `aksdiag --help` and `aksdiag dns --help` (budget < 100 ms: lazy imports).

Run: python tests/benchmarks/bench_help.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def wall_ms(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    baseline = wall_ms([sys.executable, "-c", "pass"], runs)
    print(f"{'command':<40} {'median':>8} {'min':>8} {'max':>8}   (ms, {runs} runs)")
    for label, args in (
        ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
        ("aksdiag --help", [sys.executable, "-m", "aksdiag", "--help"]),
        ("aksdiag dns --help", [sys.executable, "-m", "aksdiag", "dns", "--help"]),
    ):
        t = baseline if label.startswith("python") else wall_ms(args, runs)
        print(f"{label:<40} {statistics.median(t):>8.1f} {min(t):>8.1f} {max(t):>8.1f}")
    print("budget: aksdiag --help < 100 ms")


if __name__ == "__main__":
    main()
