"""Per-key debounce with cancellation: the newest request for a key wins.

`Debouncer.schedule(key, delay, job)` starts `job()` after `delay` seconds unless another
`schedule` for the same key (or `cancel(key)`) comes first; a job already running for that key
is cancelled too, so a stale check never publishes over a newer one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)


class Debouncer:
    def __init__(self) -> None:
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}

    def schedule(
        self, key: Hashable, delay: float, job: Callable[[], Awaitable[None]]
    ) -> asyncio.Task[None]:
        """Run `job` for `key` after `delay` seconds, cancelling what was pending or running."""
        self.cancel(key)
        task = asyncio.get_running_loop().create_task(self._run(delay, job))
        self._tasks[key] = task
        task.add_done_callback(lambda t: self._forget(key, t))
        return task

    async def _run(self, delay: float, job: Callable[[], Awaitable[None]]) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:  # a failing job must not take the server down
            log.exception("debounced job failed")

    def _forget(self, key: Hashable, task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]

    def cancel(self, key: Hashable) -> bool:
        """Cancel the pending or running job for `key`; True when there was one."""
        task = self._tasks.pop(key, None)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def cancel_all(self) -> None:
        for key in list(self._tasks):
            self.cancel(key)

    def pending(self, key: Hashable) -> bool:
        task = self._tasks.get(key)
        return task is not None and not task.done()
