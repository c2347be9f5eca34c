"""The one entry point of the checkers: run the passes on a source text and gather a Report."""

from __future__ import annotations

import ast
import dataclasses
import time
from typing import TYPE_CHECKING

from deepeval_lsp.diagnostics.findings import Diagnostic, Report
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.pragmas import parse_task_pragma
from deepeval_lsp.diagnostics.static.run import StaticResult, run_static, verify_static

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.dynamic.engines import Pool
    from deepeval_lsp.diagnostics.tasks.model import SuiteError, Task


def check(
    source: str,
    path: str,
    options: CheckOptions | None = None,
    *,
    pool: Pool | None = None,
    static: StaticResult | None = None,
) -> Report:
    """Check one document's text. `path` names it in diagnostics (it need not exist on disk).

    `static` is the static pass's result for this very text and options when the caller already
    has it (the language server publishes it first), so it is not computed twice.
    """
    options = options or CheckOptions()
    report = Report(path=path)
    t0 = time.perf_counter()
    if static is None:
        static = run_static(source, path, options)
    elif options.verify_fixes and not static.fixes_verified:
        verify_static(static, source, path, options)
    report.timings_ms["static"] = static.elapsed_ms
    report.passes["static"] = "ran"
    if static.fatal:
        report.error = static.fatal
    diagnostics: list[Diagnostic] = list(static.diagnostics)

    task_id = options.task_id or parse_task_pragma(source)
    task = _find_task(task_id, options)
    if not options.dynamic:
        report.passes["dynamic"] = "not run: turned off"
        report.notes.append("dynamic checks did not run: turned off")
    elif static.tree is None:
        report.passes["dynamic"] = "not run: the file does not parse"
    else:
        from deepeval_lsp.diagnostics.tasks.model import Task

        if options.output_shape is None and isinstance(task, Task) and task.output_shape:
            options = dataclasses.replace(options, output_shape=task.output_shape, task_id=task_id)
        _run_dynamic(source, path, options, pool, report, diagnostics)
    _run_semantic(source, path, options, static.tree, report, diagnostics, task_id, task)

    report.diagnostics = sorted(
        (d for d in diagnostics if options.wants(d.code)),
        key=lambda d: (d.range.start, d.code),
    )
    report.timings_ms["total"] = (time.perf_counter() - t0) * 1000
    return report


def _find_task(task_id: str | None, options: CheckOptions) -> Task | SuiteError | None:
    """The task the file answers (an option or a `# deepeval: task=ID` line), looked up once for
    both passes when one of them needs it: its output shape, its reference. The lookup's error
    instead of the task when it fails (the semantic pass says why)."""
    wanted = (options.dynamic and options.output_shape is None) or (
        options.semantic and options.reference_source is None
    )
    if task_id is None or not wanted:
        return None
    from deepeval_lsp.diagnostics.tasks.model import SuiteError
    from deepeval_lsp.diagnostics.tasks.suite import find_task  # reads YAML: only when named

    try:
        return find_task(task_id, options.suite)
    except SuiteError as e:
        return e


def _run_dynamic(
    source: str,
    path: str,
    options: CheckOptions,
    pool: Pool | None,
    report: Report,
    diagnostics: list[Diagnostic],
) -> None:
    if pool is None:
        report.passes["dynamic"] = "not run: no worker pool"
        report.notes.append("dynamic checks did not run: no worker pool was given")
        return
    from deepeval_lsp.diagnostics.dynamic.run import run_dynamic

    t0 = time.perf_counter()
    result = run_dynamic(source, path, options, pool, diagnostics)
    report.timings_ms["dynamic"] = (time.perf_counter() - t0) * 1000
    report.passes["dynamic"] = result.status
    for old, new in result.static_fixes:  # static findings whose fixes needed a re-check
        diagnostics[diagnostics.index(old)] = new
    diagnostics.extend(result.diagnostics)
    report.notes.extend(n for n in result.notes if n not in report.notes)
    report.model = result.model
    report.executable = result.executable


def _run_semantic(
    source: str,
    path: str,
    options: CheckOptions,
    tree: ast.Module | None,
    report: Report,
    diagnostics: list[Diagnostic],
    task_id: str | None,
    task: Task | SuiteError | None,
) -> None:
    """Compare with the task's reference when one is known (an option or the task's)."""
    reference = options.reference_source
    if not options.semantic:
        report.passes["semantic"] = "not run: turned off"
        return
    if reference is None and task is not None:
        from deepeval_lsp.diagnostics.tasks.model import SuiteError

        if isinstance(task, SuiteError):
            report.passes["semantic"] = f"not run: {task}"
            report.notes.append(f"semantic checks did not run: {task}")
            return
        reference = task.reference
    if reference is None:
        report.passes["semantic"] = "not run: no reference program (name the task)"
        return
    if tree is None:
        report.passes["semantic"] = "not run: the file does not parse"
        return
    from deepeval_lsp.diagnostics.semantic.api_graph import ExtractionError
    from deepeval_lsp.diagnostics.semantic.rules import OUR_RULES
    from deepeval_lsp.diagnostics.semantic.similarity import run_semantic
    from deepeval_lsp.diagnostics.semantic.study_rules import STUDY_RULES

    t0 = time.perf_counter()
    try:
        rules = STUDY_RULES if options.paper_compat else OUR_RULES
        summary, found = run_semantic(source, path, reference, tree=tree, rules=rules)
    except ExtractionError as e:
        reason = f"the reference has no readable model ({e})"
        report.passes["semantic"] = f"not run: {reason}"
        report.notes.append(f"semantic checks did not run: {reason}")
        return
    if task_id is not None:
        summary["task"] = task_id
    report.semantic = summary
    diagnostics.extend(found)
    report.passes["semantic"] = "ran"
    report.timings_ms["semantic"] = (time.perf_counter() - t0) * 1000
