"""Kubeconfigs read by the official client's loader (aksdiag.sources.kubeconfig): merged KUBECONFIG files,
tls-server-name, proxy-url, exec plugins (tokens, client certificates, interactiveMode) and the in-cluster
service account, used against the lab's fake API server over real TLS on loopback."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aksdiag.errors import AksdiagError, UsageError
from aksdiag.facts import HttpNeed
from aksdiag.lab.apiserver import FakeApiServer, Pki
from aksdiag.sources import kube, kubeexec, net
from aksdiag.sources.kubeconfig import ApiServerConfig, in_cluster, load, with_credentials
from aksdiag.sources.kubeexec import exec_credential

EXEC_V1 = "client.authentication.k8s.io/v1"
INTERNAL = "api.internal.example"


def b64(text: str | bytes) -> str:
    return base64.b64encode(text if isinstance(text, bytes) else text.encode()).decode()


def kubeconfig(path: Path, current: str | None, clusters: dict, users: dict, contexts: dict) -> Path:
    doc: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "users": [{"name": n, "user": u} for n, u in users.items()],
        "contexts": [{"name": n, "context": c} for n, c in contexts.items()],
    }  # fmt: skip
    if current:
        doc["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


def single(path: Path, cluster: dict, user: dict) -> Path:
    return kubeconfig(path, "lab", {"lab": cluster}, {"u": user}, {"lab": {"cluster": "lab", "user": "u"}})


def plugin(tmp_path: Path, name: str, body: str) -> Path:
    """An exec credential plugin: a small Python script run by this interpreter."""
    script = tmp_path / name
    script.write_text(f"#!{sys.executable}\nimport json, os, sys\n{body}\n")
    script.chmod(0o755)
    return script


def answer(status: dict) -> str:
    return f"print(json.dumps({{'apiVersion': {EXEC_V1!r}, 'kind': 'ExecCredential', 'status': {status!r}}}))"


def exec_user(command: Path | str, mode: str | None = "IfAvailable", **extra: Any) -> dict:
    spec: dict[str, Any] = {"apiVersion": EXEC_V1, "command": str(command), **extra}
    if mode:
        spec["interactiveMode"] = mode
    return {"exec": spec}


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path / "pki")


async def _get(config: ApiServerConfig, path: str = "/readyz") -> tuple[int, str]:
    """One request through the Kubernetes source's client (CA, tls-server-name, proxy, credentials)."""
    client = await kube._client(config, 2.0)
    try:
        response = await client.get(path)
        return response.status_code, response.text
    finally:
        await client.aclose()


def get(config: ApiServerConfig, path: str = "/readyz") -> tuple[int, str]:
    return asyncio.run(_get(config, path))


def health(config: ApiServerConfig, port: int) -> Any:
    """The apiserver probe's authenticated /readyz read through sources.net."""
    need = HttpNeed("127.0.0.1", port, "127.0.0.1", "/readyz", authenticated=True)
    return asyncio.run(net.fetch([need], 2.0, config))[need]


# ---------------------------------------------------------------- merged KUBECONFIG


def test_kubeconfig_files_merge_as_kubectl_merges_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = kubeconfig(
        tmp_path / "one" / "config", "alpha",
        {"shared": {"server": "https://first.example:443"}, "alpha": {"server": "https://alpha.example"}},
        {"u": {"token": "first-token"}},
        {"alpha": {"cluster": "alpha", "user": "u"}, "shared": {"cluster": "shared", "user": "b"}},
    )  # fmt: skip
    (tmp_path / "two" / "ca.pem").parent.mkdir()
    (tmp_path / "two" / "ca.pem").write_text("SECOND CA")
    second = kubeconfig(
        tmp_path / "two" / "config", "beta",
        {"shared": {"server": "https://second.example"},
         "beta": {"server": "https://beta.example:6443", "certificate-authority": "ca.pem"}},
        {"u": {"token": "second-token"}, "b": {"tokenFile": "token"}},
        {"beta": {"cluster": "beta", "user": "b"}, "shared": {"cluster": "shared", "user": "u"}},
    )  # fmt: skip
    (tmp_path / "two" / "token").write_text("beta-token\n")
    missing = tmp_path / "nowhere" / "config"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, [missing, first, second])))

    current = load()
    assert (current.server, current.token) == ("https://alpha.example", "first-token")  # the first current-context
    assert current.source == f"{first} context alpha"
    shared = load(context="shared")
    assert shared.server == "https://first.example:443", "the first file to name a cluster wins"
    assert shared.token == "beta-token", "the context comes from the first file, its user from the second"
    beta = load(context="beta")
    assert (beta.server, beta.port, beta.ca_pem) == ("https://beta.example:6443", 6443, "SECOND CA")
    assert beta.source == f"{second} context beta", "relative paths resolve against the file that names them"
    with pytest.raises(UsageError, match="no context named 'gamma'") as e:
        load(context="gamma")
    assert e.value.hint == "known: alpha, shared, beta"
    assert load(str(second)).server == "https://beta.example:6443", "--kubeconfig reads that file alone"


def test_kubeconfig_errors_are_one_line_with_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "a") + os.pathsep + str(tmp_path / "b"))
    with pytest.raises(AksdiagError, match="none of the kubeconfigs in KUBECONFIG exists") as e:
        load()
    assert "az aks get-credentials" in e.value.hint
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(AksdiagError, match=r"cannot read the kubeconfig .*\.kube/config: No such file"):
        load()
    cases = {
        "not yaml": (": not yaml : [", "is not valid YAML"),
        "a list": ("- 1\n- 2\n", "empty or not a kubeconfig"),
        "empty": ("", "empty or not a kubeconfig"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(AksdiagError, match=message):
            load(str(tmp_path / name))
    no_current = kubeconfig(tmp_path / "nc", None, {"c": {"server": "https://x"}}, {}, {"c": {"cluster": "c"}})
    with pytest.raises(UsageError, match="has no current-context"):
        load(str(no_current))
    broken = kubeconfig(tmp_path / "nocluster", "c", {}, {}, {"c": {"cluster": "gone"}})
    with pytest.raises(AksdiagError, match="names the cluster 'gone', which is not there") as err:
        load(str(broken))
    assert not isinstance(err.value, UsageError)
    bad_exec = single(tmp_path / "exec", {"server": "https://x"}, {"exec": {"command": "kubelogin"}})
    with pytest.raises(AksdiagError, match="missing key 'apiVersion'"):
        load(str(bad_exec))
    bad_mode = single(tmp_path / "mode", {"server": "https://x"}, exec_user("kubelogin", mode="Sometimes"))
    with pytest.raises(AksdiagError, match="interactiveMode 'Sometimes' is not one of"):
        load(str(bad_mode))
    bad_data = single(tmp_path / "data", {"server": "https://x", "certificate-authority-data": "%%%"}, {})
    with pytest.raises(AksdiagError, match="certificate-authority-data in the kubeconfig is not base64 PEM"):
        load(str(bad_data))
    gone = single(tmp_path / "files", {"server": "https://x"}, {"client-certificate": "gone.crt", "client-key": "k"})
    with pytest.raises(AksdiagError, match=r"cannot read the client-certificate file .*gone\.crt"):
        load(str(gone))


def test_credentials_files_and_data(tmp_path: Path, pki: Pki) -> None:
    cert, key = pki.issue("user", [], [], client=True)
    (tmp_path / "token").write_text("file-token\n")
    (tmp_path / "ca.pem").write_text(pki.ca_pem)
    cluster = {"server": "https://127.0.0.1:1/", "certificate-authority": "ca.pem", "insecure-skip-tls-verify": True}
    user = {"client-certificate": str(cert), "client-key": str(key), "tokenFile": "token"}
    by_files = load(str(single(tmp_path / "kc1", cluster, user)))
    assert (by_files.server, by_files.ca_pem, by_files.insecure) == ("https://127.0.0.1:1", pki.ca_pem, True)
    assert (by_files.client_cert_pem, by_files.client_key_pem) == (cert.read_text(), key.read_text())
    assert by_files.token == "file-token", "a token file's newline is not part of the token"
    cluster = {"server": "https://h", "certificate-authority-data": b64(pki.ca_pem)}
    user = {"client-certificate-data": b64(cert.read_bytes()), "client-key-data": b64(key.read_bytes()),
            "token": "inline", "tokenFile": "token"}  # fmt: skip
    by_data = load(str(single(tmp_path / "kc2", cluster, user)))
    assert (by_data.ca_pem, by_data.client_cert_pem, by_data.client_key_pem) == (
        pki.ca_pem, cert.read_text(), key.read_text(),
    )  # fmt: skip
    assert by_data.token == "inline", "token wins over tokenFile"
    assert not by_data.insecure and by_data.tls_server_name is None and by_data.proxy_url is None


# ---------------------------------------------------------------- tls-server-name and proxy-url


def test_tls_server_name_is_the_name_sent_and_verified(tmp_path: Path, pki: Pki) -> None:
    """The API server's certificate names only api.internal.example; the kubeconfig dials 127.0.0.1."""
    cert, key = pki.issue("apiserver", [INTERNAL], [])
    with FakeApiServer(cert, key) as api:
        cluster = {"server": f"https://127.0.0.1:{api.port}", "certificate-authority-data": b64(pki.ca_pem)}
        plain = load(str(single(tmp_path / "plain", cluster, {"token": api.token})))
        named = load(str(single(tmp_path / "named", {**cluster, "tls-server-name": INTERNAL}, {"token": api.token})))
        assert named.tls_server_name == INTERNAL
        status, body = get(named)
        assert status == 200 and "readyz check passed" in body
        with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|IP address mismatch"):
            get(plain)
        assert health(named, api.port).status == 200
        assert health(plain, api.port).outcome == "tls-error"


def test_aksdiag_apiserver_judges_the_certificate_by_tls_server_name(tmp_path: Path, pki: Pki, capsys) -> None:
    """Healthy with tls-server-name: no finding, credentials accepted. Without it the same certificate does not
    name the address dialled: API003, and the credentials are not sent over an unverified connection."""
    from aksdiag.cli import main

    cert, key = pki.issue("apiserver", [INTERNAL], [])
    with FakeApiServer(cert, key) as api:
        cluster = {"server": f"https://127.0.0.1:{api.port}", "certificate-authority-data": b64(pki.ca_pem)}
        runs = {}
        for label, extra in (("named", {"tls-server-name": INTERNAL}), ("plain", {})):
            path = single(tmp_path / label, {**cluster, **extra}, {"token": api.token})
            rc = main(["apiserver", "--kubeconfig", str(path), "--timeout", "2", "--output", "json"])
            runs[label] = (rc, json.loads(capsys.readouterr().out))
    (rc, doc), (plain_rc, plain) = runs["named"], runs["plain"]
    assert (rc, [f["id"] for f in doc["findings"]]) == (0, []), doc["findings"]
    assert "HTTP 200 (with credentials)" in doc["probes"][0]["hops"][3]["detail"]
    assert (plain_rc, [f["id"] for f in plain["findings"]]) == (1, ["API003"])
    assert "127.0.0.1" in plain["findings"][0]["detail"] and INTERNAL in plain["findings"][0]["detail"]


class ConnectProxy:
    """An HTTP CONNECT proxy on loopback that records the targets it tunnels to (loopback targets only)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.targets: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            target = head.split()[1].decode()
            self.targets.append(target)
            host, port = target.rsplit(":", 1)
            assert host in ("127.0.0.1", "localhost"), "the test proxy tunnels to loopback only"
            with socket.create_connection((host, int(port))) as upstream:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                back = threading.Thread(target=self._pump, args=(upstream, conn), daemon=True)
                back.start()
                self._pump(conn, upstream)
                back.join(timeout=5)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    p = ConnectProxy()
    yield p
    p.close()


def test_proxy_url_carries_the_requests(tmp_path: Path, pki: Pki, proxy: ConnectProxy) -> None:
    cert, key = pki.issue("apiserver", [INTERNAL], [])
    with FakeApiServer(cert, key) as api:
        cluster = {"server": f"https://127.0.0.1:{api.port}", "certificate-authority-data": b64(pki.ca_pem),
                   "tls-server-name": INTERNAL, "proxy-url": f"http://127.0.0.1:{proxy.port}"}  # fmt: skip
        config = load(str(single(tmp_path / "kc", cluster, {"token": api.token})))
        assert config.proxy_url == f"http://127.0.0.1:{proxy.port}"
        assert get(config)[0] == 200, "through the proxy's tunnel, still verified as api.internal.example"
        assert health(config, api.port).status == 200
    assert proxy.targets == [f"127.0.0.1:{api.port}"] * 2


def test_proxy_url_is_checked(tmp_path: Path) -> None:
    for url in ("ftp://proxy.example:21", "proxy.example:3128", "http://"):
        path = single(tmp_path / "kc", {"server": "https://h", "proxy-url": url}, {})
        with pytest.raises(AksdiagError, match="is not an http://, https:// or socks5:// URL"):
            load(str(path))
    socks = load(str(single(tmp_path / "kc", {"server": "https://h", "proxy-url": "socks5://127.0.0.1:1080"}, {})))
    assert socks.proxy_url == "socks5://127.0.0.1:1080"
    off = load(str(single(tmp_path / "kc", {"server": "https://127.0.0.1:1", "proxy-url": "http://10.1.0.9:3128"},
                          {"token": "t"})))  # fmt: skip
    with pytest.raises(AksdiagError, match=r"not sent: 10\.1\.0\.9 is off loopback"):
        get(off)


# ---------------------------------------------------------------- exec plugins


def test_exec_plugin_that_answers_a_client_certificate(tmp_path: Path, pki: Pki, capsys) -> None:
    from aksdiag.cli import main

    server_cert, server_key = pki.issue("apiserver", [], ["127.0.0.1"])
    cert, key = pki.issue("user", [], [], client=True)
    script = plugin(tmp_path, "cert-plugin", answer({"clientCertificateData": cert.read_text(),
                                                     "clientKeyData": key.read_text()}))  # fmt: skip
    with FakeApiServer(server_cert, server_key, client_ca_pem=pki.ca_pem) as api:
        cluster = {"server": f"https://127.0.0.1:{api.port}", "certificate-authority-data": b64(pki.ca_pem)}
        path = single(tmp_path / "kc", cluster, exec_user(script, mode="Never"))
        config = load(str(path))
        assert config.exec_command == (str(script),) and config.exec_interactive_mode == "Never"
        filled, why = with_credentials(config)
        assert why is None and filled.exec_command == () and filled.token is None
        assert (filled.client_cert_pem, filled.client_key_pem) == (cert.read_text(), key.read_text())
        assert get(config)[0] == 200
        assert health(config, api.port).status == 200
        rc = main(["apiserver", "--kubeconfig", str(path), "--timeout", "2", "--output", "json"])
        doc = json.loads(capsys.readouterr().out)
    assert (rc, [f["id"] for f in doc["findings"]]) == (0, [])
    assert [who for _, who in api.requests].count("client-cert") >= 3


def test_exec_plugin_gets_its_info_env_and_directory(tmp_path: Path) -> None:
    plugin(tmp_path, "info", "json.dump({'info': json.loads(os.environ['KUBERNETES_EXEC_INFO']), "
                    "'env': os.environ.get('LAB'), 'cwd': os.getcwd(), 'stdin_tty': os.isatty(0)}, "
                    "open('seen.json', 'w'))\n" + answer({"token": "t"}))  # fmt: skip
    cluster = {"server": "https://127.0.0.1:1", "certificate-authority-data": b64("CA"), "tls-server-name": "n",
               "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "aks"}}]}  # fmt: skip
    user = exec_user("./info", mode="IfAvailable", env=[{"name": "LAB", "value": "1"}], provideClusterInfo=True)
    config = load(str(single(tmp_path / "kc", cluster, user)))
    credential, why = exec_credential(config, terminal=True)
    assert why is None and credential is not None and credential.token == "t"
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["info"]["spec"]["interactive"] is True
    assert seen["info"]["spec"]["cluster"] == {"server": "https://127.0.0.1:1", "tls-server-name": "n",
                                               "certificate-authority-data": b64("CA"), "config": {"audience": "aks"}}  # fmt: skip
    assert (seen["env"], seen["cwd"]) == ("1", str(tmp_path)), "the plugin runs beside the kubeconfig naming it"
    never = load(str(single(tmp_path / "kc", cluster, {"exec": {**user["exec"], "interactiveMode": "Never"}})))
    exec_credential(never, terminal=True)
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert (seen["info"]["spec"]["interactive"], seen["stdin_tty"]) == (False, False)


DEVICE_CODE = """
sys.stderr.write("To sign in, use a web browser to open https://microsoft.com/devicelogin and enter the code ABC\\n")
open('ran', 'w').write('yes')
if not sys.stdin or not sys.stdin.readline():
    sys.stderr.write("no terminal to prompt on\\n")
    sys.exit(1)
""" + answer({"token": "t"})


def test_interactive_plugin_without_a_terminal_gives_a_clear_reason(tmp_path: Path) -> None:
    script = plugin(tmp_path, "kubelogin", DEVICE_CODE)
    always = load(str(single(tmp_path / "kc", {"server": "https://h"}, exec_user(script, mode="Always"))))
    credential, why = exec_credential(always, terminal=False)
    assert credential is None and not (tmp_path / "ran").exists(), "Always without a terminal does not run it"
    assert why == ("exec plugin kubelogin needs a terminal (interactiveMode: Always) and stdin is not one: run "
                   "aksdiag from a terminal, or log in first without a prompt, e.g. `kubelogin convert-kubeconfig "
                   "-l azurecli` after `az login`")  # fmt: skip
    if_available = load(str(single(tmp_path / "kc", {"server": "https://h"}, exec_user(script))))
    credential, why = exec_credential(if_available, terminal=False)
    assert credential is None and (tmp_path / "ran").exists()
    assert why is not None and "\n" not in why
    assert why.startswith("exec plugin kubelogin exited 1 (its output is not copied here")
    assert "To sign in" not in why and "ABC" not in why, "the plugin's stderr is never copied into a reason"
    assert "(it had no terminal: if it prompts for a login, as kubelogin's device code does, run aksdiag" in why
    v1beta1 = load(str(single(tmp_path / "kc", {"server": "https://h"},
                              {"exec": {"apiVersion": EXEC_V1, "command": str(script)}})))  # fmt: skip
    assert v1beta1.exec_interactive_mode == "IfAvailable", "no interactiveMode: IfAvailable, as kubectl defaults"


def test_interactive_plugin_gets_the_terminal(tmp_path: Path) -> None:
    """Run from a real pseudo-terminal, the plugin has it as stdin and can read what the user types."""
    script = plugin(tmp_path, "kubelogin", "open('tty', 'w').write(str(os.isatty(0)))\n" + DEVICE_CODE)
    path = single(tmp_path / "kc", {"server": "https://h"}, exec_user(script))
    code = ("from aksdiag.sources.kubeconfig import load, exec_token; "
            f"print(exec_token(load({str(path)!r})))")  # fmt: skip
    main, secondary = os.openpty()
    os.write(main, b"done\n")  # what the user types at the prompt
    proc = subprocess.run([sys.executable, "-c", code], stdin=secondary, capture_output=True, text=True, timeout=60)
    os.close(main)
    os.close(secondary)
    assert proc.stdout.strip() == "('t', None)", proc.stderr
    assert (tmp_path / "tty").read_text() == "True"
    assert "enter the code ABC" in proc.stderr, "the prompt reaches the user's terminal"


def test_while_the_tui_holds_the_terminal_no_plugin_gets_it(tmp_path: Path) -> None:
    """The same pseudo-terminal, but the TUI has taken it (kubeexec.terminal_taken): the plugin runs without it."""
    script = plugin(tmp_path, "kubelogin", "open('tty', 'w').write(str(os.isatty(0)))\n" + DEVICE_CODE)
    path = single(tmp_path / "kc", {"server": "https://h"}, exec_user(script))
    code = ("from aksdiag.sources import kubeexec; from aksdiag.sources.kubeconfig import load, exec_token; "
            f"kubeexec.terminal_taken(); print(exec_token(load({str(path)!r})))")  # fmt: skip
    main, secondary = os.openpty()
    os.write(main, b"done\n")
    proc = subprocess.run([sys.executable, "-c", code], stdin=secondary, capture_output=True, text=True, timeout=60)
    os.close(main)
    os.close(secondary)
    assert (tmp_path / "tty").read_text() == "False", "the plugin was handed the TUI's terminal"
    assert "it had no terminal" in proc.stdout, proc.stdout


def test_exec_plugin_failures_are_reasons(tmp_path: Path) -> None:
    def why(body: str, **extra: Any) -> str | None:
        script = plugin(tmp_path, "p", body)
        return exec_credential(load(str(single(tmp_path / "kc", {"server": "https://h"},
                                               exec_user(script, mode="Never", **extra)))))[1]  # fmt: skip

    assert why("print('not json')") == "exec plugin p printed no ExecCredential (not JSON)"
    assert why("print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1', 'kind': 'ExecCredential', "
               "'status': {'token': 't'}}))") == (
        "exec plugin p answered apiVersion 'client.authentication.k8s.io/v1beta1', not 'client.authentication.k8s.io/v1'"
    )  # fmt: skip
    assert why(answer({})) == "exec plugin p printed an ExecCredential with neither a token nor a client certificate"
    assert why(answer({"clientCertificateData": "PEM"})).endswith("without its key (or a key alone)")  # type: ignore[union-attr]
    assert why("sys.stderr.write('token expired\\nrun az login\\n'); sys.exit(3)") == (
        "exec plugin p exited 3 (its output is not copied here, as plugins print secrets: `kubectl get nodes` runs "
        "it and shows what it says)"
    )
    missing = single(tmp_path / "kc", {"server": "https://h"},
                     exec_user(tmp_path / "kubelogin", mode="Never", installHint="install kubelogin:\n  az aks install-cli"))  # fmt: skip
    assert exec_credential(load(str(missing)))[1] == (
        f"exec plugin {tmp_path / 'kubelogin'} is not installed: install kubelogin: az aks install-cli"
    )
    sleeper = plugin(tmp_path, "p", "import time; time.sleep(30)")
    slow = load(str(single(tmp_path / "kc", {"server": "https://h"}, exec_user(sleeper))))
    assert exec_credential(slow, timeout=0.5, terminal=False)[1] == (
        "exec plugin p gave no credential within 0.5 s (it had no terminal: if it prompts for a login, as kubelogin's "
        "device code does, run aksdiag from a terminal, or log in first without a prompt, e.g. `kubelogin "
        "convert-kubeconfig -l azurecli` after `az login`)"
    )  # fmt: skip


def test_exec_failure_stops_the_kubernetes_source_with_the_reason(tmp_path: Path) -> None:
    script = plugin(tmp_path, "p", "sys.exit(1)")
    config = load(str(single(tmp_path / "kc", {"server": "https://127.0.0.1:1"}, exec_user(script, mode="Never"))))
    with pytest.raises(AksdiagError, match=r"^exec plugin p exited 1 ") as e:
        get(config)
    assert "az aks get-credentials" in e.value.hint
    assert health(config, 1).error == f"exec plugin p exited 1 ({kubeexec.BY_HAND})"


# ---------------------------------------------------------------- in-cluster


def test_in_cluster_service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    account = tmp_path / "sa"
    account.mkdir()
    (account / "ca.crt").write_text("PEM")
    (account / "token").write_text("sa-token")
    assert in_cluster(account=account) is None, "not in a pod: no KUBERNETES_SERVICE_HOST"
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    config = in_cluster(account=account)
    assert config is not None
    assert (config.server, config.ca_pem, config.token, config.source) == (
        "https://10.0.0.1:443", "PEM", "sa-token", "in-cluster service account",
    )  # fmt: skip
    six = in_cluster({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}, account)
    assert six is not None and (six.server, six.host, six.port) == ("https://[fd00::1]:443", "fd00::1", 443)
    (account / "token").unlink()
    with pytest.raises(AksdiagError, match="Service token file does not exist") as e:
        in_cluster(account=account)
    assert "automountServiceAccountToken" in e.value.hint


def test_the_loader_is_light_and_leaves_the_real_client_importable(tmp_path: Path) -> None:
    path = single(tmp_path / "kc", {"server": "https://127.0.0.1:1"}, {"token": "t"})
    code = f"""
import sys
from aksdiag.sources.kubeconfig import load
assert load({str(path)!r}).token == "t"
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("kubernetes", "urllib3", "requests", "pydantic"))
assert heavy == [], heavy
from kubernetes import client, config
configuration = client.Configuration()
config.load_kube_config({str(path)!r}, client_configuration=configuration)
assert configuration.host == "https://127.0.0.1:1" and client.CoreV1Api
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "ok", proc.stderr
