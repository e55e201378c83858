"""The fake ARM knows its subscriptions and resource groups as ARM does: 404s under what does not exist, the
subscription list in pages, subscriptions the caller cannot read (403), and a request log per subscription."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aksdiag.lab import arm, armworld

SUB = armworld.SUBSCRIPTION
OTHER = "11111111-2222-4333-8444-555555555555"
GONE = "99999999-9999-4999-8999-999999999999"
VNETS = "providers/Microsoft.Network/virtualNetworks"


def world(*extra: dict[str, Any], hidden: tuple[str, ...] = ()) -> arm.ArmWorld:
    w = arm.ArmWorld()
    for body in armworld.build("healthy"):
        w.add(body)
    for body in extra:
        w.add(body)
    if hidden:
        w.faults = {arm.HIDDEN: list(hidden)}
    return w


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    running: list[tuple[arm.FakeArm, httpx.Client]] = []

    def start(w: arm.ArmWorld) -> tuple[arm.FakeArm, httpx.Client]:
        fake = arm.FakeArm(w, tmp_path / "tls")
        trust = ssl.create_default_context(cafile=fake.ca_path)
        client = httpx.Client(base_url=fake.endpoint, verify=trust, headers={"Authorization": "Bearer t"})
        running.append((fake, client))
        return fake, client

    yield start
    for fake, client in running:
        client.close()
        fake.close()


def other_vnet(rg: str = "rg-hub", name: str = "vnet-hub") -> dict[str, Any]:
    return {"id": f"/subscriptions/{OTHER}/resourceGroups/{rg}/{VNETS}/{name}", "name": name,
            "type": "Microsoft.Network/virtualNetworks", "properties": {}}  # fmt: skip


def test_a_list_under_a_missing_resource_group_is_404_through_the_sdk(serve: Any) -> None:
    from azure.core.credentials import AccessToken
    from azure.core.exceptions import ResourceNotFoundError
    from azure.mgmt.network import NetworkManagementClient

    class Token:
        def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
            return AccessToken("t", 2**31)

    fake, _ = serve(world())
    client = NetworkManagementClient(Token(), SUB, base_url=fake.endpoint, connection_verify=fake.ca_path)
    assert [v.name for v in client.virtual_networks.list(armworld.CLUSTER_RG)] == ["vnet-aks"]
    with pytest.raises(ResourceNotFoundError) as caught:
        list(client.virtual_networks.list("rg-nope"))
    assert caught.value.error is not None and caught.value.error.code == "ResourceGroupNotFound"
    with pytest.raises(ResourceNotFoundError) as gone:
        client.virtual_networks.get("rg-nope", "vnet-aks")
    assert gone.value.error is not None and gone.value.error.code == "ResourceGroupNotFound"
    assert fake.writes() == []


def test_an_existing_but_empty_resource_group_lists_nothing(serve: Any) -> None:
    rg = {"id": f"/subscriptions/{SUB}/resourceGroups/rg-empty", "name": "rg-empty",
          "type": "Microsoft.Resources/resourceGroups", "location": "koreacentral"}  # fmt: skip
    _, client = serve(world(rg))
    listed = client.get(f"/subscriptions/{SUB}/resourceGroups/rg-empty/{VNETS}")
    assert listed.status_code == 200 and listed.json() == {"value": []}
    assert client.get(f"/subscriptions/{SUB}/resourceGroups/rg-empty").json()["name"] == "rg-empty"
    inferred = client.get(f"/subscriptions/{SUB}/resourceGroups/{armworld.NODE_RG}")
    assert inferred.status_code == 200 and inferred.json()["type"] == "Microsoft.Resources/resourceGroups"
    names: list[str] = []
    url = f"/subscriptions/{SUB}/resourcegroups"
    while url:
        page = client.get(url).json()
        names += [g["name"] for g in page["value"]]
        url = page.get("nextLink", "")
    assert sorted(n.lower() for n in names) == sorted(
        n.lower() for n in ("rg-empty", armworld.CLUSTER_RG, armworld.HUB_RG, armworld.NODE_RG)
    )


def test_anything_under_an_unknown_subscription_is_subscription_not_found(serve: Any) -> None:
    _, client = serve(world())
    for path in (f"/subscriptions/{GONE}/resourceGroups/rg-aks/{VNETS}", f"/subscriptions/{GONE}/{VNETS}",
                 f"/subscriptions/{GONE}"):  # fmt: skip
        answer = client.get(path)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "SubscriptionNotFound", path
        assert GONE in answer.json()["error"]["message"]


def test_the_subscription_list_is_paged_and_names_each_subscription(serve: Any) -> None:
    third = "22222222-3333-4444-8555-666666666666"
    named = arm.subscription_body(OTHER, "sub-connectivity")
    named.update(name="sub-connectivity", type="Microsoft.Resources/subscriptions")  # as a world file carries it
    _, client = serve(world(other_vnet(), named, {**other_vnet(), "id": other_vnet()["id"].replace(OTHER, third)}))
    bodies, pages, url = [], 0, "/subscriptions?api-version=2022-12-01"
    while url:
        answer = client.get(url)
        assert answer.status_code == 200
        bodies += answer.json()["value"]
        url, pages = answer.json().get("nextLink", ""), pages + 1
    assert pages == 2, "three subscriptions, two a page"
    assert [b["subscriptionId"] for b in bodies] == [SUB, OTHER, third]
    assert {b["state"] for b in bodies} == {"Enabled"} and {b["tenantId"] for b in bodies} == {arm.TENANT}
    assert bodies[1]["displayName"] == "sub-connectivity" and "type" not in bodies[1] and "name" not in bodies[1]
    assert all(b["id"] == f"/subscriptions/{b['subscriptionId']}" for b in bodies)


def test_a_hidden_subscription_is_not_listed_and_answers_403(serve: Any) -> None:
    fake, client = serve(world(other_vnet(), hidden=(OTHER.upper(),)))
    listed = client.get("/subscriptions").json()["value"]
    assert [b["subscriptionId"] for b in listed] == [SUB]
    vnet = other_vnet()["id"]
    for path, action, scope in (
        (vnet, "Microsoft.Network/virtualNetworks/read", vnet),
        (f"/subscriptions/{OTHER}/{VNETS}", "Microsoft.Network/virtualNetworks/read", f"/subscriptions/{OTHER}"),
        (vnet + "/virtualNetworkPeerings", "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/read", vnet),
        (f"/subscriptions/{OTHER}/resourceGroups/rg-gone", "Microsoft.Resources/subscriptions/resourceGroups/read",
         f"/subscriptions/{OTHER}/resourceGroups/rg-gone"),
    ):  # fmt: skip
        answer = client.get(path)
        error = answer.json()["error"]
        assert answer.status_code == 403 and error["code"] == "AuthorizationFailed", path
        assert f"perform action '{action}' over scope '{scope}'" in error["message"], error["message"]
    assert client.get(f"/subscriptions/{SUB}/resourceGroups/rg-aks/{VNETS}").status_code == 200
    assert fake.writes() == []


def test_requests_are_logged_per_subscription_and_writes_refused(serve: Any) -> None:
    fake, client = serve(world(other_vnet()))
    client.get("/subscriptions")
    client.get(f"/subscriptions/{SUB}/{VNETS}")
    client.get(other_vnet()["id"].upper())
    client.get(f"/subscriptions/{GONE}/{VNETS}")
    assert client.put(other_vnet()["id"], json={}).status_code == 405
    by = fake.requests_by_subscription()
    assert {k: [(r.method, r.status) for r in v] for k, v in by.items()} == {
        "": [("GET", 200)],
        SUB: [("GET", 200)],
        OTHER: [("GET", 200), ("PUT", 405)],
        GONE: [("GET", 404)],
    }
    assert [r.subscription for r in fake.writes()] == [OTHER]


def test_built_in_role_definitions_are_served_at_every_subscription(serve: Any) -> None:
    _, client = serve(world())
    path = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{armworld.NETWORK_CONTRIBUTOR}"
    body = client.get(path).json()
    assert body["id"] == path and body["properties"]["roleName"] == "Network Contributor"
    assert (
        body["properties"]["type"] == "BuiltInRole"
        and "Microsoft.Network/*" in body["properties"]["permissions"][0]["actions"]
    )
    custom = client.get(path.rsplit("/", 1)[0] + "/c0ffee00-1111-4222-8333-444455556666")
    assert custom.status_code == 404 and custom.json()["error"]["code"] == "ResourceNotFound"
    assert client.get(path.replace(SUB, GONE)).json()["error"]["code"] == "SubscriptionNotFound"
