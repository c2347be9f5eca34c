"""A one-file `deepeval-lsp check --no-dynamic` from a cold process, side by side with `ruff check`.

Usage: python perf/static_cold_start.py [--rounds 10] [--file examples/torch_cnn_cifar10.py]
                                        [--live-rounds 2] [--ruff PATH]

Each round starts both commands as new processes on the same file, one after the other, and
records their wall-clock time and peak RSS (getrusage of the child); the medians and their ratio
are printed with the bars (≤ 150 ms, ≤ 60 MiB), and the best of each column (on a busy machine,
the closest to a quiet one). The API-surface cache is warm: a first, untimed
run builds it if needed (in the user cache directory, or --cache-dir). Bytecode is written and
used as in an installed package, whatever PYTHONDONTWRITEBYTECODE says. `--live-rounds` runs as
many checks that import the frameworks instead (DEEPEVAL_API_SURFACE=live: the check without the
cache), and `python -c pass` is timed as the interpreter's own floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAR_MS = 150.0
BAR_MIB = 60.0


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall milliseconds, peak RSS in MiB and CPU milliseconds (user + system) of one process;
    CPU time is the steadier figure on a busy machine."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - t0) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # 1: the file has findings
        raise SystemExit(f"{cmd} exited with {proc.returncode}")
    return wall, usage.ru_maxrss / 1024, (usage.ru_utime + usage.ru_stime) * 1000


def ours_command() -> list[str]:
    script = Path(sys.executable).with_name("deepeval-lsp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "deepeval_lsp"]


def find_ruff(given: str | None) -> str:
    for candidate in (given, str(Path(sys.executable).with_name("ruff")), shutil.which("ruff")):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("ruff not found: pass --ruff PATH")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--live-rounds", type=int, default=2)
    ap.add_argument("--file", default=str(ROOT / "examples" / "torch_cnn_cifar10.py"))
    ap.add_argument("--ruff", help="the ruff executable (default: next to this Python, or PATH)")
    ap.add_argument("--cache-dir", help="the API-surface cache folder (default: the user's)")
    args = ap.parse_args()

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.pop("DEEPEVAL_API_SURFACE", None)
    if args.cache_dir:
        env["DEEPEVAL_CACHE_DIR"] = args.cache_dir
    ours = [*ours_command(), "check", "--no-dynamic", "--color", "never", args.file]
    ruff = [find_ruff(args.ruff), "check", "--no-cache", "--quiet", args.file]
    floor = [sys.executable, "-c", "pass"]

    t0 = time.perf_counter()
    run(ours, env)  # builds the API surface when there is none yet, writes the bytecode
    print(f"warm-up (surface built if missing): {(time.perf_counter() - t0) * 1000:.0f} ms")
    run(ruff, env)

    print(f"file: {args.file}, load average {os.getloadavg()[0]:.2f}")
    head = ("round", "ours ms", "cpu ms", "MiB", "ruff ms", "cpu ms", "MiB", "ratio")
    line = "{:>6} {:>8} {:>7} {:>6}   {:>8} {:>7} {:>6}   {:>6}"
    print(line.format(*head))
    rows = []
    for i in range(args.rounds):
        o_ms, o_mib, o_cpu = run(ours, env)
        r_ms, r_mib, r_cpu = run(ruff, env)
        rows.append((o_ms, o_cpu, o_mib, r_ms, r_cpu, r_mib))
        print(line.format(i + 1, *(f"{x:.1f}" for x in rows[-1]), f"{o_ms / r_ms:.1f}x"))
    o_ms, o_cpu, o_mib, r_ms, r_cpu, r_mib = (statistics.median(c) for c in zip(*rows, strict=True))
    med = (o_ms, o_cpu, o_mib, r_ms, r_cpu, r_mib)
    print(line.format("median", *(f"{x:.1f}" for x in med), f"{o_ms / r_ms:.1f}x"))
    best = [min(c) for c in zip(*rows, strict=True)]  # the least disturbed run of each
    print(line.format("best", *(f"{x:.1f}" for x in best), f"{best[0] / best[3]:.1f}x"))
    py_ms = statistics.median(run(floor, env)[0] for _ in range(max(3, args.rounds // 2)))
    print(
        f"python -c pass: {py_ms:.1f} ms (the interpreter's start-up, in the bar); "
        f"ours beyond it: {o_ms - py_ms:.0f} ms"
    )
    if args.live_rounds:
        live_env = {**env, "DEEPEVAL_API_SURFACE": "live"}
        live = [run(ours, live_env) for _ in range(args.live_rounds)]
        l_ms = statistics.median(x[0] for x in live)
        l_mib = statistics.median(x[1] for x in live)
        print(
            f"without the cache (frameworks imported): {l_ms:.0f} ms, {l_mib:.0f} MiB "
            f"({l_ms / o_ms:.0f}x the cached check, {l_ms / r_ms:.0f}x ruff)"
        )
    ok_ms, ok_mib = o_ms <= BAR_MS, o_mib <= BAR_MIB
    print(
        f"bars: wall {o_ms:.0f} ms ≤ {BAR_MS:.0f}: {'yes' if ok_ms else 'NO'}; "
        f"peak RSS {o_mib:.0f} MiB ≤ {BAR_MIB:.0f}: {'yes' if ok_mib else 'NO'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
