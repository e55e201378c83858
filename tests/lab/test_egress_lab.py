"""The egress lab: the outboundNetworkDependenciesEndpoints document the fake ARM serves (one page and paged, read
through the real SDK pipeline), and the loopback endpoints (healthy, blackholed, hijacked, denied)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

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


def _connect(port: int, timeout: float) -> str:
    import socket

    with socket.socket() as s:
        s.settimeout(timeout)
        try:
            s.connect(("127.0.0.1", port))
        except TimeoutError:
            return "timeout"
        except ConnectionRefusedError:
            return "refused"
    return "open"


def _real(lab: object, name: str) -> int:
    shown = lab.addresses[name]  # type: ignore[attr-defined]
    return int(dict(lab.address_map)[shown].rsplit(":", 1)[1])  # type: ignore[attr-defined]


def _get(lab: object, name: str, context: object) -> bytes:
    """GET / over TLS (SNI and Host `name`) from the lab server behind `name`'s address: the whole reply."""
    import socket

    with (
        socket.create_connection(("127.0.0.1", _real(lab, name)), 5) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,  # type: ignore[attr-defined]
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := tls.recv(4096):
            reply += chunk
    return reply


def test_the_lab_endpoints_are_broken_for_real(tmp_path: Path) -> None:
    """Each broken kind as a client sees it, with plain sockets and ssl: the blackhole really drops the SYN (a
    connect timeout on loopback), the hijacker's certificate comes from the other CA, the firewall answers 470."""
    import socket
    import ssl
    import time

    import dns.message
    import dns.query

    from aksdiag.lab.egresslab import DENY_BODY, FIREWALL_CA, EgressLab

    names = ["ok.example.com", "hole.example.com", "mitm.example.com", "deny.example.com", "closed.example.com",
             "gone.example.com", "priv.example.com"]  # fmt: skip
    broken = {"hole.example.com": "blackholed", "mitm.example.com": "hijacked", "deny.example.com": "denied",
              "closed.example.com": "refused", "gone.example.com": "missing", "priv.example.com": "private"}  # fmt: skip
    with EgressLab(tmp_path, names, broken) as lab:
        assert _connect(_real(lab, "ok.example.com"), 2) == "open"
        started = time.monotonic()
        assert _connect(_real(lab, "hole.example.com"), 1.0) == "timeout"
        assert time.monotonic() - started >= 0.9, "a dropped SYN, not a quick refusal"
        assert _connect(_real(lab, "closed.example.com"), 2) == "refused"

        trusted = ssl.create_default_context(cafile=str(lab.ca_path))
        assert _get(lab, "ok.example.com", trusted).split(b"\r\n", 1)[0].split()[1] == b"200"
        with pytest.raises(ssl.SSLCertVerificationError):
            _get(lab, "mitm.example.com", trusted)
        inspecting = ssl.create_default_context(cafile=str(lab.firewall.ca_path))
        with (
            socket.create_connection(("127.0.0.1", _real(lab, "mitm.example.com")), 5) as raw,
            inspecting.wrap_socket(raw, server_hostname="mitm.example.com") as tls,
        ):
            issuer = dict(x[0] for x in tls.getpeercert()["issuer"])
        assert issuer["commonName"] == FIREWALL_CA
        reply = _get(lab, "deny.example.com", trusted)
        assert reply.split(b"\r\n", 1)[0].split()[1] == b"470"
        assert DENY_BODY.format(name="deny.example.com").encode() in reply

        assert lab.dns is not None
        answer = dns.query.udp(dns.message.make_query("gone.example.com", "A"), lab.dns.host, 2, lab.dns.port)
        assert dns.rcode.to_text(answer.rcode()) == "NXDOMAIN"
        answer = dns.query.udp(dns.message.make_query("priv.example.com", "A"), lab.dns.host, 2, lab.dns.port)
        assert answer.answer[0][0].address.startswith("10.")
        assert lab.queries == 2


def test_lab_egress_refuses_an_unknown_kind(capsys: pytest.CaptureFixture[str]) -> None:
    from aksdiag.cli import main

    assert main(["lab", "egress", "--broken", "mcr.microsoft.com=sideways"]) == 2
    assert "KIND one of blackholed" in capsys.readouterr().err
