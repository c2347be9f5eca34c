"""Run the static pass over the DeepEval study's published programs and compare with the study.

Usage: python perf/study_static.py [--data ../shared/deepeval] [--show CODE]

Prints, per model, how many programs have Missing API Import and Non-Existent API Import /
Attribute Access / Module Import findings next to the study's NameError / ImportError /
AttributeError / ModuleNotFoundError counts (paper_results/runtime_error_taxonomy.json), and the
distribution of every code. Programs are only parsed and analysed, never run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from deepeval_lsp.diagnostics import CheckOptions, UncheckableFile, check, read_source
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.taxonomy import CODES

ROOT = Path(__file__).resolve().parents[1]
STUDY_KINDS = {
    c: (CODES[c].python_error, CODES[c].dl_error)
    for c in (
        T.MISSING_IMPORT,
        T.NONEXISTENT_API_IMPORT,
        T.NONEXISTENT_ATTRIBUTE,
        T.NONEXISTENT_MODULE,
    )
}


def study_counts(data: Path) -> dict[str, Counter]:
    tax = json.loads((data / "paper_results" / "runtime_error_taxonomy.json").read_text())
    out: dict[str, Counter] = {}
    for model, body in tax.items():
        c: Counter = Counter()
        for _perr, info in body["Python Error"].items():
            for dl, d in info["DL Error"].items():
                c[dl] += d["Number"]
        out[model] = c
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "deepeval"))
    ap.add_argument("--show", help="print every finding with this code")
    args = ap.parse_args()
    data = Path(args.data)
    responses = data / "DeepEval" / "response" / "DeepEval"
    if not responses.is_dir():
        print(f"study data not found at {data}", file=sys.stderr)
        return 2
    options = CheckOptions(dynamic=False, verify_fixes=False)
    files = sorted(responses.rglob("generated_code_*.py"))
    per_model: dict[str, Counter] = {}
    programs_with: dict[str, Counter] = {}
    crashes = 0
    empty = 0
    t0 = time.perf_counter()
    for f in files:
        model = f.relative_to(responses).parts[0]
        try:
            source = read_source(f)
        except UncheckableFile:
            continue
        if not source.strip():
            empty += 1
            continue
        try:
            report = check(source, str(f), options)
        except Exception:
            crashes += 1
            print(f"CRASH {f}", file=sys.stderr)
            traceback.print_exc()
            continue
        codes = Counter(d.code for d in report.diagnostics if d.severity == "error")
        per_model.setdefault(model, Counter()).update(codes)
        programs_with.setdefault(model, Counter()).update(set(codes))
        if args.show:
            for d in report.diagnostics:
                if d.code == args.show:
                    print(f"{f.relative_to(responses)}:{d.range.start.line + 1}: {d.message}")
    elapsed = time.perf_counter() - t0
    print(f"{len(files)} programs ({empty} empty) in {elapsed:.1f} s; crashes: {crashes}")
    study = study_counts(data)
    print()
    header = f"{'model':<34}{'finding (programs with it)':<38}{'ours':>6}{'study':>8}"
    print(header)
    print("-" * len(header))
    for model in sorted(per_model):
        for code, (perr, dl) in STUDY_KINDS.items():
            ours = programs_with[model][code]
            theirs = study.get(model, Counter())[dl]
            print(f"{model:<34}{code + ' ' + dl:<38}{ours:>6}{theirs:>8}   ({perr})")
    print()
    print("all error codes, programs with at least one:")
    total: Counter = Counter()
    for c in programs_with.values():
        total.update(c)
    for code, n in total.most_common():
        print(f"  {code}: {n}")
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
