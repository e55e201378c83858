"""`aksdiag dns --watch [SECONDS]`: run the same plan round after round until the verdict changes or Ctrl-C.

The watch ends when the verdict differs from the first round's and no layer still serves an old answer from a
cache counting down (aksdiag.watch.Watcher.ended).

Each round is one run of the one runner (fresh facts, its own deadline); the next starts `SECONDS` after the last
began, or at once when a round took longer: rounds never overlap, so a watch costs at most one chain per interval.
Progress goes to stderr: a line per hop whose answer changed (time, hop kind and server, answer, TTL), the verdict
when it changes, and when the last cached old answer expires. The report goes to stdout once, at the end, in the
chosen output (text, json or markdown: one document, never one per round, so a pipeline reads one report); the
exit code is its verdict's. Ctrl-C ends the watch with the last round's report and exit code.

The sleep, the clock and the round are injectable, so a test moves a lab clock on instead of sleeping.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from aksdiag.errors import UsageError

if TYPE_CHECKING:
    from aksdiag.exitcodes import ExitCode
    from aksdiag.model import Report
    from aksdiag.plan import Plan

NAME_AFTER = "_watch_fqdn"
"""Where `--watch NAME` keeps the name until the parse is over."""

Round = Callable[["Plan"], "tuple[Report, dict[Hashable, Any]]"]


class WatchSeconds(argparse.Action):
    """`--watch [SECONDS]`: the interval, default 5 s, bounded. `dns --watch NAME` (the name right after the flag)
    is read as the name with the default interval, as a person means it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        from aksdiag.watch import DEFAULT_INTERVAL, MAX_INTERVAL, MIN_INTERVAL

        if values is None:
            setattr(namespace, self.dest, DEFAULT_INTERVAL)
            return
        text = str(values)
        try:
            seconds = float(text)
        except ValueError:
            if "." in text and any(c.isalpha() for c in text):
                setattr(namespace, NAME_AFTER, text)  # the FQDN positional, unfilled, resets it: settle() moves it
                setattr(namespace, self.dest, DEFAULT_INTERVAL)
                return
            raise argparse.ArgumentError(self, f"{text!r} is not a number of seconds") from None
        if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:  # also NaN
            raise argparse.ArgumentError(
                self, f"{text} s is out of bounds: between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} seconds"
            )
        setattr(namespace, self.dest, seconds)

    @staticmethod
    def settle(namespace: argparse.Namespace) -> argparse.Namespace:
        """After parsing: the name read by `--watch NAME` becomes the FQDN, unless one was also given."""
        name = namespace.__dict__.pop(NAME_AFTER, None)
        if name is not None:
            if getattr(namespace, "fqdn", None) is not None:
                raise UsageError(f"--watch: {name!r} is not a number of seconds")
            namespace.fqdn = name
        return namespace


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def one_round(plan: Plan) -> tuple[Report, dict[Hashable, Any]]:
    """One run of the plan through the one runner: its report and every fact it fetched (TTLs are read there)."""
    from aksdiag import runner

    facts: dict[Hashable, Any] = {}
    report = runner.run(plan, facts=facts)
    return report, facts


def watch(
    plan: Plan,
    output: str,
    interval: float,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = utc_now,
    run_round: Round = one_round,
    rounds: int | None = None,
) -> ExitCode:
    """Watch until the verdict changes (or Ctrl-C, or `rounds` rounds); render the last report; its exit code."""
    from aksdiag import watch as seen
    from aksdiag.exitcodes import exit_code_for
    from aksdiag.render import render

    out, err = out or sys.stdout, err or sys.stderr
    watcher = seen.Watcher(interval, tuple(plan.settings.expect))
    report: Report | None = None
    err.write(f"aksdiag: watching {plan.shown_target or plan.command} every {interval:g} s (Ctrl-C stops)\n")
    try:
        while True:
            started = time.monotonic()
            report, facts = run_round(plan)
            at = now()
            for line in watcher.round(report, facts, at):
                err.write(line + "\n")
            if watcher.expiry:
                err.write(f"{at:%H:%M:%S}  {watcher.expiry}\n")
            err.flush()
            if watcher.ended or (rounds is not None and watcher.rounds >= rounds):
                break
            sleep(max(0.0, interval - (time.monotonic() - started)))
    except KeyboardInterrupt:
        if report is None:
            raise  # not one round finished: interrupted, as any command (exit 130)
        err.write(f"aksdiag: watch stopped after {watcher.rounds} round(s); the last verdict: {report.verdict.value}\n")
    render(report, output, out)
    return exit_code_for(report)
