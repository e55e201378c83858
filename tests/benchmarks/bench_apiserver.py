"""Benchmark: time to a verdict from `aksdiag apiserver` when both ports are blackholed, with --timeout 1
(budget: one timeout in all, not one per port, per address or per retry).

A blackhole on loopback: a listening socket whose accept queue is full, so the kernel drops further SYNs and
a connect hangs, as behind an NSG that drops. Run: python tests/benchmarks/bench_apiserver.py [--runs N]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time


def blackhole() -> tuple[socket.socket, list[socket.socket], int]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):  # fill the accept queue (never accepted) until a connect no longer completes
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.2)
    return listener, fillers, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    holes = [blackhole(), blackhole()]
    args = [sys.executable, "-m", "aksdiag.cli", "apiserver", "--fqdn", "127.0.0.1", "--timeout", "1",
            "--port", str(holes[0][2]), "--port", str(holes[1][2]), "--output", "json"]  # fmt: skip
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"aksdiag apiserver, 2 blackholed ports, --timeout 1: median {statistics.median(times):.0f} ms, "
          f"min {min(times):.0f}, max {max(times):.0f} (exit {proc.returncode}; budget: about 1000 ms + start-up)")  # fmt: skip
    print("findings:", sorted({line.split('"')[3] for line in proc.stdout.splitlines() if '"id": "API' in line}))
    for listener, fillers, _ in holes:
        for s in fillers:
            s.close()
        listener.close()


if __name__ == "__main__":
    main()
