"""The fake ARM's Azure Resource Graph: POST /providers/Microsoft.ResourceGraph/resources over the world.

It answers the query shapes aksdiag sends (aksdiag.fleet.queries: ROWS with a type list and an optional checked
filter, LINKS_BY_ZONE), text for text, and refuses any other query with a 400 InvalidQuery worded as Resource Graph
words it, so a new query shape is noticed by the tests instead of answered by a guess.

What is modelled:
- The `resources` table holds the top-level resources and the child types Resource Graph indexes (INDEXED_CHILDREN);
  not record sets, forwarding rules, scale set instances and their NICs, subnets, peerings, role assignments and
  definitions (other tables), subscriptions and resource groups (`resourcecontainers`), documents (NOT_INDEXED).
- Columns as Resource Graph returns them: `type` lower-cased, `resourceGroup` lower-cased, `id` as ARM spells it,
  a column the body lacks is null. Rows in order of the lower-cased id.
- Scope: `subscriptions` (those the world holds and the caller can read; hidden and unknown ones are left out
  silently, as Resource Graph does) or `managementGroups` (the world's declared groups → their subscriptions; a group
  the world does not declare is a 400 ManagementGroupsContainInvalidIds, the lab's call). Neither, or both, or
  more than 1,000 subscriptions in one request: 400.
- Paging: `options.$top` (1..1000, default 100), `$skip`, and `$skipToken`: an opaque token naming the offset and
  the query and scope it belongs to (a token of another query is a 400). totalRecords, count, resultTruncated
  "false", facets []. `resultFormat` "objectArray" (default) or "table".
- The index may lag ARM (lab.armstore markers): a stale body is served instead of ARM's, a missing one not at all.
The filter's operators: == != case-sensitive; =~ !~ startswith endswith contains !contains has case-insensitive
(`has`: whole terms, runs of letters and digits); a tag the resource lacks is the empty string.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aksdiag.fleet.queries import COLUMNS, LINK_TYPE, LINKS_BY_ZONE

if TYPE_CHECKING:
    from aksdiag.lab.arm import ArmWorld

NOT_INDEXED = frozenset(
    {
        *(f"microsoft.network/privatednszones/{t}" for t in ("a", "aaaa", "cname", "mx", "ptr", "soa", "srv", "txt")),
        *(f"microsoft.network/dnszones/{t}" for t in ("a", "aaaa", "caa", "cname", "mx", "ns", "ptr", "soa", "srv")),
        "microsoft.network/dnsforwardingrulesets/forwardingrules",
        "microsoft.compute/virtualmachinescalesets/virtualmachines",
        "microsoft.compute/virtualmachinescalesets/virtualmachines/networkinterfaces",
        "microsoft.containerservice/managedclusters/privateendpointconnections",
        "microsoft.network/virtualnetworks/subnets",
        "microsoft.network/virtualnetworks/virtualnetworkpeerings",
        "microsoft.authorization/roleassignments",
        "microsoft.authorization/roledefinitions",
        "microsoft.resources/subscriptions",
        "microsoft.resources/subscriptions/resourcegroups",
    }
)
"""Types of the world Resource Graph's `resources` table does not hold (any child type not in INDEXED_CHILDREN
is left out too)."""
INDEXED_CHILDREN = frozenset(
    {
        LINK_TYPE,
        "microsoft.network/dnsresolvers/inboundendpoints",
        "microsoft.network/dnsresolvers/outboundendpoints",
        "microsoft.network/dnsforwardingrulesets/virtualnetworklinks",
    }
)
DEFAULT_TOP = 100
MAX_TOP = 1000
MAX_SUBSCRIPTIONS = 1000
"""Subscriptions one request may name (the service's limit, kept apart from queries.SUBSCRIPTION_BATCH on purpose)."""
_ROWS = re.compile(
    r"resources \| where type in~ \((?P<types>'[^']+'(?:, '[^']+')*)\)(?: \| where (?P<where>.+?))?"
    r" \| project (?P<columns>[^|]+) \| order by id asc"
)
_TERM = re.compile(
    r"(?P<field>name|resourceGroup|location|subscriptionId|tags\['(?P<tag>[^']*)'\])"
    r" (?P<op>==|=~|!=|!~|!contains|startswith|endswith|contains|has) '(?P<value>[^']*)'"
)
_OPS = {
    "==": lambda v, x: v == x,
    "!=": lambda v, x: v != x,
    "=~": lambda v, x: v.lower() == x.lower(),
    "!~": lambda v, x: v.lower() != x.lower(),
    "startswith": lambda v, x: v.lower().startswith(x.lower()),
    "endswith": lambda v, x: v.lower().endswith(x.lower()),
    "contains": lambda v, x: x.lower() in v.lower(),
    "!contains": lambda v, x: x.lower() not in v.lower(),
    "has": lambda v, x: _has(v, x),
}
_PROJECTED = [c.strip() for c in COLUMNS.split(",")]


class Refused(Exception):
    """A request Resource Graph answers 400: `code` and `message` are the error's detail."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def answer(world: ArmWorld, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(status, body) for one Resource Graph request body."""
    try:
        rows, key = _rows(world, request)
        return 200, _page(rows, key, request.get("options") or {})
    except Refused as refused:
        return 400, bad_request(refused.code, refused.message)


def bad_request(code: str, message: str) -> dict[str, Any]:
    """Resource Graph's 400: a support line with a timestamp and a correlation id, the reason in `details`."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    support = f"Please provide below info when asking for support: timestamp = {stamp}, correlationId = {uuid.uuid4()}."
    return {"error": {"code": "BadRequest", "message": support, "details": [{"code": code, "message": message}]}}


def invalid_query() -> Refused:
    return Refused(
        "InvalidQuery",
        "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error "
        "before retrying.",
    )


def arm_type(rid: str) -> str:
    """The lower-cased ARM type of a lower-cased id (`microsoft.network/privatednszones/virtualnetworklinks`)."""
    if "/providers/" not in rid:
        depth = len(rid.split("/"))
        return "microsoft.resources/subscriptions" + ("/resourcegroups" if depth > 3 else "")
    tail = rid[rid.rindex("/providers/") + len("/providers/") :].split("/")
    return "/".join([tail[0], *tail[1::2]])


def indexed(kind: str) -> bool:
    return kind not in NOT_INDEXED and (kind.count("/") == 1 or kind in INDEXED_CHILDREN)


def scope_of(world: ArmWorld, request: dict[str, Any]) -> tuple[str, ...]:
    """The subscriptions the request searches that the world holds and the caller can read, sorted."""
    subs, groups = request.get("subscriptions"), request.get("managementGroups")
    if bool(subs) == bool(groups):
        raise Refused(
            "InvalidScope",
            "Exactly one of subscriptions or managementGroups must be given (the aksdiag lab's Resource Graph).",
        )
    if subs and len(subs) > MAX_SUBSCRIPTIONS:
        raise Refused(
            "InvalidScope",
            f"At most {MAX_SUBSCRIPTIONS} subscriptions may be queried at once; got {len(subs)} (the aksdiag lab's "
            "wording: batch them).",
        )
    if groups:
        wanted: set[str] = set()
        for group in groups:
            found = world.management_groups.get(str(group).lower())
            if found is None:
                raise Refused(
                    "ManagementGroupsContainInvalidIds",
                    f"The provided management groups must be valid. Given: '{group}'.",
                )
            wanted.update(found)
    else:
        wanted = {str(s).lower() for s in subs or ()}
    hidden = world.hidden()
    return tuple(sorted(s for s in wanted if s not in hidden and world.has_subscription(s)))


def _rows(world: ArmWorld, request: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The query's rows over its scope (cached per query and scope) and the key its skip tokens carry."""
    text = request.get("query")
    if not isinstance(text, str):
        raise invalid_query()
    scope = scope_of(world, request)
    size = (len(world.resources), len(world.index_stale), len(world.index_missing))
    key = hashlib.sha256(json.dumps([text, scope, size]).encode()).hexdigest()[:16]
    cached = world.graph_cache.get(key)
    if cached is None:
        cached = _links(world, scope) if text == LINKS_BY_ZONE else _resources(world, text, scope)
        world.graph_cache[key] = cached
    return cached, key


def _resources(world: ArmWorld, text: str, scope: tuple[str, ...]) -> list[dict[str, Any]]:
    m = _ROWS.fullmatch(text)
    if m is None or m.group("columns") != COLUMNS:
        raise invalid_query()
    types = {t.strip("'").lower() for t in m.group("types").split(", ")}
    terms = _terms(m.group("where"))
    return [row for row in _indexed(world, scope, types) if all(_holds(row, t) for t in terms)]


def _links(world: ArmWorld, scope: tuple[str, ...]) -> list[dict[str, Any]]:
    """LINKS_BY_ZONE: the zone links packed per zone (`split(id, '/virtualNetworkLinks/')`: case-sensitive)."""
    zones: dict[str, list[dict[str, Any]]] = {}
    for row in _indexed(world, scope, {LINK_TYPE}):
        zone = row["id"].split("/virtualNetworkLinks/")[0].lower()
        packed = {k: row[k] for k in ("id", "name", "type", "location", "properties")}
        zones.setdefault(zone, []).append(packed)
    return [{"zone": zone, "links": links} for zone, links in sorted(zones.items())]


def _indexed(world: ArmWorld, scope: tuple[str, ...], types: set[str]) -> list[dict[str, Any]]:
    """The index's rows of `types` in the scope's subscriptions, by lower-cased id."""
    within = set(scope)
    by_type = _by_type(world)
    found = [(rid, kind, body) for kind in types & by_type.keys() for rid, sub, body in by_type[kind] if sub in within]
    return [_row(rid, kind, body) for rid, kind, body in sorted(found, key=lambda f: f[0])]


def _by_type(world: ArmWorld) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """The index by type: (lower id, subscription, body) of each indexed resource under a subscription; cached
    with the world's rows (`add` clears it)."""
    key = ("by_type", len(world.resources), len(world.index_stale), len(world.index_missing))
    cached = world.graph_cache.get(key)
    if cached is None:
        cached = {}
        for rid, body in world.graph_view():
            parts = rid.split("/")
            if len(parts) > 3 and parts[1] == "subscriptions":
                kind = arm_type(rid)
                if indexed(kind):
                    cached.setdefault(kind, []).append((rid, parts[2], body))
        world.graph_cache[key] = cached
    return cached


def _row(rid: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    parts = body["id"].split("/")
    rg = parts[4].lower() if len(parts) > 4 and parts[3].lower() == "resourcegroups" else ""
    given = {"id": body["id"], "name": body.get("name") or parts[-1], "type": kind, "resourceGroup": rg}
    given["subscriptionId"] = parts[2]
    return {c: given[c] if c in given else body.get(c) for c in _PROJECTED}


def _terms(where: str | None) -> list[re.Match[str]]:
    """The filter's terms (the clause queries.parse_filter writes: TERM joined by ` and `)."""
    if where is None:
        return []
    out, at = [], 0
    while True:
        m = _TERM.match(where, at)
        if m is None:
            raise invalid_query()
        out.append(m)
        at = m.end()
        if at == len(where):
            return out
        if not where.startswith(" and ", at):
            raise invalid_query()
        at += len(" and ")


def _holds(row: dict[str, Any], term: re.Match[str]) -> bool:
    tag = term.group("tag")
    value = (row.get("tags") or {}).get(tag) if tag is not None else row.get(term.group("field"))
    return _OPS[term.group("op")](str(value) if value is not None else "", term.group("value"))


def _has(value: str, term: str) -> bool:
    """KQL `has`: the term's words appear as whole consecutive words of the value (case-insensitive)."""
    words, wanted = re.findall(r"[a-z0-9]+", value.lower()), re.findall(r"[a-z0-9]+", term.lower())
    if not wanted:
        return True
    n = len(wanted)
    return any(words[i : i + n] == wanted for i in range(len(words) - n + 1))


def _page(rows: list[dict[str, Any]], key: str, options: dict[str, Any]) -> dict[str, Any]:
    top = options.get("$top", DEFAULT_TOP)
    if not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise Refused("InvalidQuery", f"$top must be between 1 and {MAX_TOP}; got {top!r}.")
    start = _offset(options.get("$skipToken"), key) if options.get("$skipToken") else int(options.get("$skip") or 0)
    data = rows[start : start + top]
    body: dict[str, Any] = {"totalRecords": len(rows), "count": len(data), "resultTruncated": "false"}
    if start + top < len(rows):
        body["$skipToken"] = _token(start + top, key)
    fmt = options.get("resultFormat") or "objectArray"
    if fmt == "table":
        names = list(data[0]) if data else []
        body["data"] = {"columns": [{"name": n, "type": _column_type(data, n)} for n in names],
                        "rows": [[r[n] for n in names] for r in data]}  # fmt: skip
    elif fmt == "objectArray":
        body["data"] = data
    else:
        raise Refused("InvalidQuery", f"resultFormat {fmt!r} is not one of table, objectArray.")
    body["facets"] = []
    return body


def _column_type(rows: list[dict[str, Any]], name: str) -> str:
    return "string" if all(isinstance(r[name], str) or r[name] is None for r in rows) else "object"


def _token(offset: int, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "k": key}).encode()).decode()


def _offset(token: Any, key: str) -> int:
    """The offset a skip token names; a token that is not one of this query's is a 400."""
    try:
        doc = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if doc["k"] == key and isinstance(doc["o"], int) and doc["o"] >= 0:
            return doc["o"]
    except (ValueError, KeyError, TypeError):
        pass
    raise Refused("InvalidSkipToken", "The $skipToken is not valid for this query and scope.")
