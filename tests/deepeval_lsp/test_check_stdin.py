"""`deepeval-lsp check -` as an agent's shell runs it, and the JSON output against its schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.diagnostics.dynamic_programs import POOLED_FC_MISTAKE as SHAPE_BUG

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "check-output.schema.json").read_text())

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# A model"]},
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": ["import torch.nn as nn\n", "layer = nn.Conv2D(1, 8, 3)\n"],
        },
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def check(*args: str, stdin: bytes, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "check", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        timeout=300,
    )


def valid(stdout: bytes) -> list[dict]:
    doc = json.loads(stdout)
    jsonschema.validate(doc, SCHEMA)
    return doc


def test_the_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_stdin_json_finds_the_shape_error_and_its_verified_fix(tmp_path: Path) -> None:
    name = str(tmp_path / "model.py")  # need not exist: it names the program
    r = check("-", "--stdin-filename", name, "--format", "json", stdin=SHAPE_BUG.encode())
    assert r.returncode == 1, r.stderr.decode()
    (entry,) = valid(r.stdout)
    assert entry["path"] == name
    (d,) = [d for d in entry["diagnostics"] if d["severity"] == "error"]
    assert d["code"] == "DL301" and d["range"]["start"]["line"] == 14
    assert d["fixes"][0]["verified"]
    assert entry["summary"]["model"]["layers"], "the model summary is in the JSON"


def test_stdin_fix_writes_the_fixed_program_to_stdout(tmp_path: Path) -> None:
    r = check("-", "--fix", stdin=SHAPE_BUG.encode(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr.decode()
    fixed = r.stdout.decode()
    assert "nn.Linear(64 * 8 * 8, 10)" in fixed
    assert fixed.replace("64 * 8 * 8", "16 * 8 * 8") == SHAPE_BUG  # nothing else changed
    assert "1 fixed" in r.stderr.decode()  # the report went to stderr
    again = check("-", "--format", "json", stdin=r.stdout, cwd=tmp_path)
    assert again.returncode == 0, again.stdout.decode()
    (entry,) = valid(again.stdout)
    assert entry["path"] == "-" and entry["summary"]["errors"] == 0
    assert entry["summary"]["executable"] is True


def test_stdin_notebook_by_its_filename(tmp_path: Path) -> None:
    name = str(tmp_path / "nb.ipynb")
    r = check(
        "-",
        "--stdin-filename",
        name,
        "--no-dynamic",
        "--format",
        "json",
        stdin=json.dumps(NOTEBOOK).encode(),
    )
    (entry,) = valid(r.stdout)
    (d,) = entry["diagnostics"]
    assert d["code"] == "DL104" and d["cell"] == 2 and d["range"]["start"]["line"] == 1


def test_stdin_that_is_not_source_is_a_report_error(tmp_path: Path) -> None:
    r = check("-", "--no-dynamic", "--format", "json", stdin=b"\x00\x01binary", cwd=tmp_path)
    assert r.returncode == 1
    (entry,) = valid(r.stdout)
    assert "binary" in entry["summary"]["error"]
    fixed = check("-", "--no-dynamic", "--fix", stdin=b"\x00\x01binary", cwd=tmp_path)
    assert fixed.stdout == b"\x00\x01binary"  # --fix hands back what it could not check


def test_file_json_output_follows_the_schema(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(SHAPE_BUG.replace("nn.Conv2d", "nn.Conv2D"))
    (tmp_path / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
    (tmp_path / "broken.py").write_text("def f(:\n")
    r = check("--no-dynamic", "--format", "json", str(tmp_path), stdin=b"")
    doc = valid(r.stdout)
    assert len(doc) == 3


@pytest.mark.parametrize(
    "args",
    [("-", "extra.py"), ("extra.py", "--stdin-filename", "x.py")],
    ids=["stdin-with-paths", "filename-without-stdin"],
)
def test_stdin_usage_errors(args: tuple[str, ...]) -> None:
    r = check(*args, stdin=b"")
    assert r.returncode == 2
    assert "error:" in r.stderr.decode() and b"Traceback" not in r.stderr
