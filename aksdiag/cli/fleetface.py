"""`aksdiag fleet` on the command line: the flags → a FleetPlan → the engine (progress on stderr, one line a step)
→ the fleet renderer on stdout → the exit code. `--tui` opens the TUI's fleet view on the same plan instead."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from aksdiag.exitcodes import ExitCode

if TYPE_CHECKING:
    from aksdiag.fleet.model import FleetReport


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    import asyncio

    from aksdiag.commands.fleet import fleet_plan
    from aksdiag.fleet import engine

    plan = fleet_plan(args)
    if getattr(args, "tui", False):
        from aksdiag.tui import fleet as fleet_view

        return int(fleet_view.run(plan))
    shown = err or sys.stderr

    def progress(line: str) -> None:
        print(f"aksdiag fleet: {line}", file=shown, flush=True)

    report = asyncio.run(engine.run(plan, progress))
    render(report, plan.settings.output, out or sys.stdout)
    return int(exit_code(report))


def render(report: FleetReport, output: str, out: TextIO) -> None:
    """The fleet renderer (aksdiag.render.fleet) in `output`'s format."""
    from aksdiag.render import fleet

    fleet.render(report, output, out)


def exit_code(report: FleetReport) -> ExitCode:
    """The one policy every face has (exitcodes.exit_code_for), over the fleet: 1 when a cluster is broken or a
    fleet-level finding is an error; else 3 when part of the fleet could not be judged (a Resource Graph query
    failed, a cluster's probe could not look, the subscriptions could not be listed): its silence is no all-clear;
    else 0 (warnings, AZ001 for an unreadable subscription and findings Resource Graph's lag raised included)."""
    from aksdiag.model import Severity, Verdict

    if any(c.verdict is Verdict.BROKEN for c in report.clusters):
        return ExitCode.FINDINGS
    if any(f.severity is Severity.ERROR for f in report.findings):
        return ExitCode.FINDINGS
    if any(q.error for q in report.queries) or any(c.could_not_look for c in report.clusters):
        return ExitCode.CANNOT_RUN
    if not report.queries and report.findings:  # nothing was asked: the subscriptions could not be listed
        return ExitCode.CANNOT_RUN
    return ExitCode.OK
