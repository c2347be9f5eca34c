"""The full check (static + dynamic + semantic) for the server, off the event loop.

The dynamic pass builds the user's model in a sandboxed warm worker
(`deepeval_lsp.diagnostics.dynamic.worker_pool`), never in the server process. This module owns that
pool: started on first use, closed with the server. Where the pool module is not part of the
installed checkers, `check` still runs and says in its report that the dynamic pass did not run.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import importlib.util
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from deepeval_lsp.diagnostics import CheckOptions, Report, check

log = logging.getLogger(__name__)


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


class CancellablePool:
    """The pool as `check` sees it, for one check: `cancel()` kills that check's sandboxed child.

    `check` is synchronous and runs on a checker thread; each of its jobs runs with a
    cancellation token of the pool's, so `cancel()` from the event loop stops it at once.
    """

    def __init__(self, pool: Any) -> None:
        from deepeval_lsp.diagnostics.dynamic.worker_pool import CancelToken

        self._pool = pool
        self._token_type = CancelToken
        self._lock = threading.Lock()
        self._cancelled = False
        self._tokens: list[Any] = []

    def run(self, func: str, payload: dict[str, Any], *, timeout_s: float) -> dict[str, Any]:
        token = self._token_type()
        with self._lock:
            if self._cancelled:
                return {"status": "cancelled"}
            self._tokens.append(token)
        return self._pool.run(func, payload, timeout_s=timeout_s, cancel=token)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            tokens = list(self._tokens)
        for token in tokens:
            token.cancel()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class FullChecker:
    """Runs `check` with the dynamic pass in worker threads, sharing one warm worker pool."""

    def __init__(self, threads: int = 2) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="deepeval-check"
        )
        self._pool: Any = None
        self._pool_failed: str | None = None
        self._lock = threading.Lock()
        self.read_paths: list[str] = []  # what checked programs may read: the workspace

    def _get_pool(self) -> Any:
        with self._lock:
            if self._pool is not None or self._pool_failed is not None:
                return self._pool
            try:
                from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool

                self._pool = WorkerPool(1, read_paths=self.read_paths)
            except Exception as e:  # the static results still stand; say why once
                self._pool_failed = f"{type(e).__name__}: {e}"
                log.warning("the dynamic worker pool did not start: %s", self._pool_failed)
            return self._pool

    def _check(
        self, source: str, path: str, options: CheckOptions, pool: Any, static: Any
    ) -> Report:
        return check(source, path, options, pool=pool, static=static)

    async def check(
        self, source: str, path: str, options: CheckOptions, static: Any = None
    ) -> Report:
        """The full report. Cancelling the awaiting task kills the check's sandboxed child."""
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is None:  # starting it may block: not on the event loop
            pool = await loop.run_in_executor(self._executor, self._get_pool)
        own = CancellablePool(pool) if pool is not None else None
        try:
            return await loop.run_in_executor(
                self._executor, self._check, source, path, options, own, static
            )
        except asyncio.CancelledError:
            if own is not None:
                own.cancel()
            raise

    def run_soon(self, fn: Any, *args: Any) -> None:
        """Run a blocking function on a checker thread without waiting for it."""
        self._executor.submit(fn, *args)

    def warm(self, start_pool: bool) -> None:
        """Start the worker pool now (it warms in the background) and import the frameworks
        the static pass introspects, so the first check of a file is not the slow one."""
        if start_pool:
            self._get_pool()
        try:
            check("import torch\nimport torch.nn as nn\n", "warm.py", CheckOptions(dynamic=False))
        except Exception:
            log.exception("warming the static pass failed")
        # The frameworks' millions of objects live as long as the server: keep the cyclic
        # garbage collector from walking them again and again (pauses of ~100 ms mid-keystroke).
        gc.collect()
        gc.freeze()

    async def run(self, fn: Any, *args: Any) -> Any:
        """Run a blocking function (e.g. a workspace check) on the checker threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @property
    def pool_started(self) -> bool:
        return self._pool is not None

    @property
    def pool_failed(self) -> str | None:
        """Why the worker pool did not start, once it was tried; None otherwise."""
        return self._pool_failed

    @property
    def pool(self) -> Any:
        return self._get_pool()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            try:
                pool.close()
            except Exception:
                log.exception("closing the worker pool failed")
