"""Run the dynamic pass over the DeepEval study's 4,800 programs and compare with the study.

Usage: python perf/study_dynamic.py [--data ../shared/deepeval] [--workers 2] [--limit N]
                                    [--timeout 20] [--show DL301]

Every program runs as the study ran it (import it, `dl_model()`, `summary()`, `compile()` with
Adam(0.01) and SparseCategoricalCrossentropy), but in the sandboxed warm worker pool, on the meta
device, on Keras 3 (torch backend) with `tensorflow` mapped onto it. Prints the executability rate
per model × prompting next to the study's (paper_results/executability_by_model_prompting.csv) and
the distribution of the first failure's DL error category next to the study's
(runtime_error_taxonomy.json). The study ran TensorFlow 2.11 / Keras 2.11: Keras 3 refuses some
things Keras 2 accepted (raw TF ops on symbolic tensors), so differences are expected; the
paper-faithful engine is a separate one. Every program must get a verdict: no crash, no hang.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deepeval_lsp.diagnostics import Checker, CheckOptions
from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT
from deepeval_lsp.diagnostics.dynamic.job import run_job
from deepeval_lsp.diagnostics.dynamic.run import interpret
from deepeval_lsp.diagnostics.taxonomy import CODES, STUDY_DL_ERRORS

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("gpt_4o", "codellama_7b_instruct_hf", "deepseek_coder_v2_lite_instruct", "gemma_2_9b_it")
PROMPTINGS = ("zeroshot", "oneshot", "oneshotcot", "fewshot")


def programs(data: Path, limit: int | None) -> list[tuple[str, str, Path]]:
    base = data / "DeepEval" / "response" / "DeepEval"
    out = []
    for model in MODELS:
        for prompting in PROMPTINGS:
            files = sorted((base / model / prompting).glob("*/generated_code_*.py"))
            out.extend((model, prompting, f) for f in files[: limit or None])
    return out


def requirement(data: Path, task: str) -> str:
    level = task.split("_")[0].capitalize()
    y = data / "DeepEval" / "benchmark" / "DeepEval" / level / f"{task}.yaml"
    return y.read_text(errors="replace") if y.exists() else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "deepeval")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, help="programs per model × prompting (default: all)")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--show", metavar="CODE", help="print the messages of this code")
    ap.add_argument("--jsonl", type=Path, help="write one verdict per program to this file")
    ap.add_argument("--files", type=Path, help="only the programs listed in this file")
    args = ap.parse_args()
    if not (args.data / "DeepEval").is_dir():
        print(f"study data not found under {args.data}", file=sys.stderr)
        return 2
    todo = programs(args.data, args.limit)
    if args.files:
        wanted = set(args.files.read_text().split())
        todo = [t for t in todo if str(t[2]) in wanted]
    out = args.jsonl.open("w") if args.jsonl else None
    checker = Checker(args.workers)
    pool = checker.start(DEFAULT)
    options = CheckOptions(timeout_ms=int(args.timeout * 1000))
    verdicts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    taxonomy: dict[str, Counter] = defaultdict(Counter)
    statuses: Counter = Counter()
    shown: list[str] = []
    no_verdict: list[str] = []
    t0 = time.perf_counter()

    def one(item: tuple[str, str, Path]) -> tuple[str, str, Path, dict | None, str]:
        model, prompting, path = item
        source = path.read_text(errors="replace")
        if not source.strip():
            return model, prompting, path, None, ""
        req = requirement(args.data, path.parent.name)
        opts = CheckOptions(timeout_ms=options.timeout_ms, requirement=req)
        return (
            model,
            prompting,
            path,
            run_job(pool, source, str(path), opts, extra={"max_errors": 1}),
            source,
        )

    try:
        with ThreadPoolExecutor(args.workers) as ex:
            for n, (model, prompting, path, raw, source) in enumerate(ex.map(one, todo), 1):
                cell = verdicts[(model, prompting)]
                if raw is None:
                    cell["empty"] += 1
                    continue
                cell["valid"] += 1
                statuses[raw.get("status", "?")] += 1
                res = interpret(raw, source, str(path))
                if out is not None:
                    first = next(iter(res.diagnostics), None)
                    out.write(
                        json.dumps(
                            {
                                "path": str(path),
                                "model": model,
                                "prompting": prompting,
                                "executable": res.executable,
                                "status": raw.get("status"),
                                "code": first.code if first else None,
                                "python_error": first.python_error if first else None,
                                "line": first.range.start.line + 1 if first else None,
                                "message": first.message if first else None,
                                "notes": res.notes,
                            }
                        )
                        + "\n"
                    )
                if res.executable is True:
                    cell["success"] += 1
                elif res.executable is False:
                    cell["failed"] += 1
                    first = next((d for d in res.diagnostics if d.severity == "error"), None)
                    if first is not None:
                        taxonomy[model][CODES[first.code].dl_error] += 1
                        if args.show and first.code == args.show:
                            shown.append(f"{path}:{first.range.start.line + 1}: {first.message}")
                else:
                    cell["undecided"] += 1
                    why = [d.message for d in res.diagnostics] or res.notes
                    taxonomy[model]["(not checkable)"] += 1
                    if raw.get("status") != "ok":
                        no_verdict.append(f"{path}: {raw.get('status')}: {raw.get('detail')}")
                    elif args.show == "DL401":
                        shown.append(f"{path}: {why[:1]}")
                if n % 200 == 0:
                    print(
                        f"… {n}/{len(todo)} programs, {time.perf_counter() - t0:.0f} s",
                        file=sys.stderr,
                    )
    finally:
        checker.close()
        if out is not None:
            out.close()
    elapsed = time.perf_counter() - t0
    report(args.data, verdicts, taxonomy, statuses, len(todo), elapsed)
    for line in shown[:80]:
        print(line)
    if no_verdict:
        print(f"\n{len(no_verdict)} programs without a verdict from the worker:")
        for line in no_verdict[:40]:
            print("  " + line)
    return 0


def report(data: Path, verdicts, taxonomy, statuses, total: int, elapsed: float) -> None:
    study = {}
    with (data / "paper_results" / "executability_by_model_prompting.csv").open() as f:
        for row in csv.DictReader(f):
            study[(row["model"], row["prompting"])] = float(row["rate_percent"])
    print(
        f"{total} programs in {elapsed:.0f} s ({1000 * elapsed / max(total, 1):.0f} ms each); "
        f"worker outcomes: {dict(statuses)}\n"
    )
    print(
        f"{'model':<34}{'prompting':<12}{'valid':>6}{'ok':>6}{'fail':>6}{'n/c':>5}"
        f"{'ours %':>8}{'study %':>9}{'diff':>7}"
    )
    for model in MODELS:
        for prompting in PROMPTINGS:
            c = verdicts.get((model, prompting))
            if not c:
                continue
            rate = 100 * c["success"] / c["valid"] if c["valid"] else 0.0
            ref = study.get((model, prompting))
            diff = f"{rate - ref:+.1f}" if ref is not None else ""
            print(
                f"{model:<34}{prompting:<12}{c['valid']:>6}{c['success']:>6}{c['failed']:>6}"
                f"{c['undecided']:>5}{rate:>8.1f}{ref if ref is not None else float('nan'):>9.1f}"
                f"{diff:>7}"
            )
    tax = json.loads((data / "paper_results" / "runtime_error_taxonomy.json").read_text())
    study_tax: dict[str, Counter] = defaultdict(Counter)
    for model, body in tax.items():
        for info in body["Python Error"].values():
            for dl, d in info["DL Error"].items():
                study_tax[model][dl] += d["Number"]
    print("\nFirst failure by DL error category (ours / study), all four models:")
    ours_all: Counter = sum(taxonomy.values(), Counter())
    study_all: Counter = sum(study_tax.values(), Counter())
    cats = [*STUDY_DL_ERRORS, *sorted(set(ours_all) - set(STUDY_DL_ERRORS))]
    for cat in cats:
        if ours_all[cat] or study_all[cat]:
            print(f"  {cat:<38}{ours_all[cat]:>6} / {study_all[cat]:<6}")


if __name__ == "__main__":
    sys.exit(main())
