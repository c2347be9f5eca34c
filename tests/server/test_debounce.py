"""The per-key debouncer: the newest job for a key wins, others for the key never finish."""

from __future__ import annotations

import asyncio

from deepeval_lsp.server.debounce import Debouncer


async def test_only_the_last_job_of_a_burst_runs():
    d = Debouncer()
    ran: list[int] = []

    def job(i: int):
        async def run() -> None:
            ran.append(i)

        return run

    for i in range(10):
        d.schedule("a", 0.02, job(i))
    d.schedule("b", 0.02, job(100))
    await asyncio.sleep(0.1)
    assert sorted(ran) == [9, 100]
    assert not d.pending("a") and not d.pending("b")


async def test_a_running_job_is_cancelled_by_a_newer_one():
    d = Debouncer()
    started, finished = asyncio.Event(), []

    async def slow() -> None:
        started.set()
        await asyncio.sleep(5)
        finished.append("slow")

    async def fast() -> None:
        finished.append("fast")

    first = d.schedule("k", 0, slow)
    await started.wait()
    d.schedule("k", 0, fast)
    await asyncio.sleep(0.05)
    assert first.cancelled()
    assert finished == ["fast"]


async def test_cancel_and_failing_jobs():
    d = Debouncer()
    ran = []

    async def boom() -> None:
        raise RuntimeError("job failed")

    async def ok() -> None:
        ran.append(1)

    d.schedule("x", 0.01, ok)
    assert d.cancel("x") is True and d.cancel("x") is False
    task = d.schedule("y", 0, boom)
    await asyncio.sleep(0.02)
    assert task.done() and not task.cancelled()  # the failure was logged, not raised
    d.schedule("z", 0.5, ok)
    d.cancel_all()
    await asyncio.sleep(0.02)
    assert ran == []
