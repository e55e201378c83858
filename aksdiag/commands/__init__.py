"""The headless commands: a command's flags become a Plan (probes, settings, Azure and Kubernetes context), once.

The CLI, the TUI and `aksdiag pod` all run plans; none of them knows which probes a command runs (the probes
declare it: Probe.commands) or how a flag turns into a setting (here). `plan(command, args)` is the one entry.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from aksdiag.plan import Plan

BUILDERS: dict[str, Callable[[argparse.Namespace], Plan]] = {}


def builder(*names: str) -> Callable[[Callable[[argparse.Namespace], Plan]], Callable[[argparse.Namespace], Plan]]:
    def register(build: Callable[[argparse.Namespace], Plan]) -> Callable[[argparse.Namespace], Plan]:
        for name in names:
            BUILDERS[name] = build
        return build

    return register


def plan(command: str, args: argparse.Namespace) -> Plan:
    """The plan of `aksdiag COMMAND` with these flags (bad flags: UsageError, exit 2; no context: exit 3)."""
    from aksdiag.commands import cluster, dns, egress  # noqa: F401  (they register their builders)
    from aksdiag.commands.validate import not_empty

    not_empty(args)

    try:
        build = BUILDERS[command]
    except KeyError:
        raise ValueError(f"{command!r} is not a command that runs probes") from None
    return build(args)
