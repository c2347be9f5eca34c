"""Job functions for the worker-pool and sandbox tests; each one runs inside a sandboxed child.

The pool imports them as "tests.diagnostics.sandbox_jobs:NAME" (the tests give the zygote the
repository on PYTHONPATH). Most of them are escape attempts: each returns what it managed to do,
so a test can tell "refused" from "did nothing".
"""

from __future__ import annotations

import os
import sys
from typing import Any


def echo(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": "ok",
        "echo": payload,
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "env": dict(os.environ),
    }


def meta_conv(payload: dict[str, Any]) -> dict[str, Any]:
    import torch

    x = torch.empty(payload["batch"], 3, 32, 32, device="meta")
    y = torch.nn.Conv2d(3, 16, 3, device="meta")(x)
    return {"status": "ok", "shape": list(y.shape)}


def shell(payload: dict[str, Any]) -> dict[str, Any]:
    os.system(f"touch {payload['marker']}")
    return {"status": "ok"}


def fork_exec(payload: dict[str, Any]) -> dict[str, Any]:
    """Start /bin/sh through the private primitive that no audit event covers (3.11/3.12)."""
    import _posixsubprocess

    errpipe_read, errpipe_write = os.pipe()
    args = [b"/bin/sh", b"-c", b"touch " + payload["marker"].encode()]
    pid = _posixsubprocess.fork_exec(
        args, [b"/bin/sh"], True, (errpipe_write,), None, None,
        -1, -1, -1, -1, -1, -1, errpipe_read, errpipe_write,
        False, False, -1, None, None, None, -1, None, True,
    )  # fmt: skip
    os.close(errpipe_write)
    return {"status": "ok", "pid": pid, "exec_error": os.read(errpipe_read, 1000).decode()}


def connect(payload: dict[str, Any]) -> dict[str, Any]:
    import socket

    with socket.create_connection(("127.0.0.1", payload["port"]), timeout=2) as s:
        s.sendall(b"escaped")
    return {"status": "ok"}


def write_open(payload: dict[str, Any]) -> dict[str, Any]:
    with open(payload["path"], "w") as f:
        f.write("escaped")
    return {"status": "ok"}


def write_torch(payload: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.save(torch.zeros(3), payload["path"])
    return {"status": "ok"}


def write_numpy(payload: dict[str, Any]) -> dict[str, Any]:
    import numpy

    numpy.save(payload["path"], numpy.zeros(3))
    return {"status": "ok"}


def write_inside(payload: dict[str, Any]) -> dict[str, Any]:
    """Writing in the job's own temp dir is allowed, with every usual API."""
    import numpy
    import torch

    torch.save(torch.zeros(3), "t.pt")
    numpy.save("a.npy", numpy.zeros(3))
    with open("plain.txt", "w") as f:
        f.write("fine")
    return {"status": "ok", "files": sorted(os.listdir("."))}


def fill_disk(payload: dict[str, Any]) -> dict[str, Any]:
    """Many files, each under the per-file limit: only the total gives it away."""
    block = b"x" * (1 << 20)
    for i in range(10_000):
        with open(f"f{i}", "wb") as f:
            for _ in range(16):
                f.write(block)
    return {"status": "ok"}


def fork_bomb(payload: dict[str, Any]) -> dict[str, Any]:
    while True:
        os.fork()


def memory_bomb(payload: dict[str, Any]) -> dict[str, Any]:
    chunks = []
    while True:
        chunks.append(b"x" * (1 << 26))  # touched, not just reserved


def spin(payload: dict[str, Any]) -> dict[str, Any]:
    while True:
        pass


def exit_now(payload: dict[str, Any]) -> dict[str, Any]:
    if payload["how"] == "os._exit":
        os._exit(3)
    sys.exit(3)


def flood_stdout(payload: dict[str, Any]) -> dict[str, Any]:
    block = "x" * (1 << 20)
    written = 0
    for _ in range(payload["megabytes"]):
        sys.stdout.write(block)
        sys.stdout.flush()
        written += 1
    return {"status": "ok", "written_mb": written}


def segfault(payload: dict[str, Any]) -> dict[str, Any]:
    import ctypes

    ctypes.string_at(0)
    return {"status": "ok"}


def close_fds(payload: dict[str, Any]) -> dict[str, Any]:
    os.closerange(0, 4096)
    return {"status": "ok"}


def huge_result(payload: dict[str, Any]) -> dict[str, Any]:
    return {"status": "ok", "blob": "x" * payload["bytes"]}


def kill_parent(payload: dict[str, Any]) -> dict[str, Any]:
    import signal

    os.kill(os.getppid(), signal.SIGKILL)
    return {"status": "ok"}


def read_file(payload: dict[str, Any]) -> dict[str, Any]:
    with open(payload["path"]) as f:
        return {"status": "ok", "text": f.read()}


def import_from(payload: dict[str, Any]) -> dict[str, Any]:
    import importlib

    sys.path.insert(0, payload["folder"])
    return {"status": "ok", "value": importlib.import_module(payload["module"]).VALUE}


def raises(payload: dict[str, Any]) -> dict[str, Any]:
    raise ValueError("a bug in the checked program")


def returns(payload: dict[str, Any]) -> dict[str, Any]:
    """Whatever dict the test says: a forged or malformed result, as the child sends it."""
    return payload["result"]


def result_pipe() -> int | None:
    """The child's result pipe, as a program would find it: its one write-only FIFO."""
    import fcntl
    import stat

    for fd in range(3, 256):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if stat.S_ISFIFO(mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            return fd
    return None


def writes_report(payload: dict[str, Any]) -> dict[str, Any]:
    """Write the test's bytes on the result pipe itself, then exit before the real report."""
    fd = result_pipe()
    if fd is None:
        return {"status": "ok", "found_pipe": False}
    data = payload["text"].encode() * payload.get("times", 1)
    while data:
        data = data[os.write(fd, data) :]
    os._exit(0)


def replaces_output(payload: dict[str, Any]) -> dict[str, Any]:
    """Put something else in the place of the captured output, then fail (so the zygote reads
    the output's tail): a symlink to `target`, or a FIFO; nothing with "keep"."""
    print("the real output")
    sys.stdout.flush()
    if payload.get("keep"):
        raise ValueError("failed, output.log left as it was")
    os.rename("output.log", "old.log")
    if payload.get("target"):
        os.symlink(payload["target"], "output.log")
    else:
        os.mkfifo("output.log")
    raise ValueError("failed after replacing output.log")


def plants_in_folder(payload: dict[str, Any]) -> dict[str, Any]:
    """A FIFO, a symlink to the root folder and a symlink in place of a folder, while the
    zygote's disk walk runs."""
    import time

    os.mkfifo("fifo")
    os.symlink("/", "root")
    os.mkdir("d")
    os.rename("d", "d.old")
    os.symlink("/", "d")
    time.sleep(payload.get("seconds", 0.6))
    return {"status": "ok", "entries": sorted(os.listdir("."))}
