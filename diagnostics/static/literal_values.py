"""Argument values that are wrong on their face: `activation="relu6x"`, `padding="full"`,
`nn.Linear(-1, 10)`, `Dropout(1.5)`, `nn.MultiheadAttention(100, 3)`.

Only literal values are judged (numbers, strings, tuples of them); a value computed at run time is
the dynamic pass's business. Keras strings are checked by asking Keras itself (`activations.get`),
so the set of accepted names is always the installed version's.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from deepeval_lsp.diagnostics import framework as fw
from deepeval_lsp.diagnostics import taxonomy as T

NOT_LITERAL: Any = object()


def literal(node: ast.AST | None) -> Any:
    """The value of a literal expression (numbers, strings, tuples/lists, -x), else NOT_LITERAL."""
    if node is None:
        return NOT_LITERAL
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = literal(node.operand)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v if isinstance(node.op, ast.USub) else v
        return NOT_LITERAL
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [literal(e) for e in node.elts]
        return NOT_LITERAL if any(i is NOT_LITERAL for i in items) else tuple(items)
    return NOT_LITERAL


@dataclass(frozen=True)
class ValueProblem:
    code: str
    param: str
    node: ast.AST
    message: str
    suggestion: str | None = None  # a replacement literal (source text) for a did-you-mean
    title: str | None = None  # the fix's title when it is not a did-you-mean


_TORCH_POSITIVE = frozenset(
    {
        "in_features",
        "out_features",
        "in_channels",
        "out_channels",
        "num_features",
        "num_embeddings",
        "embedding_dim",
        "hidden_size",
        "input_size",
        "num_layers",
        "d_model",
        "nhead",
        "embed_dim",
        "num_heads",
        "num_channels",
        "num_groups",
        "dim_feedforward",
        "upscale_factor",
        "downscale_factor",
        "in1_features",
        "in2_features",
    }
)
_TORCH_NONZERO = frozenset(
    {
        "kernel_size",
        "stride",
        "dilation",
        "groups",
        "nhead",
        "num_heads",
        "num_layers",
        "num_groups",
        "upscale_factor",
    }
)
_TORCH_CHOICES = {
    "padding_mode": ("zeros", "reflect", "replicate", "circular"),
    "nonlinearity": ("tanh", "relu"),
    "reduction": ("mean", "sum", "none"),
}
_TORCH_UPSAMPLE_MODES = (
    "nearest",
    "linear",
    "bilinear",
    "bicubic",
    "trilinear",
    "area",
    "nearest-exact",
)
_KERAS_POSITIVE = frozenset(
    {"units", "filters", "output_dim", "input_dim", "num_heads", "key_dim", "depth_multiplier"}
)
_KERAS_SIZES = frozenset({"kernel_size", "strides", "pool_size", "dilation_rate", "size"})
_RATES = frozenset({"rate", "dropout", "recurrent_dropout", "p"})


def check_values(obj: Any, qualname: str, bound: dict[str, ast.AST]) -> list[ValueProblem]:
    """Problems with the literal arguments `bound` (parameter name -> expression) of a call."""
    top = qualname.split(".")[0]
    if top == "torch":
        return _check_torch(obj, qualname, bound)
    if top == "keras":
        return _check_keras(obj, qualname, bound)
    return []


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _sizes(v: Any) -> list[Any]:
    return list(v) if isinstance(v, tuple) else [v]


def _check_sizes(
    name: str, node: ast.AST, v: Any, allow_zero: bool, out: list[ValueProblem]
) -> None:
    for x in _sizes(v):
        if isinstance(x, float) and not _is_int(x):
            out.append(
                ValueProblem(
                    T.INVALID_ARGUMENT_TYPE,
                    name,
                    node,
                    f"`{name}` must be an integer, got {x!r}",
                    suggestion=repr(int(x)) if x == int(x) and not isinstance(v, tuple) else None,
                )
            )
            return
        if _is_int(x) and (x < 0 or (x == 0 and not allow_zero)):
            need = "non-negative" if allow_zero else "positive"
            out.append(
                ValueProblem(
                    T.INVALID_ARGUMENT_VALUE, name, node, f"`{name}` must be {need}, got {v!r}"
                )
            )
            return


def _default(obj: Any, name: str) -> Any:
    """The installed signature's default for parameter `name` of `obj`, else NOT_LITERAL."""
    try:
        param = inspect.signature(obj).parameters.get(name)
    except (TypeError, ValueError):
        return NOT_LITERAL
    if param is None or param.default is param.empty:
        return NOT_LITERAL
    return param.default


def _check_rate(obj: Any, name: str, node: ast.AST, v: Any, out: list[ValueProblem]) -> None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and not 0 <= v <= 1:
        default = _default(obj, name)
        usable = isinstance(default, float | int) and not isinstance(default, bool)
        usable = usable and 0 <= default <= 1
        out.append(
            ValueProblem(
                T.INVALID_ARGUMENT_VALUE,
                name,
                node,
                f"`{name}` is a probability and must be between 0 and 1, got {v!r}",
                suggestion=repr(default) if usable else None,
                title=f"Use the default `{name}={default!r}`" if usable else None,
            )
        )


def _choice(
    name: str,
    node: ast.AST,
    v: Any,
    choices: tuple[str, ...],
    out: list[ValueProblem],
    *,
    fold_case: bool = False,
) -> None:
    if not isinstance(v, str):
        return
    if (v.lower() if fold_case else v) in choices:
        return
    best = fw.suggest(v.lower() if fold_case else v, list(choices))
    listed = ", ".join(repr(c) for c in choices)
    out.append(
        ValueProblem(
            T.INVALID_ARGUMENT_VALUE,
            name,
            node,
            f"`{name}={v!r}` is not one of {listed}",
            suggestion=repr(best) if best else None,
        )
    )


def _check_torch(obj: Any, qualname: str, bound: dict[str, ast.AST]) -> list[ValueProblem]:
    out: list[ValueProblem] = []
    values = {k: literal(n) for k, n in bound.items()}
    cls = qualname.rsplit(".", 1)[-1]
    for name, node in bound.items():
        v = values[name]
        if v is NOT_LITERAL or v is None:
            continue
        if name in _TORCH_POSITIVE or name in _TORCH_NONZERO:
            _check_sizes(name, node, v, allow_zero=name not in _TORCH_NONZERO, out=out)
        elif name in _RATES:
            _check_rate(obj, name, node, v, out)
        elif name in _TORCH_CHOICES:
            _choice(name, node, v, _TORCH_CHOICES[name], out)
        elif name == "padding":
            if isinstance(v, str):
                _choice(name, node, v, ("same", "valid"), out)
                stride = values.get("stride", NOT_LITERAL)
                if (
                    v == "same"
                    and stride is not NOT_LITERAL
                    and any(_is_int(s) and s != 1 for s in _sizes(stride))
                ):
                    out.append(
                        ValueProblem(
                            T.INVALID_ARGUMENT_VALUE,
                            name,
                            node,
                            "padding='same' is not supported for strided convolutions "
                            f"(stride={stride!r})",
                        )
                    )
            else:
                _check_sizes(name, node, v, allow_zero=True, out=out)
        elif name == "mode" and cls.startswith("Upsample"):
            _choice(name, node, v, _TORCH_UPSAMPLE_MODES, out)
        elif name == "activation" and isinstance(v, str) and cls.startswith("Transformer"):
            _choice(name, node, v, ("relu", "gelu"), out)
    _divisible(values, bound, "in_channels", "groups", out)
    _divisible(values, bound, "out_channels", "groups", out)
    _divisible(values, bound, "embed_dim", "num_heads", out)
    _divisible(values, bound, "d_model", "nhead", out)
    return out


def _divisible(
    values: dict[str, Any], bound: dict[str, ast.AST], a: str, b: str, out: list[ValueProblem]
) -> None:
    va, vb = values.get(a, NOT_LITERAL), values.get(b, NOT_LITERAL)
    if _is_int(va) and _is_int(vb) and va > 0 and vb > 0 and va % vb:
        out.append(
            ValueProblem(
                T.INVALID_ARGUMENT_VALUE,
                b,
                bound[b],
                f"`{a}` ({va}) must be divisible by `{b}` ({vb})",
            )
        )


@lru_cache(maxsize=512)
def _keras_accepts(kind: str, value: str) -> bool:
    import keras

    getter = {
        "activation": keras.activations.get,
        "initializer": keras.initializers.get,
        "regularizer": keras.regularizers.get,
        "constraint": keras.constraints.get,
    }[kind]
    try:
        getter(value)
    except Exception:
        return False
    return True


@lru_cache(maxsize=8)
def _keras_names(kind: str) -> tuple[str, ...]:
    import keras

    module = {
        "activation": keras.activations,
        "initializer": keras.initializers,
        "regularizer": keras.regularizers,
        "constraint": keras.constraints,
    }[kind]
    names = [n for n in dir(module) if not n.startswith("_") and n[0].islower()]
    return tuple(n for n in names if n not in {"get", "serialize", "deserialize"})


def _check_keras(obj: Any, qualname: str, bound: dict[str, ast.AST]) -> list[ValueProblem]:
    out: list[ValueProblem] = []
    cls = qualname.rsplit(".", 1)[-1]
    for name, node in bound.items():
        v = literal(node)
        if v is NOT_LITERAL or v is None:
            continue
        kind = None
        if name in ("activation", "recurrent_activation"):
            kind = "activation"
        else:
            for suffix in ("initializer", "regularizer", "constraint"):
                if name.endswith("_" + suffix):
                    kind = suffix
        if kind is not None:
            if isinstance(v, str) and not _keras_accepts(kind, v):
                best = fw.suggest(v, _keras_names(kind))
                out.append(
                    ValueProblem(
                        T.INVALID_ARGUMENT_VALUE,
                        name,
                        node,
                        f"unknown {kind} {v!r} for `{name}`",
                        suggestion=repr(best) if best else None,
                    )
                )
            continue
        if name in _KERAS_POSITIVE or (
            name in _KERAS_SIZES and cls not in ("UpSampling2D", "UpSampling1D", "UpSampling3D")
        ):
            _check_sizes(name, node, v, allow_zero=False, out=out)
        elif name in _RATES:
            _check_rate(obj, name, node, v, out)
        elif name == "padding" and isinstance(v, str):
            choices = (
                ("valid", "same", "causal")
                if cls in ("Conv1D", "Convolution1D")
                else ("valid", "same")
            )
            _choice(name, node, v, choices, out, fold_case=True)
        elif name == "data_format" and isinstance(v, str):
            _choice(name, node, v, ("channels_last", "channels_first"), out, fold_case=True)
    return out
