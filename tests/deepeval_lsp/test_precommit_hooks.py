"""The pre-commit hooks (.pre-commit-hooks.yaml) run `deepeval-lsp check` as documented."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from deepeval_lsp import check_cli

REPO = Path(__file__).resolve().parents[2]
HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
CLI = Path(sys.executable).with_name("deepeval-lsp")


def _hook(hook_id: str) -> dict:
    return next(h for h in HOOKS if h["id"] == hook_id)


def test_the_hooks_are_well_formed() -> None:
    assert [h["id"] for h in HOOKS] == ["deepeval-lsp", "deepeval-lsp-dynamic"]
    for hook in HOOKS:
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python" and hook["types"] == ["python"]
        assert shlex.split(hook["entry"])[:2] == ["deepeval-lsp", "check"]
    assert "--no-dynamic" in _hook("deepeval-lsp")["entry"]
    assert "--no-dynamic" not in _hook("deepeval-lsp-dynamic")["entry"]
    doc = (REPO / "docs" / "ci.md").read_text()
    assert all(f"`{h['id']}`" in doc for h in HOOKS)


def test_each_entry_parses_as_the_check_command_with_files() -> None:
    for hook in HOOKS:
        parser = argparse.ArgumentParser()
        check_cli.add_arguments(parser)
        args = parser.parse_args([*shlex.split(hook["entry"])[2:], "a.py", "b.py"])
        assert args.paths == ["a.py", "b.py"]
        assert args.no_dynamic == ("--no-dynamic" in hook["entry"])


def test_the_static_hook_fails_a_commit_with_an_error_and_passes_a_clean_one(
    tmp_path: Path,
) -> None:
    """As pre-commit runs it: the entry, then the staged files."""
    bad = tmp_path / "bad.py"
    bad.write_text("import torch.nn as nn\nlayer = nn.Conv2D(3, 8, 3)\n")
    good = tmp_path / "good.py"
    good.write_text("import torch.nn as nn\nlayer = nn.Conv2d(3, 8, 3)\n")
    entry = shlex.split(_hook("deepeval-lsp")["entry"])
    program = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "deepeval_lsp"]
    command = [*program, *entry[1:]]
    failed = subprocess.run([*command, str(good), str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert "bad.py:2:" in failed.stdout and "DL104" in failed.stdout
    passed = subprocess.run([*command, str(good)], capture_output=True, text=True)
    assert passed.returncode == 0, passed.stdout + passed.stderr[-3000:]
