"""The Resource Graph source (sources.azure.graph): the real azure-mgmt-resourcegraph client against the fake ARM's
Resource Graph (lab.armgraph) on loopback — rows, paging by `$skipToken`, subscription batches, management groups,
silently hidden subscriptions, and every way a query fails (one query's failure never stops the others; a 401
stops the command)."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import pytest

from aksdiag.errors import AksdiagError
from aksdiag.exitcodes import ExitCode
from aksdiag.fleet import queries
from aksdiag.fleet.queries import GRAPH_PATH, GraphQuery, fleet_queries, parse_filter
from aksdiag.sources.azure import graph

A = "11111111-1111-1111-1111-111111111111"
B = "22222222-2222-2222-2222-222222222222"
C = "33333333-3333-3333-3333-333333333333"
AT = GRAPH_PATH.lower()
"""Where a fault in the fake ARM's `faults` hits every Resource Graph request."""


def rg(sub: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{name}"


def resource(sub: str, group: str, kind: str, name: str, **more: Any) -> dict[str, Any]:
    """A body as ARM GETs it: `kind` is `Namespace/type` (`Microsoft.Network/virtualNetworks`)."""
    rid = f"{rg(sub, group)}/providers/{kind}/{name}"
    return {"id": rid, "name": name, "type": kind, "location": "westeurope", "properties": {}, **more}


def cluster(sub: str, name: str, **tags: str) -> dict[str, Any]:
    body = resource(sub, "rg-aks", "Microsoft.ContainerService/managedClusters", name, tags=tags)
    body["properties"] = {"provisioningState": "Succeeded", "apiServerAccessProfile": {"enablePrivateCluster": True}}
    return body


def hub(sub: str) -> list[dict[str, Any]]:
    """A hub: a VNet, a private zone linked to it (and its A record set, which Resource Graph does not index), a
    private endpoint, a NIC, a load balancer."""
    vnet = resource(sub, "rg-hub", "Microsoft.Network/virtualNetworks", "vnet-hub")
    zone = resource(sub, "rg-hub", "Microsoft.Network/privateDnsZones", "privatelink.westeurope.azmk8s.io")
    zone["location"] = "global"
    link = {"id": f"{zone['id']}/virtualNetworkLinks/link-hub", "name": "link-hub", "location": "global",
            "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
            "properties": {"virtualNetwork": {"id": vnet["id"]}, "registrationEnabled": False}}  # fmt: skip
    record = {"id": f"{zone['id']}/A/aks-1", "name": "aks-1", "type": "Microsoft.Network/privateDnsZones/A",
              "properties": {"aRecords": [{"ipv4Address": "10.1.0.4"}]}}  # fmt: skip
    return [
        vnet, zone, link, record,
        resource(sub, "rg-hub", "Microsoft.Network/privateEndpoints", "pe-aks"),
        resource(sub, "rg-hub", "Microsoft.Network/networkInterfaces", "nic-dns"),
        resource(sub, "rg-hub", "Microsoft.Network/loadBalancers", "kubernetes"),
    ]  # fmt: skip


def run(
    fake: Any,
    subscriptions: list[str],
    management_groups: list[str] | None = None,
    asked: list[GraphQuery] | None = None,
    deadline_s: float = 20.0,
) -> graph.GraphResult:
    return asyncio.run(
        graph.query_all(
            asked if asked is not None else fleet_queries(),
            subscriptions,
            management_groups or [],
            fake.endpoint,
            deadline=time.monotonic() + deadline_s,
        )
    )


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in rows]


def stat(result: graph.GraphResult, name: str) -> Any:
    return next(s for s in result.stats if s.name == name)


# ---------------------------------------------------------------- what comes back


def test_rows_of_every_query_and_type(fake_arm) -> None:
    fake = fake_arm([*hub(A), cluster(B, "aks-1"), cluster(B, "aks-2")])
    result = run(fake, [A, B])
    assert result.errors == () and result.truncated == ()
    assert names(result.rows["clusters"]) == ["aks-1", "aks-2"]
    assert sorted(names(result.rows["dns"])) == ["pe-aks", "privatelink.westeurope.azmk8s.io"]
    assert sorted(names(result.rows["network"])) == ["kubernetes", "nic-dns", "vnet-hub"]
    [zone] = result.rows["links"]
    assert zone["zone"].endswith("/privatednszones/privatelink.westeurope.azmk8s.io")
    assert [link["properties"]["virtualNetwork"]["id"] for link in zone["links"]] == [hub(A)[0]["id"]]
    row = result.rows["clusters"][0]
    assert row["type"] == "microsoft.containerservice/managedclusters" and row["subscriptionId"] == B
    assert row["properties"]["apiServerAccessProfile"]["enablePrivateCluster"] is True
    assert not any("/A/" in str(r.get("id")) for rows in result.rows.values() for r in rows), (
        "record sets are not indexed"
    )
    assert [(s.name, s.batches, s.pages, s.rows, s.error) for s in result.stats] == [
        ("clusters", 1, 1, 2, ""), ("dns", 1, 1, 2, ""), ("network", 1, 1, 3, ""), ("links", 1, 1, 1, ""),
    ]  # fmt: skip
    assert result.requests == 4 == len(fake.graph_queries())
    assert all(s.elapsed_ms > 0 and s.text for s in result.stats)


def test_the_filter_applies_to_the_clusters(fake_arm) -> None:
    fake = fake_arm([cluster(A, "aks-prod-1", env="prod"), cluster(A, "aks-dev-1", env="dev"), *hub(A)])
    result = run(fake, [A], asked=fleet_queries(parse_filter("tags['env'] == 'prod' and name startswith 'AKS-'")))
    assert names(result.rows["clusters"]) == ["aks-prod-1"]
    assert len(result.rows["network"]) == 3, "the filter is the clusters' only"


def test_more_than_a_page_is_paged_by_skip_token(fake_arm) -> None:
    vnets = [resource(A, "rg-net", "Microsoft.Network/virtualNetworks", f"vnet-{i:04d}") for i in range(2345)]
    fake = fake_arm(vnets)
    result = run(fake, [A], asked=[fleet_queries()[2]])
    assert names(result.rows["network"]) == [f"vnet-{i:04d}" for i in range(2345)], "every row once, in id order"
    assert (stat(result, "network").pages, result.requests, len(fake.graph_queries())) == (3, 3, 3)
    assert gc.isenabled(), "the collector paused for each page's decode is running again"


def test_subscriptions_are_batched_and_the_batches_united(fake_arm, monkeypatch) -> None:
    monkeypatch.setattr(queries, "SUBSCRIPTION_BATCH", 2)
    subs = [f"{i}{A[1:]}" for i in range(1, 6)]
    fake = fake_arm([cluster(s, f"aks-{i}") for i, s in enumerate(subs, 1)])
    result = run(fake, [*subs, subs[0]], asked=[fleet_queries()[0]])
    assert sorted(names(result.rows["clusters"])) == ["aks-1", "aks-2", "aks-3", "aks-4", "aks-5"]
    assert (stat(result, "clusters").batches, result.requests, len(fake.graph_queries())) == (3, 3, 3)


def test_a_management_group_is_one_request_for_its_subscriptions(fake_arm) -> None:
    group = {"_management_group": "mg-weu", "subscriptions": [A, B]}
    fake = fake_arm([group, cluster(A, "aks-a"), cluster(B, "aks-b"), cluster(C, "aks-c")])
    result = run(fake, [C], management_groups=["mg-weu"], asked=[fleet_queries()[0]])
    assert sorted(names(result.rows["clusters"])) == ["aks-a", "aks-b"], "the group's, not the subscriptions given"
    assert result.requests == 1 and result.errors == ()


def test_an_unknown_management_group_is_an_error_not_an_empty_fleet(fake_arm) -> None:
    fake = fake_arm([{"_management_group": "mg-weu", "subscriptions": [A]}, cluster(A, "aks-a")])
    result = run(fake, [], management_groups=["mg-nope"])
    assert result.rows == {} and len(result.errors) == 4
    assert {(e.status, e.code) for e in result.errors} == {(400, "ManagementGroupsContainInvalidIds")}


def test_a_hidden_subscription_is_left_out_silently(fake_arm) -> None:
    """As Resource Graph does: no error says so (the engine compares with the subscription list: AZ001)."""
    fake = fake_arm([cluster(A, "aks-a"), cluster(B, "aks-b"), *hub(B)], faults={"hidden_subscriptions": [B]})
    result = run(fake, [A, B])
    assert names(result.rows["clusters"]) == ["aks-a"]
    assert result.rows["dns"] == [] and result.rows["links"] == [] and result.errors == ()


def test_no_scope_sends_nothing(fake_arm) -> None:
    fake = fake_arm([cluster(A, "aks-a")])
    result = run(fake, [])
    assert result.rows == {"clusters": [], "dns": [], "network": [], "links": []}
    assert result.requests == 0 and fake.requests == []


# ---------------------------------------------------------------- how a query fails


def test_a_query_resource_graph_refuses_is_an_error_and_the_others_go_on(fake_arm) -> None:
    fake = fake_arm([cluster(A, "aks-a")])
    result = run(fake, [A], asked=[GraphQuery("x", "resources | take 5"), fleet_queries()[0]])
    assert names(result.rows["clusters"]) == ["aks-a"] and "x" not in result.rows
    [error] = result.errors
    assert (error.scope, error.status, error.code, error.action) == (GRAPH_PATH, 400, "InvalidQuery", graph.ACTION)
    assert error.message.startswith("Resource Graph query 'x': InvalidQuery: Query is invalid.")
    assert "correlationId" in error.message, "the support line is kept: it is what Azure support asks for"
    assert stat(result, "x").error == error.reason and stat(result, "x").rows == 0


FAULTS = [
    # (case, fault at the query path, its status, its failure kind, what the message names)
    ("403", {"status": 403, "code": "AuthorizationFailed", "message": "no Microsoft.ResourceGraph/resources/read"},
     403, "forbidden", "no Microsoft.ResourceGraph/resources/read"),
    ("500", {"status": 500, "code": "InternalServerError"}, 500, "server", "injected fault"),
    ("garbage", {"body": "garbage"}, 0, "garbage", "DecodeError"),
    ("skip-token-loop", {"loop": True}, 0, "garbage", "$skipToken repeats"),
    ("429-past-deadline", {"status": 429, "retry_after": 3600, "code": "RateLimiting"}, 429, "throttled",
     "Retry-After 3600 s"),
    ("closed", {"close": True}, 0, "unreachable", ""),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "status", "kind", "named"), [c[1:] for c in FAULTS], ids=[c[0] for c in FAULTS])
def test_a_failed_query_is_an_error_with_no_rows(fake_arm, fault, status, kind, named) -> None:
    fake = fake_arm([cluster(A, "aks-a"), *hub(A)], faults={AT: fault})
    started = time.monotonic()
    result = run(fake, [A], deadline_s=3.0)
    assert time.monotonic() - started < 10
    assert result.rows == {}, "a query that failed has no rows: not a part of the fleet taken for all of it"
    assert len(result.errors) == 4 and all(e.scope == GRAPH_PATH and e.action == graph.ACTION for e in result.errors)
    assert {(e.status, e.failure) for e in result.errors} == {(status, kind)}, result.errors
    assert all(named in e.message for e in result.errors), result.errors
    assert {e.message.split(":")[0] for e in result.errors} == {
        f"Resource Graph query '{n}'" for n in ("clusters", "dns", "network", "links")
    }


def test_a_slow_resource_graph_costs_the_deadline_not_more(fake_arm) -> None:
    fake = fake_arm([cluster(A, "aks-a")], faults={AT: {"delay_s": 30}})
    started = time.monotonic()
    result = run(fake, [A], deadline_s=1.0)
    assert time.monotonic() - started < 3
    assert result.rows == {} and {e.failure for e in result.errors} == {"timeout"}, result.errors


def test_a_5xx_is_retried_within_the_deadline(fake_arm) -> None:
    fake = fake_arm([cluster(A, "aks-a"), *hub(A)], faults={AT: {"status": 503, "times": 4}})
    # every query's first attempt is answered 503: each is retried (within the deadline) and succeeds
    result = run(fake, [A])
    assert result.errors == () and names(result.rows["clusters"]) == ["aks-a"]
    assert len(fake.graph_queries()) == 8 and result.requests == 4, "retries are the pipeline's, not new requests"


def test_a_failure_in_one_batch_fails_that_query_only(fake_arm, monkeypatch) -> None:
    """A hostile answer to one request of five: exactly one query has an error, the others their rows."""
    monkeypatch.setattr(queries, "SUBSCRIPTION_BATCH", 1)
    fake = fake_arm([cluster(A, "aks-a"), cluster(B, "aks-b"), *hub(A)], faults={AT: {"body": "garbage", "times": 1}})
    result = run(fake, [A, B])
    [error] = result.errors
    failed = error.message.split("'")[1]
    assert failed not in result.rows and len(result.rows) == 3
    assert stat(result, failed).batches == 2 and result.requests == 8


def test_401_stops_the_command_with_exit_3(fake_arm) -> None:
    fake = fake_arm([cluster(A, "aks-a")], faults={AT: {"status": 401, "code": "InvalidAuthenticationToken"}})
    with pytest.raises(AksdiagError) as e:
        run(fake, [A])
    assert e.value.exit_code is ExitCode.CANNOT_RUN and "az login" in e.value.hint


def test_an_endpoint_off_loopback_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(AksdiagError, match="Azure Resource Manager"):
        asyncio.run(graph.query_all(fleet_queries(), [A], [], "https://management.azure.com"))


# ---------------------------------------------------------------- answers the lab's Resource Graph never gives


@pytest.fixture
def scripted(tmp_path, monkeypatch) -> Any:
    """scripted([(status, headers, body), …]) → a loopback Resource Graph answering each request with the next
    answer (the last one again when they run out); `.times` are when each request came."""
    import json
    from http.server import BaseHTTPRequestHandler

    from aksdiag.lab.https import HttpsServer
    from aksdiag.lab.pki import Pki, server_context

    servers: list[HttpsServer] = []

    def start(answers: list[tuple[int, dict[str, str], Any]]) -> Any:
        times: list[float] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                times.append(time.monotonic())
                status, headers, body = answers[min(len(times), len(answers)) - 1]
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {**headers, "Content-Type": "application/json", "Content-Length": str(len(data))}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        pki = Pki(tmp_path / f"pki{len(servers)}", name="scripted Resource Graph CA")
        cert, key = pki.issue("arg", ["localhost"], ["127.0.0.1"])
        server = HttpsServer(Handler, server_context(cert, key), name="aksdiag-test-arg")
        servers.append(server)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_path))
        server.times = times  # type: ignore[attr-defined]
        server.endpoint = server.url  # type: ignore[attr-defined]
        return server

    yield start
    for s in servers:
        s.close()


def page(*rows: Any, truncated: str = "false", **more: Any) -> dict[str, Any]:
    return {"totalRecords": len(rows), "count": len(rows), "resultTruncated": truncated, "facets": [],
            "data": list(rows), **more}  # fmt: skip


def test_a_truncated_answer_is_said(scripted) -> None:
    server = scripted([(200, {}, page(cluster(A, "aks-a"), truncated="true"))])
    result = run(server, [A], asked=[fleet_queries()[0]])
    assert result.truncated == ("clusters",) and names(result.rows["clusters"]) == ["aks-a"]


@pytest.mark.parametrize(
    "body",
    [[1, 2], page(**{"data": {"columns": [], "rows": []}}), page(**{"data": [1, 2]}), {"count": 1}],
    ids=["not-an-object", "table-format", "rows-not-objects", "no-data"],
)
def test_an_answer_that_is_not_resource_graphs_is_garbage(scripted, body) -> None:
    result = run(scripted([(200, {}, body)]), [A], asked=[fleet_queries()[0]])
    [error] = result.errors
    assert (error.failure, error.status) == ("garbage", 0) and "clusters" not in result.rows


# ---------------------------------------------------------------- Resource Graph's quota (15 queries per 5 s)


SPENT = {"error": {"code": "RateLimiting", "message": "Please wait and retry."}}


def throttled(resets_after: str) -> list[tuple[int, dict[str, str], Any]]:
    """The 429 of a spent quota as Resource Graph sends it: no Retry-After, only its quota headers; then a page."""
    quota = {"x-ms-user-quota-remaining": "0", graph.QUOTA_RESETS: resets_after}
    return [(429, quota, SPENT), (200, {"x-ms-user-quota-remaining": "14"}, page(cluster(A, "aks-a")))]


def test_a_spent_quota_is_waited_for_as_resource_graph_says(scripted) -> None:
    server = scripted(throttled("00:00:01"))
    result = run(server, [A], asked=[fleet_queries()[0]])
    assert names(result.rows["clusters"]) == ["aks-a"] and result.errors == ()
    assert len(server.times) == 2 and server.times[1] - server.times[0] >= 0.95, "waited until the quota reset"


def test_a_quota_that_resets_past_the_deadline_is_a_throttled_error_at_once(scripted) -> None:
    server = scripted(throttled("00:10:00"))
    started = time.monotonic()
    result = run(server, [A], asked=[fleet_queries()[0]], deadline_s=5.0)
    assert time.monotonic() - started < 3, "not ten minutes, not the whole deadline"
    [error] = result.errors
    assert (error.status, error.failure) == (429, "throttled") and "Retry-After 600 s" in error.message
    assert len(server.times) == 1


def test_quota_reset_times_parse() -> None:
    assert graph._seconds("00:00:03") == 3 and graph._seconds("01:02:03.5") == 3723.5
    assert graph._seconds("") is None and graph._seconds("3") is None and graph._seconds("a:b:c") is None
