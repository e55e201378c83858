"""aksdiag.dnsnames: what an AKS private name says about its zone, and the zone and record to name in a fix."""

from __future__ import annotations

import pytest

from aksdiag.dnsnames import AksZone, aks_zone, forward_zone, is_suffix, parent, relative_record

PRIVATELINK_NAME = "aks-x-k3x9q2.5e2c1a7b-1f2e-4d3c-9b8a-0123456789ab.privatelink.koreacentral.azmk8s.io"
VNET_INTEGRATION_NAME = "aks-x-k3x9q2.5e2c1a7b-1f2e-4d3c-9b8a-0123456789ab.private.eastus2.azmk8s.io"


# ---------------------------------------------------------------- aks_zone


@pytest.mark.parametrize(
    ("name", "kind", "region"),
    [
        (PRIVATELINK_NAME, "privatelink", "koreacentral"),  # private endpoint (classic private cluster)
        (VNET_INTEGRATION_NAME, "private", "eastus2"),  # API Server VNet Integration
        ("aks-x.privatelink.westeurope.azmk8s.io", "privatelink", "westeurope"),  # no GUID subzone
        ("privatelink.koreacentral.azmk8s.io", "privatelink", "koreacentral"),  # the zone itself
        ("AKS-X.5E2C1A7B.PrivateLink.KoreaCentral.AZMK8S.IO", "privatelink", "koreacentral"),  # case
        (PRIVATELINK_NAME + ".", "privatelink", "koreacentral"),  # absolute, with the final dot
    ],
)
def test_aks_zone_of_private_names(name: str, kind: str, region: str) -> None:
    zone = aks_zone(name)
    assert zone == AksZone(kind=kind, region=region)
    assert zone is not None and zone.forward_zone == f"{kind}.{region}.azmk8s.io"


@pytest.mark.parametrize(
    "name",
    [
        "aks-x-k3x9q2.hcp.koreacentral.azmk8s.io",  # the public API server name
        "aks-x.notprivatelink.koreacentral.azmk8s.io",  # the label must be exactly privatelink/private
        "aks-x.privatelink.koreacentral.azmk8s.io.evil.example",  # azmk8s.io must be the end
        "aks-x.privatelink.koreacentral.azmk8s.io.com",
        "aks-x.privatelink.korea.central.azmk8s.io",  # a region is one label
        "aks-x.privatelink.koreacentral.azmk8s.com",
        "api.contoso.internal",
        "azmk8s.io",
        "",
    ],
)
def test_aks_zone_of_other_names_is_none(name: str) -> None:
    assert aks_zone(name) is None


# ---------------------------------------------------------------- forward_zone


def test_forward_zone_of_an_aks_name_is_the_region_zone_not_the_guid_subzone() -> None:
    # conditional forwarders cover privatelink.<region>.azmk8s.io; the GUID subzone seen in the SOA is not it
    seen = "5e2c1a7b-1f2e-4d3c-9b8a-0123456789ab.privatelink.koreacentral.azmk8s.io"
    assert forward_zone(PRIVATELINK_NAME) == "privatelink.koreacentral.azmk8s.io"
    assert forward_zone(PRIVATELINK_NAME, seen) == "privatelink.koreacentral.azmk8s.io"
    assert forward_zone(VNET_INTEGRATION_NAME, "azmk8s.io") == "private.eastus2.azmk8s.io"


def test_forward_zone_of_another_name_is_the_zone_seen_when_it_holds_the_name() -> None:
    assert forward_zone("api.dev.contoso.internal", "contoso.internal") == "contoso.internal"
    assert forward_zone("api.contoso.internal", "api.contoso.internal") == "api.contoso.internal"


@pytest.mark.parametrize(
    ("seen", "why"),
    [
        (None, "no zone seen"),
        ("fabrikam.internal", "the zone seen does not hold the name"),
        ("internal", "a single-label zone (a TLD) is no place for a forwarder"),
        ("ontoso.internal", "a suffix of the text, not of the labels"),
    ],
)
def test_forward_zone_falls_back_to_the_parent(seen: str | None, why: str) -> None:
    assert forward_zone("api.contoso.internal", seen) == "contoso.internal", why


# ---------------------------------------------------------------- relative_record


@pytest.mark.parametrize(
    ("name", "zone", "record"),
    [
        (PRIVATELINK_NAME, "5e2c1a7b-1f2e-4d3c-9b8a-0123456789ab.privatelink.koreacentral.azmk8s.io", "aks-x-k3x9q2"),
        (PRIVATELINK_NAME, "privatelink.koreacentral.azmk8s.io", "aks-x-k3x9q2.5e2c1a7b-1f2e-4d3c-9b8a-0123456789ab"),
        ("api.dev.contoso.internal", "contoso.internal", "api.dev"),
        ("contoso.internal", "contoso.internal", "@"),
        ("api.contoso.internal", "fabrikam.internal", "api.contoso.internal"),  # not in the zone: the name itself
        ("api.contoso.internal", "ontoso.internal", "api.contoso.internal"),  # a text suffix is not a zone
    ],
)
def test_relative_record(name: str, zone: str, record: str) -> None:
    assert relative_record(name, zone) == record


@pytest.mark.parametrize(
    ("name", "zone", "record"),
    [
        ("contoso.internal", "Contoso.Internal", "@"),  # an SOA owner keeps the case the zone was created with
        ("api.contoso.internal", "Contoso.Internal", "api"),
        ("api.contoso.internal.", "contoso.internal", "api"),
        ("api.contoso.internal", "contoso.internal.", "api"),
        ("contoso.internal.", "contoso.internal", "@"),
    ],
)
def test_relative_record_ignores_case_and_the_final_dot(name: str, zone: str, record: str) -> None:
    assert relative_record(name, zone) == record


# ---------------------------------------------------------------- parent and is_suffix


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("api.my.com", "my.com"),
        (PRIVATELINK_NAME, "5e2c1a7b-1f2e-4d3c-9b8a-0123456789ab.privatelink.koreacentral.azmk8s.io"),
        ("my.com", "com"),
        ("localhost", "localhost"),  # a single label has no parent: itself
    ],
)
def test_parent(name: str, expected: str) -> None:
    assert parent(name) == expected


def test_is_suffix_works_on_labels_ignoring_case_and_final_dot() -> None:
    assert is_suffix("contoso.internal", "api.contoso.internal")
    assert is_suffix("contoso.internal", "contoso.internal")
    assert is_suffix("Contoso.Internal.", "API.contoso.internal")
    assert not is_suffix("ontoso.internal", "api.contoso.internal")
    assert not is_suffix("api.contoso.internal", "contoso.internal")
