"""The TUI's watch (`w`): the plan again every interval, the DNS tab saying what changed and when the last cached
old answer expires, through the same comparison as `aksdiag dns --watch` (aksdiag.watch).

`Watcher` remembers the rounds (no Textual in it); `WatchToggle`, the app's base, runs them: one engine run per
round in a worker, started an interval after the last began and only once it has ended (never two at once); a
round's results land together (WatchRound), the last ones shown until then, so nothing flickers to "running".
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rich.text import Text
from textual.app import App
from textual.timer import Timer
from textual.widgets import Static

from aksdiag import watch as seen
from aksdiag.model import ProbeResult, Report, Verdict
from aksdiag.plan import Plan
from aksdiag.tui.messages import WatchRound
from aksdiag.tui.session import EngineThread

HISTORY = 6
"""Change lines kept on screen (the newest last)."""


@dataclass
class Watcher:
    interval: float = seen.DEFAULT_INTERVAL
    expect: tuple[str, ...] = ()
    rounds: int = 0
    start: Verdict | None = None
    verdict: Verdict | None = None
    first: dict[tuple[str, str], seen.HopAnswer] | None = None
    before: dict[tuple[str, str], seen.HopAnswer] | None = None
    history: deque[str] = field(default_factory=lambda: deque(maxlen=HISTORY))
    expiry: str | None = None

    def round(self, report: Report, facts: Mapping[Hashable, Any], at: datetime) -> Verdict | None:
        """Take in one round's report and facts; the verdict it had before when it changed, else None."""
        hops = seen.hop_answers(report, facts)
        for hop in seen.changes(self.before, hops):
            self.history.append(seen.change_line(hop, at))
        was = self.verdict
        if was is not report.verdict:
            self.history.append(f"{at:%H:%M:%S}  verdict {f'{was.value} → ' if was else ''}{report.verdict.value}")
        self.first = self.first if self.first is not None else hops
        self.start = self.start or report.verdict
        last = seen.last_cached(hops, self.first, self.expect, self.before)
        counting = last is not None and seen.draining(last, self.before)
        self.expiry = seen.expiry_line(last, at, counting)
        self.before, self.verdict, self.rounds = hops, report.verdict, self.rounds + 1
        return was if was is not None and was is not report.verdict else None

    def lines(self) -> list[str]:
        head = f"watching every {self.interval:g} s · round {self.rounds}"
        if self.verdict is not None:
            head += f" · verdict {self.verdict.value}"
        return [head + " · w stops", *([self.expiry] if self.expiry else []), *self.history]


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
        was = self.watcher.round(self.report, facts, datetime.now(timezone.utc))
        if was is not None and self.watcher.verdict is not None:
            self.notify(f"verdict {was.value} → {self.watcher.verdict.value}", title="watch")
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
