"""One benchmark run: generate each missing sample, score it, record it as soon as it is scored.

Generation (async, bounded by the client's concurrency) and scoring (an executor,
benchmark/executor.py: by default a thread pool of `--workers` threads over the Checker's shared
warm worker pools, where under --paper-compat Keras tasks go to the paper engine's pool; with
`--executor ray`, actors of a Ray cluster: benchmark/ray_executor.py) are separate steps of each
sample, pipelined so that the network and the checkers work at the same time. Every database
write happens on the event loop's thread, one transaction per sample (and, for a repair
prompting, one per round before it: benchmark/conversation.py), whatever the executor. Which
samples to do is computed from the database (every key of the run minus the finished ones), so
a fresh run and a resumed one are the same code: resume by construction.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepeval_lsp.benchmark.conversation import run_conversation
from deepeval_lsp.benchmark.executor import LocalExecutor, ScoreExecutor, ScoringSettings
from deepeval_lsp.benchmark.extract import extract_code
from deepeval_lsp.benchmark.generation import ChatClient, SampleGenerationError
from deepeval_lsp.benchmark.prompting import build_messages
from deepeval_lsp.benchmark.repair import base_prompting, repair_of
from deepeval_lsp.benchmark.scoring import Scored, empty_fields
from deepeval_lsp.benchmark.store import (
    NO_PROMPTING,
    RunConfig,
    SampleKey,
    busy_timeout,
    db_error,
    done_keys,
    record_sample,
)

if TYPE_CHECKING:
    import sqlite_utils
    from deepeval_lsp.benchmark.progress import Progress
    from deepeval_lsp.benchmark.sources import ModelSource
    from deepeval_lsp.diagnostics.checker import Checker
    from deepeval_lsp.diagnostics.tasks.model import Suite, Task


@dataclass(frozen=True)
class Job:
    model: ModelSource
    prompting: str
    task: Task
    index: int

    @property
    def key(self) -> SampleKey:
        return (self.model.name, self.prompting, self.task.id, self.index)


def plan(
    models: list[ModelSource], promptings: list[str], tasks: list[Task], samples: int
) -> list[Job]:
    """Every sample a run asks for, in a stable order."""
    jobs = []
    for model in models:
        if model.kind == "reference":
            jobs += [Job(model, NO_PROMPTING, t, 0) for t in tasks]
            continue
        for prompting in promptings:
            for task in tasks:
                jobs += [Job(model, prompting, task, k) for k in range(samples)]
    return jobs


@dataclass
class RunStats:
    planned: int = 0
    skipped: int = 0  # already finished (a resumed run)
    recorded: int = 0
    retries: int = 0
    pylint_scored: int = 0
    pylint_error: str | None = None


def _first(eg: BaseExceptionGroup) -> BaseException:
    for e in eg.exceptions:
        return _first(e) if isinstance(e, BaseExceptionGroup) else e
    return eg


class Runner:
    def __init__(
        self,
        db: sqlite_utils.Database,
        run_id: str,
        config: RunConfig,
        suite: Suite,
        tasks: list[Task],
        models: list[ModelSource],
        *,
        client: ChatClient | None,
        workers: int = 1,
        checker: Checker | None = None,
        executor: ScoreExecutor | None = None,
        progress_factory: Callable[[int], Progress] | None = None,
        only: set[SampleKey] | None = None,
    ) -> None:
        self.db = db
        self.db_path = db.execute("pragma database_list").fetchone()[2]
        self.run_id = run_id
        self.config = config
        self.suite = suite
        self.tasks = tasks
        self.models = models
        self.client = client
        # where programs are scored: the given executor (its creator closes it), else threads
        # over `checker` (None: no dynamic pass), closed at the end of `run`
        self._own_executor = executor is None
        self.executor: ScoreExecutor = executor or LocalExecutor(
            checker, ScoringSettings.of(config), workers
        )
        self.progress_factory = progress_factory
        self.only = only  # score only these samples of the plan (perf/ samples the corpus)
        self.stats = RunStats()

    async def run(self) -> RunStats:
        jobs = plan(self.models, self.config.promptings, self.tasks, self.config.samples)
        if self.only is not None:
            jobs = [j for j in jobs if j.key in self.only]
        finished = done_keys(self.db, self.run_id)
        todo = [j for j in jobs if j.key not in finished]
        self.stats.planned = len(jobs)
        self.stats.skipped = len(jobs) - len(todo)
        progress = self.progress_factory(len(todo)) if self.progress_factory else None
        try:
            async with asyncio.TaskGroup() as group:
                for job in todo:
                    group.create_task(self._one(job, progress))
            if progress is not None:
                progress.finish()
                progress = None
            if self.config.static_score == "pylint":
                await asyncio.to_thread(self._pylint_phase)
        except BaseExceptionGroup as eg:
            # one fatal error (bad key, unknown model) cancels the rest: report that one alone
            raise _first(eg) from None
        finally:
            if self._own_executor:
                self.executor.close()
            if self.client is not None:
                self.stats.retries = self.client.retry_count
                await self.client.close()
            if progress is not None:
                progress.finish()
        return self.stats

    async def _one(self, job: Job, progress: Progress | None) -> None:
        sample = self._sample(job)
        spec = repair_of(job.prompting)
        if spec is not None:
            await run_conversation(self, job, spec, sample, progress)
            return
        code: str | None = None
        scored: Scored
        try:
            code = await self._generate(job, sample)
        except SampleGenerationError as e:
            sample["attempts"] = e.attempts
            scored = Scored(fields={**empty_fields("error"), "error": str(e)})
        else:
            if code is None:
                scored = Scored(fields=empty_fields("missing"))
            else:
                scored = await self.executor.score(code, job.task)
        record_sample(self.db, {**sample, **scored.fields}, scored.findings, scored.scores)
        self.stats.recorded += 1
        if progress is not None:
            progress.advance(scored.fields["outcome"])

    def _sample(self, job: Job) -> dict[str, Any]:
        """A sample's row before it is generated."""
        return {
            "run_id": self.run_id,
            "model": job.model.name,
            "prompting": job.prompting,
            "task_id": job.task.id,
            "sample_index": job.index,
            "prompt": None,
            "raw_answer": None,
            "prompt_tokens": None,
            "completion_tokens": None,
            "cost_usd": None,
            "cached": 0,
            "attempts": 0,
            "generation_ms": 0.0,
        }

    async def _generate(self, job: Job, sample: dict[str, Any]) -> str | None:
        """The program to score (None for a replay that lacks this sample)."""
        model = job.model
        if model.kind == "reference":
            return job.task.reference
        base = base_prompting(job.prompting)  # a repair's round 0 is asked as its base method
        if model.kind == "replay":
            record = model.replay(base, job.task.id, job.index)
            if record is None:
                return None
            sample["raw_answer"] = record.text
            return record.text if record.is_code else extract_code(record.text)
        assert self.client is not None
        messages = build_messages(job.task, base, self.suite)
        sample["prompt"] = json.dumps(messages, ensure_ascii=False)
        t0 = time.perf_counter()
        answer = await self.client.complete(model.target, messages, job.index)
        sample.update(
            raw_answer=answer.text,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost_usd=answer.cost_usd,
            cached=int(answer.cached),
            attempts=answer.attempts,
            generation_ms=(time.perf_counter() - t0) * 1000,
        )
        return extract_code(answer.text)

    def _pylint_phase(self, chunk: int = 200) -> None:
        """The study's pylint score of every valid sample of the run that lacks one.

        pylint starts once per chunk of programs (its start-up and framework inference cost
        seconds, then tens of milliseconds per file), in a child process; each chunk's scores
        are committed together, so an interrupted phase resumes where it stopped.
        """
        import sqlite3
        import tempfile
        from pathlib import Path

        from deepeval_lsp.benchmark.pylint_score import PylintUnavailable, pylint_files

        # a connection of this thread's own: the run's connection belongs to the event loop
        con = sqlite3.connect(self.db_path, timeout=busy_timeout())
        try:
            todo = con.execute(
                "select id, code from samples where run_id = ? and valid = 1 and id not in "
                "(select sample_id from scores where name = 'pylint_score') order by id",
                [self.run_id],
            ).fetchall()
            for start in range(0, len(todo), chunk):
                part = todo[start : start + chunk]
                with tempfile.TemporaryDirectory(prefix="deepeval-bench-pylint-") as tmp:
                    paths = {}
                    for sample_id, code in part:
                        path = Path(tmp) / f"{sample_id}.py"
                        path.write_text(code or "", encoding="utf-8")
                        paths[str(path)] = sample_id
                    try:
                        results = pylint_files(list(paths))
                    except PylintUnavailable as e:
                        self.stats.pylint_error = str(e)
                        return
                try:
                    with con:
                        con.execute("BEGIN IMMEDIATE")  # the write lock before anything else
                        con.executemany(
                            "insert or replace into scores (sample_id, name, value) "
                            "values (?, 'pylint_score', ?)",
                            [(paths[p], r.score) for p, r in results.items()],
                        )
                except sqlite3.OperationalError as e:
                    raise db_error(e, self.db_path) from None
                self.stats.pylint_scored += len(results)
        finally:
            con.close()
