"""`deepeval-lsp report`: one row per model × prompting, as a table, CSV, JSON or HTML; the
repair promptings' rounds and the self-test runs' tables in sections of their own."""

from __future__ import annotations

import argparse
import sys

from deepeval_lsp.benchmark.report.render import FORMATS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", default="deepeval.db", help="the benchmark database (default: deepeval.db)"
    )
    parser.add_argument(
        "--run",
        action="append",
        metavar="ID",
        help="runs to report (repeatable; default: the latest run)",
    )
    parser.add_argument("--all", action="store_true", help="report every run of the database")
    parser.add_argument("--format", choices=FORMATS, default="table", help="(default: table)")
    parser.add_argument("--out", metavar="FILE", help="write there instead of stdout")


def run(args: argparse.Namespace) -> int:
    from deepeval_lsp.benchmark.report.data import (
        latest_run,
        repair_for_runs,
        rows_for_runs,
        selftest_for_runs,
    )
    from deepeval_lsp.benchmark.report.render import (
        render_csv,
        render_html,
        render_json,
        render_table,
    )
    from deepeval_lsp.benchmark.store import StoreError, list_runs, open_existing

    try:
        db = open_existing(args.db)
    except StoreError as e:
        print(f"deepeval-lsp report: error: {e}", file=sys.stderr)
        return 2
    runs = list_runs(db)
    if args.all:
        run_ids = [r["id"] for r in reversed(runs)]
    elif args.run:
        known = {r["id"] for r in runs}
        unknown = [r for r in args.run if r not in known]
        if unknown:
            print(
                f"deepeval-lsp report: error: no run {unknown[0]!r} in {args.db} "
                f"(`deepeval-lsp runs --db {args.db}` lists them)",
                file=sys.stderr,
            )
            return 2
        run_ids = list(args.run)
    else:
        latest = latest_run(db)
        run_ids = [latest] if latest else []
    if not run_ids:
        print(f"deepeval-lsp report: error: {args.db} holds no runs", file=sys.stderr)
        return 2
    # self-test runs have a table of their own, not model × prompting rows
    selftest = selftest_for_runs(db, run_ids)
    tested = {e["run_id"] for e in selftest}
    bench_runs = [r for r in run_ids if r not in tested]
    rows = rows_for_runs(db, bench_runs)
    repair = repair_for_runs(db, bench_runs)
    if args.format == "table":
        text = render_table(rows, selftest, repair) + "\n"
    elif args.format == "csv":
        text = render_csv(rows, selftest, repair)
    elif args.format == "json":
        text = render_json(rows, selftest, repair)
    else:
        text = render_html(rows, [r for r in runs if r["id"] in run_ids], selftest, repair)
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            print(
                f"deepeval-lsp report: error: cannot write {args.out}: {e.strerror}",
                file=sys.stderr,
            )
            return 2
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
