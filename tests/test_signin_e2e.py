"""signin end to end: `aksdiag check` with the cluster in the fake ARM (an Entra ID cluster: aadProfile, Azure RBAC
on or off, disableLocalAccounts) and a kubeconfig for the fake API server, whose identities and RBAC say who gets in;
the exec path through the lab's fake kubelogin (device code, azurecli, spn), run by aksdiag as kubectl runs it.
Each sign-in world is broken one way and raises exactly its AUTH code; the healthy ones raise none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.lab import armworld, signinworld

AZURE = ["--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER]


def check(capsys: pytest.CaptureFixture[str], kubeconfig: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    rc = main(["check", *extra, "--kubeconfig", str(kubeconfig), "--timeout", "2", "--output", "json"])
    return rc, json.loads(capsys.readouterr().out)


def auth_codes(doc: dict[str, Any]) -> list[str]:
    return [f["id"] for f in doc["findings"] if f["id"].startswith("AUTH")]


def signin_of(doc: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in doc["probes"] if p["probe"] == "signin")


@pytest.mark.parametrize("name", list(signinworld.WORLDS))
def test_each_sign_in_world_raises_exactly_its_code(name: str, planes, tmp_path: Path, capsys) -> None:
    world = signinworld.WORLDS[name]
    fake = planes(world.arm)
    with signinworld.start(name, tmp_path / "signin") as running:
        rc, doc = check(capsys, running.kubeconfig, *AZURE)
    assert auth_codes(doc) == list(world.codes), [f["detail"] for f in doc["findings"] if f["id"].startswith("AUTH")]
    probe = signin_of(doc)
    assert probe["status"] == ("fail" if world.codes else "ok"), probe
    assert fake.writes() == [] and fake.requests and all(r.method == "GET" for r in fake.requests)
    assert rc in (0, 1), "a sign-in that fails is a finding, not a run that stops (exit 3)"
    if world.codes:
        assert rc == 1
    text = json.dumps(doc)
    assert "LABCODE42" not in text and '.lab"' not in text, "no device code or token reaches the report"


def test_azure_rbac_names_the_role_assignment_to_create(planes, tmp_path: Path, capsys) -> None:
    planes("signin-entra-azure-rbac")
    with signinworld.start("signin-azure-role-missing", tmp_path / "s") as running:
        _, doc = check(capsys, running.kubeconfig, *AZURE)
    finding = next(f for f in doc["findings"] if f["id"] == "AUTH002")
    cluster_id = (f"/subscriptions/{armworld.SUBSCRIPTION}/resourceGroups/{armworld.CLUSTER_RG}/providers/"
                  f"Microsoft.ContainerService/managedClusters/{armworld.CLUSTER}")  # fmt: skip
    assert (
        finding["command"].lower()
        == (
            f'az role assignment create --role "Azure Kubernetes Service RBAC Reader" --assignee {signinworld.USER} '
            f"--scope {cluster_id}/namespaces/default"
        ).lower()
    )
    assert "in Azure. Update role assignment" in finding["detail"]


def test_kube_rbac_names_the_admin_group(planes, tmp_path: Path, capsys) -> None:
    planes("signin-entra-kube-rbac")
    with signinworld.start("signin-rolebinding-missing", tmp_path / "s") as running:
        _, doc = check(capsys, running.kubeconfig, *AZURE)
    finding = next(f for f in doc["findings"] if f["id"] == "AUTH003")
    assert armworld.signin.ADMIN_GROUP in finding["detail"]
    assert finding["command"] == ("kubectl create rolebinding view-access --clusterrole view --group <the Entra "
                                  "group's object id> -n default")  # fmt: skip


def test_without_azure_context_the_kubeconfig_alone_says_what_it_can(tmp_path: Path, capsys) -> None:
    """No --cluster: the device code, a missing kubelogin, an expired token and Azure's 403 words are still seen;
    a certificate on a cluster without local accounts is only a refused credential (ARM says why)."""
    seen = {}
    for name in ("signin-device-code", "signin-kubelogin-missing", "signin-expired-token",
                 "signin-azure-role-missing", "signin-admin-certificate", "signin-healthy-azure-rbac"):  # fmt: skip
        with signinworld.start(name, tmp_path / name) as running:
            _, doc = check(capsys, running.kubeconfig)
        seen[name] = auth_codes(doc)
    assert seen == {"signin-device-code": ["AUTH005"], "signin-kubelogin-missing": ["AUTH006"],
                    "signin-expired-token": ["AUTH008"], "signin-azure-role-missing": ["AUTH002"],
                    "signin-admin-certificate": ["AUTH001"], "signin-healthy-azure-rbac": []}  # fmt: skip


def test_the_fix_for_device_code_works(tmp_path: Path, capsys) -> None:
    """`kubelogin convert-kubeconfig -l azurecli` (what AUTH005 says to run) rewrites the kubeconfig; then the
    sign-in needs no prompt and the check is clean."""
    with signinworld.start("signin-device-code", tmp_path / "s") as running:
        _, doc = check(capsys, running.kubeconfig)
        finding = next(f for f in doc["findings"] if f["id"] == "AUTH005")
        assert finding["command"] == f"kubelogin convert-kubeconfig -l azurecli --kubeconfig {running.kubeconfig}"
        args = finding["command"].split()[1:]
        done = subprocess.run([str(running.kubelogin), *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        _, doc = check(capsys, running.kubeconfig)
    assert auth_codes(doc) == [] and signin_of(doc)["status"] == "ok"


def test_a_user_at_a_terminal_can_enter_the_device_code(tmp_path: Path) -> None:
    """From a real pseudo-terminal, Settings.interactive is set where the face builds the plan: kubelogin prompts on
    the terminal, the user finishes the login (a line typed), and no AUTH005 is raised."""
    with signinworld.start("signin-device-code", tmp_path / "s") as running:
        main_fd, secondary = os.openpty()
        os.write(main_fd, b"done\n" * 4)  # each run of the plugin reads one line: the user signed in
        env = {**os.environ, "AKSDIAG_LOOPBACK_ONLY": "1"}
        proc = subprocess.run(
            [sys.executable, "-m", "aksdiag", "check", "--kubeconfig", str(running.kubeconfig), "--timeout", "2",
             "--output", "json"],
            stdin=secondary, capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        os.close(main_fd)
        os.close(secondary)
    doc = json.loads(proc.stdout)
    assert auth_codes(doc) == [], proc.stderr
    assert signin_of(doc)["facts"]["interactive"] is True
    assert "enter the code LABCODE42" in proc.stderr, "the prompt reaches the user's terminal, never the report"
    assert "LABCODE42" not in proc.stdout


def test_the_fake_kubelogin_mints_one_token_per_sign_in(tmp_path: Path) -> None:
    from aksdiag.lab import kubelogin

    a = kubelogin.mint("t", "aud", "u", "o", ("g",))
    assert a == kubelogin.mint("t", "aud", "u", "o", ("g",)) and a != kubelogin.mint("t2", "aud", "u", "o", ("g",))
    tool = kubelogin.install(tmp_path)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"user": "u", "oid": "o", "tenant": "t", "groups": ["g"]}))
    env = {**os.environ, kubelogin.STATE_ENV: str(state), kubelogin.EXPIRES_ENV: "0.1"}
    cli = subprocess.run([str(tool), "get-token", "--login", "azurecli", "--server-id", "aud"], env=env,
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert json.loads(cli.stdout)["status"]["token"] == a
    device = subprocess.run([str(tool), "get-token", "--tenant-id", "t", "--server-id", "aud"], env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert device.returncode == 1 and device.stdout == "" and "devicelogin" in device.stderr
