"""The sandboxed child's side of a job: confine, wait for the job, run it, report, exit.

The zygote (diagnostics/dynamic/zygote.py) forks each child ahead of its job and calls
`run_child()` in it, which never returns. The child first enters the sandbox
(diagnostics/sandbox/confine.py), then reads its job (a framing.RunFrame) from its job pipe,
applies the job's rlimits, imports and calls the job's "module:function" on its payload, and
writes one framing.ChildReport to its result pipe: the job's dict, or the error it raised (a
SandboxViolation, sys.exit, MemoryError or any other exception, with the job's own traceback
frames).

The checked program runs in this process, so the report must be out of its reach
(sandbox/result_channel.py): the result pipe is parked in a socket before the sandbox is entered,
every other descriptor is closed and the kernel guards the socket before the job runs, and only
the report path below takes the pipe back. Before that, the checker's code is compared with a
snapshot taken before the program ran (child/integrity.py): a program that patched the runner
gets a sandbox violation, never its own verdict. The report path calls only functions bound at
import (C functions, mostly), and first stops what could run the program's code on its way:
trace and profile functions, signal handlers, timers and the cyclic garbage collector. A program
that leaves a thread running gets no report at all (the child exits with status 70, the reason
in its output): a thread could race the report for the pipe.
"""

from __future__ import annotations

import _json
import _signal
import _thread
import gc
import importlib
import os
import select
import sys
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

from deepeval_lsp.diagnostics.dynamic import framing
from deepeval_lsp.diagnostics.dynamic.child import integrity
from deepeval_lsp.diagnostics.dynamic.framing import ChildReport
from deepeval_lsp.diagnostics.sandbox import audit, confine, result_channel
from deepeval_lsp.diagnostics.sandbox.audit import SandboxViolation
from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits, apply_limits

_OWN_FILES = frozenset({__file__, audit.__file__})
LEFT_A_THREAD = 70  # the exit status when the program left a thread running
_ITIMERS = (0, 1, 2)  # ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF


def _unencodable(o: object) -> None:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _encoder() -> Any:
    """A JSON encoder made of the C accelerator alone (no module global is looked up when it
    runs); like json.dumps with its defaults."""
    return _json.make_encoder(
        None, _unencodable, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )


_ENCODE = _encoder()


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
    prefault: Callable[[], object] | None = None,
) -> NoReturn:
    """Inside the freshly forked child: confine, wait for the job on `job_r`, run it, write its
    report to `w`, exit. `tmp` becomes the child's own folder, `read_paths` all it may read.
    `prefault` (the checker's own code) runs first, unless the job is already waiting."""
    parked = result_channel.park(w)  # before the sandbox, which may refuse socketpair
    try:
        state = confine.enter(
            tmp, read_paths, parent_pid=zygote_pid, landlock_expected=landlock_expected
        ).to_json()
        setup_error = None
    except BaseException as e:
        state, setup_error = None, e
    if prefault is not None and setup_error is None:
        _prefault(prefault, job_r)
    before = integrity.snapshot()  # while waiting for the job, off its clock
    job = framing.recv(job_r)
    if job is None:  # the zygote is gone or discarded this child
        os._exit(0)
    if setup_error is not None:
        detail = f"sandbox setup failed: {setup_error}"
        _report(parked, {"result": {"status": "error", "detail": detail}})
    limits = SandboxLimits.from_json(job.get("limits", {}))
    parked = result_channel.seal(parked)
    if state is not None:
        state["result_channel"] = parked.state
    payload = job["payload"]
    if isinstance(payload, dict) and isinstance(payload.get("path"), str):
        sys.audit(audit.UNTRUSTED_EVENT, payload["path"])
    after = _after_job  # bound before the program runs, like everything it calls
    outcome = _run_job(job["func"], payload, limits, float(job["timeout_s"]))
    after(parked, before, outcome, state, limits.result_bytes)


def _prefault(prefault: Callable[[], object], job_r: int) -> None:
    """Run `prefault` while no job waits. A fresh fork shares the zygote's memory until it
    writes to it, and a check writes to thousands of those pages (reference counts, caches): a
    warm check run here takes those copy-on-write faults (about 5,700 for a small CNN, 40 ms)
    before the job's clock starts."""
    if select.select([job_r], [], [], 0)[0]:
        return
    try:  # noqa: SIM105 (this module imports no contextlib: see _lock_down)
        prefault()
    except Exception:  # a spare that could not warm is still a spare
        pass


def _lock_down(
    _settrace: Any = sys.settrace,
    _setprofile: Any = sys.setprofile,
    _gc_disable: Any = gc.disable,
    _signals: Any = _signal.valid_signals,
    _handle: Any = _signal.signal,
    _ignore: Any = _signal.SIG_IGN,
    _setitimer: Any = _signal.setitimer,
) -> None:
    """Stop whatever could run the program's code from here on: its trace or profile function,
    its signal handlers and timers, and the garbage collector's finalizers of cycles."""
    _settrace(None)
    _setprofile(None)
    _gc_disable()
    for which in _ITIMERS:
        try:  # noqa: SIM105 (no contextlib here: its module globals can be patched)
            _setitimer(which, 0)
        except Exception:
            pass
    for sig in _signals():
        try:  # noqa: SIM105
            _handle(sig, _ignore)
        except Exception:  # SIGKILL and SIGSTOP cannot be handled
            pass


def _run_job(
    func: str, payload: Any, limits: SandboxLimits, timeout_s: float, _lock: Any = _lock_down
) -> dict[str, Any]:
    """The job's result, or the error it raised, as a result. It locks down before it returns,
    so no handler of the program's can run on top of run_child's frame (where the report path
    starts)."""
    try:
        apply_limits(limits, timeout_s)
        result = resolve_job(func)(payload)
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
    finally:
        _lock()
    return result


def _other_threads(_frames_of: Any = sys._current_frames, _me: Any = _thread.get_ident) -> bool:
    """Whether another thread runs Python code now (the program's: the checker starts none)."""
    return any(ident != _me() for ident in _frames_of())


def _leave_unreported(
    why: str, _write: Any = os.write, _exit: Any = os._exit, _encode: Any = str.encode
) -> NoReturn:
    try:
        _write(2, _encode(f"\n{why}\n"))
    finally:
        _exit(LEFT_A_THREAD)


def _report(
    parked: result_channel.Parked,
    report: ChildReport,
    result_bytes: int = 1 << 30,
    _encode: Any = _ENCODE,
    _join: Any = "".join,
    _len: Any = len,
    _view: Any = memoryview,
    _take_back: Any = result_channel.take_back,
    _write: Any = os.write,
    _close: Any = os.close,
    _exit: Any = os._exit,
    _flush: tuple[Any, ...] = (sys.stdout.flush, sys.stderr.flush),
) -> NoReturn:
    """Write `report` on the result pipe, taken back from its socket, close it and exit. Every
    function it calls was bound at import."""
    try:
        data = _join(_encode(report, 0))
    except (TypeError, ValueError, RecursionError) as e:
        detail = f"result is not JSON: {e}"
        data = _join(_encode({"result": {"status": "error", "detail": detail}}, 0))
    if _len(data) > result_bytes:
        too_large = f"result larger than {result_bytes / 1e6:g} MB"
        data = _join(_encode({"result": {"status": "error", "detail": too_large}}, 0))
    for flush in _flush:
        try:  # noqa: SIM105
            flush()
        except BaseException:
            pass
    raw = _view(data.encode())
    try:
        w = _take_back(parked)
        while _len(raw):
            raw = raw[_write(w, raw) :]
        _close(w)  # end of result now, before the exit tears the address space down
    except OSError:  # the zygote is gone, or has given up on this child
        pass
    _exit(0)


def _frames(e: BaseException, _extract: Any = traceback.extract_tb) -> list[dict[str, Any]]:
    frames = []
    for fs in _extract(e.__traceback__)[-30:]:
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


def _after_job(
    parked: result_channel.Parked,
    before: integrity.Snapshot,
    outcome: dict[str, Any],
    state: dict[str, str] | None,
    result_bytes: int,
    _lock: Any = _lock_down,
    _threads: Any = _other_threads,
    _leave: Any = _leave_unreported,
    _changed: Any = integrity.changed,
    _report_: Any = _report,
    _exit: Any = os._exit,
) -> NoReturn:
    """From the job's end to the exit: nothing here is looked up in a module at call time, so a
    program that patched one still gets its sandbox violation, not its verdict. (Positional
    defaults: a tuple, which no one can change in place; replacing it is refused by audit.py.)"""
    try:
        _lock()
        if _threads():
            _leave("the program left a thread running: no result is reported")
        patched = _changed(before)
        if patched is not None:
            outcome = {
                "status": "sandbox_violation",
                "event": "integrity",
                "detail": f"the program modified the checker's own code ({patched})",
            }
        _report_(parked, {"result": outcome, "sandbox": state}, result_bytes)
    finally:
        _exit(1)  # only if the report itself failed: never back into the zygote's code
