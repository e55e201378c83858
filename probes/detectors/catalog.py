"""Which AKS detectors the probe reads, and which of aksdiag's probes cover the same ground as each.

The ids are the networking detectors of AKS's "Connectivity Issues" category (its `aks-category-connectivity`
answer lists them, as recorded by the AKS VS Code extension); each names the probes (and the codes of theirs) whose
findings say the same kind of thing, so aksdiag.joins can say agreement or disagreement.
"""

from __future__ import annotations

from dataclasses import dataclass

from aksdiag.facts import AzureContextNeed, AzureGetNeed

API_VERSION = "2024-08-01"
"""What the AKS MCP server (Azure/aks-mcp) reads detectors with, with `startTime`/`endTime`."""
WINDOW_HOURS = 24
"""The portal's default and the longest window a detector accepts: the last day, ending at the run's clock."""

SNAT = ("LB001", "LB002", "LB007", "LB008", "LB009", "LB010", "LB011", "LB012")
"""lb's SNAT codes: the capacity model (LB001, LB002) and the live metrics (LB007–LB012)."""


@dataclass(frozen=True)
class Detector:
    id: str
    probes: tuple[str, ...]
    codes: tuple[str, ...] = ()
    """Prefixes of the related findings' ids (empty: every warning or error of those probes)."""


DETECTORS = (
    Detector("private-cluster-dns", ("dns_chain", "private_dns", "cluster_dns"), ("DNS",)),
    Detector("cluster-dns", ("dns_chain", "private_dns"), ("DNS",)),
    Detector("snat-usage", ("lb",), SNAT),
    Detector("user-defined-routing", ("outbound", "egress"), ("EG",)),
    Detector("advisor-shared-route-table", ("outbound",), ("EG",)),
    Detector("aksapiserverauthorizedranges2", ("apiserver",), ("API008",)),
    Detector("cluster-subnet", ("ipplan",), ("IP004",)),
    Detector("pod-subnet-full", ("ipplan",), ("IP004",)),
)
BY_ID = {d.id: d for d in DETECTORS}


def path(azure: AzureContextNeed, detector: str) -> str:
    return f"{azure.cluster_id}/detectors/{detector}"


def need(azure: AzureContextNeed, detector: str, start: str, end: str) -> AzureGetNeed:
    """The GET of one detector over [start, end] (RFC 3339, UTC)."""
    query = (("startTime", start), ("endTime", end))
    return AzureGetNeed(path(azure, detector), API_VERSION, query, endpoint=azure.endpoint)
