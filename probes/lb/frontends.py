"""Who owns each load balancer frontend: the outbound rule (SNAT), a Service, or nobody (an orphan).

Ownership follows the cloud provider's naming: a Service's frontend is `a<uid without dashes>`, its rules and
probes `a<uid>-<protocol>-<port>`; outbound frontends are those the outbound rule names. This is the view the
other modules of the probe share; it reads typed facts only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from aksdiag.azfacts import AzureFacts
from aksdiag.kubefacts import Service

ID = "lb"
OUTBOUND = "outbound (SNAT)"
_UID = re.compile(r"^a([0-9a-f]{32})(?:$|-)")


@dataclass(frozen=True)
class FrontendRow:
    """A frontend as the report shows it: where it is, its address, and who owns it ("" while unknown)."""

    lb: str
    name: str
    id: str
    address: str
    public: bool
    owner: str = ""

    @property
    def outbound(self) -> bool:
        return self.owner == OUTBOUND


def owner_uid(name: str) -> str | None:
    """The compact Service uid a frontend, rule or probe is named after, or None."""
    m = _UID.match(name.lower())
    return m.group(1) if m else None


def outbound_frontend_ids(arm: AzureFacts) -> set[str]:
    """The lower-cased ids of the frontends the outbound rules use."""
    return {i.lower() for lb in arm.load_balancers for rule in lb.outbound_rules for i in rule.frontend_ids}


def frontends(arm: AzureFacts, by_uid: Mapping[str, Service]) -> list[FrontendRow]:
    """Every frontend of the cluster's load balancers with its owner: the outbound rule first, then the Service
    (in `by_uid`, by compact uid) it is named after."""
    outbound = outbound_frontend_ids(arm)
    rows = []
    for lb in arm.load_balancers:
        for fe in lb.frontends:
            uid = owner_uid(fe.name)
            owner = OUTBOUND if fe.id.lower() in outbound else by_uid[uid].ref if uid and uid in by_uid else ""
            rows.append(FrontendRow(lb.name, fe.name, fe.id, arm.address(fe) or "?", fe.public, owner))
    return rows
