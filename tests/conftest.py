"""Every test runs with every address aksdiag may send to pointed at loopback.

AKSDIAG_AZURE_DNS names a loopback port where nothing listens and AKSDIAG_RESOLV_CONF a lab file naming a
loopback nameserver, so no test can reach 168.63.129.16 or this machine's own resolver (off loopback);
AKSDIAG_LOOPBACK_ONLY=1 makes every source (DNS, TCP/TLS/HTTP, Kubernetes, ARM) refuse any other destination; ARM is a closed
loopback port with a static token, so no test can reach Azure or ask a metadata service for a credential.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# pytest-xdist runs the suite in several workers: each names lab ports from its own slice of the lab's band, so two
# workers never pick the same port before either binds it (set before the lab's first free_port, inherited by the
# aksdiag subprocesses the tests start).
if os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    os.environ["AKSDIAG_LAB_PORTS"] = (
        f"{int(os.environ['PYTEST_XDIST_WORKER'][2:])}/{int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))}"
    )

from aksdiag.lab import world as lab_world
from aksdiag.lab.dnsserver import free_port
from aksdiag.lab.scenarios import Scenario


@pytest.fixture(autouse=True)
def loopback_only(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("loopback")
    resolv = home / "resolv.conf"
    resolv.write_text(f"# written by tests/conftest.py: loopback only\nnameserver 127.0.0.1:{free_port()}\n")
    monkeypatch.setenv("AKSDIAG_AZURE_DNS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(resolv))
    monkeypatch.setenv("AKSDIAG_RESOLVED_CONF", str(home / "no-systemd-resolved"))
    monkeypatch.setenv("AKSDIAG_LOOPBACK_ONLY", "1")
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", f"https://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AKSDIAG_ARM_TOKEN", "aksdiag-test-token")
    monkeypatch.delenv("AKSDIAG_ADDRESS_MAP", raising=False)
    for name in (
        "KUBERNETES_SERVICE_HOST",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_SUBSCRIPTION_ID",
        "IDENTITY_ENDPOINT",
        "MSI_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    return resolv


def bind_available() -> bool:
    return shutil.which("named") is not None or Path("/usr/sbin/named").exists()


@pytest.fixture
def bind_required() -> None:
    """Skips without BIND, unless AKSDIAG_REQUIRE_BIND=1 (CI), where a missing BIND is a failure."""
    if bind_available():
        return
    if os.environ.get("AKSDIAG_REQUIRE_BIND") == "1":
        pytest.fail("BIND 9 (named) is required here (AKSDIAG_REQUIRE_BIND=1): apt-get install bind9")
    pytest.skip("BIND 9 (named) is not installed: apt-get install bind9")


@pytest.fixture
def start_world(tmp_path: Path) -> Iterator[object]:
    """start_world(scenario, backend) → a running lab World, stopped after the test."""
    worlds: list[lab_world.World] = []

    def start(scenario: Scenario | str, backend: str = "python") -> lab_world.World:
        world = lab_world.start(scenario, backend, tmp_path / f"world-{len(worlds)}")
        worlds.append(world)
        return world

    yield start
    for w in worlds:
        w.close()


@pytest.fixture
def fake_arm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """fake_arm(world name or resource bodies, faults=…, latency_s=…): a fake ARM on loopback whose CA the SDKs
    trust (REQUESTS_CA_BUNDLE); at teardown every request it got must have been a GET."""
    from aksdiag.lab import arm, armworld

    fakes: list[Any] = []

    def start(world: str | list[dict[str, Any]], faults: dict[str, Any] | None = None, latency_s: float = 0.0) -> Any:
        w = arm.ArmWorld()
        for body in armworld.build(world) if isinstance(world, str) else world:
            w.add(body)
        w.faults = faults if faults is not None else armworld.faults(world) if isinstance(world, str) else {}
        fake = arm.FakeArm(w, tmp_path / f"tls{len(fakes)}", latency_s=latency_s)
        fakes.append(fake)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        return fake

    yield start
    for f in fakes:
        f.close()
    for f in fakes:
        assert f.writes() == [], "aksdiag only reads Azure: GET only"


@pytest.fixture
def planes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """planes(arm_world, dns_scenario, faults=…, endpoint=…): the fake ARM and a DNS lab world, both on loopback,
    with the environment of a jump box in the spoke (the VNet's DNS server 10.1.0.4 is the lab's custom server).
    `faults` replaces the world's own; `endpoint` points aksdiag elsewhere (an ARM that is not there)."""
    from aksdiag.lab import arm, armworld

    running: list[Any] = []

    def start(
        world: str = "healthy",
        scenario: str = "healthy",
        faults: dict[str, Any] | None = None,
        backend: str = "python",
        endpoint: str | None = None,
    ) -> Any:
        w = arm.ArmWorld()
        for body in armworld.build(world):
            w.add(body)
        w.faults = armworld.faults(world) if faults is None else faults
        fake = arm.FakeArm(w, tmp_path / "tls")
        lab = lab_world.start(scenario, backend, tmp_path / "dns")
        running.extend([fake, lab])
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", endpoint or fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        monkeypatch.setenv("AKSDIAG_ADDRESS_MAP", f"{armworld.DNS_SERVER_IP}={lab.endpoints['custom']}")
        resolv = tmp_path / "resolv.conf"  # a jump box in the spoke: the VNet's DNS server, as DHCP gives it
        resolv.write_text(f"nameserver {armworld.DNS_SERVER_IP}\n")
        monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(resolv))
        monkeypatch.setenv("AKSDIAG_AZURE_DNS", str(lab.azure_dns))
        return fake

    yield start
    for r in running:
        r.close()
