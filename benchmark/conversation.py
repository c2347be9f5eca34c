"""One repair sample's rounds: round 0 as its base method asks, then repair rounds while the
program has errors and rounds are left; each round stored as soon as it is scored.

A model repair round continues the conversation: the messages of the round before, the model's
answer, and a user turn with the findings (`repair.feedback_message`); the generation cache's
key covers the whole conversation, so a rerun is served from it. A fixes round applies our
verified fixes to the round before's program instead (no request, no tokens) and is not made
when no verified fix applies. The sample is recorded with its last round's program, outcome,
findings and scores, the tokens and cost of all its rounds, and the round that first built.

A resumed run starts from the stored rounds: the next round is made from the last stored one
(its messages, answer, program and findings are all in its row), so a round that was paid for
and stored is never asked again.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from deepeval_lsp.benchmark.extract import extract_code
from deepeval_lsp.benchmark.generation import SampleGenerationError
from deepeval_lsp.benchmark.repair import apply_verified_fixes, blocking, feedback_message
from deepeval_lsp.benchmark.scoring import Scored, empty_fields, finding_row
from deepeval_lsp.benchmark.store import load_rounds, record_round, record_sample
from deepeval_lsp.diagnostics.findings import Diagnostic

if TYPE_CHECKING:
    from deepeval_lsp.benchmark.progress import Progress
    from deepeval_lsp.benchmark.repair import RepairSpec
    from deepeval_lsp.benchmark.runner import Job, Runner

# the fields of a scored program that a round stores and its sample takes from its last round
SCORED_FIELDS = (
    "outcome",
    "valid",
    "executable",
    "failure_dl_error",
    "failure_python_error",
    "failure_root_cause",
    "failure_message",
    "static_errors",
    "findings",
    "passes",
    "error",
    "code",
    "code_sha256",
)
# what stops a conversation whatever the findings: nothing to show the model or to fix
_FINAL_OUTCOMES = ("empty", "missing", "error")


async def run_conversation(
    runner: Runner,
    job: Job,
    spec: RepairSpec,
    sample: dict[str, Any],
    progress: Progress | None,
) -> None:
    """Make (or finish) the rounds of `job` and record its sample."""
    key = {
        "run_id": runner.run_id,
        "model": job.model.name,
        "prompting": job.prompting,
        "task_id": job.task.id,
        "sample_index": job.index,
    }
    rows = load_rounds(runner.db, runner.run_id, job.key)
    failure: str | None = None
    attempts = 0
    try:
        if not rows:
            first = await _first_round(runner, job, sample, key)
            if first is None:  # a replay without this sample
                record_sample(runner.db, {**sample, **empty_fields("missing")}, [], {})
                _done(runner, progress, "missing")
                return
            record_round(runner.db, first)
            rows.append(first)
        while _wants_another(spec, rows[-1]):
            row = await _next_round(runner, job, spec, key, rows[-1])
            if row is None:
                break
            record_round(runner.db, row)
            rows.append(row)
    except SampleGenerationError as e:
        failure = f"round {len(rows)}: {e}" if rows else str(e)
        attempts = e.attempts
    if not rows:
        fields = {**empty_fields("error"), "error": failure}
        record_sample(runner.db, {**sample, "attempts": attempts, **fields}, [], {})
        _done(runner, progress, "error")
        return
    final, findings, scores = _sample_of(sample, rows)
    if failure is not None:  # `--resume` goes on from the last stored round
        final.update(empty_fields("error"), error=failure)
        findings, scores = [], {}
    record_sample(runner.db, final, findings, scores, rounds=True)
    _done(runner, progress, final["outcome"])


def _done(runner: Runner, progress: Progress | None, outcome: str) -> None:
    runner.stats.recorded += 1
    if progress is not None:
        progress.advance(outcome)


def _wants_another(spec: RepairSpec, last: dict[str, Any]) -> bool:
    """The stopping rule: another round while the program has errors and rounds are left."""
    if last["round"] >= spec.rounds or last["outcome"] in _FINAL_OUTCOMES:
        return False
    return bool(last["errors"])


async def _first_round(
    runner: Runner,
    job: Job,
    sample: dict[str, Any],
    key: dict[str, Any],
) -> dict[str, Any] | None:
    """Round 0: the base method's answer (asked, cached or replayed), scored."""
    code = await runner._generate(job, sample)
    if code is None:
        return None
    scored = await _score(runner, code, job)
    return _row(
        key,
        0,
        "answer",
        scored,
        messages=sample["prompt"],
        raw_answer=sample["raw_answer"],
        usage=sample,
    )


async def _next_round(
    runner: Runner,
    job: Job,
    spec: RepairSpec,
    key: dict[str, Any],
    last: dict[str, Any],
) -> dict[str, Any] | None:
    """The round after `last`, scored; None when it cannot be made (no verified fix applies,
    or the conversation has no messages to continue: a replayed answer)."""
    code = last["code"] or ""
    diagnostics = [Diagnostic.from_json(d) for d in json.loads(last["diagnostics"] or "[]")]
    index = last["round"] + 1
    if not spec.asks_model:
        fixed, count = apply_verified_fixes(code, diagnostics)
        if not count or fixed == code:
            return None
        scored = await _score(runner, fixed, job)
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": None, "attempts": 0}
        return _row(key, index, "fixes", scored, usage=usage, fixes_applied=count)
    if last["messages"] is None or runner.client is None:
        return None
    messages = [
        *json.loads(last["messages"]),
        {"role": "assistant", "content": last["raw_answer"] or ""},
        {"role": "user", "content": feedback_message(code, blocking(diagnostics))},
    ]
    t0 = time.perf_counter()
    answer = await runner.client.complete(job.model.target, messages, job.index)
    usage = {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "cost_usd": answer.cost_usd,
        "cached": int(answer.cached),
        "attempts": answer.attempts,
        "generation_ms": (time.perf_counter() - t0) * 1000,
    }
    scored = await _score(runner, extract_code(answer.text), job)
    return _row(
        key,
        index,
        "repair",
        scored,
        messages=json.dumps(messages, ensure_ascii=False),
        raw_answer=answer.text,
        usage=usage,
    )


async def _score(runner: Runner, code: str, job: Job) -> Scored:
    """A round's program scored by the run's executor, with the verified fixes its follow-up
    shows (the report comes back with it)."""
    return await runner.executor.score(code, job.task, verify_fixes=True)


def _row(
    key: dict[str, Any],
    index: int,
    kind: str,
    scored: Scored,
    *,
    usage: dict[str, Any],
    messages: str | None = None,
    raw_answer: str | None = None,
    fixes_applied: int | None = None,
) -> dict[str, Any]:
    diagnostics = scored.report.diagnostics if scored.report is not None else []
    return {
        **key,
        "round": index,
        "kind": kind,
        "messages": messages,
        "raw_answer": raw_answer,
        **{f: scored.fields.get(f) for f in SCORED_FIELDS},
        "errors": len(blocking(diagnostics)),
        "diagnostics": json.dumps([d.to_json() for d in diagnostics], ensure_ascii=False),
        "scores": json.dumps(scored.scores),
        "fixes_applied": fixes_applied,
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "cost_usd": usage.get("cost_usd"),
        "cached": usage.get("cached", 0),
        "attempts": usage.get("attempts", 0),
        "generation_ms": usage.get("generation_ms", 0.0),
        "scoring_ms": scored.fields.get("scoring_ms", 0.0),
    }


def _sample_of(
    sample: dict[str, Any], rows: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, float]]:
    """The sample row of a finished conversation (its last round's program and verdict, every
    round's tokens and cost), its findings rows and its scores."""
    last = rows[-1]
    asked = [r for r in rows if r["kind"] != "fixes"]

    def total(name: str) -> Any:
        values = [r[name] for r in asked if r[name] is not None]
        return sum(values) if values else None

    prompt = next((r["messages"] for r in reversed(rows) if r["messages"] is not None), None)
    raw = next((r["raw_answer"] for r in reversed(rows) if r["raw_answer"] is not None), None)
    built = next((r["round"] for r in rows if r["executable"] == 1), None)
    final = {
        **sample,
        "prompt": prompt,
        "raw_answer": raw,
        "prompt_tokens": total("prompt_tokens"),
        "completion_tokens": total("completion_tokens"),
        "cost_usd": total("cost_usd"),
        "cached": int(all(r["cached"] for r in asked)),
        "attempts": total("attempts") or 0,
        "generation_ms": total("generation_ms") or 0.0,
        **{f: last[f] for f in SCORED_FIELDS},
        "scoring_ms": sum(r["scoring_ms"] or 0.0 for r in rows),
        "first_built_round": built,
    }
    diagnostics = [Diagnostic.from_json(d) for d in json.loads(last["diagnostics"] or "[]")]
    scores = json.loads(last["scores"] or "{}")
    return final, [finding_row(d) for d in diagnostics], scores
