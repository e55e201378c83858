"""A fake Kubernetes API server on loopback HTTPS, for the lab and the tests of everything that reads a cluster.

It serves a world: Kubernetes objects from YAML or JSON files (documents or `List`s). It answers like the real
API server for what aksdiag uses: discovery (`/api`, `/apis`, resource lists), get, list across or within a
namespace with `limit`/`continue` paging, label selectors (`=`, `!=`, `in`, `notin`, exists) and field selectors
(`metadata.name`, `metadata.namespace`, `spec.nodeName`, `status.podIP`, `status.phase`, `=`/`!=`, indexed so a
selector on 250,000 pods stays cheap), custom resources (NodeNetworkConfig), pod create/delete/log, 401 without
a bearer token, and 403 for the resources a world's `_rbac.yaml` denies (`deny: ["list pods", "get nodes"]`).

Watches (`?watch=true`, with `resourceVersion`, selectors and `timeoutSeconds`) stream `{"type", "object"}` lines
over a chunked response from an event window of the last WATCH_WINDOW changes; a resourceVersion older than the
window gets the real server's `ERROR` event with a 410 Expired Status. Pod creation is admitted like the real
server does: the namespace must exist and so must the pod's service account (403 otherwise). Pod status changes
come from whoever plays the kubelet (`aksdiag.lab.kubelet`) through `KubeWorld.update`.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES = [
    Resource("", "v1", "pods", "Pod", True),
    Resource("", "v1", "nodes", "Node", False),
    Resource("", "v1", "services", "Service", True),
    Resource("", "v1", "endpoints", "Endpoints", True),
    Resource("", "v1", "events", "Event", True),
    Resource("", "v1", "namespaces", "Namespace", False),
    Resource("", "v1", "configmaps", "ConfigMap", True),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True),
    Resource("apps", "v1", "deployments", "Deployment", True),
    Resource("apps", "v1", "replicasets", "ReplicaSet", True),
    Resource("apps", "v1", "daemonsets", "DaemonSet", True),
    Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
    Resource("acn.azure.com", "v1alpha", "nodenetworkconfigs", "NodeNetworkConfig", True),
]
BY_KIND = {r.kind: r for r in RESOURCES}
BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
INDEXED_FIELDS = ("metadata.name", "metadata.namespace", "spec.nodeName", "status.podIP", "status.phase")
WATCH_WINDOW = 5000
"""How many changes a watch can resume from (etcd's compaction window, in small)."""
BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
"""Namespaces every cluster has, whether or not the world lists them."""


@dataclass(frozen=True)
class Event:
    resource_version: int
    type: str
    resource: Resource
    object: dict[str, Any]
    previous: dict[str, Any] | None = None
    """The version before this change (None for ADDED): a watch needs both to judge a selector."""


class KubeWorld:
    """Objects by resource, with per-field indexes for the field selectors the API server supports."""

    def __init__(self) -> None:
        self.objects: dict[Resource, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
        self.index: dict[tuple[Resource, str, str], set[tuple[str, str]]] = defaultdict(set)
        self.denied: set[tuple[str, str]] = set()
        self.logs: dict[tuple[str, str], str] = {}
        self.resource_version = 1
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.events: deque[Event] = deque(maxlen=WATCH_WINDOW)
        """The last changes, oldest first, for watches; objects in it are never changed in place."""
        self._sorted: dict[Resource, list[tuple[str, str]]] = {}
        """Each resource's keys in list order, kept until the resource changes: paging 250,000 pods stays cheap."""

    @classmethod
    def load(cls, directory: str | Path) -> KubeWorld:
        import yaml

        world = cls()
        for path in sorted(Path(directory).iterdir()):
            if path.suffix not in (".yaml", ".yml", ".json"):
                continue
            docs = (
                [json.loads(path.read_text())] if path.suffix == ".json" else list(yaml.safe_load_all(path.read_text()))
            )
            if path.stem == "_rbac":
                for rule in (docs[0] or {}).get("deny", []):
                    verb, _, resource = rule.partition(" ")
                    world.denied.add((verb, resource))
                continue
            world.add_all(d for d in docs if d)
        return world

    def add_all(self, docs: Iterable[dict[str, Any]]) -> None:
        for doc in docs:
            if doc.get("kind", "").endswith("List") and "items" in doc:
                self.add_all(doc["items"])
            else:
                self.add(doc)

    def add(self, obj: dict[str, Any]) -> None:
        resource = BY_KIND.get(obj.get("kind", ""))
        if resource is None:
            raise ValueError(f"the fake API server does not serve kind {obj.get('kind')!r}")
        meta = obj.setdefault("metadata", {})
        namespace = meta.get("namespace", "default") if resource.namespaced else ""
        if resource.namespaced:
            meta["namespace"] = namespace
        key = (namespace, meta["name"])
        with self.lock:
            self.resource_version += 1
            existed = key in self.objects[resource]
            if existed:
                meta["resourceVersion"] = str(self.resource_version)
            meta.setdefault("resourceVersion", str(self.resource_version))
            meta.setdefault("uid", f"00000000-0000-4000-8000-{self.resource_version:012d}")
            previous = self.remove(resource, key, record=False)
            self.objects[resource][key] = obj
            self._sorted.pop(resource, None)
            for f in INDEXED_FIELDS:
                value = _field(obj, f)
                if value is not None:
                    self.index[(resource, f, value)].add(key)
            self._record("MODIFIED" if existed else "ADDED", resource, obj, previous)

    def update(
        self, resource: Resource, key: tuple[str, str], change: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any] | None:
        """Apply `change` to a copy of the object and store it as a new version; None if it is gone."""
        with self.lock:
            old = self.objects[resource].get(key)
            if old is None:
                return None
            new = copy.deepcopy(old)
            change(new)
            self.add(new)
            return new

    def remove(self, resource: Resource, key: tuple[str, str], record: bool = True) -> dict[str, Any] | None:
        with self.lock:
            old = self.objects[resource].pop(key, None)
            if old is not None:
                self._sorted.pop(resource, None)
                for f in INDEXED_FIELDS:
                    value = _field(old, f)
                    if value is not None:
                        self.index[(resource, f, value)].discard(key)
                if record:
                    self.resource_version += 1
                    gone = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self.resource_version)}}
                    self._record("DELETED", resource, gone, old)
            return old

    def _record(
        self, kind: str, resource: Resource, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> None:
        self.events.append(Event(self.resource_version, kind, resource, obj, previous))
        self.changed.notify_all()

    def events_since(self, resource_version: int) -> list[Event] | None:
        """The changes after `resource_version`, oldest first; None when the window no longer reaches back."""
        with self.lock:
            if self.events and resource_version < self.events[0].resource_version - 1:
                return None
            out: list[Event] = []
            for event in reversed(self.events):
                if event.resource_version <= resource_version:
                    break
                out.append(event)
            return out[::-1]

    def matches(self, obj: dict[str, Any], namespace: str | None, labels: str, fields: str) -> bool:
        meta = obj.get("metadata") or {}
        if namespace and meta.get("namespace") != namespace:
            return False
        return all(_field_matches(obj, r) for r in _parse_fields(fields)) and all(
            _label_matches(obj, r) for r in _parse_labels(labels)
        )

    def page(
        self, resource: Resource, namespace: str | None, labels: str, fields: str, start: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the matching objects and how many match in all; an unfiltered list is sliced directly."""
        with self.lock:
            if not (namespace or labels or fields):
                keys = self._sorted.get(resource)
                if keys is None:
                    keys = self._sorted[resource] = sorted(self.objects[resource])
                chosen = keys[start : start + limit] if limit else keys[start:]
                return [self.objects[resource][k] for k in chosen], len(keys)
        hits = self.select(resource, namespace, labels, fields)
        chosen_hits = hits[start : start + limit] if limit else hits[start:]
        return [obj for _, obj in chosen_hits], len(hits)

    def select(
        self, resource: Resource, namespace: str | None, labels: str, fields: str
    ) -> list[tuple[tuple[str, str], dict[str, Any]]]:
        """Objects matching, in (namespace, name) order; equality field selectors use the index."""
        with self.lock:
            store = self.objects[resource]
            keys: set[tuple[str, str]] | None = None
            field_rules = _parse_fields(fields)
            for name, op, value in field_rules:
                if op == "=" and name in INDEXED_FIELDS:
                    hits = self.index.get((resource, name, value), set())
                    keys = set(hits) if keys is None else keys & hits
            candidates = sorted(keys) if keys is not None else sorted(store)
            label_rules = _parse_labels(labels)
            out = []
            for key in candidates:
                obj = store.get(key)
                if obj is None or (namespace and key[0] != namespace):
                    continue
                if all(_field_matches(obj, r) for r in field_rules) and all(
                    _label_matches(obj, r) for r in label_rules
                ):
                    out.append((key, obj))
            return out


def _field(obj: dict[str, Any], path: str) -> str | None:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return None if value is None else str(value)


def _parse_fields(text: str) -> list[tuple[str, str, str]]:
    rules = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "!=" in part:
            name, value = part.split("!=", 1)
            rules.append((name.strip(), "!=", value.strip()))
        else:
            name, value = part.replace("==", "=").split("=", 1)
            rules.append((name.strip(), "=", value.strip()))
    return rules


def _field_matches(obj: dict[str, Any], rule: tuple[str, str, str]) -> bool:
    name, op, value = rule
    actual = _field(obj, name) or ""
    return actual == value if op == "=" else actual != value


def _parse_labels(text: str) -> list[tuple[str, str, frozenset[str]]]:
    rules: list[tuple[str, str, frozenset[str]]] = []
    parts, depth, current = [], 0, ""
    for ch in text:  # split on commas outside parentheses
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    for part in filter(None, (p.strip() for p in parts)):
        for word, op in ((" notin ", "notin"), (" in ", "in")):
            if word in part:
                key, values = part.split(word, 1)
                rules.append((key.strip(), op, frozenset(v.strip() for v in values.strip(" ()").split(","))))
                break
        else:
            if "!=" in part:
                key, value = part.split("!=", 1)
                rules.append((key.strip(), "!=", frozenset([value.strip()])))
            elif "=" in part:
                key, value = part.replace("==", "=").split("=", 1)
                rules.append((key.strip(), "=", frozenset([value.strip()])))
            elif part.startswith("!"):
                rules.append((part[1:].strip(), "!exists", frozenset()))
            else:
                rules.append((part, "exists", frozenset()))
    return rules


def _label_matches(obj: dict[str, Any], rule: tuple[str, str, frozenset[str]]) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    key, op, values = rule
    if op == "exists":
        return key in labels
    if op == "!exists":
        return key not in labels
    if op in ("=", "in"):
        return labels.get(key) in values
    return labels.get(key) not in values  # != and notin (a missing label matches)


class FakeKubeApi:
    """Serves a KubeWorld over HTTPS on 127.0.0.1; `kubeconfig(path)` writes a kubeconfig for it."""

    def __init__(self, world: KubeWorld, certdir: str | Path, token: str = "lab-token") -> None:
        from aksdiag.lab.apiserver import Pki

        self.world, self.token = world, token
        self.requests: list[tuple[str, str]] = []
        self.closing = threading.Event()
        self.pki = Pki(Path(certdir))
        cert, key = self.pki.issue("kube-apiserver", ["localhost", "kubernetes"], ["127.0.0.1"])
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="aksdiag-fake-kube", daemon=True)
        self._thread.start()

    def kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        import yaml

        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": "lab",
            "clusters": [{"name": "lab", "cluster": {
                "server": self.url,
                "certificate-authority-data": base64.b64encode(self.pki.ca_pem.encode()).decode()}}],
            "users": [{"name": "lab", "user": {"token": self.token}}],
            "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "lab", "namespace": namespace}}],
        }  # fmt: skip
        out = Path(path)
        out.write_text(yaml.safe_dump(doc))
        return out

    def close(self) -> None:
        self.closing.set()
        with self.world.changed:
            self.world.changed.notify_all()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeKubeApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}  # fmt: skip


def _resource_list(group_version: str) -> dict[str, Any]:
    return {
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
        "resources": [
            {"name": r.plural, "singularName": r.kind.lower(), "namespaced": r.namespaced, "kind": r.kind,
             "verbs": ["get", "list", "watch", "create", "delete"] if r.plural == "pods" else ["get", "list", "watch"]}
            for r in RESOURCES if r.group_version == group_version
        ] + ([{"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]}]
             if group_version == "v1" else []),
    }  # fmt: skip


def _groups() -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.group:
            groups.setdefault(r.group, [])
            if r.version not in groups[r.group]:
                groups[r.group].append(r.version)
    return {
        "kind": "APIGroupList", "apiVersion": "v1",
        "groups": [
            {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
             "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
            for g, vs in groups.items()
        ],
    }  # fmt: skip


def _handler(api: FakeKubeApi) -> type[BaseHTTPRequestHandler]:
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
            if self.headers.get("Authorization") != f"Bearer {api.token}":
                return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            parts = [p for p in url.path.split("/") if p]
            if parts == ["api"]:
                return self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
            if parts == ["apis"]:
                return self._send(200, _groups())
            if parts in (["version"],):
                return self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-aksdiag-lab"})
            if parts[:1] == ["api"] and len(parts) == 2:
                return self._send(200, _resource_list(parts[1]))
            if parts[:1] == ["apis"] and len(parts) == 3:
                return self._send(200, _resource_list(f"{parts[1]}/{parts[2]}"))
            route = _route(parts)
            if route is None:
                return self._send(
                    404, _status(404, "NotFound", f"the server could not find the requested resource ({url.path})")
                )
            resource, namespace, name, sub = route
            watching = query.get("watch") in ("1", "true") and not name
            verb = {"GET": "get" if name else "watch" if watching else "list", "POST": "create", "DELETE": "delete"}[
                method
            ]
            if (verb, resource.plural) in api.world.denied or (verb, f"{resource.plural}/{sub}") in api.world.denied:
                scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
                message = (f'{resource.plural} is forbidden: User "system:serviceaccount:aksdiag:aksdiag" cannot '
                           f'{verb} resource "{resource.plural}" in API group "{resource.group}" {scope}')  # fmt: skip
                return self._send(403, _status(403, "Forbidden", message))
            if method == "POST":
                return self._create(resource, namespace)
            if method == "DELETE":
                return self._delete(resource, namespace, name)
            if name:
                return self._get(resource, namespace, name, sub)
            if watching:
                return self._watch(resource, namespace, query)
            return self._list(resource, namespace, query)

        def _get(self, resource: Resource, namespace: str, name: str, sub: str) -> None:
            obj = api.world.objects[resource].get((namespace, name))
            if obj is None:
                return self._send(404, _status(404, "NotFound", f'{resource.plural} "{name}" not found'))
            if sub == "log":
                waiting = _waiting(obj) if (namespace, name) not in api.world.logs else None  # a lab may preset it
                if waiting is not None:
                    container = ((obj.get("spec") or {}).get("containers") or [{}])[0].get("name", "")
                    return self._send(400, _status(400, "BadRequest", f'container "{container}" in pod "{name}" is '
                                                                      f"waiting to start: {waiting}"))  # fmt: skip
                return self._send_text(200, api.world.logs.get((namespace, name), ""))
            self._send(200, obj)

        def _list(self, resource: Resource, namespace: str, query: dict[str, str]) -> None:
            hits = api.world.select(
                resource, namespace or None, query.get("labelSelector", ""), query.get("fieldSelector", "")
            )
            start = int(base64.b64decode(query["continue"]).decode()) if query.get("continue") else 0
            limit = int(query.get("limit") or 0)
            page = hits[start : start + limit] if limit else hits[start:]
            meta: dict[str, Any] = {"resourceVersion": str(api.world.resource_version)}
            end = start + len(page)
            if limit and end < len(hits):
                meta["continue"] = base64.b64encode(str(end).encode()).decode()
                meta["remainingItemCount"] = len(hits) - end
            if "as=Table" in (self.headers.get("Accept") or ""):
                return self._send(200, _table(resource, [obj for _, obj in page], meta))
            self._send(200, {"kind": f"{resource.kind}List", "apiVersion": resource.group_version, "metadata": meta,
                             "items": [obj for _, obj in page]})  # fmt: skip

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
                    409, _status(409, "AlreadyExists", f'{resource.plural} "{meta.get("name")}" already exists')
                )
            meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            if resource.namespaced and not self._namespace_exists(meta.get("namespace", "")):
                ns = meta.get("namespace", "")
                return self._send(404, _status(404, "NotFound", f'namespaces "{ns}" not found'))
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
                return _status(422, "Invalid", f'Pod "{meta.get("name")}" is invalid: spec.containers: Required value')
            account = spec.get("serviceAccountName") or "default"
            accounts = api.world.objects[BY_KIND["ServiceAccount"]]
            if account != "default" and (meta["namespace"], account) not in accounts:
                return _status(403, "Forbidden", f'pods "{meta.get("name")}" is forbidden: error looking up service '
                               f'account {meta["namespace"]}/{account}: serviceaccount "{account}" not found')  # fmt: skip
            return None

        def _watch(self, resource: Resource, namespace: str, query: dict[str, str]) -> None:
            """A watch: the changes after resourceVersion (or every object first, without one) as JSON lines."""
            labels, fields = query.get("labelSelector", ""), query.get("fieldSelector", "")
            deadline = time.monotonic() + min(float(query.get("timeoutSeconds") or 1800), 1800)
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
                        gone = _status(410, "Expired", f"too old resource version: {since} ({oldest})")
                        first = [("ERROR", gone)]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for kind, obj in first:
                    self._chunk({"type": kind, "object": obj})
                while not first or first[0][0] != "ERROR":
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or api.closing.is_set():
                        break
                    with world.changed:
                        events = world.events_since(since) or []
                        if not events:
                            world.changed.wait(min(remaining, 0.5))
                            continue
                        since = events[-1].resource_version
                    for event in events:
                        line = _event_for(api.world, event, resource, namespace, labels, fields)
                        if line is not None:
                            self._chunk(line)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

        def _chunk(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _delete(self, resource: Resource, namespace: str, name: str) -> None:
            old = api.world.remove(resource, (namespace, name))
            if old is None:
                return self._send(404, _status(404, "NotFound", f'{resource.plural} "{name}" not found'))
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


def _table(resource: Resource, objects: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """Server-side printing (what kubectl asks for): pods get kubectl's columns, other kinds name and age."""

    def column(name: str, priority: int = 0, kind: str = "string") -> dict[str, Any]:
        return {"name": name, "type": kind, "format": "name" if name == "Name" else "", "description": "",
                "priority": priority}  # fmt: skip

    if resource.kind == "Pod":
        columns = [column("Name"), column("Ready"), column("Status"), column("Restarts", kind="integer"),
                   column("Age"), column("IP", 1), column("Node", 1), column("Nominated Node", 1),
                   column("Readiness Gates", 1)]  # fmt: skip

        def cells(o: dict[str, Any]) -> list[Any]:
            status, spec = o.get("status") or {}, o.get("spec") or {}
            total = len(spec.get("containers") or [])
            ready = sum(1 for c in status.get("containerStatuses") or [] if c.get("ready"))
            return [o["metadata"]["name"], f"{ready}/{total}", status.get("phase", "Unknown"), 0, "<unknown>",
                    status.get("podIP") or "<none>", spec.get("nodeName") or "<none>", "<none>", "<none>"]  # fmt: skip
    else:
        columns = [column("Name"), column("Age")]

        def cells(o: dict[str, Any]) -> list[Any]:
            return [o["metadata"]["name"], "<unknown>"]

    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": columns,
        "rows": [
            {"cells": cells(o), "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                           "metadata": o["metadata"]}}
            for o in objects
        ],
    }  # fmt: skip


def _event_for(
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


def _route(parts: list[str]) -> tuple[Resource, str, str, str] | None:
    """(resource, namespace, name, subresource) of an object or collection path."""
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = ""
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = BY_PATH.get((group, version, rest[0]))
    if resource is None:
        return None
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    return resource, namespace, name, sub
