"""A Plan: what one run does — which probes, on which target, with which settings — built once by aksdiag.commands
from a command's flags, and run by the one engine (aksdiag.runner) whichever face shows it (CLI, TUI, pod).

Pure: no I/O, no SDK. A face never decides which probes a command runs; the probes declare it (Probe.commands).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aksdiag.probe import Probe
from aksdiag.settings import Settings

FactSource = Callable[[Iterable[Hashable], Settings, float], Awaitable[dict[Hashable, Any]]]
"""Fetches needs → facts before the deadline (a time.monotonic() value): the live sources, or a snapshot."""


@dataclass(frozen=True)
class Plan:
    command: str
    """The command as reported (`dns`, `check`, `demo`, …)."""
    target: str
    """What the probes look at (an FQDN, an IP; empty when the cluster's own name is read from Azure)."""
    settings: Settings
    probes: tuple[Probe, ...]
    skip: Mapping[str, str] = field(default_factory=dict)
    """Probes reported as skipped before they start, with the reason (probe id → reason)."""
    whois: Settings | None = None
    """The context the TUI's whois box asks with (None: the whois probe says what it lacks)."""
    source: FactSource | None = None
    """Where facts come from; None: the live sources (a snapshot's facts for `dns --from`)."""

    @property
    def shown_target(self) -> str:
        """The target, else the cluster's resource group/name (the cluster's own name is then read from Azure)."""
        azure = self.settings.azure
        return self.target or (f"{azure.resource_group}/{azure.cluster}" if azure else "")

    @property
    def probe_ids(self) -> list[str]:
        return [p.id for p in self.probes]

    @classmethod
    def of(
        cls,
        command: str,
        target: str,
        settings: Settings,
        probe_ids: Iterable[str],
        whois: Settings | None = None,
        skip: Mapping[str, str] | None = None,
    ) -> Plan:
        """A plan of these probes by id (the tests and the lab pick probes by hand; commands use Probe.commands)."""
        from aksdiag.probe import load

        probes = tuple(load(p) for p in probe_ids)
        return cls(command, target, settings, probes, skip=dict(skip or {}), whois=whois)

    def optional(self, probe: Probe) -> bool:
        """Left out of the report when it cannot run (rather than shown as skipped); `check` stands for the faces
        that run what it runs (`tui`, `demo`), as in Probe.commands."""
        return self.command in probe.optional_in or (self.command in ("tui", "demo") and "check" in probe.optional_in)
