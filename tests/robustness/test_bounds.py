"""Fault corpus, class 2 (issue 12): every wait has a bound — the run's one deadline.

Each case is a world that used to hang or wait far past `--deadline`: a 429 with `Retry-After: 3600`, a slow ARM,
a nextLink that points at itself, a Kubernetes list whose `continue` token repeats, a slow API server, an exec
plugin that never answers, a FIFO, a device or a huge file where a file is expected. Each asserts the exit code,
what the probe or the one stderr line names, and a time bound well under the hang (generous: not a benchmark).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aksdiag.cli import main
from aksdiag.lab import armworld, kubeworlds
from aksdiag.lab.kube import FakeKubeApi, KubeWorld

CLUSTER_ARGS = ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]
DEADLINE = 4.0
BOUND = 20.0
"""Seconds a bounded case may take: the deadline, start-up and teardown, with room to spare on a busy machine."""


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, Any], str, float]:
    started = time.monotonic()
    rc = main([*args, "--output", "json"])
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if out.strip() else {}), err, took


def reasons(doc: dict[str, Any]) -> str:
    return " ".join(p.get("reason") or "" for p in doc.get("probes", []) if p["status"] == "error")


ARM_CASES = [
    # (case id, faults, deadline, must finish within, what the error reason names)
    ("429-retry-after-3600", {"/managedclusters/": {"status": 429, "retry_after": 3600}}, 30.0, 15.0, "Retry-After"),
    ("slow-arm", {"/managedclusters/": {"delay_s": 8}}, DEADLINE, BOUND, "deadline"),
    ("nextlink-to-itself", {"/virtualnetworklinks": {"loop": True}}, 30.0, 15.0, "nextLink repeats"),
    ("429-every-time", {"/virtualnetworks/": {"status": 429, "retry_after": 1}}, DEADLINE, BOUND, "429"),
]


@pytest.mark.parametrize(
    ("faults", "deadline", "within", "named"), [c[1:] for c in ARM_CASES], ids=[c[0] for c in ARM_CASES]
)
def test_arm_waits_end_at_the_deadline(planes, capsys, faults, deadline: float, within: float, named: str) -> None:
    planes(faults=faults)
    rc, doc, err, took = run(capsys, ["dns", *CLUSTER_ARGS, "--timeout", "1", "--deadline", str(deadline)])
    assert took < within, f"took {took:.1f} s"
    assert rc == 3, (doc.get("findings"), err)
    assert named in reasons(doc), doc["probes"]


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[Any]:
    servers: list[FakeKubeApi] = []

    def start(faults: dict[str, Any] | None = None, user: dict[str, Any] | None = None) -> str:
        world = KubeWorld()
        world.add_all(kubeworlds.build("kubenet"))
        world.faults = faults or {}
        server = FakeKubeApi(world, tmp_path / f"pki-{len(servers)}")
        servers.append(server)
        path = server.kubeconfig(tmp_path / f"kubeconfig-{len(servers)}")
        if user is not None:
            doc = yaml.safe_load(path.read_text())
            doc["users"][0]["user"] = user
            path.write_text(yaml.safe_dump(doc))
        return str(path)

    yield start
    for s in servers:
        s.close()


def _slow_plugin(tmp: Path) -> dict[str, Any]:
    script = tmp / "slow-plugin.sh"
    script.write_text("#!/bin/sh\nexec sleep 60\n")
    script.chmod(0o755)
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script),
                     "interactiveMode": "Never"}}  # fmt: skip


KUBE_CASES = [
    ("continue-repeats", {"/api/v1/pods": {"continue": "repeat"}}, False, 0, "continue token repeats"),
    ("slow-api-server", {"/api/v1/nodes": {"delay_s": 8}}, False, 3, "no answer in time"),
    ("exec-plugin-never-answers", None, True, 3, ""),
]


@pytest.mark.parametrize(
    ("faults", "slow_plugin", "rc_expected", "named"), [c[1:] for c in KUBE_CASES], ids=[c[0] for c in KUBE_CASES]
)
def test_kube_waits_end_at_the_deadline(kube, capsys, tmp_path, faults, slow_plugin, rc_expected, named) -> None:
    kubeconfig = kube(faults, _slow_plugin(tmp_path) if slow_plugin else None)
    rc, doc, err, took = run(capsys, ["whois", "10.244.1.3", "--kubeconfig", kubeconfig, "--timeout", "1",
                                      "--deadline", str(DEADLINE)])  # fmt: skip
    assert took < BOUND, f"took {took:.1f} s"
    assert rc == 3, (doc, err)
    if named:
        assert named in reasons(doc), doc.get("probes")
    if not doc:
        assert len(err.strip().splitlines()) == 1, err


@pytest.fixture
def fifo(tmp_path: Path) -> str:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return str(path)


def _huge(tmp_path: Path) -> str:
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(200 * 2**20)  # sparse: 200 MiB of zeros, no disk used
    return str(path)


FILE_CASES = [
    # (case id, argv builder, exit code, what the one line names)
    ("fifo-resolv-conf", lambda p, t: ["dns", "a.example.com", "--resolv-conf", p, "--server", "127.0.0.1:9"], 2, "FIFO"),
    ("fifo-from", lambda p, t: ["dns", "--from", p], 2, "FIFO"),
    ("fifo-kubeconfig", lambda p, t: ["whois", "10.0.0.1", "--kubeconfig", p], 3, "FIFO"),
    ("device-from", lambda p, t: ["dns", "--from", "/dev/zero"], 2, "device"),
    ("directory-resolv-conf", lambda p, t: ["dns", "a.example.com", "--resolv-conf", str(t), "--server", "127.0.0.1:9"], 2, "directory"),
    ("directory-kubeconfig", lambda p, t: ["whois", "10.0.0.1", "--kubeconfig", str(t)], 3, "directory"),
    ("huge-from", lambda p, t: ["dns", "--from", _huge(t)], 2, "MiB"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "rc_expected", "named"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_non_regular_and_huge_files_are_refused_at_once(capsys, fifo, tmp_path, argv, rc_expected, named) -> None:
    started = time.monotonic()
    rc = main([*argv(fifo, tmp_path), "--timeout", "0.2"])
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert took < 10 and rc == rc_expected, (rc, err)
    assert len(err.strip().splitlines()) == 1 and named in err and "Traceback" not in err, err


def test_apiserver_exec_plugin_gets_what_is_left_of_the_deadline(kube, capsys, tmp_path) -> None:
    """The authenticated /readyz read runs the kubeconfig's plugin: it gets the run's deadline, not 20 s."""
    kubeconfig = kube(None, _slow_plugin(tmp_path))
    rc, doc, err, took = run(capsys, ["apiserver", "--kubeconfig", kubeconfig, "--timeout", "1",
                                      "--deadline", str(DEADLINE)])  # fmt: skip
    assert took < 12.0, f"took {took:.1f} s: the plugin was waited for past the deadline"
    assert rc in (0, 3) and "Traceback" not in err, (rc, err)
    assert doc["probes"][0]["status"] in ("ok", "warn", "error"), doc["probes"]
