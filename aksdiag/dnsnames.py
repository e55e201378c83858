"""What a DNS name says about itself: AKS private zone names, regions, and the zone to forward. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

_AKS_PRIVATE = re.compile(r"(?:^|\.)(privatelink|private)\.([a-z0-9]+)\.azmk8s\.io$")


@dataclass(frozen=True)
class AksZone:
    """The AKS private zone family of a name: `privatelink.<region>.azmk8s.io` or `private.<region>…`."""

    kind: str  # "privatelink" (private endpoint) or "private" (API Server VNet Integration)
    region: str

    @property
    def forward_zone(self) -> str:
        """The zone a conditional forwarder must cover (forwarding does not support the GUID subzones)."""
        return f"{self.kind}.{self.region}.azmk8s.io"


def aks_zone(name: str) -> AksZone | None:
    m = _AKS_PRIVATE.search(name.lower().rstrip("."))
    return AksZone(kind=m.group(1), region=m.group(2)) if m else None


def is_suffix(zone: str, name: str) -> bool:
    zone, name = zone.lower().rstrip("."), name.lower().rstrip(".")
    return name == zone or name.endswith("." + zone)


def parent(name: str) -> str:
    """The name less its first label (`api.my.com` → `my.com`); a guess at the zone when nothing better is known."""
    return name.split(".", 1)[1] if "." in name else name


def forward_zone(name: str, seen_zone: str | None = None) -> str:
    """The zone to name in a conditional forwarder for `name`."""
    aks = aks_zone(name)
    if aks:
        return aks.forward_zone
    if seen_zone and is_suffix(seen_zone, name) and "." in seen_zone:
        return seen_zone
    return parent(name)


def relative_record(name: str, zone: str) -> str:
    """The record-set name of `name` inside `zone` (`@` at the apex); case and a final dot do not matter."""
    name, zone = name.rstrip("."), zone.rstrip(".")
    if name.lower() == zone.lower():
        return "@"
    return name[: -len(zone) - 1] if is_suffix(zone, name) else name
