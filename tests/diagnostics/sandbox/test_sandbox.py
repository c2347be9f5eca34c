"""The sandbox: every escape a checked program may try is contained, and the worker serves on.

The first half runs real escape attempts (tests/diagnostics/sandbox_jobs.py) in a real warm pool;
the second tests each kernel layer (Landlock, seccomp) on its own (test_audit.py: the audit hook).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.sandbox import landlock, seccomp
from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits

REPO = Path(__file__).resolve().parents[3]
JOBS = "tests.diagnostics.sandbox_jobs:"
LIMITS = SandboxLimits(address_space_bytes=3 << 29)  # 1.5 GiB: a bounded bomb
needs_landlock = pytest.mark.skipif(
    not landlock.probe().startswith("enforced"), reason=f"Landlock: {landlock.probe()}"
)


@pytest.fixture(scope="module")
def granted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every child may read, as a workspace is for its local imports."""
    folder = tmp_path_factory.mktemp("workspace")
    (folder / "helper.py").write_text("VALUE = 42\n")
    return folder


@pytest.fixture(scope="module")
def pool(granted: Path) -> Iterator[WorkerPool]:
    os.environ["OPENAI_API_KEY"] = "sk-must-not-leak"
    try:
        p = WorkerPool(env={"PYTHONPATH": str(REPO)}, limits=LIMITS, read_paths=[granted])
    finally:
        del os.environ["OPENAI_API_KEY"]
    yield p
    p.close()


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside every job's temp dir, where nothing may appear."""
    return tmp_path_factory.mktemp("outside")


def run(pool: WorkerPool, job: str, payload: dict[str, Any] | None = None, timeout_s: float = 10):
    return pool.run(JOBS + job, payload or {}, timeout_s=timeout_s)


def assert_serves(pool: WorkerPool) -> None:
    pid = pool.zygote_pids[0]
    result = run(pool, "meta_conv", {"batch": 4})
    assert result["status"] == "ok" and result["shape"] == [4, 16, 30, 30]
    assert pool.zygote_pids == [pid], "the zygote had to be restarted"


def test_normal_job_runs_confined(pool: WorkerPool) -> None:
    result = run(pool, "echo", {"x": [1, "two"]})
    assert result["status"] == "ok"
    assert result["echo"] == {"x": [1, "two"]}
    cwd = result["cwd"]
    assert result["env"]["HOME"] == cwd == result["env"]["TMPDIR"]
    assert "OPENAI_API_KEY" not in result["env"]
    assert result["env"]["KERAS_BACKEND"] == "torch"
    deadline = time.monotonic() + 2  # removed right after the reply, off the caller's clock
    while os.path.exists(cwd):
        assert time.monotonic() < deadline, "the job's temp dir outlived the job"
        time.sleep(0.01)
    assert result["sandbox"]["seccomp"] == seccomp.probe()
    assert result["sandbox"]["landlock"] == landlock.probe()
    assert result["pid"] not in pool.zygote_pids


@needs_landlock
def test_reads_only_where_python_lives_and_the_granted_folders(
    pool: WorkerPool, granted: Path, outside: Path
) -> None:
    result = run(pool, "read_file", {"path": str(granted / "helper.py")})
    assert result == {**result, "status": "ok", "text": "VALUE = 42\n"}
    (outside / "secret.txt").write_text("s")
    result = run(pool, "read_file", {"path": str(outside / "secret.txt")})
    assert result["status"] == "error" and result["exception"] == "PermissionError"
    result = run(pool, "import_from", {"folder": str(granted), "module": "helper"})
    assert result == {**result, "status": "ok", "value": 42}


def test_os_system_is_refused(pool: WorkerPool, outside: Path) -> None:
    marker = outside / "marker"
    result = run(pool, "shell", {"marker": str(marker)})
    assert result["status"] == "sandbox_violation"
    assert result["event"] == "os.system"
    assert result["traceback"][-1]["function"] == "shell"  # the offending line, not the hook's
    assert not marker.exists()
    assert_serves(pool)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="fork_exec's signature changed in 3.13")
def test_posixsubprocess_fork_exec_starts_nothing(pool: WorkerPool, outside: Path) -> None:
    marker = outside / "marker"
    result = run(pool, "fork_exec", {"marker": str(marker)})
    assert result["status"] == "error", result  # no audit event: the kernel layers refuse it
    assert result["exception"] in ("BlockingIOError", "PermissionError", "OSError")
    time.sleep(0.2)
    assert not marker.exists()
    assert_serves(pool)


def test_socket_connect_reaches_no_listener(pool: WorkerPool) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.3)
        result = run(pool, "connect", {"port": listener.getsockname()[1]})
        assert result["status"] == "sandbox_violation"
        assert result["event"].startswith("socket.")
        with pytest.raises(TimeoutError):
            listener.accept()
    assert_serves(pool)


@pytest.mark.parametrize("job", ["write_open", "write_torch", "write_numpy"])
def test_writing_outside_the_temp_dir_leaves_no_file(
    pool: WorkerPool, outside: Path, job: str
) -> None:
    target = outside / f"{job}.out"
    result = run(pool, job, {"path": str(target)})
    assert result["status"] in ("sandbox_violation", "error"), result
    if job == "write_torch":  # torch writes from C++: only Landlock stops it
        assert "Permission denied" in result["detail"] or "cannot be opened" in result["detail"]
    else:
        assert result["status"] == "sandbox_violation" and result["event"] == "open"
    assert list(outside.iterdir()) == []
    assert_serves(pool)


def test_writing_inside_the_temp_dir_works(pool: WorkerPool) -> None:
    result = run(pool, "write_inside")
    assert result["status"] == "ok", result
    assert {"t.pt", "a.npy", "plain.txt"} <= set(result["files"])


def test_filling_the_disk_file_by_file_is_stopped(pool: WorkerPool) -> None:
    t0 = time.monotonic()
    result = run(pool, "fill_disk", timeout_s=30)
    assert result["status"] == "sandbox_violation" and result["event"] == "disk", result
    assert time.monotonic() - t0 < 10
    assert_serves(pool)


def test_fork_bomb_is_refused(pool: WorkerPool) -> None:
    result = run(pool, "fork_bomb")
    assert result["status"] == "sandbox_violation" and result["event"] == "os.fork"
    assert_serves(pool)


def test_memory_bomb_hits_the_address_space_limit(pool: WorkerPool) -> None:
    result = run(pool, "memory_bomb", timeout_s=20)
    assert result["status"] == "error" and result["exception"] == "MemoryError", result
    assert "1.5 GiB" in result["detail"]
    assert_serves(pool)


def test_infinite_loop_times_out(pool: WorkerPool) -> None:
    t0 = time.monotonic()
    result = run(pool, "spin", timeout_s=1.0)
    assert result["status"] == "timeout"
    assert time.monotonic() - t0 < 3
    assert_serves(pool)


@pytest.mark.parametrize("how", ["os._exit", "sys.exit"])
def test_exit_is_a_crash_not_a_result(pool: WorkerPool, how: str) -> None:
    result = run(pool, "exit_now", {"how": how})
    assert result["status"] == "crashed"
    expected = "exited with status 3" if how == "os._exit" else "sys.exit(3)"
    assert expected in result["detail"]
    assert_serves(pool)


def test_100_mb_of_stdout_stays_in_the_child(
    pool: WorkerPool, capfd: pytest.CaptureFixture[str]
) -> None:
    t0 = time.monotonic()
    result = run(pool, "flood_stdout", {"megabytes": 100}, timeout_s=20)
    assert time.monotonic() - t0 < 10
    # The capped output file refuses the rest: the job fails, the parent sees a small result.
    assert result["status"] == "error" and "File too large" in result["detail"], result
    assert len(json.dumps(result)) < 10_000
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert_serves(pool)


def test_segfault_is_reported_as_a_crash(pool: WorkerPool) -> None:
    result = run(pool, "segfault")
    assert result == {**result, "status": "crashed", "detail": "killed by SIGSEGV"}
    assert_serves(pool)


def test_closing_every_fd_loses_no_result(pool: WorkerPool) -> None:
    result = run(pool, "close_fds")  # the result pipe is parked where close cannot reach it
    assert result["status"] == "ok"
    assert result["sandbox"]["result_channel"] == "enforced"
    assert_serves(pool)


def test_oversized_result_becomes_an_error(pool: WorkerPool) -> None:
    result = run(pool, "huge_result", {"bytes": LIMITS.result_bytes + 1})
    assert result["status"] == "error" and "larger than" in result["detail"]
    assert_serves(pool)


def test_child_cannot_kill_the_zygote(pool: WorkerPool) -> None:
    result = run(pool, "kill_parent")
    assert result["status"] == "sandbox_violation" and result["event"] == "os.kill"
    assert_serves(pool)


def test_a_bug_in_the_job_is_an_error_with_its_line(pool: WorkerPool) -> None:
    result = run(pool, "raises")
    assert result["status"] == "error" and result["exception"] == "ValueError"
    frame = result["traceback"][-1]
    assert frame["file"].endswith("sandbox_jobs.py") and frame["function"] == "raises"
    assert isinstance(frame["line"], int)


# ---------------------------------------------------------------- each layer on its own


def in_child(body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `body` in a forked child of the test process; its dict comes back as JSON."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            data = json.dumps(body())
        except BaseException as e:
            data = json.dumps({"crash": repr(e)})
        os.write(w, data.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def attempt(action: Callable[[], object]) -> str:
    try:
        action()
    except OSError as e:
        return errno.errorcode.get(e.errno or 0, "OSError")
    return "done"


def python_reads() -> list[str]:
    from deepeval_lsp.diagnostics.sandbox.confine import python_read_paths

    return python_read_paths()


@needs_landlock
def test_landlock_confines_files_exec_and_tcp(tmp_path: Path) -> None:
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    secret = outside / "secret"
    secret.write_text("s")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def body() -> dict[str, Any]:
            landlock.restrict(python_reads(), [str(inside)], [os.devnull])
            return {
                "write_inside": attempt(lambda: (inside / "f").write_text("x")),
                "write_outside": attempt(lambda: (outside / "f").write_text("x")),
                "read_outside": attempt(secret.read_text),
                "exec": attempt(lambda: os.execv("/bin/true", ["true"])),
                "tcp": attempt(lambda: socket.create_connection(("127.0.0.1", port), 1)),
                "signal_parent": attempt(lambda: os.kill(os.getppid(), 0)),
            }

        result = in_child(body)
    assert result == {
        "write_inside": "done",
        "write_outside": "EACCES",
        "read_outside": "EACCES",
        "exec": "EACCES",
        "tcp": "EACCES",
        "signal_parent": "EPERM",
    }
    assert list(outside.iterdir()) == [secret]


@pytest.mark.skipif(seccomp.probe() != "enforced", reason=f"seccomp: {seccomp.probe()}")
def test_seccomp_refuses_processes_and_sockets_but_not_threads() -> None:
    def body() -> dict[str, Any]:
        seccomp.install()
        ran: list[bool] = []
        t = threading.Thread(target=lambda: ran.append(True))
        t.start()
        t.join()
        return {
            "fork": attempt(os.fork),
            "exec": attempt(lambda: os.execv("/bin/true", ["true"])),
            "socket": attempt(socket.socket),
            "unix_socket": attempt(lambda: socket.socket(socket.AF_UNIX)),
            "thread": ran == [True],
        }

    assert in_child(body) == {
        "fork": "EAGAIN",
        "exec": "EACCES",
        "socket": "EACCES",
        "unix_socket": "EACCES",
        "thread": True,
    }


WITHOUT_LANDLOCK = textwrap.dedent(
    """
    import ctypes, errno, json, sys
    from deepeval_lsp.diagnostics.sandbox import seccomp
    from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool

    # A kernel without Landlock, as far as this process and its children can tell.
    prog = [(0x20, 0, 0, 0)]  # load the syscall number
    for nr in (444, 445, 446):
        prog += [(0x15, 0, 1, nr), (0x06, 0, 0, 0x00050000 | errno.ENOSYS)]
    prog += [(0x06, 0, 0, 0x7FFF0000)]
    filters = (seccomp._SockFilter * len(prog))(*(seccomp._SockFilter(*i) for i in prog))
    fprog = seccomp._SockFprog(len(prog), filters)
    libc = ctypes.CDLL(None)
    assert libc.prctl(38, 1, 0, 0, 0) == 0 and libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0
    pool = WorkerPool(env={"PYTHONPATH": sys.argv[1]})
    print(json.dumps(pool.run("tests.diagnostics.sandbox_jobs:echo", {}, timeout_s=30)))
    """
)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="syscall numbers")
def test_a_kernel_without_landlock_is_said_in_every_result() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_LANDLOCK, str(REPO)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["status"] == "ok"  # the other layers still confine the job
    landlock_state = result["sandbox"]["landlock"]
    assert landlock_state == "unavailable: the kernel has no Landlock support (ENOSYS)"
    assert result["sandbox"]["seccomp"] == "enforced"
