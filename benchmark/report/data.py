"""The figures of a report, computed from the database: one row per model × prompting.

Definitions (docs/benchmark.md):
- `samples`: recorded samples; `valid`: those with a non-empty program (the study's "valid
  files"); `measured`: valid samples whose executability was decided (all of them once the
  dynamic pass runs, bar the odd "not checkable"); `executable`: those that ran;
  `executability_rate`: percent of measured (= of valid when all are measured). pass@k
  (k = 1..samples per task, unbiased estimator) counts a sample as passing when it is
  executable, over every sample of the task (empty ones fail).
- `static_errors_per_sample`: error findings of the static pass per valid sample.
- `api_set_f1`, `api_seq_f1`: mean over valid samples that the semantic pass scored.
- `taxonomy`: failed samples by the DL error category of the finding that explains the failure.
Every figure a pass did not measure is None ("not measured"), never 0.

Repair promptings (`X+repair[:N]`, `X+repair-fixes[:N]`) get a table of their own too
(`repair_for_runs`): per model × prompting and round, executability and the semantic scores of
the programs as they stood after that round (a sample that stopped earlier keeps its last
round's program), the programs repair fixed, the tokens spent per fixed program, and the
failure taxonomy before (round 0) and after (the last round).

Runs of `deepeval-lsp selftest` are reported apart (`selftest_for_runs`): per injected kind, the
mutant count and the percent detected, at the right line, with a fix offered, verified and
cleaning; and the untouched references that got a false error.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from deepeval_lsp.benchmark.metrics import mean, mean_pass_at_k, rate
from deepeval_lsp.benchmark.repair import repair_of
from deepeval_lsp.diagnostics.taxonomy import STUDY_DL_ERRORS

if TYPE_CHECKING:
    import sqlite_utils

SEMANTIC_SCORES = ("api_set_f1", "api_seq_f1")


def latest_run(db: sqlite_utils.Database) -> str | None:
    row = db.execute("select id from runs order by id desc limit 1").fetchone()
    return row[0] if row else None


def rows_for_runs(db: sqlite_utils.Database, run_ids: list[str]) -> list[dict[str, Any]]:
    """One row per (model, prompting) over the samples of the given runs."""
    if not run_ids:
        return []
    marks = ",".join("?" for _ in run_ids)
    samples = list(
        db.query(
            f"select id, run_id, model, prompting, task_id, sample_index, outcome, valid, "
            f"executable, failure_dl_error, static_errors, prompt_tokens, completion_tokens, "
            f"cost_usd from samples where run_id in ({marks}) order by id",
            run_ids,
        )
    )
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    for sample_id, name, value in db.execute(
        f"select sc.sample_id, sc.name, sc.value from scores sc join samples s "
        f"on s.id = sc.sample_id where s.run_id in ({marks})",
        run_ids,
    ).fetchall():
        scores[sample_id][name] = value
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        groups[(s["model"], s["prompting"])].append(s)
    run_order = {r: i for i, r in enumerate(run_ids)}
    keys = sorted(
        groups,
        key=lambda k: (
            min(run_order[s["run_id"]] for s in groups[k]),
            k[0],
            *_prompting_order(k[1]),
        ),
    )
    return [_row(model, prompting, groups[(model, prompting)], scores) for model, prompting in keys]


def _prompting_order(label: str) -> tuple[int, int, int, str]:
    """The four methods in the study's order, each followed by its repairs: the model's, then
    the fixes-only baseline, fewer rounds first."""
    order = {"zeroshot": 0, "oneshot": 1, "oneshotcot": 2, "fewshot": 3}
    spec = repair_of(label)
    if spec is None:
        return order.get(label, 9), 0, 0, label
    return order[spec.base], 1 if spec.asks_model else 2, spec.rounds, label


def _row(
    model: str, prompting: str, samples: list[dict[str, Any]], scores: dict[str, dict[str, float]]
) -> dict[str, Any]:
    valid = [s for s in samples if s["valid"]]
    measured = [s for s in valid if s["executable"] is not None]
    executable = sum(1 for s in measured if s["executable"] == 1)
    per_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        per_task[s["task_id"]].append(s)
    max_n = max((len(v) for v in per_task.values()), default=0)
    pass_at_k: dict[str, float | None] = {}
    for k in range(1, max_n + 1):
        if not measured:
            pass_at_k[f"pass@{k}"] = None
            continue
        pass_at_k[f"pass@{k}"] = mean_pass_at_k(
            ((len(v), sum(1 for s in v if s["executable"] == 1)) for v in per_task.values()), k
        )
    static_counts = [s["static_errors"] for s in valid if s["static_errors"] is not None]
    ordered_tax = _taxonomy(samples)
    tokens_in = [s["prompt_tokens"] for s in samples if s["prompt_tokens"] is not None]
    tokens_out = [s["completion_tokens"] for s in samples if s["completion_tokens"] is not None]
    costs = [s["cost_usd"] for s in samples if s["cost_usd"] is not None]
    row: dict[str, Any] = {
        "model": model,
        "prompting": prompting,
        "tasks": len(per_task),
        "samples": len(samples),
        "valid": len(valid),
        "measured": len(measured),
        "executable": executable if measured else None,
        "failed": (len(measured) - executable) if measured else None,
        "executability_rate": rate(executable, len(measured)),
        "pass_at_k": pass_at_k,
        "static_errors_per_sample": (sum(static_counts) / len(static_counts))
        if static_counts
        else None,
        "errors": sum(1 for s in samples if s["outcome"] == "error"),
        "taxonomy": ordered_tax,
        "prompt_tokens": sum(tokens_in) if tokens_in else None,
        "completion_tokens": sum(tokens_out) if tokens_out else None,
        "cost_usd": sum(costs) if costs else None,
    }
    for name in (*SEMANTIC_SCORES, "pylint_score"):
        row[name] = mean(scores.get(s["id"], {}).get(name) for s in valid)
    return row


SELFTEST_RATES = ("recall", "right_line", "fix_offered", "verified", "cleans")


def selftest_for_runs(db: sqlite_utils.Database, run_ids: list[str]) -> list[dict[str, Any]]:
    """The self-test table of each of the runs that is a self-test run, in the order given;
    rates in percent."""
    if not run_ids or "selftest" not in db.table_names():
        return []
    marks = ",".join("?" for _ in run_ids)
    stored = {
        r["run_id"]: r
        for r in db.query(f"select * from selftest where run_id in ({marks})", run_ids)
    }
    out = []
    for run_id in run_ids:
        r = stored.get(run_id)
        if r is None:
            continue
        kinds = [
            {
                "kind": kind,
                "mutants": int(row["mutants"]),
                **{c: 100.0 * row[c] for c in SELFTEST_RATES},
            }
            for kind, row in json.loads(r["table"]).items()
        ]
        out.append(
            {
                "run_id": run_id,
                "kinds": kinds,
                "false_errors": r["false_errors"],
                "references": r["references"],
                "false_error_detail": json.loads(r.get("false_error_detail") or "{}"),
            }
        )
    return out


def repair_for_runs(db: sqlite_utils.Database, run_ids: list[str]) -> list[dict[str, Any]]:
    """One entry per model × repair prompting of the runs, from their stored rounds (see the
    module docstring): `by_round` (round 0..N), `fixed`, `first_built`, tokens per fixed
    program, and the taxonomy before and after repair."""
    if not run_ids or "rounds" not in db.table_names():
        return []
    marks = ",".join("?" for _ in run_ids)
    rows = list(
        db.query(
            "select r.*, s.run_id as sample_run from rounds r join samples s on s.id = r.sample_id "
            f"where s.run_id in ({marks}) order by r.sample_id, r.round",
            run_ids,
        )
    )
    by_sample: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_sample[r["sample_id"]].append(r)
    groups: dict[tuple[str, str], list[list[dict[str, Any]]]] = defaultdict(list)
    first_run: dict[tuple[str, str], int] = {}
    run_order = {r: i for i, r in enumerate(run_ids)}
    for sample_rounds in by_sample.values():
        head = sample_rounds[0]
        key = (head["model"], head["prompting"])
        groups[key].append(sample_rounds)
        first_run[key] = min(first_run.get(key, 1 << 30), run_order[head["sample_run"]])
    keys = sorted(groups, key=lambda k: (first_run[k], k[0], *_prompting_order(k[1])))
    return [_repair_row(model, prompting, groups[(model, prompting)]) for model, prompting in keys]


def _repair_row(model: str, prompting: str, samples: list[list[dict[str, Any]]]) -> dict[str, Any]:
    spec = repair_of(prompting)
    n_rounds = spec.rounds if spec else max(len(s) for s in samples) - 1

    def state(sample_rounds: list[dict[str, Any]], k: int) -> dict[str, Any]:
        return [r for r in sample_rounds if r["round"] <= k][-1]

    by_round = []
    for k in range(n_rounds + 1):
        states = [state(s, k) for s in samples]
        valid = [r for r in states if r["valid"]]
        measured = [r for r in valid if r["executable"] is not None]
        executable = sum(1 for r in measured if r["executable"] == 1)
        scores = [json.loads(r["scores"] or "{}") for r in valid]
        by_round.append(
            {
                "round": k,
                "samples": len(states),
                "valid": len(valid),
                "measured": len(measured),
                "executable": executable if measured else None,
                "executability_rate": rate(executable, len(measured)),
                "error_free_rate": rate(sum(1 for r in valid if not r["errors"]), len(valid)),
                **{name: mean(sc.get(name) for sc in scores) for name in SEMANTIC_SCORES},
                "repair_rounds": sum(1 for s in samples if any(r["round"] == k for r in s))
                if k
                else 0,
            }
        )
    first = [s[0] for s in samples]
    last = [s[-1] for s in samples]
    fixed = sum(
        1 for a, b in zip(first, last, strict=True) if a["executable"] == 0 and b["executable"] == 1
    )
    repairs = [r for s in samples for r in s if r["round"] > 0]
    tokens = [
        (r["prompt_tokens"] or 0) + (r["completion_tokens"] or 0)
        for r in repairs
        if r["prompt_tokens"] is not None or r["completion_tokens"] is not None
    ]
    costs = [r["cost_usd"] for r in repairs if r["cost_usd"] is not None]
    built: dict[str, int] = {}
    for s in samples:
        k = next((r["round"] for r in s if r["executable"] == 1), None)
        if k is not None:
            built[str(k)] = built.get(str(k), 0) + 1
    fixes_only = spec is not None and not spec.asks_model
    repair_tokens = sum(tokens) if tokens else (0 if fixes_only else None)
    return {
        "model": model,
        "prompting": prompting,
        "base_prompting": spec.base if spec else prompting,
        "method": spec.method if spec else None,
        "rounds": n_rounds,
        "samples": len(samples),
        "by_round": by_round,
        "fixed": fixed,
        "first_built": built,
        "repair_tokens": repair_tokens,
        "tokens_per_fixed": (repair_tokens / fixed)
        if fixed and repair_tokens is not None
        else None,
        "repair_cost_usd": sum(costs) if costs else None,
        "cost_per_fixed": (sum(costs) / fixed) if fixed and costs else None,
        "taxonomy_before": _taxonomy(first),
        "taxonomy_after": _taxonomy(last),
    }


def _taxonomy(rounds: list[dict[str, Any]]) -> dict[str, int]:
    """Failed programs by the DL error category of the finding that explains the failure, the
    study's categories first."""
    counts: dict[str, int] = {}
    for r in rounds:
        if r["executable"] == 0 and r["failure_dl_error"]:
            counts[r["failure_dl_error"]] = counts.get(r["failure_dl_error"], 0) + 1
    ordered = {k: counts[k] for k in STUDY_DL_ERRORS if k in counts}
    ordered.update({k: v for k, v in sorted(counts.items()) if k not in ordered})
    return ordered
