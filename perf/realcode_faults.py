"""Inject realistic shape faults into the real-code corpus's models, and see whether `check`
finds each at its line and whether `check --fix` repairs it.

    python perf/realcode_faults.py [--corpus ../shared/realcode] [--only SUBSTRING] [--keep]

Each fault of FAULTS changes one expression of one corpus file (a Linear's in_features, a conv's
in_channels, a ConvTranspose's channels, a LayerNorm's size, a view/reshape, an embedding
dimension, a head count). The repository is copied to a temporary folder (the corpus is never
written), the fault is applied there, and `deepeval-lsp check --format json` runs from the copy's
root as a user would. A fault is found when an error-severity finding starts on the fault's line
or on the line of the layer it names. Then `check --fix` runs on the copy; the fix is good when
the file is clean afterwards, and it restores the user's expression when the file is then equal to
the original (a fix that writes a literal where the code had `int(512 * alpha)` is clean but does
not). Printed: one line per fault, then found / fixed-clean / restored counts and ratios.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "realcode"


@dataclass(frozen=True)
class Fault:
    repo: str
    path: str  # relative to the repository's root
    old: str  # the exact text replaced (its first occurrence after `after`)
    new: str
    kind: str
    after: str = ""  # an anchor: the replacement is searched for after its first occurrence
    also: tuple[str, ...] = ()  # other lines (their text) where the finding may be reported


FAULTS: list[Fault] = []


def apply(fault: Fault, text: str) -> tuple[str, int]:
    """The faulty text and the 0-based line of the change."""
    start = text.index(fault.after) if fault.after else 0
    at = text.index(fault.old, start)
    return text[:at] + fault.new + text[at + len(fault.old) :], text.count("\n", 0, at)


def _check(root: Path, rel: str, *extra: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "check", "--format", "json", *extra, rel],
        cwd=root,
        capture_output=True,
        text=True,
    )
    try:
        return json.loads(proc.stdout)[0]["diagnostics"]
    except (json.JSONDecodeError, IndexError, KeyError):
        raise RuntimeError(f"check failed on {rel}: {proc.stderr[-1500:]}") from None


def run_fault(corpus: Path, fault: Fault, keep: bool) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="faults-"))
    try:
        root = tmp / fault.repo
        shutil.copytree(corpus / fault.repo, root)
        target = root / fault.path
        original = target.read_text(encoding="utf-8")
        faulty, line = apply(fault, original)
        target.write_text(faulty, encoding="utf-8")
        lines = faulty.splitlines()
        wanted = {line} | {i for i, t in enumerate(lines) for a in fault.also if a in t}
        errors = [d for d in _check(root, fault.path) if d["severity"] == "error"]
        hit = [d for d in errors if d["range"]["start"]["line"] in wanted]
        out: dict[str, Any] = {
            "fault": fault,
            "line": line + 1,
            "found": bool(hit),
            "errors": errors,
            "fixed_clean": False,
            "restored": False,
        }
        if hit:
            subprocess.run(
                [sys.executable, "-m", "deepeval_lsp", "check", "--fix", fault.path],
                cwd=root,
                capture_output=True,
                text=True,
            )
            after = target.read_text(encoding="utf-8")
            out["fixed"] = after != faulty
            if out["fixed"]:
                left = [d for d in _check(root, fault.path) if d["severity"] == "error"]
                out["fixed_clean"] = not left
                out["restored"] = after == original
        return out
    finally:
        if keep:
            print(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--only", help="only faults whose repo/path contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copies")
    args = ap.parse_args(argv)
    if not (args.corpus / "files.txt").is_file():
        print(f"no corpus at {args.corpus} (files.txt missing)", file=sys.stderr)
        return 2
    faults = [f for f in FAULTS if not args.only or args.only in f"{f.repo}/{f.path}"]
    results = []
    for fault in faults:
        r = run_fault(args.corpus, fault, args.keep)
        results.append(r)
        first = r["errors"][0] if r["errors"] else None
        said = f"{first['code']} line {first['range']['start']['line'] + 1}" if first else "-"
        verdict = "FOUND" if r["found"] else "missed"
        fix = "restored" if r["restored"] else "clean" if r["fixed_clean"] else "no fix"
        print(
            f"{verdict:6} {fix:8} {fault.kind:22} {fault.repo}/{fault.path}:{r['line']} "
            f"(first error: {said})"
        )
    n = len(results)
    found = sum(r["found"] for r in results)
    clean = sum(r["fixed_clean"] for r in results)
    restored = sum(r["restored"] for r in results)
    if n:
        print(f"\n{n} faults: found at their line {found} ({100 * found / n:.0f} %)")
        if found:
            print(f"  found and left clean by --fix: {clean} ({100 * clean / found:.0f} %)")
            print(
                f"  fixed to the user's own expression: {restored} ({100 * restored / found:.0f} %)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
