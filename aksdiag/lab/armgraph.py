"""The fake ARM's Azure Resource Graph: POST /providers/Microsoft.ResourceGraph/resources over the world.

It answers the query shapes aksdiag sends (aksdiag.fleet.queries: ROWS with a type list and an optional checked
filter, LINKS_BY_ZONE) over the resource types Resource Graph indexes (record sets and forwarding rules are not),
for the request's subscriptions (or management groups), leaving out silently the subscriptions the caller cannot
read, as Resource Graph does; pages of `$top` rows with `$skipToken`; a world may make the index lag ARM (a body
marked `"_index": "stale"` is what Resource Graph still serves for that id; `"_index": "missing"` is a resource
ARM has and Resource Graph not yet). Any other query is a 400 InvalidQuery, worded as Resource Graph words it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aksdiag.lab.arm import ArmWorld


def answer(world: ArmWorld, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(status, body) for one Resource Graph request body."""
    return 400, {"error": {"code": "BadRequest", "message": "the lab's Resource Graph is not built yet"}}
