"""aksdiag apiserver against real TLS servers on loopback, with certificates made here."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from aksdiag.cli import main
from aksdiag.lab.apiserver import FakeApiServer, Pki, SilentTls
from aksdiag.lab.dnsserver import LabServers, ServerSpec, Zone, free_port, make_handler

NAME = "api.lab.example"


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path / "pki")


@pytest.fixture
def resolver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A loopback DNS server that resolves api.lab.example to 127.0.0.1, named by the test's resolv.conf."""
    zone = Zone("lab.example", a={NAME: ("127.0.0.1",)})
    with LabServers() as servers:
        endpoint = servers.add(ServerSpec(make_handler([zone], {}, None)))
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver {endpoint}\n")
        monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(resolv))
        yield


def kubeconfig(tmp_path: Path, server: str, ca_pem: str | None, token: str | None = "lab-token") -> str:
    cluster: dict = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
    user = {"token": token} if token else {}
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": cluster}], "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "u"}}],
    }  # fmt: skip
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    rc = main(["apiserver", *args, "--timeout", "1", "--output", "json"])
    return rc, json.loads(capsys.readouterr().out)


def codes_of(doc: dict) -> set[str]:
    return {f["id"] for f in doc["findings"]}


def serve(pki: Pki, dns: list[str], ips: list[str], **kw) -> FakeApiServer:
    cert, key = pki.issue("apiserver", dns, ips, **kw)
    return FakeApiServer(cert, key)


def test_healthy_api_server_by_name(pki, resolver, tmp_path, capsys) -> None:
    with serve(pki, [NAME, "kubernetes.default.svc"], ["127.0.0.1"]) as api:
        rc, doc = run(capsys, "--kubeconfig", kubeconfig(tmp_path, f"https://{NAME}:{api.port}", pki.ca_pem))
        assert (rc, codes_of(doc)) == (0, set()), doc["findings"]
        hops = doc["probes"][0]["hops"]
        assert [h["kind"] for h in hops] == ["name", "tcp", "tls", "health", "health"]
        assert hops[0]["answers"] == ["127.0.0.1"]
        assert "HTTP 200 (with credentials)" in hops[3]["detail"]
        assert ("/readyz", "token") in api.requests and ("/readyz", "anonymous") in api.requests


@pytest.mark.parametrize(
    ("dns", "ips", "server_host", "bad"),
    [
        (["other.example"], ["127.0.0.1"], NAME, True),  # the name used is not in the SANs
        ([], ["127.0.0.1"], NAME, True),  # IP-only SAN, reached by name
        ([], ["127.0.0.1"], "127.0.0.1", False),  # IP-only SAN, reached by that IP
        (["*.lab.example"], [], NAME, False),  # a wildcard covers one label
        ([NAME], [], "127.0.0.1", True),  # reached by IP, the certificate names only the FQDN
    ],
)
def test_san_coverage(pki, resolver, tmp_path, capsys, dns, ips, server_host, bad) -> None:
    with serve(pki, dns, ips) as api:
        rc, doc = run(capsys, "--kubeconfig", kubeconfig(tmp_path, f"https://{server_host}:{api.port}", pki.ca_pem))
    assert ("API003" in codes_of(doc)) is bad, doc["findings"]
    assert codes_of(doc) <= {"API003"} and rc == (1 if bad else 0)
    if bad:
        finding = next(f for f in doc["findings"] if f["id"] == "API003")
        assert server_host in finding["detail"]


def test_expired_certificate(pki, resolver, tmp_path, capsys) -> None:
    with serve(pki, [NAME], [], days=(-30, -1)) as api:
        rc, doc = run(capsys, "--kubeconfig", kubeconfig(tmp_path, f"https://{NAME}:{api.port}", pki.ca_pem))
    assert codes_of(doc) == {"API004"} and rc == 1
    assert "expire" in doc["findings"][0]["detail"]


def test_certificate_from_another_ca(pki, resolver, tmp_path, capsys) -> None:
    other = Pki(tmp_path / "other", name="someone else's CA")
    with serve(other, [NAME], []) as api:
        rc, doc = run(capsys, "--kubeconfig", kubeconfig(tmp_path, f"https://{NAME}:{api.port}", pki.ca_pem))
    assert "API004" in codes_of(doc) and rc == 1
    assert "does not verify against the kubeconfig's CA" in doc["findings"][0]["detail"]
    health = [h for h in doc["probes"][0]["hops"] if h["kind"] == "health"]
    assert all("401" in h["rcode"] for h in health), "the token is never sent over an unverified connection"


def test_failing_readyz_checks(pki, resolver, tmp_path, capsys) -> None:
    cert, key = pki.issue("apiserver", [NAME], [])
    with FakeApiServer(cert, key, failing=("etcd",)) as api:
        rc, doc = run(capsys, "--kubeconfig", kubeconfig(tmp_path, f"https://{NAME}:{api.port}", pki.ca_pem))
    assert codes_of(doc) == {"API005"} and rc == 1
    assert all("etcd" in f["detail"] for f in doc["findings"])


def test_anonymous_401_proves_reachability(pki, resolver, capsys) -> None:
    with serve(pki, [NAME], []) as api:
        rc, doc = run(capsys, "--fqdn", NAME, "--port", str(api.port))
    assert (rc, codes_of(doc)) == (0, set())
    hops = doc["probes"][0]["hops"]
    assert "chain not checked" in hops[2]["detail"]
    assert "reachable" in hops[3]["detail"] and "needs the kubeconfig's credentials" in hops[3]["detail"]


def test_closed_port_and_a_handshake_that_never_finishes(capsys) -> None:
    closed = free_port()
    with SilentTls() as silent:
        rc, doc = run(capsys, "--fqdn", "127.0.0.1", "--port", str(closed))
        assert rc == 1 and codes_of(doc) == {"API001"}
        assert doc["findings"][0]["detail"].endswith("refused (connection refused).")
        rc, doc = run(capsys, "--fqdn", "127.0.0.1", "--port", str(silent.port))
        assert rc == 1 and codes_of(doc) == {"API010"}


def test_port_4443_is_api002(capsys) -> None:
    rc, doc = run(capsys, "--fqdn", "127.0.0.1", "--port", str(free_port()), "--port", "4443")
    tcp = {h["name"]: h["rcode"] for h in doc["probes"][0]["hops"] if h["kind"] == "tcp"}
    assert "API001" in codes_of(doc) and rc == 1
    assert ("API002" in codes_of(doc)) is (tcp["TCP 4443"] != "open"), "4443 failing is API002, not API001"


def test_name_that_does_not_resolve(resolver, capsys) -> None:
    rc, doc = run(capsys, "--fqdn", "missing.lab.example")
    assert rc == 1 and codes_of(doc) == {"API009"}
    assert "aksdiag dns missing.lab.example" in doc["findings"][0]["remediation"]


def test_bad_kubeconfigs(tmp_path: Path, capsys) -> None:
    assert main(["apiserver", "--kubeconfig", str(tmp_path / "missing")]) == 3
    assert "cannot read the kubeconfig" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.write_text(": not yaml : [")
    assert main(["apiserver", "--kubeconfig", str(bad)]) == 3
    good = kubeconfig(tmp_path, "https://127.0.0.1:1", None)
    assert main(["apiserver", "--kubeconfig", good, "--context", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no context named 'nope'" in err and "known: lab" in err
    assert main(["apiserver", "--fqdn", "bad name"]) == 2
    assert main(["apiserver", "--fqdn", "127.0.0.1", "--port", "70000"]) == 2


@pytest.fixture
def arm_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from aksdiag.lab import arm, armworld

    fakes = []

    def start(world: str) -> list[str]:
        w = arm.ArmWorld()
        for body in armworld.build(world):
            w.add(body)
        fake = arm.FakeArm(w, tmp_path / "tls")
        fakes.append(fake)
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        return ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]

    yield start
    for f in fakes:
        assert f.writes() == []
        f.close()


@pytest.mark.parametrize(
    ("world", "extra", "expected"),
    [
        ("vnet-integration", [], set()),
        ("nsg-blocks-4443", [], {"API006"}),
        ("apiserver-subnet-small", [], {"API007"}),
        ("public-authorized", ["--egress-ip", "198.51.100.7"], {"API008"}),
        ("public-authorized", ["--egress-ip", "203.0.113.9"], set()),
    ],
)
def test_azure_checks(pki, arm_world, capsys, world: str, extra: list[str], expected: set[str]) -> None:
    from aksdiag.lab.scenarios import CLUSTER_FQDN, VNET_INTEGRATION_FQDN

    cluster = arm_world(world)
    with serve(pki, [CLUSTER_FQDN, VNET_INTEGRATION_FQDN], ["127.0.0.1"]) as api:
        rc, doc = run(capsys, *cluster, "--address", "127.0.0.1", "--port", str(api.port), *extra)
    assert codes_of(doc) == expected, doc["findings"]
    assert rc == (1 if expected else 0)
    if "API006" in expected:
        finding = doc["findings"][0]
        assert "deny-4443 (priority 200)" in finding["detail"] and "TCP 4443" in finding["detail"]
        assert "--destination-port-ranges 4443" in finding["command"]
    if "API007" in expected:
        detail = doc["findings"][0]["detail"]
        assert "not delegated" in detail and "smaller than a /28" in detail and "fewer than the 9" in detail


def test_name_comes_from_the_cluster(pki, arm_world, capsys) -> None:
    from aksdiag.lab.scenarios import VNET_INTEGRATION_FQDN

    cluster = arm_world("vnet-integration")
    _, doc = run(capsys, *cluster, "--address", "127.0.0.1", "--port", str(free_port()))
    assert doc["target"] == "rg-aks/aks-lab"
    assert doc["probes"][0]["facts"]["name"] == VNET_INTEGRATION_FQDN


def test_client_certificate_credentials(pki, resolver, tmp_path, capsys) -> None:
    server_cert, server_key = pki.issue("apiserver", [NAME], [])
    client_cert, client_key = pki.issue("user", [], [], client=True)
    path = Path(kubeconfig(tmp_path, "https://placeholder", pki.ca_pem, token=None))
    with FakeApiServer(server_cert, server_key, client_ca_pem=pki.ca_pem) as api:
        doc = yaml.safe_load(path.read_text())
        doc["clusters"][0]["cluster"]["server"] = f"https://{NAME}:{api.port}"
        doc["users"][0]["user"] = {
            "client-certificate-data": base64.b64encode(client_cert.read_bytes()).decode(),
            "client-key-data": base64.b64encode(client_key.read_bytes()).decode(),
        }
        path.write_text(yaml.safe_dump(doc))
        rc, out = run(capsys, "--kubeconfig", str(path))
    assert (rc, codes_of(out)) == (0, set())
    assert ("/readyz", "client-cert") in api.requests


def test_exec_plugin_token(pki, resolver, tmp_path, capsys) -> None:
    plugin = tmp_path / "plugin.sh"
    credential = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": "lab-token"}}  # fmt: skip
    plugin.write_text(f"#!/bin/sh\ncat <<'END'\n{json.dumps(credential)}\nEND\n")
    plugin.chmod(0o755)
    with serve(pki, [NAME], []) as api:
        path = Path(kubeconfig(tmp_path, f"https://{NAME}:{api.port}", pki.ca_pem, token=None))
        doc = yaml.safe_load(path.read_text())
        doc["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin)}}
        path.write_text(yaml.safe_dump(doc))
        rc, out = run(capsys, "--kubeconfig", str(path))
    assert (rc, codes_of(out)) == (0, set())
    assert ("/readyz", "token") in api.requests


def test_nothing_is_dialled_off_loopback_in_tests(capsys) -> None:
    """conftest sets AKSDIAG_LOOPBACK_ONLY=1: a private address is reported, never connected to."""
    rc, doc = run(capsys, "--fqdn", "10.224.0.4", "--port", "443")
    assert rc == 1 and codes_of(doc) == {"API001"}
    assert "not sent: 10.224.0.4 is off loopback" in doc["findings"][0]["detail"]
