"""The clusters × findings matrix, grouped by shared cause: one CauseGroup per (code, the resources its findings rest
on that the clusters share). "DNS011 on 14 of 212 clusters: all in subscription conn-prod, zone
privatelink.westeurope.azmk8s.io not linked to vnet-hub-weu". Pure."""

from __future__ import annotations

from aksdiag.fleet.model import CauseGroup, FleetCluster


def groups(clusters: list[FleetCluster], names: dict[str, str] | None = None) -> list[CauseGroup]:
    """Warning and error findings of `clusters` grouped by (code, shared cause), worst and largest first.
    `names`: subscription display names by lower-cased id (the cause names a subscription by its name)."""
    raise NotImplementedError
