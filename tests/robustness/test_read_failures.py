"""Fault corpus, class 1 (issue 12): never exit 0 when nothing was checked.

Each case breaks one read one way against the real servers on loopback — the fake Kubernetes API with the real
kube source, the fake ARM with the real Azure SDK clients, real files — and asserts the exit code (3 unless an
error finding stands), that the probe that could not look says what happened (unreachable, TLS, 401, 429, 5xx,
garbage: never "nothing holds it", never a role blamed for a 500), and a generous time bound. Each world also has
its healthy twin (or a 403, which is a finding, not an error) that must still pass.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aksdiag.cli import main
from aksdiag.lab import armworld, kubeworlds
from aksdiag.lab import world as dns_lab
from aksdiag.lab.dnsserver import free_port
from aksdiag.lab.kube import FakeKubeApi, KubeWorld
from aksdiag.lab.pki import Pki
from aksdiag.model import Finding, ProbeResult, Report, Severity, Status

BOUND = 30.0
"""Seconds any one case may take: a bound on hanging, not a benchmark."""
CLUSTER_ARGS = ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]
POD_IP = "10.244.1.3"


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, Any], str, float]:
    started = time.monotonic()
    rc = main([*args, "--output", "json"])
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if out.strip() else {}), err, took


def probe(doc: dict[str, Any], probe_id: str) -> dict[str, Any]:
    return next(p for p in doc["probes"] if p["probe"] == probe_id)


# ---------------------------------------------------------------------------------------------------------------
# whois against a failing Kubernetes API
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[Any]:
    """kube(faults, deny, edit) → a kubeconfig for a kubenet world whose API server fails as `faults` say."""
    servers: list[FakeKubeApi] = []

    def start(faults: dict[str, Any] | None = None, deny: tuple[str, ...] = (), edit: Any = None) -> str:
        world = KubeWorld()
        world.add_all(kubeworlds.build("kubenet"))
        world.denied = {tuple(d.split(" ", 1)) for d in deny}  # type: ignore[misc]
        world.faults = faults or {}
        server = FakeKubeApi(world, tmp_path / f"pki-{len(servers)}")
        servers.append(server)
        path = server.kubeconfig(tmp_path / f"kubeconfig-{len(servers)}")
        if edit is not None:
            doc = yaml.safe_load(path.read_text())
            edit(doc, server)
            path.write_text(yaml.safe_dump(doc))
        return str(path)

    yield start
    for s in servers:
        s.close()


def _down(doc: dict[str, Any], server: FakeKubeApi) -> None:
    doc["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{free_port()}"


def _other_ca(doc: dict[str, Any], server: FakeKubeApi) -> None:
    import base64
    import tempfile

    with tempfile.TemporaryDirectory(prefix="aksdiag-test-ca-") as where:  # only its PEM is kept
        pem = Pki(Path(where), name="not the API server's CA").ca_pem
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(pem.encode()).decode()


def _failing_plugin(doc: dict[str, Any], server: FakeKubeApi) -> None:
    doc["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "false",
                                        "interactiveMode": "Never"}}  # fmt: skip


def _bad_token(doc: dict[str, Any], server: FakeKubeApi) -> None:
    doc["users"][0]["user"] = {"token": "not-the-token"}


WHOIS_FAULTS = [
    # (case id, faults, kubeconfig edit, what the reason or stderr must name)
    ("api-down", None, _down, "unreachable"),
    ("tls-untrusted", None, _other_ca, "TLS"),
    ("401", None, _bad_token, "401"),
    ("exec-plugin-fails", None, _failing_plugin, "plugin"),
    ("pods-500", {"/api/v1/pods": {"status": 500}}, None, "5xx"),
    ("nodes-garbage", {"/api/v1/nodes": {"body": "garbage"}}, None, "not JSON"),
    ("services-closed", {"/api/v1/services": {"close": True}}, None, "unreachable"),
    ("pods-503", {"/api/v1/pods": {"status": 503}}, None, "5xx"),
]


@pytest.mark.parametrize(("faults", "edit", "named"), [c[1:] for c in WHOIS_FAULTS], ids=[c[0] for c in WHOIS_FAULTS])
def test_whois_that_could_not_look_exits_3(kube, capsys, faults, edit, named: str) -> None:
    kubeconfig = kube(faults, edit=edit)
    rc, doc, err, took = run(
        capsys, ["whois", POD_IP, "--kubeconfig", kubeconfig, "--timeout", "1", "--deadline", "10"]
    )
    assert rc == 3, (doc, err)
    assert took < BOUND
    if doc:  # the report is there: the probe is error, naming what happened, and no finding blames RBAC
        result = probe(doc, "whois")
        assert result["status"] == "error" and named in (result.get("reason") or ""), result
        assert not any(f["id"] in ("IP003", "IP005") for f in doc["findings"]), doc["findings"]
        assert "nothing in the cluster holds it" not in json.dumps(result)
    else:  # the command stopped: one line saying why
        assert len(err.strip().splitlines()) == 1 and named in err, err


def test_whois_healthy_and_rbac_403_are_not_errors(kube, capsys) -> None:
    rc, doc, _, _ = run(capsys, ["whois", POD_IP, "--kubeconfig", kube()])
    assert rc == 0 and probe(doc, "whois")["status"] == "ok"
    rc, doc, _, _ = run(capsys, ["whois", POD_IP, "--kubeconfig", kube(deny=("list pods",))])
    assert rc == 0 and {f["id"] for f in doc["findings"]} == {"IP005"}, "a 403 is a finding about RBAC, not an error"


# ---------------------------------------------------------------------------------------------------------------
# dns --cluster, lb, ipplan, apiserver against a failing ARM
# ---------------------------------------------------------------------------------------------------------------


CLUSTER = "/managedclusters/"
ARM_FAULTS = [
    ("cluster-500", {CLUSTER: {"status": 500}}, "5xx"),
    ("cluster-503", {CLUSTER: {"status": 503}}, "5xx"),
    ("cluster-429-retry-after-3600", {CLUSTER: {"status": 429, "retry_after": 3600}}, "429"),
    ("cluster-garbage", {CLUSTER: {"body": "garbage"}}, "unreadable"),
    ("cluster-closed", {CLUSTER: {"close": True}}, "unreachable"),
    ("links-500", {"/virtualnetworklinks": {"status": 500}}, "5xx"),
    ("records-garbage", {"/a": {"body": "garbage"}}, "unreadable"),
]


@pytest.mark.parametrize(("faults", "named"), [c[1:] for c in ARM_FAULTS], ids=[c[0] for c in ARM_FAULTS])
def test_dns_cluster_with_a_failing_arm_exits_3_and_blames_no_role(planes, capsys, faults, named: str) -> None:
    planes(faults=faults)
    rc, doc, err, took = run(capsys, ["dns", *CLUSTER_ARGS, "--timeout", "1", "--deadline", "10"])
    assert took < BOUND
    assert rc == 3, (doc["findings"], err)
    assert not any(f["id"] == "AZ001" for f in doc["findings"]), "a failed read is not a missing role"
    errored = [p for p in doc["probes"] if p["status"] == "error"]
    assert errored and any(named in (p.get("reason") or "") for p in errored), doc["probes"]


def test_arm_unreachable_still_runs_an_explicit_fqdn_chain(planes, capsys) -> None:
    planes(endpoint=f"https://127.0.0.1:{free_port()}")
    rc, doc, _, took = run(capsys, ["dns", armworld.CLUSTER_FQDN, *CLUSTER_ARGS, "--timeout", "1", "--deadline", "10"])
    assert took < BOUND and rc in (1, 3)
    chain = probe(doc, "dns_chain")
    assert chain["status"] not in ("skipped",) and chain["hops"], "the given FQDN is traced without ARM"
    assert "unreachable" in (probe(doc, "private_dns").get("reason") or "")


def test_dns_cluster_403_is_a_finding_and_healthy_is_clean(planes, capsys) -> None:
    planes()
    rc, doc, _, _ = run(capsys, ["dns", *CLUSTER_ARGS, "--timeout", "1"])
    assert rc == 0 and doc["verdict"] == "ok" and all(p["status"] != "error" for p in doc["probes"])


@pytest.mark.parametrize("command", ["lb", "ipplan", "apiserver"])
def test_other_arm_commands_exit_3_on_a_5xx(planes, capsys, command: str) -> None:
    planes(faults={CLUSTER: {"status": 500}})
    rc, doc, err, took = run(capsys, [command, *CLUSTER_ARGS, "--timeout", "1", "--deadline", "10"])
    assert took < BOUND and rc == 3, (doc, err)
    assert not any(f["id"] == "AZ001" for f in doc["findings"])
    assert any("5xx" in (p.get("reason") or "") for p in doc["probes"] if p["status"] == "error")


# ---------------------------------------------------------------------------------------------------------------
# the host resolver hop and a chain where nothing answers
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Any]:
    running = dns_lab.start("healthy", "python", tmp_path / "dns")
    yield running
    running.close()


def test_missing_resolv_conf_is_not_ok(lab, capsys, tmp_path: Path) -> None:
    rc, doc, _, _ = run(capsys, ["dns", armworld.CLUSTER_FQDN,
                                 "--server", str(lab.endpoints["custom"]), "--azure-dns", str(lab.azure_dns),
                                 "--resolv-conf", str(tmp_path / "missing.conf"), "--timeout", "1"])  # fmt: skip
    chain = probe(doc, "dns_chain")
    assert rc in (1, 3) and chain["status"] in ("error", "fail"), chain
    assert "missing.conf" in (chain.get("reason") or ""), chain
    if rc == 3:
        assert doc["verdict"] != "broken"


def test_no_resolver_with_nothing_answering_is_not_ok(capsys) -> None:
    dead = f"127.0.0.1:{free_port()}"
    rc, doc, _, took = run(capsys, ["dns", "aks-x.privatelink.koreacentral.azmk8s.io", "--no-resolver",
                                    "--azure-dns", dead, "--timeout", "0.5"])  # fmt: skip
    assert took < BOUND and rc != 0, doc
    assert probe(doc, "dns_chain")["status"] in ("error", "fail")


# ---------------------------------------------------------------------------------------------------------------
# the faces' headline: never "OK" over probes that could not run
# ---------------------------------------------------------------------------------------------------------------


def _report(*statuses: Status, finding: Severity | None = None) -> Report:
    findings = ()
    if finding is not None:
        findings = (Finding(id="DNS001", severity=finding, title="t", detail="d", remediation="r", probe="p0"),)
    probes = tuple(ProbeResult(probe=f"p{i}", title="t", status=s, elapsed_ms=1.0, findings=findings if i == 0 else ())
                   for i, s in enumerate(statuses))  # fmt: skip
    return Report(command="check", target="x", probes=probes, elapsed_ms=1.0)


@pytest.mark.parametrize(
    ("report", "headline", "rc"),
    [
        (_report(Status.OK, Status.ERROR), "INCOMPLETE", 3),
        (_report(Status.ERROR, Status.ERROR, Status.ERROR), "INCOMPLETE", 3),
        (_report(Status.OK, Status.SKIPPED), "OK", 0),
        (_report(Status.FAIL, Status.ERROR, finding=Severity.ERROR), "BROKEN", 1),
    ],
    ids=["one-error", "all-error", "healthy", "error-finding-stands"],
)
def test_headline_and_exit_code(report: Report, headline: str, rc: int) -> None:
    from aksdiag.exitcodes import exit_code_for
    from aksdiag.render import text

    assert report.headline[0] == headline and exit_code_for(report) == rc
    import io

    out = io.StringIO()
    text.render(report, out)
    first = out.getvalue().splitlines()[1]
    assert f"verdict {headline}" in first
    assert ("could not run" in first) == bool(report.could_not_run)


def test_tui_header_is_not_ok_over_probes_that_could_not_run(tmp_path: Path) -> None:
    """The TUI over a chain where no DNS server answers: the tile is error, the header says so, `q` exits 3."""
    import asyncio
    from dataclasses import replace

    from aksdiag.facts import Endpoint
    from aksdiag.probe import load
    from aksdiag.tui.app import make_app
    from aksdiag.tui.session import plan_of

    world = dns_lab.start("healthy", "python", tmp_path / "dns")
    try:
        dead = Endpoint("127.0.0.1", free_port())
        settings = world.settings(timeout=0.5, azure_dns=dead, servers=(dead,), use_resolver=False)
        session = replace(plan_of("tui", world.scenario.fqdn, settings, ["dns_chain"]), probes=(load("dns_chain"),))
        app = make_app(session, export_dir=tmp_path)

        async def go() -> None:
            async with app.run_test(size=(100, 30)) as pilot:
                for _ in range(300):
                    if app.all_final:
                        break
                    await pilot.pause(0.05)
                assert app.tiles["dns_chain"].state == "error"
                header = str(app.query_one("#verdict").render())
                assert "could not run: 1" in header and "OK" not in header, header
                await pilot.press("q")

        asyncio.run(go())
        assert app.return_value == 3
    finally:
        world.close()
