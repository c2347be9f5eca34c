"""One checking session: the warm worker pools of every engine, and which one checks a program.

Every front end (language server, `check`, `bench`, `selftest`, `reproduce`) checks through a
`Checker`. It starts an engine's pool on first use (a session that never runs a dynamic check
starts none), routes each program to its engine (with `paper_compat`, Keras programs go to the
paper engine, everything else to the default one), runs `check()` with that pool, lets a caller
cancel the sandboxed jobs of a check that went stale (`Cancellation`), and stops every pool on
`close()` or at the end of a `with` block.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from deepeval_lsp.diagnostics.check import check
from deepeval_lsp.diagnostics.files import UncheckableFile, read_source
from deepeval_lsp.diagnostics.findings import Report
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.text import parse_python

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.dynamic.engines import Engine, Pool
    from deepeval_lsp.diagnostics.dynamic.worker_pool import CancelToken
    from deepeval_lsp.diagnostics.static.run import StaticResult

log = logging.getLogger(__name__)
MAX_FIX_ROUNDS = 4  # rounds of fixes and re-checks: a fix can bring the next mistake to light


def is_keras(source: str, framework: str) -> bool:
    """A Keras program: framework "keras", or ("auto") it imports keras or tensorflow and not
    torch."""
    if framework != "auto":
        return framework == "keras"
    from deepeval_lsp.diagnostics.static.missing_imports import ImportContext

    try:
        tree = parse_python(source)
    except (SyntaxError, ValueError):
        return False
    found = ImportContext.of(tree)
    return found.uses_keras and not found.uses_torch


class Cancellation:
    """Cancels the sandboxed jobs of the checks it is given to: `cancel()`, from any thread,
    kills their running children at once and keeps later jobs from starting (they come back
    {"status": "cancelled"})."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._tokens: list[CancelToken] = []

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            tokens = list(self._tokens)
        for token in tokens:
            token.cancel()

    def add(self, token: CancelToken) -> bool:
        """Cancel `token` with the rest; False when this is cancelled already."""
        with self._lock:
            if self._cancelled:
                return False
            self._tokens.append(token)
            return True


class _CancellablePool:
    """A pool whose every job runs with a token of one Cancellation."""

    def __init__(self, pool: Pool, cancellation: Cancellation) -> None:
        self._pool = pool
        self._cancellation = cancellation

    @property
    def engine(self) -> Engine:
        return self._pool.engine

    def run(
        self,
        func: str,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        from deepeval_lsp.diagnostics.dynamic.worker_pool import CancelToken

        token = cancel or CancelToken()
        if not self._cancellation.add(token):
            return {"status": "cancelled"}
        return self._pool.run(func, payload, timeout_s=timeout_s, cancel=token)

    def close(self) -> None:
        """The pool belongs to the Checker, which closes it."""


class Checker:
    """The checkers with their worker pools, for one front end's session. Thread-safe."""

    def __init__(
        self,
        size: int = 1,
        *,
        read_paths: Iterable[str] = (),
        on_start_error: Callable[[Engine, Exception], None] | None = None,
    ) -> None:
        """`size` zygotes per engine; `read_paths` are the folders checked programs may read
        (the workspace, for local imports), for the pools started after they are set.
        `on_start_error` hears, once per engine, why its pool did not start (checks then go on
        without the dynamic pass)."""
        self.size = size
        self.read_paths = list(read_paths)
        self.on_start_error = on_start_error
        self._pools: dict[Engine, Pool] = {}
        self._errors: dict[Engine, Exception] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- routing and pools -----------------------------------------------------------------

    def engine_for(self, source: str, options: CheckOptions) -> Engine | None:
        """The engine that checks `source` (None when the dynamic pass is off): with
        `paper_compat`, Keras programs go to the paper engine; the rest to the default one."""
        if not options.dynamic:
            return None
        # here, not at import: a check without the dynamic pass never needs an engine
        from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, PAPER

        if options.paper_compat and is_keras(source, options.framework):
            return PAPER
        return DEFAULT

    def start(self, engine: Engine) -> Pool:
        """`engine`'s pool, started now if it is not yet; raises why it cannot start
        (EngineUnavailable, WorkerStartError, …)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the checker is closed")
            pool = self._pools.get(engine)
            if pool is None:
                from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool

                pool = self._pools[engine] = WorkerPool(
                    self.size, engine=engine, read_paths=self.read_paths
                )
            return pool

    def pool(self, engine: Engine) -> Pool | None:
        """`engine`'s pool, started on first use; None when it did not start (asked once)."""
        with self._lock:
            if self._closed or engine in self._errors:
                return None
        try:
            return self.start(engine)
        except Exception as e:  # the other passes still run; say why once
            with self._lock:
                first = engine not in self._errors
                self._errors.setdefault(engine, e)
            if first and self.on_start_error is not None:
                self.on_start_error(engine, e)
            return None

    def pool_for(self, source: str, options: CheckOptions) -> Pool | None:
        """The pool that checks `source` (see engine_for), started on first use."""
        engine = self.engine_for(source, options)
        return None if engine is None else self.pool(engine)

    def warm(self, options: CheckOptions) -> None:
        """Start the pool that checks with `options` will most likely need, so that it warms
        while other work runs: none without the dynamic pass, the paper engine's with
        `paper_compat`, else the default one's."""
        if options.dynamic:
            from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, PAPER

            self.pool(PAPER if options.paper_compat else DEFAULT)

    def started(self, engine: Engine | None = None) -> bool:
        """Whether `engine`'s pool (any pool, without one) was started."""
        with self._lock:
            return bool(self._pools) if engine is None else engine in self._pools

    def start_error(self, engine: Engine) -> Exception | None:
        """Why `engine`'s pool did not start, once it was tried; None otherwise."""
        with self._lock:
            return self._errors.get(engine)

    # -- checking --------------------------------------------------------------------------

    def check(
        self,
        source: str,
        path: str,
        options: CheckOptions | None = None,
        *,
        static: StaticResult | None = None,
        cancel: Cancellation | None = None,
    ) -> Report:
        """`diagnostics.check` with the pool of the program's engine. `cancel` stops the
        check's sandboxed jobs when it is cancelled (a newer version of the document came)."""
        options = options or CheckOptions()
        pool = self.pool_for(source, options)
        if pool is not None and cancel is not None:
            pool = _CancellablePool(pool, cancel)
        return check(source, path, options, pool=pool, static=static)

    def check_path(
        self,
        path: str | Path,
        options: CheckOptions | None = None,
        *,
        cancel: Cancellation | None = None,
    ) -> Report:
        """Read and check one file; an unreadable file gives a Report with `error` set."""
        try:
            source = read_source(path)
        except UncheckableFile as e:
            return Report(path=str(path), error=str(e))
        return self.check(source, str(path), options, cancel=cancel)

    def fix(
        self,
        source: str,
        path: str,
        options: CheckOptions | None = None,
        *,
        report: Report | None = None,
        rounds: int = MAX_FIX_ROUNDS,
    ) -> tuple[str, Report, int]:
        """`source` with its verified fixes applied (as `check --fix` does: a round of fixes,
        a re-check, until nothing changes or after `rounds` rounds), the report of the fixed
        program, and how many findings were fixed. `report` is `source`'s when already known."""
        from deepeval_lsp.diagnostics.fixes import apply_fixes

        report = report or self.check(source, path, options)
        fixed = 0
        for _ in range(rounds):
            new_source, chosen = apply_fixes(source, report.diagnostics)
            if new_source == source:
                break
            fixed += len(chosen.fixed)
            source = new_source
            report = self.check(source, path, options)
        return source, report, fixed

    # -- shutting down ---------------------------------------------------------------------

    def close(self) -> None:
        """Stop every pool (and so every zygote and child). Idempotent."""
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            try:
                pool.close()
            except Exception:
                log.exception("closing the %s engine's worker pool failed", pool.engine.name)

    def __enter__(self) -> Checker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
