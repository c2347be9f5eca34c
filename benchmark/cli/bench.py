"""`deepeval-lsp bench`: prompt models on a task suite, score every sample, log it to SQLite.

With no arguments it runs `--suite builtin --model reference` (offline: no key, no network),
a sanity run in which every task answers with its own reference program.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from deepeval_lsp.benchmark.prompting import PROMPTINGS
from deepeval_lsp.benchmark.repair import canonical_prompting, repair_of

from deepeval_lsp import __version__

if TYPE_CHECKING:
    import sqlite_utils
    from deepeval_lsp.benchmark.executor import ScoreExecutor
    from deepeval_lsp.benchmark.generation import ChatClient
    from deepeval_lsp.benchmark.sources import ModelSource
    from deepeval_lsp.benchmark.store import RunConfig
    from deepeval_lsp.diagnostics.tasks.model import Suite, Task

DESCRIPTION = """\
Prompt models on a task suite, score every sample with the checkers of `deepeval-lsp check`
(executability, failure taxonomy, static findings, similarity to the reference) and record
everything in an SQLite database, each sample as soon as it is scored.

With no arguments: --suite builtin --model reference, an offline sanity run (no API key, no
network) in which each task is answered by its own reference program; it must score 100%.

Models: openai:<name> (any OpenAI-compatible server: --base-url or OPENAI_BASE_URL, key from
OPENAI_API_KEY), replay:<folder or .jsonl> (score recorded programs, e.g. the study's
<model>/<prompting>/<task>/generated_code_<k>.py), reference.
"""

EPILOG = """\
examples:
  deepeval-lsp bench
  deepeval-lsp bench --suite path/to/DeepEval/benchmark/DeepEval \\
      --model replay:path/to/DeepEval/response/DeepEval/gpt_4o
  OPENAI_API_KEY=... deepeval-lsp bench --model openai:gpt-4o-mini --prompting zeroshot
  deepeval-lsp bench --model openai:gpt-4o-mini --prompting fewshot,fewshot+repair:3
  deepeval-lsp bench --model openai:qwen2.5-coder --base-url http://localhost:8000/v1
  deepeval-lsp bench --model openai:qwen2.5-coder --base-url http://10.0.0.7:8000/v1 \\
      --executor ray --ray-address 10.0.0.5:6379   (scoring on a Ray cluster)
  deepeval-lsp bench --resume 01JD7Y...   (finish an interrupted run)
then: deepeval-lsp runs; deepeval-lsp report --format html --out report.html
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    g = parser.add_argument_group("what to run")
    g.add_argument(
        "--suite",
        default="builtin",
        help="'builtin' (our PyTorch suite) or a suite folder, e.g. the study's "
        "benchmark/DeepEval (default: builtin)",
    )
    g.add_argument(
        "--model",
        action="append",
        metavar="SPEC",
        help="openai:<name> | replay:<folder or .jsonl> | reference; repeatable "
        "(default: reference)",
    )
    g.add_argument(
        "--prompting",
        action="append",
        metavar="METHOD",
        help=f"{', '.join(PROMPTINGS)}, each optionally followed by +repair[:ROUNDS] (the "
        "findings sent back to the model while its program has errors, 2 rounds by default) or "
        "+repair-fixes[:ROUNDS] (our verified fixes applied instead); `repair` alone is "
        "zeroshot+repair:2; repeatable or comma-separated (default: the four without repair)",
    )
    g.add_argument(
        "--task",
        action="append",
        metavar="ID",
        help="only these task ids (repeatable or comma-separated)",
    )
    g.add_argument("--limit", type=int, metavar="N", help="only the first N tasks of the suite")
    g.add_argument("--samples", type=int, default=3, help="samples per task (default: 3)")
    g.add_argument(
        "--resume",
        metavar="RUN_ID",
        help="finish an interrupted run with its own settings (other options of "
        "what to run are ignored)",
    )

    g = parser.add_argument_group("generation")
    g.add_argument(
        "--base-url",
        help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL, "
        "else https://api.openai.com/v1)",
    )
    g.add_argument("--temperature", type=float, default=0.8, help="(default: 0.8, the study's)")
    g.add_argument("--top-p", type=float, default=0.95, help="(default: 0.95, the study's)")
    g.add_argument(
        "--max-tokens",
        type=int,
        default=2048,
        help="answer length limit; 0 sends none (default: 2048)",
    )
    g.add_argument("--concurrency", type=int, default=8, help="requests in flight (default: 8)")
    g.add_argument(
        "--request-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="per request (default: 120)",
    )
    g.add_argument(
        "--retries",
        type=int,
        default=6,
        help="retries of a request on 429/5xx/timeouts (default: 6)",
    )
    g.add_argument(
        "--retry-base-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="first backoff delay, doubled on each retry (default: 1); a server's Retry-After wins",
    )
    g.add_argument(
        "--cache-dir", help="generation cache (default: $XDG_CACHE_HOME/deepeval-lsp/generations)"
    )
    g.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the cache (a resumed run uses the run's own "
        "cache unless --cache-dir or --no-cache is given)",
    )
    g.add_argument(
        "--price-in",
        type=float,
        metavar="USD",
        help="price per million prompt tokens, to record a cost when the server reports none",
    )
    g.add_argument(
        "--price-out", type=float, metavar="USD", help="price per million completion tokens"
    )

    g = parser.add_argument_group("scoring and storage")
    g.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="checks in parallel over the warm worker pool (default: cores)",
    )
    g.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="where programs are scored: 'local' (this machine, --workers at once) or 'ray' "
        "(actors of a Ray cluster, one warm checker each; needs the `ray` extra) "
        "(default: local)",
    )
    g.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="with --executor ray: the cluster to connect to, the address `ray start --head` "
        "printed, e.g. 10.0.0.5:6379 (default: $RAY_ADDRESS, else a Ray instance started on "
        "this machine with --workers CPUs)",
    )
    g.add_argument(
        "--ray-actors",
        type=int,
        metavar="N",
        help="with --executor ray: scoring actors, one CPU each (default: one per CPU of the "
        "cluster)",
    )
    g.add_argument(
        "--check-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="per dynamic check (default: 10)",
    )
    g.add_argument(
        "--no-dynamic",
        action="store_true",
        help="static and semantic passes only (executability is then not measured)",
    )
    g.add_argument(
        "--paper-compat",
        action="store_true",
        help="score as the study did: Keras programs run on TensorFlow + tf-keras "
        "(Keras 2) in the paper engine's warm workers, imported whole, then "
        "dl_model(), summary(), compile() (needs the `paper` extra); the "
        "semantic pass keeps the study's extractor limits. PyTorch tasks keep "
        "the default engine",
    )
    g.add_argument(
        "--static-score",
        choices=["pylint"],
        help="also compute the study's pylint score (needs pylint), once every sample is scored",
    )
    g.add_argument(
        "--db",
        default="deepeval.db",
        help="SQLite database (default: deepeval.db); other processes may use it too: a write "
        "waits up to $DEEPEVAL_DB_TIMEOUT seconds (default 30) for theirs",
    )
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def _error(message: str) -> int:
    print(f"deepeval-lsp bench: error: {message}", file=sys.stderr)
    return 2


class _Invalid(Exception):
    """What is wrong with the command line or its inputs: one line, exit status 2."""


def run(args: argparse.Namespace) -> int:
    """Validate everything first (one line and exit status 2 for the first problem), then
    record the run, score every missing sample and print the run's table."""
    executor: ScoreExecutor | None = None
    try:
        if args.workers < 1:
            raise _Invalid("--workers must be at least 1")
        _check_executor(args)
        db = _open_store(args.db)
        config, run_id = _config(args, db)
        suite, tasks, config = _suite_and_tasks(args, config)
        models = _models(config)
        _check_engines(config, tasks)
        client = _client(args, config, models)
        executor = _ray_executor(args, config, tasks) if args.executor == "ray" else None
        run_id = _start_run(db, config, run_id, tasks)
    except _Invalid as e:
        if executor is not None:
            executor.close()
        return _error(str(e))
    try:
        if executor is None:
            executor = _local_executor(config, tasks, args.workers)
        return _score(args, db, run_id, config, suite, tasks, models, client, executor)
    finally:
        from deepeval_lsp.benchmark.store import release_run

        if executor is not None:
            executor.close()
        release_run(db, run_id)


def _check_executor(args: argparse.Namespace) -> None:
    """The executor's options fit, and Ray is installed when it is asked for."""
    if args.executor != "ray":
        if args.ray_address or args.ray_actors is not None:
            raise _Invalid("--ray-address and --ray-actors need --executor ray")
        return
    if args.ray_actors is not None and args.ray_actors < 1:
        raise _Invalid("--ray-actors must be at least 1")
    from deepeval_lsp.benchmark.ray_executor import RayUnavailable, import_ray

    try:
        import_ray()
    except RayUnavailable as e:
        raise _Invalid(str(e)) from None


def _open_store(path: str) -> sqlite_utils.Database:
    from deepeval_lsp.benchmark.store import StoreError, open_db

    try:
        return open_db(path)
    except StoreError as e:
        raise _Invalid(str(e)) from None


def _config(args: argparse.Namespace, db: sqlite_utils.Database) -> tuple[RunConfig, str]:
    """The run's settings and id: a resumed run's own, else a new run's ("" until created)."""
    from pathlib import Path

    from deepeval_lsp.benchmark.generation import default_cache_dir
    from deepeval_lsp.benchmark.store import RunConfig, StoreError, load_run

    if args.resume:
        args.resume = args.resume.strip()
        try:
            _, config = load_run(db, args.resume)
        except StoreError as e:
            raise _Invalid(str(e)) from None
        return config, args.resume
    try:
        promptings = [canonical_prompting(p) for p in _split(args.prompting)] or list(PROMPTINGS)
    except ValueError as e:
        raise _Invalid(str(e)) from None
    promptings = list(dict.fromkeys(promptings))
    if args.samples < 1:
        raise _Invalid("--samples must be at least 1")
    if args.concurrency < 1:
        raise _Invalid("--concurrency must be at least 1")
    config = RunConfig(
        suite=args.suite,
        models=args.model or ["reference"],
        promptings=promptings,
        samples=args.samples,
        temperature=args.temperature,
        top_p=args.top_p,
        max_tokens=args.max_tokens,
        base_url=args.base_url or os.environ.get("OPENAI_BASE_URL") or None,
        task_ids=_split(args.task) or None,
        request_timeout=args.request_timeout,
        retries=args.retries,
        concurrency=args.concurrency,
        check_timeout_ms=int(args.check_timeout * 1000),
        dynamic=not args.no_dynamic,
        static_score=args.static_score,
        paper_compat=args.paper_compat,
        price_in=args.price_in,
        price_out=args.price_out,
        cache_dir=None
        if args.no_cache
        else str(Path(args.cache_dir).resolve() if args.cache_dir else default_cache_dir()),
    )
    return config, ""


def _suite_and_tasks(
    args: argparse.Namespace, config: RunConfig
) -> tuple[Suite, list[Task], RunConfig]:
    """The suite and the tasks to run; a new run with --limit records the tasks it keeps."""
    from deepeval_lsp.benchmark.store import RunConfig
    from deepeval_lsp.diagnostics.tasks.model import SuiteError
    from deepeval_lsp.diagnostics.tasks.suite import load_suite

    try:
        suite = load_suite(config.suite)
        tasks = list(suite.tasks)
        if config.task_ids:
            tasks = [suite.get(t) for t in config.task_ids]
    except SuiteError as e:
        raise _Invalid(str(e)) from None
    if not args.resume and args.limit is not None:
        tasks = tasks[: max(0, args.limit)]
        config = RunConfig.from_json({**config.to_json(), "task_ids": [t.id for t in tasks]})
    return suite, tasks, config


def _models(config: RunConfig) -> list[ModelSource]:
    """The models to prompt, and the static score's tool when one is asked for."""
    from deepeval_lsp.benchmark.sources import ModelSpecError, parse_models

    try:
        models = parse_models(config.models)
    except ModelSpecError as e:
        raise _Invalid(str(e)) from None
    asking = [p for p in config.promptings if (spec := repair_of(p)) and spec.asks_model]
    replayed = [m.name for m in models if m.kind == "replay"]
    if asking and replayed:
        raise _Invalid(
            f"--prompting {asking[0]} asks the model again, which a replay cannot answer "
            f"({replayed[0]}); replayed programs take X+repair-fixes"
        )
    if config.static_score == "pylint":
        from deepeval_lsp.benchmark.pylint_score import PylintUnavailable, pylint_version

        try:
            pylint_version()
        except PylintUnavailable as e:
            raise _Invalid(f"--static-score pylint: {e}") from None
    return models


def _keras_tasks(tasks: list[Task]) -> int:
    return sum(1 for t in tasks if t.framework == "keras")


def _check_engines(config: RunConfig, tasks: list[Task]) -> None:
    """With --paper-compat: the paper engine can run here when a Keras task needs it, and a
    line says that PyTorch tasks keep the default engine."""
    from deepeval_lsp.diagnostics.dynamic.engines import PAPER

    if not (config.dynamic and config.paper_compat):
        return
    keras = _keras_tasks(tasks)
    if keras:
        reason = PAPER.unavailable()
        if reason:
            raise _Invalid(f"--paper-compat: {reason}")
    if keras < len(tasks):
        print(
            f"--paper-compat applies to Keras programs only: PyTorch tasks "
            f"({len(tasks) - keras} of {len(tasks)}) are scored with the default engine",
            file=sys.stderr,
        )


def _client(
    args: argparse.Namespace, config: RunConfig, models: list[ModelSource]
) -> ChatClient | None:
    """The OpenAI-compatible client, when an openai: model is in the run."""
    from pathlib import Path

    from deepeval_lsp.benchmark.generation import ChatClient, GenerationCache, Sampling

    if not any(m.kind == "openai" for m in models):
        return None
    base_url = config.base_url or "https://api.openai.com/v1"
    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        if config.base_url is None:
            raise _Invalid(
                "OPENAI_API_KEY is not set (needed for openai: models on "
                "api.openai.com; pass --base-url for another server)"
            )
        key = "none"  # local servers (vLLM, Ollama, llama.cpp) accept any key
    cache_dir = config.cache_dir
    if args.resume and (args.cache_dir or args.no_cache):  # a resume may move the cache
        cache_dir = None if args.no_cache else str(Path(args.cache_dir).resolve())
    return ChatClient(
        base_url=base_url,
        api_key=key,
        sampling=Sampling(config.temperature, config.top_p, config.max_tokens or None),
        concurrency=config.concurrency,
        request_timeout=config.request_timeout,
        retries=config.retries,
        backoff_base=args.retry_base_delay,
        cache=GenerationCache(Path(cache_dir) if cache_dir else None),
        price_in=config.price_in,
        price_out=config.price_out,
    )


def _start_run(db: sqlite_utils.Database, config: RunConfig, run_id: str, tasks: list[Task]) -> str:
    """Create the run (or take the resumed one's lease and mark it running) with its tasks, in
    one transaction; the run's id. A run another process is writing is refused."""
    from deepeval_lsp.benchmark.store import (
        StoreError,
        claim_run,
        create_run,
        record_tasks,
        set_run_status,
        write,
    )

    try:
        with write(db):
            if not run_id:
                run_id = create_run(db, config, __version__)
            else:
                claim_run(db, run_id)
                set_run_status(db, run_id, "running")
            record_tasks(db, run_id, tasks)
    except StoreError as e:
        raise _Invalid(str(e)) from None
    return run_id


def _local_executor(config: RunConfig, tasks: list[Task], workers: int) -> ScoreExecutor:
    """Threads over this process's scoring session, whose pools start now so that they warm
    while the first samples are generated; the executor closes the session."""
    from deepeval_lsp.benchmark.executor import LocalExecutor, ScoringSettings, start_checker

    settings = ScoringSettings.of(config)
    checker = start_checker(settings, tasks, workers)
    return LocalExecutor(checker, settings, workers, close_checker=True)


def _ray_executor(args: argparse.Namespace, config: RunConfig, tasks: list[Task]) -> ScoreExecutor:
    """The Ray cluster's scoring actors, started (and warming) before the run begins."""
    from deepeval_lsp.benchmark.executor import ScoringSettings
    from deepeval_lsp.benchmark.ray_executor import RayExecutor, RayUnavailable

    try:
        executor = RayExecutor(
            ScoringSettings.of(config),
            tasks,
            address=args.ray_address,
            actors=args.ray_actors,
            num_cpus=args.workers,
        )
    except RayUnavailable as e:
        raise _Invalid(str(e)) from None
    print(f"ray: {executor.stats.actors} scoring actors", file=sys.stderr)
    return executor


def _score(
    args: argparse.Namespace,
    db: sqlite_utils.Database,
    run_id: str,
    config: RunConfig,
    suite: Suite,
    tasks: list[Task],
    models: list[ModelSource],
    client: ChatClient | None,
    executor: ScoreExecutor,
) -> int:
    """Generate and score every missing sample, then print the run's table."""
    import asyncio
    import contextlib
    import shlex

    from deepeval_lsp.benchmark.generation import FatalGenerationError
    from deepeval_lsp.benchmark.progress import Progress
    from deepeval_lsp.benchmark.ray_executor import RayUnavailable
    from deepeval_lsp.benchmark.runner import Runner
    from deepeval_lsp.benchmark.store import StoreError, checkpoint, set_run_status

    quiet = args.quiet
    runner = Runner(
        db,
        run_id,
        config,
        suite,
        tasks,
        models,
        client=client,
        executor=executor,
        progress_factory=lambda n: Progress(n, enabled=not quiet),
    )
    resume_cmd = f"deepeval-lsp bench --db {shlex.quote(args.db)} --resume {run_id}"
    print(
        f"run {run_id}: {len(tasks)} tasks of suite {suite.name!r}, models "
        f"{', '.join(m.name for m in models)}; database {args.db}",
        file=sys.stderr,
    )
    try:
        stats = asyncio.run(runner.run())
    except KeyboardInterrupt:
        with contextlib.suppress(StoreError):
            set_run_status(db, run_id, "interrupted")
        print(
            f"\ninterrupted: {runner.stats.recorded} samples scored and saved this time.\n"
            f"resume with: {resume_cmd}",
            file=sys.stderr,
        )
        return 130
    except StoreError as e:
        print(
            f"deepeval-lsp bench: error: {e}\n"
            f"{runner.stats.recorded} samples were saved; resume with: {resume_cmd}",
            file=sys.stderr,
        )
        return 2
    except (FatalGenerationError, RayUnavailable) as e:
        message = str(e)
        with contextlib.suppress(StoreError):
            set_run_status(db, run_id, "failed", message)
        print(
            f"deepeval-lsp bench: error: {message}\n"
            f"{runner.stats.recorded} samples were saved; once fixed, resume with: "
            f"{resume_cmd}",
            file=sys.stderr,
        )
        return 1
    finally:
        executor.close()
        checkpoint(db)

    try:
        set_run_status(db, run_id, "finished")
    except StoreError as e:
        print(
            f"deepeval-lsp bench: error: {e}\nevery sample was saved; `--resume {run_id}` "
            "marks the run finished",
            file=sys.stderr,
        )
        return 2
    checkpoint(db)
    _print_summary(db, run_id, stats)
    return 0


def _print_summary(db, run_id: str, stats) -> None:
    from deepeval_lsp.benchmark.report.data import repair_for_runs, rows_for_runs
    from deepeval_lsp.benchmark.report.render import render_table

    rows = rows_for_runs(db, [run_id])
    repair = repair_for_runs(db, [run_id])
    skipped = f", {stats.skipped} already done" if stats.skipped else ""
    retries = f", {stats.retries} retries" if stats.retries else ""
    print(f"run {run_id}: {stats.recorded} samples scored{skipped}{retries}", file=sys.stderr)
    if stats.pylint_scored:
        print(f"pylint: {stats.pylint_scored} programs scored", file=sys.stderr)
    if stats.pylint_error:
        print(f"pylint score not computed: {stats.pylint_error}", file=sys.stderr)
    failed = db.execute(
        "select error, count(*) from samples where run_id = ? and outcome = 'error' "
        "group by error order by 2 desc",
        [run_id],
    ).fetchall()
    if failed:
        total = sum(n for _, n in failed)
        print(
            f"{total} samples could not be generated or checked (most often: "
            f"{failed[0][0]}); `--resume {run_id}` tries them again",
            file=sys.stderr,
        )
    print(render_table(rows, repair=repair))
