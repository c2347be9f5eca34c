"""Static pass latency on a 300-line model file, side by side with pylint in-process.

Usage: python perf/static_speed.py [--runs 60] [--file perf/data/model_300.py]

The framework is imported and the pass warmed once first (as in the language server, which
keeps them loaded); then each run analyses the whole file. pylint runs in the same process on
the same file (warm after its first run) and the ratio of the medians is printed. Fix
verification (re-checking each suggested fix) is timed separately: it is not part of the
every-keystroke budget.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from contextlib import redirect_stdout
from pathlib import Path

from deepeval_lsp.diagnostics import CheckOptions, check

ROOT = Path(__file__).resolve().parents[1]


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(q / 100 * (len(xs) - 1))))
    return xs[k]


def time_runs(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each run (CPU time is steadier on a busy machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--pylint-runs", type=int, default=10)
    ap.add_argument("--file", default=str(ROOT / "perf" / "data" / "model_300.py"))
    args = ap.parse_args()
    path = args.file
    source = Path(path).read_text()
    lines = len(source.splitlines())

    static = CheckOptions(dynamic=False, verify_fixes=False)
    verified = CheckOptions(dynamic=False, verify_fixes=True)
    t0 = time.perf_counter()
    first = check(source, path, static)
    print(f"file: {path} ({lines} lines, {len(first.diagnostics)} findings)")
    print(f"first run (imports torch/keras, builds caches): {(time.perf_counter() - t0):.2f} s")

    ours = time_runs(lambda: check(source, path, static), args.runs)
    with_fixes = time_runs(lambda: check(source, path, verified), max(10, args.runs // 3))

    from pylint.lint import Run

    def pylint_once() -> None:
        with redirect_stdout(io.StringIO()):
            Run([path, "--disable=duplicate-code", "--score=n", "--jobs=1"], exit=False)

    t0 = time.perf_counter()
    pylint_once()
    pylint_first = time.perf_counter() - t0
    theirs = time_runs(pylint_once, args.pylint_runs)

    def row(name: str, xs: list[float], cpu: list[float]) -> str:
        return (
            f"{name:<30} n={len(xs):>3}  wall p50={statistics.median(xs):8.2f}"
            f" p95={percentile(xs, 95):8.2f} ms   cpu p50={statistics.median(cpu):8.2f}"
            f" p95={percentile(cpu, 95):8.2f} ms"
        )

    print()
    print(row("deepeval-lsp static pass", *ours))
    print(row("  + verifying every fix", *with_fixes))
    print(row("pylint in-process (warm)", *theirs))
    print(f"pylint first run: {pylint_first:.2f} s")
    ratio = statistics.median(theirs[0]) / statistics.median(ours[0])
    p95 = percentile(ours[0], 95)
    print(f"\nstatic pass wall p95 {p95:.2f} ms (target <= 15 ms): {'OK' if p95 <= 15 else 'OVER'}")
    print(f"pylint / deepeval-lsp (median wall time): {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
