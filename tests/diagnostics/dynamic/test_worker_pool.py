"""The warm worker pool: results, concurrency, restart, cancellation, shutdown and no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics.dynamic.worker_pool import CancelToken, WorkerPool

REPO = Path(__file__).resolve().parents[3]
JOBS = "tests.diagnostics.sandbox_jobs:"
ENV = {"PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(env=ENV)
    yield p
    p.close()


def running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a container's init may never reap)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _stat(pid: int | str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid: int) -> list[int]:
    """Live children: the job running now, and the zygote's spare child for the next job."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(entry)
        if fields and fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def spinning(pid: int) -> list[int]:
    """Children of `pid` that have burnt more than 0.2 s of CPU: a job running, not a spare."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = []
    for child in children(pid):
        fields = _stat(child)
        if fields and int(fields[11]) + int(fields[12]) > 0.2 * ticks:
            found.append(child)
    return found


def wait_until(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for: {what}")
        time.sleep(0.02)


def test_engine_and_size_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepeval_lsp.diagnostics.dynamic.engines import PAPER, EngineUnavailable
    from deepeval_lsp.diagnostics.paper import engine as paper_engine

    # without the `paper` extra, the engine's own one-line reason (its pool is tested in
    # test_paper_engine.py)
    monkeypatch.setattr(paper_engine, "available", lambda: "needs tensorflow: pip install x")
    with pytest.raises(EngineUnavailable, match="needs tensorflow"):
        WorkerPool(engine=PAPER)
    with pytest.raises(ValueError, match="at least one worker"):
        WorkerPool(0)


def test_results_come_back(pool: WorkerPool) -> None:
    result = pool.run(JOBS + "meta_conv", {"batch": 3}, timeout_s=10)
    assert result["status"] == "ok" and result["shape"] == [3, 16, 30, 30]
    assert result["sandbox"]["ms"] > 0


def test_bad_calls(pool: WorkerPool) -> None:
    with pytest.raises(ValueError, match="module:function"):
        pool.run("no_colon", {}, timeout_s=1)
    with pytest.raises(ValueError, match="positive"):
        pool.run(JOBS + "echo", {}, timeout_s=0)
    result = pool.run("tests.diagnostics.no_such_module:f", {}, timeout_s=5)
    assert result["status"] == "error" and "cannot load job" in result["detail"]
    assert pool.run(JOBS + "echo", {}, timeout_s=5)["status"] == "ok"


def test_concurrent_callers_share_one_zygote(pool: WorkerPool) -> None:
    results: dict[int, dict] = {}

    def call(i: int) -> None:
        results[i] = pool.run(JOBS + "echo", {"i": i}, timeout_s=10)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert {i: r["echo"]["i"] for i, r in results.items()} == {i: i for i in range(6)}
    assert len({r["pid"] for r in results.values()}) == 6  # a fresh child each


async def test_cancelling_run_async_kills_the_child(pool: WorkerPool) -> None:
    assert (await pool.run_async(JOBS + "echo", {}, timeout_s=10))["status"] == "ok"  # warm
    zygote = pool.zygote_pids[0]
    task = asyncio.create_task(pool.run_async(JOBS + "spin", {}, timeout_s=60))
    await asyncio.to_thread(wait_until, lambda: spinning(zygote), 10, "the job's child to spin")
    (child,) = spinning(zygote)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(wait_until, lambda: not running(child), 2, "the child to die")
    t0 = time.monotonic()
    result = await pool.run_async(JOBS + "echo", {"after": "cancel"}, timeout_s=10)
    assert result["status"] == "ok" and time.monotonic() - t0 < 5
    assert pool.zygote_pids == [zygote]


def test_a_cancel_token_kills_the_child_from_another_thread(pool: WorkerPool) -> None:
    assert pool.run(JOBS + "echo", {}, timeout_s=10)["status"] == "ok"  # warm
    zygote = pool.zygote_pids[0]
    token = CancelToken()
    results: list[dict] = []
    caller = threading.Thread(
        target=lambda: results.append(pool.run(JOBS + "spin", {}, timeout_s=60, cancel=token))
    )
    caller.start()
    wait_until(lambda: spinning(zygote), 10, "the job's child to spin")
    (child,) = spinning(zygote)
    token.cancel()
    caller.join(5)
    assert not caller.is_alive() and [r["status"] for r in results] == ["cancelled"]
    wait_until(lambda: not running(child), 2, "the child to die")
    assert pool.run(JOBS + "echo", {}, timeout_s=10)["status"] == "ok"
    token.cancel()  # cancelling a finished call does nothing


async def test_run_async_returns_results(pool: WorkerPool) -> None:
    results = await asyncio.gather(
        *(pool.run_async(JOBS + "echo", {"n": n}, timeout_s=10) for n in range(3))
    )
    assert [r["echo"]["n"] for r in results] == [0, 1, 2]


def test_a_killed_zygote_is_restarted_on_the_next_call(pool: WorkerPool) -> None:
    (old,) = pool.zygote_pids
    root = os.path.dirname(pool.run(JOBS + "echo", {}, timeout_s=10)["cwd"])
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: not running(old), 5, "the zygote to die")
    result = pool.run(JOBS + "meta_conv", {"batch": 1}, timeout_s=10)
    assert result["status"] == "ok", result
    (new,) = pool.zygote_pids
    assert new != old and running(new)
    assert not os.path.exists(root), "the killed zygote's temp folder was left behind"


def test_close_stops_the_zygote_even_while_it_warms() -> None:
    p = WorkerPool(env=ENV)
    (pid,) = p.zygote_pids
    p.close()
    assert not running(pid)
    with pytest.raises(RuntimeError, match="closed"):
        p.run(JOBS + "echo", {}, timeout_s=1)
    p.close()  # idempotent


PARENT = textwrap.dedent(
    """
    import os, sys, threading, time
    from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
    pool = WorkerPool(1)
    print(pool.run("tests.diagnostics.sandbox_jobs:echo", {}, timeout_s=30)["pid"], flush=True)
    zygote = pool.zygote_pids[0]
    pid = os.fork()  # a forked copy of the parent may not use, nor close at exit, its pool
    if pid == 0:
        try:
            pool.run("tests.diagnostics.sandbox_jobs:echo", {}, timeout_s=30)
        except RuntimeError as e:
            sys.exit(0 if "forked process" in str(e) else 2)
        sys.exit(1)
    assert os.waitpid(pid, 0)[1] == 0
    print(pool.run("tests.diagnostics.sandbox_jobs:echo", {}, timeout_s=30)["status"], flush=True)
    assert pool.zygote_pids == [zygote]
    threading.Thread(
        target=pool.run, args=("tests.diagnostics.sandbox_jobs:spin", {}),
        kwargs={"timeout_s": 120}, daemon=True,
    ).start()
    print(pool.zygote_pids[0], flush=True)
    time.sleep(300)
    """
)


def test_no_orphans_after_the_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **ENV},
    )
    try:
        assert parent.stdout is not None
        int(parent.stdout.readline())  # a first job ran
        assert parent.stdout.readline().strip() == "ok"  # and a job after a forked copy exited
        zygote = int(parent.stdout.readline())
        wait_until(lambda: spinning(zygote), 10, "the spinning child")
        kids = children(zygote)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_until(
            lambda: not any(map(running, [zygote, *kids])), 5, "the zygote and its child gone"
        )
    finally:
        parent.kill()
        parent.wait()
    leftovers = [
        pid
        for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
        if running(pid) and str(parent.pid).encode() in _cmdline(pid).split(b"\0")
    ]
    assert leftovers == []


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            data = f.read()
    except OSError:
        return b""
    return data if b"deepeval_lsp.diagnostics.dynamic.zygote" in data else b""
