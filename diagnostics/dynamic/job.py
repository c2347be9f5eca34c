"""One sandboxed check of a text in the warm worker pool, and the parts of its JSON that every
reader of it needs: its findings, their ranges, and how forward's outputs compare with the task's.

The dynamic pass (run) and the argument fixes (argument_fixes) both re-run checks through here.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepeval_lsp.diagnostics import framework as fw
from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT
from deepeval_lsp.diagnostics.dynamic.usages import readme_usages
from deepeval_lsp.diagnostics.dynamic.validate import checked
from deepeval_lsp.diagnostics.dynamic.wire import (
    ErrorRecord,
    JobPayload,
    JobResult,
    OutputRecord,
    PoolOutcome,
)
from deepeval_lsp.diagnostics.findings import Diagnostic, Fix, Position, Range, Related, TextEdit
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.project import ModuleSite, found_elsewhere, locate
from deepeval_lsp.diagnostics.static.workspace import local_module_names
from deepeval_lsp.diagnostics.text import apply_edits, imported_tops

if TYPE_CHECKING:
    from collections.abc import Sequence

    from deepeval_lsp.diagnostics.dynamic.engines import Pool


def payload(source: str, path: str, options: CheckOptions) -> JobPayload:
    """The child's payload for checking `source` under `options`: with the folders its imports
    resolve from and the package it runs in (project.locate)."""
    site = locate(path, options.workspace_root)
    tree = _tree(source)
    roots = [*site.import_roots, *_roots_elsewhere(tree, site, options.workspace_root)]
    return {
        "source": source,
        "path": path,
        "input_shape": list(options.input_shape) if options.input_shape else None,
        "inputs": [[list(s.shape), s.dtype, s.high] for s in options.inputs]
        if options.inputs
        else None,
        "framework": options.framework,
        "import_roots": [str(r) for r in roots],
        "package": site.package,
        "module": site.module,
        "requirement": options.requirement,
        "usages": readme_usages(site.file, _top(site), tree),
    }


def _roots_elsewhere(
    tree: ast.Module | None, site: ModuleSite, project_root: str | None
) -> list[Path]:
    """The folders of the project that hold a module the file imports, found neither on its
    import path nor installed: a sibling tree meant to run from its own folder
    (`object_detection/mmcv_custom`), which the static pass names. The file runs with them last
    on its path, as it does where it is meant to run."""
    if tree is None or not project_root:
        return []
    out: list[Path] = []
    for top in sorted(imported_tops(tree)):
        if fw.installed(top) or local_module_names(str(site.file), project_root, top):
            continue
        found = found_elsewhere(site.file, project_root, top)
        if found is not None and found.parent not in (*site.import_roots, *out):
            out.append(found.parent)
    return out


def _top(site: ModuleSite) -> Path:
    """The highest folder of the file's project: the project root when it lies under one."""
    above = [r for r in site.import_roots if r in site.file.parents] + [site.package_root]
    return min(above, key=lambda r: len(r.parts))


def _tree(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None


def run_job(
    pool: Pool,
    source: str,
    path: str,
    options: CheckOptions,
    *,
    extra: dict[str, Any] | None = None,
) -> JobResult | PoolOutcome:
    """One sandboxed check of `source`; the child's result or the pool's outcome (an untrusted
    one when the child's answer is not a well-formed JobResult of this text: validate.py).
    `extra` adds to the payload (e.g. {"max_errors": 1} to stop at the first error, as the study
    did)."""
    job = {**payload(source, path, options), **(extra or {})}
    return checked(pool.run(DEFAULT.job, job, timeout_s=options.timeout_ms / 1000), source, path)


def rerun(
    pool: Pool,
    source: str,
    edits: Sequence[TextEdit],
    path: str,
    options: CheckOptions,
    pre: list[list[Any]],
) -> tuple[str, JobResult | PoolOutcome]:
    """Re-check `source` with `edits` applied: (the edited text, the result). `pre` are the
    static fixes the check ran with; the re-check runs with those on lines the edits leave."""
    text = apply_edits(source, edits)
    touched = {e.range.start.line for e in edits}
    keep = [p for p in pre if p[0] not in touched]
    return text, run_job(pool, text, path, options, extra={"pre_edits": keep} if keep else None)


def json_range(r: list[int]) -> Range:
    """A range as the child sends it: [line, character, end line, end character]."""
    return Range(Position(r[0], r[1]), Position(r[2], r[3]))


def child_finding(e: ErrorRecord, path: str) -> Diagnostic:
    """A finding of the child's `errors` or `info` as a Diagnostic of the checked file."""
    # "more_fixes": other fixes of the same finding, in order of preference (a cat's dim, then
    # the consumer's width)
    fixes = tuple(
        Fix(
            f["title"],
            tuple(TextEdit(json_range(x["range"]), x["new_text"]) for x in f["edits"]),
            preferred=f.get("preferred", True),
        )
        for f in [*([e["fix"]] if e.get("fix") else []), *e.get("more_fixes", [])]
    )
    return Diagnostic(
        e["code"],
        json_range(e["range"]),
        e["message"],
        python_error=e["python_error"] or None,
        related=tuple(Related(path, json_range(r["range"]), r["message"]) for r in e["related"]),
        fixes=fixes,
        source_pass="dynamic",
        layer=e["layer"],
    )


def output_mismatch(
    outputs: list[OutputRecord] | None, options: CheckOptions, run_batch: int | None = None
) -> list[tuple[int, int | None]] | None:
    """How forward's outputs differ from the task's `output_shape`: (output, dim) pairs, dim None
    for a whole output (a count or rank that differs); [] when they agree, None when unknown.

    The batch dim counts only when the run's batch is the task's. When the run's inputs are not
    the task's (guessed from the file), only the last dim of each output is compared."""
    expected = options.output_shape
    if not expected or not outputs:
        return None
    wanted = (
        [tuple(s) for s in expected] if isinstance(expected[0], tuple | list) else [tuple(expected)]
    )
    got = [tuple(o["shape"]) for o in outputs]
    if len(got) != len(wanted):
        return [(min(len(got), len(wanted)) - 1 if got else 0, None)]
    task_batch = options.inputs[0].shape[0] if options.inputs and options.inputs[0].shape else None
    out: list[tuple[int, int | None]] = []
    for i, (g, w) in enumerate(zip(got, wanted, strict=True)):
        if options.inputs is None:
            if g and w and g[-1] != w[-1]:
                out.append((i, len(g) - 1))
            continue
        if len(g) != len(w):
            out.append((i, None))
            continue
        first = 0 if task_batch is not None and run_batch == task_batch else 1
        out.extend((i, d) for d in range(first, len(g)) if g[d] != w[d])
    return out


def run_batch(raw: JobResult) -> int | None:
    """The batch size forward ran with (its first input's first dim), when known."""
    shapes = raw["summary"]["input_shapes"] if raw["summary"] else []
    first = shapes[0] if shapes else None
    return first[0] if first else None
