"""A fake kube-apiserver on loopback for the lab and the tests: real TLS with certificates from aksdiag.lab.pki, and
/readyz and /livez answered as kube-apiserver does (401 anonymous, 200 with the right token or client
certificate, 500 with `[-]` lines for failing checks). Also a server that accepts TCP and never speaks TLS."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from aksdiag.lab.https import HttpsServer
from aksdiag.lab.pki import Pki, server_context

__all__ = ["CHECKS", "HEALTH_PATHS", "FakeApiServer", "Pki", "SilentTls", "health"]

CHECKS = ("ping", "log", "etcd", "informer-sync", "poststarthook/start-apiextensions-controllers")
HEALTH_PATHS = ("/readyz", "/livez")


def health(path: str, failing: tuple[str, ...] = ()) -> tuple[int, str]:
    """kube-apiserver's answer to /readyz or /livez (`?verbose` lines): 200, or 500 naming the failing checks."""
    lines = [f"[{'-' if c in failing else '+'}]{c} {'failed: reason withheld' if c in failing else 'ok'}"
             for c in CHECKS]  # fmt: skip
    lines.append(f"{path.strip('/')} check {'failed' if failing else 'passed'}")
    return (500 if failing else 200), "\n".join(lines) + "\n"


@dataclass
class FakeApiServer:
    """kube-apiserver's health endpoints over TLS on 127.0.0.1; `failing` names checks that fail."""

    cert_file: Path
    key_file: Path
    token: str = "lab-token"
    client_ca_pem: str | None = None
    failing: tuple[str, ...] = ()
    requests: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        context = server_context(self.cert_file, self.key_file, self.client_ca_pem)
        self._https = HttpsServer(_handler(self), context, name="aksdiag-fake-apiserver")
        self.port = self._https.port

    def close(self) -> None:
        self._https.close()

    def __enter__(self) -> FakeApiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _handler(api: FakeApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            auth = self.headers.get("Authorization", "")
            has_cert = bool(self.connection.getpeercert()) if hasattr(self.connection, "getpeercert") else False
            who = "token" if auth == f"Bearer {api.token}" else "client-cert" if has_cert else "anonymous"
            api.requests.append((path, who))
            if who == "anonymous":
                self._send(
                    401, '{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}'
                )
                return
            if path not in HEALTH_PATHS:
                self._send(404, "not found")
                return
            self._send(*health(path, api.failing))

        def _send(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class SilentTls:
    """Accepts TCP connections and never answers: a TLS handshake that never finishes (an appliance, a hung LB)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self._held.append(conn)
            except OSError:
                continue

    def close(self) -> None:
        """Wakes the blocked accept() at once: shutting down a listening socket makes it fail."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=2)
        for c in self._held:
            c.close()
        self.sock.close()

    def __enter__(self) -> SilentTls:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
