"""Property: random edit sequences never crash the server, and its final publish for a document
is exactly what `deepeval-lsp check --format json` says about the final text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .wire import Wire

BASE = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))
"""

FRAGMENTS = [
    "nn.Conv2D(",
    "nn.Linear(4, 2)",
    "torch.",
    "F.relu(x)",
    "kernal_size=3",
    ")",
    "(",
    ":",
    "\n",
    "    ",
    "x = ",
    "import torch\n",
    "import nn\n",
    "def f(:\n",
    "return",
    "'",
    '"""',
    "é",
    "😀",
    "# 😀 comment\n",
    "self.",
    "layers.Dense(",
    "1",
    ",",
    "=",
    "[",
    "]",
]


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[float, int, str]]:
    """(where, how many characters to delete, what to insert) for each change."""
    n = draw(st.integers(min_value=1, max_value=12))
    return [
        (
            draw(st.floats(min_value=0, max_value=1)),
            draw(st.integers(min_value=0, max_value=8)),
            "".join(draw(st.lists(st.sampled_from(FRAGMENTS), max_size=3))),
        )
        for _ in range(n)
    ]


def utf16_position(text: str, offset: int) -> dict[str, int]:
    before = text[:offset]
    line = before.count("\n")
    col_text = before[before.rfind("\n") + 1 :]
    return {"line": line, "character": len(col_text.encode("utf-16-le")) // 2}


def utf16_range(text: str, rng: dict[str, Any]) -> dict[str, Any]:
    """A checker range (character columns) in the UTF-16 columns the client sees."""
    lines = text.split("\n")

    def conv(p: dict[str, int]) -> dict[str, int]:
        line = lines[p["line"]] if p["line"] < len(lines) else ""
        return {
            "line": p["line"],
            "character": len(line[: p["character"]].encode("utf-16-le")) // 2,
        }

    return {"start": conv(rng["start"]), "end": conv(rng["end"])}


@pytest.fixture(scope="module")
def wire():
    w = Wire()
    w.initialize({"dynamicChecks": False})
    yield w
    if w.proc.poll() is None:
        w.proc.kill()
        w.proc.wait()


def test_random_edit_sequences(wire: Wire, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("edits")
    finals: list[tuple[Path, str, list[dict[str, Any]]]] = []

    @settings(
        max_examples=int(os.environ.get("DEEPEVAL_EDIT_EXAMPLES", "30")),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(edits())
    def run(changes: list[tuple[float, int, str]]) -> None:
        path = folder / f"doc{len(finals)}.py"
        uri = path.as_uri()
        steps = []
        text = BASE
        for where, delete, insert in changes:
            start = int(where * len(text))
            end = min(len(text), start + delete)
            rng = {"start": utf16_position(text, start), "end": utf16_position(text, end)}
            text = text[:start] + insert + text[end:]
            steps.append((rng, insert))
        # The final text is on disk before the server sees it, as it is for the CLI: CPython
        # words some syntax errors from the file on disk when one exists at the given path.
        path.write_text(text, encoding="utf-8")
        wire.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": BASE}},
        )
        version = 1
        for rng, insert in steps:
            version += 1
            wire.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": rng, "text": insert}],
                },
            )
        final = wire.wait_for(
            lambda m: (
                m.get("method") == "deepeval/status"
                and m["params"]["uri"] == uri
                and m["params"]["version"] == version
            )
        )
        assert final["params"]["final"] is True
        publish = [
            m
            for m in wire.seen
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
        ][-1]
        assert publish["params"]["version"] == version
        wire.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        finals.append((path, text, publish["params"]["diagnostics"]))

    run()
    assert wire.proc.poll() is None, "the server died"
    assert len(finals) >= 10, len(finals)  # hypothesis ran the examples

    # One CLI run over every final text: the same checkers, the same findings.
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "deepeval_lsp",
            "check",
            "--format",
            "json",
            "--no-dynamic",
            *(str(p) for p, _, _ in finals),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode in (0, 1), cli.stderr
    reports = {r["path"]: r for r in json.loads(cli.stdout)}
    assert len(reports) == len(finals)
    for path, text, published in finals:
        want = [
            {
                "code": d["code"],
                "range": utf16_range(text, d["range"]),
                "message": d["message"],
                "dl_error": d["dl_error"],
                "fixes": d["fixes"],
            }
            for d in reports[str(path)]["diagnostics"]
        ]
        got = [
            {
                "code": d["code"],
                "range": d["range"],
                "message": d["message"],
                "dl_error": d["data"]["dl_error"],
                "fixes": d["data"]["fixes"],
            }
            for d in published
        ]
        assert got == want, (path, text)
        assert all(d["source"] == "deepeval" for d in published)
