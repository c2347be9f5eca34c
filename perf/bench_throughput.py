"""Scoring throughput of `deepeval-lsp bench` against the naive harness, side by side.

Ours: the benchmark's own pipeline (benchmark/runner.py) replaying N of the study's published
programs (default 300, spread evenly over the four models, four promptings and 100 tasks):
the static, dynamic (warm worker pool) and semantic passes, every sample written to SQLite.
The naive harness, on a subset (default 5 programs): what a study-style script does per
program, the pylint CLI (duplicate-code disabled) plus a fresh `python` that imports the
program, calls `dl_model()`, `summary()` and `compile()`.

Prints programs/s for both, the ratio, and the time extrapolated to all 9,600 programs of the
study (8 models × 4 promptings × 100 tasks × 3 samples). Usage:

    python perf/bench_throughput.py [--data ../shared/deepeval] [--programs 300] [--naive 5]
        [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STUDY_PROGRAMS = 9600
NAIVE_RUNNER = """\
import importlib.util, sys
spec = importlib.util.spec_from_file_location("prog", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
from keras.optimizers import Adam
from keras.losses import SparseCategoricalCrossentropy
model = mod.dl_model()
model.summary()
model.compile(optimizer=Adam(learning_rate=0.01), loss=SparseCategoricalCrossentropy(),
              metrics=["accuracy"])
"""


def _programs(data: Path, n: int) -> list[tuple[str, str, str, int, Path]]:
    """(model, prompting, task, index, path) of n programs spread evenly over the corpus."""
    root = data / "DeepEval" / "response" / "DeepEval"
    files = sorted(root.glob("*/*/*/generated_code_*.py"))
    if not files:
        sys.exit(f"no programs under {root}")
    step = max(1, len(files) // n)
    out = []
    for f in files[::step][:n]:
        model, prompting, task = f.parts[-4], f.parts[-3], f.parts[-2]
        index = int(f.stem.rsplit("_", 1)[1]) - 1
        out.append((model, prompting, task, index, f))
    return out


def ours(data: Path, programs: list, workers: int) -> tuple[float, float, dict[str, int]]:
    """(warm-up seconds, scoring seconds, outcomes) through the bench pipeline."""
    from deepeval_lsp.benchmark.runner import Runner
    from deepeval_lsp.benchmark.sources import ModelSource, ReplayRecord
    from deepeval_lsp.benchmark.store import RunConfig, create_run, open_db, record_tasks
    from deepeval_lsp.diagnostics.checker import Checker
    from deepeval_lsp.diagnostics.tasks.suite import load_suite

    suite = load_suite(str(data / "DeepEval" / "benchmark" / "DeepEval"))
    tasks = suite.tasks
    # one replay source per (model, prompting, task, index): each planned job is one program
    sources: dict[str, ModelSource] = {}
    for model, prompting, task, index, path in programs:
        src = sources.setdefault(model, ModelSource(kind="replay", name=model, target=model))
        slot = src.records.setdefault((prompting, task), [])
        while len(slot) <= index:
            slot.append(None)  # type: ignore[arg-type]
        slot[index] = ReplayRecord(path.read_text(encoding="utf-8", errors="replace"), True)
    wanted = {(m, p, t, i) for m, p, t, i, _ in programs}

    t0 = time.perf_counter()
    checker = Checker(workers)
    # warm up once, as any run does on its first programs: the zygotes, and the static pass's
    # introspection of keras and of the tensorflow surface
    from deepeval_lsp.benchmark.scoring import options_for, score_program

    tf_snippet = (
        "import tensorflow as tf\nfrom tensorflow.keras import layers\n" + tasks[0].reference
    )
    for code in (tasks[0].reference, tf_snippet):
        options = options_for(tasks[0])
        score_program(code, tasks[0], options, pool=checker.pool_for(code, options))
    warm = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "perf.db")
        config = RunConfig(
            suite=suite.path,
            models=list(sources),
            promptings=["zeroshot", "oneshot", "oneshotcot", "fewshot"],
            samples=3,
            temperature=0.8,
            top_p=0.95,
            max_tokens=0,
            base_url=None,
        )
        run_id = create_run(db, config, "perf")
        record_tasks(db, run_id, tasks)
        runner = Runner(
            db,
            run_id,
            config,
            suite,
            tasks,
            list(sources.values()),
            client=None,
            workers=workers,
            checker=checker,
            only=wanted,
        )
        t1 = time.perf_counter()
        try:
            asyncio.run(runner.run())
        finally:
            checker.close()
        elapsed = time.perf_counter() - t1
        outcomes = dict(db.execute("select outcome, count(*) from samples group by 1").fetchall())
    return warm, elapsed, outcomes


def naive(programs: list) -> float:
    """Seconds for the naive harness over `programs` (pylint CLI + a fresh python each)."""
    env = {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with tempfile.TemporaryDirectory() as tmp:
        runner = Path(tmp) / "run_one.py"
        runner.write_text(NAIVE_RUNNER)
        t0 = time.perf_counter()
        for *_, path in programs:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pylint",
                    "--disable=duplicate-code",
                    "--score=y",
                    str(path),
                ],
                capture_output=True,
                env=env,
                cwd=tmp,
            )
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(
                    [sys.executable, str(runner), str(path)],
                    capture_output=True,
                    env=env,
                    cwd=tmp,
                    timeout=120,
                )
        return time.perf_counter() - t0


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data", default=os.environ.get("DEEPEVAL_DATA", str(here.parent / "shared" / "deepeval"))
    )
    p.add_argument("--programs", type=int, default=300)
    p.add_argument("--naive", type=int, default=5)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    data = Path(args.data)
    programs = _programs(data, args.programs)
    print(f"{len(programs)} study programs, {args.workers} workers, {os.cpu_count()} cores")

    warm, elapsed, outcomes = ours(data, programs, args.workers)
    rate = len(programs) / elapsed
    print(
        f"ours : warm-up {warm:.1f} s; {len(programs)} programs in {elapsed:.1f} s = "
        f"{rate:.2f} programs/s ({1000 * elapsed / len(programs):.0f} ms each); {outcomes}"
    )

    subset = programs[:: max(1, len(programs) // max(1, args.naive))][: args.naive]
    naive_s = naive(subset) if subset else 0.0
    if subset:
        naive_rate = len(subset) / naive_s
        print(
            f"naive: {len(subset)} programs in {naive_s:.1f} s = {naive_rate:.3f} programs/s "
            f"({naive_s / len(subset):.1f} s each: pylint CLI + fresh python)"
        )
        print(f"ratio: ours is {rate / naive_rate:.0f}x the naive harness")
        print(f"9,600 programs, naive: {STUDY_PROGRAMS / naive_rate / 3600:.1f} h")
    total = warm + STUDY_PROGRAMS / rate
    print(f"9,600 programs, ours: {total / 60:.1f} min (warm-up included)")


if __name__ == "__main__":
    main()
