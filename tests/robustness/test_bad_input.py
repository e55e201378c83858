"""Bad input, table-driven: every command's hostile flags, env vars, kubeconfigs and snapshots give one clear line.

Exit 2 for bad input (flags, AKSDIAG_* env, files given as flags: --from), exit 3 for a context that cannot be read
(a kubeconfig of the wrong shape); never "internal error", never a traceback. A flag beats its env var, and a bad
env var is named as the env var. `aksdiag pod -- ARGS` refuses bad inner arguments locally, before it reads a
kubeconfig (the cases point --kubeconfig at a file that does not exist: reaching it would be exit 3).
"""

from __future__ import annotations

import base64
import functools
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from aksdiag.cli import main
from aksdiag.lab.dnsserver import free_port

NO_KUBECONFIG = "--kubeconfig=/nonexistent/aksdiag-test-kubeconfig"

# ---------------------------------------------------------------- hostile files

GOOD_CLUSTER = {"server": "https://127.0.0.1:6443"}
GOOD_USER = {"token": "t"}


def _kubeconfig(cluster: Any = None, user: Any = None, context: Any = None, **top: Any) -> dict[str, Any]:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": context if context is not None else {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": cluster if cluster is not None else GOOD_CLUSTER}],
        "users": [{"name": "u", "user": user if user is not None else GOOD_USER}],
    }
    doc.update(top)
    return doc


KUBECONFIGS: dict[str, Any] = {
    "user-string": _kubeconfig(user="just-a-string"),
    "context-string": _kubeconfig(context="x"),
    "cluster-string": _kubeconfig(cluster="x"),
    "context-cluster-list": _kubeconfig(context={"cluster": ["k"], "user": "u"}),
    "context-user-int": _kubeconfig(context={"cluster": "k", "user": 7}),
    "clusters-mapping": _kubeconfig(clusters={"k": 1}),
    "users-string": _kubeconfig(users="u"),
    "top-list": ["a", "b"],
    "top-string": "hello",
    "server-ipv6-open": _kubeconfig(cluster={"server": "https://[::1"}),
    "server-port-99999": _kubeconfig(cluster={"server": "https://127.0.0.1:99999"}),
    "server-port-text": _kubeconfig(cluster={"server": "https://127.0.0.1:abc"}),
    "server-int": _kubeconfig(cluster={"server": 12}),
    "server-no-host": _kubeconfig(cluster={"server": "https://"}),
    "server-ftp": _kubeconfig(cluster={"server": "ftp://127.0.0.1"}),
    "server-missing": _kubeconfig(cluster={"certificate-authority-data": "aGVsbG8="}),
    "insecure-string": _kubeconfig(cluster={**GOOD_CLUSTER, "insecure-skip-tls-verify": "false"}),
    "tls-server-name-int": _kubeconfig(cluster={**GOOD_CLUSTER, "tls-server-name": 5}),
    "ca-data-not-base64": _kubeconfig(cluster={**GOOD_CLUSTER, "certificate-authority-data": "%%%"}),
    "ca-not-pem": _kubeconfig(cluster={**GOOD_CLUSTER, "certificate-authority-data": "aGVsbG8="}),
    "ca-pem-garbage": _kubeconfig(
        cluster={
            **GOOD_CLUSTER,
            "certificate-authority-data": base64.b64encode(
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            ).decode(),
        }
    ),
    "exec-string": _kubeconfig(user={"exec": "run-me"}),
    "exec-env-string": _kubeconfig(
        user={"exec": {"command": "x", "apiVersion": "client.authentication.k8s.io/v1", "env": "A=1"}}
    ),
    "exec-env-no-value": _kubeconfig(
        user={"exec": {"command": "x", "apiVersion": "client.authentication.k8s.io/v1", "env": [{"name": "A"}]}}
    ),
    "exec-no-command": _kubeconfig(user={"exec": {"apiVersion": "client.authentication.k8s.io/v1"}}),
    "proxy-bad": _kubeconfig(cluster={**GOOD_CLUSTER, "proxy-url": "gopher://x"}),
    "context-missing-cluster": _kubeconfig(context={"cluster": "nope", "user": "u"}),
}
RAW_KUBECONFIGS = {"binary": b"\xff\xfe\x00\x01", "not-yaml": b"a: [b\n", "empty": b""}

SNAPSHOTS: dict[str, Any] = {
    "list": [1, 2],
    "null": None,
    "string": "aksdiag",
    "number": 5,
    "no-schema": {},
    "wrong-schema": {"schema": "x"},
    "facts-missing": {"schema": "aksdiag.snapshot/v1"},
    "facts-string": {"schema": "aksdiag.snapshot/v1", "facts": "x", "command": "dns", "target": "a", "settings": {}},
    "facts-list-of-ints": {"schema": "aksdiag.snapshot/v1", "facts": [1], "command": "dns", "target": "a"},
}
WORLD_FILES = {"not-json": b"junk", "binary": b"\xff\xfe", "no-id": b'{"name": "x"}', "a-list": b"[1]"}
"""`aksdiag lab arm --world DIR` and `lab kube --world DIR`: a directory with one bad file."""

MUTATIONS: dict[str, tuple[Any, str]] = {  # a real snapshot, changed one way: (change, what the line says)
    "timeout-string": (lambda d: d["settings"].update(timeout="abc"), "its settings.timeout is a string, not a number"),
    "servers-string": (
        lambda d: d["settings"].update(servers="abc"),
        "its settings.servers holds something that is not",
    ),
    "azure-dns-int": (lambda d: d["settings"].update(azure_dns=5), "its settings.azure_dns is a number, not an Endpo"),
    "use-resolver-string": (
        lambda d: d["settings"].update(use_resolver="yes"),
        "its settings.use_resolver is a string, not a boolean",
    ),
    "target-bad": (lambda d: d.update(target="a..b"), "its target: 'a..b' is not a valid DNS name"),
    "facts-not-pairs": (lambda d: d["facts"].append([1]), "its 'facts' are not all {need, fact} objects"),
    "settings-list": (lambda d: d.update(settings=[]), "its 'settings' is an array, not an object"),
    "command-missing": (lambda d: d.pop("command"), "it has no 'command'"),
}
RAW_SNAPSHOTS = {"not-json": b"junk", "binary": b"\xff\xfe", "truncated": b'{"schema": "aksdiag.snap'}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """{placeholder: path} for every hostile file above, written to tmp_path."""
    paths: dict[str, str] = {}
    for name, doc in KUBECONFIGS.items():
        (tmp_path / f"kc-{name}").write_text(yaml.safe_dump(doc))
        paths[f"{{kc:{name}}}"] = str(tmp_path / f"kc-{name}")
    for name, raw in RAW_KUBECONFIGS.items():
        (tmp_path / f"kc-{name}").write_bytes(raw)
        paths[f"{{kc:{name}}}"] = str(tmp_path / f"kc-{name}")
    for name, doc in SNAPSHOTS.items():
        (tmp_path / f"snap-{name}.json").write_text(json.dumps(doc))
        paths[f"{{snap:{name}}}"] = str(tmp_path / f"snap-{name}.json")
    for name, raw in RAW_SNAPSHOTS.items():
        (tmp_path / f"snap-{name}.json").write_bytes(raw)
        paths[f"{{snap:{name}}}"] = str(tmp_path / f"snap-{name}.json")
    paths["{dir}"] = str(tmp_path)
    for name, raw in WORLD_FILES.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.json").write_bytes(raw)
        paths[f"{{world:{name}}}"] = str(tmp_path / name)
    real = _real_snapshot()
    for name, (change, _says) in MUTATIONS.items():
        doc = json.loads(real)
        change(doc)
        (tmp_path / f"mut-{name}.json").write_text(json.dumps(doc))
        paths[f"{{mut:{name}}}"] = str(tmp_path / f"mut-{name}.json")
    return paths


@functools.cache
def _real_snapshot() -> str:
    """What `aksdiag snapshot` saves for a name asked of a dead loopback server."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        argv = ["snapshot", "x.com", "--no-resolver", "--server", f"127.0.0.1:{free_port()}", "--timeout", "0.1"]
        main(argv)
    assert json.loads(out.getvalue())["schema"] == "aksdiag.snapshot/v1"
    return out.getvalue()


# ---------------------------------------------------------------- the table: (argv, env, exit code, in the line)

FLAGS = [
    ("dns a..b", {}, 2, "'a..b' is not a valid DNS name"),
    ("dns .a", {}, 2, "not a valid DNS name"),
    ("dns -- -a.com", {}, 2, "is not a valid DNS label"),
    ("dns a_b-.com", {}, 2, "is not a valid DNS label"),
    ("dns " + "a" * 64 + ".com", {}, 2, "a label is at most 63"),
    ("dns " + ".".join(["a" * 60] * 5), {}, 2, "a DNS name is at most 253"),
    ("dns ''", {}, 2, "the name is empty"),
    ("dns 10.0.0.4", {}, 2, "is an IP address, not a name"),
    ("dns ::1", {}, 2, "is an IP address, not a name"),
    ("dns", {}, 2, "give the FQDN to trace"),
    ("dns x.com --server 300.1.1.1", {}, 2, "'300.1.1.1' is not a DNS server address"),
    ("dns x.com --server 1.1.1.1:0", {}, 2, "port '0' is not a number from 1 to 65535"),
    ("dns x.com --server 1.1.1.1:70000", {}, 2, "port '70000' is not a number from 1 to 65535"),
    ("dns x.com --server 1.1.1.1:-1", {}, 2, "is not a number from 1 to 65535"),
    ("dns x.com --server [::1", {}, 2, "missing ']'"),
    ("dns x.com --server [::1]x", {}, 2, "expected ':PORT' after ']'"),
    ("dns x.com --server dns.google", {}, 2, "is not a DNS server address"),
    ("dns x.com --server ''", {}, 2, "is not a DNS server address"),
    ("dns x.com --azure-dns nope", {}, 2, "'nope' is not a DNS server address"),
    ("dns x.com --expect nope", {}, 2, "'nope' is not an IP address for --expect"),
    ("dns x.com --expect 10.0.0.256", {}, 2, "is not an IP address for --expect"),
    ("dns x.com --timeout abc", {}, 2, "--timeout 'abc' is not a number of seconds"),
    ("dns x.com --timeout -1", {}, 2, "--timeout '-1' is out of range"),
    ("dns x.com --timeout 0", {}, 2, "--timeout '0' is out of range"),
    ("dns x.com --timeout nan", {}, 2, "--timeout 'nan' is out of range"),
    ("dns x.com --timeout inf", {}, 2, "--timeout 'inf' is out of range"),
    ("dns x.com --timeout 1e309", {}, 2, "is out of range"),
    ("dns x.com --deadline abc", {}, 2, "--deadline 'abc' is not a number of seconds"),
    ("dns x.com --deadline 0", {}, 2, "--deadline '0' is out of range"),
    ("dns x.com --deadline 100000", {}, 2, "--deadline '100000' is out of range"),
    ("dns x.com --count 0", {}, 2, "--count 0 is out of range"),
    ("dns x.com --count -3", {}, 2, "--count -3 is out of range"),
    ("dns x.com --count 99999", {}, 2, "--count 99999 is out of range"),
    ("dns x.com --count abc", {}, 2, "argument --count: invalid int value"),
    ("dns x.com --count 1.5", {}, 2, "argument --count: invalid int value"),
    ("dns x.com --slow-ms abc", {}, 2, "argument --slow-ms: invalid float value"),
    ("dns x.com --slow-ms -5", {}, 2, "--slow-ms -5 is not a positive number"),
    ("dns x.com --slow-ms 0", {}, 2, "--slow-ms 0 is not a positive number"),
    ("dns x.com --slow-ms nan", {}, 2, "--slow-ms nan is not a positive number"),
    ("dns x.com --slow-ms inf", {}, 2, "--slow-ms inf is not a positive number"),
    ("dns x.com --output yaml", {}, 2, "argument --output/-o: invalid choice"),
    ("dns x.com --cluster a", {}, 2, "--cluster and --resource-group go together"),
    ("dns x.com -g rg", {}, 2, "--cluster and --resource-group go together"),
    ("dns x.com --cluster a -g b", {}, 2, "no subscription"),
    ("dns x.com --cloud Mars", {}, 2, "argument --cloud: invalid choice"),
    ("dns x.com --bogus", {}, 2, "unrecognized arguments: --bogus"),
    ("snapshot a..b", {}, 2, "not a valid DNS name"),
    ("snapshot x.com --server nope", {}, 2, "is not a DNS server address"),
    ("apiserver --fqdn a..b", {}, 2, "'a..b' is not a valid DNS name"),
    ("apiserver --fqdn x.com --port 70000", {}, 2, "--port 70000 is not a port number from 1 to 65535"),
    ("apiserver --fqdn x.com --port 0", {}, 2, "--port 0 is not a port number"),
    ("apiserver --fqdn x.com --port -1", {}, 2, "--port -1 is not a port number"),
    ("apiserver --fqdn x.com --port abc", {}, 2, "argument --port: invalid int value"),
    ("apiserver --fqdn x.com --address nope", {}, 2, "'nope' is not an IP address for --address"),
    ("apiserver --fqdn x.com --egress-ip nope", {}, 2, "'nope' is not an IP address for --egress-ip"),
    ("apiserver --fqdn x.com --timeout 99", {}, 2, "--timeout '99' is out of range"),
    ("whois nope", {}, 2, "'nope' is not an IP address"),
    ("whois 10.0.0.1/24", {}, 2, "is not an IP address"),
    ("whois ''", {}, 2, "is not an IP address"),
    ("whois", {}, 2, "the following arguments are required: IP"),
    ("check --fqdn a..b", {}, 2, "'a..b' is not a valid DNS name"),
    ("check --timeout abc", {}, 2, "--timeout 'abc' is not a number of seconds"),
    ("ipplan", {}, 2, "aksdiag ipplan needs the cluster"),
    ("lb", {}, 2, "aksdiag lb needs the cluster"),
    ("lb --cluster a", {}, 2, "--cluster and --resource-group go together"),
    ("tui --fqdn a..b", {}, 2, "'a..b' is not a valid DNS name"),
    ("explain NOPE", {}, 2, "unknown code 'NOPE'"),
    ("demo --scenario nope", {}, 2, "unknown scenario 'nope'"),
    ("demo --world nope", {}, 2, "unknown cluster world 'nope'"),
    ("lab up --scenario nope", {}, 2, "unknown scenario 'nope'"),
    ("lab arm --world nope", {}, 2, "'nope' is neither an ARM world nor a directory"),
    ("lab arm --world healthy --port 70000", {}, 2, "--port 70000 is not a port number"),
    ("lab arm --world healthy --port -1", {}, 2, "--port -1 is not a port number"),
    ("lab arm --world healthy --port x", {}, 2, "argument --port: invalid int value"),
    ("lab kube --world nope", {}, 2, "is not a directory of Kubernetes object files"),
    ("nosuch", {}, 2, "argument COMMAND: invalid choice: 'nosuch'"),
    *((f"lab arm --world {{world:{name}}}", {}, 2, "cannot load the ARM world") for name in WORLD_FILES),
    *((f"lab kube --world {{world:{name}}}", {}, 2, "cannot load") for name in WORLD_FILES),
    ("apiserver --fqdn ''", {}, 2, "--fqdn is empty"),
    ("check --fqdn ' '", {}, 2, "--fqdn is empty"),
    ("dns x.com --cluster '' -g b", {}, 2, "--cluster is empty"),
    ("lb --cluster a -g ''", {}, 2, "--resource-group is empty"),
    ("whois 10.0.0.1 --context ''", {}, 2, "--context is empty"),
    ("whois 10.0.0.1 --kubeconfig ''", {}, 2, "--kubeconfig is empty"),
    ("dns x.com --resolv-conf ''", {}, 2, "--resolv-conf is empty"),
    ("dns x.com --cluster a -g b --subscription ''", {}, 2, "--subscription is empty"),
    ("whois 10.0.0.1.5", {}, 2, "'10.0.0.1.5' is not an IP address"),
    ("dns 'x\x00.com'", {}, 2, "is not a valid DNS label"),
    ("dns x.com --timeout 0x10", {}, 2, "--timeout '0x10' is not a number of seconds"),
    ("apiserver --fqdn x.com --port 99999999999999999999", {}, 2, "is not a port number from 1 to 65535"),
]

ENV = [
    ("dns x.com", {"AKSDIAG_TIMEOUT": "abc"}, 2, "AKSDIAG_TIMEOUT 'abc' is not a number of seconds"),
    ("dns x.com", {"AKSDIAG_TIMEOUT": "999"}, 2, "AKSDIAG_TIMEOUT '999' is out of range"),
    ("dns x.com", {"AKSDIAG_TIMEOUT": "-1"}, 2, "AKSDIAG_TIMEOUT '-1' is out of range"),
    ("whois 10.0.0.1", {"AKSDIAG_TIMEOUT": "nan"}, 2, "AKSDIAG_TIMEOUT 'nan' is out of range"),
    ("dns x.com", {"AKSDIAG_AZURE_DNS": "nope"}, 2, "AKSDIAG_AZURE_DNS='nope': 'nope' is not a DNS server"),
    ("dns x.com", {"AKSDIAG_AZURE_DNS": "1.2.3.4:0"}, 2, "AKSDIAG_AZURE_DNS='1.2.3.4:0'"),
    ("dns x.com", {"AKSDIAG_ADDRESS_MAP": "junk"}, 2, "AKSDIAG_ADDRESS_MAP='junk'"),
    ("dns x.com", {"AKSDIAG_ADDRESS_MAP": "10.0.0.4=junk"}, 2, "AKSDIAG_ADDRESS_MAP='10.0.0.4=junk'"),
    ("check --fqdn x.com", {"AKSDIAG_ADDRESS_MAP": "10.0.0.4=[::1"}, 2, "AKSDIAG_ADDRESS_MAP="),
    ("dns x.com", {"AKSDIAG_AZURE_DNS": "[::1]:99999"}, 2, "AKSDIAG_AZURE_DNS='[::1]:99999'"),
    ("dns x.com", {"AKSDIAG_TIMEOUT": " "}, 2, "AKSDIAG_TIMEOUT ' ' is not a number of seconds"),
    ("whois 10.0.0.1", {"AKSDIAG_LOOPBACK_ONLY": "true"}, 2, "AKSDIAG_LOOPBACK_ONLY='true': is neither 1 (on) nor 0"),
    (
        "dns x.com --cluster a -g b --subscription s",
        {"AKSDIAG_ARM_ENDPOINT": "nope"},
        2,
        "AKSDIAG_ARM_ENDPOINT='nope' is not an https:// URL with a host",
    ),
    (
        "lb --cluster a -g b --subscription s",
        {"AKSDIAG_ARM_ENDPOINT": "http://127.0.0.1:1"},
        2,
        "AKSDIAG_ARM_ENDPOINT='http://127.0.0.1:1' is not an https:// URL",
    ),
    (
        "ipplan --cluster a -g b --subscription s",
        {"AKSDIAG_ARM_ENDPOINT": "https://[::1"},
        2,
        "AKSDIAG_ARM_ENDPOINT='https://[::1' is not a URL",
    ),
    ("apiserver", {"KUBECONFIG": "/nonexistent/a:/nonexistent/b"}, 3, "none of the kubeconfigs in KUBECONFIG exists"),
]

KUBE = [
    (f"apiserver --kubeconfig {{kc:{name}}}", {}, 3, hint)
    for name, hint in [
        ("user-string", "user 'u': its user: is a str ('just-a-string'), not a mapping"),
        ("context-string", "context 'c': its context: is a str ('x'), not a mapping"),
        ("cluster-string", "cluster 'k': its cluster: is a str ('x'), not a mapping"),
        ("context-cluster-list", "context 'c' names no cluster"),
        ("context-user-int", "context 'c' has a user: that is not a name"),
        ("clusters-mapping", "is not a valid kubeconfig"),
        ("users-string", "is not a valid kubeconfig"),
        ("top-list", "is empty or not a kubeconfig"),
        ("top-string", "is empty or not a kubeconfig"),
        ("server-ipv6-open", "has a server 'https://[::1' that is not a URL (Invalid IPv6 URL)"),
        ("server-port-99999", "has a server 'https://127.0.0.1:99999' that is not a URL"),
        ("server-port-text", "that is not a URL"),
        ("server-int", "has a server '12' that is not an https:// URL"),
        ("server-no-host", "that is not an https:// URL"),
        ("server-ftp", "that is not an https:// URL"),
        ("server-missing", "the cluster 'k' has no server"),
        ("insecure-string", "insecure-skip-tls-verify is 'false', not true or false"),
        ("tls-server-name-int", "has a tls-server-name that is not a string"),
        ("ca-data-not-base64", "certificate-authority-data in the kubeconfig is not base64 PEM"),
        ("ca-not-pem", "the certificate-authority holds no PEM certificate that loads"),
        ("ca-pem-garbage", "the certificate-authority holds no PEM certificate that loads"),
        ("exec-string", "its exec: is a str ('run-me'), not a mapping"),
        ("exec-env-string", "exec env is not a list of name/value pairs"),
        ("exec-env-no-value", "exec env is not a list of name/value pairs"),
        ("exec-no-command", "missing key 'command'"),
        ("proxy-bad", "proxy-url 'gopher://x' is not an http://"),
        ("context-missing-cluster", "names the cluster 'nope', which is not there"),
        ("binary", "is not text (not UTF-8)"),
        ("not-yaml", "is not valid YAML"),
        ("empty", "is empty or not a kubeconfig"),
    ]
] + [
    ("apiserver --kubeconfig /nonexistent/kubeconfig", {}, 3, "cannot read the kubeconfig /nonexistent/kubeconfig"),
    ("apiserver --kubeconfig {dir}", {}, 3, "directory"),
    ("apiserver --kubeconfig {kc:user-string} --context nope", {}, 2, "has no context named 'nope' (known: c)"),
    ("whois 10.0.0.1 --kubeconfig {kc:user-string}", {}, 3, "its user: is a str"),
    ("whois 10.0.0.1 --kubeconfig {kc:server-ipv6-open}", {}, 3, "that is not a URL (Invalid IPv6 URL)"),
    ("whois 10.0.0.1 --kubeconfig {kc:server-port-99999}", {}, 3, "that is not a URL"),
    ("whois 10.0.0.1 --kubeconfig {kc:server-int}", {}, 3, "that is not an https:// URL"),
    ("whois 10.0.0.1 --kubeconfig {kc:binary}", {}, 3, "is not text (not UTF-8)"),
    ("lb --cluster a -g b --subscription s --kubeconfig {kc:context-string}", {}, 3, "its context: is a str"),
    ("lb --cluster a -g b --subscription s --kubeconfig {kc:ca-not-pem}", {}, 3, "holds no PEM certificate"),
]

SNAPSHOT = (
    [
        (f"dns --from {{snap:{name}}}", {}, 2, f"snap-{name}.json is not an aksdiag snapshot")
        for name in [*SNAPSHOTS, *RAW_SNAPSHOTS]
    ]
    + [
        ("dns --from /nonexistent/snap.json", {}, 2, "cannot read the snapshot /nonexistent/snap.json"),
        ("dns --from {dir}", {}, 2, "directory"),
    ]
    + [
        (f"dns --from {{mut:{name}}}", {}, 2, f"mut-{name}.json is not an aksdiag snapshot … ({says}")
        for name, (_change, says) in MUTATIONS.items()
    ]
)

POD = [
    (f"pod --image x {NO_KUBECONFIG} -- {inner}", {}, 2, f"in the pod's command `aksdiag {inner}`: … {hint}")
    for inner, hint in [
        ("dns a..b", "'a..b' is not a valid DNS name"),
        ("dns 10.0.0.4", "is an IP address, not a name"),
        ("dns", "give the FQDN to trace"),
        ("dns x.com --server nope", "'nope' is not a DNS server address"),
        ("dns x.com --azure-dns 1.1.1.1:99999", "is not a number from 1 to 65535"),
        ("dns x.com --expect nope", "'nope' is not an IP address for --expect"),
        ("dns x.com --count 0", "--count 0 is out of range"),
        ("dns x.com --slow-ms nan", "--slow-ms nan is not a positive number"),
        ("dns x.com --timeout abc", "--timeout 'abc' is not a number of seconds"),
        ("dns x.com --deadline 0", "--deadline '0' is out of range"),
        ("dns x.com --cluster a", "--cluster and --resource-group go together"),
        ("dns --from snap.json", "--from reads a local file"),
        ("whois nope", "'nope' is not an IP address"),
        ("apiserver --port 70000", "--port 70000 is not a port number"),
        ("apiserver --fqdn a..b", "'a..b' is not a valid DNS name"),
        ("apiserver --address nope", "'nope' is not an IP address for --address"),
        ("apiserver --egress-ip nope", "'nope' is not an IP address for --egress-ip"),
        ("check --fqdn a..b", "'a..b' is not a valid DNS name"),
        ("lb", "aksdiag lb needs the cluster"),
        ("ipplan", "aksdiag ipplan needs the cluster"),
        ("dns x.com --bogus", "unrecognized arguments: --bogus"),
    ]
] + [
    (f"pod --image x {NO_KUBECONFIG} -- tui", {}, 2, "`aksdiag tui` cannot run in the pod"),
    (f"pod --image x {NO_KUBECONFIG} -- --help", {}, 2, "`aksdiag --help` cannot run in the pod"),
    (f"pod --image x {NO_KUBECONFIG}", {}, 2, "no command to run in the pod"),
    (f"pod --image x {NO_KUBECONFIG} -- dns x.com -o yaml", {}, 2, "--output 'yaml' is not one of"),
    (f"pod --image x {NO_KUBECONFIG} --timeout abc -- dns x.com", {}, 2, "--timeout 'abc' is not a number"),
    (f"pod --image x {NO_KUBECONFIG} --timeout 0 -- dns x.com", {}, 2, "--timeout '0' is out of range"),
    (f"pod --image x {NO_KUBECONFIG} --node '' -- dns x.com", {}, 2, "--node is empty"),
    (f"pod --image x {NO_KUBECONFIG} --dns-policy None -- dns x.com", {}, 2, "argument --dns-policy"),
    (f"pod {NO_KUBECONFIG} -- dns x.com", {"AKSDIAG_IMAGE": ""}, 2, "no image to run"),
    (f"pod --image '' {NO_KUBECONFIG} -- dns x.com", {}, 2, "--image is empty"),
    (f"pod --image x --namespace '' {NO_KUBECONFIG} -- dns x.com", {}, 2, "--namespace is empty"),
    (f"pod --image x --namespace Bad_NS {NO_KUBECONFIG} -- dns x.com", {}, 2, "--namespace 'Bad_NS' is not a nam"),
    (f"pod --image x -n {'a' * 64} {NO_KUBECONFIG} -- dns x.com", {}, 2, "is not a namespace name"),
    (f"pod --image x --node 'bad node' {NO_KUBECONFIG} -- dns x.com", {}, 2, "--node 'bad node' is not a node nam"),
    (f"pod --image x --cleanup {NO_KUBECONFIG} -- dns x.com", {}, 2, "--cleanup takes no command"),
    (f"pod --image x {NO_KUBECONFIG} -- dns x.com --fqdn ''", {}, 2, "unrecognized arguments"),
    (f"pod --image x {NO_KUBECONFIG} -- apiserver --fqdn ''", {}, 2, "--fqdn is empty"),
]

CASES = [*FLAGS, *ENV, *KUBE, *SNAPSHOT, *POD]


def _run(
    argv: str,
    env: dict[str, str],
    files: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, float]:
    import shlex

    for placeholder, path in files.items():
        argv = argv.replace(placeholder, path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    started = time.monotonic()
    code = main(shlex.split(argv))
    return code, capsys.readouterr().err, time.monotonic() - started


@pytest.mark.parametrize(("argv", "env", "code", "says"), CASES, ids=[f"{c[0]} {c[1] or ''}".strip() for c in CASES])
def test_bad_input_is_one_clear_line(
    argv: str,
    env: dict[str, str],
    code: int,
    says: str,
    files: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    got, err, elapsed = _run(argv, env, files, monkeypatch, capsys)
    assert got == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("aksdiag: error: "), err
    assert "internal error" not in err and "Traceback" not in err
    for part in says.split(" … "):  # the parts, in order
        assert part in lines[0]
        lines[0] = lines[0][lines[0].index(part) + len(part) :]
    assert elapsed < 10, "input checks need no network: they answer at once"


def test_the_corpus_counts() -> None:
    """The table's size per class (the issue's note quotes these)."""
    assert (len(FLAGS), len(ENV), len(KUBE), len(SNAPSHOT), len(POD)) == (96, 16, 40, 22, 38)


# ---------------------------------------------------------------- a flag beats its env var; good input raises no alarm


@pytest.mark.parametrize(
    ("env", "flags"),
    [
        ({"AKSDIAG_TIMEOUT": "abc"}, ["--timeout", "0.2"]),
        ({"AKSDIAG_TIMEOUT": "999"}, ["--timeout", "0.2"]),
        ({"AKSDIAG_AZURE_DNS": "nope"}, ["--azure-dns", "127.0.0.1:{port}", "--timeout", "0.2"]),
        ({"AKSDIAG_RESOLV_CONF": "/nonexistent/resolv.conf"}, ["--no-resolver", "--timeout", "0.2"]),
    ],
    ids=["timeout-text", "timeout-range", "azure-dns", "resolv-conf-unused"],
)
def test_a_flag_beats_its_env_var(
    env: dict[str, str], flags: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bad env var is never parsed: the run goes on to ask the (dead, loopback) server and reports on it."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    argv = ["dns", "x.com", "--no-resolver", "--server", f"127.0.0.1:{port}", "--output", "json"]
    code = main(argv + [f.format(port=free_port()) for f in flags])
    captured = capsys.readouterr()
    assert code in (1, 3), captured.err  # the dead server is a finding or an unreachable hop, not a usage error
    assert "AKSDIAG_" not in captured.err and "usage" not in captured.err.lower()
    assert json.loads(captured.out)["command"] == "dns"


def test_good_pod_args_pass_the_local_checks() -> None:
    """The healthy world: what the CLI takes, the pod's local checks take too (no false refusal)."""
    from aksdiag.pod.command import inner_args

    good = [
        ["dns", "aks-x.privatelink.eastus.azmk8s.io", "--server", "10.1.0.4:53", "--expect", "10.224.0.4"],
        ["dns", "--cluster", "a", "-g", "b", "--count", "5", "--slow-ms", "200"],
        ["apiserver", "--fqdn", "10.0.0.1", "--port", "443", "--port", "4443", "--address", "10.0.0.1"],
        ["apiserver"],
        ["whois", "fd00::4"],
        ["check", "--fqdn", "x.com", "--timeout", "3", "--deadline", "60"],
        ["lb", "--cluster", "a", "-g", "b"],
        ["ipplan", "--cluster", "a", "-g", "b", "-o", "markdown"],
    ]
    for args in good:
        kept, output = inner_args(["--", *args])
        assert kept[-2:] == ("--output", "json") and output in (None, "markdown")
