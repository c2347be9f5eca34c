"""Escapes past the audit hook that the kernel layers must stop, in a real warm pool.

Each attack (tests/diagnostics/sandbox/escape_jobs.py) calls the C library or the kernel directly,
as native code of a library would: io_uring sockets (UDP out, a pathname UNIX socket), memory in
a memfd, disk in deleted files, the system's secrets, and the child's identity (nobody, in a
network namespace of its own). Its side effect must not happen, the result must say why, and the
pool serves the next check. The last test runs each syscall of the seccomp filter's list.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.sandbox import landlock, seccomp
from deepeval_lsp.diagnostics.sandbox.confine import NOBODY
from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits

from tests.diagnostics.sandbox import escape_jobs
from tests.diagnostics.sandbox.test_sandbox import in_child

REPO = Path(__file__).resolve().parents[3]
JOBS = "tests.diagnostics.sandbox.escape_jobs:"
_MiB = 1 << 20
LIMITS = SandboxLimits(address_space_bytes=3 << 29, file_size_bytes=16 * _MiB, disk_bytes=64 * _MiB)
ROOT = os.geteuid() == 0
needs_landlock = pytest.mark.skipif(
    not landlock.probe().startswith("enforced"), reason=f"Landlock: {landlock.probe()}"
)
needs_seccomp = pytest.mark.skipif(seccomp.probe() != "enforced", reason=seccomp.probe())


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(env={"PYTHONPATH": str(REPO)}, limits=LIMITS)
    yield p
    p.close()


def run(pool: WorkerPool, job: str, payload: dict[str, Any], timeout_s: float = 20) -> dict:
    return pool.run(JOBS + job, payload, timeout_s=timeout_s)


def assert_serves(pool: WorkerPool) -> None:
    pid = pool.zygote_pids[0]
    result = pool.run("tests.diagnostics.sandbox_jobs:meta_conv", {"batch": 2}, timeout_s=20)
    assert result["status"] == "ok" and result["shape"] == [2, 16, 30, 30], result
    assert pool.zygote_pids == [pid], "the zygote had to be restarted"


def io_uring_sockets_work_here() -> str | None:
    """Why the io_uring attacks cannot be shown on this kernel unconfined, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(2)
        try:
            escape_jobs.io_uring_udp({"port": listener.getsockname()[1], "data": "probe"})
            listener.recv(100)
        except OSError as e:
            return f"io_uring cannot send a datagram here, unconfined either: {e}"
    return None


@needs_seccomp
def test_io_uring_udp_sends_nothing(pool: WorkerPool) -> None:
    why = io_uring_sockets_work_here()  # the attack itself works, outside the sandbox
    if why:
        pytest.skip(why)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(0.5)
        payload = {"port": listener.getsockname()[1], "data": "root:$6$secret"}
        result = run(pool, "io_uring_udp", payload)
        assert result["status"] == "error" and result["exception"] == "OSError", result
        assert "io_uring_setup" in result["detail"] and "not implemented" in result["detail"]
        with pytest.raises(TimeoutError):
            listener.recv(100)
    assert_serves(pool)


@needs_seccomp
def test_io_uring_reaches_no_unix_socket(pool: WorkerPool) -> None:
    if why := io_uring_sockets_work_here():
        pytest.skip(why)
    folder = tempfile.mkdtemp(prefix="escape-")
    try:
        os.chmod(folder, 0o777)  # what stops the child must be the sandbox, not permissions
        path = os.path.join(folder, "daemon.sock")
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(path)
            os.chmod(path, 0o777)
            listener.listen()
            listener.settimeout(0.5)
            result = run(pool, "io_uring_unix", {"path": path})
            assert result["status"] == "error" and "io_uring_setup" in result["detail"], result
            with pytest.raises(TimeoutError):
                listener.accept()
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)
    assert_serves(pool)


@needs_seccomp
def test_memfd_is_refused(pool: WorkerPool) -> None:
    each = LIMITS.file_size_bytes // _MiB - 1
    files = (LIMITS.address_space_bytes + 64 * _MiB) // (each * _MiB)  # past the limit
    result = run(pool, "memfd_fill", {"files": files, "megabytes_each": each})
    assert result["status"] == "error" and result["exception"] == "OSError", result
    assert "Function not implemented" in result["detail"]
    assert_serves(pool)


@pytest.mark.parametrize("tmpfile", [False, True], ids=["unlinked", "O_TMPFILE"])
def test_deleted_files_count_against_the_disk_cap(pool: WorkerPool, tmpfile: bool) -> None:
    # Each file stays under the file-size limit; together they pass the disk cap by half.
    each = LIMITS.file_size_bytes // _MiB - 1
    files = LIMITS.disk_bytes * 3 // 2 // (each * _MiB) + 1
    payload = {"files": files, "megabytes_each": each, "tmpfile": tmpfile, "hold_s": 3.0}
    result = run(pool, "unlinked_fill", payload)
    assert result["status"] == "sandbox_violation" and result["event"] == "disk", result
    assert_serves(pool)


@needs_landlock
@pytest.mark.parametrize(
    "path",
    ["/etc/shadow", "/proc/1/cmdline", "/proc/1/environ", "/dev/console", "/sys/kernel/notes"],
)
def test_system_secrets_are_unreadable(pool: WorkerPool, path: str) -> None:
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    result = run(pool, "read_raw", {"path": path})
    assert result["status"] == "error" and result["exception"] == "PermissionError", result
    assert "text" not in result
    own = run(pool, "read_raw", {"path": "/proc/self/cmdline"})  # its own folder stays readable
    assert own["status"] == "ok" and "python" in own["text"], own
    assert_serves(pool)


def test_child_is_nobody_in_a_network_namespace_of_its_own(pool: WorkerPool) -> None:
    result = run(pool, "identity", {})
    assert result["status"] == "ok", result
    sandbox = result["sandbox"]
    if ROOT:
        assert (result["uid"], result["gid"], result["groups"]) == (NOBODY, NOBODY, [])
        assert result["cwd_owner"] == NOBODY
        # Only CAP_DAC_READ_SEARCH (bit 2) is left, and only while Landlock confines reads.
        kept = 1 << 2 if landlock.probe().startswith("enforced") else 0
        assert int(result["cap_eff"], 16) == kept
        assert sandbox["uid"].startswith(f"uid {NOBODY}")
    else:
        assert result["uid"] == os.getuid()
    if sandbox["netns"] == "enforced":
        assert result["interfaces"] == ["lo"]
    else:
        assert not ROOT, "root can always make a network namespace"
        assert sandbox["netns"].startswith("unavailable: ")
    assert sandbox["memory"].startswith("address space (RLIMIT_AS); cgroup: ")
    assert_serves(pool)


# ---------------------------------------------------------------- the seccomp list itself


def _raw(nrs: dict[str, int], name: str, *args: int) -> str:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    res = libc.syscall(ctypes.c_long(nrs[name]), *(ctypes.c_long(a) for a in args))
    if res < 0:
        return errno.errorcode.get(ctypes.get_errno(), "?")
    return "done"


@needs_seccomp
def test_seccomp_refuses_the_escape_family_and_allows_signals_to_itself() -> None:
    nrs = seccomp._ARCHES[platform.machine()][1]
    other = os.getpid()  # the test process: outside the child that installs the filter

    def body() -> dict[str, Any]:
        seccomp.install()
        me = os.getpid()
        signal.signal(signal.SIGUSR1, lambda *_: None)
        got = {name: _raw(nrs, name, *args) for name, args in ATTEMPTS.items()}
        got["socketpair"] = _raw(nrs, "socketpair", socket.AF_UNIX, socket.SOCK_STREAM, 0, 0)
        got["kill_other"] = _raw(nrs, "kill", other, 0)
        got["kill_self"] = _raw(nrs, "kill", me, signal.SIGUSR1)
        got["kill_group"] = _raw(nrs, "kill", 0, 0)
        got["tgkill_other"] = _raw(nrs, "tgkill", other, other, 0)
        got["pthread_kill_self"] = _raw(nrs, "tgkill", me, threading.get_native_id(), 0)
        got["personality_query"] = _raw(nrs, "personality", 0xFFFFFFFF)
        got["clone_newnet_thread"] = _raw(nrs, "clone", 0x40000000 | 0x00010000 | 0x900, 0)
        ran: list[bool] = []
        t = threading.Thread(target=lambda: ran.append(True))
        t.start()
        t.join()
        got["thread"] = "done" if ran else "refused"
        return got

    got = in_child(body)
    expected = {name: err for name, (err, _) in EXPECTED.items()}
    expected.update(
        socketpair="EACCES",
        kill_other="EPERM",
        kill_self="done",
        kill_group="done",
        tgkill_other="EPERM",
        pthread_kill_self="done",
        personality_query="done",
        clone_newnet_thread="EPERM",
        thread="done",
    )
    assert got == expected


# name: (errno, arguments); each would succeed, or fail otherwise, without the filter.
EXPECTED: dict[str, tuple[str, tuple[int, ...]]] = {
    "io_uring_setup": ("ENOSYS", (4, 0)),
    "io_uring_enter": ("ENOSYS", (-1, 0, 0, 0, 0, 0)),
    "io_uring_register": ("ENOSYS", (-1, 0, 0, 0)),
    "memfd_create": ("ENOSYS", (0, 0)),
    "memfd_secret": ("ENOSYS", (0,)),
    "userfaultfd": ("ENOSYS", (0,)),
    "bpf": ("ENOSYS", (0, 0, 0)),
    "perf_event_open": ("ENOSYS", (0, 0, -1, -1, 0)),
    "connect": ("EACCES", (0, 0, 0)),
    "sendto": ("EACCES", (1, 0, 0, 0, 0, 0)),
    "sendmsg": ("EACCES", (1, 0, 0)),
    "sendmmsg": ("EACCES", (1, 0, 0, 0)),
    "bind": ("EACCES", (0, 0, 0)),
    "listen": ("EACCES", (0, 0)),
    "accept4": ("EACCES", (0, 0, 0, 0)),
    "keyctl": ("EPERM", (0, 0)),
    "add_key": ("EPERM", (0, 0, 0, 0, 0)),
    "mount": ("EPERM", (0, 0, 0, 0, 0)),
    "umount2": ("EPERM", (0, 0)),
    "pivot_root": ("EPERM", (0, 0)),
    "chroot": ("EPERM", (0,)),
    "fsopen": ("EPERM", (0, 0)),
    "open_tree": ("EPERM", (-100, 0, 0)),
    "unshare": ("EPERM", (0x40000000,)),
    "setns": ("EPERM", (-1, 0)),
    "kexec_load": ("EPERM", (0, 0, 0, 0)),
    "init_module": ("EPERM", (0, 0, 0)),
    "finit_module": ("EPERM", (-1, 0, 0)),
    "pidfd_getfd": ("EPERM", (-1, 0, 0)),
    "pidfd_send_signal": ("EPERM", (-1, 0, 0, 0)),
    "open_by_handle_at": ("EPERM", (-100, 0, 0)),
    "name_to_handle_at": ("EPERM", (-100, 0, 0, 0, 0)),
    "personality": ("EPERM", (0x0040000,)),  # ADDR_NO_RANDOMIZE
    "tkill": ("EPERM", (1, 0)),
}
ATTEMPTS = {name: args for name, (_, args) in EXPECTED.items()}


# ---------------------------------------------------------------- the paper engine's children


def test_a_paper_child_cannot_reserve_10_gib() -> None:
    """TensorFlow needs more than the default 4 GiB (diagnostics/paper/engine.py measures it),
    not 16: a child's reservation of 10 GiB, far past the largest need measured, fails."""
    from deepeval_lsp.diagnostics.dynamic.engines import PAPER
    from deepeval_lsp.diagnostics.paper import engine as paper_engine

    if paper_engine.available():
        pytest.skip(str(paper_engine.available()))
    source = "import numpy as np\nhoard = np.empty(10 << 30, dtype=np.uint8)\n"
    p = WorkerPool(1, engine=PAPER)
    try:
        r = p.run(paper_engine.JOB, {"source": source, "path": "/study/gen.py"}, timeout_s=60)
        assert (r["status"], r["executable"]) == ("ok", False), r
        assert r["python_error"] == "MemoryError", r
        good = "from tensorflow.keras import layers, models\n\ndef dl_model():\n"
        good += "    i = layers.Input(shape=(4,))\n    return models.Model(i, layers.Dense(2)(i))\n"
        r = p.run(paper_engine.JOB, {"source": good, "path": "/study/gen.py"}, timeout_s=60)
        assert (r["status"], r["executable"]) == ("ok", True), r
    finally:
        p.close()
