"""Every Resource Graph row of a fleet run, by id, with the lookups the assembly needs: by type, by parent, by
subscription, and the zones' links. Pure; `overlaid` replaces rows with what confirming GETs said."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

Body = dict[str, Any]
T = TypeVar("T")


@dataclass
class Index:
    rows: dict[str, Body] = field(default_factory=dict)
    """Every row by lower-cased id (a row is the resource's body as ARM's GET returns it, less etag)."""
    links: dict[str, list[Body]] = field(default_factory=dict)
    """Each private zone's virtual network links, by the lower-cased zone id (the LINKS_BY_ZONE query)."""
    _by_type: dict[str, list[Body]] = field(default_factory=dict, repr=False)
    _children: dict[str, list[Body]] = field(default_factory=dict, repr=False)
    _by_subscription: dict[tuple[str, str], list[Body]] = field(default_factory=dict, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, rows: Iterable[Body], links: Iterable[Body] = ()) -> Index:
        """From the ROWS queries' rows and the LINKS_BY_ZONE rows ({"zone", "links"})."""
        index = cls()
        for row in rows:
            index.add(row)
        for row in links:
            index.links[str(row.get("zone") or "").lower()] = list(row.get("links") or [])
        return index

    def add(self, row: Body) -> None:
        rid = str(row.get("id") or "").lower()
        if not rid:
            return
        if rid in self.rows:
            self._drop(rid)
        self.rows[rid] = row
        kind = str(row.get("type") or "").lower()
        self._by_type.setdefault(kind, []).append(row)
        self._children.setdefault(rid.rsplit("/", 2)[0], []).append(row)
        self._by_subscription.setdefault((_subscription(rid), kind), []).append(row)
        self._memo.clear()

    def _drop(self, rid: str) -> None:
        old = self.rows.pop(rid)
        kind = self._by_type.get(str(old.get("type") or "").lower(), [])
        kind[:] = [r for r in kind if str(r.get("id")).lower() != rid]
        siblings = self._children.get(rid.rsplit("/", 2)[0], [])
        siblings[:] = [r for r in siblings if str(r.get("id")).lower() != rid]
        mine = self._by_subscription.get((_subscription(rid), str(old.get("type") or "").lower()), [])
        mine[:] = [r for r in mine if str(r.get("id")).lower() != rid]
        self._memo.clear()

    def get(self, resource_id: str | None) -> Body | None:
        return self.rows.get((resource_id or "").lower())

    def of_type(self, arm_type: str) -> list[Body]:
        return list(self._by_type.get(arm_type.lower(), ()))

    def children(self, parent_id: str, child_type: str = "") -> list[Body]:
        """The rows right under `parent_id` (an inbound endpoint under its resolver), of `child_type` (the last
        type segment, `inboundEndpoints`) when given."""
        found = self._children.get(parent_id.lower(), [])
        if not child_type:
            return list(found)
        tail = "/" + child_type.lower()
        return [r for r in found if str(r.get("type") or "").lower().endswith(tail)]

    def in_subscription(self, subscription: str, arm_type: str) -> list[Body]:
        """The subscription's rows of `arm_type`, by id (as ARM lists them)."""
        key = (subscription.lower(), arm_type.lower())
        return list(self.memo(("in_subscription", key), lambda: sorted(
            self._by_subscription.get(key, ()), key=lambda r: str(r.get("id")).lower())))  # fmt: skip

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """A lookup derived from the rows (an address → the NIC that holds it), built once per key; forgotten
        when a row changes. What a thousand clusters' assemblies ask of one index, it answers once."""
        if key not in self._memo:
            self._memo[key] = build()
        found: T = self._memo[key]
        return found

    def zone_links(self, zone_id: str) -> list[Body]:
        return list(self.links.get(zone_id.lower(), ()))

    def clusters(self) -> list[Body]:
        return sorted(self.of_type("microsoft.containerservice/managedclusters"), key=lambda r: str(r["id"]).lower())

    def overlaid(self, fresh: Mapping[str, Body | None], lists: Mapping[str, list[Body] | None]) -> Index:
        """A copy with what confirming GETs said: each body in `fresh` (by id) replaces its row (None: the GET said
        404, the row is gone); each list in `lists` (by collection path: `<zone id>/virtualNetworkLinks`,
        `<ruleset id>/virtualNetworkLinks`, `<zone id>/A`…) replaces that parent's children of that type (a zone's
        links replace `links[zone]`); None in `lists`: not read, Resource Graph's stay."""
        gone = {k.lower() for k in fresh}
        out = Index.of((r for k, r in self.rows.items() if k not in gone), ())
        out.links = {k: list(v) for k, v in self.links.items()}
        for body in fresh.values():
            if body is not None:
                out.add(body)
        for collection, found in lists.items():
            if found is None:
                continue
            parent, _, child_type = collection.lower().rstrip("/").rpartition("/")
            if child_type == "virtualnetworklinks" and "/privatednszones/" in parent:
                out.links[parent] = list(found)
                continue
            for old in out.children(parent, child_type):
                out._drop(str(old["id"]).lower())
            for body in found:
                out.add(body)
        return out


def _subscription(rid: str) -> str:
    parts = rid.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "subscriptions" else ""
