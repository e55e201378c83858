"""ARM worlds of SNAT, live: Azure Monitor metrics of the outbound load balancer and the NAT gateway (issue 15).

Every world starts from a real payload shape (arm_seeds/, the REST API specification's examples, public recordings)
and is broken one way; its name starts with `snat-`.
"""

from __future__ import annotations

from typing import Any

Body = dict[str, Any]

WORLDS: dict[str, str] = {}
"""World name → one line saying how it is broken (or that it is healthy)."""


def build(world: str) -> list[Body]:
    """The resource bodies (and documents) of `world`."""
    raise ValueError(f"unknown ARM world {world!r}; one of {', '.join(WORLDS)}")
