"""A fake Azure Resource Manager on loopback HTTPS, for the lab and the tests of the Azure source.

It serves a world: one JSON file per resource (its GET body, carrying its `id`). A GET of an id returns the
body; a GET of a collection (`…/virtualNetworks`, `…/privateDnsZones/z/virtualNetworkLinks`, or a
subscription-wide `/subscriptions/S/providers/NS/type`) lists the resources whose ids sit right under it, in
pages with `nextLink`. `_faults.json` in the world makes paths answer 403/404/429/500 (`times` limits how
often), a redirect (`location`) or a page whose nextLink is the fault's (`next_link`); `delay_s` answers late,
`close` closes the connection unanswered, `body: garbage` answers what is not JSON, `loop` pages to itself.
Any bearer token is accepted; a request without one gets 401. Anything but GET (and a POST of a Resource Graph query, lab.armgraph) gets 405 — and is recorded, so
a test can prove that aksdiag never tried. TLS uses a throwaway CA (aksdiag.lab.pki) written to `certdir/ca.pem`.

Subscriptions and resource groups exist as in ARM: a world holds the subscriptions and resource groups named in its
resources' ids, plus those given explicitly (a `/subscriptions/S` body, a `Microsoft.Resources/resourceGroups`
body: how a world says "this resource group exists, empty"; a world file's subscription body may carry `name` and
`type` for the lab's tooling, which ARM's wire shape has not: they are dropped). Anything under a subscription the world does not hold
is 404 SubscriptionNotFound, under a missing resource group 404 ResourceGroupNotFound (lists included: ARM never
answers an empty 200 there). `GET /subscriptions` lists the subscriptions, in pages. A subscription named in
`_faults.json`'s `hidden_subscriptions` (or ArmWorld.hidden_subscriptions) is one the caller cannot read: left out
of that list, and everything under it is 403 AuthorizationFailed naming the action and scope, as ARM words it.
Built-in role definitions are served at every scope, as ARM does (arm_seeds/builtin_roles.json).
The world (bodies, markers, lookup indexes) is lab.armstore's ArmWorld. Faults apply to the Resource Graph path
too (a pattern such as `/microsoft.resourcegraph/`; `loop` answers a page whose `$skipToken` is the request's).
Each request records its subscription (`Request.subscription`, `FakeArm.requests_by_subscription()`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aksdiag.fleet.queries import GRAPH_PATH
from aksdiag.lab.armbodies import TENANT, builtin_role, denied, not_found, resource_group_body, subscription_body
from aksdiag.lab.armbodies import error as _error
from aksdiag.lab.armstore import HIDDEN, ROLE_ASSIGNMENTS, ArmWorld
from aksdiag.lab.https import HttpsServer
from aksdiag.lab.pki import Pki, server_context

PAGE_SIZE = 2
"""Small on purpose: every list of more than two resources exercises nextLink paging."""


@dataclass
class Request:
    method: str
    path: str
    query: str
    authorized: bool
    status: int
    started: float
    ended: float = 0.0
    subscription: str = ""
    """The lower-cased subscription the path is under ("" for `/subscriptions` itself and paths outside one)."""


class FakeArm:
    """Serves an ArmWorld over HTTPS on 127.0.0.1; `endpoint` and `ca_path` say how to reach and trust it."""

    def __init__(self, world: ArmWorld, certdir: str | Path, port: int = 0, latency_s: float = 0.0) -> None:
        self.world = world
        self.latency_s = latency_s
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._fault_counts: dict[str, int] = {}
        pki = Pki(Path(certdir), name="aksdiag lab ARM CA")
        self.ca_path = str(pki.ca_path)
        cert, key = pki.issue("arm", ["localhost"], ["127.0.0.1"])
        self._https = HttpsServer(_make_handler(self), server_context(cert, key), port, name="aksdiag-fake-arm")
        self.endpoint = self._https.url

    def close(self) -> None:
        self._https.close()

    def __enter__(self) -> FakeArm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def writes(self) -> list[Request]:
        """Every request but a GET and a Resource Graph query (a POST to its path that reads)."""
        return [r for r in self.requests if r.method != "GET" and not _is_graph(r)]

    def graph_queries(self) -> list[Request]:
        return [r for r in self.requests if _is_graph(r)]

    def requests_by_subscription(self) -> dict[str, list[Request]]:
        """The requests by the (lower-cased) subscription they went to; "" for `/subscriptions` itself."""
        out: dict[str, list[Request]] = {}
        with self._lock:
            for r in self.requests:
                out.setdefault(r.subscription, []).append(r)
        return out

    def fault_for(self, path: str) -> dict[str, Any] | None:
        with self._lock:
            for pattern, fault in self.world.faults.items():
                if pattern == HIDDEN:
                    continue
                if pattern.lower() in path:
                    used = self._fault_counts.get(pattern, 0)
                    if "times" in fault and used >= fault["times"]:
                        continue
                    self._fault_counts[pattern] = used + 1
                    return fault
        return None


def _make_handler(arm: FakeArm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read arm.requests instead
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._refuse()

        do_PATCH = do_DELETE = do_PUT

        def do_POST(self) -> None:
            """Resource Graph's query path reads (lab.armgraph); every other POST is refused like any write."""
            if urlsplit(self.path).path.rstrip("/").lower() != GRAPH_PATH.lower():
                self._refuse()
                return
            req = self._record(200)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if arm.latency_s:
                time.sleep(arm.latency_s)
            status, body, headers = self._graph(raw, req)
            req.status, req.ended = status, time.monotonic()
            self._send(status, body, headers)

        def _graph(self, raw: bytes, req: Request) -> tuple[int, Any, dict[str, str]]:
            """A Resource Graph query's answer: 401 without a token, a fault at its path, else lab.armgraph's."""
            if not req.authorized:
                return 401, _error("AuthenticationFailed", "Authentication failed: no bearer token."), {}
            try:
                request = json.loads(raw or b"{}")
            except ValueError:
                request = None
            if not isinstance(request, dict):
                return 400, _error("BadRequest", "The request body is not a JSON object."), {}
            fault = arm.fault_for(GRAPH_PATH.lower())
            if fault:
                token = (request.get("options") or {}).get("$skipToken") or "bG9vcA"
                page: dict[str, Any] = {"totalRecords": 1, "count": 0, "resultTruncated": "false", "$skipToken": token, "data": []}
                return self._faulted(fault, {**page, "facets": []})
            from aksdiag.lab import armgraph

            status, body = armgraph.answer(arm.world, request)
            return status, body, {}

        def _refuse(self) -> None:
            self._record(405)
            self._send(405, _error("MethodNotAllowed", "the aksdiag lab ARM is read-only"))

        def _record(self, status: int) -> Request:
            url = urlsplit(self.path)
            req = Request(
                self.command,
                url.path,
                url.query,
                self.headers.get("Authorization", "").startswith("Bearer "),
                status,
                time.monotonic(),
                subscription=_subscription_of(url.path),
            )
            with arm._lock:
                arm.requests.append(req)
            return req

        def _serve(self) -> None:
            url = urlsplit(self.path)
            path = url.path.lower().rstrip("/")
            req = self._record(200)
            if arm.latency_s:
                time.sleep(arm.latency_s)
            status, body, headers = self._answer(path, parse_qs(url.query), req)
            req.status, req.ended = status, time.monotonic()
            self._send(status, body, headers)

        def _answer(self, path: str, query: dict[str, list[str]], req: Request) -> tuple[int, Any, dict[str, str]]:
            if not req.authorized:
                return 401, _error("AuthenticationFailed", "Authentication failed: no bearer token."), {}
            fault = arm.fault_for(path)
            if fault:
                return self._faulted(fault, {"value": [], "nextLink": f"{arm.endpoint}{self.path}"})
            missing = self._scope_answer(path)
            if missing is not None:
                return missing
            if path == "/subscriptions":
                hidden = arm.world.hidden()
                return self._page([b for b in arm.world.subscription_bodies() if _sub(b) not in hidden], query)
            if path in arm.world.resources:
                return 200, arm.world.resources[path], {}
            if path in arm.world.documents:
                return 200, arm.world.document(path, query), {}
            builtin = builtin_role(urlsplit(self.path).path.rstrip("/"))
            if builtin is not None:  # ARM serves the built-in roles at every scope
                return 200, builtin, {}
            if "/virtualmachinescalesets/" in path and path.endswith("/networkinterfaces"):
                items = arm.world.scale_set_nics(path[: -len("/networkinterfaces")])
            elif len(path.split("/")) == 4 and path.endswith("/resourcegroups"):
                items = arm.world.resource_group_bodies(path.split("/")[2])
            elif path.endswith(ROLE_ASSIGNMENTS):
                items = arm.world.role_assignments(path[: -len(ROLE_ASSIGNMENTS)], query.get("$filter", [""])[0])
            else:
                items = arm.world.children(path)
            if not items and not _is_collection(path) and not path.endswith("/resourcegroups"):
                return 404, _error("ResourceNotFound", not_found(urlsplit(self.path).path)), {}
            return self._page(items, query)

        def _faulted(self, fault: dict[str, Any], loop: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
            """A fault's answer; `loop` is the page that pages to itself (a GET's nextLink, ARG's `$skipToken`)."""
            status = int(fault.get("status", 500))
            headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
            if fault.get("delay_s") and not wait_or_hangup(self.connection, float(fault["delay_s"])):
                return 0, CLOSE, {}  # a slow ARM: the answer comes after this long, unless the client left
            if fault.get("close"):  # the connection closes with no answer
                return 0, CLOSE, {}
            if fault.get("body") == "garbage":  # a body that is not JSON
                return status if "status" in fault else 200, GARBAGE, headers
            if fault.get("loop"):  # a page that names itself as the next one: paging that never ends
                return 200, loop, headers
            if "location" in fault:  # a redirect (status 301/302/307/308) to wherever the fault says
                return status, {}, {**headers, "Location": fault["location"]}
            if "next_link" in fault:  # an empty page whose nextLink points wherever the fault says
                return 200, {"value": [], "nextLink": fault["next_link"]}, headers
            return status, _error(fault.get("code", "Fault"), fault.get("message", "injected fault")), headers

        def _page(self, items: list[dict[str, Any]], query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
            skip = int(query.get("$skiptoken", ["0"])[0])
            page: dict[str, Any] = {"value": items[skip : skip + PAGE_SIZE]}
            if skip + PAGE_SIZE < len(items):
                rest = {k: v[0] for k, v in query.items() if k != "$skiptoken"}
                rest["$skiptoken"] = str(skip + PAGE_SIZE)
                page["nextLink"] = f"{arm.endpoint}{urlsplit(self.path).path}?{urlencode(rest)}"
            return 200, page, {}

        def _scope_answer(self, path: str) -> tuple[int, Any, dict[str, str]] | None:
            """What ARM answers for a path under a subscription or resource group the caller cannot see or that
            does not exist (None when both are there); a resource group's own GET is answered here too."""
            parts = path.split("/")
            if len(parts) < 3 or parts[1] != "subscriptions":
                return None
            original = urlsplit(self.path).path.rstrip("/").split("/")
            sub = parts[2]
            if sub in arm.world.hidden():
                return 403, _denied(original), {}
            if not arm.world.has_subscription(sub):
                return 404, _error("SubscriptionNotFound", f"The subscription '{original[2]}' could not be found."), {}
            if len(parts) == 3:
                return 200, arm.world.subscriptions.get(sub) or subscription_body(sub), {}
            if len(parts) > 4 and parts[3] == "resourcegroups":
                if not arm.world.has_resource_group(sub, parts[4]):
                    message = f"Resource group '{original[4]}' could not be found."
                    return 404, _error("ResourceGroupNotFound", message), {}
                if len(parts) == 5 and path not in arm.world.resources:
                    return 200, resource_group_body("/".join(original)), {}
            return None

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            if body is CLOSE:
                self.close_connection = True
                return
            data = GARBAGE if body is GARBAGE else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-request-id", "00000000-0000-0000-0000-00000000aks0")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def wait_or_hangup(connection: Any, seconds: float) -> bool:
    """Wait `seconds` before answering, as a slow server does; False as soon as the client hangs up (its TLS
    close_notify or FIN arrives), so the client's TLS shutdown completes instead of waiting on a sleeping server."""
    import select

    readable, _, _ = select.select([connection], [], [], seconds)
    return not readable


CLOSE = object()
"""A fault's answer: none, the connection closes (`close`)."""
GARBAGE = b"<html><body>502 Bad Gateway</body></html>\x00\xff"
"""A fault's answer body that is not JSON (`body: garbage`)."""


def _is_collection(path: str) -> bool:
    """A path ending in a type segment (an even number of segments after the provider namespace)."""
    parts = path.strip("/").split("/")
    if "providers" not in parts:
        return False
    after = parts[parts.index("providers") + 1 :]
    return len(after) >= 2 and len(after) % 2 == 0


def _is_graph(r: Request) -> bool:
    return r.method == "POST" and r.path.rstrip("/").lower() == GRAPH_PATH.lower()


def _subscription_of(path: str) -> str:
    parts = path.lower().split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "subscriptions" else ""


__all__ = ["HIDDEN", "ROLE_ASSIGNMENTS", "TENANT", "ArmWorld", "FakeArm", "Request", "builtin_role", "denied",
           "not_found", "resource_group_body", "subscription_body"]  # fmt: skip


def _denied(parts: list[str]) -> dict[str, Any]:
    return _error("AuthorizationFailed", denied("/".join(parts))[2])


def _sub(body: dict[str, Any]) -> str:
    return str(body.get("subscriptionId") or body["id"].rsplit("/", 1)[-1]).lower()
