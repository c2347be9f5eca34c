"""Warm workers for the dynamic pass, parent side: a pool of zygotes that fork a child per job.

The parent (CLI, language server, benchmark) starts each zygote (zygote.py) over two private
pipes, with an environment stripped of secrets, and sends it jobs (framing.py: the frames). The
zygote imports torch and keras once and warms them, then forks one child per job that confines
itself (diagnostics/sandbox/), runs `function(payload)` under the job's rlimits (child/entry.py)
and returns the JSON result. A check then costs a few milliseconds of overhead, not a cold
interpreter start (seconds). A pool of engines.PAPER runs the paper-compatible engine instead
(diagnostics/paper/engine.py: TensorFlow + tf-keras, then the same fork, sandbox and limits, with
the engine's own limits by default). The zygote enforces the timeout, the result and disk caps,
and cancellation; the parent restarts a zygote that died; zygotes and children die with the
parent (PR_SET_PDEATHSIG and the pipes). Linux only.

Results are the job's dict with a "sandbox" entry added ({"landlock": …, "seccomp": …, "ms": …};
"unavailable: why" where the kernel lacks a layer), or one made by the pool:
{"status": "timeout", "detail": …}, {"status": "crashed", "detail": "killed by SIGSEGV"},
{"status": "sandbox_violation", "event": …, "detail": …, "traceback": […]} (the audit hook's
refusals, and "disk" for too much written), {"status": "error", "exception": …, "detail": …,
"traceback": […]} (the job raised), {"status": "untrusted", "detail": …} (the child's bytes are
not one well-formed report: validate.py), or {"status": "cancelled"}. Failed results carry the
tail of the child's captured stdout/stderr as "output_tail".
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from deepeval_lsp.diagnostics.dynamic import framing
from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, Engine, EngineUnavailable
from deepeval_lsp.diagnostics.dynamic.framing import CancelFrame, CloseFrame, ReadyFrame, RunFrame
from deepeval_lsp.diagnostics.sandbox import confine
from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits

_ZYGOTE_MODULE = "deepeval_lsp.diagnostics.dynamic.zygote"
# Environment the zygote may inherit from its parent (never API keys or tokens).
_ZYGOTE_ENV = (*confine.KEPT_ENV, "HOME", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH")


class WorkerStartError(RuntimeError):
    """A zygote could not start (the message says why, in one line)."""


_launcher: ThreadPoolExecutor | None = None
_launcher_lock = threading.Lock()


def _spawn(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
    """Popen from a thread that lives as long as the process: PR_SET_PDEATHSIG fires when the
    creating *thread* ends, so a zygote started from a short-lived executor thread would die."""
    global _launcher
    if threading.current_thread() is threading.main_thread():
        return subprocess.Popen(*args, **kwargs)
    with _launcher_lock:
        if _launcher is None:
            _launcher = ThreadPoolExecutor(1, thread_name_prefix="deepeval-worker-launcher")
    return _launcher.submit(subprocess.Popen, *args, **kwargs).result()


class CancelToken:
    """One call's cancellation handle: `cancel()` from any thread kills that call's child at once
    (or keeps it from starting), and the call returns {"status": "cancelled"}."""

    def __init__(self) -> None:
        self.cancelled = False
        self.lock = threading.Lock()
        self.target: tuple[_Worker, int] | None = None

    def cancel(self) -> None:
        with self.lock:
            self.cancelled = True
            if self.target is not None:
                self.target[0].cancel(self.target[1])


class _Worker:
    """The parent's handle on one zygote process."""

    def __init__(
        self,
        env: dict[str, str],
        limits: SandboxLimits,
        startup_timeout_s: float,
        read_paths: list[str],
    ) -> None:
        self.env = env
        self.read_paths = read_paths
        self.limits = limits
        self.startup_timeout_s = startup_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.req_w = -1
        self.resp_r = -1
        self.ready: ReadyFrame | None = None
        self.log: Any = None
        self.root: str | None = None  # the zygote's folder of job temp dirs
        self.write_lock = threading.Lock()
        self.next_id = 0

    def start(self) -> None:
        self.root = tempfile.mkdtemp(prefix="deepeval-worker-")
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        cmd = [
            sys.executable,
            "-P",
            "-m",
            _ZYGOTE_MODULE,
            str(req_r),
            str(resp_w),
            str(os.getpid()),
            json.dumps(self.read_paths),
            self.root,
        ]
        try:
            self.proc = _spawn(
                cmd,
                pass_fds=(req_r, resp_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.log,
                env=self.env,
                cwd="/",
                start_new_session=True,
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.ready = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if self.ready is not None:  # idle or serving: it reads the pipe
                with contextlib.suppress(OSError), self.write_lock:
                    framing.send(self.req_w, CloseFrame(op="close"))
            else:  # still warming: its SIGTERM handler cleans up and exits
                with contextlib.suppress(OSError):
                    proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for fd in (self.req_w, self.resp_r):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.req_w = self.resp_r = -1
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.root is not None:  # the zygote removes it itself, unless it was killed
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        self.ready = None

    def _why_dead(self) -> str:
        code = self.proc.poll() if self.proc is not None else None
        how = f"killed by {signal.Signals(-code).name}" if code and code < 0 else f"exit {code}"
        tail = ""
        if self.log is not None:
            self.log.seek(0)
            lines = self.log.read().decode("utf-8", "replace").strip().splitlines()
            tail = f": {lines[-1]}" if lines else ""
        return f"the worker process died ({how}){tail}"

    def _wait_frame(self, deadline: float, ticket: CancelToken | None) -> dict[str, Any] | str:
        """The next frame from the zygote, or "dead" / "late" / "cancelled"."""
        while True:
            if ticket is not None and ticket.cancelled and self.ready is None:
                return "cancelled"
            left = deadline - time.monotonic()
            if left <= 0:
                return "late"
            ready, _, _ = select.select([self.resp_r], [], [], min(left, 0.1))
            if ready:
                try:
                    message = framing.recv(self.resp_r)
                except (OSError, ValueError):
                    message = None
                return "dead" if message is None else message

    def ensure_ready(self, ticket: CancelToken) -> dict[str, Any] | None:
        """Start or restart the zygote as needed; an error result when it cannot serve."""
        if not self.alive():
            self.stop()
            try:
                self.start()
            except OSError as e:
                self.stop()
                return {"status": "crashed", "detail": f"cannot start a worker: {e.strerror or e}"}
        if self.ready is not None:
            return None
        frame = self._wait_frame(time.monotonic() + self.startup_timeout_s, ticket)
        if frame == "cancelled":
            return {"status": "cancelled"}
        if isinstance(frame, dict) and frame.get("op") == "ready":
            self.ready = cast(ReadyFrame, frame)
            return None
        if frame == "late":
            detail = f"the worker did not start within {self.startup_timeout_s:g} s"
        else:
            time.sleep(0.05)
            detail = self._why_dead()
        self.stop()
        return {"status": "crashed", "detail": detail}

    def run(
        self, func: str, payload: dict[str, Any], timeout_s: float, ticket: CancelToken
    ) -> dict[str, Any]:
        result = self._run_once(func, payload, timeout_s, ticket)
        if result.get("worker_died") and not ticket.cancelled:
            # A zygote does not die of what its children do; it was killed from outside (or
            # between jobs without our noticing yet): a fresh one gets the job, once.
            result = self._run_once(func, payload, timeout_s, ticket)
        result.pop("worker_died", None)
        return result

    def _run_once(
        self, func: str, payload: dict[str, Any], timeout_s: float, ticket: CancelToken
    ) -> dict[str, Any]:
        failure = self.ensure_ready(ticket)
        if failure is not None:
            return failure
        self.next_id += 1
        job_id = self.next_id
        job: RunFrame = {
            "op": "run",
            "id": job_id,
            "func": func,
            "payload": payload,
            "timeout_s": timeout_s,
            "limits": self.limits.to_json(),
        }
        with ticket.lock:
            if ticket.cancelled:
                return {"status": "cancelled"}
            try:
                with self.write_lock:
                    framing.send(self.req_w, job)
            except OSError:
                return self._died()
            ticket.target = (self, job_id)
        # The zygote enforces the timeout; this later deadline only catches a wedged zygote.
        deadline = time.monotonic() + timeout_s + 15
        while True:
            frame = self._wait_frame(deadline, None)
            if frame == "late":
                self.stop()
                return {"status": "timeout", "detail": "the worker stopped answering; restarted"}
            if frame == "dead":
                return self._died()
            if isinstance(frame, dict) and frame.get("id") == job_id:
                with ticket.lock:
                    ticket.target = None
                return frame["result"]

    def _died(self) -> dict[str, Any]:
        time.sleep(0.05)
        detail = self._why_dead()
        self.stop()
        return {"status": "crashed", "detail": detail, "worker_died": True}

    def cancel(self, job_id: int) -> None:
        with contextlib.suppress(OSError), self.write_lock:
            framing.send(self.req_w, CancelFrame(op="cancel", id=job_id))


def _zygote_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: os.environ[k] for k in _ZYGOTE_ENV if k in os.environ}
    env.update(extra or {})
    env["KERAS_BACKEND"] = "torch"
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


class WorkerPool:
    """A fixed number of warm zygotes; each call runs `module:function(payload)` in a sandboxed
    child of one of them. Thread-safe: a call blocks until a zygote is free."""

    def __init__(
        self,
        size: int = 1,
        *,
        engine: Engine = DEFAULT,
        env: dict[str, str] | None = None,
        limits: SandboxLimits | None = None,
        read_paths: Iterable[str] = (),
        startup_timeout_s: float = 300.0,
    ) -> None:
        """`env` adds to the zygote's environment (PYTHONPATH to find job modules, say); children
        see only the harmless part of it. `read_paths` are folders every child may read besides
        Python's own (the workspace, for its local imports); nothing else outside is readable.
        `engine` says what the zygotes warm and serve (engines.DEFAULT, or engines.PAPER:
        TensorFlow + tf-keras, EngineUnavailable without the `paper` extra), with the engine's
        limits unless `limits` is given."""
        reason = engine.unavailable()
        if reason:
            raise EngineUnavailable(reason)
        env = engine.zygote_env(env)
        limits = limits or engine.limits
        if size < 1:
            raise ValueError(f"a pool needs at least one worker, not {size}")
        if not sys.platform.startswith("linux"):
            raise WorkerStartError(f"the sandboxed workers need Linux, not {sys.platform}")
        self.engine = engine
        self.limits = limits
        reads = [os.path.abspath(p) for p in read_paths]
        self._workers = [
            _Worker(_zygote_env(env), self.limits, startup_timeout_s, reads) for _ in range(size)
        ]
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._closed = False
        self._owner = os.getpid()  # zygotes answer the process that started them, only
        # Start warming now, in the background: it takes seconds, the first job waits for it.
        try:
            for w in self._workers:
                w.start()
                self._idle.put(w)
        except OSError as e:
            for w in self._workers:
                w.stop()
            raise WorkerStartError(f"cannot start a worker: {e.strerror or e}") from None
        atexit.register(self.close)

    @property
    def zygote_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers if w.proc is not None]

    def run(
        self,
        func: str,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        """Run `func` ("module:function", importable in the zygote) on `payload` in a sandboxed
        child; returns its dict, or a result made by the pool (see the module docstring).
        `cancel`, when given, lets another thread kill the child (see CancelToken)."""
        return self._run(func, payload, timeout_s, cancel or CancelToken())

    async def run_async(
        self, func: str, payload: dict[str, Any], *, timeout_s: float
    ) -> dict[str, Any]:
        """`run` for asyncio callers. Cancelling the awaiting task kills the child at once."""
        ticket = CancelToken()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, self._run, func, payload, timeout_s, ticket)
        try:
            return await future
        except asyncio.CancelledError:
            ticket.cancel()
            raise

    def _run(
        self, func: str, payload: dict[str, Any], timeout_s: float, ticket: CancelToken
    ) -> dict[str, Any]:
        if ":" not in func:
            raise ValueError(f"func must be 'module:function', not {func!r}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, not {timeout_s!r}")
        if os.getpid() != self._owner:
            raise RuntimeError(
                f"this worker pool belongs to process {self._owner}; a forked process needs its own"
            )
        while True:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            if ticket.cancelled:
                return {"status": "cancelled"}
            try:
                worker = self._idle.get(timeout=0.05)
                break
            except queue.Empty:
                continue
        try:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            return worker.run(func, payload, timeout_s, ticket)
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        """Stop every zygote (and so every child). Idempotent; also runs at interpreter exit."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        if os.getpid() != self._owner:
            return  # a forked copy: the zygotes are the original process's to stop
        for w in self._workers:
            w.stop()
