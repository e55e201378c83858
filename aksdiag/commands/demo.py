"""`aksdiag demo`: check's probes on the lab's running world, with the lab's own settings.

The face starts the lab (it is a context manager: its servers stop when the demo ends) and asks here for the plan.
With no cluster world (`--world none`) the demo traces the DNS scenario's chain and runs what `dns` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aksdiag import probe
from aksdiag.errors import UsageError
from aksdiag.plan import Plan

if TYPE_CHECKING:
    from aksdiag.lab.demo import DemoLab
    from aksdiag.lab.scenarios import Scenario


def choose(scenario: str | None, world: str | None) -> tuple[Scenario, str | None]:
    """The lab scenario and cluster world the flags name (UsageError for an unknown one)."""
    from aksdiag.lab import lbworld
    from aksdiag.lab.scenarios import DEMO_SCENARIO, SCENARIOS

    name = scenario or DEMO_SCENARIO
    if name not in SCENARIOS:
        raise UsageError(f"unknown scenario {name!r}", "`aksdiag lab list` shows them")
    chosen = None if world in (None, "none") else world
    if chosen is not None and chosen not in lbworld.WORLDS:
        raise UsageError(f"unknown cluster world {world!r}", f"one of {', '.join(lbworld.WORLDS)}, or none")
    return SCENARIOS[name], chosen


def plan(lab: DemoLab) -> Plan:
    settings = lab.settings()
    if not lab.world:
        target = lab.dns.scenario.fqdn
        return Plan("dns", target, settings, tuple(probe.for_command("dns")), whois=settings)
    probes = tuple(probe.for_command("check"))
    return Plan("demo", lab.target, settings, probes, skip=dict(lab.skip), whois=settings)
