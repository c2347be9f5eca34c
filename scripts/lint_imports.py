"""Check the architecture's import contracts (pyproject's [tool.importlinter]) with import-linter.

import-linter reads a package from its folder, and the package-dir mapping spreads
`deepeval_lsp` over four top-level folders; so the sources are copied into a temporary folder
laid out as installed (`deepeval_lsp/{diagnostics,server,benchmark}`) and checked there.
Exit status: import-linter's (0 when every contract holds).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = {
    "deepeval_lsp": ".",
    "diagnostics": "diagnostics",
    "server": "server",
    "benchmark": "benchmark",
}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="deepeval-imports-") as tmp:
        package = Path(tmp) / "deepeval_lsp"
        for folder, inside in PARTS.items():
            shutil.copytree(
                ROOT / folder,
                package / inside,
                ignore=shutil.ignore_patterns("__pycache__", "suites", "*.pyc"),
                dirs_exist_ok=True,
            )
        env = {**os.environ, "PYTHONPATH": tmp}
        lint = Path(sys.executable).with_name("lint-imports")
        return subprocess.run(
            [str(lint), str(ROOT / "pyproject.toml")], cwd=tmp, env=env
        ).returncode


if __name__ == "__main__":
    sys.exit(main())
