"""The fake API server's object store: the resources it serves, the objects by resource with field indexes,
and the window of recent changes that watches resume from (etcd's role, in small)."""

from __future__ import annotations

import copy
import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aksdiag.lab.kube.selection import field_matches, field_value, label_matches, parse_fields, parse_labels


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
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
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
        """(verb, resource) refused with 403: `pods`, a subresource `pods/log`, or one object `configmaps/NAME`."""
        self.allowed: set[tuple[str, str]] = set()
        """(verb, `resource/NAME`) let through despite a denial of the resource: RBAC's `resourceNames`."""
        self.faults: dict[str, dict[str, Any]] = {}
        """Path substring → fault (handler.fault): `status` (401, 500…), `close`, `body: garbage`, `delay_s`,
        `continue: repeat` (every page of a list names the same continue token)."""
        self.logs: dict[tuple[str, str], str] = {}
        self.groups: dict[str, tuple[str, ...]] = {}
        """User → the groups its token carries (an Entra ID token's groups claim: object ids), for RBAC's Group
        subjects (aksdiag.lab.signinworld)."""
        self.denial_reason = ""
        """What an authorizer webhook adds to a user's 403 (AKS's Azure RBAC: "User does not have access to the
        resource in Azure. …"); "" for Kubernetes RBAC alone."""
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
                for key, rules in (("deny", world.denied), ("allow", world.allowed)):
                    for rule in (docs[0] or {}).get(key, []):
                        verb, _, resource = rule.partition(" ")
                        rules.add((verb, resource))
                continue
            world.add_all(d for d in docs if d)
        return world

    def forbids(self, verb: str, plural: str, name: str = "", sub: str = "") -> bool:
        """Whether `_rbac.yaml` refuses this request. A denial of `pods` covers its subresources and every name;
        `R/X` names a subresource (`pods/log`) or, on a request for one object, that object (`configmaps/coredns`);
        an allowed `R/NAME` wins over a denial of `R`, as a Role's `resourceNames` grants those objects only."""
        named = f"{plural}/{name}" if name and not sub else ""
        if named and (verb, named) in self.allowed:
            return False
        return any((verb, key) in self.denied for key in (plural, f"{plural}/{sub}" if sub else named) if key)

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
                value = field_value(obj, f)
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
                    value = field_value(old, f)
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
        return all(field_matches(obj, r) for r in parse_fields(fields)) and all(
            label_matches(obj, r) for r in parse_labels(labels)
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
            field_rules = parse_fields(fields)
            for name, op, value in field_rules:
                if op == "=" and name in INDEXED_FIELDS:
                    hits = self.index.get((resource, name, value), set())
                    keys = set(hits) if keys is None else keys & hits
            candidates = sorted(keys) if keys is not None else sorted(store)
            label_rules = parse_labels(labels)
            out = []
            for key in candidates:
                obj = store.get(key)
                if obj is None or (namespace and key[0] != namespace):
                    continue
                if all(field_matches(obj, r) for r in field_rules) and all(label_matches(obj, r) for r in label_rules):
                    out.append((key, obj))
            return out
