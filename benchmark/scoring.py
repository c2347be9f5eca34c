"""Scoring one program with the very checkers of `deepeval-lsp check`.

`score_program` calls `deepeval_lsp.diagnostics.check` with the task's reference, requirement,
input shape and framework, and turns its Report into the rows the store writes: the sample's
outcome and failure labels, one finding per diagnostic, and the named scores (semantic
similarity). Nothing is invented: where a pass did not run, the
value stays None (NULL in the database, "not measured" in reports). The one inference made
here is that a program that does not parse cannot run, so it is not executable.

A task's inputs reach the dynamic pass as `CheckOptions.inputs` (their TensorSpecs: shape, dtype
and bound of each), which win over any guess from a dataset named in the requirement;
multi-input models get all of them, token ids as integers. The recorded code is the program as
the model wrote it.

Outcomes: `executable`, `failed` (the dynamic pass ran it and it raised), `not_measured`
(checked, but nothing decided executability), `empty` (no code in the answer), `missing` (a
replay has no file for this sample), `error` (generation or checking itself failed; a resumed
run does these again).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deepeval_lsp.diagnostics import taxonomy
from deepeval_lsp.diagnostics.check import check
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.taxonomy import Severity

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.dynamic.engines import Pool
    from deepeval_lsp.diagnostics.findings import Diagnostic, Report
    from deepeval_lsp.diagnostics.tasks.model import Task


@dataclass
class Scored:
    """What the store records for one program."""

    fields: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    report: Report | None = None  # the check's report (not stored; repair rounds read it)


def options_for(
    task: Task,
    *,
    dynamic: bool = True,
    timeout_ms: int = 10_000,
    paper_compat: bool = False,
    verify_fixes: bool = False,
) -> CheckOptions:
    """The check options that score a program as an answer to `task`; `verify_fixes` for a
    repair round, whose follow-up shows the verified fixes."""
    return CheckOptions(
        # every input with its dtype: mixed float and integer inputs (ids + features) need them
        inputs=task.inputs or None,
        dynamic=dynamic,
        semantic=True,
        framework=task.framework,
        input_shape=tuple(task.inputs[0].shape) if task.inputs else None,
        timeout_ms=timeout_ms,
        verify_fixes=verify_fixes,  # fixes are for editors and repair; a verdict needs none
        fix_static_first=False,  # the verdict is on the program as written
        task_id=task.id,
        reference_source=task.reference,
        requirement=task.requirement,
        output_shape=task.output_shape,
        paper_compat=paper_compat,
    )


def empty_fields(outcome: str, code: str = "") -> dict[str, Any]:
    """The fields of a sample that was not checked (empty, missing or failed to generate)."""
    return {
        "outcome": outcome,
        "valid": 0,
        "executable": None,
        "code": code,
        "code_sha256": hashlib.sha256(code.encode()).hexdigest() if code else None,
        "static_errors": None,
        "findings": 0,
        "scoring_ms": 0.0,
    }


def score_program(
    code: str,
    task: Task,
    options: CheckOptions,
    *,
    pool: Pool | None = None,
    path: str | None = None,
) -> Scored:
    """Check `code` as an answer to `task`; safe to call from several threads at once."""
    if not code.strip():
        return Scored(fields=empty_fields("empty", code))
    t0 = time.perf_counter()
    report = check(code, path or f"{task.id}.py", options, pool=pool)
    scores: dict[str, float] = {}
    if report.semantic:
        for name, value in report.semantic.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                scores[name] = float(value)
    elif options.semantic and options.reference_source and _unparsable(report):
        # the study's rule: a program whose structure cannot be read scores 0 and still counts
        from deepeval_lsp.diagnostics.semantic.similarity import zero_scores

        scores.update(zero_scores())
    fields = _fields_of(report, code)
    fields["scoring_ms"] = (time.perf_counter() - t0) * 1000
    return Scored(
        fields=fields,
        findings=[finding_row(d) for d in report.diagnostics],
        scores=scores,
        report=report,
    )


def _unparsable(report: Report) -> bool:
    return any(d.code == taxonomy.SYNTAX_ERROR for d in report.diagnostics)


def _fields_of(report: Report, code: str) -> dict[str, Any]:
    errors = [d for d in report.diagnostics if d.severity == Severity.ERROR]
    executable = report.executable
    if executable is None and any(d.code == taxonomy.SYNTAX_ERROR for d in errors):
        executable = False
    if report.error:
        outcome = "error"
    elif executable is True:
        outcome = "executable"
    elif executable is False:
        outcome = "failed"
    else:
        outcome = "not_measured"
    failure = _failure(errors) if executable is False else None
    return {
        "outcome": outcome,
        "valid": 1,
        "executable": None if executable is None else int(executable),
        "failure_dl_error": failure.dl_error if failure else None,
        "failure_python_error": (failure.python_error or None) if failure else None,
        "failure_root_cause": failure.root_cause if failure else None,
        "failure_message": failure.message if failure else None,
        "static_errors": sum(1 for d in errors if d.source_pass == "static"),
        "findings": len(report.diagnostics),
        "passes": json.dumps(report.passes),
        "error": report.error,
        "code": code,
        "code_sha256": hashlib.sha256(code.encode()).hexdigest(),
    }


def _failure(errors: list[Diagnostic]) -> Diagnostic | None:
    """The finding that explains a failed run: the dynamic pass's first error, else the first."""
    dynamic = [d for d in errors if d.source_pass == "dynamic"]
    chosen = dynamic or errors
    return chosen[0] if chosen else None


def finding_row(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code,
        "severity": str(d.severity),
        "pass": d.source_pass,
        "dl_error": d.dl_error,
        "python_error": d.python_error or None,
        "root_cause": d.root_cause,
        "message": d.message,
        "line": d.range.start.line + 1,
        "column": d.range.start.character + 1,
        "end_line": d.range.end.line + 1,
        "end_column": d.range.end.character + 1,
        "layer": d.layer,
    }
