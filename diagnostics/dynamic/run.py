"""The dynamic pass, parent side: run the check in a sandboxed worker and read its findings.

The build and forward run in a child of the warm worker pool (child/job.py `run_job`); nothing the
checked program does happens in this process. Here the child's JSON becomes Diagnostics, the
pool's own outcomes become Timeout / Sandbox Violation / Runtime Error findings, and each shape
fix the child proposes is re-checked with its edit applied: it is marked `verified` by the rule
of `recheck` (DESIGN.md §6). Missing or negative layer arguments, whose value only the program
can tell, get their fixes from re-checks too (argument_fixes). The sandboxed job itself and the
reading of its JSON are in `job`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from deepeval_lsp.diagnostics import framework as fw
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.argument_fixes import argument_fixes, torch_layer, wanted
from deepeval_lsp.diagnostics.dynamic.engines import PAPER
from deepeval_lsp.diagnostics.dynamic.job import (
    child_finding,
    json_range,
    output_mismatch,
    rerun,
    run_batch,
    run_job,
)
from deepeval_lsp.diagnostics.dynamic.validate import checked_verdict
from deepeval_lsp.diagnostics.dynamic.wire import (
    FrameRecord,
    JobResult,
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
    TextEdit,
)
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.recheck import verify
from deepeval_lsp.diagnostics.static.literal_values import literal
from deepeval_lsp.diagnostics.taxonomy import Severity
from deepeval_lsp.diagnostics.text import SourceText, parse_python

if TYPE_CHECKING:
    from collections.abc import Sequence

    from deepeval_lsp.diagnostics.dynamic.engines import Pool


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
    pool: Pool,
    static: list[Diagnostic] | None = None,
) -> DynamicResult:
    """Build and run the model in the sandbox; every finding, with verified shape fixes."""
    if pool.engine is PAPER:
        return run_paper(source, path, options, pool, static)
    pre = static_pre_edits(source, static) if static and options.fix_static_first else []
    raw = run_job(pool, source, path, options, extra={"pre_edits": pre} if pre else None)
    out = interpret(raw, source, path)
    if static:
        once = [d for d in out.diagnostics if not _duplicates(d, static)]
        if out.model is None and is_job_result(raw):
            # the run's own failure, said by the static pass at its line: what it cost is said
            failed = [d for d in out.diagnostics if d not in once and _is_run_error(d, raw)]
            out.notes.extend(f"the model was not built: {d.message}" for d in failed)
        out.diagnostics = once
    if not options.paper_compat:
        out.diagnostics = [_keras2_api(d) for d in out.diagnostics]
    if options.verify_fixes and any(d.fixes for d in out.diagnostics):
        out.diagnostics = verify_dynamic(source, path, options, pool, out.diagnostics, pre)
    found = [*(static or []), *out.diagnostics]
    if options.verify_fixes and wanted(found):
        for old, new in argument_fixes(source, path, options, pool, static or [], found, pre):
            if old in out.diagnostics:
                out.diagnostics[out.diagnostics.index(old)] = new
            else:
                out.static_fixes.append((old, new))
    shape = output_shape_finding(raw, source, path, options, pool)
    if shape is not None:
        out.diagnostics.append(shape)
    return out


def _shown(shape: tuple[int, ...] | list[int]) -> str:
    dims = ["N", *map(str, shape[1:])] if shape else []
    return f"({', '.join(dims)}{',' if len(dims) == 1 else ''})"


def output_shape_finding(
    raw: JobResult | PoolOutcome, source: str, path: str, options: CheckOptions, pool: Pool
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
        node = _size_argument(tree, text, json_range(o["range"]), o["param"])
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
    finding = Diagnostic(
        T.OUTPUT_SHAPE_MISMATCH,
        where,
        message,
        python_error="",
        source_pass="dynamic",
        layer=layer,
    )
    if not (edits and options.verify_fixes and len(edits) == len(diff)):
        return finding

    def recheck(text: str, edits: Sequence[TextEdit]) -> list[Diagnostic] | None:
        """The re-run's findings, with this one when its output still differs; None unless the
        model ran and its output is known. The re-run is of the text as written."""
        _, after = rerun(pool, source, edits, path, options, [])
        if not is_job_result(after) or not after["executable"]:
            return None
        left = output_mismatch(after["outputs"], options, batch)
        if left is None:
            return None
        return [*interpret(after, text, path).diagnostics, *([finding] if left else [])]

    sizes = " and ".join(e.new_text for e in edits)
    title = f"Change to `{sizes}`, the task's output size (the output then agrees)"
    candidate = replace(finding, fixes=(Fix(title, tuple(edits)),))
    (checked,) = verify(source, [candidate], recheck, identity=lambda d: d.code, limit=None)
    return checked if checked.fixes[0].verified else finding


def _size_argument(tree: ast.Module, text: SourceText, site: Range, param: str) -> ast.expr | None:
    """The node of `param` in the layer constructor call at `site` (as given, not defaulted)."""
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or text.range_of(call).start != site.start:
            continue
        for k in call.keywords:
            if k.arg == param:
                return k.value
        cls = torch_layer(call)
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
    pool: Pool,
    static: list[Diagnostic] | None = None,
) -> DynamicResult:
    """The study's verdict from the paper engine's pool (paper_engine.run_job): the program as
    written, imported whole, `dl_model()`, `summary()`, `compile()` on Keras 2; a failure is one
    finding in the study's taxonomy at the failing frame of the file."""
    job = {"source": source, "path": path}
    result = checked_verdict(
        pool.run(PAPER.job, job, timeout_s=options.timeout_ms / 1000), source, path
    )
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


_MISSING_KERAS_MEMBER = re.compile(r"module '(keras(?:\.\w+)*)' has no attribute '(\w+)'")


def _keras2_api(d: Diagnostic) -> Diagnostic:
    """A run that stopped on a Keras 2 name Keras 3 lacks (`keras.backend.name_scope`, reached
    through a module of the project written for Keras 2) fails only on Keras 3: a warning that
    says so, as the static pass words the same name."""
    m = _MISSING_KERAS_MEMBER.search(d.message) if d.code == T.NONEXISTENT_ATTRIBUTE else None
    if m is None:
        return d
    dotted = f"{m.group(1)}.{m.group(2)}"
    if not fw.in_keras2(dotted):
        return d
    return replace(
        d,
        severity=Severity.WARNING,
        message=f"{d.message}{fw.legacy_note(dotted)}: it fails on Keras 3, runs on Keras 2",
        fixes=(),
    )


def _is_run_error(d: Diagnostic, raw: JobResult) -> bool:
    """Is `d` the failure that ended the run (not one of its notes on the side)?"""
    return any(
        e["message"] == d.message and e["range"][0] == d.range.start.line for e in raw["errors"]
    )


def _duplicates(d: Diagnostic, static: list[Diagnostic]) -> bool:
    """The static pass already reported this finding (same code, or same early-stage category,
    on the same line): report it once."""
    early = d.code < T.SHAPE_MISMATCH
    for s in static:
        if s.range.start.line != d.range.start.line:
            continue
        if s.code == d.code or (early and s.code < T.SHAPE_MISMATCH):
            return True
        # an import the static pass explained as beyond the check (a module of the project
        # that is not on this file's path): its failure in the run is that same limit
        if s.code == T.NOT_CHECKABLE and d.code in (T.NONEXISTENT_MODULE, T.NONEXISTENT_API_IMPORT):
            return True
    return False


def interpret(raw: JobResult | PoolOutcome, source: str, path: str) -> DynamicResult:
    """Turn a worker result (or the pool's outcome) into findings."""
    text = SourceText(source)
    res = DynamicResult(sandbox=raw.get("sandbox"))
    if is_job_result(raw):
        for e in raw["errors"]:
            res.diagnostics.append(child_finding(e, path))
        for e in raw["info"]:
            res.diagnostics.append(child_finding(e, path))
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
                f"the check stopped at its time limit ({detail}), so the model was not "
                "checked; raise the limit with `--timeout SECONDS` or the editor setting "
                "`deepeval.timeoutMs`",
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
    elif status == "untrusted":  # never a pass: the checker cannot say what the program did
        res.diagnostics.append(
            Diagnostic(
                T.NOT_CHECKABLE,
                _line_range(text, 0),
                f"the checker could not trust the sandboxed run's result: {raw.get('detail')}",
                source_pass="dynamic",
            )
        )
        res.status = "ran: its result was not trusted"
        res.executable = None
    else:
        res.executable = None
        res.status = "not run: the worker failed"
        res.notes.append(f"dynamic checks failed: {raw.get('detail', status)}")
    return res


def _summary(s: SummaryRecord) -> ModelSummary:
    layers = []
    for layer in s["layers"]:
        r = layer["range"]
        layers.append(dict(layer, range=json_range(r).to_json() if r else None))
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


def dynamic_identity(d: Diagnostic) -> tuple[str, int, str | None]:
    """A dynamic finding's identity across an edit: the message changes with the shapes, the
    code, the line and the culprit layer do not."""
    return d.code, d.range.start.line, d.layer


def verify_dynamic(
    source: str,
    path: str,
    options: CheckOptions,
    pool: Pool,
    diagnostics: list[Diagnostic],
    pre: list[list[Any]] | None = None,
) -> list[Diagnostic]:
    """Decide each fix's `verified` flag (recheck.verify) by re-running the sandboxed check with
    it applied; `pre` are the static fixes the check ran with, and the re-checks run with them.
    The first fixes of all findings are tried together first: one re-check for all of them."""

    def recheck(text: str, edits: Sequence[TextEdit]) -> list[Diagnostic] | None:
        _, raw = rerun(pool, source, edits, path, options, pre or [])
        return interpret(raw, text, path).diagnostics if raw.get("status") == "ok" else None

    return verify(
        source, diagnostics, recheck, identity=dynamic_identity, limit=None, together=True
    )
