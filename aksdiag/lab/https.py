"""The thread that serves a lab HTTP handler over TLS on 127.0.0.1, shared by the three fake HTTPS servers.

socketserver's serve_forever looks for a shutdown request only between polls, every 0.5 s by default: a test
that starts and stops a fake server paid that half second at every close. Polling every POLL_S makes close()
return within a few milliseconds, for a handful of idle wake-ups a second. The listen backlog is raised too (see
_Server): bursts of concurrent connections no longer wait out a SYN retransmission.
"""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

POLL_S = 0.01
"""How often the serving thread looks for a shutdown request: what close() waits at most."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    """socketserver's default backlog of 5 overflows when an SDK opens a dozen connections at once: the kernel
    drops the extra SYNs and the client resends them after its 1 s retransmission timeout — a second per burst."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a deadline passed, a fault closed the connection) is normal here: not a
        traceback on the test's stderr. Anything else is still printed."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError | TimeoutError):
            return
        super().handle_error(request, client_address)


class HttpsServer:
    """Serves `handler` over TLS (`context`) on 127.0.0.1:`port` (0: any) in a daemon thread."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext, port: int = 0, name: str = "aksdiag-lab"
    ) -> None:
        self.server = _Server(("127.0.0.1", port), handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(POLL_S,), name=name, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Stop accepting and close the listening socket; connections still open end with their daemon threads."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
