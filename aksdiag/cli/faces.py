"""What the CLI does with a plan: run it and print the report, open it in the TUI, save its facts, or run the
demo's lab; `explain` prints a catalogue entry. Every exit code comes from exitcodes.exit_code_for.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from aksdiag.errors import UsageError
from aksdiag.exitcodes import ExitCode, exit_code_for
from aksdiag.plan import Plan


def show(plan: Plan, output: str, out: TextIO | None = None, watch: float | None = None) -> ExitCode:
    """Run the plan, render its report to stdout, and return the exit code; with `watch` (seconds), run it every
    `watch` seconds until the verdict changes (aksdiag.cli.watch)."""
    from aksdiag import runner
    from aksdiag.render import render

    if watch is not None:
        from aksdiag.cli.watch import watch as watching

        if plan.source is not None:
            raise UsageError("--watch asks the servers again every round; a snapshot (--from) never changes")
        return watching(plan, output, watch, out=out)
    report = runner.run(plan)
    render(report, output, out or sys.stdout)
    return exit_code_for(report)


def tui(args: argparse.Namespace) -> int:
    from aksdiag import commands

    return _in_tui(commands.plan("tui", args))


def _in_tui(plan: Plan) -> int:
    """Run the plan in the TUI. An exec credential plugin (kubelogin) that may prompt runs once first, with the
    terminal (most cache what they get); while the TUI holds the terminal, plugins run without it."""
    from aksdiag.sources import kubeexec
    from aksdiag.tui import app

    config = plan.settings.apiserver
    if config is not None and config.exec_command:
        kubeexec.with_credentials(config, min(20.0, plan.settings.deadline))  # what it cannot get, the probes say
    kubeexec.terminal_taken()
    try:
        return app.run(plan)  # an ExitCode, or 128 + the signal that ended it
    finally:
        kubeexec.terminal_taken(False)


def snapshot(args: argparse.Namespace) -> ExitCode:
    """`aksdiag snapshot`: the facts `aksdiag dns` gathers with the same flags, as JSON (never a token)."""
    import json

    from aksdiag import commands, runner
    from aksdiag import snapshot as snapshots

    plan = commands.plan("snapshot", args)
    facts: dict[object, object] = {}
    runner.run(plan, facts=facts)
    doc = snapshots.dump("dns", plan.target, plan.settings, facts)
    if args.redact:
        doc = snapshots.redact(doc)
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return ExitCode.OK


def explain(code: str | None, out: TextIO) -> ExitCode:
    from aksdiag import codes

    if not code:
        for entry in codes.CATALOGUE.values():
            out.write(f"{entry.id}  {entry.severity.value:<7}  {entry.title}\n")
        return ExitCode.OK
    found = codes.lookup(code)
    if found is None:
        raise UsageError(f"unknown code {code!r}", "`aksdiag explain` lists the codes")
    out.write(
        f"{found.id} ({found.severity.value}): {found.title}\n\n"
        f"What it means:\n  {found.summary}\n\nHow to fix it:\n  {found.fix}\n\nDocs: {found.docs}\n"
    )
    return ExitCode.OK


def demo(args: argparse.Namespace) -> int:
    """Start the lab on loopback and run check's plan on it: in the TUI on a terminal, else as a report."""
    from aksdiag.commands import demo as demo_plan
    from aksdiag.lab import demo as demo_lab

    scenario, world = demo_plan.choose(args.scenario, args.world)
    print(f"aksdiag demo: lab scenario {scenario.name!r}: {scenario.summary}", file=sys.stderr)
    if world:
        from aksdiag.lab import lbworld

        print(f"aksdiag demo: cluster world {world!r}: {lbworld.WORLDS[world][0]}", file=sys.stderr)
    tui = not args.no_tui and args.output == "text" and sys.stdout.isatty() and sys.stdin.isatty()
    if not tui:  # SIGTERM/SIGHUP end a report run as Ctrl-C does: the lab stops and its temporary files go
        from aksdiag.lab.cli import stop_on_signals

        stop_on_signals()
    with demo_lab.start(scenario, world) as lab:
        plan = demo_plan.plan(lab)
        if tui:
            return _in_tui(plan)
        if not world:
            print(f"aksdiag demo: running `aksdiag {' '.join(lab.dns.dns_args())}`", file=sys.stderr)
        return show(plan, args.output)
