"""Serves lab scenario servers with real BIND 9 (`named` from Debian's bind9) on loopback ports.

Each server gets its own directory with a named.conf and zone files, and its own `named -f` process, stopped
by pid. Safety: every server either does not recurse, or forwards everything (`forward only`) to another lab
server; the root hints point at 127.0.0.1, so even a priming query stays on loopback.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query

from aksdiag.facts import Endpoint
from aksdiag.lab import relay
from aksdiag.lab.dnsserver import SOA_TEXT, TTL
from aksdiag.lab.scenarios import ServerSpec, ZoneSpec

START_TIMEOUT_S = 15.0


def named_path() -> str:
    found = shutil.which("named") or ("/usr/sbin/named" if Path("/usr/sbin/named").exists() else None)
    if not found:
        raise RuntimeError("BIND 9 is not installed (apt-get install bind9)")
    return found


class BindServers:
    """The named processes of one world; close() stops them all."""

    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def close(self) -> None:
        for _, proc, _ in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc, _ in self.processes:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.processes.clear()


def start(specs: list[ServerSpec], endpoints: dict[str, Endpoint], workdir: Path) -> BindServers:
    """Start one named per spec on its endpoint and wait until each answers."""
    named = named_path()
    servers = BindServers()
    try:
        for spec in specs:
            directory = workdir / f"bind-{spec.role}"
            directory.mkdir(parents=True, exist_ok=True)
            conf = write_config(spec, endpoints, directory)
            log = open(directory / "named.log", "wb")  # noqa: SIM115 - owned by the process until it ends
            proc = subprocess.Popen(
                [named, "-f", "-n", "1", "-c", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            log.close()
            servers.processes.append((spec.role, proc, directory))
        for role, proc, directory in servers.processes:
            _wait_ready(role, proc, endpoints[role], directory)
    except BaseException:
        servers.close()
        raise
    return servers


def write_config(spec: ServerSpec, endpoints: dict[str, Endpoint], directory: Path) -> Path:
    me = endpoints[spec.role]
    if spec.rules and spec.zones:
        raise ValueError(f"{spec.role}: a server with forwarding rules holds no zones (BIND answers its zones first)")
    forwards, default = spec.forward_map()  # the enabled rules as forward zones; a catch-all as the forwarders
    recursion = bool(default) or bool(forwards)
    lines = [
        "options {",
        f'  directory "{directory}";',
        f'  pid-file "{directory}/named.pid";',
        f'  session-keyfile "{directory}/session.key";',
        f'  managed-keys-directory "{directory}";',
        f"  listen-on port {me.port} {{ {me.host}; }};",
        "  listen-on-v6 { none; };",
        f"  recursion {'yes' if recursion else 'no'};",
        "  allow-query { 127.0.0.0/8; };",
        "  allow-recursion { 127.0.0.0/8; };",
        "  dnssec-validation no;",
        "  notify no;",
        "  minimal-responses no-auth-recursive;",
    ]
    lines += _cache_options(spec)
    if default:
        lines += ["  forward only;", f"  forwarders {{ {_bind_addresses(endpoints, default)} }};"]
    lines += ["};", "controls { };", 'zone "." { type hint; file "root.hints"; };']
    if spec.behaviour in relay.RELAY_BEHAVIOURS and relay.spec_of(spec).protocol == "force-tcp":
        hosts = sorted({endpoints[r].host for roles in (*forwards.values(), default) for r in roles})
        lines += [f"server {host} {{ tcp-only yes; }};" for host in hosts]  # ForceTCP: upstreams asked over TCP
    (directory / "root.hints").write_text(
        f".\t3600000\tNS\troot.lab.invalid.\nroot.lab.invalid.\t3600000\tA\t{me.host}\n"
    )
    for zone in spec.zones:
        file = f"{zone.origin}.zone"
        (directory / file).write_text(zone_file(zone))
        lines.append(f'zone "{zone.origin}" {{ type primary; file "{file}"; }};')
    for zone_name, roles in forwards.items():
        lines.append(
            f'zone "{zone_name}" {{ type forward; forward only; forwarders {{ {_bind_addresses(endpoints, roles)} }}; }};'
        )
    conf = directory / "named.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def _cache_options(spec: ServerSpec) -> list[str]:
    """A relay's cache as BIND's (max-cache-ttl, max-ncache-ttl, serve-stale); other servers cache for 1 s."""
    if spec.behaviour not in relay.RELAY_BEHAVIOURS:
        return ["  max-cache-ttl 1;", "  max-ncache-ttl 1;"]
    cache = relay.spec_of(spec)
    lines = [f"  max-cache-ttl {cache.success_ttl};", f"  max-ncache-ttl {cache.denial_ttl};"]
    if cache.serve_stale:
        lines += [
            "  stale-answer-enable yes;",
            "  stale-cache-enable yes;",
            f"  max-stale-ttl {cache.serve_stale};",
            "  stale-answer-ttl 1;",  # BIND's least (CoreDNS answers stale entries with TTL 0)
        ]
    return lines


def zone_file(zone: ZoneSpec) -> str:
    origin = zone.origin + "."
    out = [f"$ORIGIN {origin}", f"$TTL {TTL}", f"@ IN SOA {SOA_TEXT}", "@ IN NS ns1.lab.invalid."]
    for owner, addresses in zone.a.items():
        out += [f"{owner}. IN A {a}" for a in addresses]
    for owner, target in zone.cname.items():
        out.append(f"{owner}. IN CNAME {target}.")
    return "\n".join(out) + "\n"


def _bind_address(endpoint: Endpoint) -> str:
    return f"{endpoint.host} port {endpoint.port}"


def _bind_addresses(endpoints: dict[str, Endpoint], roles: tuple[str, ...]) -> str:
    """`a port p; b port q;`: BIND's forwarders for these roles, in order."""
    return " ".join(f"{_bind_address(endpoints[r])};" for r in roles)


def _wait_ready(role: str, proc: subprocess.Popen[bytes], endpoint: Endpoint, directory: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    probe = dns.message.make_query("version.bind.", "TXT", "CH")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (directory / "named.log").read_text(errors="replace")[-800:]
            raise RuntimeError(f"named for {role} exited with {proc.returncode}: {log}")
        try:
            dns.query.udp(probe, endpoint.host, port=endpoint.port, timeout=0.2)
            return
        except (dns.exception.Timeout, OSError):
            time.sleep(0.05)
    log = (directory / "named.log").read_text(errors="replace")[-800:]
    raise RuntimeError(f"named for {role} did not answer on {endpoint} within {START_TIMEOUT_S:g} s: {log}")
