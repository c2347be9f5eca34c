"""The checkers' self-test: inject typical LLM mistakes into reference programs and score the finds.

Each mutation operator edits one token of a reference (found through `ast`, so the line is
known), one mistake per mutant. A mutant counts as detected when a diagnostic of the expected
code exists; at the right line when such a diagnostic, or one of its related locations, sits on
the injected line (a related location spanning it, a constructor call written over several
lines, counts when the diagnostic's fix edits that line). For the width kinds that line is the
constructor whose argument was changed; a diagnostic on the forward line that fails counts when
it names that constructor as related. For a wrong concat dim only the cat's dim argument counts:
the error often shows where the result is consumed, and the finding must name the cat (a related
location on its dim) for the user to know what to change. For mismatched branch padding (one
convolution of a branch that feeds a cat along the channels or a sum loses its padding) only the
convolution's padding counts, not the merge where the sizes clash: several branches meet there,
and the finding must say which one shrank. A fix "cleans" when applying the preferred fix and
checking again leaves no error. A fix is "offered" when the finding carries any fix and
"verified" when one of them passed the re-check (the preferred fix, which `check --fix` applies).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.findings import Position, Range, Report, Severity, TextEdit
from deepeval_lsp.diagnostics.tasks.model import Task
from deepeval_lsp.diagnostics.taxonomy import (
    INPUT_ARGUMENT_MISMATCH,
    INVALID_ARGUMENT_VALUE,
    MISSING_ARGUMENT,
    MISSING_IMPORT,
    NONEXISTENT_ATTRIBUTE,
    SHAPE_MISMATCH,
    UNEXPECTED_ARGUMENT,
)
from deepeval_lsp.diagnostics.text import apply_edits, callee_name, parse_python

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.dynamic.engines import Pool


@dataclass(frozen=True)
class Mutant:
    kind: str
    task_id: str
    source: str
    line: int  # 0-based line of the injected mistake
    expected_codes: tuple[str, ...]
    description: str


@dataclass
class MutantResult:
    mutant: Mutant
    detected: bool
    right_line: bool
    fix_offered: bool
    fix_verified: bool
    fix_cleans: bool
    codes: list[str] = field(default_factory=list)
    executable: bool | None = None  # what the check says of the mutant (None: not decided)


def _calls(tree: ast.AST, names: tuple[str, ...]) -> Iterator[ast.Call]:
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and callee_name(n) in names]
    yield from sorted(nodes, key=lambda n: (n.lineno, n.col_offset))


def _int_arg(node: ast.Call, index: int, keyword: str) -> ast.Constant | None:
    """The int literal given for a parameter, positionally or by keyword."""
    arg: ast.expr | None = None
    if len(node.args) > index:
        arg = node.args[index]
    else:
        arg = next((k.value for k in node.keywords if k.arg == keyword), None)
    if isinstance(arg, ast.Constant) and type(arg.value) is int:
        return arg
    return None


def _node_range(node: ast.AST) -> Range:
    return Range(
        Position(node.lineno - 1, node.col_offset),
        Position(node.end_lineno - 1, node.end_col_offset),
    )  # type: ignore[attr-defined]


def _replace(source: str, node: ast.AST, text: str) -> str:
    return apply_edits(source, [TextEdit(_node_range(node), text)])


Operator = Callable[[Task, str, ast.Module], "Mutant | None"]


def _wrong_size(
    kind: str,
    names: tuple[str, ...],
    index: int,
    keyword: str | dict[str, str],
    new: Callable[[int], int],
    skip_groups: bool = False,
) -> Operator:
    """Change the int literal of a size parameter (`keyword`, or per class name when the classes
    call it differently), given at position `index` or by keyword."""

    def op(task: Task, source: str, tree: ast.Module) -> Mutant | None:
        for call in _calls(tree, names):
            if skip_groups and any(k.arg == "groups" for k in call.keywords):
                continue
            name = keyword if isinstance(keyword, str) else keyword[callee_name(call) or ""]
            const = _int_arg(call, index, name)
            if const is None:
                continue
            value = new(const.value)
            return Mutant(
                kind,
                task.id,
                _replace(source, const, str(value)),
                const.lineno - 1,
                (SHAPE_MISMATCH,),
                f"{callee_name(call)} {name} {const.value} -> {value}",
            )
        return None

    return op


def _missing_import(task: Task, source: str, tree: ast.Module) -> Mutant | None:
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for stmt in tree.body:
        if not isinstance(stmt, ast.Import) or len(stmt.names) != 1:
            continue
        alias = stmt.names[0]
        bound = alias.asname or alias.name.split(".")[0]
        if alias.name in ("torch.nn.functional", "torch") and bound in used:
            lines = source.splitlines(keepends=True)
            # blank the line rather than delete it, so every other line keeps its number
            lines[stmt.lineno - 1] = "\n"
            first_use = min(
                n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == bound
            )
            return Mutant(
                "missing_import",
                task.id,
                "".join(lines),
                first_use - 1,
                (MISSING_IMPORT,),
                f"deleted `{ast.unparse(stmt)}`",
            )
    return None


HALLUCINATED = {
    "Conv2d": "Conv2D",
    "Conv1d": "Conv1D",
    "BatchNorm2d": "BatchNorm2D",
    "BatchNorm1d": "BatchNorm1D",
    "MaxPool2d": "MaxPool2D",
    "relu": "relu6x",
    "Linear": "Dense",
    "LSTM": "LSTMLayer",
    "Embedding": "Embeddings",
}


def _hallucinated_member(task: Task, source: str, tree: ast.Module) -> Mutant | None:
    nodes = sorted(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute)
            and n.attr in HALLUCINATED
            and isinstance(n.value, ast.Name)
            and n.value.id in ("nn", "F")
        ),
        key=lambda n: (n.lineno, n.col_offset),
    )
    if not nodes:
        return None
    node = nodes[0]
    end = node.end_col_offset or 0
    rng = Range(
        Position(node.end_lineno - 1, end - len(node.attr)),  # type: ignore[operator]
        Position(node.end_lineno - 1, end),
    )  # type: ignore[operator]
    new = HALLUCINATED[node.attr]
    return Mutant(
        "hallucinated_member",
        task.id,
        apply_edits(source, [TextEdit(rng, new)]),
        node.lineno - 1,
        (NONEXISTENT_ATTRIBUTE,),
        f"{node.value.id}.{node.attr} -> {node.value.id}.{new}",
    )  # type: ignore[attr-defined]


MISSPELLED = {
    "kernel_size": "kernal_size",
    "padding": "paddin",
    "stride": "strides",
    "batch_first": "batchfirst",
    "num_layers": "num_layer",
    "bias": "use_bias",
}


def _misspelled_keyword(task: Task, source: str, tree: ast.Module) -> Mutant | None:
    lines = source.splitlines(keepends=True)
    layers = sorted(
        (n for n in ast.walk(tree) if (callee_name(n) or "a")[0].isupper()),
        key=lambda n: (n.lineno, n.col_offset),
    )
    for call in layers:
        for kw in call.keywords:
            if kw.arg not in MISSPELLED:
                continue
            line = kw.value.lineno - 1
            text = lines[line]
            start = text.rfind(kw.arg, 0, kw.value.col_offset)
            if start < 0:
                continue
            rng = Range(Position(line, start), Position(line, start + len(kw.arg)))
            new = MISSPELLED[kw.arg]
            return Mutant(
                "misspelled_keyword",
                task.id,
                apply_edits(source, [TextEdit(rng, new)]),
                line,
                (UNEXPECTED_ARGUMENT,),
                f"{callee_name(call)}({kw.arg}=) -> {new}=",
            )
    return None


def _invalid_value(task: Task, source: str, tree: ast.Module) -> Mutant | None:
    for call in _calls(tree, ("Dropout", "Dropout2d", "Dropout1d")):
        if call.args and isinstance(call.args[0], ast.Constant):
            return Mutant(
                "invalid_value",
                task.id,
                _replace(source, call.args[0], "1.5"),
                call.lineno - 1,
                (INVALID_ARGUMENT_VALUE,),
                f"{callee_name(call)}(p=1.5)",
            )
    for call in _calls(tree, ("Linear",)):
        const = _int_arg(call, 1, "out_features")
        if const is not None:
            return Mutant(
                "invalid_value",
                task.id,
                _replace(source, const, f"-{const.value}"),
                const.lineno - 1,
                (INVALID_ARGUMENT_VALUE,),
                f"Linear out_features -{const.value}",
            )
    return None


REQUIRED_POSITIONALS = {
    "Linear": 2,
    "Conv1d": 3,
    "Conv2d": 3,
    "Conv3d": 3,
    "Embedding": 2,
    "LSTM": 2,
    "GRU": 2,
    "MultiheadAttention": 2,
}


def _missing_argument(task: Task, source: str, tree: ast.Module) -> Mutant | None:
    for call in _calls(tree, tuple(REQUIRED_POSITIONALS)):
        if len(call.args) != REQUIRED_POSITIONALS[callee_name(call)] or (
            call.keywords and any(k.arg is None for k in call.keywords)
        ):
            continue
        prev, last = call.args[-2], call.args[-1]
        # drop ", <last>" so the call reads as if the argument was forgotten
        rng = Range(
            Position(prev.end_lineno - 1, prev.end_col_offset),  # type: ignore[operator]
            Position(last.end_lineno - 1, last.end_col_offset),
        )  # type: ignore[operator]
        return Mutant(
            "missing_argument",
            task.id,
            apply_edits(source, [TextEdit(rng, "")]),
            call.lineno - 1,
            (MISSING_ARGUMENT,),
            f"{callee_name(call)} without `{ast.unparse(last)}`",
        )
    return None


def _concat_dim(task: Task, source: str, tree: ast.Module) -> Mutant | None:
    for call in _calls(tree, ("cat", "concat", "concatenate")):
        dim = _int_arg(call, 1, "dim")
        if dim is None or dim.value < 0:
            continue
        # the mismatch shows where the pieces meet (the cat) or where the result is used
        return Mutant(
            "concat_dim",
            task.id,
            _replace(source, dim, str(dim.value + 1)),
            dim.lineno - 1,
            (SHAPE_MISMATCH, INPUT_ARGUMENT_MISMATCH),
            f"{callee_name(call)} dim {dim.value} -> {dim.value + 1}",
        )
    return None


CONVS = ("Conv1d", "Conv2d", "Conv3d")
# Modules and functions after which a branch's spatial size no longer follows its convolutions.
RESIZERS = (
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "Upsample",
    "interpolate",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "Flatten",
    "flatten",
    "view",
    "reshape",
    "mean",
    "amax",
)


def _self_attrs(node: ast.AST) -> set[str]:
    return {
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"
    }


def _same_padding(call: ast.Call) -> ast.Constant | None:
    """The padding literal of a stride-1 convolution that keeps the size (padding (k-1)/2)."""
    if callee_name(call) not in CONVS or any(
        k.arg in ("stride", "dilation") for k in call.keywords
    ):
        return None
    if len(call.args) > 3:
        return None  # stride given positionally
    kernel = _int_arg(call, 2, "kernel_size")
    pad = next((k.value for k in call.keywords if k.arg == "padding"), None)
    if kernel is None or not isinstance(pad, ast.Constant) or type(pad.value) is not int:
        return None
    return pad if kernel.value > 1 and pad.value == (kernel.value - 1) // 2 > 0 else None


def _merges(fn: ast.FunctionDef) -> Iterator[tuple[list[set[str]], list[set[str]]]]:
    """For each merge in `forward` (a cat along dim 1 or an addition), the self attributes each
    input depends on, and those it calls on the way (to see resizers)."""
    deps: dict[str, set[str]] = {}

    def of(expr: ast.AST) -> set[str]:
        out = _self_attrs(expr)
        for n in ast.walk(expr):
            if isinstance(n, ast.Name):
                out |= deps.get(n.id, set())
        return out

    def funcs(expr: ast.AST) -> set[str]:
        return {c for n in ast.walk(expr) if isinstance(n, ast.Call) and (c := callee_name(n))}

    for stmt in fn.body:
        for node in ast.walk(stmt):
            parts: list[ast.expr] = []
            if isinstance(node, ast.Call) and callee_name(node) == "cat" and node.args:
                dim = _int_arg(node, 1, "dim")
                if (
                    dim is not None
                    and dim.value == 1
                    and isinstance(node.args[0], ast.List | ast.Tuple)
                ):
                    parts = list(node.args[0].elts)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                parts = [node.left, node.right]
            if len(parts) >= 2:
                yield [of(p) for p in parts], [funcs(p) for p in parts]
        if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = of(stmt.value)
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        old = deps.get(n.id, set()) if isinstance(stmt, ast.AugAssign) else set()
                        deps[n.id] = old | value


def _branch_padding(task: Task, source: str, tree: ast.Module) -> Mutant | None:
    found: list[tuple[ast.Constant, ast.Call]] = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
        if "__init__" not in methods or "forward" not in methods:
            continue
        built: dict[str, ast.expr] = {}
        for stmt in ast.walk(methods["__init__"]):
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                attrs = _self_attrs(stmt.targets[0])
                if len(attrs) == 1 and isinstance(stmt.targets[0], ast.Attribute):
                    built[attrs.pop()] = stmt.value
        for deps, calls in _merges(methods["forward"]):
            for i, mine in enumerate(deps):
                others = set().union(*(d for j, d in enumerate(deps) if j != i))
                if any(c in RESIZERS for c in calls[i]):
                    continue
                own = [a for a in sorted(mine - others) if a in built]
                if any(
                    c in RESIZERS for a in own for c in map(callee_name, _calls(built[a], RESIZERS))
                ):
                    continue
                for a in own:
                    for call in _calls(built[a], CONVS):
                        pad = _same_padding(call)
                        if pad is not None:
                            found.append((pad, call))
    if not found:
        return None
    pad, call = min(found, key=lambda f: (f[0].lineno, f[0].col_offset))
    return Mutant(
        "branch_padding",
        task.id,
        _replace(source, pad, "0"),
        pad.lineno - 1,
        (SHAPE_MISMATCH,),
        f"{callee_name(call)} padding {pad.value} -> 0 in one branch of a merge",
    )


OPERATORS: dict[str, Operator] = {
    "linear_in_features": _wrong_size(
        "linear_in_features", ("Linear",), 0, "in_features", lambda v: v + 16
    ),
    "conv_in_channels": _wrong_size(
        "conv_in_channels",
        ("Conv1d", "Conv2d", "Conv3d"),
        0,
        "in_channels",
        lambda v: v + 16,
        skip_groups=True,
    ),
    "batchnorm_num_features": _wrong_size(
        "batchnorm_num_features",
        ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"),
        0,
        "num_features",
        lambda v: v + 16,
    ),
    # twice the width the tokens have: still divisible by the number of heads, so the layer
    # builds and the mismatch shows on the first forward, as when a model's width is changed in
    # one place only
    "embed_dim": _wrong_size(
        "embed_dim",
        ("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer"),
        0,
        {
            "MultiheadAttention": "embed_dim",
            "TransformerEncoderLayer": "d_model",
            "TransformerDecoderLayer": "d_model",
        },
        lambda v: v * 2,
    ),
    "concat_dim": _concat_dim,
    "branch_padding": _branch_padding,
    "missing_import": _missing_import,
    "hallucinated_member": _hallucinated_member,
    "misspelled_keyword": _misspelled_keyword,
    "invalid_value": _invalid_value,
    "missing_argument": _missing_argument,
}
SHAPE_KINDS = (
    "linear_in_features",
    "conv_in_channels",
    "batchnorm_num_features",
    "embed_dim",
    "concat_dim",
    "branch_padding",
)


def mutants(task: Task, kinds: list[str] | None = None) -> list[Mutant]:
    """One mutant per applicable kind for a task's reference."""
    tree = parse_python(task.reference)
    out = []
    for kind in kinds or list(OPERATORS):
        m = OPERATORS[kind](task, task.reference, tree)
        if m is not None:
            out.append(m)
    return out


def options_for(task: Task) -> CheckOptions:
    return CheckOptions(
        inputs=task.inputs,
        output_shape=task.output_shape,
        fix_static_first=True,
    )


def _errors(report: Report) -> list[Any]:
    return [d for d in report.diagnostics if d.severity == Severity.ERROR]


def _names_line(d: Any, line: int) -> bool:
    """The finding, or one of its related locations, is on `line`; a related location that
    spans it (a constructor call over several lines) counts when a fix of the finding edits it."""
    if d.range.start.line == line or any(r.range.start.line == line for r in d.related):
        return True
    edits = {e.range.start.line for f in d.fixes for e in f.edits}
    spans = any(r.range.start.line <= line <= r.range.end.line for r in d.related)
    return spans and line in edits


def evaluate(m: Mutant, task: Task, pool: Pool | None = None) -> MutantResult:
    options = options_for(task)
    path = f"{task.id}_{m.kind}.py"
    report = check(m.source, path, options, pool=pool)
    hits = [d for d in report.diagnostics if d.code in m.expected_codes]
    right = [d for d in hits if _names_line(d, m.line)]
    best = (right or hits or [None])[0]
    fix = best.preferred_fix if best is not None else None
    cleans = False
    if fix is not None:
        fixed = apply_edits(m.source, fix.edits)
        again = check(fixed, path, options, pool=pool)
        cleans = again.error is None and not _errors(again)
    return MutantResult(
        m,
        bool(hits),
        bool(right),
        best is not None and bool(best.fixes),  # any fix, verified or not
        fix is not None,  # the preferred fix: the first verified one
        cleans,
        sorted({d.code for d in report.diagnostics}),
        report.executable,
    )


def false_errors(task: Task, pool: Pool | None = None) -> list[str]:
    """Error-severity codes on the untouched reference (should be none)."""
    report = check(task.reference, f"{task.id}.py", options_for(task), pool=pool)
    out = [d.code for d in _errors(report)]
    if report.error:
        out.append(report.error)
    return out


COLUMNS = ("mutants", "recall", "right_line", "fix_offered", "verified", "cleans")


def table(results: list[MutantResult]) -> dict[str, dict[str, float]]:
    """Per kind: mutant count and the rates of the table's columns."""
    rows: dict[str, dict[str, float]] = {}
    for kind in dict.fromkeys(r.mutant.kind for r in results):
        rs = [r for r in results if r.mutant.kind == kind]
        n = len(rs)
        rows[kind] = {
            "mutants": n,
            "recall": sum(r.detected for r in rs) / n,
            "right_line": sum(r.right_line for r in rs) / n,
            "fix_offered": sum(r.fix_offered for r in rs) / n,
            "verified": sum(r.fix_verified for r in rs) / n,
            "cleans": sum(r.fix_cleans for r in rs) / n,
        }
    return rows


def render_table(
    rows: dict[str, dict[str, float]],
    false_positive: tuple[int, int],
    detail: dict[str, list[str]] | None = None,
) -> str:
    """The table as `deepeval-lsp report` shows a stored self-test run."""
    from deepeval_lsp.benchmark.report.render import selftest_text

    kinds = [
        {"kind": k, "mutants": int(r["mutants"]), **{c: 100.0 * r[c] for c in COLUMNS[1:]}}
        for k, r in rows.items()
    ]
    bad, total = false_positive
    entry = {"kinds": kinds, "false_errors": bad, "references": total}
    return selftest_text({**entry, "false_error_detail": detail or {}})
