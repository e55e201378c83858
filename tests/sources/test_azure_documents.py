"""AzureGetNeed: the ARM GETs without a typed SDK operation go through the real SDK pipeline to the fake ARM, which
serves documents (answers that are not resources) as ARM would: paged lists, metrics filtered by `metricnames`,
404 for a missing resource group, and GET only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aksdiag.facts import AzureGetNeed, ReadFailure
from aksdiag.lab import armworld
from aksdiag.sources.azure import documents

CLUSTER_ID = (
    f"/subscriptions/{armworld.SUBSCRIPTION}/resourceGroups/{armworld.CLUSTER_RG}"
    f"/providers/Microsoft.ContainerService/managedClusters/{armworld.CLUSTER}"
)
LB_ID = f"/subscriptions/{armworld.SUBSCRIPTION}/resourceGroups/rg-nodes/providers/Microsoft.Network/loadBalancers/kubernetes"


@pytest.fixture
def serve(fake_arm: Any) -> Any:
    return fake_arm


def _metric(name: str) -> dict[str, Any]:
    return {"id": f"{LB_ID}/providers/Microsoft.Insights/metrics/{name}", "type": "Microsoft.Insights/metrics",
            "name": {"value": name, "localizedValue": name}, "unit": "Count", "timeseries": []}  # fmt: skip


def _world() -> list[dict[str, Any]]:
    endpoints = [
        {"category": "azure-container-registry", "endpoints": [{"domainName": "mcr.microsoft.com",
         "endpointDetails": [{"port": 443, "protocol": "Https"}]}]},
        {"category": "azure-resource-management", "endpoints": [{"domainName": "management.azure.com",
         "endpointDetails": [{"port": 443, "protocol": "Https"}]}]},
        {"category": "apiserver", "endpoints": [{"domainName": "*.hcp.westeurope.azmk8s.io",
         "endpointDetails": [{"port": 443, "protocol": "Https"}]}]},
    ]  # fmt: skip
    return [
        {"id": CLUSTER_ID, "name": armworld.CLUSTER, "type": "Microsoft.ContainerService/managedClusters"},
        {"id": LB_ID, "name": "kubernetes", "type": "Microsoft.Network/loadBalancers"},
        # a list page ARM serves without ids: the document's path is where it answers
        {"_document": True, "_path": f"{CLUSTER_ID}/outboundNetworkDependenciesEndpoints", "value": endpoints},
        {
            "_document": True,
            "_path": f"{LB_ID}/providers/Microsoft.Insights/metrics",
            "cost": 0,
            "value": [_metric("UsedSnatPorts"), _metric("AllocatedSnatPorts"), _metric("SnatConnectionCount")],
        },
    ]


def test_a_paged_document_a_filtered_metrics_answer_and_a_missing_resource_group(serve) -> None:
    fake = serve(_world())
    paged = AzureGetNeed(f"{CLUSTER_ID}/outboundNetworkDependenciesEndpoints", "2024-02-01", paged=True,
                         endpoint=fake.endpoint)  # fmt: skip
    metrics = AzureGetNeed(f"{LB_ID}/providers/Microsoft.Insights/metrics", "2023-10-01",
                           (("metricnames", "UsedSnatPorts,AllocatedSnatPorts"), ("interval", "PT5M")),
                           endpoint=fake.endpoint)  # fmt: skip
    missing = AzureGetNeed(CLUSTER_ID.replace(armworld.CLUSTER_RG, "rg-gone") + "/detectors/snat-usage", "2024-06-01",
                           endpoint=fake.endpoint)  # fmt: skip
    found = asyncio.run(documents.fetch([paged, metrics, missing]))

    assert found[paged].items is not None
    assert [i["category"] for i in found[paged].items] == ["azure-container-registry", "azure-resource-management",
                                                           "apiserver"]  # fmt: skip
    assert "id" not in found[paged].items[0], "served as ARM lists them: no id on these items"
    assert found[metrics].body is not None
    assert [m["name"]["value"] for m in found[metrics].body["value"]] == ["UsedSnatPorts", "AllocatedSnatPorts"]
    error = found[missing].error
    assert error is not None and error.kind is ReadFailure.NOT_FOUND and error.code == "ResourceGroupNotFound"
    assert error.action == "Microsoft.ContainerService/managedClusters/detectors/read"
    sent = [(r.method, r.path) for r in fake.requests]
    assert {m for m, _ in sent} == {"GET"}, sent
    metrics_request = next(r for r in fake.requests if r.path.endswith("/metrics"))
    assert "api-version=2023-10-01" in metrics_request.query and "metricnames=UsedSnatPorts" in metrics_request.query


def test_a_write_never_leaves_the_process(serve) -> None:
    """The pipeline's read-only policy holds for documents too: the one client a document read uses refuses a PUT."""
    from azure.core.rest import HttpRequest

    from aksdiag.sources.azure.clients import WriteRefused, credential
    from aksdiag.sources.azure.subscriptions import Clients

    fake = serve(_world())

    async def put() -> None:
        cred = credential(None)
        async with cred:
            clients = Clients(cred, fake.endpoint, None, None)
            try:
                await clients.get("aks", armworld.SUBSCRIPTION).send_request(
                    HttpRequest("PUT", f"{CLUSTER_ID}?api-version=1")
                )
            finally:
                await clients.close()

    with pytest.raises(WriteRefused):
        asyncio.run(put())
    assert fake.requests == [], "nothing was sent"
