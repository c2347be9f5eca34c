"""`deepeval-lsp mcp` driven by the MCP SDK's own stdio client, as an agent's host drives it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.diagnostics.dynamic_programs import POOLED_FC_MISTAKE

REPO = Path(__file__).resolve().parents[2]
TOOLS = {"check_code", "check_file", "fix_code", "model_summary", "explain"}
OUTPUT_SCHEMAS: dict[str, Any] = {}  # each tool's, as the server lists it
CALL_TIMEOUT = 120.0  # generous: the first call waits for torch's import on a loaded machine

BROKEN = POOLED_FC_MISTAKE
CORRECT = BROKEN.replace("16 * 8 * 8", "16 * 16 * 16")

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# A layer"]},
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

INFINITE_LOOP = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        while True:
            pass

    def forward(self, x):
        return x
"""
# A model whose constructor tries to leave the sandbox: the network, then a secret file.
ESCAPES = {
    "socket": 'socket.create_connection(("1.1.1.1", 53), timeout=2)',
    "shadow": 'self.secret = open("/etc/shadow").read()',
}
ESCAPE = """\
import socket

import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        {escape}
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


model = Net()  # deepeval: input=(1, 4)
"""


@contextlib.asynccontextmanager
async def mcp_server(*args: str, cwd: Path) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "deepeval_lsp", "mcp", *args],
        cwd=str(cwd),
        env={"PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT) as session,
    ):
        await session.initialize()
        for tool in (await session.list_tools()).tools:
            OUTPUT_SCHEMAS[tool.name] = tool.output_schema
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """A call that must succeed: its structured result."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    # the text content carries the same result, for clients that read text only
    assert json.loads(result.content[0].text) == result.structured_content
    jsonschema.validate(result.structured_content, OUTPUT_SCHEMAS[tool])
    return result.structured_content


async def refused(session: ClientSession, tool: str, arguments: dict[str, Any]) -> str:
    """A call that must come back as a tool error: its message."""
    result = await session.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text


def errors(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in result["findings"] if f["severity"] == "error"]


async def test_tools_on_a_broken_and_a_correct_model(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(BROKEN)
    async with mcp_server("--root", str(tmp_path), cwd=tmp_path) as session:
        listed = {t.name: t for t in (await session.list_tools()).tools}
        assert set(listed) == TOOLS
        for tool in listed.values():
            jsonschema.Draft202012Validator.check_schema(tool.input_schema)
            jsonschema.Draft202012Validator.check_schema(tool.output_schema)
            assert "verdict" in json.dumps(tool.output_schema) or tool.name == "explain"
            assert tool.description and tool.annotations.read_only_hint
        check_schema = listed["check_code"].input_schema
        jsonschema.validate({"code": "x", "input_shape": [1, 3, 32, 32]}, check_schema)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"code": "x", "framework": "jax"}, check_schema)
        assert listed["check_file"].input_schema["required"] == ["path"]

        broken = await call(session, "check_code", code=BROKEN)
        (error,) = errors(broken)
        assert error["code"] == "DL301" and error["line"] == 15 and error["column"] == 16
        assert error["taxonomy"]["dl_error"] == "Input Tensor Shape Mismatch"
        assert error["fixes"][0]["verified"] and error["fixes"][0]["applied_by_fix_code"]
        assert broken["verdict"].startswith("fails: line 15: DL301")
        assert broken["builds"] is False

        correct = await call(session, "check_code", code=CORRECT, framework="torch")
        assert errors(correct) == [] and correct["builds"] is True
        assert correct["verdict"] == "builds: 41.4 K params, output (1, 10)"
        layers = {layer["name"]: layer for layer in correct["model"]["layers"]}
        assert layers["fc"]["input_shape"] == [1, 4096] and layers["fc"]["line"] == 10

        fixed = await call(session, "fix_code", code=BROKEN)
        assert fixed["fixed"] == 1 and fixed["errors"] == 0
        assert "-        self.fc = nn.Linear(16 * 8 * 8, 10)" in fixed["diff"]
        assert "+        self.fc = nn.Linear(64 * 8 * 8, 10)" in fixed["diff"]
        again = await call(session, "check_code", code=fixed["code"])
        assert errors(again) == [] and again["builds"] is True

        on_disk = await call(session, "check_file", path="model.py")
        assert on_disk["path"] == str((tmp_path / "model.py").resolve())
        assert [f["line"] for f in errors(on_disk)] == [15]
        (tmp_path / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
        in_cells = await call(session, "check_file", path=str(tmp_path / "nb.ipynb"))
        assert [(f["code"], f["cell"], f["line"]) for f in errors(in_cells)] == [("DL104", 2, 2)]

        unmarked = CORRECT.replace("  # deepeval: input=(1, 3, 32, 32)", "")
        summary = await call(session, "model_summary", code=unmarked, input_shape=[2, 3, 32, 32])
        assert summary["model"]["output_shape"] == [2, 10]
        assert "Total params: 41,418" in summary["table"] and summary["why_not"] is None
        not_built = await call(session, "model_summary", code=BROKEN)
        assert not_built["builds"] is False and not_built["verdict"].startswith("fails")

        explained = await call(session, "explain", code="dl301")
        assert explained["code"] == "DL301" and explained["severity"] == "error"
        assert explained["documentation"].startswith("## DL301\n**Input Tensor Shape Mismatch.**")
        assert "unknown diagnostic code" in await refused(session, "explain", {"code": "DL999"})


def children(pid: int) -> set[int]:
    """The live processes whose parent is `pid`."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
                if int(fields[1]) == pid and fields[0] != "Z":
                    found.add(int(entry))
    return found


async def test_bad_input_is_answered_and_the_server_lives_on(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.py").write_text("password = 'x'\n")
    (root / "link.py").symlink_to(tmp_path / "secret.py")
    before = children(os.getpid())
    async with mcp_server("--root", str(root), "--timeout", "3", cwd=root) as session:
        (server,) = children(os.getpid()) - before

        prose = await call(session, "check_code", code="This is not Python.\nJust words.\n")
        assert [f["code"] for f in errors(prose)] == ["DL001"]
        assert prose["verdict"].startswith("fails: line 1: DL001")

        huge = await refused(session, "check_code", {"code": "x = 1\n" * 900_000})  # 5.4 MB
        assert "too large to check" in huge

        looping = await call(session, "check_code", code=INFINITE_LOOP)
        assert [f["code"] for f in looping["findings"]] == ["DL403"]
        assert looping["findings"][0]["severity"] == "information"
        assert "time limit" in looping["verdict"]
        assert errors(await call(session, "check_code", code=CORRECT)) == []  # answered next

        # the network is refused (an error at the line); the secret is not read: where the
        # program runs it may be readable, so that is a note, and the model is not checked past it
        network = await call(session, "check_code", code=ESCAPE.format(escape=ESCAPES["socket"]))
        (error,) = errors(network)
        assert (error["line"], error["code"]) == (9, "DL402")
        secret = await call(session, "check_code", code=ESCAPE.format(escape=ESCAPES["shadow"]))
        assert errors(secret) == []
        (note,) = [f for f in secret["findings"] if f["line"] == 9]
        assert note["code"] == "DL401" and "reads '/etc/shadow'" in note["message"]
        assert secret.get("model") is None
        assert errors(await call(session, "check_code", code=CORRECT)) == []

        for outside in ("../secret.py", str(tmp_path / "secret.py"), "link.py", "/etc/passwd"):
            message = await refused(session, "check_file", {"path": outside})
            assert "outside the folders this server may read" in message, outside
        assert "no such file" in await refused(session, "check_file", {"path": "absent.py"})

        for tool, arguments in [
            ("check_code", {}),
            ("check_code", {"code": 5}),
            ("check_code", {"code": "x", "input_shape": [-1]}),
            ("check_code", {"code": "x", "framework": "jax"}),
            ("check_code", {"code": "x", "task": "no-such-task"}),
            ("no_such_tool", {"code": "x"}),
        ]:
            assert await refused(session, tool, arguments), (tool, arguments)
        assert errors(await call(session, "check_code", code=CORRECT)) == []
        # the timed-out and refused checks left no process behind: the worker pool alone
        assert len(children(server)) <= 2
    assert server not in children(os.getpid())


def test_lines_that_are_not_json_rpc_do_not_stop_the_server(tmp_path: Path) -> None:
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    lines = ["this is not json", '{"jsonrpc": "2.0", "id": 0}', json.dumps(hello)]
    proc = subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "mcp", "--no-dynamic"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    (welcome,) = [a for a in answers if a.get("id") == 1]
    assert welcome["result"]["serverInfo"]["name"] == "deepeval-lsp"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args", [("--root", "no-such-folder"), ("--timeout", "0")], ids=["root", "timeout"]
)
def test_bad_options_are_a_usage_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "mcp", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2 and "deepeval-lsp mcp: error:" in proc.stderr
    assert proc.stdout == ""
