"""The zygote: a warm process that forks one sandboxed child per job of the dynamic pass.

A zygote is `python -m deepeval_lsp.diagnostics.dynamic.zygote`, started by a WorkerPool
(worker_pool.py) over two private pipes, with an environment stripped of secrets. It imports torch
and keras once and warms them (child/warm.py runs a small PyTorch and a small Keras check), calls
`gc.freeze()`, says it is ready, and then serves jobs (framing.py: the frames). A zygote of engine
"paper" warms the paper-compatible engine instead (diagnostics/paper/engine.py: TensorFlow +
tf-keras, imported once with one-thread pools and no op run). While idle it keeps one child
forked ahead and already confined (child/entry.py); a job goes to that child over a pipe, and its
result comes back over that child's own result pipe. The zygote enforces the timeout, the result
and disk caps, and cancellation, with SIGKILL of the child's process group, and outlives whatever
a child does: it parses the child's bytes with the depth and size bounded (validate.py), and
reads the child's folder only through a descriptor of it, never following what the child put
there. It dies with its parent (PR_SET_PDEATHSIG and the pipes). Linux only.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import select
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deepeval_lsp.diagnostics.dynamic import framing, validate
from deepeval_lsp.diagnostics.dynamic.child.entry import LEFT_A_THREAD, resolve_job, run_child
from deepeval_lsp.diagnostics.dynamic.framing import ReadyFrame, ResultFrame, RunFrame
from deepeval_lsp.diagnostics.sandbox import audit, confine, landlock, seccomp
from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits, disk_usage, unlinked_bytes

_PR_SET_PDEATHSIG = 1
_DISK_CHECK_S = 0.25
# A spare warms up (child/entry.py _prefault, ~0.1 s) only when jobs come this far apart: a job
# that arrived meanwhile would wait for it, and back-to-back jobs (a benchmark) would pay twice.
_PREFAULT_IDLE_S = 0.25


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
        # What each spare runs before its job (child/entry.py _prefault); the engine's choice.
        self.prefault: Callable[[], object] | None = None
        self.idle_s = float("inf")  # from the last reply to the next job

    def shutdown(self, *_: object) -> None:
        if self.child is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.child, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(self.child, signal.SIGKILL)  # a spare may not lead its group yet
        shutil.rmtree(self.root, ignore_errors=True)
        os._exit(0)

    def warm(self) -> list[str]:
        """Import and exercise what every job of this zygote's engine needs, so no child pays
        for it; the problems met, if any."""
        if os.environ.get("DEEPEVAL_ENGINE") == "paper":
            # TensorFlow + tf-keras imported, neither torch nor Keras 3, and no TensorFlow op
            # run (its thread pools would not survive the fork: see paper_engine.warm).
            from deepeval_lsp.diagnostics.paper import engine as paper_engine

            problems = paper_engine.warm()
            self.funcs[paper_engine.JOB] = paper_engine.run_job  # the spare forked next has it
        else:
            problems = _warm_default()
            if not problems:
                from deepeval_lsp.diagnostics.dynamic.child.warm import prefault

                self.prefault = prefault
        self.read_paths = confine.python_read_paths(self.extra_reads)
        audit.trusted_roots()  # measured once here, not in every child's sandbox set-up
        gc.collect()
        gc.freeze()
        return problems

    def serve(self) -> None:
        self.spare = self.fork_spare()
        replied = time.perf_counter()
        while True:
            message = framing.recv(self.req_fd)
            if message is None or message.get("op") == "close":
                self.shutdown()
            if message.get("op") == "run":
                self.idle_s = time.perf_counter() - replied
                result = self.run_job(message)
                reply: ResultFrame = {"op": "result", "id": message["id"], "result": result}
                framing.send(self.resp_fd, reply)
                replied = time.perf_counter()
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
            self.funcs[spec] = resolve_job(spec)
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
            run_child(
                job_r,
                result_w,
                tmp,
                self.read_paths,
                zygote_pid=self.pid,
                landlock_expected=self.landlock.startswith("enforced"),
                prefault=self.prefault if self.idle_s >= _PREFAULT_IDLE_S else None,
            )
        os.close(job_r)
        os.close(result_w)
        self.child = pid
        # Everything this process reads of the child's folder goes through this descriptor: the
        # child may rename the folder, or put a symlink in its place, once its job runs.
        tmp_fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        return _Spare(pid, job_w, result_r, tmp, tmp_fd)

    def run_job(self, job: RunFrame) -> dict[str, Any]:
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
            self.read_paths = confine.python_read_paths(self.extra_reads)
            audit.trusted_roots()
        limits = SandboxLimits.from_json(job.get("limits", {}))
        timeout_s = float(job["timeout_s"])
        t0 = time.perf_counter()
        spare = self.spare if self.spare is not None else self.fork_spare()
        self.spare = None
        try:
            framing.send(spare.job_w, job)
        except OSError:  # the spare died (killed from outside): a fresh child takes the job
            self.discard(spare)
            spare = self.fork_spare()
            framing.send(spare.job_w, job)
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
        if result.get("status") in ("crashed", "timeout", "error", "untrusted"):
            tail = _output_tail(spare.tmp_fd)
            if tail:
                result["output_tail"] = tail
        self.after_reply.append(spare.remove)
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
        spare.remove()

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
                    used, entries = disk_usage(spare.tmp_fd, limits.disk_entries)
                    used += unlinked_bytes(pid)
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
                        message = framing.recv(self.req_fd)
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


def _warm_default() -> list[str]:
    """The default engine's warm-up (torch, and Keras 3 on torch when installed)."""
    import torch

    torch.set_num_threads(1)  # whatever OMP_NUM_THREADS the parent's environment says
    try:
        from deepeval_lsp.diagnostics.dynamic.child.warm import warm

        warm()
    except Exception as e:
        return [f"the default engine's warm-up failed: {type(e).__name__}: {e}"]
    return []


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
    tmp_fd: int  # the folder `tmp` as created, whatever the child does to its name

    def remove(self) -> None:
        os.close(self.tmp_fd)
        shutil.rmtree(self.tmp, ignore_errors=True)  # refuses a symlink put in its place


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
            return validate.parse_report(data)
        except validate.Untrusted as e:
            if not os.WIFSIGNALED(status):  # else it died mid-write: say what killed it
                return dict(validate.untrusted(str(e)))
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
    if code == LEFT_A_THREAD:
        return {"status": "crashed", "detail": "the program left a thread running: no result"}
    return {"status": "crashed", "detail": f"exited with status {code} before returning a result"}


def _output_tail(tmp_fd: int, limit: int = 2000) -> str:
    """The last `limit` bytes of the child's captured output, in its folder `tmp_fd`; "" unless
    it is still the plain file the child was given (not a symlink, FIFO, socket, device, or a
    hard link to a file elsewhere). Reads `limit` bytes at most, and never blocks."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(confine.OUTPUT_FILE, flags, dir_fd=tmp_fd)
    except OSError:
        return ""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            return ""
        return os.pread(fd, limit, max(0, st.st_size - limit)).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def main(argv: list[str]) -> None:
    """Run a zygote: `argv` is the request pipe's and the response pipe's descriptors, the
    parent's pid, the JSON list of extra read paths, and the folder for the jobs' temp dirs."""
    req_fd, resp_fd, parent_pid = (int(a) for a in argv[:3])
    zygote = _Zygote(req_fd, resp_fd, parent_pid, json.loads(argv[3]), argv[4])
    signal.signal(signal.SIGTERM, zygote.shutdown)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:
        zygote.shutdown()
    t0 = time.perf_counter()
    problems = zygote.warm()
    ready: ReadyFrame = {
        "op": "ready",
        "pid": os.getpid(),
        "landlock": zygote.landlock,
        "seccomp": zygote.seccomp,
        "warm_ms": round((time.perf_counter() - t0) * 1000),
        "problems": problems,
    }
    framing.send(resp_fd, ready)
    zygote.serve()


if __name__ == "__main__":
    if len(sys.argv) != 6 or not all(a.isdigit() for a in sys.argv[1:4]):
        sys.exit("this is the dynamic pass's worker; WorkerPool starts it, with its pipes")
    main(sys.argv[1:])
