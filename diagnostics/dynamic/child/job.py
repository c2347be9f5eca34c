"""The dynamic check's job, run INSIDE the sandboxed worker child (DESIGN.md §4, §6).

`run_job(payload)` slices the program to what builds the model, runs it on the meta device with
the patches of meta_patches, finds the entry point and the input shape, builds the model and runs
forward (Keras: summary() and compile() as the study did), and returns plain JSON (wire.JobResult):
the errors with their location, culprit layer, construction site and proposed shape fix, the model
summary, and notes. After a shape error with a computable fix it applies the fix to its copy of
the source and runs again, so one check reports every shape error it can reach.
"""

from __future__ import annotations

import ast
import linecache
import os
import sys

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.edits import (
    apply_tuple_edits,
    edit_json,
    map_edit_back,
    map_error_back,
    overlaps,
)
from deepeval_lsp.diagnostics.dynamic.child.entry_point import NO_ENTRY
from deepeval_lsp.diagnostics.dynamic.child.execute import run_once
from deepeval_lsp.diagnostics.dynamic.child.plan import Plan, make_plan
from deepeval_lsp.diagnostics.dynamic.child.run_state import Run, entry_line
from deepeval_lsp.diagnostics.dynamic.wire import ErrorRecord, JobPayload, JobResult

MAX_ROUNDS = 8


def run_job(payload: JobPayload) -> JobResult:
    """Check one document in this (sandboxed) process; return the JSON result."""
    source: str = payload["source"]
    path: str = payload["path"]
    os.environ.setdefault("KERAS_BACKEND", "torch")
    saved_path = list(sys.path)
    roots = _import_roots(payload)
    sys.path[:] = [*roots, *(p for p in saved_path if p not in roots)]
    try:
        return _check(source, path, payload)
    finally:
        sys.path[:] = saved_path


def _import_roots(payload: JobPayload) -> list[str]:
    """The folders the program's own modules import from (`from blocks import Block`, `from
    util.misc import …`), as in a user's run: the payload's (the parent's project.locate), or the
    program's own folder. The sandbox lets the child read these and nothing else of the user's."""
    path = payload["path"]
    given = payload.get("import_roots")
    if given is None:
        given = [os.path.dirname(path)] if os.path.isabs(path) and os.path.isfile(path) else []
    return [r for r in given if isinstance(r, str) and os.path.isabs(r) and os.path.isdir(r)]


def _check(source: str, path: str, payload: JobPayload) -> JobResult:
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        # The static pass reports it in a check; a run without it (the study's) needs a verdict.
        line0 = max((e.lineno or 1) - 1, 0)
        col = max((e.offset or 1) - 1, 0)
        code = T.INVALID_RETURN if "'return'" in (e.msg or "") else T.SYNTAX_ERROR
        err: ErrorRecord = {
            "code": code,
            "range": [line0, col, line0, col + 1],
            "message": e.msg,
            "python_error": type(e).__name__,
            "layer": None,
            "related": [],
        }
        return _not_run(errors=[err], executable=False)
    except (ValueError, RecursionError) as e:
        return _not_run(notes=[f"dynamic checks did not run: {e}"])
    plan = make_plan(tree, source)
    if plan.entry_kind is None:
        return _not_run(notes=[NO_ENTRY])
    return _fix_and_rerun(source, path, payload, plan)


def _not_run(
    *,
    errors: list[ErrorRecord] | None = None,
    notes: list[str] | None = None,
    executable: bool | None = None,
) -> JobResult:
    """The result when no model was built (the source does not parse, or has no entry point)."""
    return {
        "status": "ok",
        "errors": errors or [],
        "info": [],
        "notes": notes or [],
        "summary": None,
        "summary_after_fixes": False,
        "executable": executable,
        "entry": None,
        "entry_line": None,
        "framework": None,
        "outputs": None,
    }


def _fix_and_rerun(source: str, path: str, payload: JobPayload, plan: Plan) -> JobResult:
    """Run; after a shape error with a fix, apply the fix to this copy of the source and run
    again, until a run has no error, an error has no fix, or `max_errors` rounds are done."""
    max_rounds = int(payload.get("max_errors", MAX_ROUNDS))
    # Fixes of the static pass's findings, applied first so that the build gets past them (one
    # edit per line, none adding lines: see dynamic_pass.static_pre_edits).
    pre = [tuple(e) for e in payload.get("pre_edits") or []]
    applied: list[tuple[int, int, int, int, str]] = list(pre)  # edits, current coordinates
    history: list[tuple[int, int, int, int, str]] = list(pre)  # same edits, original coordinates
    errors: list[ErrorRecord] = []
    current = apply_tuple_edits(source, pre) if pre else source
    last: Run | None = None
    last_fix_lines: set[int] = set()
    for _ in range(max_rounds):
        run = run_once(current, path, payload, plan)
        last = run
        if run.error is None:
            break
        if run.tentative:
            _try_cat_dims(run, current, path, payload, plan)
        if (
            errors
            and "fix" in errors[-1]
            and run.error["code"] != T.SHAPE_MISMATCH
            and (run.error["range"][0] in last_fix_lines)
        ):
            # The previous fix broke its own line: offer no fix rather than a wrong one.
            del errors[-1]["fix"]
            break
        err = map_error_back(run.error, applied)
        # the same error again: same code, place and layer (the layers of an nn.Sequential all
        # fail on the line that calls it)
        same = [
            e
            for e in errors
            if e["code"] == err["code"]
            and e["range"] == err["range"]
            and e.get("layer") == err.get("layer")
        ]
        if same:
            # The fix did not remove the error: it is no fix.
            same[0].pop("fix", None)
            break
        if run.proposal is not None:
            fix_edits = [map_edit_back(e, applied) for e in run.proposal.edits]
            if all(e is not None for e in fix_edits) and not overlaps(fix_edits, history):
                err["fix"] = {
                    "title": run.proposal.title,
                    "edits": [edit_json(e) for e in fix_edits],
                    "preferred": run.proposal.preferred,
                }  # type: ignore[arg-type]
        for alt in run.alternatives:
            alt_edits = [map_edit_back(e, applied) for e in alt.edits]
            if all(e is not None for e in alt_edits) and not overlaps(alt_edits, history):
                err.setdefault("more_fixes", []).append(
                    {
                        "title": alt.title,
                        "edits": [edit_json(e) for e in alt_edits],
                        "preferred": alt.preferred,
                    }
                )  # type: ignore[arg-type]
        errors.append(err)
        if "fix" not in err or run.error["code"] != T.SHAPE_MISMATCH:
            break
        # Continue past this error with the culprit replaced by one that fits.
        current = apply_tuple_edits(current, run.proposal.edits)  # type: ignore[union-attr]
        applied.extend(run.proposal.edits)  # type: ignore[union-attr]
        last_fix_lines = {e[0] for e in run.proposal.edits}  # type: ignore[union-attr]
        history.extend(e for e in fix_edits if e is not None)
    assert last is not None
    info = last.info
    hard = [e for e in errors if e["code"] != T.NOT_CHECKABLE]
    if errors and not hard:
        executable = None
    elif hard:
        executable = False
    else:
        executable = True if last.summary is not None and not last.undecided else None
    notes = list(last.notes)
    if last.input_note:
        notes.append(last.input_note)
    if pre:  # the program as written stops at the static findings: no verdict on it
        executable = None if executable else executable
    return {
        "status": "ok",
        "errors": errors,
        "info": info,
        "notes": notes,
        "summary": last.summary if not errors else (last.summary if applied else None),
        "summary_after_fixes": bool(applied and errors),
        "executable": executable,
        "entry": last.entry,
        "entry_line": entry_line(last) if last.entry else None,
        "framework": last.framework,
        "outputs": last.outputs if not errors and not pre else None,
    }


def _try_cat_dims(
    run: Run,
    source: str,
    path: str,
    payload: JobPayload,
    plan: Plan,
    trials: int = 4,
) -> None:
    """The first of `run.tentative` with which the model runs without error becomes the fix
    (a cat upstream along the wrong dim, whose error shows further on)."""
    for cand in run.tentative[:trials]:
        if (
            run_once(apply_tuple_edits(source, cand.proposal.edits), path, payload, plan).error
            is None
        ):
            if run.proposal is not None:
                run.alternatives.insert(0, run.proposal)
            run.proposal = cand.proposal
            related = [
                r
                for r in run.error["related"]  # type: ignore[index]
                if not r["message"].startswith("torch.cat along")
            ]
            run.error["related"] = [*related, {"range": list(cand.where), "message": cand.note}]  # type: ignore[index]
            break
    linecache.cache[path] = (len(source), None, source.splitlines(keepends=True), path)
