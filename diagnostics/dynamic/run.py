"""The dynamic pass, parent side: run the check in a sandboxed worker and read its findings.

The build and forward run in a child of the warm worker pool (child/job.py `run_job`); nothing the
checked program does happens in this process. Here the child's JSON becomes Diagnostics, the
pool's own outcomes become Timeout / Sandbox Violation / Runtime Error findings, and each shape
fix the child proposes is re-checked with its edit applied: it is marked `verified` only if that
error is gone (DESIGN.md §6). Missing or negative layer arguments, whose value only the program
can tell, get their fixes from re-checks too (argument_fixes).
"""

from __future__ import annotations

import ast
import re
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from deepeval_lsp.diagnostics import framework as fw
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.argument_fixes import argument_fixes, wanted
from deepeval_lsp.diagnostics.dynamic.wire import (
    ErrorRecord,
    FrameRecord,
    JobPayload,
    JobResult,
    OutputRecord,
    PaperVerdict,
    PoolOutcome,
    SummaryRecord,
    is_job_result,
)
from deepeval_lsp.diagnostics.findings import (
    Diagnostic,
    Fix,
    ModelSummary,
    Position,
    Range,
    Related,
    TextEdit,
)
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.static.literal_values import literal
from deepeval_lsp.diagnostics.taxonomy import Severity
from deepeval_lsp.diagnostics.text import SourceText, apply_edits, parse_python

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool

JOB = "deepeval_lsp.diagnostics.dynamic.child.job:run_job"


@dataclass
class DynamicResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    model: ModelSummary | None = None
    notes: list[str] = field(default_factory=list)
    executable: bool | None = None
    status: str = "ran"
    sandbox: dict[str, Any] | None = None
    # (static finding, the same finding with the verified fixes a re-check found for it)
    static_fixes: list[tuple[Diagnostic, Diagnostic]] = field(default_factory=list)


def _payload(source: str, path: str, options: CheckOptions) -> JobPayload:
    return {
        "source": source,
        "path": path,
        "input_shape": list(options.input_shape) if options.input_shape else None,
        "inputs": [[list(shape), dtype, high] for shape, dtype, high in options.inputs]
        if options.inputs
        else None,
        "framework": options.framework,
        "workspace_root": options.workspace_root,
        "requirement": options.requirement,
    }


def run_job(
    pool: WorkerPool,
    source: str,
    path: str,
    options: CheckOptions,
    *,
    extra: dict[str, Any] | None = None,
) -> JobResult | PoolOutcome:
    """One sandboxed check of `source`; the child's result or the pool's outcome. `extra` adds
    to the payload (e.g. {"max_errors": 1} to stop at the first error, as the study did)."""
    payload = cast(JobPayload, {**_payload(source, path, options), **(extra or {})})
    result = pool.run(JOB, dict(payload), timeout_s=options.timeout_ms / 1000)
    return cast("JobResult | PoolOutcome", result)


def static_pre_edits(source: str, static: list[Diagnostic]) -> list[list[Any]]:
    """The static findings' verified fixes as edits that keep every line where it is.

    The dynamic pass applies them before building, so a hallucinated `nn.Conv2D` or a missing
    `import torch.nn.functional as F` does not hide the shape mistakes behind it. A new import
    line becomes `import X; ` in front of the first line (or `; import X` after the last
    `__future__` import), so the line numbers of the findings stay the file's own.
    """
    text = SourceText(source)
    future_line = None
    for i in range(len(text.lines)):
        if text.line(i).startswith("from __future__"):
            future_line = i
    edits: list[list[Any]] = []
    lines_used: set[int] = set()
    for d in static:
        fix = d.preferred_fix
        if fix is None:
            continue
        for e in fix.edits:
            r = e.range
            if "\n" not in e.new_text and r.start.line == r.end.line:
                edit = [r.start.line, r.start.character, r.end.line, r.end.character, e.new_text]
            elif e.new_text.endswith("\n") and r.start == r.end and r.start.character == 0:
                stmt = e.new_text.strip()
                if future_line is None:
                    edit = [0, 0, 0, 0, f"{stmt}; "]
                elif "#" in text.line(future_line):
                    continue
                else:
                    end = len(text.line(future_line))
                    edit = [future_line, end, future_line, end, f"; {stmt}"]
            else:
                continue
            if edit in edits:
                continue
            if edit[0] in lines_used and edit[1:4] != [0, 0, 0]:
                continue  # one edit per line keeps the mapping of columns exact
            lines_used.add(edit[0])
            edits.append(edit)
    # Several imports in front of line 0 become one edit.
    front = [e for e in edits if e[:4] == [0, 0, 0, 0]]
    if len(front) > 1:
        edits = [e for e in edits if e[:4] != [0, 0, 0, 0]]
        edits.append([0, 0, 0, 0, "".join(e[4] for e in front)])
    return edits


def run_dynamic(
    source: str,
    path: str,
    options: CheckOptions,
    pool: WorkerPool,
    static: list[Diagnostic] | None = None,
) -> DynamicResult:
    """Build and run the model in the sandbox; every finding, with verified shape fixes."""
    if getattr(pool, "engine", "default") == "paper":
        return run_paper(source, path, options, pool, static)
    pre = static_pre_edits(source, static) if static and options.fix_static_first else []
    raw = run_job(pool, source, path, options, extra={"pre_edits": pre} if pre else None)
    out = interpret(raw, source, path)
    if static:
        out.diagnostics = [d for d in out.diagnostics if not _duplicates(d, static)]
    if options.verify_fixes and any(d.fixes for d in out.diagnostics):
        out.diagnostics = verify_fixes(source, path, options, pool, out.diagnostics, pre)
    found = [*(static or []), *out.diagnostics]
    if options.verify_fixes and wanted(found):
        for old, new in argument_fixes(source, path, options, pool, static or [], found, pre):
            if old in out.diagnostics:
                out.diagnostics[out.diagnostics.index(old)] = new
            else:
                out.static_fixes.append((old, new))
    # after verify_fixes: its test (fewer errors after the edit) does not suit a warning
    shape = output_shape_finding(raw, source, path, options, pool)
    if shape is not None:
        out.diagnostics.append(shape)
    return out


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
    task_batch = options.inputs[0][0][0] if options.inputs and options.inputs[0][0] else None
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


def _shown(shape: tuple[int, ...] | list[int]) -> str:
    dims = ["N", *map(str, shape[1:])] if shape else []
    return f"({', '.join(dims)}{',' if len(dims) == 1 else ''})"


def output_shape_finding(
    raw: JobResult | PoolOutcome, source: str, path: str, options: CheckOptions, pool: WorkerPool
) -> Diagnostic | None:
    """DL305 when forward ran cleanly and its output differs from the task's `output_shape`:
    at the size argument of the layer that set the differing dim (with a fix setting it to the
    task's size, offered only when a re-run shows the output then agrees), else at the entry."""
    if not is_job_result(raw) or raw["errors"] or not raw["executable"]:
        return None
    outputs = raw["outputs"]
    batch = run_batch(raw)
    diff = output_mismatch(outputs, options, batch)
    if not diff or not outputs:
        return None
    expected = options.output_shape or ()
    wanted = (
        [tuple(s) for s in expected] if isinstance(expected[0], tuple | list) else [tuple(expected)]
    )
    got = [o["shape"] for o in outputs]
    task = f"task {options.task_id}" if options.task_id else "the task"
    if len(got) == 1 and len(wanted) == 1:
        message = f"the model returns {_shown(got[0])} but {task} expects {_shown(wanted[0])}"
    else:
        message = (
            f"the model returns {len(got)} output(s) "
            f"{', '.join(map(_shown, got))} but {task} expects {len(wanted)}: "
            f"{', '.join(map(_shown, wanted))}"
        )
    text = SourceText(source)
    try:
        tree = parse_python(source)
    except (SyntaxError, ValueError):
        tree = None
    where: Range | None = None
    layer = None
    edits: list[TextEdit] = []
    for i, d in diff:
        o = outputs[i]
        if d is None or o.get("range") is None or tree is None:
            continue
        if d != (o["dim"] % len(o["shape"])):
            continue
        node = _size_argument(tree, text, _range(o["range"]), o["param"])
        if node is None:
            continue
        where = where or text.range_of(node)
        layer = layer or o.get("layer")
        value = literal(node)
        if isinstance(value, int) and not isinstance(value, bool):
            edits.append(TextEdit(text.range_of(node), str(wanted[i][d])))
    if where is None:
        line = raw["entry_line"] or 0
        where = _line_range(text, line)
    fixes: tuple[Fix, ...] = ()
    if edits and options.verify_fixes and len(edits) == len(diff):
        after = run_job(pool, apply_edits(source, edits), path, options)
        if (
            is_job_result(after)
            and not after["errors"]
            and after["executable"]
            and output_mismatch(after["outputs"], options, batch) == []
        ):
            sizes = " and ".join(e.new_text for e in edits)
            fixes = (
                Fix(
                    f"Change to `{sizes}`, the task's output size (the output then agrees)",
                    tuple(edits),
                    verified=True,
                ),
            )
    return Diagnostic(
        T.OUTPUT_SHAPE_MISMATCH,
        where,
        message,
        python_error="",
        fixes=fixes,
        source_pass="dynamic",
        layer=layer,
    )


def _size_argument(tree: ast.Module, text: SourceText, site: Range, param: str) -> ast.expr | None:
    """The node of `param` in the layer constructor call at `site` (as given, not defaulted)."""
    from deepeval_lsp.diagnostics.dynamic.argument_fixes import _torch_layer

    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or text.range_of(call).start != site.start:
            continue
        for k in call.keywords:
            if k.arg == param:
                return k.value
        cls = _torch_layer(call)
        params = fw.params_of(cls) if cls is not None else None
        if params is None or param not in params.positional:
            return None
        index = params.positional.index(param)
        if any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
            return None
        return call.args[index] if index < len(call.args) else None
    return None


def run_paper(
    source: str,
    path: str,
    options: CheckOptions,
    pool: WorkerPool,
    static: list[Diagnostic] | None = None,
) -> DynamicResult:
    """The study's verdict from the paper engine's pool (paper_engine.run_job): the program as
    written, imported whole, `dl_model()`, `summary()`, `compile()` on Keras 2; a failure is one
    finding in the study's taxonomy at the failing frame of the file."""
    from deepeval_lsp.diagnostics.paper.engine import JOB

    result = pool.run(JOB, {"source": source, "path": path}, timeout_s=options.timeout_ms / 1000)
    if result.get("status") != "ok":  # the pool's own outcome: timeout, sandbox, crash
        out = interpret(cast(PoolOutcome, result), source, path)
    else:
        raw = cast(PaperVerdict, result)
        out = DynamicResult(sandbox=raw.get("sandbox"), executable=bool(raw["executable"]))
        if not raw["executable"]:
            text = SourceText(source)
            frame: FrameRecord = {
                "file": path,
                "line": raw.get("line"),
                "end_line": raw.get("end_line"),
                "col": raw.get("col"),
                "end_col": raw.get("end_col"),
            }
            where = _frame_range([frame], path, text) if raw.get("line") else None
            out.diagnostics.append(
                Diagnostic(
                    raw["code"],
                    where or _line_range(text, 0),
                    _one_paragraph(raw["message"]),
                    python_error=raw["python_error"],
                    source_pass="dynamic",
                )
            )
    out.status = "ran: paper engine" if out.status == "ran" else out.status
    # The editor's check reports a finding once; a score keeps the engine's own (its taxonomy
    # is the failure's, and the static pass may have found something else first).
    if static and options.fix_static_first:
        out.diagnostics = [d for d in out.diagnostics if not _duplicates(d, static)]
    return out


def _one_paragraph(message: str) -> str:
    """Keras 2's wrapped layer error as one line: 'layer "x" (type T): the error', without the
    listing of the call's arguments."""
    head, _, rest = message.partition("\n")
    m = re.fullmatch(r"Exception encountered when calling layer (.+)\.", head.strip())
    if m:
        message = f"layer {m.group(1)}: {rest.split('Call arguments received by layer')[0]}"
    return " ".join(message.split())


def _duplicates(d: Diagnostic, static: list[Diagnostic]) -> bool:
    """The static pass already reported this finding (same code, or same early-stage category,
    on the same line): report it once."""
    early = d.code < T.SHAPE_MISMATCH
    for s in static:
        if s.range.start.line != d.range.start.line:
            continue
        if s.code == d.code or (early and s.code < T.SHAPE_MISMATCH):
            return True
    return False


def interpret(raw: JobResult | PoolOutcome, source: str, path: str) -> DynamicResult:
    """Turn a worker result (or the pool's outcome) into findings."""
    text = SourceText(source)
    res = DynamicResult(sandbox=raw.get("sandbox"))
    if is_job_result(raw):
        for e in raw["errors"]:
            res.diagnostics.append(_diagnostic(e, path))
        for e in raw["info"]:
            res.diagnostics.append(_diagnostic(e, path))
        res.notes.extend(raw["notes"])
        if raw["summary"]:
            # After shape errors this is the model with the fixes applied (the one that ran).
            res.model = _summary(raw["summary"])
        res.executable = raw["executable"]
        if raw["entry"] is None and not res.diagnostics:
            res.status = "ran: no model entry point"
        return res
    raw = cast(PoolOutcome, raw)
    status = raw["status"]
    res.executable = False
    where = _frame_range(raw.get("traceback") or [], path, text)
    if status == "timeout":
        detail = raw.get("detail") or "time limit reached"
        res.diagnostics.append(
            Diagnostic(
                T.TIMEOUT,
                where or _line_range(text, 0),
                f"building the model did not finish: {detail}",
                source_pass="dynamic",
            )
        )
        res.executable = None
    elif status == "sandbox_violation":
        res.diagnostics.append(
            Diagnostic(
                T.SANDBOX_VIOLATION,
                where or _line_range(text, 0),
                f"the sandbox refused: {raw.get('detail') or raw.get('event')}",
                source_pass="dynamic",
            )
        )
    elif status == "crashed":
        res.diagnostics.append(
            Diagnostic(
                T.RUNTIME_ERROR,
                where or _line_range(text, 0),
                f"the check's worker died: {raw.get('detail', 'no detail')}",
                source_pass="dynamic",
            )
        )
    elif status == "error" and raw.get("exception") == "MemoryError":
        res.diagnostics.append(
            Diagnostic(
                T.SANDBOX_VIOLATION,
                where or _line_range(text, 0),
                f"the sandbox refused: {raw.get('detail')}",
                python_error="MemoryError",
                source_pass="dynamic",
            )
        )
    elif status == "cancelled":
        res.status = "not run: cancelled"
        res.executable = None
    else:
        res.executable = None
        res.status = "not run: the worker failed"
        res.notes.append(f"dynamic checks failed: {raw.get('detail', status)}")
    return res


def _range(r: list[int]) -> Range:
    return Range(Position(r[0], r[1]), Position(r[2], r[3]))


def _diagnostic(e: ErrorRecord, path: str) -> Diagnostic:
    # "more_fixes": other fixes of the same finding, in order of preference (a cat's dim, then
    # the consumer's width)
    fixes = tuple(
        Fix(f["title"], tuple(TextEdit(_range(x["range"]), x["new_text"]) for x in f["edits"]))
        for f in [*([e["fix"]] if e.get("fix") else []), *e.get("more_fixes", [])]
    )
    return Diagnostic(
        e["code"],
        _range(e["range"]),
        e["message"],
        python_error=e["python_error"] or None,
        related=tuple(Related(path, _range(r["range"]), r["message"]) for r in e["related"]),
        fixes=fixes,
        source_pass="dynamic",
        layer=e["layer"],
    )


def _summary(s: SummaryRecord) -> ModelSummary:
    layers = []
    for layer in s["layers"]:
        r = layer["range"]
        layers.append(dict(layer, range=_range(r).to_json() if r else None))
    return ModelSummary.from_json(dict(s, layers=layers))


def _line_range(text: SourceText, line0: int) -> Range:
    body = text.line(line0)
    start = len(body) - len(body.lstrip())
    return Range(Position(line0, start), Position(line0, max(len(body), start + 1)))


def _frame_range(frames: list[FrameRecord], path: str, text: SourceText) -> Range | None:
    """The deepest frame of the traceback in the checked file (frames as the pool sends them)."""
    mine = [f for f in frames if f.get("file") == path]
    if not mine:
        return None
    f = mine[-1]
    line0 = int(f.get("line") or 1) - 1
    col, end_col = f.get("col"), f.get("end_col")
    if col is None or end_col is None or (f.get("end_line") not in (None, line0 + 1)):
        return _line_range(text, line0)
    return Range(
        Position(line0, text.char_col(line0, col)), Position(line0, text.char_col(line0, end_col))
    )


def _where(d: Diagnostic) -> tuple[str, int, str | None]:
    """Identity of a dynamic finding across edits: the message changes with the shapes, the
    code, the line and the culprit layer do not."""
    return d.code, d.range.start.line, d.layer


def verify_fixes(
    source: str,
    path: str,
    options: CheckOptions,
    pool: WorkerPool,
    diagnostics: list[Diagnostic],
    pre: list[list[Any]] | None = None,
) -> list[Diagnostic]:
    """Mark each fix verified only if re-checking with its edit applied shows the error gone
    (no finding with the same code, line and layer) and no more errors than before. `pre` are
    the static fixes the check was run with; the re-checks run with them too."""
    memo: dict[str, list[Diagnostic] | None] = {}
    pre = pre or []

    def recheck(text: str, edits: list[TextEdit]) -> list[Diagnostic] | None:
        if text not in memo:
            touched = {e.range.start.line for e in edits}
            keep = [p for p in pre if p[0] not in touched]
            raw = run_job(pool, text, path, options, extra={"pre_edits": keep} if keep else None)
            memo[text] = interpret(raw, text, path).diagnostics if is_job_result(raw) else None
        return memo[text]

    def errors(ds: list[Diagnostic]) -> int:
        return sum(1 for d in ds if d.severity == Severity.ERROR)

    fixed = [d for d in diagnostics if d.fixes]
    before = errors(diagnostics)
    # All first fixes at once: one re-check verifies them all when every targeted error goes.
    first = [e for d in fixed for e in d.fixes[0].edits]
    after = recheck(apply_edits(source, first), first)
    if after is not None and len(fixed) > 1:
        gone = {_where(x) for x in after}
        if errors(after) <= before - len(fixed) and not any(_where(d) in gone for d in fixed):
            return [
                replace(d, fixes=(replace(d.fixes[0], verified=True), *d.fixes[1:]))
                if d.fixes
                else d
                for d in diagnostics
            ]
    out = []
    for d in diagnostics:
        fixes = []
        for fix in d.fixes:
            after = recheck(apply_edits(source, fix.edits), list(fix.edits))
            ok = (
                after is not None
                and errors(after) < before
                and all(_where(x) != _where(d) for x in after)
            )
            fixes.append(replace(fix, verified=ok))
        out.append(replace(d, fixes=tuple(fixes)))
    return out


def timed_run(
    source: str, path: str, options: CheckOptions, pool: WorkerPool, static: list[Diagnostic]
) -> tuple[DynamicResult, float]:
    t0 = time.perf_counter()
    res = run_dynamic(source, path, options, pool, static)
    return res, (time.perf_counter() - t0) * 1000
