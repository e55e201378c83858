"""aksdiag egress end to end: the real DNS, TCP, TLS and HTTP sources against the loopback egress lab
(aksdiag.lab.egresslab), the real Azure SDK pipeline against the fake ARM serving the cluster's
outboundNetworkDependenciesEndpoints, the command line and its renderers. Each code's world is judged from facts in
tests/probes/test_egress.py; here what only the real path shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.lab import arm, armworld
from aksdiag.lab.armworld import dependencies
from aksdiag.lab.egresslab import FIREWALL_CA, EgressLab
from aksdiag.lab.scenarios import CLUSTER_FQDN

AZURE = ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]
LISTED = [e["domainName"] for c in dependencies.categories() for e in c["endpoints"] if "*" not in e["domainName"]]
NAMES = sorted({*LISTED, f"{armworld.REGION}.data.mcr.microsoft.com", CLUSTER_FQDN})
"""Every name `aksdiag egress --cluster` resolves in the healthy ARM world: the list's, the regional MCR, the API
server's private FQDN (the list's wildcards are shown, not resolved)."""


@pytest.fixture
def egress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """egress(broken, world=None) → the CLI flags for a lab with `broken` endpoints (and that ARM world)."""
    started: list[Any] = []

    def start(broken: dict[str, str] | None = None, world: str | None = None) -> list[str]:
        lab = EgressLab(tmp_path / f"lab{len(started)}", NAMES, broken or {})
        started.append(lab)
        for key, value in lab.env().items():
            monkeypatch.setenv(key, value)
        flags = ["--resolv-conf", str(lab.write_resolv_conf()), "--tls-ca-bundle", str(lab.ca_path),
                 "--timeout", "1"]  # fmt: skip
        if world is None:
            return flags
        w = arm.ArmWorld()
        bodies = armworld.build(world)
        if not any(b.get("_path", "").endswith("/outboundNetworkDependenciesEndpoints") for b in bodies):
            bodies.append(dependencies.document())
        for body in bodies:
            w.add(body)
        fake = arm.FakeArm(w, tmp_path / f"arm{len(started)}")
        started.append(fake)
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
        return [*flags, *AZURE]

    yield start
    for s in started:
        if isinstance(s, arm.FakeArm):
            assert s.writes() == [] and {r.method for r in s.requests} == {"GET"}, "aksdiag only reads Azure"
            assert any(r.path.endswith("/outboundNetworkDependenciesEndpoints") for r in s.requests)
        s.close()


def run(capsys: pytest.CaptureFixture[str], args: list[str], output: str = "json") -> tuple[int, Any]:
    rc = main([*args, "--output", output])
    out = capsys.readouterr().out
    return rc, json.loads(out) if output == "json" else out


def ids(doc: dict[str, Any], probe: str = "egress") -> list[str]:
    return sorted(f["id"] for f in doc["findings"] if f["probe"] == probe)


def test_the_healthy_cluster_reaches_everything_it_lists(egress: Any, capsys: pytest.CaptureFixture[str]) -> None:
    rc, doc = run(capsys, ["egress", *egress(world="healthy")])
    assert rc == 0, doc
    assert ids(doc) == ["EG008"], "wildcards and NTP are shown, not tested: an info, no alarm"
    (result,) = [p for p in doc["probes"] if p["probe"] == "egress"]
    rows = {r[0]: r for r in result["tables"][0]["rows"]}
    assert rows["mcr.microsoft.com:443"][3:6] == ["open", "trusted", "200"]
    assert rows[f"{CLUSTER_FQDN}:443"][1] == "apiserver"
    assert rows["security.ubuntu.com:80"][3:5] == ["open", "-"], "plain HTTP: reached by TCP"
    assert rows["*.azmk8s.io:9000"][-1] == "shown"
    assert result["facts"]["cluster_list"] == f"{len(dependencies.categories())} categories"


def test_each_broken_endpoint_is_named_by_its_code(egress: Any, capsys: pytest.CaptureFixture[str]) -> None:
    broken = {"mcr.microsoft.com": "blackholed", "login.microsoftonline.com": "hijacked",
              "packages.microsoft.com": "denied", "acs-mirror.azureedge.net": "missing",
              "management.azure.com": "refused", f"{armworld.REGION}.data.mcr.microsoft.com": "private"}  # fmt: skip
    rc, doc = run(capsys, ["egress", *egress(broken, world="healthy")])
    assert rc == 1
    by_code = {f["id"]: f for f in doc["findings"] if f["probe"] == "egress"}
    assert sorted(by_code) == ["EG001", "EG002", "EG003", "EG004", "EG005", "EG006", "EG008"]
    assert by_code["EG003"]["detail"].startswith("mcr.microsoft.com:443")
    assert FIREWALL_CA in by_code["EG005"]["detail"] and "login.microsoftonline.com" in by_code["EG005"]["detail"]
    assert "470" in by_code["EG006"]["detail"] and "Action: Deny" in by_code["EG006"]["detail"]
    assert (
        by_code["EG001"]["detail"].startswith("acs-mirror.azureedge.net") and "NXDOMAIN" in by_code["EG001"]["detail"]
    )
    assert by_code["EG004"]["detail"].startswith("management.azure.com")
    assert "10.1.9." in by_code["EG002"]["detail"]


def test_a_route_to_none_is_named_beside_the_dropped_endpoint(egress: Any,
                                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    rc, doc = run(capsys, ["egress", *egress({"mcr.microsoft.com": "blackholed"}, world="egress-route-none")])
    assert rc == 1
    (eg003,) = [f for f in doc["findings"] if f["id"] == "EG003"]
    assert eg003["evidence"]["blocker"]["kind"] == "route-none", eg003
    assert "drops" in eg003["detail"]
    assert "outbound" in {p["probe"] for p in doc["probes"]}, "the egress command runs the Azure side too"


def test_without_azure_the_essentials_and_the_given_endpoints(egress: Any, capsys: pytest.CaptureFixture[str]) -> None:
    flags = egress({"acs-mirror.azureedge.net": "blackholed"})
    rc, doc = run(capsys, ["egress", *flags, "--endpoint", f"{CLUSTER_FQDN}:443"])
    assert rc == 1 and ids(doc) == ["EG003"]
    (result,) = doc["probes"]
    assert result["facts"]["cluster_list"] == "not read (no Azure context)"
    assert result["tables"][0]["rows"][0][0] == f"{CLUSTER_FQDN}:443", "the user's own come first"
    rc, text = run(capsys, ["egress", *flags], output="markdown")
    assert "EG003" in text and "acs-mirror.azureedge.net" in text
    rc, text = run(capsys, ["egress", *flags], output="text")
    assert "EG003" in text


def test_check_tests_egress_only_with_a_reason(egress: Any, capsys: pytest.CaptureFixture[str]) -> None:
    egress(world="healthy")
    _, doc = run(capsys, ["check", *AZURE, "--timeout", "1"])
    assert "egress" not in {p["probe"] for p in doc["probes"]}, "no reason: left out of check, not skipped"
    _, doc = run(capsys, ["check", *AZURE, "--endpoint", "mcr.microsoft.com", "--timeout", "1"])
    (result,) = [p for p in doc["probes"] if p["probe"] == "egress"]
    assert result["status"] in ("ok", "warn", "fail", "error"), result


@pytest.mark.parametrize("bad", ["mcr.microsoft.com:0", "mcr.microsoft.com:http", "*.azmk8s.io", "a..b", "::1"])
def test_a_bad_endpoint_is_a_usage_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["egress", "--endpoint", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aksdiag: error:") and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["egress", "--help"])
    out = capsys.readouterr().out
    for words in ("outboundNetworkDependenciesEndpoints", "470", "--endpoint", "aksdiag pod", "one --timeout"):
        assert words in out


def test_pod_reads_the_required_endpoints_here_and_passes_them(egress: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """`aksdiag pod --cluster … -- egress`: the list and the cluster are read from the fake ARM on this side (the pod
    gets no credential) and become the pod's --endpoint, --api-server and --region; wildcards are said here."""
    import argparse
    import io

    from aksdiag.pod import command, nodeview
    from aksdiag.pod import egress as pod_egress

    egress(world="healthy")
    args = argparse.Namespace(cluster=armworld.CLUSTER, resource_group=armworld.CLUSTER_RG,
                              subscription=armworld.SUBSCRIPTION, cloud=None, node_resolver_files=False,
                              host_network=False)  # fmt: skip
    inner, _ = command.inner_args(["--", "egress", "--timeout", "1"])
    assert nodeview.check(args, inner) is True
    err = io.StringIO()
    extra = pod_egress.args_from_azure(args, err)
    assert extra[:4] == ("--api-server", CLUSTER_FQDN, "--region", armworld.REGION)
    passed = [extra[i + 1] for i, a in enumerate(extra) if a == "--endpoint"]
    assert "mcr.microsoft.com:443" in passed and "security.ubuntu.com:80" in passed
    assert not any("*" in p or p.endswith(":123") for p in passed)
    assert "*.azmk8s.io:9000" in err.getvalue() and "ntp.ubuntu.com:123" in err.getvalue()
    from aksdiag.cli import build_parser
    from aksdiag.commands import validate

    parsed = build_parser().parse_args([*inner[:-2], *extra, *inner[-2:]])
    validate.flags("egress", parsed)  # what the pod will parse is valid here


def test_pod_refuses_a_bad_endpoint_before_any_pod(capsys: pytest.CaptureFixture[str]) -> None:
    from aksdiag.errors import UsageError
    from aksdiag.pod import command

    with pytest.raises(UsageError, match="--endpoint"):
        command.inner_args(["--", "egress", "--endpoint", "mcr.microsoft.com:99999"])


def test_a_ca_bundle_that_cannot_be_used_is_refused_before_anything_is_sent(tmp_path) -> None:
    """--tls-ca-bundle missing or not PEM: exit 2 with one line, not every endpoint judged 'TLS inspection'."""
    import subprocess
    import sys

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    for bundle in (tmp_path / "missing.pem", garbage):
        proc = subprocess.run([sys.executable, "-m", "aksdiag", "egress", "--tls-ca-bundle", str(bundle)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "--tls-ca-bundle" in proc.stderr and "Traceback" not in proc.stderr
