"""The sandboxed child's side of a job: confine, wait for the job, run it, report, exit.

The zygote (diagnostics/dynamic/zygote.py) forks each child ahead of its job and calls
`run_child()` in it, which never returns. The child first enters the sandbox
(diagnostics/sandbox/confine.py), then reads its job (a framing.RunFrame) from its job pipe,
applies the job's rlimits, imports and calls the job's "module:function" on its payload, and
writes one framing.ChildReport to its result pipe: the job's dict, or the error it raised (a
SandboxViolation, sys.exit, MemoryError or any other exception, with the job's own traceback
frames).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

from deepeval_lsp.diagnostics.dynamic import framing
from deepeval_lsp.diagnostics.dynamic.framing import ChildReport
from deepeval_lsp.diagnostics.sandbox import audit, confine
from deepeval_lsp.diagnostics.sandbox.audit import SandboxViolation
from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits, apply_limits

_OWN_FILES = frozenset({__file__, audit.__file__})


def resolve_job(spec: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The job function a "module:function" name says, its module imported."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def run_child(
    job_r: int,
    w: int,
    tmp: str,
    read_paths: list[str],
    *,
    zygote_pid: int,
    landlock_expected: bool,
) -> NoReturn:
    """Inside the freshly forked child: confine, wait for the job on `job_r`, run it, write its
    report to `w`, exit. `tmp` becomes the child's own folder, `read_paths` all it may read."""
    try:
        state = confine.enter(
            tmp, read_paths, parent_pid=zygote_pid, landlock_expected=landlock_expected
        ).to_json()
        setup_error = None
    except BaseException as e:
        state, setup_error = None, e
    job = framing.recv(job_r)
    if job is None:  # the zygote is gone or discarded this child
        os._exit(0)
    if setup_error is not None:
        detail = f"sandbox setup failed: {setup_error}"
        _write_result(w, {"result": {"status": "error", "detail": detail}})
        os._exit(0)
    limits = SandboxLimits.from_json(job.get("limits", {}))
    try:
        apply_limits(limits, float(job["timeout_s"]))
        result = resolve_job(job["func"])(job["payload"])
        if not isinstance(result, dict):
            result = {"status": "error", "detail": f"the job returned {type(result).__name__}"}
    except SandboxViolation as e:
        result = {
            "status": "sandbox_violation",
            "event": e.event,
            "detail": e.description,
            "traceback": _frames(e),
        }
    except SystemExit as e:
        result = {
            "status": "crashed",
            "detail": f"the program called sys.exit({e.code!r})",
            "traceback": _frames(e),
        }
    except MemoryError as e:
        gib = limits.address_space_bytes / (1 << 30)
        result = {
            "status": "error",
            "exception": "MemoryError",
            "detail": f"out of memory (the limit is {gib:.1f} GiB of address space)",
            "traceback": _frames(e),
        }
    except BaseException as e:
        result = {
            "status": "error",
            "exception": type(e).__name__,
            "detail": f"{type(e).__name__}: {e}"[:2000],
            "traceback": _frames(e),
        }
    try:
        data = json.dumps({"result": result, "sandbox": state})
    except (TypeError, ValueError) as e:
        data = json.dumps({"result": {"status": "error", "detail": f"result is not JSON: {e}"}})
    if len(data) > limits.result_bytes:
        too_large = f"result larger than {limits.result_bytes / 1e6:g} MB"
        data = json.dumps({"result": {"status": "error", "detail": too_large}})
    with contextlib.suppress(BaseException):
        sys.stdout.flush()
        sys.stderr.flush()
    _write_result(w, data)
    with contextlib.suppress(OSError):
        os.close(w)  # end of result now, before the exit tears the address space down
    os._exit(0)


def _write_result(w: int, report: ChildReport | str) -> None:
    raw = (report if isinstance(report, str) else json.dumps(report)).encode()
    with contextlib.suppress(OSError):  # the zygote is gone, or has given up on this child
        framing.write_all(w, raw)


def _frames(e: BaseException) -> list[dict[str, Any]]:
    frames = []
    for fs in traceback.extract_tb(e.__traceback__)[-30:]:
        if fs.filename in _OWN_FILES:
            continue  # this module's and the audit hook's frames say nothing about the job
        frames.append(
            {
                "file": fs.filename,
                "line": fs.lineno,
                "col": getattr(fs, "colno", None),
                "end_col": getattr(fs, "end_colno", None),
                "function": fs.name,
            }
        )
    return frames
