"""The layers hold: the import contracts keep, probes never read the clock, `aksdiag --help` loads no heavy module.

Which module may import what is import-linter's job ([tool.importlinter] in pyproject.toml); this file runs those
contracts and checks what they cannot say.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aksdiag import codes, probe

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest brings tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = {
    c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
}


def module_files(name: str) -> list[Path]:
    """The source files of module or package `name` in the repository (aksdiag.probes is the probes/ folder)."""
    parts = name.split(".")
    base = ROOT / "probes" if parts[:2] == ["aksdiag", "probes"] else ROOT / "aksdiag"
    path = base.joinpath(*parts[2 if base.name == "probes" else 1 :])
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


PURE_MODULES = sorted({f for m in CONTRACTS["pure"]["source_modules"] for f in module_files(m)})
"""The modules the "pure" contract keeps free of I/O: the one list, in pyproject.toml."""


@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None, reason="import-linter is not installed (.[test])")
def test_the_import_contracts_hold() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "layout.py"), "lint-imports"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in done.stdout


def test_the_pure_list_names_files_that_exist() -> None:
    assert all(f.is_file() for f in PURE_MODULES), [str(f) for f in PURE_MODULES if not f.is_file()]
    assert ROOT / "probes" / "whois.py" in PURE_MODULES and ROOT / "aksdiag" / "model.py" in PURE_MODULES


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


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
