"""The full check (static + dynamic + semantic) for the server, off the event loop.

The dynamic pass builds the user's model in a sandboxed warm worker
(`deepeval_lsp.diagnostics.dynamic.worker_pool`), never in the server process. This module's
Checker owns that pool: started on first use, closed with the server. Where the pool cannot
start, `check` still runs and says in its report that the dynamic pass did not run.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib
import importlib.util
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from deepeval_lsp.diagnostics import Cancellation, Checker, CheckOptions, Report, check
from deepeval_lsp.diagnostics import framework as fw
from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, Engine
from deepeval_lsp.diagnostics.static.run import StaticResult

log = logging.getLogger(__name__)
T = TypeVar("T")


def frameworks_missing() -> str | None:
    """Why the model cannot be built here (no framework installed), or None."""

    def has(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            return False

    if has("torch") or has("keras"):
        return None
    return "neither PyTorch nor Keras is installed in the server's Python environment"


_warm_lock = threading.Lock()
_warm_done = False


def warm_frameworks() -> None:
    """Import the frameworks the static pass introspects (seconds for torch), once per process,
    so the first check of a file does not wait for it. Call it early on a spare thread; a
    second caller waits until the first one is done."""
    global _warm_done
    # A server must not wait for the API surface's first build: the frameworks answer meanwhile.
    fw.build_surface_behind()
    with _warm_lock:
        if _warm_done:
            return
        try:
            check("import torch\nimport torch.nn as nn\n", "warm.py", CheckOptions(dynamic=False))
        except Exception:
            log.exception("warming the static pass failed")
        # The frameworks' millions of objects live as long as the server: keep the cyclic
        # garbage collector from walking them again and again (pauses of ~100 ms mid-keystroke).
        gc.collect()
        gc.freeze()
        # A keystroke's parse and scope analysis allocate ~10^5 objects, nearly all freed by
        # reference counting: the young generation's default threshold (700) collects dozens of
        # times per check for no garbage, and sets the tail of edit -> publish.
        gc.set_threshold(50_000, 20, 20)
        _warm_done = True


def start_warming() -> threading.Thread:
    """`warm_frameworks` on a background thread, started now."""
    fw.build_surface_behind()  # before any check of the server's can ask for the surface
    thread = threading.Thread(target=warm_frameworks, name="deepeval-warm", daemon=True)
    thread.start()
    return thread


class FullChecker:
    """Runs `check` with the dynamic pass in worker threads, through one Checker whose default
    engine's warm pool every check shares (the server never starts the paper engine)."""

    def __init__(self, threads: int = 2) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="deepeval-check"
        )
        self.session = Checker(1, on_start_error=_log_start_error)

    @property
    def read_paths(self) -> list[str]:
        """What checked programs may read (the workspace); set before the pool starts."""
        return self.session.read_paths

    @read_paths.setter
    def read_paths(self, paths: list[str]) -> None:
        self.session.read_paths = list(paths)

    async def check(
        self, source: str, path: str, options: CheckOptions, static: StaticResult | None = None
    ) -> Report:
        """The full report. Cancelling the awaiting task kills the check's sandboxed child."""
        cancel = Cancellation()
        call = functools.partial(
            self.session.check, source, path, options, static=static, cancel=cancel
        )
        try:  # starting the pool may block too: not on the event loop
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except asyncio.CancelledError:
            cancel.cancel()
            raise

    def run_soon(self, fn: Callable[..., object], *args: Any) -> None:
        """Run a blocking function on a checker thread without waiting for it."""
        self._executor.submit(fn, *args)

    def warm_pool(self) -> None:
        """Start the worker pool (it warms in the background) once the import above is done:
        starting processes meanwhile would slow the first static diagnostic down."""
        warm_frameworks()
        self.session.pool(DEFAULT)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking function (e.g. a workspace check) on the checker threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @property
    def pool_started(self) -> bool:
        return self.session.started()

    @property
    def pool_failed(self) -> str | None:
        """Why the worker pool did not start, once it was tried; None otherwise."""
        e = self.session.start_error(DEFAULT)
        return None if e is None else _why(e)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.session.close()


def _why(e: Exception) -> str:
    return f"{type(e).__name__}: {e}"


def _log_start_error(engine: Engine, e: Exception) -> None:
    log.warning("the dynamic worker pool did not start: %s", _why(e))
