"""Watches (`?watch=true`): the changes after a resourceVersion, or every object first without one, streamed as
`{"type", "object"}` JSON lines over a chunked response until `timeoutSeconds` or the server closes.

A resourceVersion older than the store's event window gets the real server's `ERROR` event with a 410 Expired
Status; an object that leaves a watch's selection is DELETED for it, one that enters is ADDED.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from aksdiag.lab.kube.protocol import status
from aksdiag.lab.kube.store import Event, KubeWorld, Resource

if TYPE_CHECKING:
    from aksdiag.lab.kube import FakeKubeApi

MAX_WATCH_S = 1800.0
WAKE_S = 0.5
"""A waiting watch looks at its deadline this often; a change or the server's close wakes it at once."""


def stream(
    handler: BaseHTTPRequestHandler, api: FakeKubeApi, resource: Resource, namespace: str, query: dict[str, str]
) -> None:
    labels, fields = query.get("labelSelector", ""), query.get("fieldSelector", "")
    deadline = time.monotonic() + min(float(query.get("timeoutSeconds") or MAX_WATCH_S), MAX_WATCH_S)
    world = api.world
    with world.lock:
        since = world.resource_version
        first: list[tuple[str, dict[str, Any]]] = []
        start = query.get("resourceVersion") or "0"
        if start == "0":
            first = [("ADDED", obj) for _, obj in world.select(resource, namespace or None, labels, fields)]
        else:
            since = int(start)
            if world.events_since(since) is None:
                oldest = world.events[0].resource_version
                first = [("ERROR", status(410, "Expired", f"too old resource version: {since} ({oldest})"))]
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    try:
        for kind, obj in first:
            _chunk(handler, {"type": kind, "object": obj})
        while not first or first[0][0] != "ERROR":
            remaining = deadline - time.monotonic()
            if remaining <= 0 or api.closing.is_set():
                break
            with world.changed:
                events = world.events_since(since) or []
                if not events:
                    world.changed.wait(min(remaining, WAKE_S))
                    continue
                since = events[-1].resource_version
            for event in events:
                line = event_for(world, event, resource, namespace, labels, fields)
                if line is not None:
                    _chunk(handler, line)
        handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError, OSError):
        handler.close_connection = True


def event_for(
    world: KubeWorld, event: Event, resource: Resource, namespace: str, labels: str, fields: str
) -> dict[str, Any] | None:
    """The event as a watch with these selectors sees it: leaving the selection is DELETED, entering it ADDED."""
    if event.resource is not resource:
        return None
    before = event.previous is not None and world.matches(event.previous, namespace or None, labels, fields)
    if event.type == "DELETED":
        return {"type": "DELETED", "object": event.object} if before else None
    now = world.matches(event.object, namespace or None, labels, fields)
    if now:
        return {"type": "MODIFIED" if before else "ADDED", "object": event.object}
    return {"type": "DELETED", "object": event.object} if before else None


def _chunk(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode() + b"\n"
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.flush()
