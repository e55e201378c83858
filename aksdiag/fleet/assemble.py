"""One cluster's AzureContext from the fleet's index: the same fact `check --cluster` reads with ~18 GETs, built from
Resource Graph rows plus the few GETs of what Resource Graph does not index. Pure.

What the probes judge comes out the same whichever way it was read: a healthy world assembled here raises exactly
the findings `check --cluster` raises for it (tests/fleet/test_assemble.py compares the two on every ARM world).
A resource the cluster names that lives in a subscription the identity cannot read is an AzureReadError 403 in the
context (as check's GET would have met), never a missing resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aksdiag.facts import AzureContext, AzureContextNeed, AzureDocument, AzureGetNeed
from aksdiag.fleet.index import Index

Body = dict[str, Any]


@dataclass(frozen=True)
class Visible:
    """What the identity can see: the subscription bodies GET /subscriptions listed, and the subscriptions searched
    (lower-cased ids): a resource id under any other subscription could not be read."""

    subscriptions: tuple[Body, ...] = ()
    searched: frozenset[str] = field(default_factory=frozenset)


def need_of(cluster: Body, endpoint: str) -> AzureContextNeed:
    """The AzureContextNeed the cluster's probes plan (load balancers read: the lb probe judges capacity)."""
    raise NotImplementedError


def gets_for(index: Index, clusters: list[Body], endpoint: str) -> list[AzureGetNeed]:
    """The GETs Resource Graph cannot spare: the A record sets of every zone a cluster's name path uses (its own,
    and the other zones that could answer its FQDN), the forwarding rules of every ruleset linked to a cluster's
    VNets. Each once, however many clusters share it."""
    raise NotImplementedError


def context_of(
    cluster: Body, index: Index, fetched: Mapping[AzureGetNeed, AzureDocument], visible: Visible, endpoint: str
) -> AzureContext:
    """The cluster's AzureContext (need_of(cluster)) from the index and the fetched record sets and rules."""
    raise NotImplementedError


def rests_on(context: AzureContext) -> list[AzureGetNeed]:
    """The GETs that confirm a finding of this cluster: every resource its context holds (the cluster, its VNets and
    peers, its zone and the zone's link list, NSGs, route tables, NAT gateways, endpoints, rulesets' link lists…),
    by id with the api-version ARM serves it at. The engine dedups them across clusters."""
    raise NotImplementedError
