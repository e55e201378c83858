"""Benchmark: the TUI on the demo world — launch → first painted screen, and launch → every tile final.

Two measures: in process (the app headless at 80×24 on the lab's no-forwarder world: App construction to the
first refresh, and to the last probe's result), and in a real terminal when tmux is installed (`aksdiag demo` in a
tmux pane, polled with capture-pane: start of the process to the first tile border, and to the verdict line with
no probe running). Run: python tests/benchmarks/bench_tui.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def in_process(runs: int) -> tuple[list[float], list[float]]:
    from aksdiag.lab import world as lab_world
    from aksdiag.tui.app import make_app
    from tests.tui.conftest import dns_lab_plan

    paints, finals = [], []
    with lab_world.start("no-forwarder") as world:
        for _ in range(runs):
            t0 = time.perf_counter()
            app = make_app(dns_lab_plan(world))

            async def go(app=app) -> None:
                async with app.run_test(size=(80, 24)) as pilot:
                    while not app.all_final or app.first_paint is None:
                        await pilot.pause(0.005)

            asyncio.run(go())
            paints.append((app.first_paint - t0) * 1000)  # type: ignore[operator]
            finals.append((app.all_final_at - t0) * 1000)  # type: ignore[operator]
    return paints, finals


def in_tmux(runs: int) -> tuple[list[float], list[float]] | None:
    tmux = shutil.which("tmux")
    if tmux is None:
        return None
    aksdiag = shutil.which("aksdiag") or f"{sys.executable} -m aksdiag.cli"
    paints, finals = [], []
    for i in range(runs):
        with tempfile.TemporaryDirectory() as home:
            socket = os.path.join(home, "tmux.sock")

            def screen(socket: str = socket) -> str:
                return subprocess.run([tmux, "-S", socket, "capture-pane", "-p", "-t", "bench"],
                                      capture_output=True, text=True).stdout  # fmt: skip

            t0 = time.perf_counter()
            subprocess.run([tmux, "-S", socket, "new-session", "-d", "-s", "bench", "-x", "100", "-y", "30",
                            f"unset LINES COLUMNS; {aksdiag} demo"], check=True)  # fmt: skip
            painted = final = None
            while final is None and time.perf_counter() - t0 < 60:
                text = screen()
                if painted is None and "DNS resolution chain" in text:
                    painted = time.perf_counter()
                if "verdict BROKEN" in text and "running" not in text:
                    final = time.perf_counter()
                time.sleep(0.01)
            subprocess.run([tmux, "-S", socket, "kill-server"], capture_output=True)
            if painted and final:
                paints.append((painted - t0) * 1000)
                finals.append((final - t0) * 1000)
        del i
    return paints, finals


def line(label: str, values: list[float]) -> str:
    return f"{label:<48} {statistics.median(values):>8.0f} {min(values):>8.0f} {max(values):>8.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"{'measure (no-forwarder demo world)':<48} {'median':>8} {'min':>8} {'max':>8}   (ms, {runs} runs)")
    paints, finals = in_process(runs)
    print(line("in process: launch → first paint", paints))
    print(line("in process: launch → all tiles final", finals))
    tmux = in_tmux(runs)
    if tmux is None:
        print("tmux is not installed: the real-terminal figures are left out")
    else:
        print(line("tmux `aksdiag demo`: start → first tiles on screen", tmux[0]))
        print(line("tmux `aksdiag demo`: start → every tile final", tmux[1]))


if __name__ == "__main__":
    main()
