"""The fake ARM behaves like ARM for what aksdiag reads: GET, derived lists with paging, errors on demand."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from aksdiag.lab import arm, armworld


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[arm.FakeArm]:
    directory = armworld.write("healthy", tmp_path / "world")
    (directory / "_faults.json").write_text(json.dumps({"/flaky": {"status": 429, "retry_after": 1, "times": 1}}))
    with arm.FakeArm(arm.ArmWorld.load(directory), tmp_path / "tls") as f:
        yield f


def call(fake: arm.FakeArm, path: str, method: str = "GET", token: bool = True) -> tuple[int, dict]:
    context = ssl.create_default_context(cafile=fake.ca_path)
    request = urllib.request.Request(fake.endpoint + path, method=method, data=b"{}" if method != "GET" else None)
    if token:
        request.add_header("Authorization", "Bearer test")
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


RG = f"/subscriptions/{armworld.SUBSCRIPTION}/resourceGroups"


def test_get_a_resource_by_id_case_insensitively(fake: arm.FakeArm) -> None:
    status, body = call(fake, f"{RG}/RG-AKS/providers/Microsoft.ContainerService/managedClusters/aks-lab?api-version=x")
    assert status == 200 and body["name"] == "aks-lab"
    assert body["properties"]["privateFQDN"].endswith(".privatelink.koreacentral.azmk8s.io")


def test_lists_are_derived_from_ids_and_paged(fake: arm.FakeArm) -> None:
    status, page = call(fake, f"/subscriptions/{armworld.SUBSCRIPTION}/providers/Microsoft.Network/virtualNetworks")
    assert status == 200 and len(page["value"]) == 2 and "nextLink" not in page
    zone = f"{RG}/{armworld.NODE_RG}/providers/Microsoft.Network/privateDnsZones/{armworld.CLUSTER_ZONE}"
    status, links = call(fake, zone + "/virtualNetworkLinks?api-version=2024-06-01")
    assert [link["name"] for link in links["value"]] == ["link-aks", "link-hub"]


def test_paging_with_next_link(tmp_path: Path) -> None:
    world = arm.ArmWorld()
    for i in range(5):
        world.add({"id": f"{RG}/rg/providers/Microsoft.Network/virtualNetworks/v{i}", "name": f"v{i}"})
    with arm.FakeArm(world, tmp_path) as fake:
        names, path = [], f"{RG}/rg/providers/Microsoft.Network/virtualNetworks?api-version=1"
        while path:
            _status, page = call(fake, path)
            names += [v["name"] for v in page["value"]]
            path = page.get("nextLink", "").removeprefix(fake.endpoint)
        assert names == ["v0", "v1", "v2", "v3", "v4"]
        assert len(fake.requests) == 3


def test_errors(fake: arm.FakeArm) -> None:
    assert call(fake, f"{RG}/rg-aks/providers/Microsoft.Network/virtualNetworks/nope")[0] == 404
    assert call(fake, f"{RG}/rg-aks", token=False)[0] == 401
    assert call(fake, f"{RG}/rg-aks/providers/Microsoft.Network/virtualNetworks/flaky")[0] == 429
    assert call(fake, f"{RG}/rg-aks/providers/Microsoft.Network/virtualNetworks/flaky")[0] == 404, "times: 1"


def test_writes_are_refused_and_recorded(fake: arm.FakeArm) -> None:
    status, body = call(fake, f"{RG}/rg-aks/providers/Microsoft.Network/virtualNetworks/x", method="PUT")
    assert status == 405 and body["error"]["code"] == "MethodNotAllowed"
    assert [(r.method, r.status) for r in fake.writes()] == [("PUT", 405)]
