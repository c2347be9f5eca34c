"""Scoring on a Ray cluster: `deepeval-lsp bench --executor ray [--ray-address ADDR]`.

Each actor owns one warm scoring session (a `Checker` with one zygote per engine it needs, the
same sandbox and limits as a local run) and scores one program at a time with the very
function of the local executor (`executor.score_sample`); the tasks reach each actor once, at
its start, and a call sends only the program, the task's id and whether fixes are verified.
The driver keeps everything else: generation, the SQLite store (one writer, one transaction
per sample, as locally) and resume.

Back-pressure: at most `per_actor` calls (2: one running, one queued, so that an actor never
waits for the driver) are in flight per actor; a sample waits in the driver for a free slot.
A call whose actor died (killed, its node lost) is sent to another actor and a replacement
actor is started; the sample is written once, by the driver, when a result comes back, so a
lost actor loses nothing and duplicates nothing. After `max_attempts` lost actors a sample is
recorded as an `error` (a resume scores it again). Cancelling the run (Ctrl+C) cancels the calls
in flight, `close()` kills the actors (their zygotes and sandboxed children die with them) and,
for a Ray instance this executor started, stops it.

Without an address a Ray instance is started on this machine (`num_cpus` CPUs, a small object
store, no dashboard); with one (or $RAY_ADDRESS) the driver connects to that cluster, whose
every node needs deepeval-lsp installed (the same version, with the extras the run needs).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepeval_lsp.benchmark.executor import (
    ScoringSettings,
    score_sample,
    scoring_failed,
    start_checker,
    without_report,
)

if TYPE_CHECKING:
    from deepeval_lsp.benchmark.scoring import Scored
    from deepeval_lsp.diagnostics.tasks.model import Task

OBJECT_STORE_BYTES = 200 * 1024**2  # results are small: a local instance needs little


class RayUnavailable(RuntimeError):
    """Ray cannot score this run (not installed, no cluster, no actor started): one line."""


def import_ray() -> Any:
    """The `ray` module, or RayUnavailable saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable(
            "--executor ray needs Ray, which is not installed: pip install 'deepeval-lsp[ray]'"
        ) from None
    return ray


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[-1] if text else ''}".rstrip(": ")


def _reachable(address: str, timeout_s: float = 5.0) -> None:
    """RayUnavailable at once when nothing listens at a `host:port` address (Ray itself waits
    minutes for a cluster that is not there)."""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return  # "auto", "ray://…": Ray's own connection says what is wrong
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise RayUnavailable(
            f"cannot reach the Ray cluster at {address}: {e.strerror or e}"
        ) from None


class ScoringActor:
    """One warm scoring session in a Ray worker process (wrapped with `ray.remote` by
    RayExecutor, so that this module imports without Ray)."""

    def __init__(self, settings: ScoringSettings, tasks: list[Task]) -> None:
        self.settings = settings
        self.tasks = {t.id: t for t in tasks}
        self.checker = start_checker(settings, tasks, 1)

    def ready(self) -> int:
        return os.getpid()

    def score(self, code: str, task_id: str, verify_fixes: bool) -> Scored:
        scored = score_sample(self.checker, self.settings, code, self.tasks[task_id], verify_fixes)
        return scored if verify_fixes else without_report(scored)


@dataclass
class _Slot:
    handle: Any
    load: int = 0
    alive: bool = True


@dataclass
class RayStats:
    actors: int = 0  # started at first
    lost: int = 0  # actors that died during the run
    retried: int = 0  # calls sent again after their actor died
    replaced: int = 0  # replacement actors that started


class RayExecutor:
    """Scoring through Ray actors; see the module docstring."""

    def __init__(
        self,
        settings: ScoringSettings,
        tasks: list[Task],
        *,
        address: str | None = None,
        actors: int | None = None,
        num_cpus: int | None = None,
        per_actor: int = 2,
        max_attempts: int = 3,
        start_timeout_s: float = 300.0,
    ) -> None:
        """Connect to the cluster at `address` (None: $RAY_ADDRESS, else start one here with
        `num_cpus` CPUs) and start `actors` actors (default: one per CPU of the cluster), each
        reserving one CPU; returns once all of them are up, else raises RayUnavailable."""
        ray = self._ray = import_ray()
        self.settings = settings
        self.per_actor = max(1, per_actor)
        self.max_attempts = max(1, max_attempts)
        self.start_timeout_s = start_timeout_s
        self.stats = RayStats()
        self._started_ray = False
        self._slots: list[_Slot] = []
        self._pending = 0  # replacement actors starting
        self._replacing: set[asyncio.Task[None]] = set()
        self._waiters: list[asyncio.Future[None]] = []
        self._closed = False
        self._lost_errors = (
            ray.exceptions.RayActorError,
            ray.exceptions.WorkerCrashedError,
            ray.exceptions.ObjectLostError,
            ray.exceptions.NodeDiedError,
        )
        address = address or os.environ.get("RAY_ADDRESS") or None
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if address:
            _reachable(address)
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            try:
                if address:
                    ray.init(address=address, logging_level="ERROR", **options)
                else:
                    ray.init(
                        num_cpus=num_cpus or os.cpu_count() or 1,
                        object_store_memory=OBJECT_STORE_BYTES,
                        logging_level="ERROR",
                        **options,
                    )
            except Exception as e:
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise RayUnavailable(f"cannot start {where}: {_one_line(e)}") from None
            self._started_ray = True
        try:
            cpus = int(ray.cluster_resources().get("CPU", 0))
            count = actors or cpus
            if count < 1:
                raise RayUnavailable("the Ray cluster has no CPU to start a scoring actor on")
            self._actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(
                ScoringActor
            )
            self._tasks_ref = ray.put(list(tasks))
            handles = [self._new_actor() for _ in range(count)]
            self._slots = [_Slot(h) for h in handles]
            self.stats.actors = count
            self._wait_ready(handles, cpus)
        except BaseException:
            self.close()
            raise

    # -- actors ----------------------------------------------------------------------------

    def _new_actor(self) -> Any:
        return self._actor_class.remote(self.settings, self._tasks_ref)

    def _wait_ready(self, handles: list[Any], cpus: int) -> None:
        ray = self._ray
        refs = [h.ready.remote() for h in handles]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=self.start_timeout_s)
        if len(ready) < len(refs):
            raise RayUnavailable(
                f"{len(refs) - len(ready)} of {len(refs)} scoring actors did not start within "
                f"{self.start_timeout_s:.0f} s (each needs one CPU; the cluster has {cpus})"
            )
        try:
            ray.get(ready)
        except Exception as e:
            raise RayUnavailable(f"a scoring actor failed to start: {_one_line(e)}") from None

    def actor_handles(self) -> list[Any]:
        """The handles of the live actors (tests kill one to see nothing lost)."""
        return [s.handle for s in self._slots if s.alive]

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            if not w.done():
                with contextlib.suppress(RuntimeError):  # its loop is closed already
                    w.set_result(None)

    async def _acquire(self) -> _Slot:
        """The live actor with the fewest calls in flight, once one has a free slot."""
        while True:
            if self._closed:
                raise RuntimeError("the Ray executor is closed")
            alive = [s for s in self._slots if s.alive]
            if not alive and not self._pending:
                raise RayUnavailable("every Ray scoring actor died and none could be replaced")
            free = [s for s in alive if s.load < self.per_actor]
            if free:
                slot = min(free, key=lambda s: s.load)
                slot.load += 1
                return slot
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def _release(self, slot: _Slot) -> None:
        slot.load -= 1
        self._wake()

    def _lose(self, slot: _Slot) -> None:
        """`slot`'s actor died: stop sending to it and start a replacement."""
        if not slot.alive:
            return
        slot.alive = False
        self.stats.lost += 1
        with contextlib.suppress(Exception):
            self._ray.kill(slot.handle)
        if self._closed:
            return
        self._pending += 1
        task = asyncio.get_running_loop().create_task(self._replace())
        self._replacing.add(task)
        task.add_done_callback(self._replacing.discard)

    async def _replace(self) -> None:
        handle = None
        try:
            handle = self._new_actor()
            await asyncio.wait_for(handle.ready.remote(), self.start_timeout_s)
        except Exception:  # the cluster has no room for it: go on with the others
            if handle is not None:
                with contextlib.suppress(Exception):
                    self._ray.kill(handle)
        else:
            if self._closed:
                self._ray.kill(handle)
            else:
                self._slots.append(_Slot(handle))
                self.stats.replaced += 1
        finally:
            self._pending -= 1
            self._wake()

    # -- scoring ---------------------------------------------------------------------------

    async def score(self, code: str, task: Task, verify_fixes: bool = False) -> Scored:
        ray = self._ray
        for attempt in range(self.max_attempts):
            slot = await self._acquire()
            if attempt:
                self.stats.retried += 1
            ref = slot.handle.score.remote(code, task.id, verify_fixes)
            try:
                return await ref
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    ray.cancel(ref)
                raise
            except self._lost_errors:
                self._lose(slot)
            except ray.exceptions.RayError as e:
                return scoring_failed(code, f"checking failed on Ray: {_one_line(e)}")
            finally:
                self._release(slot)
        return scoring_failed(
            code, f"scoring failed: the Ray actors scoring it died {self.max_attempts} times"
        )

    def close(self) -> None:
        """Kill the actors (and so their zygotes and children); stop a Ray instance this
        executor started. Idempotent."""
        if self._closed:
            return
        self._closed = True
        ray = self._ray
        for task in list(self._replacing):
            task.cancel()
        for slot in self._slots:
            with contextlib.suppress(Exception):
                ray.kill(slot.handle)
        self._slots = []
        self._wake()
        if self._started_ray:
            with contextlib.suppress(Exception):
                ray.shutdown()
