"""Warm workers for the dynamic pass: a pool of zygotes that fork one sandboxed child per job.

A zygote is `python -m deepeval_lsp.diagnostics.dynamic.worker_pool`, started by the parent (CLI,
language server, benchmark) over two private pipes, with an environment stripped of secrets. It
imports torch and keras once, warms the meta-device kernels, calls `gc.freeze()`, and then serves
jobs. While idle it keeps one child forked ahead and already confined (diagnostics/sandbox/); a job
goes to that child over a pipe, the child applies the job's rlimits and calls `function(payload)`,
and the JSON result comes back over that child's own result pipe. A check then costs a few
milliseconds of overhead, not a cold interpreter start (seconds). A pool of engine "paper" runs the
paper-compatible engine instead (diagnostics/paper/engine.py: TensorFlow + tf-keras, imported once
with one-thread pools and no op run, then the same fork, sandbox and limits, with the engine's own
limits by default). The zygote enforces the timeout, the result and disk caps, and cancellation,
with SIGKILL of the child's process group, and outlives whatever a child does; the parent restarts
a zygote that died; zygotes and children die with the parent (PR_SET_PDEATHSIG and the pipes).
Linux only.

Results are the job's dict with a "sandbox" entry added ({"landlock": …, "seccomp": …, "ms": …};
"unavailable: why" where the kernel lacks a layer), or one made by the pool:
{"status": "timeout", "detail": …}, {"status": "crashed", "detail": "killed by SIGSEGV"},
{"status": "sandbox_violation", "event": …, "detail": …, "traceback": […]} (the audit hook's
refusals, and "disk" for too much written), {"status": "error", "exception": …, "detail": …,
"traceback": […]} (the job raised), or {"status": "cancelled"}. Failed results carry the tail
of the child's captured stdout/stderr as "output_tail".
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import gc
import importlib
import importlib.util
import json
import os
import queue
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from deepeval_lsp.diagnostics.sandbox import confine as sandbox
from deepeval_lsp.diagnostics.sandbox import landlock, seccomp
from deepeval_lsp.diagnostics.sandbox.confine import SandboxLimits, SandboxViolation

_HEADER = struct.Struct("!I")
_PR_SET_PDEATHSIG = 1
_MODEL_RUNNER = "deepeval_lsp.diagnostics.dynamic.child.warm"
# Environment the zygote may inherit from its parent (never API keys or tokens).
_ZYGOTE_ENV = (*sandbox.KEPT_ENV, "HOME", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH")
_OWN_FILES = frozenset({__file__, sandbox.__file__})
_DISK_CHECK_S = 0.25


class WorkerStartError(RuntimeError):
    """A zygote could not start (the message says why, in one line)."""


# ---------------------------------------------------------------- framing


def _send(fd: int, message: dict[str, Any]) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = os.read(fd, n - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _recv(fd: int) -> dict[str, Any] | None:
    """One whole frame (the peer always writes whole frames), or None at end of file."""
    head = _read_exact(fd, _HEADER.size)
    if head is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(head)[0])
    return None if body is None else json.loads(body)


# ---------------------------------------------------------------- the zygote (child process)


class _Zygote:
    """The serving loop inside the zygote process."""

    def __init__(
        self, req_fd: int, resp_fd: int, parent_pid: int, reads: list[str], root: str
    ) -> None:
        self.extra_reads = reads
        self.req_fd = req_fd
        self.resp_fd = resp_fd
        self.parent_pid = parent_pid
        self.pid = os.getpid()
        self.root = root  # made by the parent, which removes it too if this process is killed
        self.funcs: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self.child: int | None = None
        self.after_reply: list[Callable[[], object]] = []
        self.exiting: list[tuple[int, int | None]] = []  # killed, not reaped yet; their pidfds
        self.landlock = landlock.probe()
        self.seccomp = seccomp.probe()
        self.read_paths: list[str] = []
        self.spare: _Spare | None = None

    def shutdown(self, *_: object) -> None:
        if self.child is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.child, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(self.child, signal.SIGKILL)  # a spare may not lead its group yet
        shutil.rmtree(self.root, ignore_errors=True)
        os._exit(0)

    def warm(self) -> list[str]:
        """Import and exercise what every job needs, so no child pays for it."""
        if os.environ.get("DEEPEVAL_ENGINE") == "paper":
            return self.warm_paper()
        problems: list[str] = []
        import torch

        torch.set_num_threads(1)
        m = torch.nn
        x = torch.empty(2, 3, 16, 16, device="meta")
        y = m.ReLU()(m.BatchNorm2d(8, device="meta")(m.Conv2d(3, 8, 3, device="meta")(x)))
        y = m.MaxPool2d(2)(y).flatten(1)
        z = m.Linear(y.shape[1], 4, device="meta")(y)
        torch.cat([z, z], dim=1) @ torch.empty(8, 2, device="meta")
        m.functional.softmax(z, dim=-1)
        try:
            import keras
        except ImportError:
            keras = None
        except Exception as e:
            problems.append(f"keras import failed: {type(e).__name__}: {e}")
            keras = None
        if keras is not None:
            try:
                with keras.device("meta"):
                    inp = keras.Input((16, 16, 3))
                    h = keras.layers.Conv2D(4, 3, activation="relu")(inp)
                    out = keras.layers.Dense(4)(keras.layers.Flatten()(h))
                    keras.Model(inp, out)(torch.empty(2, 16, 16, 3, device="meta"))
            except Exception as e:
                problems.append(f"keras warm-up failed: {type(e).__name__}: {e}")
        try:
            runner = importlib.import_module(_MODEL_RUNNER)
            runner.warm()  # the runner's own caches, filled once for every child
        except Exception as e:
            problems.append(f"{_MODEL_RUNNER} failed to warm: {type(e).__name__}: {e}")
        self.read_paths = sandbox.python_read_paths(self.extra_reads)
        gc.collect()
        gc.freeze()
        return problems

    def warm_paper(self) -> list[str]:
        """The paper engine's zygote: TensorFlow + tf-keras imported, neither torch nor Keras 3,
        and no TensorFlow op run (its thread pools would not survive the fork: see
        paper_engine.warm)."""
        from deepeval_lsp.diagnostics.paper import engine as paper_engine

        problems = paper_engine.warm()
        self.funcs[paper_engine.JOB] = paper_engine.run_job  # the spare forked next has it
        self.read_paths = sandbox.python_read_paths(self.extra_reads)
        gc.collect()
        gc.freeze()
        return problems

    def serve(self) -> None:
        self.spare = self.fork_spare()
        while True:
            message = _recv(self.req_fd)
            if message is None or message.get("op") == "close":
                self.shutdown()
            if message.get("op") == "run":
                result = self.run_job(message)
                _send(self.resp_fd, {"op": "result", "id": message["id"], "result": result})
                # Off the caller's clock: clean up, reap, and fork the next job's child, unless
                # the next job is already waiting (then it forks its own, and no one waits here
                # on an exiting child's teardown).
                for task in self.after_reply:
                    task()
                self.after_reply.clear()
                self.reap()
                if self.spare is None and not select.select([self.req_fd], [], [], 0)[0]:
                    self.spare = self.fork_spare()
            # A cancel for a job that has already finished needs nothing.

    def reap(self) -> None:
        """Reap the children that have finished exiting; leave the others for next time."""
        still = []
        for pid, pidfd in self.exiting:
            try:
                done = os.waitpid(pid, os.WNOHANG)[0]
            except ChildProcessError:
                done = pid
            if done:
                if pidfd is not None:
                    os.close(pidfd)
            else:
                still.append((pid, pidfd))
        self.exiting = still

    def resolve(self, spec: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        if spec not in self.funcs:
            self.funcs[spec] = _resolve(spec)
        return self.funcs[spec]

    def fork_spare(self) -> _Spare:
        """Fork the next job's child ahead of time: it confines itself and waits for its job,
        so a job pays neither for the fork nor for the sandbox set-up."""
        tmp = tempfile.mkdtemp(prefix="job-", dir=self.root)
        job_r, job_w = os.pipe()
        result_r, result_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            for fd in (job_w, result_r, self.req_fd, self.resp_fd):
                os.close(fd)
            _child(job_r, result_w, tmp, self)
        os.close(job_r)
        os.close(result_w)
        self.child = pid
        return _Spare(pid, job_w, result_r, tmp)

    def run_job(self, job: dict[str, Any]) -> dict[str, Any]:
        known = job["func"] in self.funcs
        try:
            self.resolve(job["func"])  # here too: a bad name fails fast, later spares inherit it
        except Exception as e:
            return {"status": "error", "detail": f"cannot load job {job['func']!r}: {e}"}
        if not known and self.spare is not None:
            # The spare was forked, and confined, before this job's modules were imported: a
            # fresh child gets them, and read access to the folders they came from.
            self.discard(self.spare)
            self.spare = None
            self.read_paths = sandbox.python_read_paths(self.extra_reads)
        limits = SandboxLimits.from_json(job.get("limits", {}))
        timeout_s = float(job["timeout_s"])
        t0 = time.perf_counter()
        spare = self.spare if self.spare is not None else self.fork_spare()
        self.spare = None
        try:
            _send(spare.job_w, job)
        except OSError:  # the spare died (killed from outside): a fresh child takes the job
            self.discard(spare)
            spare = self.fork_spare()
            _send(spare.job_w, job)
        os.close(spare.job_w)
        try:
            outcome, data, status = self.watch(spare, job["id"], t0 + timeout_s, limits)
        finally:
            os.close(spare.result_r)
            self.child = None
        ms = (time.perf_counter() - t0) * 1000
        result = _interpret(outcome, data, status, timeout_s, limits)
        result.setdefault("sandbox", {"landlock": self.landlock, "seccomp": self.seccomp})
        result["sandbox"]["ms"] = round(ms, 2)
        if result.get("status") in ("crashed", "timeout", "error"):
            tail = _output_tail(spare.tmp)
            if tail:
                result["output_tail"] = tail
        self.after_reply.append(lambda: shutil.rmtree(spare.tmp, ignore_errors=True))
        if outcome == "parent gone":
            self.shutdown()
        return result

    def discard(self, spare: _Spare) -> None:
        with contextlib.suppress(OSError):
            os.killpg(spare.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(spare.pid, signal.SIGKILL)
        os.waitpid(spare.pid, 0)
        for fd in (spare.job_w, spare.result_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(spare.tmp, ignore_errors=True)

    def watch(
        self, spare: _Spare, job_id: int, deadline: float, limits: SandboxLimits
    ) -> tuple[str, bytes, int]:
        """Collect the child's result until it exits, times out or is cancelled; reap it."""
        pid, r = spare.pid, spare.result_r
        pidfd = _pidfd(pid)
        poller = select.poll()
        for fd in (r, pidfd, self.req_fd):
            if fd is not None:
                poller.register(fd, select.POLLIN)
        data = bytearray()
        outcome = ""
        status = 0
        cap = limits.result_bytes + 4096
        next_disk_check = time.perf_counter() + _DISK_CHECK_S
        try:
            while not outcome:
                now = time.perf_counter()
                left = deadline - now
                if left <= 0:
                    outcome = "timeout"
                    break
                if now >= next_disk_check:
                    used, entries = sandbox.disk_usage(spare.tmp, limits.disk_entries)
                    if used > limits.disk_bytes or entries > limits.disk_entries:
                        outcome = "disk"
                        break
                    next_disk_check = now + _DISK_CHECK_S
                left = min(left, next_disk_check - now)
                if pidfd is None:  # no pidfd (Linux < 5.3): look every 10 ms
                    left = min(left, 0.01)
                    if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                        outcome = "exited"
                        break
                for fd, _ in poller.poll(max(1, int(left * 1000))):
                    if fd == r:
                        chunk = os.read(r, 1 << 20)
                        if not chunk:
                            poller.unregister(r)
                            if data:  # the child closed its pipe after a whole result
                                outcome = outcome or "finished"
                        data += chunk
                        if len(data) > cap:
                            outcome = "too large"
                    elif fd == pidfd:
                        outcome = outcome or "exited"
                    elif fd == self.req_fd:
                        message = _recv(self.req_fd)
                        if message is None or message.get("op") == "close":
                            outcome = "parent gone"
                        elif message.get("op") == "cancel" and message.get("id") == job_id:
                            outcome = "cancelled"
            if outcome == "exited":
                os.set_blocking(r, False)
                with contextlib.suppress(BlockingIOError):
                    while len(data) <= cap and (chunk := os.read(r, 1 << 20)):
                        data += chunk
                if len(data) > cap:
                    outcome = "too large"
        finally:
            # Kill the group before reaping: while the leader is a zombie its id stays ours.
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            if outcome == "finished":  # its exit status does not matter: reap it later
                self.exiting.append((pid, pidfd))
            else:
                _, status = os.waitpid(pid, 0)
                if pidfd is not None:
                    os.close(pidfd)
        return outcome, bytes(data), status


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):
        return None


@dataclass
class _Spare:
    """A forked child waiting, already confined, for the job it will run."""

    pid: int
    job_w: int
    result_r: int
    tmp: str


def _resolve(spec: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _child(job_r: int, w: int, tmp: str, zygote: _Zygote) -> None:
    """Inside the forked child: confine, wait for the job, run it, report, exit."""
    try:
        state = sandbox.enter(
            tmp,
            zygote.read_paths,
            parent_pid=zygote.pid,
            landlock_expected=zygote.landlock.startswith("enforced"),
        ).to_json()
        setup_error = None
    except BaseException as e:
        state, setup_error = None, e
    job = _recv(job_r)
    if job is None:  # the zygote is gone or discarded this child
        os._exit(0)
    if setup_error is not None:
        detail = f"sandbox setup failed: {setup_error}"
        _write_result(w, {"result": {"status": "error", "detail": detail}})
        os._exit(0)
    limits = SandboxLimits.from_json(job.get("limits", {}))
    try:
        sandbox.apply_limits(limits, float(job["timeout_s"]))
        result = _resolve(job["func"])(job["payload"])
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


def _write_result(w: int, data: dict[str, Any] | str) -> None:
    raw = (data if isinstance(data, str) else json.dumps(data)).encode()
    view = memoryview(raw)
    with contextlib.suppress(OSError):
        while view:
            view = view[os.write(w, view) :]


def _frames(e: BaseException) -> list[dict[str, Any]]:
    frames = []
    for fs in traceback.extract_tb(e.__traceback__)[-30:]:
        if fs.filename in _OWN_FILES:
            continue  # the pool's and the audit hook's own frames say nothing about the job
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


def _interpret(
    outcome: str, data: bytes, status: int, timeout_s: float, limits: SandboxLimits
) -> dict[str, Any]:
    if outcome == "timeout":
        return {"status": "timeout", "detail": f"still running after {timeout_s:g} s"}
    if outcome in ("cancelled", "parent gone"):
        return {"status": "cancelled"}
    if outcome == "too large":
        mb = limits.result_bytes / 1e6
        return {"status": "error", "detail": f"result larger than {mb:g} MB"}
    if outcome == "disk":
        mb = limits.disk_bytes / (1 << 20)
        return {
            "status": "sandbox_violation",
            "event": "disk",
            "detail": f"the program wrote more than {mb:g} MB or {limits.disk_entries} files",
        }
    if data:
        try:
            envelope = json.loads(data)
            result = envelope["result"]
            if not isinstance(result, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return {"status": "crashed", "detail": "the job wrote a malformed result"}
        if isinstance(envelope.get("sandbox"), dict):
            result["sandbox"] = envelope["sandbox"]
        return result
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return {"status": "timeout", "detail": "CPU time limit reached"}
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return {"status": "crashed", "detail": f"killed by {name}"}
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return {"status": "crashed", "detail": f"exited with status {code} before returning a result"}


def _output_tail(tmp: str, limit: int = 2000) -> str:
    path = os.path.join(tmp, sandbox.OUTPUT_FILE)
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _zygote_main(argv: list[str]) -> None:
    req_fd, resp_fd, parent_pid = (int(a) for a in argv[:3])
    zygote = _Zygote(req_fd, resp_fd, parent_pid, json.loads(argv[3]), argv[4])
    signal.signal(signal.SIGTERM, zygote.shutdown)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:
        zygote.shutdown()
    t0 = time.perf_counter()
    problems = zygote.warm()
    _send(
        resp_fd,
        {
            "op": "ready",
            "pid": os.getpid(),
            "landlock": zygote.landlock,
            "seccomp": zygote.seccomp,
            "warm_ms": round((time.perf_counter() - t0) * 1000),
            "problems": problems,
        },
    )
    zygote.serve()


# ---------------------------------------------------------------- the parent side


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
        self.ready: dict[str, Any] | None = None
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
            "deepeval_lsp.diagnostics.dynamic.worker_pool",
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
                    _send(self.req_w, {"op": "close"})
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
                    message = _recv(self.resp_r)
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
            self.ready = frame
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
        job = {
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
                    _send(self.req_w, job)
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
            _send(self.req_w, {"op": "cancel", "id": job_id})


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
        engine: str = "default",
        env: dict[str, str] | None = None,
        limits: SandboxLimits | None = None,
        read_paths: Iterable[str] = (),
        startup_timeout_s: float = 300.0,
    ) -> None:
        """`env` adds to the zygote's environment (PYTHONPATH to find job modules, say); children
        see only the harmless part of it. `read_paths` are folders every child may read besides
        Python's own (the workspace, for its local imports); nothing else outside is readable.
        `engine="paper"` serves paper_engine.JOB on TensorFlow + tf-keras (the `paper` extra;
        paper_engine.EngineUnavailable without it), with paper_engine.LIMITS unless `limits`
        is given."""
        if engine == "paper":
            from deepeval_lsp.diagnostics.paper import engine as paper_engine

            reason = paper_engine.available()
            if reason:
                raise paper_engine.EngineUnavailable(reason)
            env = {**paper_engine.ENV, **(env or {}), "DEEPEVAL_ENGINE": "paper"}
            limits = limits or paper_engine.LIMITS
        elif engine != "default":
            raise ValueError(f"unknown engine {engine!r}; expected 'default' or 'paper'")
        if size < 1:
            raise ValueError(f"a pool needs at least one worker, not {size}")
        if not sys.platform.startswith("linux"):
            raise WorkerStartError(f"the sandboxed workers need Linux, not {sys.platform}")
        self.engine = engine
        self.limits = limits or SandboxLimits()
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
                f"this worker pool belongs to process {self._owner}; a forked process needs its "
                "own (default_pool() makes one)"
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


_default: WorkerPool | None = None
_default_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """The process's shared pool of one zygote, started on first use and closed at exit."""
    global _default
    with _default_lock:
        if _default is None or _default._closed or _default._owner != os.getpid():
            _default = WorkerPool(1)
        return _default


if __name__ == "__main__":
    if len(sys.argv) != 6 or not all(a.isdigit() for a in sys.argv[1:4]):
        sys.exit("this is the dynamic pass's worker; WorkerPool starts it, with its pipes")
    _zygote_main(sys.argv[1:])
