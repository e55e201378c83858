"""A real install: the wheel holds every package (probes/ as aksdiag.probes, no top-level `probes`), and installed
into a fresh virtualenv without extras — what `pipx install aksdiag` does — `aksdiag demo` and `aksdiag lab list` work.

The fresh-venv test installs every dependency from the package index (over a minute): it runs when
AKSDIAG_FRESH_INSTALL=1, which .ci/run sets; the wheel's contents are checked on every run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # built from a clean copy: setuptools reuses a checkout's build/ and would ship modules deleted since
    source = tmp_path_factory.mktemp("source") / "aksdiag"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".*_cache"))  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (found,) = out.glob("aksdiag-*.whl")
    return found


def source_packages() -> set[str]:
    """Every package of the tree, named as installed."""
    names = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "aksdiag").rglob("__init__.py")}
    names |= {
        ".".join(("aksdiag", *p.parent.relative_to(ROOT).parts))
        for p in (ROOT / "probes").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    return names


def test_the_wheel_holds_every_package_and_no_top_level_probes(wheel: Path) -> None:
    files = zipfile.ZipFile(wheel).namelist()
    tops = {f.split("/")[0] for f in files}
    assert tops == {"aksdiag", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    packaged = {".".join(f.split("/")[:-1]) for f in files if f.endswith("/__init__.py")}
    assert packaged == source_packages()
    assert "aksdiag/lab/arm_seeds/managed_cluster_private.json" in files and "aksdiag/tui/aksdiag.tcss" in files


def test_kubernetes_is_a_runtime_dependency_and_tests_stay_out(wheel: Path) -> None:
    metadata = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    runtime = [line for line in text.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert any(line.split()[1].startswith("kubernetes") for line in runtime), runtime
    assert not any(n.startswith("tests/") for n in zipfile.ZipFile(wheel).namelist())


@pytest.mark.skipif(
    os.environ.get("AKSDIAG_FRESH_INSTALL") != "1",
    reason="installs every dependency (>1 min): AKSDIAG_FRESH_INSTALL=1, as in CI",
)
def test_a_fresh_venv_without_extras_runs_the_demo(wheel: Path, tmp_path: Path) -> None:
    home = tmp_path / "venv"
    venv.create(home, with_pip=True, system_site_packages=False)
    python, aksdiag = home / "bin" / "python", home / "bin" / "aksdiag"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                   check=True, capture_output=True, timeout=900)  # fmt: skip
    env = {**os.environ, "PATH": f"{home / 'bin'}:{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    demo = subprocess.run([str(aksdiag), "demo", "--no-tui"], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)  # fmt: skip
    assert demo.returncode == 1, demo.stderr
    codes = {line.split()[0] for line in demo.stdout.splitlines() if line[:3] in ("DNS", "LB0", "API", "IP0", "AZ0")}
    assert {"DNS001", "LB004", "DNS015"} <= codes, demo.stdout
    assert "internal error" not in demo.stderr and "Traceback" not in demo.stderr
    lab = subprocess.run([str(aksdiag), "lab", "list"], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=60)  # fmt: skip
    assert lab.returncode == 0 and "no-forwarder" in lab.stdout and "lb-pending" in lab.stdout, lab.stderr
    where = subprocess.run([str(python), "-c", "import aksdiag.probes as p, importlib.util as u; "
                            "print(p.__file__, u.find_spec('probes'))"], capture_output=True, text=True, env=env,
                           cwd=tmp_path, check=True)  # fmt: skip
    assert str(home) in where.stdout and where.stdout.strip().endswith("None")
