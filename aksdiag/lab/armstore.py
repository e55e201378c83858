"""The fake ARM's world: its resources, documents, subscriptions and faults, and what Resource Graph's index of
them holds (lab.arm serves it over HTTPS, lab.armgraph answers Resource Graph queries over it).

Markers a world body may carry (stripped from what is served):
- `"_document": true` (+ `_path`): an answer at a path that is not a resource (metrics, detectors…).
- `"_index": "stale"`: the version of that id Resource Graph still serves (`index_stale`); ARM's GET serves the
  other body of that id, or 404 if there is none (the resource is gone and the index has not caught up).
- `"_index": "missing"`: a resource ARM serves and Resource Graph does not list yet (`index_missing`).
- `{"_management_group": "mg-x", "subscriptions": [ids]}`: a management group (`management_groups`), which
  Resource Graph's `managementGroups` scope expands to those subscriptions.

Lookups the fake answers on every request (children of a collection, does a subscription / resource group exist)
use indexes built on first use and rebuilt when the resources change, so a 60,000-resource world answers a list
GET without scanning every resource.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aksdiag.lab.armbodies import resource_group_body, subscription_body

ROLE_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments"
HIDDEN = "hidden_subscriptions"
"""The `_faults.json` key listing subscriptions the caller cannot read (a list of ids, not a path fault)."""
MARKERS = ("_index",)


@dataclass
class _Lookups:
    """What `ArmWorld` looks up per request, from one pass over the resources."""

    size: int
    children: dict[str, list[str]]
    """Collection path → ids right under it (a resource group's resources also under the subscription-wide path)."""
    subscriptions: set[str]
    resource_groups: set[tuple[str, str]]
    scale_set_nics: dict[str, list[str]]
    """`<scale set id>/virtualmachines/` → the ids under it with `/networkinterfaces/` (its instances' NICs)."""


@dataclass
class ArmWorld:
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Explicit subscription bodies by lower-cased id; more are inferred from the resources' ids."""
    resource_groups: set[tuple[str, str]] = field(default_factory=set)
    """Explicit (subscription, resource group) pairs, lower-cased; more are inferred from the resources' ids."""
    hidden_subscriptions: set[str] = field(default_factory=set)
    """Subscriptions the caller cannot read (lower-cased); the faults' `hidden_subscriptions` adds to them."""
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Answers at a path that are not resources (a metrics response, a detector's, a list page of
    outboundNetworkDependenciesEndpoints), by lower-cased path: served as they are, never listed as children."""
    index_stale: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Lower-cased id → the body Resource Graph still serves for it (not ARM's)."""
    index_missing: set[str] = field(default_factory=set)
    """Lower-cased ids ARM serves and Resource Graph does not list yet."""
    management_groups: dict[str, list[str]] = field(default_factory=dict)
    """Lower-cased management group name → its (lower-cased) subscriptions."""
    graph_cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """lab.armgraph's rows per (query, scope), so paging does not filter and sort again; cleared by `add`."""
    _lookups: _Lookups | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, directory: str | Path) -> ArmWorld:
        world = cls()
        for path in sorted(Path(directory).glob("*.json")):
            doc = json.loads(path.read_text())
            if path.name == "_faults.json":
                world.faults = doc
            else:
                world.add(doc)
        return world

    def add(self, body: dict[str, Any]) -> None:
        """Add a resource body (it carries its `id`), a document (`"_document": true` and the `_path` it answers
        at, else its `id`, served without those two keys), a management group, or an index marker (module
        docstring)."""
        self.graph_cache.clear()
        if body.get("_document"):
            path = str(body.get("_path") or body["id"]).lower().rstrip("/")
            self.documents[path] = {k: v for k, v in body.items() if k not in ("_document", "_path")}
            return
        if "_management_group" in body:
            subs = [str(s).lower() for s in body.get("subscriptions") or ()]
            self.management_groups[str(body["_management_group"]).lower()] = subs
            return
        marker = body.get("_index")
        if marker is not None:
            body = {k: v for k, v in body.items() if k not in MARKERS}
        rid = body["id"].lower().rstrip("/")
        if marker == "stale":
            self.index_stale[rid] = body
            return
        if marker == "missing":
            self.index_missing.add(rid)
        parts = rid.split("/")
        if len(parts) == 3 and parts[1] == "subscriptions":  # a subscription body: listed by GET /subscriptions
            self.subscriptions[parts[2]] = {k: v for k, v in body.items() if k not in ("name", "type")}
            return
        if len(parts) == 5 and parts[3] == "resourcegroups":  # a resource group: it exists, even empty
            self.resource_groups.add((parts[2], parts[4]))
        self.resources[rid] = body

    def lookups(self) -> _Lookups:
        """The per-request indexes, rebuilt when resources were added (or removed) since the last build."""
        found = self._lookups
        if found is not None and found.size == len(self.resources):
            return found
        children: dict[str, list[str]] = {}
        subs: set[str] = set()
        rgs: set[tuple[str, str]] = set()
        nics: dict[str, list[str]] = {}
        for rid in self.resources:
            parent, _, _ = rid.rpartition("/")
            children.setdefault(parent, []).append(rid)
            if "/resourcegroups/" in parent:  # also listed subscription-wide: /subscriptions/S/providers/NS/type
                head, _, rest = parent.partition("/resourcegroups/")
                wide = f"{head}/{rest.partition('/')[2]}"
                if wide.split("/")[3:4] == ["providers"]:
                    children.setdefault(wide, []).append(rid)
            at = rid.find("/virtualmachinescalesets/")
            if at >= 0 and "/networkinterfaces/" in rid and (cut := rid.find("/virtualmachines/", at)) >= 0:
                nics.setdefault(rid[: cut + len("/virtualmachines/")], []).append(rid)
            parts = rid.split("/")
            if len(parts) > 3 and parts[1] == "subscriptions" and parts[2]:
                subs.add(parts[2])
                if len(parts) > 5 and parts[3] == "resourcegroups":
                    rgs.add((parts[2], parts[4]))
        for ids in [*children.values(), *nics.values()]:
            ids.sort()
        found = _Lookups(len(self.resources), children, subs, rgs, nics)
        self._lookups = found
        return found

    def subscription_bodies(self) -> list[dict[str, Any]]:
        """Every subscription of the world (explicit bodies, else inferred ones), hidden ones included, by id."""
        found = dict.fromkeys(self.subscriptions)
        found.update(dict.fromkeys(sorted(self.lookups().subscriptions)))
        return [self.subscriptions.get(s) or subscription_body(s) for s in sorted(found)]

    def has_subscription(self, subscription: str) -> bool:
        return subscription in self.subscriptions or subscription in self.lookups().subscriptions

    def has_resource_group(self, subscription: str, rg: str) -> bool:
        pair = (subscription, rg)
        return pair in self.resource_groups or pair in self.lookups().resource_groups

    def resource_group_bodies(self, subscription: str) -> list[dict[str, Any]]:
        """The subscription's resource groups (explicit bodies, else inferred ones), as `…/resourcegroups` lists."""
        names: dict[str, str] = {rg: "" for s, rg in self.resource_groups if s == subscription}
        for body in self.resources.values():
            parts = body["id"].split("/")
            if len(parts) > 4 and parts[2].lower() == subscription and parts[3].lower() == "resourcegroups":
                names.setdefault(parts[4].lower(), parts[4])
                names[parts[4].lower()] = names[parts[4].lower()] or parts[4]
        out = []
        for rg, shown in sorted(names.items()):
            rg_id = f"/subscriptions/{subscription}/resourceGroups/{shown or rg}"
            out.append(self.resources.get(rg_id.lower()) or resource_group_body(rg_id))
        return out

    def document(self, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        """The document at `path`; a metrics answer keeps only the metrics `metricnames` asks for, as Azure
        Monitor answers (names compared without case)."""
        doc = self.documents[path]
        names = {n.strip().lower() for n in ",".join(query.get("metricnames", [])).split(",") if n.strip()}
        if not names or not isinstance(doc.get("value"), list):
            return doc
        kept = [m for m in doc["value"] if str((m.get("name") or {}).get("value") or "").lower() in names]
        return {**doc, "value": kept}

    def hidden(self) -> set[str]:
        return self.hidden_subscriptions | {str(s).lower() for s in self.faults.get(HIDDEN) or ()}

    def children(self, collection: str) -> list[dict[str, Any]]:
        """Resources right under `collection` (a lower-cased path), subscription-wide lists included, by id."""
        return [self.resources[rid] for rid in self.lookups().children.get(collection, ())]

    def scale_set_nics(self, scale_set: str) -> list[dict[str, Any]]:
        """The NICs of a scale set's instances (`scale_set` a lower-cased id), as ARM lists
        `<scale set>/networkInterfaces`, by id."""
        return [self.resources[rid] for rid in self.lookups().scale_set_nics.get(f"{scale_set}/virtualmachines/", ())]

    def role_assignments(self, scope: str, filter_text: str) -> list[dict[str, Any]]:
        """Assignments at `scope` and inherited from above it, as ARM lists them; `assignedTo('id')` filters."""
        wanted = re.search(r"(?:assignedTo\(|principalId eq )'([^']+)'", filter_text)
        out = []
        for rid, body in self.resources.items():
            if ROLE_ASSIGNMENTS + "/" not in rid:
                continue
            at = rid.split(ROLE_ASSIGNMENTS + "/")[0]
            if not (scope == at or scope.startswith(at + "/")):
                continue
            if wanted and body.get("properties", {}).get("principalId") != wanted.group(1):
                continue
            out.append(body)
        return sorted(out, key=lambda b: b["id"].lower())

    def graph_view(self) -> list[tuple[str, dict[str, Any]]]:
        """What Resource Graph's index holds: (lower id, body) per resource, its stale version where the index
        lags, deleted ones it still lists, new ones it does not list yet left out; by id."""
        out = {rid: body for rid, body in self.resources.items() if rid not in self.index_missing}
        out.update(self.index_stale)
        return sorted(out.items())
