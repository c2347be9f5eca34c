"""`deepeval-lsp bench`: prompt models on a task suite, score every sample, log it to SQLite.

With no arguments it runs `--suite builtin --model reference` (offline: no key, no network),
a sanity run in which every task answers with its own reference program.
"""

from __future__ import annotations

import argparse
import os
import sys

from deepeval_lsp.benchmark.prompting import PROMPTINGS

from deepeval_lsp import __version__

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
  deepeval-lsp bench --model openai:qwen2.5-coder --base-url http://localhost:8000/v1
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
        help=f"{', '.join(PROMPTINGS)}; repeatable or comma-separated (default: all four)",
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
    g.add_argument("--db", default="deepeval.db", help="SQLite database (default: deepeval.db)")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def _error(message: str) -> int:
    print(f"deepeval-lsp bench: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    import asyncio
    import shlex
    from pathlib import Path

    from deepeval_lsp.benchmark.generation import (
        ChatClient,
        FatalGenerationError,
        GenerationCache,
        Sampling,
        default_cache_dir,
    )
    from deepeval_lsp.benchmark.progress import Progress
    from deepeval_lsp.benchmark.runner import Runner
    from deepeval_lsp.benchmark.sources import ModelSpecError, parse_models
    from deepeval_lsp.benchmark.store import (
        RunConfig,
        StoreError,
        checkpoint,
        create_run,
        load_run,
        open_db,
        record_tasks,
        set_run_status,
    )
    from deepeval_lsp.diagnostics.tasks.model import SuiteError
    from deepeval_lsp.diagnostics.tasks.suite import load_suite

    if args.workers < 1:
        return _error("--workers must be at least 1")
    try:
        db = open_db(args.db)
    except StoreError as e:
        return _error(str(e))

    if args.resume:
        args.resume = args.resume.strip()
        try:
            _, config = load_run(db, args.resume)
        except StoreError as e:
            return _error(str(e))
        run_id = args.resume
    else:
        promptings = _split(args.prompting) or list(PROMPTINGS)
        unknown = [p for p in promptings if p not in PROMPTINGS]
        if unknown:
            return _error(f"unknown prompting {unknown[0]!r} (choose from {', '.join(PROMPTINGS)})")
        if args.samples < 1:
            return _error("--samples must be at least 1")
        if args.concurrency < 1:
            return _error("--concurrency must be at least 1")
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
        run_id = ""

    try:
        suite = load_suite(config.suite)
    except SuiteError as e:
        return _error(str(e))
    tasks = list(suite.tasks)
    if config.task_ids:
        try:
            tasks = [suite.get(t) for t in config.task_ids]
        except SuiteError as e:
            return _error(str(e))
    if not args.resume and args.limit is not None:
        tasks = tasks[: max(0, args.limit)]
        config = RunConfig.from_json({**config.to_json(), "task_ids": [t.id for t in tasks]})
    try:
        models = parse_models(config.models)
    except ModelSpecError as e:
        return _error(str(e))
    if config.static_score == "pylint":
        from deepeval_lsp.benchmark.pylint_score import PylintUnavailable, pylint_version

        try:
            pylint_version()
        except PylintUnavailable as e:
            return _error(f"--static-score pylint: {e}")

    keras_tasks = sum(1 for t in tasks if t.framework == "keras")
    paper = config.dynamic and config.paper_compat and keras_tasks > 0
    if paper:
        from deepeval_lsp.diagnostics.paper.engine import available

        reason = available()
        if reason:
            return _error(f"--paper-compat: {reason}")
    if config.dynamic and config.paper_compat and keras_tasks < len(tasks):
        print(
            f"--paper-compat applies to Keras programs only: PyTorch tasks "
            f"({len(tasks) - keras_tasks} of {len(tasks)}) are scored with the default engine",
            file=sys.stderr,
        )

    client = None
    if any(m.kind == "openai" for m in models):
        base_url = config.base_url or "https://api.openai.com/v1"
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            if config.base_url is None:
                return _error(
                    "OPENAI_API_KEY is not set (needed for openai: models on "
                    "api.openai.com; pass --base-url for another server)"
                )
            key = "none"  # local servers (vLLM, Ollama, llama.cpp) accept any key
        cache_dir = config.cache_dir
        if args.resume and (args.cache_dir or args.no_cache):  # a resume may move the cache
            cache_dir = None if args.no_cache else str(Path(args.cache_dir).resolve())
        cache = GenerationCache(Path(cache_dir) if cache_dir else None)
        client = ChatClient(
            base_url=base_url,
            api_key=key,
            sampling=Sampling(config.temperature, config.top_p, config.max_tokens or None),
            concurrency=config.concurrency,
            request_timeout=config.request_timeout,
            retries=config.retries,
            backoff_base=args.retry_base_delay,
            cache=cache,
            price_in=config.price_in,
            price_out=config.price_out,
        )

    if not run_id:
        run_id = create_run(db, config, __version__)
    else:
        set_run_status(db, run_id, "running")
    record_tasks(db, run_id, tasks)

    # With --paper-compat, Keras tasks go to the paper engine's pool, the others to the default.
    paper_pool = _worker_pool(args.workers, "paper") if paper else None
    pool = None
    if config.dynamic and (not paper or keras_tasks < len(tasks)):
        pool = _worker_pool(args.workers)
    quiet = args.quiet
    runner = Runner(
        db,
        run_id,
        config,
        suite,
        tasks,
        models,
        client=client,
        workers=args.workers,
        pool=pool,
        paper_pool=paper_pool,
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
        set_run_status(db, run_id, "interrupted")
        print(
            f"\ninterrupted: {runner.stats.recorded} samples scored and saved this time.\n"
            f"resume with: {resume_cmd}",
            file=sys.stderr,
        )
        return 130
    except FatalGenerationError as e:
        message = str(e)
        set_run_status(db, run_id, "failed", message)
        print(
            f"deepeval-lsp bench: error: {message}\n"
            f"{runner.stats.recorded} samples were saved; once fixed, resume with: "
            f"{resume_cmd}",
            file=sys.stderr,
        )
        return 1
    finally:
        _close(pool)
        _close(paper_pool)
        checkpoint(db)

    set_run_status(db, run_id, "finished")
    checkpoint(db)
    _print_summary(db, run_id, stats)
    return 0


def _worker_pool(size: int, engine: str = "default"):
    """The warm worker pool of `engine`, when this build has one (else checks run without it)."""
    try:
        from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
    except ImportError:
        return None
    return WorkerPool(size, engine=engine)


def _close(pool) -> None:
    if pool is None:
        return
    for name in ("close", "shutdown"):
        fn = getattr(pool, name, None)
        if callable(fn):
            fn()
            return


def _print_summary(db, run_id: str, stats) -> None:
    from deepeval_lsp.benchmark.report.data import rows_for_runs
    from deepeval_lsp.benchmark.report.render import render_table

    rows = rows_for_runs(db, [run_id])
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
    print(render_table(rows))
