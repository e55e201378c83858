"""The Probe type and the registry of probes under `probes/`, imported one by one on demand.

A probe is two pure functions. `plan` says what facts it needs, given the facts known so far (so a need can
depend on an earlier fact, such as the nameservers of resolv.conf); `judge` turns the facts into hops and
findings. Neither does I/O: the runner fetches the needs through the sources.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aksdiag.model import Finding, Gauge, Graph, Hop, Table
from aksdiag.settings import Settings

Facts = Mapping[Hashable, Any]
"""Fetched facts, keyed by the need that asked for them."""


class Skip(Exception):
    """Raised by `plan` when the probe cannot run here; the message is the reason shown to the user."""


class CouldNotLook(Exception):
    """Raised by `plan` when a read it depends on failed (unreachable, 5xx, garbage… not a refusal): the probe
    is `error` with this message, and the run's exit code says so (3)."""


@dataclass(frozen=True)
class Judgement:
    hops: tuple[Hop, ...] = ()
    findings: tuple[Finding, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)
    """A JSON-ready summary of the facts behind the verdict (the report's `probes[].facts`)."""
    tables: tuple[Table, ...] = ()
    """What the probe lays out for people (the renderers and the TUI draw them as they are)."""
    gauges: tuple[Gauge, ...] = ()
    graph: Graph | None = None
    """The path judged, as nodes and edges with the broken edge marked (the report's `probes[].graph`)."""
    unread: tuple[str, ...] = ()
    """What the probe could not look at (a read that failed, not a refusal), one reason each: the probe is then
    `error` with them (`fail` if an error finding stands), so a partial look is never an all-clear."""


@dataclass(frozen=True)
class Probe:
    id: str
    title: str
    codes: tuple[str, ...]
    plan: Callable[[str, Settings, Facts], list[Hashable]]
    judge: Callable[[str, Settings, Facts], Judgement]
    commands: tuple[str, ...] = ()
    """The commands that run this probe. `check` also stands for `tui` and `demo`, which run what check runs."""
    optional_in: tuple[str, ...] = ()
    """Commands where the probe is left out of the report, not shown as skipped, when its plan cannot run
    (private_dns in `dns` without --cluster: the user asked for the chain, not for Azure)."""
    order: int = 100
    """Where its result stands in a report: lower first (the DNS chain leads)."""


def probe_ids() -> list[str]:
    """The ids of all probe modules, without importing them."""
    from aksdiag import probes

    return sorted(m.name for m in pkgutil.iter_modules(probes.__path__) if not m.name.startswith("_"))


def load(probe_id: str) -> Probe:
    module = importlib.import_module(f"aksdiag.probes.{probe_id}")
    probe: Probe = module.PROBE
    if probe.id != probe_id:
        raise RuntimeError(f"probes/{probe_id}.py declares id {probe.id!r}")
    return probe


def for_command(command: str) -> list[Probe]:
    """Every probe that declares `command`, in report order: the one list of which command runs what."""
    found = [p for p in (load(i) for i in probe_ids()) if command in p.commands]
    return sorted(found, key=lambda p: (p.order, p.id))
