"""Run lint-imports or mypy over aksdiag as installed: the repository's probes/ folder as aksdiag.probes.

`pip install -e .` maps probes/ to aksdiag.probes with an import hook (setuptools `package-dir`), which Python
follows but static tools do not: grimp (import-linter) and mypy look for aksdiag/probes/ on disk and find nothing.
So this builds that layout as a tree of symbolic links in a temporary folder — aksdiag/* linked one by one, plus
aksdiag/probes -> probes/, plus pyproject.toml for the tools' settings — runs the tool there, and prints the
tool's output with aksdiag/probes/... paths turned back into probes/... The tool's exit code is this script's.

    python3 .ci/layout.py lint-imports
    python3 .ci/layout.py mypy            # [tool.mypy] says what to check
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"  # importlinter has no `python -m` entry
TOOLS = {
    "lint-imports": [str(LINT_IMPORTS) if LINT_IMPORTS.exists() else "lint-imports"],
    "mypy": [sys.executable, "-m", "mypy"],
}


def layout() -> Path:
    """The linked tree for this checkout; it stays between runs (so mypy's cache does) and is brought up to date."""
    digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    base = Path(tempfile.gettempdir()) / f"aksdiag-layout-{digest}"
    links = {f"aksdiag/{c.name}": c for c in (ROOT / "aksdiag").iterdir() if c.name != "__pycache__"}
    links |= {"aksdiag/probes": ROOT / "probes", "pyproject.toml": ROOT / "pyproject.toml"}
    (base / "aksdiag").mkdir(parents=True, exist_ok=True)
    for old in (base / "aksdiag").iterdir():
        if f"aksdiag/{old.name}" not in links:
            old.unlink(missing_ok=True)  # a module removed from the tree
    for name, target in links.items():
        _link(base / name, target)
    return base


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and link.readlink() == target:
        return
    link.unlink(missing_ok=True)
    with contextlib.suppress(FileExistsError):  # another run linked it meanwhile, to the same target
        link.symlink_to(target)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TOOLS:
        print(f"usage: layout.py {{{','.join(TOOLS)}}} [ARGS...]", file=sys.stderr)
        return 2
    base = layout()
    env = {**os.environ, "PYTHONPATH": str(base)}  # find_spec("aksdiag") finds the linked tree first
    done = subprocess.run([*TOOLS[argv[0]], *argv[1:]], cwd=base, env=env, capture_output=True, text=True)
    for stream, text in ((sys.stdout, done.stdout), (sys.stderr, done.stderr)):
        stream.write("\n".join(_repo_path(line) for line in text.split("\n")))
    return done.returncode


def _repo_path(line: str) -> str:
    return "probes/" + line.removeprefix("aksdiag/probes/") if line.startswith("aksdiag/probes/") else line


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
