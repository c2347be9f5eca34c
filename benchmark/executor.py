"""Where a run's programs are scored: the one scoring function, the interface the runner scores
through, and the local executor (threads over one Checker's warm worker pools).

`score_sample` is what every executor runs for a program, here or in a Ray actor
(benchmark/ray_executor.py): the check options of the task and the run's settings, the pool of
the program's engine, and `score_program`. A checker bug becomes an `error` sample that says
why (a resumed run does it again) instead of losing the run.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from deepeval_lsp.benchmark.scoring import Scored, empty_fields, options_for, score_program

if TYPE_CHECKING:
    from deepeval_lsp.benchmark.store import RunConfig
    from deepeval_lsp.diagnostics.checker import Checker
    from deepeval_lsp.diagnostics.tasks.model import Task


@dataclass(frozen=True)
class ScoringSettings:
    """The run's settings that scoring depends on (what an actor needs besides the tasks)."""

    dynamic: bool = True
    timeout_ms: int = 10_000
    paper_compat: bool = False

    @classmethod
    def of(cls, config: RunConfig) -> ScoringSettings:
        return cls(config.dynamic, config.check_timeout_ms, config.paper_compat)


def start_checker(settings: ScoringSettings, tasks: Iterable[Task], size: int) -> Checker:
    """A scoring session of `size` zygotes per engine, with the pools the tasks need started
    now so that they warm while the first samples are generated: with paper_compat, Keras
    tasks' paper engine and, for the others, the default engine."""
    from deepeval_lsp.diagnostics.checker import Checker
    from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, PAPER

    tasks = list(tasks)
    checker = Checker(size)
    if settings.dynamic:
        keras = sum(1 for t in tasks if t.framework == "keras") if settings.paper_compat else 0
        try:
            if keras:
                checker.start(PAPER)
            if keras < len(tasks):
                checker.start(DEFAULT)
        except BaseException:
            checker.close()
            raise
    return checker


def score_sample(
    checker: Checker | None,
    settings: ScoringSettings,
    code: str,
    task: Task,
    verify_fixes: bool = False,
) -> Scored:
    """Score `code` as an answer to `task` with `checker`'s pools (None: no dynamic pass);
    `verify_fixes` for a repair round. Safe to call from several threads at once."""
    options = options_for(
        task,
        dynamic=settings.dynamic,
        timeout_ms=settings.timeout_ms,
        paper_compat=settings.paper_compat,
        verify_fixes=verify_fixes,
    )
    try:
        pool = checker.pool_for(code, options) if checker is not None else None
        return score_program(code, task, options, pool=pool)
    except Exception as e:  # a checker bug must not lose the run; the sample says why
        return scoring_failed(code, f"checking failed: {type(e).__name__}: {e}")


def scoring_failed(code: str, why: str) -> Scored:
    """A valid program whose scoring did not finish: an `error` sample (a resume retries it)."""
    return Scored(fields={**empty_fields("error", code), "valid": 1, "error": why})


def without_report(scored: Scored) -> Scored:
    """`scored` without its check report: what a sample stores (only repair rounds read the
    report), lighter to send back from another process."""
    return dataclasses.replace(scored, report=None)


class ScoreExecutor(Protocol):
    """What the runner scores through; `score` may be awaited by many samples at once."""

    async def score(self, code: str, task: Task, verify_fixes: bool = False) -> Scored: ...

    def close(self) -> None:
        """Stop the scoring that is still going and free what the executor holds."""


class LocalExecutor:
    """Scoring in this process: `workers` threads over `checker`'s warm worker pools (closed
    with the executor when `close_checker`, else its creator's to close)."""

    def __init__(
        self,
        checker: Checker | None,
        settings: ScoringSettings,
        workers: int,
        *,
        close_checker: bool = False,
    ) -> None:
        self.checker = checker
        self.settings = settings
        self._close_checker = close_checker
        self._threads = ThreadPoolExecutor(max(1, workers), thread_name_prefix="deepeval-score")

    async def score(self, code: str, task: Task, verify_fixes: bool = False) -> Scored:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._threads, score_sample, self.checker, self.settings, code, task, verify_fixes
        )

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        if self._close_checker and self.checker is not None:
            self.checker.close()
