"""A certificate's names against the host used, as TLS clients match them (RFC 6125 §6.4.3): aksdiag's verdict
(API003) is checked against a real OpenSSL handshake (Python's ssl, as aksdiag's authenticated request makes it)
for every row of the table, and end to end against the lab's API server."""

from __future__ import annotations

import base64
import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from aksdiag.probes.apiserver.certnames import covers, name_matches
from aksdiag.probes.apiserver.tls import tls_hop

from aksdiag.cli import main
from aksdiag.facts import HttpResult, TlsNeed, TlsPeer
from aksdiag.lab.apiserver import FakeApiServer
from aksdiag.lab.dnsserver import LabServers, ServerSpec, Zone, make_handler
from aksdiag.lab.pki import Pki, server_context
from aksdiag.model import Finding

# (DNS SANs, IP SANs, the host connected as, covered?) — what OpenSSL (and Go, kubectl) decide
CASES: list[tuple[list[str], list[str], str, bool]] = [
    (["api.example.com"], [], "api.example.com", True),
    (["API.Example.COM"], [], "api.example.com", True),  # no case
    (["api.example.com"], [], "api.example.org", False),
    (["api.example.com"], [], "api.example.com.", False),  # a final dot counts, as in OpenSSL
    (["api.example.com."], [], "api.example.com", False),
    (["*.example.com"], [], "api.example.com.", False),
    (["*.example.com"], [], "-api.example.com", True),
    (["*.example.com"], [], "api.example.com", True),
    (["*.Example.com"], [], "API.example.COM", True),
    (["*.example.com"], [], "example.com", False),  # a wildcard is one label, never none
    (["*.example.com"], [], "a.b.example.com", False),  # … and never two
    (["*.example.com"], [], "xn--bcher-kva.example.com", True),  # a whole-label wildcard covers an A-label
    (["xn--bcher-kva.example.com"], [], "bücher.example.com", True),  # the host as its A-labels, as ssl sends it
    (["*.example.com"], [], "bücher.example.com", True),
    (["*.example.com"], [], "a_b.example.com", False),  # the label a wildcard stands for: letters, digits, -
    (["*.com"], [], "example.com", False),  # two labels after the star at least
    (["*.lab"], [], "api.lab", False),
    (["*.a.lab"], [], "api.a.lab", True),
    (["*.*.example.com"], [], "a.b.example.com", False),  # was covered: fnmatch("b.example.com", "*.example.com")
    (["*.*.example.com"], [], "a.example.com", False),
    (["a.*.example.com"], [], "a.b.example.com", False),  # a star past the left-most label
    (["f*.example.com"], [], "foo.example.com", False),  # partial wildcards: refused by Python's ssl and Go
    (["*o.example.com"], [], "foo.example.com", False),
    (["*.ex?mple.com"], [], "api.example.com", False),  # was covered: `?` is not a pattern
    (["*.[e]xample.com"], [], "api.example.com", False),  # was covered: nor is `[…]`
    (["*.exampl[a-z].com"], [], "api.examplee.com", False),
    (["*"], [], "localhost", False),
    (["api.example.com", "*.other.example"], [], "x.other.example", True),
    (["10.224.0.4"], [], "10.224.0.4", False),  # an address as a DNS name does not cover the address
    ([], ["10.224.0.4"], "10.224.0.4", True),
    ([], ["10.224.0.4"], "10.224.0.5", False),
    ([], ["10.224.0.4"], "api.example.com", False),  # an IP SAN never covers a name
    (["*.example.com"], [], "10.224.0.4", False),
    ([], ["::1"], "0:0:0:0:0:0:0:1", True),  # compared as addresses, not as text
    ([], ["fd00::4"], "fd00:0::4", True),
    ([], ["::ffff:10.224.0.4"], "10.224.0.4", False),  # an IPv4-mapped IPv6 SAN is another address
    ([], [], "api.example.com", False),  # no SAN at all: the subject's CN is not used (Go; aksdiag's request)
]


def _id(case: tuple[list[str], list[str], str, bool]) -> str:
    return f"{'+'.join(case[0] + case[1]) or 'no-san'}~{case[2]}"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


def handshake(pki: Pki, dns: list[str], ips: list[str], host: str) -> bool:
    """A real TLS handshake in memory (no socket): the server presents a certificate for `dns`/`ips` with CN
    `host`; the client verifies as aksdiag's authenticated request does. True when it accepts the name."""
    cert, key = pki.issue(host.replace(":", "_"), dns, ips)
    client = ssl.create_default_context(cadata=pki.ca_pem)
    client.hostname_checks_common_name = False
    server = server_context(cert, key)
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    tls_client = client.wrap_bio(c_in, c_out, server_hostname=host)
    tls_server = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(20):
        done = 0
        for side in (tls_client, tls_server):
            try:
                side.do_handshake()
                done += 1
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except ssl.SSLCertVerificationError as e:
                assert e.verify_code in (62, 64), e  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH: the name, not the chain
                return False
            except ssl.SSLError:
                pass  # the server sees the client's alert after a refusal
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if done == 2:
            return True
    raise AssertionError("the in-memory handshake did not finish")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_names_are_matched_as_openssl_matches_them(case, pki: Pki) -> None:
    dns, ips, host, expected = case
    assert covers(dns, ips, host) is expected
    assert handshake(pki, dns, ips, host) is expected, "the table must say what a real handshake says"


def test_names_no_dns_name_can_be_match_nothing() -> None:
    assert name_matches("api.example.com", "API.example.com")
    assert not name_matches("", "api.example.com") and not name_matches("api.example.com", "")
    assert not name_matches("*.example.com", ".example.com") and not name_matches("a..b.com", "a..b.com")
    assert not name_matches(".", ".") and not name_matches("bücher.example.com", "bücher.example.com")


# ---------------------------------------------------------------- the verdict agrees with aksdiag's own request

PEER = TlsPeer("ok", True, subject="CN=api", issuer="CN=ca", dns_names=("api.example.com",),
               not_before="2025-01-01T00:00:00+00:00", not_after="2035-01-01T00:00:00+00:00")  # fmt: skip
NEED = TlsNeed("127.0.0.1", 443, "api.example.com", "ca")
MISMATCH = ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not "
            "valid for 'api.example.com'. (_ssl.c:1000)")  # fmt: skip


@pytest.mark.parametrize(
    ("sans", "authed", "api003"),
    [
        (("api.example.com",), [], False),  # no request of our own: the SANs decide
        (("other.example.com",), [], True),
        (("other.example.com",), [HttpResult("ok", 200)], False),  # a verified request got through: covered
        (("api.example.com",), [HttpResult("tls-error", error=MISMATCH)], True),  # the handshake refused the name
        (("other.example.com",), [HttpResult("not-sent", error="no credentials in the kubeconfig")], True),
        (("api.example.com",), [HttpResult("tls-error", error="unable to get local issuer certificate")], False),
    ],
    ids=["sans-cover", "sans-miss", "request-ok", "request-mismatch", "no-request", "chain-error-leaves-it-to-sans"],
)
def test_api003_agrees_with_the_authenticated_request(sans, authed, api003: bool) -> None:
    findings: list[Finding] = []
    peer = TlsPeer(**{**PEER.__dict__, "dns_names": sans})
    tls_hop(3, "api.example.com", "127.0.0.1", 443, peer, NEED, None, findings, authed)
    assert ("API003" in {f.id for f in findings}) is api003, [f.detail for f in findings]
    if api003 and authed and authed[0].outcome == "tls-error":
        assert "refused" in findings[0].evidence["authenticated_request"]


# ---------------------------------------------------------------- end to end: aksdiag apiserver, the lab's server

NAME = "api.lab.example"


@pytest.fixture
def resolver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with LabServers() as servers:
        endpoint = servers.add(ServerSpec(make_handler([Zone("lab.example", a={NAME: ("127.0.0.1",)})], {}, None)))
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver {endpoint}\n")
        monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(resolv))
        yield


def _kubeconfig(tmp_path: Path, server: str, ca_pem: str) -> str:
    cluster = {"server": server, "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode()}
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": cluster}], "users": [{"name": "u", "user": {"token": "lab-token"}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "u"}}],
    }  # fmt: skip
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


@pytest.mark.parametrize(
    ("sans", "api003"),
    [
        ([NAME], False),
        (["*.lab.example"], False),
        (["*.*.example"], True),  # a shell pattern would cover api.lab.example
        (["*.lab.ex?mple"], True),
        (["*.[l]ab.example"], True),
        (["a*.lab.example"], True),  # partial: Python's ssl refuses it, and so does kubectl
    ],
)
def test_apiserver_verdict_matches_the_handshake(sans, api003: bool, pki: Pki, resolver, tmp_path, capsys) -> None:
    cert, key = pki.issue("apiserver", sans, [])
    started = time.monotonic()
    with FakeApiServer(cert, key) as api:
        config = _kubeconfig(tmp_path, f"https://{NAME}:{api.port}", pki.ca_pem)
        rc = main(["apiserver", "--kubeconfig", config, "--timeout", "2", "--output", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert time.monotonic() - started < 30
    found = {f["id"] for f in doc["findings"]}
    assert ("API003" in found) is api003, doc["findings"]
    assert rc == (1 if api003 else 0), doc["findings"]
    (tls,) = [h for h in doc["probes"][0]["hops"] if h["kind"] == "tls"]
    seen = "refused: " if api003 else "accepted"
    assert f"as aksdiag's authenticated request verified it: {seen}" in tls["detail"], tls["detail"]
