"""Hostile DNS servers from the lab, on loopback, against `aksdiag dns`: each shape gets exactly its codes and the
exit code they mean, a reason that says what the server did, and never DNS001 when the forwarder is fine."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dns.message
import pytest

from aksdiag.cli import main
from aksdiag.lab import dnsserver as lab
from aksdiag.lab.dnsserver import LabServers, ServerSpec, Zone

FQDN = "aks-x-k3x9q2.5e2c1a7b.privatelink.koreacentral.azmk8s.io"
ZONE = "5e2c1a7b.privatelink.koreacentral.azmk8s.io"
FORWARD_ZONE = "privatelink.koreacentral.azmk8s.io"
IP = "10.224.0.4"
ALIAS = f"alias.{ZONE}"
CHAIN = [f"hop{i}.{ZONE}" for i in range(12)]
MANY = tuple(f"10.224.{i // 200}.{i % 200 + 4}" for i in range(40))
"""Forty addresses: more than a 512-byte UDP reply holds, so a cut lands mid-record."""

Wrap = Callable[[lab.Handler], lab.Handler]


@dataclass(frozen=True)
class Case:
    id: str
    codes: frozenset[str]
    says: str = ""
    """Text the report must carry (in a finding's detail, else a hop's)."""
    custom: Wrap | None = None
    """How the custom server misbehaves, wrapping a faithful forwarder to Azure DNS."""
    custom_zone: Zone | None = None
    """A hand-made copy of the zone on the custom server instead of the forwarder."""
    azure: Wrap | None = None
    azure_zone: Zone | None = None
    custom_tcp: bool = True
    addresses: tuple[str, ...] = (IP,)
    count: int = 1

    @property
    def exit(self) -> int:
        return 1 if self.codes - {"DNS009", "DNS017"} else 0  # DNS009 and DNS017 are warnings


def _rcode(code: int) -> Wrap:
    return lambda _: lab.rcode(code)


def _const(handler: lab.Handler) -> Wrap:
    return lambda _: handler


def _lossy_udp(handler: lab.Handler) -> lab.Handler:
    """Drops every other UDP query (the 1st, the 3rd…); TCP always answers."""
    lossy = lab.lossy(handler, every=2)

    async def handle(query: dns.message.Message, transport: str) -> lab.Reply:
        return await (lossy if transport == "udp" else handler)(query, transport)

    return handle


LOOP = Zone(ZONE, cname={FQDN: ALIAS, ALIAS: FQDN})
LONG = Zone(ZONE, a={CHAIN[-1]: (IP,)}, cname=dict(zip([FQDN, *CHAIN[:-1]], CHAIN, strict=True)))

CASES = [
    Case("healthy", frozenset()),
    # a truncated UDP reply is asked again over TCP, whose answer is good: nothing wrong (it was DNS001)
    Case("udp-truncated-tcp-good", frozenset(), "a truncated answer", custom=lab.truncating),
    Case("udp-cut-mid-record", frozenset(), "a truncated answer", custom=lab.cut_at_512, addresses=MANY),
    Case("azure-udp-truncated", frozenset(), azure=lab.truncating),
    # truncated over UDP and no TCP: nothing usable at all
    Case("udp-truncated-no-tcp", frozenset({"DNS005"}), "connection refused", custom=lab.truncating, custom_tcp=False),
    Case("cname-loop", frozenset({"DNS021"}), "a CNAME loop", custom_zone=LOOP),
    Case("cname-past-depth", frozenset({"DNS021"}), "no address after 11 CNAMEs", custom_zone=LONG),
    Case("cname-loop-in-azure-zone", frozenset({"DNS021"}), "a CNAME loop", azure_zone=LOOP),
    Case("formerr", frozenset({"DNS022"}), "FORMERR: the server could not parse", custom=_rcode(1)),
    Case("notimp", frozenset({"DNS022"}), "NOTIMP: the server does not implement", custom=_rcode(4)),
    Case("yxdomain", frozenset({"DNS022"}), "YXDOMAIN: a DNAME rewrite", custom=_rcode(6)),
    Case("notauth", frozenset({"DNS022"}), "NOTAUTH: the server is not authoritative", custom=_rcode(9)),
    Case("nxrrset", frozenset({"DNS022"}), "NXRRSET: an rcode of dynamic updates", custom=_rcode(8)),
    Case("rcode-12", frozenset({"DNS022"}), "rcode 12: an rcode no standard assigns", custom=_rcode(12)),
    Case("rcode-15", frozenset({"DNS022"}), "rcode 15", custom=_rcode(15)),
    Case("badvers", frozenset({"DNS022"}), "BADVERS: an rcode of EDNS or TSIG", custom=_rcode(16)),
    Case("servfail", frozenset({"DNS006"}), "SERVFAIL", custom=_const(lab.servfail)),
    Case("refused", frozenset({"DNS020"}), "REFUSED", custom=_const(lab.refuse)),
    Case("dead", frozenset({"DNS005"}), "timed out", custom=_const(lab.dead)),
    Case("too-slow", frozenset({"DNS005"}), "timed out", custom=lambda h: lab.slow(h, 2.0)),
    Case("garbage", frozenset({"DNS005"}), "malformed", custom=_const(lab.garbage)),
    Case("wrong-id", frozenset({"DNS005"}), "does not match", custom=lab.wrong_id),
    Case("other-name", frozenset({"DNS005"}), "does not match", custom=lambda h: lab.other_name(h, f"x.{ZONE}")),
    Case("udp-only", frozenset({"DNS017"}), "over TCP: connection refused", custom_tcp=False),
    Case("lossy-udp", frozenset({"DNS009"}), "2 of 4 queries lost", custom=_lossy_udp, count=4),
]


def _world(case: Case, servers: LabServers) -> tuple[str, str]:
    azure_zone = case.azure_zone or Zone(ZONE, a={FQDN: case.addresses})
    azure_handler = lab.make_handler([azure_zone], {}, None)
    azure = servers.add(ServerSpec((case.azure or (lambda h: h))(azure_handler)))
    if case.custom_zone:
        custom_handler = lab.make_handler([case.custom_zone], {}, None)
    else:
        custom_handler = lab.make_handler([], {FORWARD_ZONE: azure}, None)
    custom = servers.add(ServerSpec((case.custom or (lambda h: h))(custom_handler), tcp=case.custom_tcp))
    return str(custom), str(azure)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_server(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = set(threading.enumerate())
    with LabServers() as servers:
        custom, azure = _world(case, servers)
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver {custom}\n")
        args = ["dns", FQDN, "--server", custom, "--azure-dns", azure, "--resolv-conf", str(resolv)]
        args += ["--timeout", "1", "--count", str(case.count), "--output", "json"]
        args += [] if case.addresses != (IP,) else ["--expect", IP]
        started = time.monotonic()
        rc = main(args)
        elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    doc = json.loads(out)
    alarms = {f["id"] for f in doc["findings"] if f["severity"] != "info"}
    assert alarms == case.codes, [(f["id"], f["detail"]) for f in doc["findings"]]
    assert rc == case.exit and err == "", err
    assert elapsed < 15, f"{elapsed:.1f} s"
    if case.says:
        texts = [f["detail"] for f in doc["findings"]] + [h["detail"] or "" for h in doc["probes"][0]["hops"]]
        assert any(case.says in t for t in texts), texts
    if not case.codes:
        assert doc["verdict"] == "ok" and all(h["status"] == "ok" for h in doc["probes"][0]["hops"])
    deadline = time.monotonic() + 5
    while [t for t in threading.enumerate() if t not in before and t.is_alive()] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [t.name for t in threading.enumerate() if t not in before and t.is_alive()], "a thread leaked"


def test_every_new_dns_code_has_a_hostile_server() -> None:
    covered = set().union(*(c.codes for c in CASES))
    assert {"DNS021", "DNS022"} <= covered


# ---------------------------------------------------------------- the apiserver probe's own lookup of the name

API_NAME = "api.lab.example"
API_ZONE = Zone("lab.example", a={API_NAME: ("127.0.0.1",)}, cname={"loop.lab.example": "loop.lab.example"})


@pytest.mark.parametrize(
    ("resolver", "name", "api009", "says"),
    [
        (lambda h: h, API_NAME, False, ""),
        (lab.truncating, API_NAME, False, ""),  # the stub asks again over TCP, as a real one does (was API009)
        (lambda h: lab.rcode(4), API_NAME, True, "NOTIMP: the server does not implement"),
        (lambda h: h, "loop.lab.example", True, "a CNAME loop"),
    ],
    ids=["healthy", "udp-truncated", "notimp", "cname-loop"],
)
def test_apiserver_name_through_a_hostile_resolver(
    resolver: Wrap, name: str, api009: bool, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aksdiag.lab.apiserver import FakeApiServer
    from aksdiag.lab.pki import Pki

    pki = Pki(tmp_path / "pki")
    cert, key = pki.issue("apiserver", [API_NAME, "loop.lab.example"], ["127.0.0.1"])
    with LabServers() as servers, FakeApiServer(cert, key) as api:
        dns_server = servers.add(ServerSpec(resolver(lab.make_handler([API_ZONE], {}, None))))
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver {dns_server}\n")
        args = ["apiserver", "--fqdn", name, "--port", str(api.port), "--resolv-conf", str(resolv)]
        rc = main([*args, "--timeout", "1", "--output", "json"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    found = {f["id"] for f in doc["findings"] if f["severity"] != "info"}
    assert ("API009" in found) is api009 and err == "", doc["findings"]
    name_hop = doc["probes"][0]["hops"][0]
    if api009:
        assert rc == 1 and says in name_hop["detail"], name_hop
    else:
        assert name_hop["answers"] == ["127.0.0.1"] and "API009" not in found


@pytest.mark.parametrize("case_id", ["udp-truncated-tcp-good", "cname-loop", "notimp"])
def test_a_snapshot_of_a_hostile_server_is_judged_the_same_offline(
    case_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The new outcomes survive `aksdiag snapshot` → `aksdiag dns --from`: the same codes, with nothing running."""
    case = next(c for c in CASES if c.id == case_id)
    with LabServers() as servers:
        custom, azure = _world(case, servers)
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver {custom}\n")
        args = [FQDN, "--server", custom, "--azure-dns", azure, "--resolv-conf", str(resolv), "--timeout", "1"]
        assert main(["snapshot", *args]) == 0
    saved = tmp_path / "snapshot.json"
    saved.write_text(capsys.readouterr().out)
    rc = main(["dns", FQDN, "--from", str(saved), "--output", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert {f["id"] for f in doc["findings"] if f["severity"] != "info"} == case.codes
    assert rc == case.exit
