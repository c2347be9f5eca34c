"""Verified fixes for a layer's missing or invalid size argument, found by running the model.

The static pass sees `nn.Linear(128)` (no `out_features`), `nn.Conv2d(3, 32)` (no kernel size),
`nn.MultiheadAttention(64)` (no `num_heads`) and `nn.Linear(128, -64)`, but only the program can
say which value is right. For each such finding the dynamic pass tries what the program implies
(DESIGN.md §6), each try a sandboxed re-check with the edit applied:

* a missing or negative size (`out_features`, `embedding_dim`, `hidden_size`, `out_channels`…):
  a negative size's absolute value first; else the layer is built with a placeholder size and the
  consumer's shape fix names the size it expects (its own text: `64`, or `hidden`);
* a missing `kernel_size`: 3, 1, 5, 7, the one that keeps the size with the given padding first;
* a missing `num_heads`: 8, 4, 2, 1 (those that divide a literal `embed_dim`).

A candidate becomes a fix only when the program then checks clean: the static finding gone and
the model built and run without an error. Where several candidates pass and nothing in the
program decides between them, each is offered, the most conventional first, and the titles say
so. At most MAX_RUNS re-checks per finding, and none unless such a finding exists.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepeval_lsp.diagnostics import framework as fw
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.job import child_finding, output_mismatch, rerun, run_batch
from deepeval_lsp.diagnostics.dynamic.wire import JobResult, PoolOutcome, is_job_result
from deepeval_lsp.diagnostics.findings import Diagnostic, Fix, Range, TextEdit
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.recheck import fixes_targets
from deepeval_lsp.diagnostics.static.literal_values import literal
from deepeval_lsp.diagnostics.text import SourceText, apply_edits, callee_name, parse_python

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.dynamic.engines import Pool

MAX_RUNS = 4
# A size no consumer is likely to expect, with many divisors (attention heads, groups).
PLACEHOLDER = 120
SIZE_PARAMS = frozenset(
    {
        "out_features",
        "embedding_dim",
        "hidden_size",
        "out_channels",
        "num_features",
        "in_features",
        "in_channels",
        "input_size",
        "embed_dim",
        "d_model",
    }
)
KERNEL_SIZES = (3, 1, 5, 7)
HEAD_COUNTS = (8, 4, 2, 1)
TASK_OUTPUT = "the task's output size"
_MISSING = re.compile(r"is missing required argument `(\w+)`$")
_MISSING_AT_RUN = re.compile(r"missing 1 required positional argument: '(\w+)'$")
_VIEW = re.compile(r"shape '\[(-1(?:, *-?\d+)+)\]' is invalid for input of size")
_NEGATIVE = re.compile(r"`(\w+)` must be (?:non-negative|positive), got (-\d+)$")


@dataclass(frozen=True)
class _Target:
    finding: Diagnostic
    call: ast.Call
    cls: Any  # the class, or its entry in the API surface
    param: str
    value: ast.expr | None  # the invalid value's node; None when the argument is missing


def wanted(findings: list[Diagnostic]) -> list[Diagnostic]:
    """The findings this module may fix: a missing argument (the static pass's, or the build's
    TypeError for constructors the static pass cannot bind) or a negative size, with no fix yet."""
    return [d for d in findings if d.preferred_fix is None and _param(d) is not None]


def _param(d: Diagnostic) -> str | None:
    if d.code == T.MISSING_ARGUMENT:
        m = (_MISSING if d.source_pass == "static" else _MISSING_AT_RUN).search(d.message)
    elif d.code == T.INVALID_ARGUMENT_VALUE and d.source_pass == "static":
        m = _NEGATIVE.search(d.message)
    else:
        m = None
    return m.group(1) if m else None


def argument_fixes(
    source: str,
    path: str,
    options: CheckOptions,
    pool: Pool,
    static: list[Diagnostic],
    findings: list[Diagnostic],
    pre: list[list[Any]],
) -> list[tuple[Diagnostic, Diagnostic]]:
    """(finding, the same finding with its verified fixes) for each of `wanted(findings)` that
    a re-check could fix; `static` are the static pass's findings (the re-checks must not add
    to their errors)."""
    todo = wanted(findings)
    if not todo:
        return []
    try:
        tree = parse_python(source)
    except (SyntaxError, ValueError):
        return []
    text = SourceText(source)
    out = []
    for d in todo:
        target = _target(d, tree, text)
        if target is None:
            continue
        runner = _Runner(source, path, options, pool, pre, d, static)
        fixes = _fixes(target, text, runner)
        if fixes:
            out.append((d, dataclasses.replace(d, fixes=(*fixes, *d.fixes))))
    return out


def _target(d: Diagnostic, tree: ast.Module, text: SourceText) -> _Target | None:
    param = _param(d)
    missing = d.code == T.MISSING_ARGUMENT
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute | ast.Name):
            continue
        value = None
        if missing and d.source_pass == "static":
            if text.range_of(call.func).end != d.range.end:
                continue
        elif missing:  # the build's error: a call on its line that takes the parameter
            rng = text.range_of(call)
            if rng.start.line != d.range.start.line or not rng.overlaps(d.range):
                continue
        else:
            nodes = [*call.args, *(k.value for k in call.keywords)]
            value = next((n for n in nodes if text.range_of(n) == d.range), None)
            if value is None:
                continue
        cls = torch_layer(call)
        params = fw.params_of(cls) if cls is not None else None
        if cls is None or params is None or param not in {*params.positional, *params.keyword}:
            continue
        if any(isinstance(a, ast.Starred) for a in call.args):
            return None
        if any(k.arg is None for k in call.keywords):
            return None
        return _Target(d, call, cls, param, value)  # type: ignore[arg-type]
    return None


def torch_layer(call: ast.Call) -> Any:
    """The torch.nn class a call names (`nn.Linear`, `torch.nn.Linear`, `Linear`): the class, or
    its entry in the API surface (framework.lookup)."""
    name = callee_name(call)
    if not name:
        return None
    found = fw.lookup(f"torch.nn.{name}")
    return found.obj if fw.is_class(found.obj) else None


def _fixes(t: _Target, text: SourceText, runner: _Runner) -> list[Fix]:
    if t.param == "kernel_size" and t.value is None:
        return _kernel_fixes(t, text, runner)
    if t.param == "num_heads" and t.value is None:
        return _head_fixes(t, text, runner)
    if t.param in SIZE_PARAMS:
        return _size_fixes(t, text, runner)
    return []


def _edit(t: _Target, text: SourceText, value: str) -> TextEdit | None:
    """Set the target argument to `value`: replace the invalid value, or add the missing one
    (positionally when it is the next positional parameter, else by keyword)."""
    if t.value is not None:
        return TextEdit(text.range_of(t.value), value)
    params = fw.params_of(t.cls)
    if params is None:
        return None
    call = t.call
    if t.param in params.positional and params.positional.index(t.param) == len(call.args):
        if call.args:
            end = text.range_of(call.args[-1]).end
            return TextEdit(Range(end, end), f", {value}")
        if call.keywords:
            start = text.range_of(call.keywords[0]).start
            return TextEdit(Range(start, start), f"{value}, ")
    elif t.param not in params.keyword:
        return None
    else:
        value = f"{t.param}={value}"
    nodes = [*call.args, *(k.value for k in call.keywords)]
    if nodes:
        end = max(text.range_of(n).end for n in nodes)
        return TextEdit(Range(end, end), f", {value}")
    end = text.range_of(call).end
    inside = dataclasses.replace(end, character=end.character - 1)
    return TextEdit(Range(inside, inside), value)


def _verb(t: _Target) -> str:
    return "Change to" if t.value is not None else "Add"


def _shown(t: _Target, value: str) -> str:
    return f"`{value}`" if t.value is not None else f"`{t.param}={value}`"


def _size_fixes(t: _Target, text: SourceText, runner: _Runner) -> list[Fix]:
    if t.value is not None:
        v = literal(t.value)
        if isinstance(v, int) and not isinstance(v, bool) and v < 0:
            edit = _edit(t, text, str(-v))
            if edit is not None and runner.clean([edit]):
                return [Fix(f"Change to `{-v}` (the model runs with it)", (edit,), verified=True)]
    probe = _edit(t, text, str(PLACEHOLDER))
    if probe is None:
        return []
    for expected, why in runner.expected(probe):
        edit = _edit(t, text, expected)
        if edit is not None and runner.clean([edit], output=why == TASK_OUTPUT):
            return [Fix(f"{_verb(t)} {_shown(t, expected)}: {why}", (edit,), verified=True)]
    return []


def _literal_kw(call: ast.Call, name: str, index: int | None = None) -> Any:
    node = next((k.value for k in call.keywords if k.arg == name), None)
    if node is None and index is not None and len(call.args) > index:
        node = call.args[index]
    return literal(node) if node is not None else None  # NOT_LITERAL when not a literal


def _kernel_fixes(t: _Target, text: SourceText, runner: _Runner) -> list[Fix]:
    padding = _literal_kw(t.call, "padding")
    stride = _literal_kw(t.call, "stride")
    hint = None
    if isinstance(padding, int) and padding > 0 and stride in (None, 1):
        hint = 2 * padding + 1  # keeps the size: kernel 3 with padding 1, 5 with 2
    order = ([hint] if hint else []) + [k for k in KERNEL_SIZES if k != hint]
    passed = []
    for k in order[:MAX_RUNS]:
        edit = _edit(t, text, str(k))
        if edit is not None and runner.clean([edit]):
            passed.append((k, edit))
    if not passed:
        return []
    if len(passed) == 1:
        k, edit = passed[0]
        tried = ", ".join(map(str, order[:MAX_RUNS]))
        why = f"the only one of {tried} with which the model runs"
        return [Fix(f"Add `kernel_size={k}` ({why})", (edit,), verified=True)]
    ks = [k for k, _ in passed]
    fixes = []
    for i, (k, edit) in enumerate(passed):
        others = ", ".join(str(x) for x in ks if x != k)
        if hint == ks[0]:
            why = (
                f"keeps the size with padding={padding}; {others} also run"
                if i == 0
                else f"also runs; padding={padding} suggests {hint}"
            )
        else:
            why = (
                f"the usual choice; {others} also run and nothing in the program decides"
                if i == 0
                else "also runs; nothing in the program decides"
            )
        fixes.append(Fix(f"Add `kernel_size={k}` ({why})", (edit,), verified=True))
    return fixes


def _head_fixes(t: _Target, text: SourceText, runner: _Runner) -> list[Fix]:
    embed = _literal_kw(t.call, "embed_dim", 0)
    counts = [
        h for h in HEAD_COUNTS if not isinstance(embed, int) or (embed > 0 and embed % h == 0)
    ]
    passed = []
    for h in counts[:MAX_RUNS]:
        edit = _edit(t, text, str(h))
        if edit is not None and runner.clean([edit]):
            passed.append((h, edit))
    if len(passed) == 1:
        h, edit = passed[0]
        return [
            Fix(
                f"Add `num_heads={h}` (the only one of {', '.join(map(str, counts))} "
                "with which the model runs)",
                (edit,),
                verified=True,
            )
        ]
    fixes = []
    hs = [h for h, _ in passed]
    for i, (h, edit) in enumerate(passed):
        others = ", ".join(str(x) for x in hs if x != h)
        why = (
            f"the usual choice; {others} also divide embed_dim and run, nothing in the "
            "program decides"
            if i == 0
            else "also divides embed_dim and runs"
        )
        fixes.append(Fix(f"Add `num_heads={h}` ({why})", (edit,), verified=True))
    return fixes


class _Runner:
    """Sandboxed re-checks of edited texts for one finding, at most MAX_RUNS of them."""

    def __init__(
        self,
        source: str,
        path: str,
        options: CheckOptions,
        pool: Pool,
        pre: list[list[Any]],
        finding: Diagnostic,
        static: list[Diagnostic],
    ) -> None:
        self.source, self.path, self.options, self.pool = source, path, options, pool
        self.pre = pre
        self.finding = finding
        self.static = static
        self.runs = 0

    def _run(self, edits: list[TextEdit]) -> tuple[str, JobResult | PoolOutcome] | None:
        if self.runs >= MAX_RUNS:
            return None
        self.runs += 1
        return rerun(self.pool, self.source, edits, self.path, self.options, self.pre)

    def clean(self, edits: list[TextEdit], output: bool = False) -> bool:
        """The fix rule (recheck.fixes_targets), read strictly: the static re-check shows the
        finding gone and no new static error, and the sandboxed one shows the model built and
        run with no error at all (and, with `output`, returning the task's output shape)."""
        from deepeval_lsp.diagnostics.static.run import run_static

        text = apply_edits(self.source, edits)
        again = run_static(text, self.path, dataclasses.replace(self.options, verify_fixes=False))
        static_after = again.diagnostics if again.tree is not None else None
        if not fixes_targets(self.static, [self.finding], static_after, _line_identity):
            return False
        ran = self._run(edits)
        if ran is None:
            return False
        raw = ran[1]
        if not is_job_result(raw):
            return False
        if (
            raw["summary"] is None
            or raw["executable"] is False
            or (output and output_mismatch(raw["outputs"], self.options, run_batch(raw)))
        ):
            return False  # the model did not build and run (with the task's output)
        after = [child_finding(e, self.path) for e in raw["errors"]]
        return fixes_targets([self.finding], [self.finding], after, _line_identity)

    def expected(self, probe: TextEdit) -> list[tuple[str, str]]:
        """Run with the placeholder size; the sizes the program expects instead, with where
        that comes from, likeliest first: the consumer's own text at the argument its shape fix
        would change (or, when that fix sets a sum or a multiple of the placeholder, the size
        that makes the consumer's value come out), then the first other size the error names."""
        ran = self._run([probe])
        if ran is None:
            return []
        text = SourceText(self.source)
        line = probe.range.start.line
        # the probe inserts or replaces text on its own line: columns after it moved by this much
        shift = len(probe.new_text) - (probe.range.end.character - probe.range.start.character)
        raw = ran[1]
        if not is_job_result(raw):
            return []
        out: list[tuple[str, str]] = []
        if not raw["errors"]:
            # it runs with the placeholder: nothing consumes the size but the model's output
            out.extend(self._task_sizes(raw))
        for err in raw["errors"]:
            consumer = err["layer"] or "the next layer"
            for fix in [*([err["fix"]] if err.get("fix") else []), *err.get("more_fixes", [])]:
                for e in fix["edits"]:
                    l0, c0, l1, c1 = e["range"]
                    if l0 != l1 or not e["new_text"].isdigit():
                        continue
                    if l0 == line:
                        if c0 < probe.range.start.character + len(probe.new_text):
                            continue  # the probed layer's own argument
                        c0, c1 = c0 - shift, c1 - shift
                    for found in _inverse(text.line(l0)[c0:c1].strip(), int(e["new_text"])):
                        if all(found != x for x, _ in out):
                            out.append((found, f"the size {consumer} expects"))
            message = err["message"]
            view = _VIEW.search(message)
            if view:  # x.view(-1, 512, 4, 4) of the placeholder's output: 512 * 4 * 4 per sample
                dims = [int(d) for d in view.group(1).split(",")]
                if dims[0] == -1 and all(d > 0 for d in dims[1:]):
                    out.append((str(math.prod(dims[1:])), "the size the reshape after it needs"))
            sizes = [n for n in map(int, re.findall(r"\d+", message)) if n > 2]
            other = next((n for n in sizes if n != PLACEHOLDER), None)
            if (
                (PLACEHOLDER in sizes or view)
                and other is not None
                and all(str(other) != x for x, _ in out)
            ):
                out.append((str(other), "the size the error names beside the placeholder"))
            break  # later errors come after the first one's fix: not this size's doing
        return out

    def _task_sizes(self, raw: JobResult) -> list[tuple[str, str]]:
        """The task's size at each output dim that the probed placeholder set."""
        expected = self.options.output_shape
        outputs = raw["outputs"]
        if not expected or not outputs:
            return []
        wanted = (
            [tuple(s) for s in expected]
            if isinstance(expected[0], tuple | list)
            else [tuple(expected)]
        )
        if len(wanted) != len(outputs):
            return []
        out: list[tuple[str, str]] = []
        for o, w in zip(outputs, wanted, strict=True):
            shape = o["shape"]
            dims = [o["dim"] % len(shape)] if "dim" in o else range(1, len(shape))
            for d in dims:
                if shape[d] != PLACEHOLDER:
                    continue
                if len(shape) == len(w):
                    value = str(w[d])
                elif self.options.inputs is None and d == len(shape) - 1:
                    value = str(w[-1])  # the run's inputs were guessed: only the last dim counts
                else:
                    continue
                if all(value != x for x, _ in out):
                    out.append((value, TASK_OUTPUT))
        return out


def _line_identity(d: Diagnostic) -> tuple[str, int]:
    """A finding across an argument's edit, which keeps the lines: its code and line."""
    return d.code, d.range.start.line


def _inverse(written: str, wanted: int) -> list[str]:
    """The probed sizes that would make a consumer whose fix sets `wanted` (instead of its
    `written` value) fit: the text itself when the fix sets the placeholder; when it sets a
    multiple of it (a flatten) or the placeholder plus other widths (a concatenation), the
    literal that gives `written` the same way."""
    if wanted == PLACEHOLDER:
        return [written] if written else []
    if not written.isdigit():
        return []
    value, out = int(written), []
    if wanted % PLACEHOLDER == 0 and value % (wanted // PLACEHOLDER) == 0:
        out.append(str(value // (wanted // PLACEHOLDER)))
    if PLACEHOLDER + value - wanted > 0:
        out.append(str(PLACEHOLDER + value - wanted))
    return out
