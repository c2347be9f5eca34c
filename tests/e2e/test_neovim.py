"""Neovim (Debian's 0.7) against the real server: diagnostics, a code action, the fix applied."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
NVIM = shutil.which("nvim")

pytestmark = pytest.mark.skipif(
    NVIM is None, reason="nvim is not installed (scripts/setup-editors.sh installs it)"
)

SOURCE = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 8, 3)
"""


def _lua_string(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid Lua string literal for these paths


def test_neovim_gets_diagnostics_and_applies_the_fix(tmp_path: Path):
    target = tmp_path / "net.py"
    target.write_text(SOURCE)
    out = tmp_path / "events.jsonl"
    cmd = [sys.executable, "-m", "deepeval_lsp", "serve", "--stdio"]
    init = tmp_path / "init.lua"
    init.write_text(
        f"CMD = {{{', '.join(_lua_string(c) for c in cmd)}}}\n"
        f"ROOT = {_lua_string(str(tmp_path))}\n"
        f"FILE = {_lua_string(str(target))}\n"
        f"OUT = {_lua_string(str(out))}\n" + (HERE / "nvim_init.lua").read_text()
    )
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-u", str(init)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path)},
    )
    events = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    errors = [e["data"] for e in events if e["kind"] == "error"]
    assert not errors and events and events[-1] == {"kind": "done", "data": {"code": 0}}, (
        errors,
        proc.stdout[-2000:],
        proc.stderr[-2000:],
    )

    publishes = [e["data"] for e in events if e["kind"] == "publish"]
    first = next(p for p in publishes if p["diagnostics"])
    (d,) = first["diagnostics"]
    assert d["code"] == "DL104" and d["source"] == "deepeval"
    assert d["data"]["dl_error"] == "Non-Existent API Attribute Access"
    assert first["version"] == 0  # Neovim numbers the first version 0

    (actions,) = [e["data"] for e in events if e["kind"] == "actions"]
    titles = [a["title"] for a in actions]
    assert any("Conv2d" in t for t in titles), titles

    (buffer,) = [e["data"] for e in events if e["kind"] == "buffer"]
    assert "        self.conv = nn.Conv2d(3, 8, 3)" in buffer
    assert publishes[-1]["diagnostics"] == [] and publishes[-1]["version"] > first["version"]
