"""Benchmark: time to a verdict from `aksdiag apiserver` when both ports are blackholed, with --timeout 1
(budget: one timeout in all, not one per port, per address or per retry); and against a healthy fake API
server through a kubeconfig (start-up, kubeconfig loading, TLS and the health reads with a token).

A blackhole on loopback: a listening socket whose accept queue is full, so the kernel drops further SYNs and
a connect hangs, as behind an NSG that drops. Run: python tests/benchmarks/bench_apiserver.py [--runs N]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


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


def median_ms(args: list[str], runs: int) -> tuple[list[float], subprocess.CompletedProcess[str]]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True)
        times.append((time.perf_counter() - t0) * 1000)
    return times, proc


def healthy(runs: int) -> None:
    """`aksdiag apiserver --kubeconfig` against the lab's fake API server, which answers 200 to the token."""
    import base64

    import yaml

    from aksdiag.lab.apiserver import FakeApiServer, Pki

    with tempfile.TemporaryDirectory() as tmp:
        pki = Pki(Path(tmp) / "pki")
        cert, key = pki.issue("apiserver", ["localhost"], ["127.0.0.1"])
        with FakeApiServer(cert, key) as api:
            doc = {"apiVersion": "v1", "kind": "Config", "current-context": "lab",
                   "clusters": [{"name": "lab", "cluster": {"server": f"https://127.0.0.1:{api.port}",
                                 "certificate-authority-data": base64.b64encode(pki.ca_pem.encode()).decode()}}],
                   "users": [{"name": "u", "user": {"token": api.token}}],
                   "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "u"}}]}  # fmt: skip
            path = Path(tmp) / "kubeconfig"
            path.write_text(yaml.safe_dump(doc))
            args = [sys.executable, "-m", "aksdiag", "apiserver", "--kubeconfig", str(path), "--timeout", "2",
                    "--port", str(api.port), "--output", "json"]  # fmt: skip
            times, proc = median_ms(args, runs)
    print(f"aksdiag apiserver --kubeconfig, healthy fake API server: median {statistics.median(times):.0f} ms, "
          f"min {min(times):.0f}, max {max(times):.0f} (exit {proc.returncode})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    holes = [blackhole(), blackhole()]
    args = [sys.executable, "-m", "aksdiag", "apiserver", "--fqdn", "127.0.0.1", "--timeout", "1",
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
    healthy(runs)


if __name__ == "__main__":
    main()
