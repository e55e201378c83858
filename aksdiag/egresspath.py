"""What on the Azure side stops a node's packets to an address (issue 15): the route Azure picks on the node subnet
(a user-defined route to a virtual appliance, to None, a service-tag route), the NSGs on the way (the NIC's, then the
subnet's, outbound), the cluster's outbound type. Pure: AzureFacts in, a Blocker (or None) out — the egress probe
names it beside an endpoint that could not be reached, the outbound probe judges the routes themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aksdiag.azfacts import AzureFacts


@dataclass(frozen=True)
class Blocker:
    """What Azure's configuration does with the packets: `kind` route-none | appliance | nsg | outbound-none, the
    resource (`what`: a route table and route, a firewall, an NSG and rule) and one sentence for people."""

    kind: str
    what: str
    sentence: str
    evidence: dict[str, str] = field(default_factory=dict)


def explain(facts: AzureFacts, pool: str, address: str, port: int, protocol: str = "Tcp") -> Blocker | None:
    """What stops `pool`'s nodes from reaching address:port, as far as ARM shows it; None: nothing seen."""
    return None
