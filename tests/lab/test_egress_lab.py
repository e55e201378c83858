"""The egress lab: the outboundNetworkDependenciesEndpoints document the fake ARM serves (one page and paged, read
through the real SDK pipeline), and the loopback endpoints (healthy, blackholed, hijacked, denied)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aksdiag.azfacts_egress import OutboundEndpoint
from aksdiag.facts import AzureGetNeed
from aksdiag.lab import arm
from aksdiag.lab.armworld import dependencies
from aksdiag.sources.azure import documents


def _serve(tmp_path: Path, bodies: list[dict], monkeypatch) -> arm.FakeArm:
    w = arm.ArmWorld()
    for body in bodies:
        w.add(body)
    fake = arm.FakeArm(w, tmp_path / "tls")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
    return fake


def test_the_dependencies_document_is_served_whole_and_over_pages(tmp_path: Path, monkeypatch) -> None:
    extra = {"apiserver": [dependencies.endpoint("aks-lab.hcp.koreacentral.azmk8s.io")]}
    one = dependencies.documents(extra=extra)
    paged = dependencies.documents(dependencies.CLUSTER_ID.replace("aks-lab", "aks-two"), extra=extra, pages=3)
    assert len(one) == 1 and len(paged) == 3 and "nextLink" in paged[0] and "nextLink" not in paged[-1]
    clusters = [{"id": cid, "name": cid.rsplit("/", 1)[1], "type": "Microsoft.ContainerService/managedClusters"}
                for cid in (dependencies.CLUSTER_ID, dependencies.CLUSTER_ID.replace("aks-lab", "aks-two"))]  # fmt: skip
    fake = _serve(tmp_path, clusters + one + paged, monkeypatch)
    try:
        needs = [
            AzureGetNeed(dependencies.path_of(cid), dependencies.API_VERSION, paged=True, endpoint=fake.endpoint)
            for cid in (dependencies.CLUSTER_ID, dependencies.CLUSTER_ID.replace("aks-lab", "aks-two"))
        ]
        found = asyncio.run(documents.fetch(needs))
    finally:
        fake.close()
    whole, pages = (found[n].items for n in needs)
    assert whole is not None and pages is not None
    assert [c["category"] for c in whole] == [c["category"] for c in pages]
    eps = OutboundEndpoint.from_list(whole)
    names = {(e.domain, e.port) for e in eps}
    assert {("mcr.microsoft.com", 443), ("aks-lab.hcp.koreacentral.azmk8s.io", 443), ("ntp.ubuntu.com", 123)} <= names
    assert {r.method for r in fake.requests} == {"GET"}
    assert sum("page-" in r.path for r in fake.requests) == 2


def test_drop_and_replace() -> None:
    doc = dependencies.document(drop=("ubuntu-optional", "time-sync"))
    assert doc["_path"].endswith("/outboundNetworkDependenciesEndpoints")
    assert "ubuntu-optional" not in [c["category"] for c in doc["value"]]
    assert dependencies.document(value=[])["value"] == []
