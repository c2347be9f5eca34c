"""`deepeval-lsp runs`: the runs of a benchmark database, newest first."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", default="deepeval.db", help="the benchmark database (default: deepeval.db)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from deepeval_lsp.benchmark.store import StoreError, list_runs, open_existing

    try:
        db = open_existing(args.db)
    except StoreError as e:
        print(f"deepeval-lsp runs: error: {e}", file=sys.stderr)
        return 2
    runs = list_runs(db)
    if args.json:
        for r in runs:
            r["models"] = json.loads(r["models"])
            r["promptings"] = json.loads(r["promptings"])
        print(json.dumps(runs, indent=2))
        return 0
    if not runs:
        print(f"no runs in {args.db}")
        return 0
    header = ["run", "created", "status", "samples", "valid", "exec", "suite", "models"]
    body = []
    for r in runs:
        suite = r["suite"] if len(r["suite"]) <= 40 else "…" + r["suite"][-39:]
        body.append(
            [
                r["id"],
                r["created_at"][:19].replace("T", " "),
                r["status"],
                str(r["samples"]),
                str(r["valid"] or 0),
                str(r["executable"]) if r["measured"] else "–",
                suite,
                ", ".join(json.loads(r["models"])),
            ]
        )
    widths = [max(len(x) for x in col) for col in zip(header, *body, strict=False)]
    for row in [header, ["-" * w for w in widths], *body]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    return 0
