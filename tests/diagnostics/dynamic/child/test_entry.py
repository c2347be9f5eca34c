"""The child's side of a job, in a real forked child: its report for a result and for a refusal.

The sandbox itself (entering it, what it refuses) is tested in tests/diagnostics/sandbox; here
the forked child runs `run_child` as the zygote runs it, and the test reads its report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from deepeval_lsp.diagnostics.dynamic import framing
from deepeval_lsp.diagnostics.dynamic.child.entry import resolve_job, run_child
from deepeval_lsp.diagnostics.dynamic.framing import RunFrame
from deepeval_lsp.diagnostics.sandbox import confine, landlock
from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def test_resolve_job_imports_the_module_and_returns_the_function() -> None:
    assert resolve_job("json:dumps") is json.dumps
    with pytest.raises(ModuleNotFoundError):
        resolve_job("no_such_module_here:run")


def _child_report(func: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Fork a child that runs `func` as a zygote's child would; its report."""
    import tests.diagnostics.sandbox_jobs  # noqa: F401 (its folder becomes readable in the child)

    reads = confine.python_read_paths([str(Path(__file__).resolve().parents[4])])
    with tempfile.TemporaryDirectory() as tmp:
        job_r, job_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child)
            try:
                os.close(job_w)
                os.close(result_r)
                run_child(
                    job_r,
                    result_w,
                    tmp,
                    reads,
                    zygote_pid=os.getppid(),
                    landlock_expected=landlock.probe().startswith("enforced"),
                )
            finally:
                os._exit(1)  # never back into the test runner
        os.close(job_r)
        os.close(result_w)
        job: RunFrame = {
            "op": "run",
            "id": 1,
            "func": func,
            "payload": payload,
            "timeout_s": 30.0,
            "limits": SandboxLimits().to_json(),
        }
        framing.send(job_w, job)
        os.close(job_w)
        data = b""
        while chunk := os.read(result_r, 1 << 16):
            data += chunk
        os.close(result_r)
        os.waitpid(pid, 0)
    return json.loads(data)


def test_the_child_reports_the_jobs_result_and_its_sandbox() -> None:
    report = _child_report("tests.diagnostics.sandbox_jobs:echo", {"k": 1})
    assert report["result"]["status"] == "ok" and report["result"]["echo"] == {"k": 1}
    assert report["result"]["pid"] != os.getpid()
    assert set(report["sandbox"]) == {f.name for f in dataclasses.fields(confine.SandboxState)} | {
        "result_channel"
    }


def test_a_refusal_is_reported_with_the_jobs_own_frames_only() -> None:
    report = _child_report("tests.diagnostics.sandbox_jobs:shell", {"marker": "touched"})
    result = report["result"]
    assert result["status"] == "sandbox_violation" and result["event"] == "os.system"
    files = {frame["file"] for frame in result["traceback"]}
    assert files and not any(f.endswith(("entry.py", "audit.py")) for f in files)
