"""The layers hold: probes and the vocabulary import no I/O library; `aksdiag --help` loads no heavy module."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aksdiag import codes, probe

ROOT = Path(__file__).resolve().parents[1]
IO_LIBRARIES = ("dns", "httpx", "azure", "kubernetes", "textual", "rich", "socket", "asyncio", "aksdiag.sources")
PURE_MODULES = [
    *sorted((ROOT / "probes").rglob("*.py")),
    *sorted((ROOT / "aksdiag" / "codes").glob("*.py")),
    *(
        ROOT / "aksdiag" / f
        for f in (
            "model.py",
            "facts.py",
            "probe.py",
            "dnsnames.py",
            "inputs.py",
            "armview.py",
            "azfacts.py",
            "lbfacts.py",
            "kubefacts.py",
            "nsg.py",
            "snat.py",
            "pod/spec.py",
        )
    ),
]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PURE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_modules_do_no_io(path: Path) -> None:
    bad = {m for m in imported_modules(path) if any(m == lib or m.startswith(lib + ".") for lib in IO_LIBRARIES)}
    assert not bad, f"{path.name} imports {sorted(bad)}: probes and the vocabulary must stay free of I/O"


CLOCK_CALLS = ("now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp")


def clock_reads(path: Path) -> set[str]:
    """What in `path` reads the clock: the time module, or datetime/date's now(), today() and kin."""
    reads: set[str] = {m for m in imported_modules(path) if m == "time" or m.startswith("time.")}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCK_CALLS:
            reads.add(ast.unparse(node.func))
    return reads


@pytest.mark.parametrize("path", PURE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_modules_never_read_the_clock(path: Path) -> None:
    reads = clock_reads(path)
    assert not reads, f"{path.name} reads the clock ({sorted(reads)}): ask for a ClockNeed and judge by that fact"


def test_the_clock_check_sees_a_clock_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import datetime\nimport time\nx = datetime.datetime.now(datetime.timezone.utc)\n")
    assert clock_reads(sample) == {"time", "datetime.datetime.now"}


@pytest.mark.parametrize("path", sorted((ROOT / "aksdiag" / "sources").glob("*.py")), ids=lambda p: p.name)
def test_sources_do_not_judge(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m.startswith(("probes", "aksdiag.render", "aksdiag.codes"))}
    assert not bad, f"sources gather facts; {path.name} imports {sorted(bad)}"


def test_cli_import_loads_no_heavy_module() -> None:
    code = (
        "import sys, json, aksdiag.cli; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dns', 'rich', 'httpx', 'azure', 'kubernetes', 'textual'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_every_code_has_one_owning_probe_and_a_test() -> None:
    owners: dict[str, list[str]] = {}
    for probe_id in probe.probe_ids():
        for code in probe.load(probe_id).codes:
            owners.setdefault(code, []).append(probe_id)
    assert set(owners) == set(codes.CATALOGUE), "every catalogue code is owned by a probe, and only those"
    assert all(len(v) == 1 for v in owners.values()), owners
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py") if p.name != "test_layers.py")
    untested = sorted(c for c in codes.CATALOGUE if c not in tests)
    assert not untested, f"codes no test names: {untested}"


def test_catalogue_entries_are_complete() -> None:
    for code in codes.CATALOGUE.values():
        assert code.title and code.summary and code.fix and code.docs.startswith("https://"), code.id
        assert not code.title.lower().startswith("ensure"), "titles state the fault"
