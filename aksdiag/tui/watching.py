"""The TUI's watch (`w`): the plan again every interval, the DNS tab saying what changed and when the last cached
old answer expires, through the same comparison as `aksdiag dns --watch` (aksdiag.watch).

`WatchToggle`, the app's base, runs the rounds (aksdiag.watch.Watcher remembers them): one engine run per round
in a worker, started an interval after the last began and only once it has ended (never two at once); a
round's results land together (WatchRound), the last ones shown until then, so nothing flickers to "running".
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from datetime import datetime, timezone
from typing import Any

from rich.text import Text
from textual.app import App
from textual.timer import Timer
from textual.widgets import Static

from aksdiag import watch as seen
from aksdiag.model import ProbeResult, Report
from aksdiag.plan import Plan
from aksdiag.tui.messages import WatchRound
from aksdiag.tui.session import EngineThread
from aksdiag.watch import Watcher


class WatchToggle(App[int]):
    """The watch half of the app (AksdiagApp): `action_watch` toggles it; the app calls `_watched()` when a run
    it started with `r` (or at launch) has every result."""

    session: Plan
    engine: EngineThread | None
    results: dict[str, ProbeResult]
    watch_interval: float = seen.DEFAULT_INTERVAL
    watcher: Watcher | None = None
    """While `w` is on: the rounds so far."""
    _watch_timer: Timer | None = None
    _generation: int
    _started: float
    _elapsed_ms: float
    all_final_at: float | None

    # what the app provides
    @property
    def all_final(self) -> bool:
        raise NotImplementedError

    @property
    def report(self) -> Report:
        raise NotImplementedError

    def _finish_tile(self, result: ProbeResult) -> None:
        raise NotImplementedError

    def _refresh_views(self, probe_id: str | None = None) -> None:
        raise NotImplementedError

    def action_watch(self) -> None:
        """Toggle the watch."""
        line = self.query_one("#watch", Static)
        if self.watcher is not None:
            self.watcher = None
            if self._watch_timer is not None:
                self._watch_timer.stop()
            line.add_class("-hidden")
            self.notify("watch stopped", title="watch")
            return
        self.watcher = Watcher(self.watch_interval, tuple(self.session.settings.expect))
        line.remove_class("-hidden")
        self.notify(f"re-running every {self.watch_interval:g} s (w stops)", title="watch")
        if self.all_final:
            self._watched()  # the run on screen is the first round; one still running becomes it when it ends

    def _watched(self, facts: dict[Hashable, Any] | None = None) -> None:
        """A round ended: show what changed, and start the next one an interval after this one began."""
        if self.watcher is None:
            return
        if facts is None:
            facts = self.engine.engine.facts if self.engine is not None else {}
        self.watcher.round(self.report, facts, datetime.now(timezone.utc))
        if self.watcher.was is not None and self.watcher.verdict is not None:
            self.notify(f"verdict {self.watcher.was.value} → {self.watcher.verdict.value}", title="watch")
        self.query_one("#watch", Static).update(Text("\n").join(Text(line) for line in self.watcher.lines()))
        if self._watch_timer is not None:
            self._watch_timer.stop()
        delay = self.watcher.interval - (time.perf_counter() - self._started)
        self._watch_timer = self.set_timer(max(0.01, delay), self._watch_round)  # (Textual's timers divide by it)

    def _watch_round(self) -> None:
        self._watch_timer = None
        if self.watcher is None or (self.engine is not None and not self.engine.done.is_set()):
            return  # a run is going (r): its end starts the next round
        self._generation += 1
        generation, found = self._generation, list[ProbeResult]()
        self._started = time.perf_counter()
        engine = self.engine = EngineThread(self.session, found.append)

        def work() -> None:
            engine.execute()
            if not engine.cancelled:  # replaced by a re-run, or the app is quitting
                self.post_message(WatchRound(found, dict(engine.engine.facts), generation))

        self.run_worker(work, name="watch", group="probes", thread=True, exclusive=True, exit_on_error=False)

    def on_watch_round(self, message: WatchRound) -> None:
        if message.generation != self._generation or self.watcher is None:
            return  # replaced by a re-run, or the watch was stopped
        self.results = {r.probe: r for r in message.results}
        for result in message.results:
            self._finish_tile(result)
        self.all_final_at = time.perf_counter()
        self._elapsed_ms = (self.all_final_at - self._started) * 1000
        self._refresh_views()
        self._watched(message.facts)
