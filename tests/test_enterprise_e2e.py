"""The landing zone end to end, both planes: `aksdiag dns --cluster` against the fake ARM serving each `lz-*` world
(two subscriptions, the real Azure SDK clients) and the DNS lab serving its scenario (aksdiag.lab.lzscenarios),
from a jump box in the spoke: resolv.conf names the spoke's DNS server, 168.63.129.16 is the spoke's Azure DNS, and
the address map sends the world's addresses (10.1.1.4, 10.1.2.4, 10.1.0.4, 168.63.129.16…) to the lab's loopback
servers. Each world names exactly its codes (error and warning): the ARM plane's (private_dns) from the table of
the TABLE below, the DNS plane's (dns_chain) from the scenario; a healthy world names none; ARM saw GETs only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.lab import arm, armworld
from aksdiag.lab import world as lab_world
from aksdiag.lab.armworld import landing
from aksdiag.lab.lzscenarios import LZ_SCENARIOS, SHOWN
from aksdiag.lab.scenarios import CLUSTER_FQDN

ARGS = ["dns", "--cluster", armworld.CLUSTER, "--resource-group", armworld.CLUSTER_RG]

# world → (the ARM plane's codes, the DNS scenario that plays its DNS plane), in Azure's order at a VNet's view of
# Azure DNS (Learn, DNS Private Resolver overview, "DNS query process"): a zone linked to the VNet answers first,
# then the rulesets linked to it. The rule worlds link the zone to the hub only and rs-hub to the spoke only, so
# their rules decide from the spoke; lz-rules-zone-linked links the zone to the spoke too, and its rules are moot.
TABLE: dict[str, tuple[set[str], str]] = {
    "lz-healthy": (set(), "lz-healthy"),
    "lz-resolver": (set(), "lz-resolver"),
    "lz-azure-dns": (set(), "lz-azure-dns"),
    "lz-catch-all": ({"DNS011"}, "lz-catch-all"),  # the catch-all leaves azmk8s.io to the spoke's Azure DNS
    "lz-parent-rule": ({"DNS023"}, "lz-parent-rule"),
    "lz-rule-target": ({"DNS024"}, "lz-rule-target"),
    "lz-rule-fixed": (set(), "lz-rule-fixed"),
    "lz-rule-disabled": ({"DNS011", "DNS025"}, "lz-rule-disabled"),  # DNS025 an error, past it as lz-catch-all
    "lz-rules-zone-linked": (set(), "lz-rules-zone-linked"),  # a zone linked to the spoke answers before any rule
    "lz-ruleset-conflict": ({"DNS026"}, "lz-resolver"),  # queries sent to 10.1.2.4 meet no spoke ruleset
    "lz-inbound-unlinked": ({"DNS011"}, "lz-inbound-unlinked"),
    "lz-firewall-unlinked": ({"DNS011"}, "lz-firewall-unlinked"),
    "lz-proxy-off": ({"DNS027"}, "lz-proxy-off"),
    "lz-proxy-servers": ({"DNS028"}, "lz-proxy-servers"),
    "lz-windows-dns": (set(), "lz-windows-dns"),
    "lz-linux-dns": (set(), "lz-linux-dns"),
    "lz-second-endpoint": (set(), "lz-second-endpoint"),
    "lz-second-stale": ({"DNS012"}, "lz-second-endpoint"),  # the jump box's zone is not seen from the spoke
    "lz-custom-role": (set(), "lz-healthy"),
    "lz-custom-role-read": ({"DNS015"}, "lz-healthy"),
    "lz-denied-sub": ({"AZ001"}, "lz-healthy"),
    "lz-zone-gone": ({"AZ002"}, "lz-firewall-unlinked"),  # no zone anywhere: the DNS plane as if unlinked
}
LAB_TIMING = ["--timeout", "2", "--slow-ms", "1500"]
"""Lab answers cross up to four forwarding hops on a machine the whole suite shares: a busy moment must not turn
a healthy world into DNS009 (slow) or DNS005 (no answer); only lz-proxy-off waits out its timeout."""


def _alarms(doc: dict[str, Any], probe: str) -> set[str]:
    return {f["id"] for f in doc["findings"] if f["probe"] == probe and f["severity"] != "info"}


def _start(world: str, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> tuple[Any, Any]:
    resources = arm.ArmWorld()
    for body in armworld.build(world):
        resources.add(body)
    resources.faults = armworld.faults(world)
    fake = arm.FakeArm(resources, tmp_path / "tls")
    lab = lab_world.start(scenario, backend, tmp_path / "dns")
    shown = {role: address for role, address in SHOWN.items() if role in lab.endpoints}
    resolv = tmp_path / "resolv.conf"  # the jump box in the spoke: the spoke VNet's DNS server, as DHCP gives it
    resolv.write_text("".join(f"nameserver {shown[role]}\n" for role in lab.scenario.resolver))
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
    monkeypatch.setenv("AKSDIAG_ADDRESS_MAP", ",".join(f"{a}={lab.endpoints[r]}" for r, a in shown.items()))
    monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(resolv))
    monkeypatch.setenv("AKSDIAG_AZURE_DNS", SHOWN["azure"])
    return fake, lab


@pytest.fixture
def landing_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    running: list[Any] = []

    def start(world: str, scenario: str, backend: str = "python") -> tuple[Any, Any]:
        fake, lab = _start(world, scenario, tmp_path, monkeypatch, backend)
        running.extend([fake, lab])
        return fake, lab

    yield start
    for r in running:
        r.close()


@pytest.mark.parametrize("world", sorted(TABLE))
def test_landing_zone_world(world: str, landing_zone: Any, capsys: pytest.CaptureFixture[str]) -> None:
    arm_codes, scenario_name = TABLE[world]
    scenario = LZ_SCENARIOS[scenario_name]
    fake, _ = landing_zone(world, scenario_name)
    rc = main([*ARGS, "--subscription", landing.WORKLOAD, *LAB_TIMING, "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert [p["probe"] for p in doc["probes"]] == ["dns_chain", "private_dns"]
    chain = doc["probes"][0]
    assert chain["facts"]["name"] == CLUSTER_FQDN, "the ARM world's privateFQDN is the name the DNS lab serves"
    assert fake.requests and fake.writes() == [], "read-only, and it did read"
    assert _alarms(doc, "private_dns") == arm_codes, doc["findings"]
    dns_codes = _alarms(doc, "dns_chain")
    assert dns_codes == scenario.expected, doc["findings"]
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    assert rc == (1 if errors else 0)
    if not arm_codes and not scenario.expected:
        assert doc["verdict"] == "ok"


def _finding(doc: dict[str, Any], code: str) -> dict[str, Any]:
    found = [f for f in doc["findings"] if f["id"] == code]
    assert found, f"no {code}: {doc['findings']}"
    return found[0]


def _run(
    world: str, scenario: str, landing_zone: Any, capsys: pytest.CaptureFixture[str], backend: str = "python"
) -> tuple[Any, dict[str, Any]]:
    fake, _ = landing_zone(world, scenario, backend)
    main([*ARGS, "--subscription", landing.WORKLOAD, *LAB_TIMING, "-o", "json"])
    return fake, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("world", "kind", "fix"), [("lz-windows-dns", "Windows", "Add-DnsServerConditionalForwarderZone"),
                                                     ("lz-linux-dns", "Linux", "forward-zone")])  # fmt: skip
def test_dns001_fix_fits_the_server(
    world: str, kind: str, fix: str, landing_zone: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """vm-dns01 without the forwarder: DNS001's fix is the command for its OS (Linux: BIND and unbound)."""
    _, doc = _run(world, world, landing_zone, capsys)
    dns001 = [f for f in doc["findings"] if f["id"] == "DNS001"]
    assert dns001 and landing.DNS_VM_IP in dns001[0]["remediation"]
    assert fix in dns001[0]["remediation"], f"{kind} server: {dns001[0]['remediation']}"


@pytest.mark.parametrize(("world", "why"), [("lz-inbound-unlinked", landing.INBOUND_IP),
                                            ("lz-firewall-unlinked", landing.FIREWALL_IP)])  # fmt: skip
def test_dns011_says_which_server_resolves_from_the_unlinked_vnet(
    world: str, why: str, landing_zone: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, doc = _run(world, world, landing_zone, capsys)
    dns011 = _finding(doc, "DNS011")
    assert why in dns011["detail"] + dns011["remediation"], dns011
    assert "vnet-hub" in dns011["detail"] + dns011["remediation"]


def test_denied_subscription_is_az001_naming_it(landing_zone: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = _run("lz-denied-sub", "lz-healthy", landing_zone, capsys)
    az001 = _finding(doc, "AZ001")
    assert landing.CONNECTIVITY in json.dumps(az001)
    assert "AZ002" not in {f["id"] for f in doc["findings"]}


def test_second_endpoint_reads_every_subscription(landing_zone: Any, capsys: pytest.CaptureFixture[str]) -> None:
    fake, _ = _run("lz-second-endpoint", "lz-second-endpoint", landing_zone, capsys)
    by_sub = fake.requests_by_subscription()
    assert landing.CONNECTIVITY.lower() in by_sub and landing.WORKLOAD.lower() in by_sub
    assert fake.writes() == []


@pytest.mark.bind
@pytest.mark.parametrize("world", ["lz-rule-fixed", "lz-parent-rule", "lz-windows-dns"])
def test_both_planes_with_bind(
    world: str, landing_zone: Any, capsys: pytest.CaptureFixture[str], bind_required: None
) -> None:
    """Real BIND plays the landing zone's DNS servers: the same codes as the Python lab."""
    arm_codes, scenario_name = TABLE[world]
    scenario = LZ_SCENARIOS[scenario_name]
    fake, doc = _run(world, scenario_name, landing_zone, capsys, backend="bind")
    assert _alarms(doc, "private_dns") == arm_codes
    dns_codes = _alarms(doc, "dns_chain")
    assert dns_codes == scenario.expected
    assert fake.writes() == []
