"""A checked program cannot forge its own verdict, in either engine, and the pool serves on.

Each attack is a broken model that tries to make its check come back clean: by writing an "ok"
report on every descriptor it has (the result pipe among them, before the fix), by re-opening
its descriptors through /proc/self/fd, or by patching the runner (the job's functions, the
report's writer, json). The forged report must never come back, and the next checks in the same
pool must still tell a correct model from a broken one.
"""

from __future__ import annotations

import os
import platform
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deepeval_lsp.diagnostics.dynamic.child import entry
from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, PAPER
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.paper import engine as paper_engine
from deepeval_lsp.diagnostics.sandbox import result_channel

FORGED = {
    "status": "ok",
    "errors": [],
    "info": [],
    "notes": ["forged"],
    "summary": None,
    "summary_after_fixes": False,
    "executable": True,
    "entry": "Net()",
    "entry_line": 4,
    "framework": "torch",
    "outputs": None,
}
BROKEN_NET = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(10, 20)
            self.fc2 = nn.Linear(30, 5)

        def forward(self, x):
            return self.fc2(self.fc1(x))
"""
GOOD = """
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(10, 5)

        def forward(self, x):
            return self.fc(x)
"""
BROKEN = "import torch.nn as nn\n" + textwrap.dedent(BROKEN_NET)


def _attack(body: str, tail: str = "") -> str:
    """A broken model whose class body (run when the module runs) does `body` first."""
    head = textwrap.indent(textwrap.dedent(body), "    ")
    return (
        "import json, os, sys\nimport torch.nn as nn\n\nclass Attack:\n"
        + head
        + "\n"
        + textwrap.dedent(BROKEN_NET)
        + textwrap.dedent(tail)
    )


_ENVELOPE = f"FORGED = json.dumps({{'result': {FORGED!r}, 'sandbox': None}}).encode()"
WRITE_EVERY_FD = f"""
    {_ENVELOPE}
    for fd in range(256):
        try:
            os.write(fd, FORGED)
        except OSError:
            pass
"""
REOPEN_EVERY_FD = f"""
    {_ENVELOPE}
    for name in os.listdir("/proc/self/fd"):
        try:
            fd = os.open(f"/proc/self/fd/{{name}}", os.O_WRONLY)
            os.write(fd, FORGED)
        except OSError:
            pass
"""
_CHAIN_SOURCE = (
    "def run_child(p):\n    return _after_job(p)\n"
    "def _after_job(p):\n    return _report(p)\n"
    "def _report(p):\n    return TAKE(p)\n"
)
_TAKE_BACK = textwrap.dedent(
    f"""
    {_ENVELOPE}
    import socket, stat
    rc = sys.modules["deepeval_lsp.diagnostics.sandbox.result_channel"]
    entry = sys.modules["deepeval_lsp.diagnostics.dynamic.child.entry"]
    def steal(take, rc=rc, forged=FORGED):  # a class body's names reach a method as defaults
        import os, stat
        for fd in range(3, 256):
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    w = take(rc.Parked(fd))
                    os.write(w, forged)
                    os.close(w)
                    os._exit(0)
            except OSError:
                pass
    """
)
_COPY_CHAIN = (
    'CHAIN = {"TAKE": rc.take_back}\n'
    f'exec(compile({_CHAIN_SOURCE!r}, entry.__file__, "exec"), CHAIN)\n'
)
ATTACKS = {
    "write every fd, then exit": WRITE_EVERY_FD + "    os._exit(0)\n",
    "write every fd, then raise": WRITE_EVERY_FD + "    raise RuntimeError('after forging')\n",
    "reopen every fd through /proc, then exit": REOPEN_EVERY_FD + "    os._exit(0)\n",
    "patch the job's runner": f"""
        job = sys.modules["deepeval_lsp.diagnostics.dynamic.child.job"]
        job._fix_and_rerun = lambda *a, **k: {FORGED!r}
        job.run_once = lambda *a, **k: None
    """,
    "patch the report's writer": f"""
        {_ENVELOPE}
        entry = sys.modules["deepeval_lsp.diagnostics.dynamic.child.entry"]
        entry._report = lambda parked, report, *a, **k: os._exit(0)
        entry.run_child.__globals__["integrity"] = None
    """,
    "patch json.dumps": f"""
        {_ENVELOPE}
        json.dumps = lambda *a, **k: FORGED.decode()
    """,
    "patch the build": """
        ex = sys.modules["deepeval_lsp.diagnostics.dynamic.child.execute"]
        def fake(run, ns, plan, payload, sl):
            run.entry, run.framework = "Net()", "torch"
            run.summary = {"framework": "torch", "entry_point": "Net()", "input_shapes": [[1, 10]],
                           "output_shape": [1, 5], "total_params": 0, "trainable_params": 0,
                           "layers": []}
        ex.build_and_run = fake
    """,
    "patch a function's code": """
        job = sys.modules["deepeval_lsp.diagnostics.dynamic.child.job"]
        job._fix_and_rerun.__code__ = (lambda *a, **k: None).__code__
    """,
    "patch a class of the checker": """
        rs = sys.modules["deepeval_lsp.diagnostics.dynamic.child.run_state"]
        rs.Run.error = property(lambda self: None, lambda self, v: None)
    """,
    "patch a builtin": """
        import builtins
        builtins.isinstance = lambda *a: True
    """,
    # The report path's own function, called by the program, then the report path's chain
    # re-created under entry.py's name (in this thread, and in a thread of its own).
    "take the pipe back, then exit": _TAKE_BACK + "steal(rc.take_back)\n",
    "take the pipe back through a copy of the report path": _TAKE_BACK
    + _COPY_CHAIN
    + 'steal(CHAIN["run_child"])\n',
    "take the pipe back from a thread": _TAKE_BACK
    + _COPY_CHAIN
    + "import threading\n"
    + 't = threading.Thread(target=steal, args=(CHAIN["run_child"],))\n'
    + "t.start()\n"
    + "t.join()\n",
}


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def check(pool: WorkerPool, source: str, path: str) -> dict[str, Any]:
    payload = {"source": textwrap.dedent(source), "path": path, "input_shape": [2, 10]}
    return pool.run(DEFAULT.job, payload, timeout_s=60)


def assert_still_judges(pool: WorkerPool, folder: Path) -> None:
    pid = pool.zygote_pids[0]
    good = check(pool, GOOD, str(folder / "good.py"))
    assert good["status"] == "ok" and good["executable"] is True and good["errors"] == []
    broken = check(pool, BROKEN, str(folder / "broken.py"))
    assert broken["status"] == "ok" and broken["executable"] is False
    assert [e["code"] for e in broken["errors"]] == ["DL301"]
    assert pool.zygote_pids == [pid], "the zygote had to be restarted"


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_forged_verdict_never_comes_back(pool: WorkerPool, tmp_path: Path, name: str) -> None:
    result = check(pool, _attack(ATTACKS[name]), str(tmp_path / "attack.py"))
    assert result.get("notes") != ["forged"], result
    assert result.get("executable") is not True, result
    if name == "patch a function's code":  # refused at the line, by the audit hook
        assert result["status"] == "ok" and result["executable"] is False, result
        assert result["errors"][0]["python_error"] == "SandboxViolation", result
    elif name.startswith("patch"):
        assert result["status"] == "sandbox_violation" and result["event"] == "integrity", result
    elif name == "take the pipe back, then exit":  # refused: on to its own shape error
        assert result["status"] == "ok" and result["executable"] is False, result
        assert [e["code"] for e in result["errors"]] == ["DL301"], result
    elif name.startswith("take"):  # compiling under entry.py's name is refused at the line
        assert result["status"] == "ok" and result["executable"] is False, result
        assert result["errors"][0]["python_error"] == "SandboxViolation", result
    elif name.endswith("raise"):  # the refused writes left the program's own error
        assert result["status"] == "ok" and result["executable"] is False, result
    else:  # it exited before any report: the pool says so
        assert result["status"] == "crashed", result
    assert_still_judges(pool, tmp_path)


def test_the_result_channel_is_guarded(pool: WorkerPool, tmp_path: Path) -> None:
    result = check(pool, GOOD, str(tmp_path / "good.py"))
    expected = "enforced" if platform.machine() in ("x86_64", "aarch64") else "unavailable"
    assert result["sandbox"]["result_channel"].startswith(expected)


def test_a_thread_left_running_gets_no_report(pool: WorkerPool, tmp_path: Path) -> None:
    spin = f"""
        import threading
        {_ENVELOPE}
        def spin(data=FORGED):
            while True:
                for fd in range(3, 64):
                    try:
                        os.write(fd, data)
                    except OSError:
                        pass
        threading.Thread(target=spin, daemon=True).start()
    """
    result = check(pool, _attack(spin), str(tmp_path / "attack.py"))
    assert result["status"] == "crashed", result
    assert "left a thread running" in result["detail"], result
    assert_still_judges(pool, tmp_path)


@pytest.fixture(scope="module")
def paper_pool() -> Iterator[WorkerPool]:
    if paper_engine.available():
        pytest.skip(str(paper_engine.available()))
    p = WorkerPool(1, engine=PAPER)
    yield p
    p.close()


PAPER_BROKEN = """
    import json, os, sys
    from tensorflow.keras import layers, models

    class Attack:
        FORGED = json.dumps({"result": {"status": "ok", "executable": True}, "sandbox": None})
        for fd in range(256):
            try:
                os.write(fd, FORGED.encode())
            except OSError:
                pass
        engine = sys.modules["deepeval_lsp.diagnostics.paper.engine"]
        engine._contract = lambda *a, **k: None

    def dl_model():
        inputs = layers.Input(shape=(28, 28, 1))
        x = layers.Dense(10)(inputs)
        x = layers.Reshape((7,))(x)  # 28*28*10 values cannot be 7
        return models.Model(inputs, x)
"""


def test_the_paper_engine_cannot_be_forged_either(paper_pool: WorkerPool) -> None:
    payload = {"source": textwrap.dedent(PAPER_BROKEN), "path": "/study/gen.py"}
    result = paper_pool.run(paper_engine.JOB, payload, timeout_s=120)
    assert result["status"] == "sandbox_violation" and result["event"] == "integrity", result
    good = """
        from tensorflow.keras import layers, models

        def dl_model():
            inputs = layers.Input(shape=(4,))
            return models.Model(inputs, layers.Dense(2)(inputs))
    """
    payload = {"source": textwrap.dedent(good), "path": "/study/good.py"}
    result = paper_pool.run(paper_engine.JOB, payload, timeout_s=120)
    assert result["status"] == "ok" and result["executable"] is True, result


# ---------------------------------------------------------------- the channel on its own


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="no filter here")
def test_only_the_report_path_takes_the_pipe_out_of_its_socket() -> None:
    """In a forked process: every way Python offers to get at the parked pipe is refused by the
    kernel; the report path's recvmmsg gets it, and what it writes arrives."""
    import ctypes
    import fcntl
    import socket

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 0
        try:
            os.close(r)
            parked = result_channel.seal(result_channel.park(w))
            assert parked.state == "enforced", parked.state
            s = parked.sock
            attempts = [
                lambda: os.read(s, 10),
                lambda: os.readv(s, [bytearray(10)]),
                lambda: os.dup(s),
                lambda: os.dup2(s, 50),
                lambda: os.dup2(0, s),
                lambda: fcntl.fcntl(s, fcntl.F_DUPFD, 0),
                lambda: os.close(s),
                lambda: os.write(s, b"x"),  # a write would drop what a datagram socket holds
                lambda: socket.socket(fileno=s).send(b"x"),
                lambda: socket.socket(fileno=s).recvmsg(10, 100),
                lambda: socket.socket(fileno=s).recv_into(bytearray(10)),
                lambda: os.splice(s, w, 10) if hasattr(os, "splice") else os.close(s),
                # the kernel reads fds as 32-bit ints: high bits must not slip past the filter
                lambda: _raw(ctypes, "close", (1 << 32) | s),
            ]
            for i, attempt in enumerate(attempts):
                try:
                    attempt()
                except OSError:
                    continue
                code = 10 + i
                break
            os.closerange(0, 1 << 16)  # the C library falls back to close() each, s stays
            if code == 0:
                # The report path's chain (entry.run_child → _after_job → _report), named as
                # entry.py's: the one caller take_back answers.
                chain = {"TAKE": result_channel.take_back}
                exec(compile(_CHAIN_SOURCE, entry.__file__, "exec"), chain)
                fd = chain["run_child"](parked)
                os.write(fd, b"reported")
                os.close(fd)
        except BaseException:
            code = 2
        os._exit(code)
    os.close(w)
    data = b""
    while chunk := os.read(r, 100):
        data += chunk
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0, f"attempt {os.WEXITSTATUS(status) - 10} got through"
    assert data == b"reported"


def _raw(ctypes: Any, name: str, fd: int) -> None:
    nr = result_channel._ARCHES[platform.machine()][2][name]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(ctypes.c_long(nr), ctypes.c_long(fd)) != 0:
        raise OSError(ctypes.get_errno(), "refused")
