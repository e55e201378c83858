"""The egress lab on loopback: the endpoints a cluster needs, served as a VNet would see them, broken one way each.

One lab DNS server answers every endpoint name with a world address (public-looking, as Microsoft's are); the
address map sends each world address to a loopback server: an HTTPS server whose certificate (from the lab's test
CA) names the endpoints, or the broken ones —

- `blackholed`: a listener whose accept queue is full. Linux drops a SYN to a listener with a full accept queue
  (tcp_conn_request: "LISTENOVERFLOWS … drop"), syncookies or not: the client's connect retransmits and times out,
  a real dropped connection on loopback;
- `hijacked`: a TLS-inspecting "firewall": a certificate for the name from another CA (Contoso Firewall TLS
  Inspection CA) that the nodes do not trust;
- `denied`: Azure Firewall's application-rule deny: HTTP 470 "Action: Deny. Reason: No rule matched. Proceeding
  with default action." (behind a certificate the nodes trust, as with an inspecting firewall whose CA they have);
- `refused`: a port where nothing listens (a TCP reset);
- `missing`: the name is not in DNS (NXDOMAIN);
- `private`: the name resolves to a private address (a DNS override), served healthy.

`settings()` gives what a probe run needs: the resolv.conf naming the lab's DNS server, the address map, the test
CA as the trusted bundle, the loopback guard.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aksdiag.facts import Endpoint

KINDS = ("blackholed", "hijacked", "denied", "refused", "missing", "private")
DENY_BODY = "HTTP request from 10.224.0.4:51234 to {name}:443. Action: Deny. Reason: No rule matched. Proceeding " \
    "with default action."  # fmt: skip
"""Azure Firewall's deny page (status 470), as users quote it from curl."""
FIREWALL_CA = "Contoso Firewall TLS Inspection CA"
DNS_SHOWN = "10.1.0.4"
"""The DNS server as the resolv.conf shows it (the hub's custom server); the address map sends it to the lab's."""


def world_address(i: int) -> str:
    """The i-th endpoint's public-looking world address (20.60.x.y: Microsoft's range, never sent to)."""
    return f"20.60.{i // 250}.{i % 250 + 1}"


def private_address(i: int) -> str:
    return f"10.1.9.{i % 250 + 1}"


class _Ok(BaseHTTPRequestHandler):
    """The endpoint's own answer: any status is an answer (MCR answers / with 404, ARM with 400…)."""

    status = 200
    body = "ok"

    def do_GET(self) -> None:
        text = self.body.format(name=(self.headers.get("Host") or "").split(":")[0]).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Denied(_Ok):
    status = 470
    body = DENY_BODY


class _TlsServer(ThreadingHTTPServer):
    """HTTPS with each handshake in its connection's thread: a listening socket wrapped whole (lab.https) does
    every handshake in the accepting thread, one at a time — 90 handshakes at once would wait on each other."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(("127.0.0.1", 0), handler)

    accepted = 0
    """Connections accepted (the benchmark's count)."""

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        self.accepted += 1
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.settimeout(10)
            request.do_handshake()
        except (OSError, ssl.SSLError):
            return  # a TCP-only probe, or a client that gave up: not the endpoint's problem
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # clients hang up mid-answer (a deadline passed): normal in the lab


@dataclass
class EgressLab:
    """The lab for `names` (endpoint host names, tested on port 443), `broken` name → kind (KINDS)."""

    directory: Path
    names: list[str]
    broken: dict[str, str] = field(default_factory=dict)
    dns: Endpoint | None = None
    address_map: list[tuple[str, str]] = field(default_factory=list)
    addresses: dict[str, str] = field(default_factory=dict)
    """name → the address DNS answers (missing names have none)."""
    queries: int = 0
    """DNS queries the lab's server answered."""
    _closers: list[Any] = field(default_factory=list)
    _servers: list[_TlsServer] = field(default_factory=list)

    def __post_init__(self) -> None:
        from aksdiag.lab.pki import Pki

        for name, kind in self.broken.items():
            if kind not in KINDS:
                raise ValueError(f"{name}: {kind!r} is not one of {', '.join(KINDS)}")
        self.directory = Path(self.directory)
        self.pki = Pki(self.directory / "ca")
        self.firewall = Pki(self.directory / "firewall", name=FIREWALL_CA)
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ servers

    def _start(self) -> None:
        from aksdiag.lab.dnsserver import LabServers, ServerSpec, Zone, make_handler

        kind = {n: self.broken.get(n, "healthy") for n in self.names}
        healthy = [n for n in self.names if kind[n] in ("healthy", "private")]
        ports = {
            "healthy": self._https(_Ok, self.pki, healthy or ["unused.invalid"], "healthy"),
            "denied": self._https(_Denied, self.pki, self._of(kind, "denied"), "denied"),
            "hijacked": self._https(_Ok, self.firewall, self._of(kind, "hijacked"), "hijacked"),
            "blackholed": self._blackhole() if "blackholed" in kind.values() else 0,
            "refused": _closed_port() if "refused" in kind.values() else 0,
        }
        zones: dict[str, Zone] = {}
        for i, name in enumerate(self.names):
            origin = ".".join(name.split(".")[-2:])
            zone = zones.setdefault(origin, Zone(origin))
            if kind[name] == "missing":
                continue
            shown = private_address(i) if kind[name] == "private" else world_address(i)
            zone.a[name] = (shown,)
            self.addresses[name] = shown
            port = ports["healthy" if kind[name] == "private" else kind[name]]
            self.address_map.append((shown, f"127.0.0.1:{port}"))
        servers = LabServers()
        self._closers.append(servers.close)
        answer = make_handler(list(zones.values()), {}, None)

        async def counted(query: Any, transport: str) -> Any:
            self.queries += 1
            return await answer(query, transport)

        self.dns = servers.add(ServerSpec(counted, name="egress-dns"))
        self.address_map.append((DNS_SHOWN, str(self.dns)))

    @staticmethod
    def _of(kind: dict[str, str], which: str) -> list[str]:
        return [n for n, k in kind.items() if k == which]

    def _https(self, handler: type[BaseHTTPRequestHandler], pki: Any, names: list[str], tag: str) -> int:
        if not names:
            return 0
        from aksdiag.lab.pki import server_context

        cert, key = pki.issue(f"egress-{tag}", names, ["127.0.0.1"])
        server = _TlsServer(handler, server_context(cert, key))
        self._servers.append(server)
        thread = threading.Thread(target=server.serve_forever, args=(0.01,), name=f"aksdiag-egress-{tag}", daemon=True)
        thread.start()

        def close() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        self._closers.append(close)
        return int(server.server_address[1])

    def _blackhole(self) -> int:
        """A listener that never accepts, its accept queue filled: further SYNs are dropped by the kernel."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # room for one connection not yet accepted
        port = int(listener.getsockname()[1])
        self._closers.append(listener.close)
        for _ in range(2):  # fill the queue; the second filler's own SYN may be the first dropped
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError, OSError):
                filler.connect(("127.0.0.1", port))
            self._closers.append(filler.close)
        return port

    # ------------------------------------------------------------------ what a run needs

    @property
    def accepted(self) -> int:
        """TCP connections the lab's HTTPS servers accepted (the blackhole accepts none)."""
        return sum(s.accepted for s in self._servers)

    def write_resolv_conf(self) -> Path:
        path = self.directory / "resolv.conf"
        path.write_text(f"nameserver {DNS_SHOWN}\noptions ndots:1\n")
        return path

    @property
    def ca_path(self) -> Path:
        return self.pki.ca_path

    def settings(self, **overrides: Any) -> Any:
        """Settings for an egress run against this lab (the `egress` command's extra included)."""
        from aksdiag import settings as settings_mod

        values: dict[str, Any] = {
            "resolv_conf": str(self.write_resolv_conf()),
            "address_map": tuple(self.address_map),
            "tls_ca_bundle": str(self.ca_path),
            "loopback_only": True,
            "extra": {"egress": "run"},
            "endpoints": tuple(f"{n}:443" for n in self.names),
        }
        values.update(overrides)
        return settings_mod.Settings(**values)

    def env(self) -> dict[str, str]:
        """The environment that points `aksdiag egress` at this lab (with --resolv-conf and --tls-ca-bundle)."""
        return {"AKSDIAG_ADDRESS_MAP": ",".join(f"{a}={b}" for a, b in self.address_map),
                "AKSDIAG_LOOPBACK_ONLY": "1"}  # fmt: skip

    def close(self) -> None:
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                close()
        self._closers.clear()

    def __enter__(self) -> EgressLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _closed_port() -> int:
    """A loopback port where nothing listens (bound, then closed): a connect there is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(extra: list[str], broken: list[str]) -> Any:
    """`aksdiag lab egress`: the essentials (koreacentral's) and `extra`, broken as `broken` (NAME=KIND) says,
    served until Ctrl-C, with the lines that point `aksdiag egress` at them."""
    import tempfile

    from aksdiag.errors import UsageError
    from aksdiag.exitcodes import ExitCode
    from aksdiag.lab.cli import stop_on_signals, wait_for_stop
    from aksdiag.probes.egress.endpoints import essentials

    names = list(dict.fromkeys([n for _, n in essentials("koreacentral")] + [e.lower() for e in extra]))
    kinds: dict[str, str] = {}
    for item in broken:
        name, _, kind = item.partition("=")
        if kind not in KINDS:
            raise UsageError(f"--broken {item!r}: give NAME=KIND, KIND one of {', '.join(KINDS)}")
        kinds[name.lower()] = kind
        names += [] if name.lower() in names else [name.lower()]
    stop_on_signals()
    with tempfile.TemporaryDirectory(prefix="aksdiag-egress-") as tmp, EgressLab(Path(tmp), names, kinds) as lab:
        env = lab.env()
        print(f"egress lab: {len(names)} endpoints, DNS at {lab.dns} (shown as {DNS_SHOWN})")
        for name in names:
            print(f"  {name:<40} {kinds.get(name, 'healthy')}")
        print()
        for key, value in env.items():
            print(f"  export {key}={value}")
        flags = " ".join(f"--endpoint {n}" for n in names if n not in {x for _, x in essentials("koreacentral")})
        print(f"  aksdiag egress --resolv-conf {lab.write_resolv_conf()} --tls-ca-bundle {lab.ca_path} "
              f"--region koreacentral {flags}".rstrip())  # fmt: skip
        try:
            print("\nCtrl-C stops it.", flush=True)
            wait_for_stop()
        except KeyboardInterrupt:
            print("egress lab stopped", file=sys.stderr)
    return ExitCode.OK
