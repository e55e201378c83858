"""The lab's Resource Graph (lab.armgraph) answers exactly aksdiag's query shapes, as Resource Graph would: the
indexed types only, its columns and casing, the filter's operators, paging by $top/$skipToken, the scope (readable
subscriptions, management groups), the index lagging ARM; any other query is a 400. Directly (answer()) and over
HTTPS with a plain client and with the real SDK; and the fake ARM's lookup indexes answer as its scans did."""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from aksdiag.fleet import queries
from aksdiag.fleet.queries import GRAPH_API, GRAPH_PATH, LINKS_BY_ZONE, fleet_queries, parse_filter
from aksdiag.lab import arm, armgraph, armworld

S1 = "11111111-1111-1111-1111-111111111111"
S2 = "22222222-2222-2222-2222-222222222222"
S3 = "33333333-3333-3333-3333-333333333333"
NET = "providers/Microsoft.Network"
AKS = "providers/Microsoft.ContainerService/managedClusters"


def rid(sub: str, rg: str, tail: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/{tail}"


def cluster(sub: str, rg: str, name: str, location: str = "westeurope", tags: dict[str, str] | None = None) -> dict:
    body: dict[str, Any] = {
        "id": rid(sub, rg, f"{AKS}/{name}"),
        "name": name,
        "location": location,
        "type": "Microsoft.ContainerService/managedClusters",
        "properties": {"powerState": {}},
    }
    if tags is not None:
        body["tags"] = tags
    return body


def zone(sub: str, name: str, rg: str = "rg-Hub") -> dict:
    return {
        "id": rid(sub, rg, f"{NET}/privateDnsZones/{name}"),
        "name": name,
        "location": "global",
        "type": "Microsoft.Network/privateDnsZones",
        "properties": {},
    }


def link(zone_body: dict, name: str, vnet: str, **extra: Any) -> dict:
    return {
        "id": f"{zone_body['id']}/virtualNetworkLinks/{name}",
        "name": name,
        "location": "global",
        "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        "properties": {"virtualNetwork": {"id": vnet}, "virtualNetworkLinkState": "Completed"},
        **extra,
    }


def world(*bodies: dict, hidden: tuple[str, ...] = ()) -> arm.ArmWorld:
    w = arm.ArmWorld()
    for b in bodies:
        w.add(b)
    w.hidden_subscriptions = set(hidden)
    return w


def ask(w: arm.ArmWorld, query: str, subs: list[str] | None = None, **options: Any) -> tuple[int, dict]:
    return armgraph.answer(
        w,
        {
            "subscriptions": subs if subs is not None else [S1, S2, S3],
            "query": query,
            "options": {"$top": 1000, **options},
        },
    )


def rows(w: arm.ArmWorld, query: str, subs: list[str] | None = None) -> list[dict]:
    status, body = ask(w, query, subs)
    assert status == 200, body
    assert body["count"] == len(body["data"]) == body["totalRecords"]
    return body["data"]


def named(w: arm.ArmWorld, where: str = "", subs: list[str] | None = None) -> list[str]:
    return [r["name"] for r in rows(w, queries.rows(queries.CLUSTER_TYPES, where), subs)]


HUB_ZONE = zone(S1, "privatelink.westeurope.azmk8s.io")
VNET = rid(S2, "rg-spoke", f"{NET}/virtualNetworks/vnet-spoke")


def mixed_world() -> arm.ArmWorld:
    """One resource of each kind the fleet reads, and of those Resource Graph does not index."""
    return world(
        cluster(S2, "RG-Aks", "aks-b"),
        cluster(S2, "rg-aks", "aks-a"),
        HUB_ZONE,
        link(HUB_ZONE, "to-spoke", VNET),
        {
            "id": f"{HUB_ZONE['id']}/A/aks-a-123",
            "name": "aks-a-123",
            "type": "Microsoft.Network/privateDnsZones/A",
            "properties": {"aRecords": [{"ipv4Address": "10.0.0.4"}]},
        },
        {
            "id": VNET,
            "name": "vnet-spoke",
            "location": "westeurope",
            "type": "Microsoft.Network/virtualNetworks",
            "properties": {"subnets": []},
        },
        {"id": f"{VNET}/subnets/nodes", "name": "nodes", "properties": {}},
        {
            "id": rid(S1, "rg-hub", f"{NET}/dnsForwardingRulesets/rs"),
            "name": "rs",
            "location": "westeurope",
            "type": "Microsoft.Network/dnsForwardingRulesets",
            "properties": {},
        },
        {
            "id": rid(S1, "rg-hub", f"{NET}/dnsForwardingRulesets/rs/forwardingRules/r1"),
            "name": "r1",
            "type": "Microsoft.Network/dnsForwardingRulesets/forwardingRules",
            "properties": {},
        },
        {
            "id": rid(S1, "rg-hub", f"{NET}/dnsForwardingRulesets/rs/virtualNetworkLinks/l1"),
            "name": "l1",
            "type": "Microsoft.Network/dnsForwardingRulesets/virtualNetworkLinks",
            "properties": {},
        },
        {
            "id": rid(S2, "mc_rg", "providers/Microsoft.Compute/virtualMachineScaleSets/vmss"),
            "name": "vmss",
            "location": "westeurope",
            "type": "Microsoft.Compute/virtualMachineScaleSets",
            "sku": {"name": "x"},
            "properties": {},
        },
        {
            "id": rid(
                S2,
                "mc_rg",
                "providers/Microsoft.Compute/virtualMachineScaleSets/vmss/virtualMachines/0/networkInterfaces/nic",
            ),
            "name": "nic",
            "type": "Microsoft.Network/networkInterfaces",
            "properties": {},
        },
        {
            "id": f"/subscriptions/{S2}/providers/Microsoft.Authorization/roleAssignments/ra1",
            "name": "ra1",
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {},
        },
        {"id": f"/subscriptions/{S3}", "subscriptionId": S3, "displayName": "three"},
    )


# ---------------------------------------------------------------- the shapes


def test_rows_hold_the_indexed_types_with_resource_graphs_columns_and_casing() -> None:
    w = mixed_world()
    got = {q.name: rows(w, q.text) for q in fleet_queries()}
    assert [r["name"] for r in got["clusters"]] == ["aks-a", "aks-b"]  # by lower-cased id: rg-aks before rg-aks
    assert [r["type"] for r in got["dns"]] == [
        "microsoft.network/dnsforwardingrulesets",
        "microsoft.network/dnsforwardingrulesets/virtualnetworklinks",
        "microsoft.network/privatednszones",
    ]  # not the A record set, not the forwarding rule
    assert [r["name"] for r in got["network"]] == ["vmss", "vnet-spoke"]  # no subnet, no scale set instance NIC
    row = got["clusters"][1]
    assert list(row) == [c.strip() for c in queries.COLUMNS.split(",")]
    assert row["id"] == rid(S2, "RG-Aks", f"{AKS}/aks-b")  # id as ARM spells it
    assert (row["type"], row["resourceGroup"], row["subscriptionId"], row["location"]) == (
        "microsoft.containerservice/managedclusters",
        "rg-aks",
        S2,
        "westeurope",
    )
    assert row["tags"] is None and row["sku"] is None and row["zones"] is None  # absent columns are null
    assert got["network"][0]["sku"] == {"name": "x"}
    unindexed = ("microsoft.network/privatednszones/a", "microsoft.network/dnsforwardingrulesets/forwardingrules",
                 "microsoft.network/virtualnetworks/subnets", "microsoft.authorization/roleassignments",
                 "microsoft.compute/virtualmachinescalesets/virtualmachines/networkinterfaces")  # fmt: skip
    assert rows(w, queries.rows(unindexed)) == []  # asked for by name, still not in the index


def test_links_by_zone_packs_each_zones_links() -> None:
    other = zone(S2, "privatelink.blob.core.windows.net", rg="rg-spoke")
    lonely = zone(S2, "privatelink.vaultcore.azure.net", rg="rg-spoke")
    w = world(HUB_ZONE, link(HUB_ZONE, "b", VNET), link(HUB_ZONE, "a", VNET), other, link(other, "x", VNET), lonely)
    got = rows(w, LINKS_BY_ZONE)
    assert [r["zone"] for r in got] == sorted([HUB_ZONE["id"].lower(), other["id"].lower()])  # no row: no links
    hub = next(r for r in got if r["zone"] == HUB_ZONE["id"].lower())
    assert [lk["name"] for lk in hub["links"]] == ["a", "b"]
    assert hub["links"][0] == {
        "id": f"{HUB_ZONE['id']}/virtualNetworkLinks/a",
        "name": "a",
        "type": "microsoft.network/privatednszones/virtualnetworklinks",
        "location": "global",
        "properties": {"virtualNetwork": {"id": VNET}, "virtualNetworkLinkState": "Completed"},
    }


@pytest.mark.parametrize(
    "query",
    [
        "resources | take 5",
        "resources",
        "",
        queries.rows(queries.CLUSTER_TYPES).replace("project id, name", "project name, id"),
        queries.rows(queries.CLUSTER_TYPES).replace(" | order by id asc", ""),
        queries.rows(queries.CLUSTER_TYPES) + " | take 1",
        queries.rows(queries.CLUSTER_TYPES, "name startsWith 'aks'"),  # KQL operators are case-sensitive
        queries.rows(queries.CLUSTER_TYPES, "Name == 'aks'"),  # and so are column names
        queries.rows(queries.CLUSTER_TYPES, "name == 'aks' or name == 'x'"),
        queries.rows(queries.CLUSTER_TYPES, "name == 'aks' and"),
        queries.rows(queries.CLUSTER_TYPES, "properties.x == 'aks'"),
        LINKS_BY_ZONE.replace("make_list", "make_set"),
        LINKS_BY_ZONE + " ",
    ],
)
def test_any_other_query_is_a_400_worded_as_resource_graph_words_it(query: str) -> None:
    status, body = ask(mixed_world(), query)
    assert status == 400
    error = body["error"]
    assert error["code"] == "BadRequest"
    assert error["message"].startswith("Please provide below info when asking for support: timestamp = ")
    assert ", correlationId = " in error["message"]
    assert error["details"] == [
        {
            "code": "InvalidQuery",
            "message": "Query is invalid. Please refer to the "
            "documentation for the Azure Resource Graph service and fix the error before retrying.",
        }
    ]


def test_a_query_that_is_not_a_string_is_invalid() -> None:
    status, body = armgraph.answer(mixed_world(), {"subscriptions": [S1], "query": 5})
    assert status == 400 and body["error"]["details"][0]["code"] == "InvalidQuery"


# ---------------------------------------------------------------- the filter


FLEET = (
    cluster(S1, "rg-prod-weu", "aks-prod-01", tags={"env": "prod", "team": "Payments API"}),
    cluster(S1, "rg-prod-weu", "AKS-Prod-02", tags={"env": "Prod"}),
    cluster(S2, "rg-dev", "aks-dev-01", location="northeurope", tags={"env": "dev"}),
    cluster(S2, "rg-dev", "sandbox", location="northeurope"),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["aks-prod-01", "AKS-Prod-02", "aks-dev-01", "sandbox"]),
        ("name == 'aks-prod-01'", ["aks-prod-01"]),
        ("name == 'AKS-PROD-01'", []),  # == is case-sensitive
        ("name =~ 'AKS-PROD-01'", ["aks-prod-01"]),
        ("name != 'aks-prod-01'", ["AKS-Prod-02", "aks-dev-01", "sandbox"]),
        ("name !~ 'AKS-PROD-01'", ["AKS-Prod-02", "aks-dev-01", "sandbox"]),
        ("name startswith 'AKS-PROD'", ["aks-prod-01", "AKS-Prod-02"]),
        ("name endswith '01'", ["aks-prod-01", "aks-dev-01"]),
        ("name contains 'PROD'", ["aks-prod-01", "AKS-Prod-02"]),
        ("name !contains 'prod'", ["aks-dev-01", "sandbox"]),
        ("name has 'prod'", ["aks-prod-01", "AKS-Prod-02"]),
        ("name has 'pro'", []),  # has matches whole terms
        ("name has 'aks-dev'", ["aks-dev-01"]),
        ("resourceGroup == 'rg-dev'", ["aks-dev-01", "sandbox"]),
        ("location =~ 'NorthEurope'", ["aks-dev-01", "sandbox"]),
        (f"subscriptionId == '{S1}'", ["aks-prod-01", "AKS-Prod-02"]),
        ("tags['env'] == 'prod'", ["aks-prod-01"]),
        ("tags.env =~ 'prod'", ["aks-prod-01", "AKS-Prod-02"]),
        ("tags['env'] != 'prod'", ["AKS-Prod-02", "aks-dev-01", "sandbox"]),  # no tag: the empty string
        ("tags['team'] has 'payments'", ["aks-prod-01"]),
        ("tags['env'] =~ 'prod' and location == 'westeurope' and name endswith '02'", ["AKS-Prod-02"]),
        ("name contains 'and' and name == 'sandbox'", ["sandbox"]),
    ],
)
def test_the_filter_clause_parse_filter_writes(text: str, expected: list[str]) -> None:
    got = named(world(*FLEET), parse_filter(text))
    assert sorted(got) == sorted(expected)


def test_the_filter_applies_to_the_query_it_is_in_only() -> None:
    w = world(*FLEET, HUB_ZONE)
    queries_ = {q.name: q.text for q in fleet_queries(parse_filter("name == 'sandbox'"))}
    assert [r["name"] for r in rows(w, queries_["clusters"])] == ["sandbox"]
    assert [r["name"] for r in rows(w, queries_["dns"])] == [HUB_ZONE["name"]]


# ---------------------------------------------------------------- paging


def big_world(n: int) -> arm.ArmWorld:
    order = list(range(n))
    random.Random(0).shuffle(order)  # added in no order: the answer is by id
    return world(*(cluster(S1 if i % 2 else S2, f"rg-{i % 7}", f"aks-{i:05d}") for i in order))


def pages(w: arm.ArmWorld, query: str, top: int | None, subs: list[str] | None = None) -> list[dict]:
    out, token, seen = [], None, 0
    while True:
        options: dict[str, Any] = {} if top is None else {"$top": top}
        if token:
            options["$skipToken"] = token
        status, body = armgraph.answer(w, {"subscriptions": subs or [S1, S2], "query": query, "options": options})
        assert status == 200, body
        assert body["resultTruncated"] == "false" and body["facets"] == []
        assert body["count"] == len(body["data"]) <= (top or armgraph.DEFAULT_TOP)
        out.append(body)
        seen += 1
        token = body.get("$skipToken")
        if not token:
            return out


def test_paging_by_top_and_skip_token_is_stable_and_complete() -> None:
    w = big_world(2500)
    query = queries.rows(queries.CLUSTER_TYPES)
    got = pages(w, query, 1000)
    assert [p["count"] for p in got] == [1000, 1000, 500]
    assert {p["totalRecords"] for p in got} == {2500}
    ids = [r["id"] for p in got for r in p["data"]]
    assert ids == sorted(ids, key=str.lower) and len(set(ids)) == 2500
    assert [p["count"] for p in pages(w, query, None)] == [100] * 25  # $top defaults to 100
    assert [r["id"] for p in pages(w, query, 999) for r in p["data"]] == ids


def test_a_skip_token_of_another_query_or_scope_or_garbage_is_a_400() -> None:
    w = big_world(300)
    query = queries.rows(queries.CLUSTER_TYPES)
    token = ask(w, query, [S1, S2], **{"$top": 100})[1]["$skipToken"]
    for other in (
        {"subscriptions": [S1, S2], "query": queries.rows(queries.CLUSTER_TYPES, "name has 'aks'")},
        {"subscriptions": [S1], "query": query},
    ):
        status, body = armgraph.answer(w, {**other, "options": {"$top": 100, "$skipToken": token}})
        assert status == 400 and body["error"]["details"][0]["code"] == "InvalidSkipToken"
    status, body = ask(w, query, [S1, S2], **{"$skipToken": "not-a-token"})
    assert status == 400 and body["error"]["details"][0]["code"] == "InvalidSkipToken"
    assert ask(w, query, [S1, S2], **{"$top": 100, "$skipToken": token})[0] == 200


@pytest.mark.parametrize("top", [0, 1001, "10"])
def test_top_out_of_range_is_a_400(top: Any) -> None:
    assert ask(big_world(3), queries.rows(queries.CLUSTER_TYPES), **{"$top": top})[0] == 400


def test_skip_and_table_format() -> None:
    w = world(*(cluster(S1, "rg", f"aks-{i:05d}") for i in (3, 1, 4, 0, 2)))
    query = queries.rows(queries.CLUSTER_TYPES)
    status, body = ask(w, query, [S1, S2], **{"$skip": 3})
    assert status == 200 and [r["name"] for r in body["data"]] == ["aks-00003", "aks-00004"]
    status, body = ask(w, query, [S1, S2], resultFormat="table")
    assert status == 200 and [c["name"] for c in body["data"]["columns"]][:3] == ["id", "name", "type"]
    assert {c["name"]: c["type"] for c in body["data"]["columns"]}["properties"] == "object"
    assert [r[1] for r in body["data"]["rows"]] == [f"aks-{i:05d}" for i in range(5)]
    assert ask(w, query, [S1, S2], resultFormat="csv")[0] == 400


# ---------------------------------------------------------------- scope


def test_hidden_and_unknown_subscriptions_are_left_out_silently() -> None:
    w = world(*FLEET, hidden=(S2,))
    assert named(w, subs=[S1, S2, S3, "44444444-4444-4444-4444-444444444444"]) == ["aks-prod-01", "AKS-Prod-02"]
    assert named(w, subs=[S2.upper()]) == []
    assert named(world(*FLEET), subs=[S2.upper()]) == ["aks-dev-01", "sandbox"]  # ids compare without case
    w = world(*FLEET)
    w.faults = {arm.HIDDEN: [S1]}  # the _faults.json way
    assert named(w, subs=[S1, S2]) == ["aks-dev-01", "sandbox"]


def test_management_groups_expand_to_their_readable_subscriptions() -> None:
    w = world(
        *FLEET,
        cluster(S3, "rg", "aks-three"),
        {"_management_group": "mg-Prod", "subscriptions": [S1, S3]},
        {"_management_group": "mg-dev", "subscriptions": [S2.upper()]},
    )
    assert "mg-prod" in w.management_groups and not any("_management_group" in b for b in w.resources.values())

    def in_groups(*groups: str) -> tuple[int, list[str]]:
        status, body = armgraph.answer(
            w, {"managementGroups": list(groups), "query": queries.rows(queries.CLUSTER_TYPES)}
        )
        return status, [r["name"] for r in body.get("data", [])]

    assert in_groups("mg-prod") == (200, ["aks-prod-01", "AKS-Prod-02", "aks-three"])
    assert in_groups("MG-PROD", "mg-dev")[1] == ["aks-prod-01", "AKS-Prod-02", "aks-dev-01", "sandbox", "aks-three"]
    w.hidden_subscriptions = {S3}
    assert in_groups("mg-prod") == (200, ["aks-prod-01", "AKS-Prod-02"])
    status, body = armgraph.answer(w, {"managementGroups": ["mg-nope"], "query": queries.rows(queries.CLUSTER_TYPES)})
    assert status == 400
    assert body["error"]["details"] == [
        {
            "code": "ManagementGroupsContainInvalidIds",
            "message": "The provided management groups must be valid. Given: 'mg-nope'.",
        }
    ]


def test_more_than_a_thousand_subscriptions_in_one_request_is_a_400() -> None:
    w = world(*FLEET)
    many = [f"{i:08d}-0000-0000-0000-000000000000" for i in range(1000)]
    assert named(w, subs=[*many[:999], S1]) == ["aks-prod-01", "AKS-Prod-02"]
    status, body = armgraph.answer(w, {"subscriptions": [*many, S1], "query": queries.rows(queries.CLUSTER_TYPES)})
    assert status == 400 and body["error"]["details"][0]["code"] == "InvalidScope"


@pytest.mark.parametrize("scope", [{}, {"subscriptions": []}, {"subscriptions": [S1], "managementGroups": ["mg"]}])
def test_neither_or_both_scopes_is_a_400(scope: dict) -> None:
    w = world(*FLEET, {"_management_group": "mg", "subscriptions": [S1]})
    status, body = armgraph.answer(w, {**scope, "query": queries.rows(queries.CLUSTER_TYPES)})
    assert status == 400 and body["error"]["details"][0]["code"] == "InvalidScope"


# ---------------------------------------------------------------- the index lags ARM


def test_stale_and_missing_index_entries_against_arm() -> None:
    fresh_link = link(HUB_ZONE, "to-spoke", VNET)
    stale_link = {**link(HUB_ZONE, "to-spoke", VNET), "_index": "stale"}
    stale_link["properties"] = {**stale_link["properties"], "virtualNetworkLinkState": "InProgress"}
    gone = {**link(HUB_ZONE, "deleted", VNET), "_index": "stale"}
    new = {**link(HUB_ZONE, "new", VNET), "_index": "missing"}
    w = world(HUB_ZONE, stale_link, fresh_link, gone, new)
    links = rows(w, LINKS_BY_ZONE)[0]["links"]
    assert [(lk["name"], lk["properties"]["virtualNetworkLinkState"]) for lk in links] == [
        ("deleted", "Completed"),
        ("to-spoke", "InProgress"),
    ]
    # ARM: the fresh body, the new link, and no deleted one; no marker keys served
    listed = w.children(f"{HUB_ZONE['id']}/virtualNetworkLinks".lower())
    assert [b["name"] for b in listed] == ["new", "to-spoke"]
    assert listed[1]["properties"]["virtualNetworkLinkState"] == "Completed"
    assert not any("_index" in b for b in [*listed, *w.index_stale.values()])
    assert f"{HUB_ZONE['id']}/virtualNetworkLinks/deleted".lower() not in w.resources


# ---------------------------------------------------------------- over HTTPS


@pytest.fixture
def served(tmp_path: Path) -> Any:
    fakes: list[arm.FakeArm] = []

    def start(w: arm.ArmWorld) -> arm.FakeArm:
        fakes.append(arm.FakeArm(w, tmp_path / f"tls{len(fakes)}"))
        return fakes[-1]

    yield start
    for f in fakes:
        f.close()


def post(fake: arm.FakeArm, path: str, body: dict, token: bool = True) -> httpx.Response:
    headers = {"Authorization": "Bearer lab"} if token else {}
    with httpx.Client(verify=ssl.create_default_context(cafile=fake.ca_path), timeout=10) as client:
        return client.post(f"{fake.endpoint}{path}?api-version={GRAPH_API}", json=body, headers=headers)


def test_over_https_the_query_path_reads_and_pages(served: Any) -> None:
    fake = served(big_world(1200))
    query = {"subscriptions": [S1, S2], "query": queries.rows(queries.CLUSTER_TYPES), "options": {"$top": 1000}}
    first = post(fake, GRAPH_PATH, query)
    assert first.status_code == 200 and first.json()["count"] == 1000
    token = first.json()["$skipToken"]
    second = post(fake, GRAPH_PATH, {**query, "options": {"$top": 1000, "$skipToken": token}})
    assert second.json()["count"] == 200 and "$skipToken" not in second.json()
    assert post(fake, GRAPH_PATH.lower(), {**query, "query": "resources | take 5"}).status_code == 400
    assert post(fake, GRAPH_PATH, query, token=False).status_code == 401
    assert len(fake.graph_queries()) == 4 and fake.writes() == []


@pytest.mark.parametrize(
    "path",
    [
        f"{GRAPH_PATH}/x",
        "/providers/Microsoft.ResourceGraph/resourceChanges",
        f"/subscriptions/{S1}/resourceGroups/rg/{AKS}/c/listClusterAdminCredential",
    ],
)
def test_a_post_elsewhere_is_refused_and_recorded_as_a_write(served: Any, path: str) -> None:
    fake = served(big_world(3))
    response = post(fake, path, {"subscriptions": [S1], "query": queries.rows(queries.CLUSTER_TYPES)})
    assert response.status_code == 405
    assert [(r.method, r.path) for r in fake.writes()] == [("POST", path)] and fake.graph_queries() == []


def test_faults_apply_to_the_query_path(served: Any) -> None:
    w = big_world(3)
    w.faults = {"/microsoft.resourcegraph/": {"status": 429, "code": "RateLimiting", "retry_after": 1, "times": 1}}
    fake = served(w)
    query = {"subscriptions": [S1, S2], "query": queries.rows(queries.CLUSTER_TYPES)}
    throttled = post(fake, GRAPH_PATH, query)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert post(fake, GRAPH_PATH, query).json()["count"] == 3
    w.faults = {"/microsoft.resourcegraph/": {"loop": True}}
    looped = post(fake, GRAPH_PATH, {**query, "options": {"$skipToken": "abc"}}).json()
    assert looped["$skipToken"] == "abc" and looped["data"] == []


def test_the_real_sdk_reads_the_pages(fake_arm: Any) -> None:
    from azure.core.credentials import AccessToken
    from azure.mgmt.resourcegraph.aio import ResourceGraphClient
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    class Token:
        async def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
            return AccessToken("lab", int(time.time()) + 3600)

        async def close(self) -> None:
            pass

    bodies = [*FLEET, HUB_ZONE, link(HUB_ZONE, "to-spoke", VNET)]
    fake = fake_arm(bodies)

    async def run() -> tuple[list[dict], list[dict]]:
        async with ResourceGraphClient(Token(), base_url=fake.endpoint, connection_verify=fake.ca_path) as client:
            got: list[dict] = []
            token = None
            while True:
                options = QueryRequestOptions(top=3, skip_token=token, result_format="objectArray")
                response = await client.resources(
                    QueryRequest(query=queries.rows(queries.CLUSTER_TYPES), subscriptions=[S1, S2], options=options)
                )
                assert response.result_truncated == "false" and response.total_records == 4
                got.extend(response.data)
                token = response.skip_token
                if not token:
                    break
            links = await client.resources(QueryRequest(query=LINKS_BY_ZONE, subscriptions=[S1]))
            return got, links.data

    clusters, links = asyncio.run(run())
    assert sorted(r["name"] for r in clusters) == ["AKS-Prod-02", "aks-dev-01", "aks-prod-01", "sandbox"]
    assert [r["zone"] for r in links] == [HUB_ZONE["id"].lower()]
    assert len(fake.graph_queries()) == 3


# ---------------------------------------------------------------- the fake ARM's lookups: as the scans were, fast


def scanned_children(w: arm.ArmWorld, collection: str) -> list[dict]:
    """ArmWorld.children as it was: a scan of every resource."""
    out = []
    parts = collection.split("/")
    subscription_wide = len(parts) > 4 and parts[3] == "providers"
    for key, body in w.resources.items():
        parent, _, _ = key.rpartition("/")
        if parent == collection:
            out.append(body)
        elif subscription_wide and "/resourcegroups/" in parent:
            head, _, rest = parent.partition("/resourcegroups/")
            if f"{head}/{rest.partition('/')[2]}" == collection:
                out.append(body)
    return sorted(out, key=lambda b: b["id"].lower())


def test_lookups_answer_as_the_scans_did_for_every_world() -> None:
    w = arm.ArmWorld()
    for name in armworld.WORLDS:
        for body in armworld.build(name):
            w.add(body)
    collections = {k.rpartition("/")[0] for k in w.resources}
    for key in list(w.resources):
        head, sep, rest = key.rpartition("/")[0].partition("/resourcegroups/")
        if sep:
            collections.add(f"{head}/{rest.partition('/')[2]}")
    collections |= {f"/subscriptions/{armworld.SUBSCRIPTION}/providers/microsoft.network/virtualnetworks", "/x"}
    for collection in collections:
        assert w.children(collection) == scanned_children(w, collection), collection
    for key in w.resources:
        parts = key.split("/")
        if len(parts) > 5 and parts[1] == "subscriptions" and parts[3] == "resourcegroups":
            assert w.has_subscription(parts[2]) and w.has_resource_group(parts[2], parts[4])
    assert not w.has_subscription("nope") and not w.has_resource_group(armworld.SUBSCRIPTION, "nope")
    scale_sets = [k for k in w.resources if k.endswith("/virtualmachinescalesets/" + k.rpartition("/")[2])]
    assert scale_sets
    for vmss in scale_sets:
        scanned = sorted(
            (
                b
                for k, b in w.resources.items()
                if k.startswith(f"{vmss}/virtualmachines/") and "/networkinterfaces/" in k
            ),
            key=lambda b: b["id"].lower(),
        )
        assert w.scale_set_nics(vmss) == scanned, vmss
    assert sum(len(w.scale_set_nics(v)) for v in scale_sets) > 0
    w.add(cluster(S3, "rg-new", "late"))  # an add after a lookup is seen
    assert w.has_resource_group(S3, "rg-new")
    assert [
        b["name"] for b in w.children(f"/subscriptions/{S3}/providers/microsoft.containerservice/managedclusters")
    ] == ["late"]


def test_a_60k_world_answers_list_gets_from_its_index_not_a_scan() -> None:
    bodies = []
    for i in range(20000):
        sub = f"{i % 40:08d}-0000-0000-0000-000000000000"
        z = zone(sub, f"z{i}.privatelink.blob.core.windows.net", rg=f"rg-{i % 50}")
        bodies += [z, link(z, "l1", VNET), link(z, "l2", VNET)]
    w = world(*bodies)
    collections = [f"{bodies[3 * i]['id'].lower()}/virtualnetworklinks" for i in range(2000)]
    w.lookups()
    started = time.monotonic()
    for collection in collections:
        assert len(w.children(collection)) == 2
        parts = collection.split("/")
        assert w.has_subscription(parts[2]) and w.has_resource_group(parts[2], parts[4])
    indexed = time.monotonic() - started
    started = time.monotonic()
    for collection in collections[:10]:
        assert len(scanned_children(w, collection)) == 2
    scans = time.monotonic() - started
    assert indexed < scans, f"2,000 lookups {indexed:.2f} s, 10 scans {scans:.2f} s"
    subs = sorted({b["id"].split("/")[2] for b in bodies})
    assert sum(p["count"] for p in pages(w, LINKS_BY_ZONE, 1000, subs)) == 20000
