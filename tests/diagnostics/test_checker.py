"""The checking session: pools started lazily, Keras routed to the paper engine under
paper_compat, stale checks cancelled, every zygote gone after close."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from deepeval_lsp.diagnostics import Cancellation, Checker, CheckOptions
from deepeval_lsp.diagnostics.dynamic import worker_pool
from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, PAPER, Engine

TORCH = "import torch.nn as nn\n\nmodel = nn.Sequential(nn.Linear(4, 2))\n"
KERAS = (
    "from tensorflow import keras\n\n\n"
    "def dl_model():\n"
    "    return keras.Sequential([keras.layers.Dense(2, input_shape=(4,))])\n"
)
SPINS = (
    "import torch.nn as nn\n\n\n"
    "class Net(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        while True:\n"
    "            pass\n\n\n"
    "model = Net()\n"
)


class FakePool:
    """Stands in for WorkerPool: records what it was started with and the jobs it ran."""

    started: ClassVar[list[FakePool]] = []

    def __init__(self, size: int = 1, *, engine: Engine = DEFAULT, read_paths: Any = ()) -> None:
        self.size, self.engine, self.read_paths = size, engine, list(read_paths)
        self.jobs: list[str] = []
        self.closed = False
        FakePool.started.append(self)

    def run(self, func: str, payload: dict[str, Any], *, timeout_s: float, cancel: Any = None):
        self.jobs.append(func)
        return {
            "status": "ok",
            "errors": [],
            "info": [],
            "notes": [],
            "summary": None,
            "summary_after_fixes": False,
            "executable": True,
            "entry": "model",
            "entry_line": 1,
            "framework": "torch",
            "outputs": None,
        }

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakePool]]:
    FakePool.started = []
    monkeypatch.setattr(worker_pool, "WorkerPool", FakePool)
    yield FakePool.started


def test_no_pool_starts_until_a_dynamic_check_needs_one(fake_pools: list[FakePool]) -> None:
    with Checker(2, read_paths=["/work/space"]) as checker:
        off = CheckOptions(dynamic=False)
        checker.warm(off)
        report = checker.check(TORCH, "m.py", off)
        assert report.passes["dynamic"] == "not run: turned off"
        assert fake_pools == [] and not checker.started()
        checker.check(TORCH, "m.py", CheckOptions(verify_fixes=False))
        (pool,) = fake_pools
        assert (pool.engine, pool.size, pool.read_paths) == (DEFAULT, 2, ["/work/space"])
        assert checker.started(DEFAULT) and not checker.started(PAPER)
        checker.check(TORCH, "n.py", CheckOptions(verify_fixes=False))
        assert len(fake_pools) == 1  # one pool per engine, shared
    assert pool.closed


def test_paper_compat_sends_keras_code_to_the_paper_engine(fake_pools: list[FakePool]) -> None:
    paper = CheckOptions(paper_compat=True, verify_fixes=False)
    with Checker() as checker:
        assert checker.engine_for(KERAS, paper) is PAPER
        assert checker.engine_for(TORCH, paper) is DEFAULT
        assert (
            checker.engine_for(TORCH, CheckOptions(paper_compat=True, framework="keras")) is PAPER
        )
        assert checker.engine_for(KERAS, CheckOptions(paper_compat=True, framework="torch")) is (
            DEFAULT
        )
        assert checker.engine_for(KERAS, CheckOptions()) is DEFAULT
        assert checker.engine_for(KERAS, CheckOptions(dynamic=False, paper_compat=True)) is None
        checker.check(KERAS, "k.py", paper)
        (pool,) = fake_pools
        assert pool.engine is PAPER and pool.jobs == [PAPER.job]
        checker.check(TORCH, "t.py", paper)
        assert [p.engine for p in fake_pools] == [PAPER, DEFAULT]
        assert fake_pools[1].jobs[0] == DEFAULT.job


def test_warm_starts_the_engine_the_options_point_to(fake_pools: list[FakePool]) -> None:
    with Checker() as checker:
        checker.warm(CheckOptions(paper_compat=True))
        assert [p.engine for p in fake_pools] == [PAPER]
    with Checker() as checker:
        checker.warm(CheckOptions())
        assert [p.engine for p in fake_pools] == [PAPER, DEFAULT]


def test_a_pool_that_cannot_start_is_told_once_and_checks_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise worker_pool.WorkerStartError("the sandboxed workers need Linux, not plan9")

    monkeypatch.setattr(worker_pool, "WorkerPool", refuse)
    heard: list[tuple[Engine, Exception]] = []
    with Checker(on_start_error=lambda e, why: heard.append((e, why))) as checker:
        for _ in range(2):
            report = checker.check(TORCH, "m.py", CheckOptions(verify_fixes=False))
            assert report.passes["dynamic"] == "not run: no worker pool"
        ((engine, why),) = heard
        assert engine is DEFAULT and "plan9" in str(why)
        assert checker.start_error(DEFAULT) is why and checker.start_error(PAPER) is None
        with pytest.raises(worker_pool.WorkerStartError):
            checker.start(DEFAULT)


def test_a_closed_checker_starts_nothing(fake_pools: list[FakePool]) -> None:
    checker = Checker()
    checker.close()
    report = checker.check(TORCH, "m.py", CheckOptions(verify_fixes=False))
    assert report.passes["dynamic"] == "not run: no worker pool" and fake_pools == []
    assert checker.start_error(DEFAULT) is None
    with pytest.raises(RuntimeError, match="closed"):
        checker.start(DEFAULT)


def test_a_cancelled_cancellation_runs_no_job(fake_pools: list[FakePool]) -> None:
    cancel = Cancellation()
    cancel.cancel()
    with Checker() as checker:
        report = checker.check(TORCH, "m.py", CheckOptions(verify_fixes=False), cancel=cancel)
        assert report.passes["dynamic"] == "not run: cancelled"
        assert fake_pools[0].jobs == []


@pytest.fixture(scope="module")
def checker() -> Iterator[Checker]:
    c = Checker(1)
    yield c
    c.close()


def test_a_stale_check_is_cancelled_at_once(checker: Checker) -> None:
    options = CheckOptions(verify_fixes=False, timeout_ms=60_000)
    assert checker.check(TORCH, "warm.py", options).passes["dynamic"] == "ran"  # warm
    cancel = Cancellation()
    threading.Timer(0.5, cancel.cancel).start()  # a newer version of the document came
    t0 = time.monotonic()
    report = checker.check(SPINS, "spins.py", options, cancel=cancel)
    assert time.monotonic() - t0 < 15
    assert report.passes["dynamic"] == "not run: cancelled"
    # the pool serves the next check as usual
    assert checker.check(TORCH, "after.py", options).passes["dynamic"] == "ran"


def test_close_leaves_no_zygote_alive(checker: Checker) -> None:
    pool = checker.start(DEFAULT)
    assert isinstance(pool, worker_pool.WorkerPool)
    pids = pool.zygote_pids
    assert pids
    checker.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not checker.started()
