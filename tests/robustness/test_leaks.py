"""Fault corpus, class 3 (issue 12): nothing leaks — no pod left in the cluster, no secret copied into a report, no
credential sent in cleartext or to another host, no identifier kept by --redact, no temporary directory left.

Each case runs the real thing on loopback: a real `aksdiag` subprocess and real signals against the fake API server
and the simulated kubelet; real exec plugins; a plain-HTTP server that records what it was sent; the fake ARM with
the real Azure SDK clients; the lab worlds' facts through the redaction.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aksdiag.cli import main
from aksdiag.lab import kubeworlds
from aksdiag.lab.kube import BY_KIND, FakeKubeApi, KubeWorld
from aksdiag.lab.kubelet import NodeBehaviour, SimulatedKubelet
from aksdiag.pod import spec

IMAGE = "aksdiagacr.azurecr.io/aksdiag:test"
NODE = "aks-nodepool1-12345678-vmss000000"
DNS_ARGS = ["dns", "aks-x.privatelink.koreacentral.azmk8s.io", "--timeout", "1"]
BOUND = 30.0
"""Seconds any one case may take, generously: a bound on hanging, not a benchmark."""


# ---------------------------------------------------------------------------------------------------------------
# aksdiag pod: signals and refused deletes leave no pod behind, silently
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    api: FakeKubeApi
    kubeconfig: str

    def args(self, *extra: str) -> list[str]:
        return ["pod", "--kubeconfig", self.kubeconfig, "--image", IMAGE, *extra]

    def pods(self) -> list[str]:
        """The names of the pods aksdiag made that the API server still holds."""
        pods = self.api.world.objects[BY_KIND["Pod"]].values()
        return [p["metadata"]["name"] for p in pods if (p["metadata"].get("labels") or {}).get(spec.MANAGED_BY)]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """One Linux node whose runtime never starts a container: a run waits until it is ended."""
    body = kubeworlds.node(NODE, "10.240.0.4", [], 0)
    body["metadata"]["labels"] = {"kubernetes.azure.com/agentpool": "nodepool1", "kubernetes.io/os": "linux"}
    body["status"]["conditions"] = [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]
    world = KubeWorld()
    world.add_all([body, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "aksdiag"}},
                   {"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "aksdiag", "namespace": "aksdiag"}}])  # fmt: skip
    resolv = tmp_path / "node-resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    api = FakeKubeApi(world, tmp_path / "pki")
    kubelet = SimulatedKubelet(api, {NODE: NodeBehaviour(resolv, never_starts=True)}, tmp_path / "kubelet")
    try:
        yield Cluster(api, str(api.kubeconfig(tmp_path / "kubeconfig")))
    finally:
        kubelet.close()
        api.close()


def _start_waiting(c: Cluster) -> subprocess.Popen[str]:
    """A real `aksdiag pod` whose pod exists and is being waited for."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aksdiag", *c.args("--timeout", "120", "--", *DNS_ARGS)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "waiting…" in line, line
    assert len(c.pods()) == 1
    return proc


@pytest.mark.parametrize(
    ("sent", "rc", "said"),
    [
        (signal.SIGTERM, 143, "terminated by SIGTERM"),
        (signal.SIGHUP, 129, "terminated by SIGHUP"),
        (signal.SIGINT, 130, "interrupted"),
    ],
    ids=["SIGTERM", "SIGHUP", "SIGINT"],
)
def test_a_signal_deletes_the_runs_pod_then_exits_128_plus_it(cluster: Cluster, sent: int, rc: int, said: str) -> None:
    proc = _start_waiting(cluster)
    started = time.monotonic()
    try:
        proc.send_signal(sent)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    assert proc.returncode == rc, err
    assert said in err and "deleted 1 pod" in err and not _crashed(err), err
    assert time.monotonic() - started < BOUND
    assert cluster.pods() == []


def test_a_second_sigterm_does_not_cut_the_delete_short(cluster: Cluster) -> None:
    proc = _start_waiting(cluster)
    try:
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    assert proc.returncode == 143 and not _crashed(err), err
    assert cluster.pods() == []


def test_a_refused_delete_is_exit_3_naming_the_pod_and_how_to_remove_it(cluster: Cluster) -> None:
    proc = _start_waiting(cluster)
    cluster.api.world.denied = {("delete", "pods")}
    try:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    (left,) = cluster.pods()
    assert proc.returncode == 143, err  # the signal still says how the run ended; the pod left is named
    assert f"could not delete aksdiag/{left}" in err and "cannot delete pods" in err, err


def test_a_refused_delete_after_a_finished_run_is_exit_3_not_0(cluster: Cluster, capsys) -> None:
    cluster.api.world.denied = {("delete", "pods")}
    assert main(cluster.args("--timeout", "1", "--", *DNS_ARGS)) == 3
    err = capsys.readouterr().err
    (left,) = cluster.pods()
    last = err.strip().splitlines()[-1]
    assert f"could not delete 1 pod of this run in namespace aksdiag: {left}" in last, err
    assert "aksdiag pod --cleanup --namespace aksdiag" in last and f"kubectl delete pod -n aksdiag {left}" in last


def test_cleanup_that_cannot_delete_is_exit_3(cluster: Cluster, capsys) -> None:
    cluster.api.world.denied = {("delete", "pods")}
    assert main(cluster.args("--timeout", "1", "--", *DNS_ARGS)) == 3
    (left,) = cluster.pods()
    capsys.readouterr()
    assert main(["pod", "--kubeconfig", cluster.kubeconfig, "--cleanup"]) == 3
    assert f"kubectl delete pod -n aksdiag {left}" in capsys.readouterr().err
    cluster.api.world.denied = set()
    assert main(["pod", "--kubeconfig", cluster.kubeconfig, "--cleanup"]) == 0
    assert cluster.pods() == []


# ---------------------------------------------------------------------------------------------------------------
# Credentials: only over TLS verified against the cluster's CA; a plugin's output is never copied
# ---------------------------------------------------------------------------------------------------------------

SECRET = "s3cr3t-Bearer-0123456789"


class _Recorder:
    """A loopback HTTP(S) server that answers every GET with an empty Kubernetes list and records each request's
    path and Authorization header: what a leak would carry."""

    def __init__(self, tls_dir: Path | None = None) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                seen.append((self.path, self.headers.get("Authorization")))
                body = json.dumps({"kind": "List", "items": [], "metadata": {}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls_dir is not None:
            from aksdiag.lab.pki import Pki, server_context

            cert, key = Pki(tls_dir).issue("apiserver", ["localhost"], ["127.0.0.1"])
            self.server.socket = server_context(cert, key).wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.url = f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _kubeconfig(path: Path, cluster: dict, user: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": cluster}], "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }))  # fmt: skip
    return path


def _aksdiag(*args: str, timeout: float = BOUND) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "aksdiag", *args], capture_output=True, text=True, timeout=timeout)
    assert time.monotonic() - started < timeout
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _plugin(tmp_path: Path, body: str) -> dict:
    script = tmp_path / "leaky-plugin"
    script.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    script.chmod(0o755)
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script),
                     "interactiveMode": "Never"}}  # fmt: skip


USERS = {
    "token": {"token": SECRET},
    "exec-token": None,  # an exec plugin answering SECRET as its token (built per test: it needs a path)
}
SERVERS = {
    "http": lambda tmp: _Recorder(),
    "https-insecure-skip-tls-verify": lambda tmp: _Recorder(tmp / "pki"),
}
COMMANDS = {
    "whois": ["whois", "10.240.0.9"],
    "apiserver": ["apiserver"],
    "check": ["check"],
}


@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
@pytest.mark.parametrize("server", SERVERS, ids=list(SERVERS))
@pytest.mark.parametrize("user", USERS, ids=list(USERS))
def test_credentials_never_go_over_cleartext_or_unverified_tls(
    tmp_path: Path, command: str, server: str, user: str
) -> None:
    recorder = SERVERS[server](tmp_path)
    try:
        cluster = {"server": recorder.url}
        if recorder.scheme == "https":
            cluster["insecure-skip-tls-verify"] = True
        credentials = USERS[user] or _plugin(tmp_path, (
            "import json; print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': "
            f"'ExecCredential', 'status': {{'token': {SECRET!r}}}}}))"
        ))  # fmt: skip
        kc = _kubeconfig(tmp_path / "kubeconfig", cluster, credentials)
        proc = _aksdiag(*COMMANDS[command], "--kubeconfig", str(kc), "--timeout", "1", "--output", "json")
    finally:
        recorder.close()
    assert all(SECRET not in (auth or "") for _, auth in recorder.seen), recorder.seen
    assert SECRET not in proc.stdout + proc.stderr
    if command == "whois":  # it needs the cluster: it could not look, and says why
        assert proc.returncode == 3, proc.stderr
        assert "credentials are not sent to" in proc.stdout, proc.stdout


EXEC_LEAKS = {
    "stderr, exit 1": (f"sys.stderr.write('refresh_token={SECRET}\\n'); sys.exit(1)", "exited 1"),
    "stderr and stdout, exit 0, not JSON": (
        f"sys.stderr.write('client_secret={SECRET}\\n'); print('token: {SECRET}')",
        "printed no ExecCredential",
    ),
    "a token in the wrong apiVersion": (
        "import json; print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1', 'kind': "
        f"'ExecCredential', 'status': {{'token': {SECRET!r}}}}}))",
        "answered apiVersion",
    ),
    "stdout a partial ExecCredential": (
        f'print(\'{{"kind": "ExecCredential", "status": {{"token": "{SECRET}"\')',
        "printed no ExecCredential",
    ),
}


@pytest.mark.parametrize("case", EXEC_LEAKS, ids=list(EXEC_LEAKS))
def test_an_exec_plugins_output_never_reaches_the_report(tmp_path: Path, case: str) -> None:
    body, said = EXEC_LEAKS[case]
    with FakeKubeApi(KubeWorld(), tmp_path / "pki") as api:
        import base64

        cluster = {"server": api.url, "certificate-authority-data": base64.b64encode(api.pki.ca_pem.encode()).decode()}
        kc = _kubeconfig(tmp_path / "kubeconfig", cluster, _plugin(tmp_path, body))
        proc = _aksdiag("whois", "10.240.0.9", "--kubeconfig", str(kc), "--timeout", "1", "--output", "json")
        assert SECRET not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        assert said in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        assert proc.returncode == 3
        assert not [r for r in api.requests if r], "no request went out without the credential"


# ---------------------------------------------------------------------------------------------------------------
# ARM: a redirect or a nextLink to another host is not followed, and gets no token
# ---------------------------------------------------------------------------------------------------------------

LINKS = "virtualnetworklinks"
CLUSTER_PATH = "managedclusters/aks-lab"
OFF_HOST = {
    # name: (path pattern, fault given the fake ARM's port and the recorder's URL, the host named)
    "307 to another name of the same server": (
        CLUSTER_PATH, lambda port, rec: {"status": 307, "location": f"https://localhost:{port}/stolen"}, "localhost"
    ),
    "302 to plain http elsewhere": (
        CLUSTER_PATH, lambda port, rec: {"status": 302, "location": f"{rec}/stolen"}, "http://127.0.0.1"
    ),
    "308 to the same host over http": (
        CLUSTER_PATH, lambda port, rec: {"status": 308, "location": f"http://127.0.0.1:{port}/stolen"}, "http://"
    ),
    "nextLink to another name of the same server": (
        LINKS, lambda port, rec: {"next_link": f"https://localhost:{port}/stolen?x=1"}, "localhost"
    ),
    "nextLink to plain http elsewhere": (LINKS, lambda port, rec: {"next_link": f"{rec}/stolen"}, "http://127.0.0.1"),
    "nextLink to another port": (
        LINKS, lambda port, rec: {"next_link": f"https://127.0.0.1:{int(port) + 1}/stolen"}, "another port"
    ),
}  # fmt: skip


@pytest.fixture
def fake_arm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from aksdiag.lab import arm, armworld

    world = arm.ArmWorld()
    for body in armworld.build("healthy"):
        world.add(body)
    fake = arm.FakeArm(world, tmp_path / "tls")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
    monkeypatch.setenv("AKSDIAG_ARM_TOKEN", SECRET)
    try:
        yield fake
    finally:
        fake.close()


@pytest.mark.parametrize("case", OFF_HOST, ids=list(OFF_HOST))
def test_arm_is_not_followed_to_another_host(fake_arm, case: str) -> None:
    import asyncio

    from aksdiag.facts import AzureContextNeed
    from aksdiag.lab import armworld
    from aksdiag.sources import azure

    pattern, fault, named = OFF_HOST[case]
    recorder = _Recorder()
    try:
        port = fake_arm.endpoint.rsplit(":", 1)[1]
        fake_arm.world.faults = {pattern: fault(port, recorder.url)}
        need = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, fake_arm.endpoint)
        started = time.monotonic()
        ctx = asyncio.run(azure.fetch(need))
        assert time.monotonic() - started < BOUND
    finally:
        recorder.close()
    assert recorder.seen == [], "nothing reached the other host"
    assert [r.path for r in fake_arm.requests if "stolen" in r.path] == [], "the other name of the server got nothing"
    (error,) = [e for e in ctx.errors if e.code == "OffHost"]
    if named == "another port":
        named = f"to https://127.0.0.1:{int(port) + 1} "
    assert named in error.message and "no token" in error.message, error
    assert error.scope.lower().endswith(pattern if pattern == CLUSTER_PATH else LINKS), error.scope
    if pattern == LINKS:
        assert ctx.cluster, "the other reads went on"


def test_a_redirect_on_the_same_host_is_still_followed(fake_arm) -> None:
    """The healthy world of the check: the same origin is not an alarm (no OffHost; the target's answer is read)."""
    import asyncio

    from aksdiag.facts import AzureContextNeed
    from aksdiag.lab import armworld
    from aksdiag.sources import azure

    cluster_id = next(k for k in fake_arm.world.resources if k.endswith(CLUSTER_PATH))
    fake_arm.world.faults = {"/moved": {"status": 307, "location": f"{fake_arm.endpoint}{cluster_id}"}}
    need = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, fake_arm.endpoint)
    ctx = asyncio.run(azure.fetch(need))
    assert not [e for e in ctx.errors if e.code == "OffHost"] and ctx.cluster


# ---------------------------------------------------------------------------------------------------------------
# --redact: every identifier of every fact type, the verdicts kept
# ---------------------------------------------------------------------------------------------------------------

REDACT_WORLDS = {
    # name: (DNS scenario, cluster world, whois address)
    "lb-pending, no forwarder": ("no-forwarder", "lb-pending", "10.224.0.4"),
    "lb-healthy, healthy": ("healthy", "lb-healthy", "10.240.0.5"),  # a node's address
    "lb-public-service, public leak": ("public-leak", "lb-public-service", "10.240.0.4"),
}
FACT_KINDS = {"DnsResult", "ResolverConfig", "AzureContext", "TcpConnect", "TlsPeer", "HttpResult", "KubeList",
              "AzureVmssNics", "Clock", "AzureDocument"}  # fmt: skip
"""Every kind of fact aksdiag.facts defines (test_every_fact_kind_is_covered keeps this list true)."""


def _gathered(scenario: str, world: str, ip: str, directory: Path) -> tuple[dict, list]:
    """A snapshot of every fact check and whois gather on a demo lab, and the plans that gathered them."""
    from aksdiag import runner, snapshot
    from aksdiag.commands import demo as demo_plan
    from aksdiag.facts import AzureVmssNics, AzureVmssNicsNeed
    from aksdiag.lab import armworld
    from aksdiag.lab import demo as demo_lab
    from aksdiag.lab.scenarios import SCENARIOS
    from aksdiag.plan import Plan

    with demo_lab.start(SCENARIOS[scenario], world, directory) as lab:
        check = demo_plan.plan(lab)
        whois = Plan.of("whois", ip, check.settings, ["whois"])
        facts: dict = {}
        for plan in (check, whois):
            runner.run(plan, facts=facts)
        doc = snapshot.dump("check", check.target, check.settings, facts)
        # the pre-allocated pod IPs of classic Azure CNI, as the lab's ARM world serves a scale set's NICs
        need = AzureVmssNicsNeed(armworld.SUBSCRIPTION, armworld.NODE_RG, armworld.VMSS, lab.arm.endpoint)
        nics = AzureVmssNics(tuple(armworld.vmss_nics(2)))
        doc["facts"].append({"need": snapshot._encode(need), "fact": snapshot._encode(nics)})
    return doc, [check, whois]


def test_every_fact_kind_is_covered() -> None:
    import dataclasses

    from aksdiag import facts

    parts = {"Endpoint", "DnsQuery", "DnsAnswer", "AzureReadError"}  # inside facts, not facts of their own
    defined = {name for name, kind in vars(facts).items() if dataclasses.is_dataclass(kind) and isinstance(kind, type)
               and kind.__module__ == facts.__name__ and not name.endswith("Need") and name not in parts}  # fmt: skip
    assert defined == FACT_KINDS


def _verdicts(doc: dict, plans: list, whois_ip: str, shown: object = None) -> list:
    """Judge a snapshot offline with the plans' probes: per probe its status and its findings' codes and hops.

    A snapshot never holds the kubeconfig's API server settings (credentials): the live ones are given back, their
    names shown through `shown` (the redactor) for the redacted snapshot, so the API server probe plans the same."""
    import dataclasses
    import json

    from aksdiag import runner, snapshot

    _, target, settings, facts = snapshot.load(json.loads(json.dumps(doc)))
    api = plans[0].settings.apiserver
    if api is not None:
        if shown is not None:
            api = dataclasses.replace(api, server=shown.text(api.server))  # type: ignore[attr-defined]
        settings = dataclasses.replace(settings, apiserver=api)
    out = []
    for plan in plans:
        shown = whois_ip if plan.command == "whois" else target
        offline = dataclasses.replace(plan, target=shown, settings=settings, source=runner.from_snapshot(facts))
        report = runner.run(offline)
        out.append([(p.probe, p.status.value, sorted((f.id, f.hop or 0) for f in p.findings)) for p in report.probes])
    return out


def _identifiers(doc: dict) -> set[str]:
    """Every identifier the original snapshot carries that must not survive redaction."""
    import ipaddress
    import json
    import re

    from aksdiag import redaction

    text = json.dumps(doc)
    found = {g.lower() for g in re.findall(redaction.GUID, text)} - redaction.KEPT_GUIDS
    for candidate in re.findall(r"[0-9a-fA-F:.]{3,}", text):
        candidate = candidate.strip(".:")
        try:
            ip = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_unspecified or candidate in redaction.KEPT_ADDRESSES):
            found.add(candidate)
    r = redaction.Redactor()
    r.learn(doc)
    found |= {n for n in r.names if len(n) > 3}
    for fqdn in re.findall(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.azmk8s\.io", text.lower()):
        found.add(fqdn.split(".")[0])  # the cluster's own label of its public and private names
    return found


@pytest.mark.parametrize("case", REDACT_WORLDS, ids=list(REDACT_WORLDS))
def test_redaction_hides_every_identifier_and_keeps_every_verdict(tmp_path: Path, case: str) -> None:
    import json
    import re

    from aksdiag import redaction, snapshot

    scenario, world, ip = REDACT_WORLDS[case]
    doc, plans = _gathered(scenario, world, ip, tmp_path / "lab")
    kinds = {pair["fact"]["kind"] for pair in doc["facts"]}
    assert kinds <= FACT_KINDS and {"DnsResult", "AzureContext", "KubeList", "AzureVmssNics"} <= kinds, kinds
    if scenario == "healthy":
        assert kinds == FACT_KINDS, "one of each fact type (the API server answers only in the healthy world)"
    key = b"k" * 32
    redacted = redaction.redact(doc, key)
    text = json.dumps(redacted).lower()
    hidden = _identifiers(doc)
    assert len(hidden) > 20, hidden
    left = sorted(s for s in hidden if re.search(rf"(?<![0-9a-z]){re.escape(s.lower())}(?![0-9a-z])", text))
    assert left == [], f"identifiers survive redaction: {left}"
    same = redaction.Redactor(key)
    same.learn(doc)
    assert same.value(doc) == redacted, "the same input gives the same stand-ins"
    before = _verdicts(doc, plans, ip)
    assert any(findings for probes in before for _, _, findings in probes), "the worlds have findings to keep"
    assert _verdicts(redacted, plans, same.address(ip), same) == before
    assert snapshot.redact(doc) != redacted, "each redaction has its own key"


# ---------------------------------------------------------------------------------------------------------------
# aksdiag demo: its temporary directory (certificates, kubeconfig) is removed, however the demo ends
# ---------------------------------------------------------------------------------------------------------------


def _private_tmp(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return tmp, {**os.environ, "TMPDIR": str(tmp)}


def _crashed(err: str) -> bool:
    """A traceback of aksdiag's own, not the interpreter's "Exception ignored in" note about an object that an
    interrupt (Ctrl-C, and the signals that end a run as it does) met while it was being collected."""
    lines = err.splitlines()
    return any(line.startswith("Traceback") and not (i and lines[i - 1].startswith("Exception ignored"))
               for i, line in enumerate(lines))  # fmt: skip


@pytest.mark.parametrize(
    "args", [["demo", "-o", "json"], ["demo", "--world", "none", "-o", "json"]], ids=["cluster world", "dns only"]
)
def test_the_demo_leaves_no_temporary_directory(tmp_path: Path, args: list[str]) -> None:
    tmp, env = _private_tmp(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "aksdiag", *args], capture_output=True, text=True, timeout=90, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr  # the demo's world is broken
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_the_demo_interrupted_leaves_no_temporary_directory(tmp_path: Path, sent: int) -> None:
    tmp, env = _private_tmp(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "aksdiag", "demo", "-o", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        assert proc.stderr is not None
        assert "lab scenario" in proc.stderr.readline()
        deadline = time.monotonic() + BOUND
        # the lab has made its directory (not only tempfile's own probe of TMPDIR, a file it removes at once)
        while not list(tmp.glob("aksdiag-demo-*")) and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(sent)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    assert proc.returncode in (130, 1), err  # 1: it finished before the signal came
    assert not _crashed(err), err
    assert list(tmp.iterdir()) == []


def test_a_demo_that_fails_to_start_leaves_no_temporary_directory(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    from aksdiag.lab import demo
    from aksdiag.lab.scenarios import SCENARIOS

    tmp, _ = _private_tmp(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))

    def broken(*args: object) -> None:
        raise OSError("the port is taken")

    monkeypatch.setattr(demo, "_start_cluster", broken)
    with pytest.raises(OSError, match="the port is taken"):
        demo.start(SCENARIOS["healthy"], "lb-healthy")
    assert list(tmp.iterdir()) == []
    with demo.start(SCENARIOS["healthy"], None) as lab:
        assert lab.owned is not None and lab.owned.parent == tmp
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "ready"),
    [
        (["lab", "up", "--scenario", "healthy"], "Ctrl-C stops the lab"),
        (["lab", "kube", "--world", "lb-healthy"], "Ctrl-C stops it"),
        (["lab", "arm", "--world", "healthy"], "Ctrl-C stops it"),
    ],
    ids=["lab up", "lab kube", "lab arm"],
)
@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_stopped_lab_leaves_no_temporary_directory(tmp_path: Path, args: list[str], ready: str, sent: int) -> None:
    tmp, env = _private_tmp(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "aksdiag", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip
    try:
        assert proc.stdout is not None
        seen = ""
        while ready not in seen:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            seen += line
        assert any(tmp.iterdir()), "the lab made its temporary directory"
        proc.send_signal(sent)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "stopped" in err and not _crashed(err), err
    assert list(tmp.iterdir()) == []


CLUSTER_ID = ("/subscriptions/3f2504e0-4f89-11d3-9a0c-0305e82c3301/resourceGroups/rg-contoso-aks/providers/"
              "Microsoft.ContainerService/managedClusters/aks-contoso")  # fmt: skip
REDACT_TEXT = {
    # name: (text, identifiers that must go, words that must stay)
    "IPv4 before a full stop": ("10.224.0.4 answered for it.", ["10.224.0.4"], ["answered"]),
    "IPv4 ending a sentence": ("it answered 10.224.0.4.", ["10.224.0.4"], []),
    "IPv4 in a URL with a port": ("https://10.224.0.4:443/readyz", ["10.224.0.4"], ["https://", ":443/readyz"]),
    "IPv6": ("fd12:3456:789a::4 and 2603:1030:20e:3::23c", ["fd12:3456:789a::4", "2603:1030:20e:3::23c"], []),
    "IPv4-mapped IPv6": ("::ffff:10.1.0.4", ["10.1.0.4"], ["::ffff:"]),
    "principal, client and tenant ids": (
        '{"principalId": "8f3e2a17-0c4b-4d5e-9a6f-1b2c3d4e5f60", "clientId": "1D3D0319-A846-49A5-A0AA-6747670DBEFB",'
        ' "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"}',
        ["8f3e2a17-0c4b-4d5e-9a6f-1b2c3d4e5f60", "1d3d0319-a846-49a5-a0aa-6747670dbefb",
         "72f988bf-86f1-41af-91ab-2d7cd011db47"], ["principalId", "clientId", "tenantId"],
    ),
    "a uid without dashes in an LB rule": (
        "a8f3e2a170c4b4d5e9a6f1b2c3d4e5f60-TCP-443", ["8f3e2a170c4b4d5e9a6f1b2c3d4e5f60"], ["-TCP-443"]
    ),
    "cluster and resource group names": (
        f"{CLUSTER_ID} is rg-contoso-aks/aks-contoso in MC_rg-contoso-aks_aks-contoso_koreacentral",
        ["rg-contoso-aks", "aks-contoso", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"], ["koreacentral", "MC_"],
    ),
    "the private FQDN": (
        "aks-contoso-k3x9q2.5e2c1a7b-3f4d-4e8a-9b6c-0d1e2f3a4b5c.privatelink.koreacentral.azmk8s.io.",
        ["aks-contoso-k3x9q2", "5e2c1a7b-3f4d-4e8a-9b6c-0d1e2f3a4b5c"], [".privatelink.koreacentral.azmk8s.io."],
    ),
    "the public FQDN": ("aks-contoso-k3x9q2.hcp.koreacentral.azmk8s.io", ["aks-contoso-k3x9q2"],
                        [".hcp.koreacentral.azmk8s.io"]),
    "annotation keys are vocabulary": ("service.beta.kubernetes.io/azure-load-balancer-internal", [],
                                       ["service.beta.kubernetes.io/azure-load-balancer-internal"]),
    "platform addresses are kept": ("168.63.129.16 127.0.0.1:5301", [], ["168.63.129.16", "127.0.0.1:5301"]),
}  # fmt: skip


@pytest.mark.parametrize("case", REDACT_TEXT, ids=list(REDACT_TEXT))
def test_redaction_of_each_identifier_kind(case: str) -> None:
    import json

    from aksdiag import redaction

    text, gone, kept = REDACT_TEXT[case]
    doc = {"facts": [{"id": CLUSTER_ID, "text": text}]}
    out = json.dumps(redaction.redact(doc))
    for identifier in gone:
        assert identifier.lower() not in out.lower(), (identifier, out)
    for word in kept:
        assert word in out, (word, out)


def test_addresses_keep_their_kind_and_their_subnets() -> None:
    import ipaddress

    from aksdiag import redaction

    r = redaction.Redactor()
    for subnet, inside, outside in [("10.224.0.0/16", "10.224.7.9", "10.225.0.1"), ("172.16.4.0/22", "172.16.5.1",
                                    "172.16.8.1"), ("20.41.64.0/18", "20.41.65.7", "20.41.128.1"),
                                    ("fd12:3456::/48", "fd12:3456:0:1::4", "fd12:3457::4")]:  # fmt: skip
        net = ipaddress.ip_network(r.address(subnet))
        assert net.prefixlen == ipaddress.ip_network(subnet).prefixlen and str(net) != subnet
        assert ipaddress.ip_address(r.address(inside)) in net, "a subnet still holds its addresses"
        assert ipaddress.ip_address(r.address(outside)) not in net
        for original in (inside, outside):
            a, b = ipaddress.ip_address(original), ipaddress.ip_address(r.address(original))
            assert (a.is_private, a.is_global, a.is_link_local) == (b.is_private, b.is_global, b.is_link_local)
            assert r.address(original) == r.address(original), "the same input, the same stand-in"
