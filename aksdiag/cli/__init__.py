"""The command line: parse (aksdiag.cli.parser) → a plan (aksdiag.commands) → the runner → a renderer → exit code.

Heavy modules (dnspython, rich, the SDKs, Textual) are imported inside the commands that use them, so `--help` is
fast. stdout belongs to the report; errors and progress go to stderr as one line each.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aksdiag.cli.parser import build_parser
from aksdiag.errors import AksdiagError
from aksdiag.exitcodes import ExitCode

if TYPE_CHECKING:
    from aksdiag.plan import Plan

__all__ = ["build_parser", "main"]

PLANNED = ("dns", "apiserver", "whois", "ipplan", "lb", "egress", "check")
"""Commands that build a plan and print its report."""


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        args = build_parser().parse_args(args_list)
        return int(_dispatch(args))
    except AksdiagError as e:
        _say_error(e)
        return int(e.exit_code)
    except KeyboardInterrupt:
        print("aksdiag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `aksdiag … | head`: the reader left; say nothing more, as a shell's own tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:
        if debug:
            raise
        print(
            f"aksdiag: internal error: {type(e).__name__}: {e} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return int(ExitCode.CANNOT_RUN)


def _say_error(e: AksdiagError) -> None:
    print(f"aksdiag: error: {e.message}" + (f" ({e.hint})" if e.hint else ""), file=sys.stderr)


def _at_terminal(plan: Plan) -> Plan:
    """The plan with Settings.interactive: whether stdin is a terminal here, so an exec plugin that prompts
    (kubelogin's device code) can be answered; the signin probe judges a prompt that nobody sees (AUTH005)."""
    from dataclasses import replace

    try:
        terminal = sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or detached
        terminal = False
    return replace(plan, settings=replace(plan.settings, interactive=terminal))


def _dispatch(args: argparse.Namespace) -> int:
    from aksdiag.cli import faces

    if args.command in PLANNED:
        from aksdiag import commands

        plan = _at_terminal(commands.plan(args.command, args))
        return faces.show(plan, args.output, watch=getattr(args, "watch", None))
    if args.command == "fleet":
        from aksdiag.cli import fleetface

        return fleetface.run(args)
    if args.command == "snapshot":
        return faces.snapshot(args)
    if args.command == "tui":
        return faces.tui(args)
    if args.command == "pod":
        from aksdiag.pod import command

        return command.run(args)
    if args.command == "explain":
        return faces.explain(args.code, sys.stdout)
    if args.command == "demo":
        return faces.demo(args)
    if args.command == "lab":
        from aksdiag.lab import cli as lab_cli

        return lab_cli.run(args)
    build_parser().print_help()
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
