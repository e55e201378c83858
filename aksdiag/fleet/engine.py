"""The fleet run: discover through Resource Graph, assemble each cluster's facts, judge them with the probes `check`
runs, confirm every error by GET, group by shared cause. One deadline for the whole run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aksdiag.fleet.model import FleetReport, FleetScope

if TYPE_CHECKING:
    from aksdiag.settings import Settings


@dataclass(frozen=True)
class FleetPlan:
    """What one fleet run looks at, built once from the flags (aksdiag.commands.fleet)."""

    scope: FleetScope
    settings: Settings
    endpoint: str
    """The ARM endpoint (clients.endpoint_for)."""


Progress = Callable[[str], None]
"""Told each step as it starts ("asking Resource Graph: 4 queries over 40 subscriptions", "judging 1,000 clusters",
"confirming 37 findings by GET"): the CLI shows it on stderr, the TUI in its status line."""


async def run(plan: FleetPlan, progress: Progress | None = None) -> FleetReport:
    raise NotImplementedError
