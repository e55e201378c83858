"""Property tests for the input parsers: whatever the text, kubeconfig or snapshot, the answer is a value or an
AksdiagError (one line), never another exception; and the real process never prints a traceback.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from aksdiag.errors import AksdiagError, UsageError
from aksdiag.inputs import parse_endpoint, parse_fqdn, parse_ip
from aksdiag.settings import parse_address_map, parse_timeout

hypothesis = pytest.importorskip("hypothesis", reason="pip install hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TEXT = st.text(max_size=80) | st.from_regex(r"[\[\]0-9a-f:.#\-_xA-Z ]{0,40}", fullmatch=True)
SCALARS = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.text(max_size=20)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                            max_size=4), max_leaves=20)  # fmt: skip
FAST = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples every run: no random red CI
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def one_line(e: AksdiagError) -> None:
    assert e.message and "\n" not in e.message.strip("\n")


@FAST
@given(TEXT)
def test_text_parsers_answer_a_value_or_a_usage_error(text: str) -> None:
    for parse in (parse_fqdn, parse_ip, parse_endpoint, parse_timeout, parse_address_map):
        with contextlib.suppress(UsageError):
            parse(text)


@FAST
@given(TEXT)
def test_a_parsed_fqdn_is_ascii_lower_case_and_parses_again_to_itself(text: str) -> None:
    try:
        fqdn = parse_fqdn(text)
    except UsageError:
        return
    assert fqdn.isascii() and fqdn == fqdn.lower() and parse_fqdn(fqdn) == fqdn


def kubeconfig_like() -> st.SearchStrategy[Any]:
    """Documents shaped like a kubeconfig at the top, with any JSON value anywhere below."""
    server = st.sampled_from(["https://127.0.0.1:6443", "https://[::1", "https://h:99999", "ftp://x", "", 5]) | JSON
    cluster = st.fixed_dictionaries({"server": server}, optional={"certificate-authority-data": JSON,
                                                                  "insecure-skip-tls-verify": JSON,
                                                                  "tls-server-name": JSON, "proxy-url": JSON})  # fmt: skip
    user = st.fixed_dictionaries({}, optional={"token": JSON, "exec": JSON, "client-certificate-data": JSON})
    return st.fixed_dictionaries({
        "current-context": st.just("c") | JSON,
        "contexts": st.lists(st.fixed_dictionaries({"name": st.just("c"), "context": st.fixed_dictionaries(
            {"cluster": st.just("k") | JSON, "user": st.just("u") | JSON}) | JSON}), max_size=2) | JSON,
        "clusters": st.lists(st.fixed_dictionaries({"name": st.just("k"), "cluster": cluster | JSON}), max_size=2)
        | JSON,
        "users": st.lists(st.fixed_dictionaries({"name": st.just("u"), "user": user | JSON}), max_size=2) | JSON,
    })  # fmt: skip


@FAST
@given(kubeconfig_like())
def test_a_kubeconfig_of_any_shape_loads_or_is_one_clear_error(tmp_path_factory: pytest.TempPathFactory,
                                                               doc: Any) -> None:  # fmt: skip
    from aksdiag.sources import kubeconfig

    path = tmp_path_factory.mktemp("kc") / "config"
    path.write_text(yaml.safe_dump(doc))
    try:
        config = kubeconfig.load(str(path))
    except AksdiagError as e:
        one_line(e)
        return
    assert config.server.startswith(("https://", "http://")) and config.host
    assert 0 < config.port <= 65535


@FAST
@given(JSON | st.fixed_dictionaries({"schema": st.just("aksdiag.snapshot/v1")}, optional={
    "command": JSON, "target": JSON, "settings": JSON, "facts": JSON}))  # fmt: skip
def test_a_snapshot_of_any_shape_is_judged_or_one_usage_error(tmp_path_factory: pytest.TempPathFactory,
                                                              doc: Any) -> None:  # fmt: skip
    from aksdiag.commands.dns import from_snapshot

    path = tmp_path_factory.mktemp("snap") / "snapshot.json"
    path.write_text(json.dumps(doc))
    try:
        from_snapshot(str(path))
    except UsageError as e:
        one_line(e)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["dns", "a..b"], 2),
        (["whois", "nope"], 2),
        (["lab", "arm", "--world", "healthy", "--port", "70000"], 2),
        (["pod", "--image", "x", "--", "dns", "a..b"], 2),
        (["apiserver", "--kubeconfig", "{kc}"], 3),
    ],
)
def test_the_real_process_prints_one_line_and_no_traceback(argv: list[str], code: int, tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump({"current-context": "c", "contexts": [{"name": "c", "context": "x"}]}))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "aksdiag", *(a.replace("{kc}", str(kc)) for a in argv)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert proc.returncode == code, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("aksdiag: error: ")
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert time.monotonic() - started < 30
