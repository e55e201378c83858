"""The command line: exit codes, one-line errors without tracebacks, help that teaches, explain, IDN names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from aksdiag import codes
from aksdiag.cli import main
from aksdiag.lab.dnsserver import LabServers, ServerSpec, Zone, make_handler

IDN_ZONE = "xn--bcher-kva.example"


@pytest.fixture
def idn_server() -> Iterator[str]:
    """A loopback server authoritative for the punycode zone of bücher.example."""
    zone = Zone(IDN_ZONE, a={IDN_ZONE: ("10.224.0.7",)})
    with LabServers() as servers:
        yield str(servers.add(ServerSpec(make_handler([zone], {}, None))))


def assert_one_line_error(err: str) -> None:
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("aksdiag: error: "), err


BAD_INPUT = {
    "malformed name": ["dns", "bad name!.example"],
    "label over 63": ["dns", "a" * 64 + ".example"],
    "name over 253": ["dns", ".".join(["a" * 60] * 5)],
    "IP as the name": ["dns", "10.0.0.4"],
    "IP with a dot as the name": ["dns", "10.0.0.4."],
    "server not an IP": ["dns", "x.example", "--server", "not-an-ip"],
    "server port too big": ["dns", "x.example", "--server", "127.0.0.1:99999"],
    "server port not ASCII": ["dns", "x.example", "--server", "127.0.0.1:²"],
    "azure-dns a name": ["dns", "x.example", "--azure-dns", "azure"],
    "count 0": ["dns", "x.example", "--count", "0"],
    "count not a number": ["dns", "x.example", "--count", "many"],
    "timeout not a number": ["dns", "x.example", "--timeout", "abc"],
    "timeout 0": ["dns", "x.example", "--timeout", "0"],
    "expect nonsense": ["dns", "x.example", "--expect", "nonsense"],
    "output unknown": ["dns", "x.example", "--output", "yaml"],
    "unknown flag": ["dns", "x.example", "--bogus"],
    "unknown global flag": ["--bogus"],
    "no name": ["dns"],
    "unknown subcommand": ["nosuchcommand"],
    "unknown code": ["explain", "NOPE"],
}


@pytest.mark.parametrize("argv", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_line_error(captured.err)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["dns", "a" * 64 + ".example"], "at most 63"),
        (["dns", "10.0.0.4"], "is an IP address"),
        (["dns", "x.example", "--server", "127.0.0.1:99999"], "65535"),
        (["dns", "x.example", "--count", "0"], "--count"),
        (["dns", "x.example", "--timeout", "abc"], "'abc'"),
        (["dns", "x.example", "--expect", "nonsense"], "--expect"),
        (["dns", "x.example", "--bogus"], "--bogus"),
        (["nosuchcommand"], "nosuchcommand"),
    ],
)
def test_the_error_says_what_was_wrong(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert says in capsys.readouterr().err


def test_bad_input_in_a_real_process_has_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "aksdiag", "dns", "x.example", "--server", "127.0.0.1:99999"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),  # the autouse fixture's loopback-only environment
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert_one_line_error(proc.stderr)


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "usage: aksdiag" in out
    assert all(command in out for command in ("dns", "explain", "demo"))


def test_dns_help_teaches_its_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["dns", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--server", "--expect", "--azure-dns", "--count", "--timeout", "--output"):
        assert flag in out, flag


def test_explain_a_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "DNS001"]) == 0
    out = capsys.readouterr().out
    assert codes.DNS001.title in out and codes.DNS001.fix in out and codes.DNS001.docs in out
    assert main(["explain", "dns001"]) == 0, "codes are case-insensitive"
    assert codes.DNS001.title in capsys.readouterr().out


def test_explain_an_unknown_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "NOPE"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "NOPE" in captured.err


def test_explain_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(codes.CATALOGUE)
    for line, code in zip(lines, codes.CATALOGUE.values(), strict=True):
        assert code.title in line


def test_idn_name_is_queried_as_punycode(idn_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["dns", "bücher.example", "--no-resolver", "--server", idn_server, "--azure-dns", idn_server,
               "--timeout", "0.3", "--output", "json"])  # fmt: skip
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert rc == 0, (doc["findings"], captured.err)
    assert doc["target"] == IDN_ZONE
    assert doc["verdict"] == "ok"
    assert doc["probes"][0]["hops"][0]["answers"] == ["10.224.0.7"], "the server was asked the punycode name"


def test_a_missing_name_is_a_finding_exit_1(idn_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["dns", f"missing.{IDN_ZONE}", "--no-resolver", "--server", idn_server, "--azure-dns", idn_server,
               "--timeout", "0.3", "--output", "json"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert doc["verdict"] == "broken" and doc["findings"]
