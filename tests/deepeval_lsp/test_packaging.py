"""The wheel holds one import name, deepeval_lsp, with the three folders mapped in."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_has_only_deepeval_lsp_packages(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    (wheel,) = tmp_path.glob("deepeval_lsp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {
        "deepeval_lsp",
        f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info",
    }
    for sub in ("diagnostics", "server", "benchmark"):
        assert f"deepeval_lsp/{sub}/__init__.py" in names
    assert "deepeval_lsp/diagnostics/static/run.py" in names
    assert "deepeval_lsp/cli.py" in names
    # the built-in suite ships as package data of the task model, every file of it
    suite = REPO / "diagnostics" / "tasks" / "suites" / "builtin"
    shipped = {
        n
        for n in names
        if n.startswith("deepeval_lsp/diagnostics/tasks/suites/builtin/") and "__pycache__" not in n
    }
    files = {
        f"deepeval_lsp/{p.relative_to(REPO)}"
        for p in suite.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert len(files) >= 200 and shipped == files
    # the codes' documentation, which `explain` reads, ships as the file itself, not a link
    docs = (REPO / "docs" / "diagnostics.md").read_bytes()
    assert zipfile.ZipFile(wheel).read("deepeval_lsp/diagnostics/codes.md") == docs
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert (
        "deepeval-lsp = deepeval_lsp.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    )


def test_bare_folder_names_are_not_importable() -> None:
    r = subprocess.run(
        [sys.executable, "-c", "import server"],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert r.returncode != 0
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            "import deepeval_lsp.diagnostics, deepeval_lsp.server, deepeval_lsp.benchmark",
        ],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert r.returncode == 0, r.stderr
