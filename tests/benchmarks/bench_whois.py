"""Scale benchmark: `aksdiag whois` on a fake cluster of 5,000 nodes and 250,000 pods (kubenet layout), for an
assigned pod IP, an unassigned IP inside a node's range and a foreign IP — wall time and peak memory of the
aksdiag process (budget < 1 s and < 200 MB each) — beside `kubectl get pods -A -o wide | grep IP`.

Loopback only. Run: python tests/benchmarks/bench_whois.py [--nodes 5000 --pods-per-node 50]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aksdiag.lab.kube import FakeKubeApi, KubeWorld


def world(nodes: int, per_node: int) -> KubeWorld:
    w = KubeWorld()
    objects = []
    for i in range(nodes):
        name = f"aks-nodepool1-12345678-vmss{i:06d}"
        third, second = i % 256, i // 256
        objects.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"agentpool": "nodepool1"}},
                        "spec": {"podCIDR": f"10.{100 + second}.{third}.0/24"},
                        "status": {"addresses": [{"type": "InternalIP", "address": f"10.240.{second}.{third}"}]}})  # fmt: skip
        for k in range(per_node):
            ip = f"10.{100 + second}.{third}.{10 + k}"
            objects.append({"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": f"app-{i}-{k}", "namespace": f"ns-{i % 50}"},
                            "spec": {"nodeName": name, "containers": [{"name": "c", "image": "app"}]},
                            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}})  # fmt: skip
    w.add_all(objects)
    gc.collect()
    gc.freeze()  # the fake server's 250,000 objects are not the measured program's: keep GC pauses out of it
    return w


RUNNER = """
import os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
out = proc.stdout.read()
_, _, usage = os.wait4(proc.pid, 0)
print(f"{time.perf_counter() - t0} {usage.ru_maxrss / 1024}")
sys.stdout.write(out)
"""


def measure(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and output of `args`, started from a small runner process: a child forked
    straight from this process (which holds the fake cluster) would count its memory as the child's peak."""
    out = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True).stdout
    head, _, rest = out.partition("\n")
    wall, rss = head.split()
    return float(wall), float(rss), rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=50)
    parser.add_argument("--kubectl", action="store_true",
                        help="also time kubectl | grep (slow on big worlds: the fake server renders every pod)")  # fmt: skip
    a = parser.parse_args()
    t0 = time.perf_counter()
    w = world(a.nodes, a.pods_per_node)
    print(f"world: {a.nodes} nodes, {a.nodes * a.pods_per_node} pods, built in {time.perf_counter() - t0:.1f} s")
    last = a.nodes - 1
    assigned = f"10.{100 + last // 256}.{last % 256}.12"
    in_range = f"10.{100 + last // 256}.{last % 256}.250"
    with tempfile.TemporaryDirectory() as tmp, FakeKubeApi(w, Path(tmp) / "pki") as api:
        kubeconfig = str(api.kubeconfig(Path(tmp) / "kubeconfig"))
        for label, ip in (("assigned pod IP", assigned), ("unassigned, in a node's range", in_range),
                          ("foreign IP", "192.0.2.10")):  # fmt: skip
            wall, rss, out = measure([sys.executable, "-m", "aksdiag", "whois", ip, "--kubeconfig", kubeconfig,
                                      "--output", "json"])  # fmt: skip
            found = [line.strip() for line in out.splitlines() if '"id": "IP' in line]
            print(f"aksdiag whois {ip:<16} ({label:<29}) {wall * 1000:7.0f} ms  peak {rss:6.1f} MB  {found}")
        if a.kubectl and shutil.which("kubectl"):
            pipeline = f"kubectl --kubeconfig {kubeconfig} get pods -A -o wide | grep -w {assigned}"
            wall, rss, out = measure(["sh", "-c", pipeline])
            print(f"kubectl get pods -A -o wide | grep {assigned}: {wall * 1000:7.0f} ms  (found: {bool(out.strip())})")
    print("budget: aksdiag whois < 1000 ms and < 200 MB each")


if __name__ == "__main__":
    main()
