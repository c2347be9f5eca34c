"""Shape fixes: the constructor argument that would make a layer fit its input (DESIGN.md §6).

Given the culprit layer of a shape error and the inputs it received, compute the value that fits
(Linear in_features, Conv in_channels, BatchNorm num_features, LSTM/GRU input_size,
MultiheadAttention embed_dim, LayerNorm normalized_shape, Keras Conv/Dense filters/units feeding a
merge layer, Reshape target shapes, `padding="same"` so concatenated branches match) and the text
edit on the constructor call at the layer's construction site. Fixes computed here are proposals:
the dynamic pass offers one as verified only after re-running the check with it applied.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from deepeval_lsp.diagnostics.dynamic.child.meta_patches import site_of
from deepeval_lsp.diagnostics.text import callee_name

# torch layer class name -> (constructor parameter, how to read the fitting value from the input)
TORCH_RULES: dict[str, tuple[str, str]] = {
    "Linear": ("in_features", "last"),
    "Bilinear": ("in1_features", "last"),
    "LazyLinear": ("", ""),
    "Conv1d": ("in_channels", "channels"),
    "Conv2d": ("in_channels", "channels"),
    "Conv3d": ("in_channels", "channels"),
    "ConvTranspose1d": ("in_channels", "channels"),
    "ConvTranspose2d": ("in_channels", "channels"),
    "ConvTranspose3d": ("in_channels", "channels"),
    "BatchNorm1d": ("num_features", "channels"),
    "BatchNorm2d": ("num_features", "channels"),
    "BatchNorm3d": ("num_features", "channels"),
    "InstanceNorm1d": ("num_features", "channels"),
    "InstanceNorm2d": ("num_features", "channels"),
    "InstanceNorm3d": ("num_features", "channels"),
    "GroupNorm": ("num_channels", "channels"),
    "LSTM": ("input_size", "last"),
    "GRU": ("input_size", "last"),
    "RNN": ("input_size", "last"),
    "LSTMCell": ("input_size", "last"),
    "GRUCell": ("input_size", "last"),
    "MultiheadAttention": ("embed_dim", "last"),
    "LayerNorm": ("normalized_shape", "last"),
    "TransformerEncoderLayer": ("d_model", "last"),
    "TransformerDecoderLayer": ("d_model", "last"),
}
_SPATIAL_RANK = {"1d": 1, "2d": 2, "3d": 3}
KERAS_MERGE = {"Add", "Multiply", "Subtract", "Average", "Maximum", "Minimum"}
KERAS_WIDTH = {
    "Dense": "units",
    "Conv1D": "filters",
    "Conv2D": "filters",
    "Conv3D": "filters",
    "SeparableConv2D": "filters",
    "SeparableConv1D": "filters",
    "Conv2DTranspose": "filters",
    "Conv1DTranspose": "filters",
    "Conv3DTranspose": "filters",
    "EinsumDense": "",
}


# Constructors whose signature is (*args, **kwargs): their documented positional order.
_RNN = (
    "input_size",
    "hidden_size",
    "num_layers",
    "bias",
    "batch_first",
    "dropout",
    "bidirectional",
)
POSITIONAL = {
    "LSTM": (*_RNN, "proj_size"),
    "GRU": _RNN,
    "RNN": (
        "input_size",
        "hidden_size",
        "num_layers",
        "nonlinearity",
        "bias",
        "batch_first",
        "dropout",
        "bidirectional",
    ),
}


@dataclass
class Proposal:
    """Edits (0-based line, char start, char end, new text) and a title, in current coordinates."""

    title: str
    edits: list[tuple[int, int, int, int, str]]  # line0, col0, end_line0, end_col0, text
    # locations the finding should name besides its own (range as above, without the text)
    related: list[tuple[tuple[int, int, int, int], str]] = field(default_factory=list)
    # False when the edit writes a literal over an expression of the user's (`dims[-2]`): it is
    # offered, but `--fix` does not apply it
    preferred: bool = True


def _shape(x: Any) -> tuple[Any, ...] | None:
    s = getattr(x, "shape", None)
    if s is None:
        return None
    try:
        return tuple(None if d is None else int(d) for d in s)
    except TypeError:
        return None


def _find_call(
    tree: ast.Module, site: tuple[int, int, int, int], lines: list[str]
) -> ast.Call | None:
    line, end_line, col, end_col = site
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and node.lineno == line
            and node.col_offset == col
            and (node.end_lineno == end_line and node.end_col_offset == end_col)
        ):
            return node
    return None  # position info must match exactly: anything else would be a guess


def _char(lines: list[str], line1: int, byte_col: int) -> int:
    text = lines[line1 - 1] if 0 < line1 <= len(lines) else ""
    if text.isascii():
        return byte_col
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _node_range(lines: list[str], node: ast.AST) -> tuple[int, int, int, int]:
    return (
        node.lineno - 1,
        _char(lines, node.lineno, node.col_offset),  # type: ignore[attr-defined]
        node.end_lineno - 1,
        _char(lines, node.end_lineno, node.end_col_offset),
    )  # type: ignore[attr-defined]


def argument_node(
    layer: Any, param: str, tree: ast.Module, lines: list[str]
) -> tuple[ast.Call, ast.expr | None] | None:
    """The constructor call of `layer` and the expression it passes as `param` (None when not
    given); None when the call cannot be edited safely (not found, `*args`, `**kwargs`)."""
    site = site_of(layer)
    if site is None:
        return None
    call = _find_call(tree, site, lines)
    if call is None:
        return None
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    if any(k.arg is None for k in call.keywords):
        return None
    for kw in call.keywords:
        if kw.arg == param:
            return call, kw.value
    positional = _positional(layer)
    if positional is not None and param in positional:
        idx = positional.index(param)
        if idx < len(call.args):
            return call, call.args[idx]
    return call, None


def _positional(layer: Any) -> list[str] | None:
    try:
        params = [
            p
            for p in inspect.signature(type(layer).__init__).parameters.values()
            if p.name != "self"
        ]
    except (TypeError, ValueError):
        return None
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return list(POSITIONAL.get(type(layer).__name__, positional))


def argument_edit(
    layer: Any, param: str, value_text: str, tree: ast.Module, lines: list[str]
) -> tuple[int, int, int, int, str] | None:
    """The edit that sets constructor argument `param` of `layer` to `value_text` at its call."""
    found = argument_node(layer, param, tree, lines)
    if found is None:
        return None
    call, node = found
    if node is not None:
        return (*_node_range(lines, node), value_text)
    try:
        params = [
            p
            for p in inspect.signature(type(layer).__init__).parameters.values()
            if p.name != "self"
        ]
    except (TypeError, ValueError):
        return None
    if param not in {p.name for p in params} and not any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    # Not given: add it as a keyword after the last argument.
    last = call.args + [k.value for k in call.keywords]
    if last:
        end = max(last, key=lambda n: (n.end_lineno, n.end_col_offset))
        l0, c0 = end.end_lineno - 1, _char(lines, end.end_lineno, end.end_col_offset)
        return (l0, c0, l0, c0, f", {param}={value_text}")
    l0, c0 = call.end_lineno - 1, _char(lines, call.end_lineno, call.end_col_offset) - 1
    return (l0, c0, l0, c0, f"{param}={value_text}")


Edit = tuple[int, int, int, int, str]


def _int_literal(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value > 0:
        return node.value
    return None


def _source(lines: list[str], node: ast.AST) -> str | None:
    l0, c0, l1, c1 = _node_range(lines, node)
    if l0 != l1:
        return None
    return lines[l0][c0:c1]


_ATOMIC = (ast.Name, ast.Attribute, ast.Subscript, ast.Call, ast.Constant)


def _mult_factors(node: ast.expr) -> list[ast.expr]:
    """The operands of a chain `a * b * c` (the node itself when it is no product)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return [*_mult_factors(node.left), *_mult_factors(node.right)]
    return [node]


def _scaled(node: ast.expr, ratio: Fraction, lines: list[str]) -> list[Edit] | None:
    """Edits inside the expression `node` that multiply its value by `ratio` while keeping its
    names: a literal factor or divisor changed (`dim * 2` -> `dim * 4`, `d // 4` -> `d // 2`),
    equal literal factors changed alike (`c * 4 * 4` -> `c * 6 * 6`), a factor or divisor that
    becomes 1 dropped (`d * 2` -> `d`). None when no literal can carry the ratio."""
    k = _int_literal(node)
    if k is not None:
        new = k * ratio
        if new.denominator == 1 and new > 0:
            return [(*_node_range(lines, node), str(int(new)))]
        return None
    if isinstance(node, ast.Call) and callee_name(node) in ("int", "round") and len(node.args) == 1:
        return _scaled(node.args[0], ratio, lines)
    if not isinstance(node, ast.BinOp):
        return None
    if isinstance(node.op, ast.Mult):
        factors = _mult_factors(node)
        literals = [f for f in factors if _int_literal(f) is not None]
        values = {_int_literal(f) for f in literals}
        if len(literals) >= 2 and len(values) == 1:
            root = _rational_root(ratio, len(literals))
            k = values.pop()
            if root is not None and (k * root).denominator == 1 and root != 1:
                text = str(int(k * root))
                return [(*_node_range(lines, f), text) for f in literals]
        for i, f in enumerate(factors):
            k = _int_literal(f)
            if k is None:
                continue
            if k * ratio == 1 and len(factors) == 2:
                other = factors[1 - i]
                text = _source(lines, other)
                if text is None or not isinstance(other, _ATOMIC):
                    continue
                return [(*_node_range(lines, node), text)]
            edits = _scaled(f, ratio, lines)
            if edits:
                return edits
        for f in factors:
            if _int_literal(f) is None:
                edits = _scaled(f, ratio, lines)
                if edits:
                    return edits
        return None
    if isinstance(node.op, ast.FloorDiv | ast.Div):
        k = _int_literal(node.right)
        if k is not None and k / ratio == 1 and isinstance(node.left, _ATOMIC):
            text = _source(lines, node.left)
            if text is not None:
                return [(*_node_range(lines, node), text)]
        return _scaled(node.right, 1 / ratio, lines) or _scaled(node.left, ratio, lines)
    return None


def _rational_root(x: Fraction, n: int) -> Fraction | None:
    num, den = round(x.numerator ** (1 / n)), round(x.denominator ** (1 / n))
    if den and num**n == x.numerator and den**n == x.denominator:
        return Fraction(num, den)
    return None


def expression_edits(
    node: ast.expr, current: Any, value: Any, lines: list[str]
) -> list[Edit] | None:
    """Edits that give the expression `node` (which evaluates to `current`) the value `value`
    by changing a literal in it, so the names it is built from stay; None when the expression
    is a plain literal (its replacement is the fix) or no literal in it can carry the change."""
    if _int_literal(node) is not None or isinstance(node, ast.Constant):
        return None
    if not (type(current) is int and type(value) is int and current > 0 and value > 0):
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        k = _int_literal(node.right)
        if k is not None:
            new = k + (value - current) * (1 if isinstance(node.op, ast.Add) else -1)
            if new > 0:
                return [(*_node_range(lines, node.right), str(new))]
    return _scaled(node, Fraction(value, current), lines)


def _torch_value(layer: Any, kind: str, inputs: list[Any]) -> Any:
    name = type(layer).__name__
    x = inputs[0] if inputs else None
    shape = _shape(x)
    if not shape:
        return None
    if kind == "last":
        if name == "LayerNorm":
            ns = tuple(layer.normalized_shape)
            if len(ns) == 1:
                return shape[-1]
            return shape[-len(ns) :] if len(shape) >= len(ns) else None
        value = shape[-1]
        if name == "MultiheadAttention" and value % layer.num_heads:
            return None
        if name.startswith("Transformer") and value % layer.self_attn.num_heads:
            return None
        return value
    # channels: dimension 1 when batched, 0 when not
    rank = next((r for suffix, r in _SPATIAL_RANK.items() if name.endswith(suffix)), None)
    if name == "GroupNorm":
        value = shape[1] if len(shape) > 1 else None
        return value if value and value % layer.num_groups == 0 else None
    if rank is None:
        return None
    if name.startswith("BatchNorm") and rank == 1:
        value = shape[1] if len(shape) in (2, 3) else None
    elif len(shape) == rank + 2:
        value = shape[1]
    elif len(shape) == rank + 1:
        value = shape[0]
    else:
        return None
    groups = getattr(layer, "groups", 1)
    if value and groups != 1 and value % groups:
        return None
    return value


# Layers that torch builds inside another (the user's call site is the outer one's): the outer
# class and its parameter that sets the inner width.
OWNERS = {
    ("MultiheadAttention", "TransformerEncoderLayer"): "d_model",
    ("MultiheadAttention", "TransformerDecoderLayer"): "d_model",
}


def _site_callee(layer: Any, tree: ast.Module, lines: list[str]) -> str | None:
    site = site_of(layer)
    call = _find_call(tree, site, lines) if site is not None else None
    return callee_name(call) if call is not None else None


def torch_fix(layer: Any, inputs: list[Any], tree: ast.Module, lines: list[str]) -> Proposal | None:
    rule = TORCH_RULES.get(type(layer).__name__)
    if not rule or not rule[0]:
        return None
    param, kind = rule
    callee = _site_callee(layer, tree, lines)
    if callee != type(layer).__name__ and callee in TORCH_RULES:
        # built inside another layer: its parameter, or no fix rather than a wrong keyword
        owner_param = OWNERS.get((type(layer).__name__, callee))
        if owner_param is None:
            return None
        value = _torch_value(layer, kind, inputs)
        edit = argument_edit(layer, owner_param, repr(value), tree, lines) if value else None
        if edit is None or value == getattr(layer, param, None):
            return None
        return Proposal(
            f"Set {owner_param}={value!r} to fit the input of shape {_fmt(_shape(inputs[0]))}",
            [edit],
        )
    value = _torch_value(layer, kind, inputs)
    if value is None:
        return None
    current = getattr(layer, param, None)
    if param == "normalized_shape":
        current = tuple(layer.normalized_shape)
        if not isinstance(value, tuple):
            current = current[0] if len(current) == 1 else current
    elif type(layer).__name__ == "GroupNorm":
        current = layer.num_channels
    if current == value:
        return None
    text = repr(value)
    found = argument_node(layer, param, tree, lines)
    node = found[1] if found is not None else None
    kept = expression_edits(node, current, value, lines) if node is not None else None
    if kept:
        written = _source(lines, node)
        return Proposal(
            f"Make `{written}` give {param}={text} to fit the input of shape "
            f"{_fmt(_shape(inputs[0]))}",
            kept,
        )
    edit = argument_edit(layer, param, text, tree, lines)
    if edit is None:
        return None
    if node is not None and not isinstance(node, ast.Constant | ast.Tuple | ast.List):
        written = _source(lines, node) or "the expression"
        return Proposal(
            f"Set {param}={text} to fit the input of shape {_fmt(_shape(inputs[0]))} (replaces "
            f"`{written}` by a literal: check where its value comes from)",
            [edit],
            preferred=False,
        )
    return Proposal(
        f"Set {param}={text} to fit the input of shape {_fmt(_shape(inputs[0]))}", [edit]
    )


def _fmt(shape: Any) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")" if shape else "?"


def _producer(t: Any) -> Any:
    hist = getattr(t, "_keras_history", None)
    return getattr(hist, "operation", None) if hist is not None else None


def _producer_inputs(layer: Any) -> list[Any]:
    try:
        node = layer._inbound_nodes[0]
        return list(node.input_tensors)
    except (AttributeError, IndexError):
        return []


def keras_fix(layer: Any, inputs: list[Any], tree: ast.Module, lines: list[str]) -> Proposal | None:
    name = type(layer).__name__
    tensors = [t for t in _flatten(inputs) if _shape(t) is not None]
    if name in KERAS_MERGE and len(tensors) >= 2:
        return _merge_fix(tensors, tree, lines)
    if name == "Reshape" and tensors:
        return _reshape_fix(layer, tensors[0], tree, lines)
    if name == "Concatenate" and len(tensors) >= 2:
        return _concat_fix(layer, tensors, tree, lines)
    return None


def _flatten(xs: Any) -> list[Any]:
    out: list[Any] = []
    for x in xs if isinstance(xs, list | tuple) else [xs]:
        if isinstance(x, list | tuple):
            out.extend(_flatten(x))
        else:
            out.append(x)
    return out


def _merge_fix(tensors: list[Any], tree: ast.Module, lines: list[str]) -> Proposal | None:
    shapes = [_shape(t) for t in tensors]
    if len({len(s) for s in shapes if s}) != 1:
        return None
    if len({s[:-1] for s in shapes if s}) != 1:
        return None  # spatial mismatch: not a width problem
    # The target width: that of an input no Dense/Conv produced (the skip path), else the first.
    widths = [s[-1] for s in shapes if s]
    target = widths[0]
    for t, w in zip(tensors, widths, strict=True):
        if type(_producer(t)).__name__ not in KERAS_WIDTH:
            target = w
            break
    edits = []
    over_expression = False
    for t, w in zip(tensors, widths, strict=True):
        prod = _producer(t)
        param = KERAS_WIDTH.get(type(prod).__name__)
        if w != target:
            if not param:
                return None
            found = argument_node(prod, param, tree, lines)
            kept = (
                expression_edits(found[1], w, target, lines)
                if found is not None and found[1] is not None
                else None
            )
            if kept:
                edits.extend(kept)
                continue
            edit = argument_edit(prod, param, repr(target), tree, lines)
            if edit is None:
                return None
            edits.append(edit)
            if found is not None and not isinstance(found[1], ast.Constant | None):
                over_expression = True
    if not edits:
        return None
    return Proposal(
        f"Make the merged inputs {target} wide (they are {widths})",
        edits,
        preferred=not over_expression,
    )


def _reshape_fix(layer: Any, t: Any, tree: ast.Module, lines: list[str]) -> Proposal | None:
    shape = _shape(t)
    if not shape or any(d is None for d in shape[1:]):
        return None
    n = math.prod(shape[1:])
    target = tuple(layer.target_shape)
    if -1 in target or math.prod(target) == n:
        return None
    new: tuple[int, ...] | None = None
    for i in range(len(target) - 1, -1, -1):
        rest = math.prod(d for j, d in enumerate(target) if j != i)
        if rest and n % rest == 0:
            new = tuple(n // rest if j == i else d for j, d in enumerate(target))
            break
    if new is None:
        return None
    edit = argument_edit(layer, "target_shape", repr(new), tree, lines)
    if edit is None:
        return None
    return Proposal(f"Reshape to {new}: the input has {n} values per sample", [edit])


def _concat_fix(
    layer: Any, tensors: list[Any], tree: ast.Module, lines: list[str]
) -> Proposal | None:
    axis = getattr(layer, "axis", -1)
    shapes = [_shape(t) for t in tensors]
    if not all(shapes) or len({len(s) for s in shapes}) != 1:  # type: ignore[arg-type]
        return None
    rank = len(shapes[0])  # type: ignore[arg-type]
    ax = axis % rank

    def spatial(s: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(d for i, d in enumerate(s) if i not in (0, ax))

    largest = max((spatial(s) for s in shapes), key=lambda s: tuple(d or 0 for d in s))  # type: ignore[arg-type]
    edits: list[tuple[int, int, int, int, str]] = []
    related = []
    for t, s in zip(tensors, shapes, strict=True):
        if spatial(s) == largest:  # type: ignore[arg-type]
            continue
        conv = _valid_conv_upstream(t) or _lone_valid_conv(tensors)
        if conv is None:
            return None
        edit = argument_edit(conv, "padding", '"same"', tree, lines)
        if edit is None:
            return None
        l0, c0, l1, _, _ = edit
        if l0 == l1 and lines[l0][c0 : c0 + 1] == "'":  # the user's quotes
            edit = (*edit[:4], "'same'")
        if edit not in edits:
            edits.append(edit)
            related.append(
                (
                    edit[:4],
                    f'{conv.name} ({type(conv).__name__}) with padding="valid" shrinks its '
                    f"input by {'×'.join(str(k - 1) for k in conv.kernel_size)}",
                )
            )
    if not edits:
        return None
    return Proposal(
        'Use padding="same" so the concatenated branches keep the same size',
        edits,
        related,  # type: ignore[arg-type]
    )


def _is_valid_conv(layer: Any) -> bool:
    """A convolution that shrinks its input: padding "valid" and a kernel larger than 1."""
    ks = getattr(layer, "kernel_size", None)
    return bool(
        getattr(layer, "padding", None) == "valid"
        and ks
        and any(k > 1 for k in ks)
        and "Conv" in type(layer).__name__
    )


def _lone_valid_conv(tensors: list[Any], most: int = 200) -> Any:
    """The one shrinking convolution among all the layers the merged tensors come from, when
    every other convolution there keeps its size ("same"): an odd size it leaves is floored by a
    later pooling, and the up-sampled branch then misses the skip by one (U-Net)."""
    seen: set[int] = set()
    valid, convs = [], 0
    todo = list(tensors)
    while todo and len(seen) < most:
        layer = _producer(todo.pop())
        if layer is None or id(layer) in seen:
            continue
        seen.add(id(layer))
        if "Conv" in type(layer).__name__:
            convs += 1
            if _is_valid_conv(layer):
                valid.append(layer)
        todo.extend(_producer_inputs(layer))
    return valid[0] if len(valid) == 1 and convs > 2 else None


def _valid_conv_upstream(t: Any, hops: int = 6) -> Any:
    for _ in range(hops):
        layer = _producer(t)
        if layer is None:
            return None
        if _is_valid_conv(layer):
            return layer
        ins = _producer_inputs(layer)
        if len(ins) != 1:
            return None
        t = ins[0]
    return None


def torch_cat_fix(
    tensors: list[Any],
    dim: int,
    producers: dict[int, Any],
    inputs_of: dict[int, Any],
    tree: ast.Module,
    lines: list[str],
    recent: list[Any] | None = None,
) -> Proposal | None:
    """Padding for the convolution of a branch whose output is smaller than the others, so that
    `torch.cat` along the channels (or `a + b`, with dim 1) gets matching spatial sizes.
    `recent` are the module outputs of the run, oldest first: when a branch ends in a function
    (`torch.relu(self.conv(x))`), its convolution is the latest one that gave that shape."""
    shapes = [_shape(t) for t in tensors]
    if not all(shapes) or len({len(s) for s in shapes}) != 1:  # type: ignore[arg-type]
        return None
    rank = len(shapes[0])  # type: ignore[arg-type]
    if rank < 3 or dim % rank != 1:
        return None
    target = max((s[2:] for s in shapes), key=lambda s: tuple(s))  # type: ignore[index]
    edits = []
    related = []
    for t, s in zip(tensors, shapes, strict=True):
        if s[2:] == target:  # type: ignore[index]
            continue
        conv = _shrinking_conv(t, s, target, producers, inputs_of, recent)
        if conv is None:
            return None
        x = inputs_of.get(id(conv))
        if x is None or any(st != 1 for st in conv.stride):
            return None
        pads = []
        for size_in, want, k, d in zip(
            tuple(x.shape)[2:], target, conv.kernel_size, conv.dilation, strict=False
        ):
            twice = want - size_in + d * (k - 1)
            if twice < 0 or twice % 2:
                return None
            pads.append(twice // 2)
        value = pads[0] if len(set(pads)) == 1 else tuple(pads)
        edit = argument_edit(conv, "padding", repr(value), tree, lines)
        if edit is None:
            return None
        edits.append(edit)
        got = "×".join(str(d) for d in s[2:])  # type: ignore[index]
        related.append(
            (
                edit[:4],
                f"{type(conv).__name__} with padding={_fmt_pad(conv)} gives "
                f"{got} where the other inputs are {'×'.join(map(str, target))}",
            )
        )
    if not edits:
        return None
    return Proposal("Pad the convolution so the merged branches keep the same size", edits, related)  # type: ignore[arg-type]


def _fmt_pad(conv: Any) -> str:
    pad = conv.padding
    if isinstance(pad, tuple) and len(set(pad)) == 1:
        pad = pad[0]
    return repr(pad)


def _shrinking_conv(
    t: Any,
    shape: Any,
    target: Any,
    producers: dict[int, Any],
    inputs_of: dict[int, Any],
    recent: list[Any] | None,
) -> Any:
    """The convolution of the branch that made `t` smaller than `target`: the nearest upstream
    one that shrinks its input, else the nearest one. Upstream is the chain of modules that
    produced `t`, then (where a function breaks the chain) the latest convolutions of its
    size."""
    chain = []
    for _ in range(8):
        m = producers.get(id(t))
        if m is None:
            break
        if type(m).__name__ in ("Conv1d", "Conv2d", "Conv3d"):
            chain.append(m)
        t = inputs_of.get(id(m))
        if t is None:
            break
    scanned = []
    for out in reversed(recent or []):
        m = producers.get(id(out))
        size = (_shape(out) or ())[2:]
        if type(m).__name__ not in ("Conv1d", "Conv2d", "Conv3d"):
            continue
        if size != shape[2:]:
            if size == tuple(target):
                continue  # the other branch
            break
        scanned.append(m)
    for m in [*chain, *scanned]:
        x = _shape(inputs_of.get(id(m)))
        if x is not None and x[2:] != shape[2:]:
            return m
    return (chain or scanned or [None])[0]


# A cat along the wrong dim: one mistake, two faces. Either the cat itself fails (the pieces
# differ along another dim, or the dim is out of range), or, when the pieces have the same
# shape, it succeeds and the layer that consumes it gets a doubled spatial/sequence size where
# it wanted a doubled channel/feature size. Either way the edit belongs on the cat's `dim`.
CatLog = list[tuple[tuple[int, ...], list[tuple[int, ...]], int, tuple[int, int, int, int]]]


@dataclass
class CatDimFix:
    """A proposal that changes a cat's dim, and the location and words that name the cat."""

    proposal: Proposal
    where: tuple[int, int, int, int]  # the dim argument (or the call), current coordinates
    note: str


def _dim_argument(call: ast.Call) -> ast.expr | None:
    if len(call.args) > 1:
        return call.args[1]
    return next((k.value for k in call.keywords if k.arg in ("dim", "axis")), None)


def _cat_dim_edit(
    site: tuple[int, int, int, int], new_dim: int, tree: ast.Module, lines: list[str]
) -> tuple[tuple[int, int, int, int, str], tuple[int, int, int, int]] | None:
    """The edit that sets the dim of the cat call at `site`, and the range it names."""
    call = _find_call(tree, site, lines)
    if call is None or not call.args or any(k.arg is None for k in call.keywords):
        return None
    arg = _dim_argument(call)
    if arg is not None:
        rng = _node_range(lines, arg)
        return (*rng, str(new_dim)), rng
    first = call.args[0]
    l0, c0 = first.end_lineno - 1, _char(lines, first.end_lineno, first.end_col_offset)  # type: ignore[operator]
    return (l0, c0, l0, c0, f", dim={new_dim}"), _node_range(lines, call)


def _cat_dim(
    site: tuple[int, int, int, int],
    dim: int,
    new_dim: int,
    out: tuple[int, ...] | None,
    why: str,
    tree: ast.Module,
    lines: list[str],
) -> CatDimFix | None:
    made = _cat_dim_edit(site, new_dim, tree, lines)
    if made is None:
        return None
    edit, where = made
    produced = f" produced shape {_fmt(out)}" if out is not None else ""
    note = f"torch.cat along dim {dim}{produced}; {why}"
    return CatDimFix(Proposal(f"Concatenate along dim {new_dim}", [edit]), where, note)


def failed_cat_dim_fix(
    tensors: list[Any],
    dim: int,
    site: tuple[int, int, int, int] | None,
    tree: ast.Module,
    lines: list[str],
) -> CatDimFix | None:
    """The dim along which the pieces of a failing cat do fit: the one dim where they differ,
    or, when they are alike and `dim` is out of range, the last one."""
    shapes = [_shape(t) for t in tensors]
    if site is None or len(shapes) < 2 or not all(shapes):
        return None
    ranks = {len(s) for s in shapes}  # type: ignore[arg-type]
    if len(ranks) != 1:
        return None
    rank = ranks.pop()
    differ = [i for i in range(rank) if len({s[i] for s in shapes}) > 1]  # type: ignore[index]
    if len(differ) == 1 and differ[0] != 0 and differ[0] != dim % rank:
        new = differ[0]
    elif not differ and not -rank <= dim < rank and rank >= 2:
        new = rank - 1
    else:
        return None
    sizes = ", ".join(_fmt(s) for s in shapes)
    return _cat_dim(site, dim, new, None, f"the pieces {sizes} fit along dim {new}", tree, lines)


def _fed_by(
    layer: Any, out: Any, producers: dict[int, Any], inputs_of: dict[int, Any], hops: int = 6
) -> bool:
    """`out` reached `layer` through modules that do not set a width (pooling, activations,
    dropout, containers): the channels or features `layer` reads are those of `out`."""
    t = inputs_of.get(id(layer))
    for _ in range(hops):
        if t is None:
            return False
        if t is out:
            return True
        m = producers.get(id(t))
        if m is None or type(m).__name__ in TORCH_RULES or m is layer:
            return False
        t = inputs_of.get(id(m))
    return False


def _reads(layer: Any) -> tuple[str, int] | None:
    """What `layer` reads ("channels" or "last") and the size it was built for."""
    rule = TORCH_RULES.get(type(layer).__name__)
    if not rule or not rule[0]:
        return None
    param, kind = rule
    want = getattr(layer, param, None)
    if type(layer).__name__ == "GroupNorm":
        want = layer.num_channels
    elif param == "normalized_shape":
        ns = tuple(layer.normalized_shape)
        want = ns[0] if len(ns) == 1 else None
    return (kind, want) if isinstance(want, int) else None


def consumer_cat_dim_fix(
    layer: Any,
    inputs: list[Any],
    cats: CatLog,
    producers: dict[int, Any],
    inputs_of: dict[int, Any],
    tree: ast.Module,
    lines: list[str],
) -> CatDimFix | None:
    """When `layer` failed on the output of a cat of same-shaped pieces along a dim other than
    the one the layer reads (channels for Conv/BatchNorm, the last for Linear/LSTM/attention),
    and concatenating along that dim instead gives the layer the size it was built for."""
    reads = _reads(layer)
    received = _shape(inputs[0]) if inputs else None
    if reads is None or received is None:
        return None
    kind, want = reads
    for out, pieces, dim, site in reversed(cats):
        if _shape(out) != received and not _fed_by(layer, out, producers, inputs_of):
            continue
        if len(pieces) < 2 or len(set(pieces)) != 1:
            return None  # the pieces fit only along this dim: the cat is not the mistake
        rank = len(pieces[0])
        new = rank - 1 if kind == "last" else (1 if rank >= 2 else None)
        if new is None or new == dim % rank or sum(p[new] for p in pieces) != want:
            return None
        gives = "features" if kind == "last" else "channels"
        return _cat_dim(
            site,
            dim,
            new,
            _shape(out),
            f"along dim {new} it gives {type(layer).__name__} the {want} {gives} it expects",
            tree,
            lines,
        )
    return None


_SHAPE_TEXT = re.compile(r"\[(\d+(?:, \d+)+)\]")


def message_cat_dim_fix(
    message: str, cats: CatLog, tree: ast.Module, lines: list[str]
) -> CatDimFix | None:
    """An operation between tensors (`a + b`, `a * b`) that names, in its error, both the
    shape a cat produced and the shape that cat gives along another dim."""
    named = {tuple(int(d) for d in m.split(", ")) for m in _SHAPE_TEXT.findall(message)}
    for out, pieces, dim, site in reversed(cats):
        shape = _shape(out)
        if shape not in named or len(pieces) < 2 or len(set(pieces)) != 1:
            continue
        rank = len(shape)
        for new in range(1, rank):
            if new == dim % rank:
                continue
            other = tuple(d * len(pieces) if i == new else d for i, d in enumerate(pieces[0]))
            if other in named:
                return _cat_dim(
                    site,
                    dim,
                    new,
                    shape,
                    f"along dim {new} it gives the shape {_fmt(other)} the operation expects",
                    tree,
                    lines,
                )
    return None


def cat_dim_candidates(
    cats: CatLog, tree: ast.Module, lines: list[str], sites: int = 2
) -> list[CatDimFix]:
    """Other dims for the latest cats of same-shaped pieces (which would fit along any dim): to
    try when an error further on has no fix of its own. Channels first, then the last dim."""
    out: list[CatDimFix] = []
    seen: set[tuple[int, int, int, int]] = set()
    for t, pieces, dim, site in reversed(cats):
        if site in seen or len(pieces) < 2 or len(set(pieces)) != 1:
            continue
        seen.add(site)
        rank = len(pieces[0])
        for new in dict.fromkeys((1, rank - 1, *range(2, rank - 1))):
            if 0 < new < rank and new != dim % rank:
                fix = _cat_dim(
                    site, dim, new, _shape(t), f"along dim {new} the model runs", tree, lines
                )
                if fix is not None:
                    out.append(fix)
        if len(seen) >= sites:
            break
    return out
