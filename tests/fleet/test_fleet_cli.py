"""`aksdiag fleet` on the command line: bad flags are one line and exit 2 (no request sent), no credential is one
line and exit 3, `--help` teaches, and the flags become the FleetPlan the engine runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aksdiag.cli import build_parser, main
from aksdiag.commands.fleet import DEADLINE_S, fleet_plan

SUB = "00000000-0000-0000-0000-0000000000a1"


def _plan(*argv: str):
    return fleet_plan(build_parser().parse_args(["fleet", *argv]))


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--subscription", "not-a-guid"], "--subscription 'not-a-guid' is not a subscription id"),
        (["--subscription", ""], "is not a subscription id"),
        (["--subscription", SUB + "0"], "is not a subscription id"),
        (["--all-subscriptions", "--subscription", SUB], "--all-subscriptions and --subscription contradict"),
        (["--all-subscriptions", "--management-group", "mg-lz"], "--all-subscriptions and --management-group"),
        (["--subscription", SUB, "--management-group", "mg-lz"], "--subscription and --management-group contradict"),
        (["--management-group", "mg lz; drop"], "is not a management group id"),
        (["--filter", "name ~~ 'aks'"], "is not a filter aksdiag understands"),
        (["--filter", "properties.x == '1'"], "is not a filter aksdiag understands"),
        (["--filter", "name == 'a' or name == 'b'"], "is not a filter aksdiag understands"),
        (["--deadline", "0"], "--deadline '0' is out of range"),
        (["--timeout", "soon"], "--timeout 'soon' is not a number of seconds"),
        (["-o", "yaml"], "invalid choice: 'yaml'"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fleet", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aksdiag: error: "), captured.err
    assert said in lines[0]
    assert "Traceback" not in captured.err


def test_bad_flags_send_nothing(fake_arm: object, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_arm([])  # type: ignore[operator]
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    assert main(["fleet", "--subscription", "nope"]) == 2
    assert main(["fleet", "--filter", "name"]) == 2
    assert fake.requests == []


def test_the_flags_become_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan("--subscription", SUB.upper(), "--subscription", f"/subscriptions/{SUB}",
                 "--filter", "tags['env'] == 'prod' AND name startswith 'aks-'", "-o", "json")  # fmt: skip
    assert plan.scope.subscriptions == (SUB,)  # lower-cased, a resource id's GUID taken, given twice is once
    assert plan.scope.management_groups == ()
    assert plan.scope.filter == "tags['env'] == 'prod' and name startswith 'aks-'"
    assert plan.settings.deadline == DEADLINE_S == 60.0
    assert plan.settings.output == "json"
    assert plan.endpoint.startswith("https://127.0.0.1:")  # conftest's AKSDIAG_ARM_ENDPOINT
    groups = _plan("--management-group", "mg-lz", "--management-group", "mg-corp", "--deadline", "12")
    assert groups.scope.management_groups == ("mg-lz", "mg-corp")
    assert groups.settings.deadline == 12.0
    everything = _plan("--all-subscriptions")
    assert everything.scope.subscriptions == () and everything.scope.management_groups == ()
    assert everything.scope.describe() == _plan().scope.describe() == "every subscription the identity can read"
    assert _plan("--timeout", "5").settings.deadline == DEADLINE_S  # --timeout alone does not shorten the run


def test_an_arm_endpoint_that_is_not_https_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", "http://127.0.0.1:1")
    assert main(["fleet"]) == 2


def test_no_credential_exits_3_saying_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No AKSDIAG_ARM_TOKEN: DefaultAzureCredential, held to its environment credential (AZURE_TOKEN_CREDENTIALS;
    conftest unset AZURE_CLIENT_*), has nothing to sign in with: no request, no managed-identity endpoint asked."""
    monkeypatch.delenv("AKSDIAG_ARM_TOKEN")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")
    assert main(["fleet"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    error = [line for line in captured.err.splitlines() if line.startswith("aksdiag: error: ")]
    assert len(error) == 1, captured.err
    assert "az login" in error[0] and "Traceback" not in captured.err


def test_rejected_token_exits_3(
    fake_arm: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = {"status": 401, "code": "InvalidAuthenticationToken", "message": "The access token is invalid."}
    fake = fake_arm([], faults={"/subscriptions": refused})  # type: ignore[operator]
    monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
    assert main(["fleet"]) == 3
    assert "Azure refused the credentials" in capsys.readouterr().err


def test_help_teaches() -> None:
    done = subprocess.run([sys.executable, "-m", "aksdiag", "fleet", "--help"], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    text = done.stdout
    for taught in ("Resource Graph", "--management-group", "--all-subscriptions", "--filter", "tags['env'] == 'prod'",
                   "-o json | jq", "exit codes", "lagged", "AZ001", "check --cluster"):  # fmt: skip
        assert taught in text, taught
    assert all(len(line) <= 120 for line in text.splitlines())
    top = subprocess.run([sys.executable, "-m", "aksdiag", "--help"], capture_output=True, text=True, timeout=60,
                         check=True)  # fmt: skip
    assert "fleet" in top.stdout
