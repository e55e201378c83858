"""The fake API server's HTTP handler: authentication (a token is a user), discovery, authorization (the world's
denials, and for service accounts its RBAC objects: rbac.py), get/list (paged), create with the real server's
admission checks, delete, pod logs, and server-side tables for kubectl; watches in watch.py."""

from __future__ import annotations

import base64
import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from aksdiag.lab.apiserver import HEALTH_PATHS, health
from aksdiag.lab.arm import wait_or_hangup
from aksdiag.lab.kube import protocol, rbac, watch
from aksdiag.lab.kube.store import BUILTIN_NAMESPACES, BY_KIND, Resource

if TYPE_CHECKING:
    from aksdiag.lab.kube import FakeKubeApi


def make_handler(api: FakeKubeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def _dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            api.requests.append((method, self.path))
            length = int(self.headers.get("Content-Length") or 0)
            self.body = self.rfile.read(length) if length else b""  # read even when refused: keep-alive goes on
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            user = api.users.get(token)
            if user is None:
                return self._send(401, protocol.status(401, "Unauthorized", "Unauthorized"))
            api.requests_by.append((user if token != api.token else "", method, self.path))
            self.repeat_continue = False
            fault = next((f for k, f in api.world.faults.items() if k in url.path), None)
            if fault and self._fault(fault):
                return None
            parts = [p for p in url.path.split("/") if p]
            if url.path in HEALTH_PATHS:  # the demo's API server is this server: kube-apiserver's health checks
                return self._send_text(*health(url.path))
            if parts == ["api"]:
                return self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
            if parts == ["apis"]:
                return self._send(200, protocol.groups())
            if parts in (["version"],):
                return self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-aksdiag-lab"})
            if parts[:1] == ["api"] and len(parts) == 2:
                return self._send(200, protocol.resource_list(parts[1]))
            if parts[:1] == ["apis"] and len(parts) == 3:
                return self._send(200, protocol.resource_list(f"{parts[1]}/{parts[2]}"))
            route = protocol.route(parts)
            if route is None:
                return self._send(
                    404,
                    protocol.status(404, "NotFound", f"the server could not find the requested resource ({url.path})"),
                )
            resource, namespace, name, sub = route
            watching = query.get("watch") in ("1", "true") and not name
            verb = {"GET": "get" if name else "watch" if watching else "list", "POST": "create", "DELETE": "delete"}[
                method
            ]
            if api.world.forbids(verb, resource.plural, name, sub) or (
                token != api.token and rbac.models_rbac(api.world)
                and not rbac.allows(api.world, user, verb, resource, namespace, name, sub)
            ):  # fmt: skip
                refusal = protocol.forbidden(resource, verb, namespace, name, sub, user)
                if api.world.denial_reason and token != api.token:  # an authorizer webhook's words (Azure RBAC)
                    refusal["message"] += f": {api.world.denial_reason}"
                return self._send(403, refusal)
            if method == "POST":
                return self._create(resource, namespace)
            if method == "DELETE":
                return self._delete(resource, namespace, name)
            if name:
                return self._get(resource, namespace, name, sub)
            if watching:
                return watch.stream(self, api, resource, namespace, query)
            return self._list(resource, namespace, query)

        def _fault(self, fault: dict[str, Any]) -> bool:
            """Answer as the fault says; False lets the request go on (a slow answer, a repeating continue)."""
            if fault.get("delay_s") and not wait_or_hangup(self.connection, float(fault["delay_s"])):
                self.close_connection = True  # the client left while we were slow
                return True
            if fault.get("close"):
                self.close_connection = True
                return True
            if fault.get("body") == "garbage":
                data = b"<html>upstream connect error\x00\xff"
                self.send_response(int(fault.get("status", 200)))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return True
            if "status" in fault:
                code = int(fault["status"])
                self._send(code, protocol.status(code, fault.get("reason", "InternalError"), "injected fault"))
                return True
            self.repeat_continue = fault.get("continue") == "repeat"
            return False

        def _get(self, resource: Resource, namespace: str, name: str, sub: str) -> None:
            obj = api.world.objects[resource].get((namespace, name))
            if obj is None:
                return self._send(404, protocol.status(404, "NotFound", f'{resource.plural} "{name}" not found'))
            if sub == "log":
                waiting = _waiting(obj) if (namespace, name) not in api.world.logs else None  # a lab may preset it
                if waiting is not None:
                    container = ((obj.get("spec") or {}).get("containers") or [{}])[0].get("name", "")
                    return self._send(400, protocol.status(400, "BadRequest", f'container "{container}" in pod "{name}" is '
                                                                      f"waiting to start: {waiting}"))  # fmt: skip
                return self._send_text(200, api.world.logs.get((namespace, name), ""))
            self._send(200, obj)

        def _list(self, resource: Resource, namespace: str, query: dict[str, str]) -> None:
            labels, fields = query.get("labelSelector", ""), query.get("fieldSelector", "")
            start = int(base64.b64decode(query["continue"]).decode()) if query.get("continue") else 0
            limit = int(query.get("limit") or 0)
            page, total = api.world.page(resource, namespace or None, labels, fields, start, limit)
            meta: dict[str, Any] = {"resourceVersion": str(api.world.resource_version)}
            end = start + len(page)
            if getattr(self, "repeat_continue", False):  # a fault: the same token on every page, forever
                meta["continue"] = base64.b64encode(b"0").decode()
            elif limit and end < total:
                meta["continue"] = base64.b64encode(str(end).encode()).decode()
                meta["remainingItemCount"] = total - end
            if "as=Table" in (self.headers.get("Accept") or ""):
                return self._send(200, protocol.table(resource, page, meta))
            self._send(200, {"kind": f"{resource.kind}List", "apiVersion": resource.group_version, "metadata": meta,
                             "items": page})  # fmt: skip

        def _create(self, resource: Resource, namespace: str) -> None:
            obj = json.loads(self.body or b"{}")
            obj.setdefault("kind", resource.kind)
            obj.setdefault("apiVersion", resource.group_version)
            meta = obj.setdefault("metadata", {})
            if namespace:
                meta["namespace"] = namespace
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = f"{meta['generateName']}{int(time.time() * 1000) % 100000:05d}"
            if (meta.get("namespace", ""), meta.get("name")) in api.world.objects[resource]:
                return self._send(
                    409, protocol.status(409, "AlreadyExists", f'{resource.plural} "{meta.get("name")}" already exists')
                )
            meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            if resource.namespaced and not self._namespace_exists(meta.get("namespace", "")):
                ns = meta.get("namespace", "")
                return self._send(404, protocol.status(404, "NotFound", f'namespaces "{ns}" not found'))
            if resource.kind == "Pod":
                refused = self._admit_pod(obj)
                if refused is not None:
                    return self._send(refused["code"], refused)
                obj["status"] = {"phase": "Pending", "qosClass": "Burstable"}
            api.world.add(obj)
            self._send(201, obj)

        def _namespace_exists(self, namespace: str) -> bool:
            namespaces = api.world.objects[BY_KIND["Namespace"]]
            return namespace in BUILTIN_NAMESPACES or ("", namespace) in namespaces

        def _admit_pod(self, pod: dict[str, Any]) -> dict[str, Any] | None:
            """What the real API server's validation and ServiceAccount admission refuse, as a Status."""
            meta, spec = pod["metadata"], pod.get("spec") or {}
            containers = spec.get("containers") or []
            if not containers or not all(c.get("name") and c.get("image") for c in containers):
                return protocol.status(
                    422, "Invalid", f'Pod "{meta.get("name")}" is invalid: spec.containers: Required value'
                )
            account = spec.get("serviceAccountName") or "default"
            accounts = api.world.objects[BY_KIND["ServiceAccount"]]
            if account != "default" and (meta["namespace"], account) not in accounts:
                return protocol.status(403, "Forbidden", f'pods "{meta.get("name")}" is forbidden: error looking up service '
                               f'account {meta["namespace"]}/{account}: serviceaccount "{account}" not found')  # fmt: skip
            return None

        def _delete(self, resource: Resource, namespace: str, name: str) -> None:
            old = api.world.remove(resource, (namespace, name))
            if old is None:
                return self._send(404, protocol.status(404, "NotFound", f'{resource.plural} "{name}" not found'))
            self._send(200, old)

        def _send(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_text(self, code: int, text: str) -> None:
            data = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _waiting(pod: dict[str, Any]) -> str | None:
    """Why the pod's first container has not started yet, or None once it has (or has run)."""
    status = pod.get("status") or {}
    if status.get("phase") not in (None, "Pending"):
        return None
    for c in status.get("containerStatuses") or []:
        waiting = (c.get("state") or {}).get("waiting")
        if waiting is not None:
            return str(waiting.get("reason") or "ContainerCreating")
        if (c.get("state") or {}).get("running") or (c.get("state") or {}).get("terminated"):
            return None
    return "ContainerCreating"
