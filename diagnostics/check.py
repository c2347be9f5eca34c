"""The one entry point of the checkers: run the passes on a source text and gather a Report."""

from __future__ import annotations

import ast
import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING

from deepeval_lsp.diagnostics.files import UncheckableFile, read_source
from deepeval_lsp.diagnostics.findings import Diagnostic, Report
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.static.run import StaticResult, run_static, verify_static

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.dynamic.engines import Pool


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

    if not options.dynamic:
        report.passes["dynamic"] = "not run: turned off"
        report.notes.append("dynamic checks did not run: turned off")
    elif static.tree is None:
        report.passes["dynamic"] = "not run: the file does not parse"
    else:
        if options.output_shape is None:  # a `# deepeval: task=ID` line names the task
            from deepeval_lsp.diagnostics.pragmas import parse_task_pragma
            from deepeval_lsp.diagnostics.tasks.model import SuiteError
            from deepeval_lsp.diagnostics.tasks.suite import find_task

            task = options.task_id or parse_task_pragma(source)
            try:
                shape = find_task(task, options.suite).output_shape if task else None
            except SuiteError:
                shape = None  # the semantic pass says why the task is not found
            if shape is not None:
                options = dataclasses.replace(options, output_shape=shape, task_id=task)
        _run_dynamic(source, path, options, pool, report, diagnostics)
    _run_semantic(source, path, options, static.tree, report, diagnostics)

    report.diagnostics = sorted(
        (d for d in diagnostics if options.wants(d.code)),
        key=lambda d: (d.range.start, d.code),
    )
    report.timings_ms["total"] = (time.perf_counter() - t0) * 1000
    return report


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
) -> None:
    """Compare with the task's reference when one is known (an option or a task pragma)."""
    from deepeval_lsp.diagnostics.pragmas import parse_task_pragma
    from deepeval_lsp.diagnostics.semantic.api_graph import ExtractionError
    from deepeval_lsp.diagnostics.semantic.rules import OUR_RULES
    from deepeval_lsp.diagnostics.semantic.similarity import run_semantic
    from deepeval_lsp.diagnostics.semantic.study_rules import STUDY_RULES
    from deepeval_lsp.diagnostics.tasks.model import SuiteError
    from deepeval_lsp.diagnostics.tasks.suite import find_task

    reference = options.reference_source
    task = options.task_id or parse_task_pragma(source)
    if not options.semantic:
        report.passes["semantic"] = "not run: turned off"
        return
    if reference is None and task is not None:
        try:
            reference = find_task(task, options.suite).reference
        except SuiteError as e:
            report.passes["semantic"] = f"not run: {e}"
            report.notes.append(f"semantic checks did not run: {e}")
            return
    if reference is None:
        report.passes["semantic"] = "not run: no reference program (name the task)"
        return
    if tree is None:
        report.passes["semantic"] = "not run: the file does not parse"
        return
    t0 = time.perf_counter()
    try:
        rules = STUDY_RULES if options.paper_compat else OUR_RULES
        summary, found = run_semantic(source, path, reference, tree=tree, rules=rules)
    except ExtractionError as e:
        reason = f"the reference has no readable model ({e})"
        report.passes["semantic"] = f"not run: {reason}"
        report.notes.append(f"semantic checks did not run: {reason}")
        return
    if task is not None:
        summary["task"] = task
    report.semantic = summary
    diagnostics.extend(found)
    report.passes["semantic"] = "ran"
    report.timings_ms["semantic"] = (time.perf_counter() - t0) * 1000


def check_path(
    path: str | Path, options: CheckOptions | None = None, *, pool: Pool | None = None
) -> Report:
    """Read and check one file; an unreadable file gives a Report with `error` set."""
    try:
        source = read_source(path)
    except UncheckableFile as e:
        return Report(path=str(path), error=str(e))
    return check(source, str(path), options, pool=pool)
