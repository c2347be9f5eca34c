"""Score the DeepEval study's published programs and set the results beside the study's own.

The study's layout (its repository, or ../shared/deepeval): `DeepEval/benchmark/DeepEval/<Level>/`
holds the tasks' references, `DeepEval/response/DeepEval/<model>/<prompting>/<task>/
generated_code_<k>.py` the programs, `paper_results/` the published tables. Per model × prompting
this computes, next to the study's figure:

- executability (the study's contract: import the module, `dl_model()`, `summary()`, `compile()`)
  with the default engine (Keras 3 on torch, the dynamic pass's job stopped at the first error)
  and/or the paper-compatible engine (TensorFlow + tf-keras); the rate is successes over
  non-empty programs, as the study's; per model the shares of the first failure's DL error;
- the pylint score (benchmark/pylint_score.py; mean over tasks of the mean over a task's
  non-empty programs) and pylint's message counts;
- semantic similarity: API-set and API-sequence F1 against the task's reference, mean over tasks
  of each task's score averaged over its samples as the study did
  (diagnostics.semantic.similarity.study_task_scores with the study's rules, study_rules.py).

Each dimension reads a program as the study's run of it did (benchmark/study/text.py): pylint
without the note that some published files carry, executability without it and with
`dl_model()` completed where a program has none, semantic similarity the published file.

Each dimension's work runs concurrently (worker pool, pylint child processes, semantic pass in a
thread), so the whole corpus fits the 2-core budget of DESIGN.md §10.
"""

from __future__ import annotations

import csv
import json
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from deepeval_lsp.benchmark.pylint_score import PylintUnavailable, pylint_files
from deepeval_lsp.benchmark.study.text import completed_for_run, study_source
from deepeval_lsp.diagnostics.checker import Checker
from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, PAPER, Engine, Pool
from deepeval_lsp.diagnostics.dynamic.wire import PaperVerdict, PoolOutcome
from deepeval_lsp.diagnostics.semantic.api_graph import ExtractionError
from deepeval_lsp.diagnostics.semantic.similarity import MEASURES, study_task_scores
from deepeval_lsp.diagnostics.semantic.study_rules import STUDY_RULES
from deepeval_lsp.diagnostics.taxonomy import CODES, STUDY_DL_ERRORS

PROMPTINGS = ("zeroshot", "oneshot", "oneshotcot", "fewshot")
DIMENSIONS = ("executability", "pylint", "semantic")
# The taxonomy shares reported: these four DL errors, everything else is "other".
SHARE_CATEGORIES = STUDY_DL_ERRORS[:4]
PYLINT_KINDS = ("convention", "warning", "error", "refactor", "fatal")


class StudyDataError(ValueError):
    """The study's folder is not where it was said to be, or lacks a table (one-line reason)."""


@dataclass(frozen=True)
class Program:
    model: str
    prompting: str
    task: str
    path: Path

    @property
    def cell(self) -> tuple[str, str]:
        return self.model, self.prompting


@dataclass
class Study:
    """Where the study's pieces are."""

    root: Path
    responses: Path

    @classmethod
    def locate(
        cls, study: str | os.PathLike[str], responses: str | os.PathLike[str] | None
    ) -> Study:
        root = Path(study)
        if not (root / "paper_results").is_dir():
            raise StudyDataError(f"{root} has no paper_results/ folder (the study's tables)")
        resp = Path(responses) if responses else root / "DeepEval" / "response" / "DeepEval"
        if not resp.is_dir():
            raise StudyDataError(f"no responses folder at {resp}")
        if not (root / "DeepEval" / "benchmark" / "DeepEval").is_dir():
            raise StudyDataError(f"no task references under {root}/DeepEval/benchmark/DeepEval")
        return cls(root, resp)

    @property
    def tables(self) -> Path:
        return self.root / "paper_results"

    def models(self) -> list[str]:
        return sorted(p.name for p in self.responses.iterdir() if p.is_dir())

    def reference(self, task: str) -> Path:
        level = task.split("_")[0].capitalize()
        return self.root / "DeepEval" / "benchmark" / "DeepEval" / level / f"{task}.py"

    def programs(self, models: Iterable[str], tasks: Iterable[str] | None = None) -> list[Program]:
        wanted = set(tasks) if tasks else None
        out = []
        for model in models:
            if not (self.responses / model).is_dir():
                raise StudyDataError(
                    f"no programs of model {model!r} under {self.responses} "
                    f"(there are: {', '.join(self.models())})"
                )
            for prompting in PROMPTINGS:
                for path in sorted(
                    (self.responses / model / prompting).glob("*/generated_code_*.py")
                ):
                    task = path.parent.name
                    if wanted is None or task in wanted:
                        out.append(Program(model, prompting, task, path))
        return out


# ---------------------------------------------------------------- the study's tables


def study_tables(study: Study) -> dict[str, Any]:
    """The published figures, keyed as our own results are."""
    t = study.tables
    out: dict[str, Any] = {"executability": {}, "taxonomy": {}, "pylint": {}, "semantic": {}}
    try:
        with (t / "executability_by_model_prompting.csv").open(newline="") as f:
            for row in csv.DictReader(f):
                out["executability"][(row["model"], row["prompting"])] = {
                    "success": int(row["success"]),
                    "valid": int(row["valid_pyfiles"]),
                    "rate": float(row["rate_percent"]),
                }
        tax = json.loads((t / "runtime_error_taxonomy.json").read_text())
        for model, body in tax.items():
            counts: Counter[str] = Counter()
            for info in body["Python Error"].values():
                for dl, d in info["DL Error"].items():
                    counts[_normal_category(dl)] += int(d["Number"])
            out["taxonomy"][model] = counts
        with (t / "static_pylint_by_task.csv").open(newline="") as f:
            for row in csv.DictReader(f):
                if row["task"] == "Average":
                    continue
                out["pylint"][(row["model"], row["prompting"], row["task"])] = {
                    **{k: int(row[k]) for k in PYLINT_KINDS},
                    "score": float(row["average_score"]),
                }
        with (t / "semantic_by_task.csv").open(newline="") as f:
            for row in csv.DictReader(f):
                if row["task"] == "Average":
                    continue
                out["semantic"][(row["model"], row["prompting"], row["task"])] = {
                    m: float(row[m]) for m in MEASURES
                }
    except (OSError, KeyError, ValueError) as e:
        raise StudyDataError(f"cannot read the study's tables in {t}: {e}") from e
    return out


def _normal_category(name: str) -> str:
    """The study's JSON spells a few categories loosely ("InputTensor- API Argument Mismatch",
    "Invalid API Argument shape")."""
    squashed = name.replace("- ", "-").strip()
    for code in CODES.values():
        if code.dl_error.lower() == squashed.lower():
            return code.dl_error
    return squashed


def shares(counts: Counter[str]) -> dict[str, float]:
    """Percent of failures in each reported category (and "Other")."""
    total = sum(counts.values())
    out = {c: 100 * counts[c] / total if total else 0.0 for c in SHARE_CATEGORIES}
    out["Other"] = 100 - sum(out.values()) if total else 0.0
    return out


# ---------------------------------------------------------------- scoring


@dataclass
class Verdict:
    executable: bool | None
    dl_error: str | None = None
    python_error: str | None = None
    detail: str | None = None


@dataclass
class Results:
    """Everything measured, per program and per dimension, with the time each took."""

    programs: list[Program]
    verdicts: dict[str, dict[Path, Verdict]] = field(default_factory=dict)  # engine -> …
    pylint: dict[Path, Any] = field(default_factory=dict)
    pylint_version: str | None = None
    semantic: dict[tuple[str, str, str], dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    valid: set[Path] = field(default_factory=set)  # the non-empty programs


def default_verdict(pool: Pool, p: Program, source: str, timeout_s: float) -> Verdict:
    """The default engine's verdict, as the dynamic pass reaches it (stopped at the first
    error, as the study's run stopped)."""
    from deepeval_lsp.diagnostics.dynamic.job import run_job
    from deepeval_lsp.diagnostics.dynamic.run import interpret
    from deepeval_lsp.diagnostics.options import CheckOptions

    raw = run_job(
        pool,
        source,
        str(p.path),
        CheckOptions(timeout_ms=int(timeout_s * 1000)),
        extra={"max_errors": 1},
    )
    res = interpret(raw, source, str(p.path))
    first = next((d for d in res.diagnostics if d.severity == "error"), None)
    if res.executable is False and first is not None:
        return Verdict(False, CODES[first.code].dl_error, first.python_error, first.message)
    return Verdict(res.executable, detail=raw.get("detail"))


def paper_verdict(pool: Pool, p: Program, source: str, timeout_s: float) -> Verdict:
    raw = pool.run(PAPER.job, {"source": source, "path": str(p.path)}, timeout_s=timeout_s)
    if raw.get("status") == "ok":
        raw = cast(PaperVerdict, raw)
        return Verdict(
            bool(raw["executable"]),
            raw.get("dl_error"),
            raw.get("python_error"),
            raw.get("message"),
        )
    raw = cast(PoolOutcome, raw)
    if raw["status"] == "timeout":  # the study's run had no time limit: undecided
        return Verdict(None, detail=raw.get("detail"))
    return Verdict(False, "Runtime Error", raw.get("exception"), raw.get("detail"))


def score(
    study: Study,
    programs: list[Program],
    *,
    engines: Iterable[Engine] = (DEFAULT,),
    dimensions: Iterable[str] = DIMENSIONS,
    workers: int = 2,
    timeout_s: float = 30.0,
    pylint_path: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Results:
    """Score `programs` on the chosen dimensions, all dimensions at once (executability with
    each of `engines`, `workers` warm workers each)."""
    engines, dimensions = list(engines), set(dimensions)
    res = Results(programs)
    published = {p.path: p.path.read_text(encoding="utf-8", errors="replace") for p in programs}
    sources: dict[Path, str] = {}  # as pylint reads them
    runs: dict[Path, str] = {}  # as executability runs them
    cleaned = completed = 0
    for p in programs:
        sources[p.path], dropped = study_source(published[p.path])
        cleaned += dropped
        done = completed_for_run(sources[p.path])
        runs[p.path] = done or sources[p.path]
        completed += done is not None
    if cleaned and dimensions & {"executability", "pylint"}:
        res.notes.append(
            f"{cleaned} program{'s' if cleaned != 1 else ''} run and linted without "
            "a note that the study's runs did not have (see docs/reproduction.md)"
        )
    if completed and "executability" in dimensions:
        res.notes.append(
            f"{completed} program{'s' if completed != 1 else ''} without dl_model() "
            "run completed as the study's run completed them (see "
            "docs/reproduction.md)"
        )
    valid = [p for p in programs if sources[p.path].strip()]
    res.valid = {p.path for p in valid}
    lock = threading.Lock()
    threads: list[threading.Thread] = []
    errors: list[BaseException] = []

    def timed(name: str, fn: Callable[[], None]) -> threading.Thread:
        def body() -> None:
            t0 = time.perf_counter()
            try:
                fn()
            except BaseException as e:  # reported after the join, in the caller's thread
                errors.append(e)
            finally:
                with lock:
                    res.seconds[name] = time.perf_counter() - t0

        th = threading.Thread(target=body, name=name, daemon=True)
        th.start()
        threads.append(th)
        return th

    def executability(checker: Checker, engine: Engine) -> None:
        pool = checker.start(engine)
        judge = paper_verdict if engine is PAPER else default_verdict
        out: dict[Path, Verdict] = {}
        with ThreadPoolExecutor(workers) as ex:
            verdicts = ex.map(lambda q: judge(pool, q, runs[q.path], timeout_s), valid)
            for done, (p, v) in enumerate(zip(valid, verdicts, strict=True), 1):
                out[p.path] = v
                if progress and done % 500 == 0:
                    progress(f"{engine.name} engine: {done}/{len(valid)} programs")
        res.verdicts[engine.name] = out

    def pylint() -> None:
        paths = [str(p.path) for p in valid]
        texts = {str(p.path): sources[p.path] for p in valid}
        halves = [paths[i::workers] for i in range(workers)] if len(paths) > 1 else [paths]
        with ThreadPoolExecutor(len(halves)) as ex:
            parts = list(
                ex.map(lambda ps: pylint_files(ps, pylint_path=pylint_path, sources=texts), halves)
            )
        for part in parts:
            for path, r in part.items():
                res.pylint[Path(path)] = r
                res.pylint_version = r.version

    def semantic() -> None:
        by_task: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for p in programs:
            by_task[(p.model, p.prompting, p.task)].append(published[p.path])
        refs: dict[str, str | None] = {}
        for key, samples in by_task.items():
            task = key[2]
            if task not in refs:
                refs[task] = study.reference(task).read_text(encoding="utf-8")
            if refs[task] is None:
                continue
            try:
                res.semantic[key] = study_task_scores(refs[task], samples, rules=STUDY_RULES)
            except ExtractionError as e:  # the reference's own structure cannot be read
                refs[task] = None
                with lock:
                    res.notes.append(f"{task}: no semantic score ({e})")

    t0 = time.perf_counter()
    with Checker(workers) as checker:
        if "executability" in dimensions:
            for engine in engines:
                reason = engine.unavailable()
                if reason:
                    res.notes.append(f"{engine.name} engine not run: {reason}")
                    continue
                timed(
                    f"executability ({engine.name})",
                    lambda e=engine: executability(checker, e),
                )
        if "pylint" in dimensions:
            timed("pylint", pylint)
        if "semantic" in dimensions:
            timed("semantic", semantic)
        for th in threads:
            th.join()
    res.seconds["total"] = time.perf_counter() - t0
    for e in errors:
        if isinstance(e, PylintUnavailable):
            res.notes.append(f"pylint score not computed: {e}")
        else:
            raise e
    return res


# ---------------------------------------------------------------- the comparison


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def compare(study: Study, res: Results) -> dict[str, Any]:
    """Per model × prompting, ours and the study's, per dimension; taxonomy shares per model.
    Plain JSON-ready data (the renderers print it)."""
    tables = study_tables(study)
    cells: dict[tuple[str, str], list[Program]] = defaultdict(list)
    for p in res.programs:
        cells[p.cell].append(p)
    rows = []
    failures: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for (model, prompting), progs in cells.items():
        row: dict[str, Any] = {"model": model, "prompting": prompting}
        valid = [p for p in progs if p.path in res.valid]
        study_exec = tables["executability"].get((model, prompting))
        row["study_executability"] = study_exec["rate"] if study_exec else None
        for engine, verdicts in res.verdicts.items():
            vs = [verdicts[p.path] for p in progs if p.path in verdicts]
            ok = sum(1 for v in vs if v.executable is True)
            row[f"{engine}_valid"] = len(vs)
            row[f"{engine}_executable"] = ok
            row[f"{engine}_undecided"] = sum(1 for v in vs if v.executable is None)
            row[f"{engine}_executability"] = 100 * ok / len(vs) if vs else None
            for v in vs:
                if v.executable is False:
                    failures[engine][model][v.dl_error or "Runtime Error"] += 1
        tasks = sorted({p.task for p in progs})
        if res.pylint:
            per_task = []
            counts = dict.fromkeys(PYLINT_KINDS, 0)
            for task in tasks:
                rs = [res.pylint[p.path] for p in progs if p.task == task and p.path in res.pylint]
                if rs:
                    per_task.append(sum(r.score for r in rs) / len(rs))
                for r in rs:
                    for k in PYLINT_KINDS:
                        counts[k] += getattr(r, k)
            row["pylint_score"] = _mean(per_task)
            row["pylint_counts"] = counts
            theirs = [tables["pylint"].get((model, prompting, t)) for t in tasks]
            theirs = [x for x in theirs if x is not None]
            row["study_pylint_score"] = _mean([x["score"] for x in theirs])
            row["study_pylint_counts"] = {k: sum(x[k] for x in theirs) for k in PYLINT_KINDS}
        if res.semantic:
            for m in ("api_set_f1", "api_seq_f1"):
                ours = [
                    res.semantic[(model, prompting, t)][m]
                    for t in tasks
                    if (model, prompting, t) in res.semantic
                ]
                theirs = [
                    tables["semantic"][(model, prompting, t)][m]
                    for t in tasks
                    if (model, prompting, t) in tables["semantic"]
                ]
                row[m] = _mean(ours)
                row[f"study_{m}"] = _mean(theirs)
        row["programs"] = len(progs)
        row["valid"] = len(valid)
        rows.append(row)
    order = {m: i for i, m in enumerate(PROMPTINGS)}
    rows.sort(key=lambda r: (r["model"], order.get(r["prompting"], 9)))
    taxonomy = []
    for model in sorted({r["model"] for r in rows}):
        entry: dict[str, Any] = {"model": model}
        study_counts = tables["taxonomy"].get(model)
        entry["study"] = shares(study_counts) if study_counts else None
        entry["study_failures"] = sum(study_counts.values()) if study_counts else None
        for engine in res.verdicts:
            entry[engine] = shares(failures[engine][model])
            entry[f"{engine}_failures"] = sum(failures[engine][model].values())
            entry[f"{engine}_counts"] = dict(failures[engine][model].most_common())
        taxonomy.append(entry)
    notes = list(res.notes)
    n_tasks = len({p.task for p in res.programs})
    if res.verdicts and n_tasks < len(tables_tasks(tables)):
        notes.append(
            f"only {n_tasks} tasks scored: the study's executability and taxonomy "
            "are over all its tasks (pylint and semantic compare the same tasks)"
        )
    return {
        "rows": rows,
        "taxonomy": taxonomy,
        "engines": list(res.verdicts),
        "pylint_version": res.pylint_version,
        "seconds": res.seconds,
        "programs": len(res.programs),
        "notes": notes,
        "tasks": n_tasks,
    }


def tables_tasks(tables: dict[str, Any]) -> set[str]:
    """The tasks the study's per-task tables cover."""
    return {key[2] for key in tables["semantic"]} | {key[2] for key in tables["pylint"]}
