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

Runs of `deepeval-lsp selftest` are reported apart (`selftest_for_runs`): per injected kind, the
mutant count and the percent detected, at the right line, with a fix offered, verified and
cleaning; and the untouched references that got a false error.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from deepeval_lsp.benchmark.metrics import mean, mean_pass_at_k, rate
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
    order = {"zeroshot": 0, "oneshot": 1, "oneshotcot": 2, "fewshot": 3}
    keys = sorted(
        groups,
        key=lambda k: (
            min(run_order[s["run_id"]] for s in groups[k]),
            k[0],
            order.get(k[1], 9),
            k[1],
        ),
    )
    return [_row(model, prompting, groups[(model, prompting)], scores) for model, prompting in keys]


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
    taxonomy: dict[str, int] = {}
    for s in samples:
        if s["executable"] == 0 and s["failure_dl_error"]:
            taxonomy[s["failure_dl_error"]] = taxonomy.get(s["failure_dl_error"], 0) + 1
    ordered_tax = {k: taxonomy[k] for k in STUDY_DL_ERRORS if k in taxonomy}
    ordered_tax.update({k: v for k, v in sorted(taxonomy.items()) if k not in ordered_tax})
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
