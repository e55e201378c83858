"""Read-only by construction, with the one POST aksdiag sends: a Resource Graph query. Through the real SDK
pipelines (clients.endpoint_kwargs) against the fake ARM: the query goes out; any other POST, and any other
method to the query path, is refused with WriteRefused before it leaves the process (the fake saw nothing)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aksdiag.fleet.queries import GRAPH_API, GRAPH_PATH
from aksdiag.lab import armworld
from aksdiag.sources.azure import clients
from aksdiag.sources.azure.clients import WriteRefused, is_graph_query

SUB = armworld.SUBSCRIPTION
CLUSTER = f"/subscriptions/{SUB}/resourceGroups/{armworld.CLUSTER_RG}/providers/Microsoft.ContainerService/managedClusters/{armworld.CLUSTER}"
ARM = "https://management.azure.com"


# ---------------------------------------------------------------- is_graph_query, the rule itself


@pytest.mark.parametrize(
    "url",
    [
        f"{ARM}{GRAPH_PATH}?api-version={GRAPH_API}",
        f"{ARM}{GRAPH_PATH}",
        f"{ARM}{GRAPH_PATH}/",
        f"{ARM}/providers/microsoft.resourcegraph/RESOURCES?api-version={GRAPH_API}",
    ],
)
def test_a_post_to_the_query_path_is_the_query(url: str) -> None:
    assert is_graph_query("POST", url) and is_graph_query("post", url)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", f"{ARM}{GRAPH_PATH}"),
        ("PATCH", f"{ARM}{GRAPH_PATH}"),
        ("DELETE", f"{ARM}{GRAPH_PATH}"),
        ("GET", f"{ARM}{GRAPH_PATH}"),  # a GET is allowed by the policy anyway, but it is not "the query"
        ("POST", f"{ARM}{GRAPH_PATH}/x"),
        ("POST", f"{ARM}/providers/Microsoft.ResourceGraph/resourceChanges"),
        ("POST", f"{ARM}/providers/Microsoft.ResourceGraph/resourcesHistory"),
        ("POST", f"{ARM}/subscriptions/{SUB}{GRAPH_PATH}"),
        ("POST", f"{ARM}{GRAPH_PATH}/../../subscriptions/{SUB}/providers/Microsoft.Features/register"),
        ("POST", f"{ARM}{CLUSTER}/listClusterAdminCredential?api-version=2024-05-01"),
        ("POST", f"{ARM}/x{GRAPH_PATH}"),
        ("POST", "not a url"),
    ],
)
def test_anything_else_is_not(method: str, url: str) -> None:
    assert not is_graph_query(method, url)


# ---------------------------------------------------------------- through real SDK pipelines


async def _send(endpoint: str, method: str, path: str, body: Any = None) -> int:
    """`method path` through a ResourceGraphClient built as graph.query_all builds it; the status it got."""
    from azure.core.rest import HttpRequest
    from azure.mgmt.resourcegraph.aio import ResourceGraphClient

    async with ResourceGraphClient(clients.StaticToken("t"), **clients.endpoint_kwargs(endpoint)) as client:
        response = await client._send_request(HttpRequest(method, f"{path}?api-version={GRAPH_API}", json=body))
        return int(response.status_code)


def test_the_query_goes_out(fake_arm) -> None:
    """The SDK's own operation (`resources`) posts to the query path, and the fake got it as a query, not a write."""
    from azure.mgmt.resourcegraph.aio import ResourceGraphClient
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    fake = fake_arm("healthy")

    async def query() -> None:
        async with ResourceGraphClient(clients.StaticToken("t"), **clients.endpoint_kwargs(fake.endpoint)) as client:
            options = QueryRequestOptions(top=5, result_format="objectArray")
            try:
                await client.resources(QueryRequest(query="resources | take 5", subscriptions=[SUB], options=options))
            except Exception as e:  # the lab answers an unknown shape with a 400: the request went out all the same
                assert getattr(e, "status_code", None) == 400, e

    asyncio.run(query())
    sent = fake.graph_queries()
    assert [(r.method, r.path, r.authorized) for r in sent] == [("POST", GRAPH_PATH, True)]
    assert f"api-version={GRAPH_API}" in sent[0].query
    assert fake.writes() == []


@pytest.mark.parametrize(
    "path",
    [
        f"{GRAPH_PATH}/x",
        "/providers/Microsoft.ResourceGraph/resourceChanges",
        f"{CLUSTER}/listClusterAdminCredential",
        f"/subscriptions/{SUB}{GRAPH_PATH}",
    ],
)
def test_a_post_anywhere_else_is_refused_before_it_leaves(fake_arm, path: str) -> None:
    fake = fake_arm("healthy")
    with pytest.raises(WriteRefused, match="refused to send POST"):
        asyncio.run(_send(fake.endpoint, "POST", path, {"query": "resources"}))
    assert fake.requests == [], "nothing reached the server"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_another_method_to_the_query_path_is_refused(fake_arm, method: str) -> None:
    fake = fake_arm("healthy")
    with pytest.raises(WriteRefused, match=f"refused to send {method}"):
        asyncio.run(_send(fake.endpoint, method, GRAPH_PATH, {"query": "resources"}))
    assert fake.requests == [], "nothing reached the server"


def test_the_sdks_write_operation_is_refused(fake_arm) -> None:
    """listClusterAdminCredential through the AKS SDK's own operation (a POST that returns secrets)."""
    from azure.mgmt.containerservice.aio import ContainerServiceClient

    fake = fake_arm("healthy")

    async def attempt() -> None:
        kw = clients.endpoint_kwargs(fake.endpoint)
        async with ContainerServiceClient(clients.StaticToken("t"), SUB, **kw) as client:
            await client.managed_clusters.list_cluster_admin_credentials(armworld.CLUSTER_RG, armworld.CLUSTER)

    with pytest.raises(WriteRefused, match="POST"):
        asyncio.run(attempt())
    assert fake.requests == []


def test_the_query_path_on_another_host_is_refused(fake_arm) -> None:
    """The query is allowed to the endpoint only: the same-host policy stops it (and its token) going elsewhere."""
    here, elsewhere = fake_arm("healthy"), fake_arm("healthy")
    with pytest.raises(clients.OffHost):
        asyncio.run(_send(here.endpoint, "POST", f"{elsewhere.endpoint}{GRAPH_PATH}", {"query": "resources"}))
    assert here.requests == [] and elsewhere.requests == []


def test_a_409_unregistered_provider_does_not_make_the_sdk_register_it(fake_arm) -> None:
    """azure-mgmt-core's auto-registration policy answers a 409 MissingSubscriptionRegistration by POSTing
    `…/providers/NS/register` itself, from behind the per-call policies: the read-only policy must see that POST too."""
    fault = {"status": 409, "code": "MissingSubscriptionRegistration",
             "message": "The subscription is not registered to use namespace 'Microsoft.ContainerService'."}  # fmt: skip
    fake = fake_arm("healthy", faults={"/managedclusters/": fault})
    from azure.mgmt.containerservice.aio import ContainerServiceClient

    async def read() -> None:
        kw = clients.endpoint_kwargs(fake.endpoint)
        async with ContainerServiceClient(clients.StaticToken("t"), SUB, **kw) as client:
            await client.managed_clusters.get(armworld.CLUSTER_RG, armworld.CLUSTER)

    with pytest.raises(WriteRefused, match="register") as refused:
        asyncio.run(read())
    assert [r.method for r in fake.requests] == ["GET"], "the register POST never left"
    assert refused.value.hint == (
        f"ARM answered 409 MissingSubscriptionRegistration: subscription {SUB} has not registered "
        f"Microsoft.ContainerService; az provider register --namespace Microsoft.ContainerService --subscription {SUB}"
    )


def test_a_409_unregistered_provider_stops_check_with_one_line(fake_arm, capsys, monkeypatch) -> None:
    """Through the CLI: exit 3, one line on stderr naming the refusal and the command to register the provider."""
    from aksdiag.cli import main

    fault = {"status": 409, "code": "MissingSubscriptionRegistration",
             "message": "The subscription is not registered to use namespace 'Microsoft.ContainerService'."}  # fmt: skip
    fake = fake_arm("healthy", faults={"/managedclusters/": fault})
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    rc = main(["ipplan", "--subscription", SUB, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER])
    err = capsys.readouterr().err
    assert rc == 3, err
    assert "refused to send POST" in err and "az provider register --namespace Microsoft.ContainerService" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert all(r.method == "GET" for r in fake.requests)
