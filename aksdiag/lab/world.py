"""A running scenario: its DNS servers on loopback ports, a resolv.conf that names them, and the settings
that point aksdiag at them (never at 168.63.129.16 or the machine's own resolver)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aksdiag.facts import Endpoint
from aksdiag.lab import dnsserver, relay
from aksdiag.lab.scenarios import SCENARIOS, Scenario, ServerSpec
from aksdiag.settings import Settings

BACKENDS = ("python", "bind")
PYTHON_BEHAVIOURS = ("dead", "slow", "udp-only", "truncate-udp", "random-forward", "switchable")
"""Network conditions or appliances rather than DNS software, and servers a test changes while the world runs
(switchable): served by Python in every backend."""


@dataclass
class World:
    scenario: Scenario
    backend: str
    endpoints: dict[str, Endpoint]
    workdir: Path
    resolv_conf: Path
    _closers: list[Any] = field(default_factory=list)
    live: relay.Live = field(default_factory=relay.Live)
    """The Python relays and switchable servers, and the clock the relays read (freeze it, advance it)."""

    @property
    def azure_dns(self) -> Endpoint:
        return self.endpoints["azure"]

    @property
    def servers(self) -> tuple[Endpoint, ...]:
        return tuple(self.endpoints[r] for r in self.scenario.custom)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "azure_dns": self.azure_dns,
            "resolv_conf": str(self.resolv_conf),
            "resolved_upstreams": str(self.workdir / "no-systemd-resolved"),
            "servers": self.servers,
            "expect": self.scenario.expect,
            "count": self.scenario.count,
            "timeout": 1.0,
            # Lab answers take milliseconds; only the slow scenario is about latency. A busy machine must not
            # turn a healthy world's answer into DNS009.
            "slow_ms": 300.0 if self.scenario.name == "slow" else 1000.0,
        }
        values.update(overrides)
        return Settings(**values)

    def dns_args(self) -> list[str]:
        """The `aksdiag dns` command line for this world."""
        args = [
            "dns",
            self.scenario.fqdn,
            "--azure-dns",
            str(self.azure_dns),
            "--resolv-conf",
            str(self.resolv_conf),
        ]
        for server in self.servers:
            args += ["--server", str(server)]
        for ip in self.scenario.expect:
            args += ["--expect", ip]
        if self.scenario.count > 1:
            args += ["--count", str(self.scenario.count)]
        return args

    def flush(self, role: str) -> None:
        """Empty a Python relay's cache, as restarting the CoreDNS pods (or LocalDNS) does."""
        self.live.relays[role].flush()

    def add_forward(self, role: str, zone: str, upstream: str) -> None:
        """Give a running relay or switchable server a conditional forwarder: `zone` → the `upstream` role."""
        live = self.live.relays.get(role) or self.live.switches[role]
        live.forwards[zone] = (self.endpoints[upstream],)

    def take_down(self, role: str) -> None:
        """A switchable server stops answering (packets dropped), as a dead upstream."""
        self.live.switches[role].down = True

    def close(self) -> None:
        while self._closers:
            self._closers.pop().close()

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Removed:
    """Closing it removes the temporary directory start() made (zone files, BIND's configs, resolv.conf)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.directory, ignore_errors=True)


def start(scenario: Scenario | str, backend: str = "python", workdir: str | Path | None = None) -> World:
    """Start every server of `scenario` on loopback and write its resolv.conf; close() stops them all."""
    if isinstance(scenario, str):
        scenario = lookup(scenario)
    if backend not in BACKENDS:
        raise ValueError(f"unknown lab backend {backend!r}")
    directory = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"aksdiag-lab-{scenario.name}-"))
    directory.mkdir(parents=True, exist_ok=True)
    endpoints = {s.role: Endpoint("127.0.0.1", dnsserver.free_port()) for s in scenario.servers}
    world = World(scenario, backend, endpoints, directory, directory / "resolv.conf")
    if not workdir:
        world._closers.append(_Removed(directory))  # the first closer added runs last: after every server stopped
    python = dnsserver.LabServers()
    world._closers.append(python)
    try:
        bind_specs = []
        for spec in scenario.servers:
            if backend == "bind" and spec.behaviour not in PYTHON_BEHAVIOURS:
                bind_specs.append(spec)
            elif spec.behaviour in relay.LIVE_BEHAVIOURS:
                python.add(world.live.serve(spec, endpoints), endpoints[spec.role].port)
            else:
                python.add(_python_server(spec, endpoints), endpoints[spec.role].port)
        if bind_specs:
            from aksdiag.lab import bind

            world._closers.append(bind.start(bind_specs, endpoints, directory))
    except BaseException:
        world.close()
        raise
    lines = [f"# aksdiag lab, scenario {scenario.name}: {scenario.summary}"]
    lines += [f"nameserver {endpoints[role]}" for role in scenario.resolver]
    lines.append("options ndots:1")
    world.resolv_conf.write_text("\n".join(lines) + "\n")
    return world


def lookup(name: str) -> Scenario:
    """A scenario by name: the classic ones, the cluster relays' (`relay-*`, `localdns-*`), the landing zone's."""
    if name in SCENARIOS:
        return SCENARIOS[name]
    from aksdiag.lab.relayscenarios import RELAY_SCENARIOS

    if name in RELAY_SCENARIOS:
        return RELAY_SCENARIOS[name]
    from aksdiag.lab.lzscenarios import LZ_SCENARIOS

    return LZ_SCENARIOS[name]


def _python_server(spec: ServerSpec, endpoints: dict[str, Endpoint]) -> dnsserver.ServerSpec:
    if spec.behaviour == "dead":
        return dnsserver.ServerSpec(dnsserver.dead, name=spec.role)
    if spec.behaviour == "refuse":
        return dnsserver.ServerSpec(dnsserver.refuse, name=spec.role)
    if spec.behaviour == "random-forward":
        upstreams = tuple(endpoints[role] for role in spec.upstreams)
        return dnsserver.ServerSpec(dnsserver.random_forwarder(upstreams, spec.seed), name=spec.role)
    zones = [dnsserver.Zone(z.origin, dict(z.a), dict(z.cname)) for z in spec.zones]
    forward_roles, default_roles = spec.forward_map()
    forwards: dict[str, dnsserver.Upstreams] = {
        zone: tuple(endpoints[r] for r in roles) for zone, roles in forward_roles.items()
    }
    default = tuple(endpoints[r] for r in default_roles) or None
    handler = dnsserver.make_handler(zones, forwards, default)
    if spec.behaviour == "slow":
        handler = dnsserver.slow(handler, spec.delay_ms / 1000)
    if spec.behaviour == "truncate-udp":
        handler = dnsserver.truncating(handler)
    return dnsserver.ServerSpec(handler, tcp=spec.behaviour != "udp-only", name=spec.role)
