"""`deepeval-lsp selftest`: inject known mistakes into the builtin references, score the checkers.

Prints the per-kind table (recall, right line, fix offered/verified/cleans) and false errors on
the untouched references, and stores each mutant as a sample of a run (model "selftest", its
kind in `selftest_mutants`) so `deepeval-lsp report` and `runs` show it.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from deepeval_lsp.benchmark.selftest import (
    OPERATORS,
    MutantResult,
    evaluate,
    false_errors,
    mutants,
    render_table,
    table,
)
from deepeval_lsp.benchmark.store import NO_PROMPTING

from deepeval_lsp import __version__

if TYPE_CHECKING:
    import sqlite_utils
    from deepeval_lsp.diagnostics.tasks.model import Task


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N tasks")
    parser.add_argument("--tasks", metavar="ID,ID", help="only these builtin tasks")
    parser.add_argument("--kinds", metavar="K,K", help=f"comma-separated: {', '.join(OPERATORS)}")
    parser.add_argument("--workers", type=int, default=2, help="checker workers (default: 2)")
    parser.add_argument(
        "--db", default="deepeval.db", help="SQLite database (default: deepeval.db)"
    )
    parser.add_argument("--no-store", action="store_true", help="print the table only")


def _sample(run_id: str, r: MutantResult, index: int) -> tuple[dict, dict]:
    """The sample row and scores of a mutant, the `index`-th mutant of its task."""
    m = r.mutant
    sample = {
        "run_id": run_id,
        "model": "selftest",
        "prompting": NO_PROMPTING,
        "task_id": m.task_id,
        "sample_index": index,
        "outcome": "checked",
        "valid": 1,
        "executable": None if r.executable is None else int(r.executable),
        "code": m.source,
        "raw_answer": m.description,
        "static_errors": None,
        "findings": len(r.codes),
        "failure_dl_error": None,
    }
    scores = {
        "detected": r.detected,
        "right_line": r.right_line,
        "fix_offered": r.fix_offered,
        "fix_verified": r.fix_verified,
        "fix_cleans": r.fix_cleans,
    }
    return sample, scores


def _store(
    db: sqlite_utils.Database,
    tasks: list[Task],
    results: list[MutantResult],
    rows: dict,
    bad: int,
    detail: dict[str, list[str]],
) -> str:
    """Record the self-test as a finished run, all in one transaction; the run's id."""
    from deepeval_lsp.benchmark.store import (
        RunConfig,
        create_run,
        record_mutant,
        record_tasks,
        release_run,
        set_run_status,
        write,
    )

    config = RunConfig(
        suite="builtin",
        models=["selftest"],
        promptings=[NO_PROMPTING],
        samples=1,
        temperature=0.0,
        top_p=1.0,
        max_tokens=0,
        base_url=None,
        task_ids=[t.id for t in tasks],
    )
    with write(db):
        run_id = create_run(db, config, __version__)
        record_tasks(db, run_id, tasks)
        per_task: dict[str, int] = {}
        for r in results:
            index = per_task.get(r.mutant.task_id, 0)
            per_task[r.mutant.task_id] = index + 1
            sample, scores = _sample(run_id, r, index)
            record_mutant(db, sample, {k: float(v) for k, v in scores.items()}, r.mutant.kind)
        db["selftest"].insert(
            {
                "run_id": run_id,
                "table": json.dumps(rows),
                "false_errors": bad,
                "references": len(tasks),
                "false_error_detail": json.dumps(detail),
            }
        )
        set_run_status(db, run_id, "finished")
        release_run(db, run_id)
    return run_id


def run(args: argparse.Namespace) -> int:
    from deepeval_lsp.benchmark.store import StoreError, checkpoint, open_db
    from deepeval_lsp.diagnostics.checker import Checker
    from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT
    from deepeval_lsp.diagnostics.tasks.suite import load_suite

    for name in ("limit", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"deepeval-lsp selftest: --{name} must be at least 1", file=sys.stderr)
            return 2
    kinds = [k.strip() for k in args.kinds.split(",")] if args.kinds else None
    unknown = [k for k in kinds or [] if k not in OPERATORS]
    if unknown:
        print(
            f"deepeval-lsp selftest: unknown kind {unknown[0]!r} (known: {', '.join(OPERATORS)})",
            file=sys.stderr,
        )
        return 2
    tasks = load_suite("builtin").tasks
    if args.tasks:
        wanted = [t.strip() for t in args.tasks.split(",")]
        known = {t.id for t in tasks}
        missing = [t for t in wanted if t not in known]
        if missing:
            print(f"deepeval-lsp selftest: no builtin task {missing[0]!r}", file=sys.stderr)
            return 2
        tasks = [t for t in tasks if t.id in wanted]
    tasks = tasks[: args.limit]
    db = None
    if not args.no_store:  # refuse an unusable database before the work, not after
        try:
            db = open_db(args.db)
        except StoreError as e:
            print(f"deepeval-lsp selftest: error: {e}", file=sys.stderr)
            return 2
    by_id = {t.id: t for t in tasks}
    todo = [m for t in tasks for m in mutants(t, kinds)]
    with Checker(args.workers) as checker:  # the builtin suite is PyTorch: the default engine
        pool = checker.start(DEFAULT)
        with ThreadPoolExecutor(args.workers) as ex:
            fp = list(ex.map(lambda t: false_errors(t, pool), tasks))
            results = list(ex.map(lambda m: evaluate(m, by_id[m.task_id], pool), todo))
    rows = table(results)
    detail = {t.id: f for t, f in zip(tasks, fp, strict=True) if f}
    bad = len(detail)
    print(render_table(rows, (bad, len(tasks)), detail))
    if db is not None:
        try:
            run_id = _store(db, tasks, results, rows, bad, detail)
        except StoreError as e:
            print(f"deepeval-lsp selftest: error: {e} (nothing was stored)", file=sys.stderr)
            return 2
        finally:
            checkpoint(db)
        print(f"stored as run {run_id} in {args.db}")
    return 0
