"""Scoring throughput of `deepeval-lsp bench` with the local executor and with Ray, side by side.

Both score the same N of the study's 4,800 published programs (default: all of them; spread
evenly over the four models, four promptings and 100 tasks) through the benchmark's own
pipeline (benchmark/runner.py: static, dynamic in the warm sandboxed workers, semantic; every
sample written to SQLite): the local executor with `--workers` threads over one Checker, then
the Ray executor with as many actors (one warm checker each) on a Ray instance started on this
machine, or on the cluster at `--ray-address` with `--actors` actors. Both are warmed first (the
zygotes, the static pass's introspection), as any run is on its first programs.

Prints programs/s of each and their ratio, the wall time per sample Ray adds, and the round
trip of a call that does no checking (an empty program: the driver → actor → driver cost alone,
one call at a time and with the actors' slots full). Usage:

    python perf/ray_throughput.py [--data ../shared/deepeval] [--programs 4800] [--workers 2]
        [--ray-address ADDR --actors N] [--skip-local]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_throughput import _programs  # the same spread of the corpus


def _setup(data: Path, programs: list):
    """The suite, the replay sources holding exactly `programs`, and the keys to score."""
    from deepeval_lsp.benchmark.sources import ModelSource, ReplayRecord
    from deepeval_lsp.diagnostics.tasks.suite import load_suite

    suite = load_suite(str(data / "DeepEval" / "benchmark" / "DeepEval"))
    sources: dict[str, ModelSource] = {}
    for model, prompting, task, index, path in programs:
        src = sources.setdefault(model, ModelSource(kind="replay", name=model, target=model))
        slot = src.records.setdefault((prompting, task), [])
        while len(slot) <= index:
            slot.append(None)  # type: ignore[arg-type]
        slot[index] = ReplayRecord(path.read_text(encoding="utf-8", errors="replace"), True)
    wanted = {(m, p, t, i) for m, p, t, i, _ in programs}
    return suite, sources, wanted


def _warm_codes(task) -> list[str]:
    tf = "import tensorflow as tf\nfrom tensorflow.keras import layers\n" + task.reference
    return [task.reference, tf]


def _run(suite, sources, wanted, executor) -> tuple[float, dict[str, int]]:
    """(scoring seconds, outcomes) of one bench run through `executor`."""
    from deepeval_lsp.benchmark.runner import Runner
    from deepeval_lsp.benchmark.store import RunConfig, create_run, open_db, record_tasks

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
        record_tasks(db, run_id, suite.tasks)
        runner = Runner(
            db, run_id, config, suite, suite.tasks, list(sources.values()),
            client=None, executor=executor, only=wanted,
        )  # fmt: skip
        t0 = time.perf_counter()
        asyncio.run(runner.run())
        elapsed = time.perf_counter() - t0
        outcomes = dict(db.execute("select outcome, count(*) from samples group by 1").fetchall())
        db.close()
    return elapsed, outcomes


async def _warm(executor, task, calls: int) -> None:
    """Each warm-up program `calls` times at once: with the least-loaded choice of the Ray
    executor, every actor gets one of each."""
    for code in _warm_codes(task):
        await asyncio.gather(*[executor.score(code, task) for _ in range(calls)])


def local(suite, sources, wanted, workers: int) -> tuple[float, float, dict[str, int]]:
    from deepeval_lsp.benchmark.executor import LocalExecutor, ScoringSettings, start_checker

    t0 = time.perf_counter()
    settings = ScoringSettings()
    executor = LocalExecutor(
        start_checker(settings, suite.tasks, workers), settings, workers, close_checker=True
    )
    try:
        asyncio.run(_warm(executor, suite.tasks[0], workers))
        warm = time.perf_counter() - t0
        elapsed, outcomes = _run(suite, sources, wanted, executor)
    finally:
        executor.close()
    return warm, elapsed, outcomes


def on_ray(
    suite, sources, wanted, address: str | None, actors: int | None, workers: int
) -> tuple[float, float, dict[str, int], float, float]:
    """(warm-up s, scoring s, outcomes, ms per no-op call alone, ms per no-op call in a
    full pipeline)."""
    from deepeval_lsp.benchmark.executor import ScoringSettings
    from deepeval_lsp.benchmark.ray_executor import RayExecutor

    t0 = time.perf_counter()
    executor = RayExecutor(
        ScoringSettings(), suite.tasks, address=address, actors=actors, num_cpus=workers
    )
    try:
        n = len(executor.actor_handles())
        task = suite.tasks[0]
        asyncio.run(_warm(executor, task, n))
        warm = time.perf_counter() - t0

        async def round_trips(calls: int, parallel: int) -> float:
            t = time.perf_counter()
            for _ in range(calls // parallel):
                await asyncio.gather(*[executor.score("", task) for _ in range(parallel)])
            return 1000 * (time.perf_counter() - t) / calls

        alone = asyncio.run(round_trips(200, 1))
        full = asyncio.run(round_trips(2000, n * executor.per_actor))
        elapsed, outcomes = _run(suite, sources, wanted, executor)
    finally:
        executor.close()
    return warm, elapsed, outcomes, alone, full


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data", default=os.environ.get("DEEPEVAL_DATA", str(here.parent / "shared" / "deepeval"))
    )
    p.add_argument("--programs", type=int, default=4800)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--ray-address", help="a Ray cluster (default: a Ray instance started here)")
    p.add_argument("--actors", type=int, help="Ray actors (default: one per CPU of the cluster)")
    p.add_argument("--skip-local", action="store_true", help="Ray only (a real cluster)")
    args = p.parse_args()
    data = Path(args.data)
    programs = _programs(data, args.programs)
    suite, sources, wanted = _setup(data, programs)
    n = len(programs)
    print(f"{n} study programs, {args.workers} workers, {os.cpu_count()} cores here")

    rate = None
    if not args.skip_local:
        warm, elapsed, outcomes = local(suite, sources, wanted, args.workers)
        rate = n / elapsed
        print(
            f"local: warm-up {warm:.1f} s; {n} programs in {elapsed:.1f} s = {rate:.2f} "
            f"programs/s ({1000 * elapsed / n:.1f} ms each); {outcomes}"
        )
    warm, ray_s, ray_outcomes, alone, full = on_ray(
        suite, sources, wanted, args.ray_address, args.actors, args.workers
    )
    ray_rate = n / ray_s
    print(
        f"ray  : warm-up {warm:.1f} s; {n} programs in {ray_s:.1f} s = {ray_rate:.2f} "
        f"programs/s ({1000 * ray_s / n:.1f} ms each); {ray_outcomes}"
    )
    print(f"ray round trip of a call that checks nothing: {alone:.2f} ms alone, {full:.2f} ms "
          "each with every actor slot busy")  # fmt: skip
    if rate is not None:
        print(
            f"ratio: ray is {ray_rate / rate:.2f}x local; Ray adds "
            f"{1000 * (ray_s - elapsed) / n:+.2f} ms of wall time per sample"
        )


if __name__ == "__main__":
    main()
