"""Argument values that are wrong on their face: `activation="relu6x"`, `padding="full"`,
`nn.Linear(-1, 10)`, `Dropout(1.5)`, `nn.MultiheadAttention(100, 3)`.

Every rule names one public callable and one of its parameters (`torch.nn.Dropout.p`), and states
what that callable refuses: a parameter name means different things in different APIs (`p` is a
probability for `nn.Dropout` and a norm order for `F.normalize`), so nothing is judged by name
alone. A rule applies to a call only when the call resolves to that very object. Each rule's
invalid values are ones the installed framework raises on (tests/diagnostics/static/
test_literal_values.py calls the real API with them).

Only literal values are judged (numbers, strings, tuples of them); a value computed at run time is
the dynamic pass's business. Keras strings for activations, initializers, regularizers and
constraints are checked against what Keras itself accepts (`activations.get`), so the set of
accepted names is always the installed version's.
"""

from __future__ import annotations

import ast
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


# Rule kinds. Sizes are integers (a float raises a TypeError in the constructor or forward).
POSITIVE = "positive"  # an integer >= 1
NON_NEGATIVE = "non-negative"  # an integer >= 0 (a zero-sized layer builds and runs)
PROBABILITY = "probability"  # a number in [0, 1]
CHOICE = "choice"  # one of `choices` (a string)
REGISTRY = "registry"  # a name Keras's `<registry>.get` resolves


@dataclass(frozen=True)
class Rule:
    """What the public callable `callable` refuses for its parameter `param`."""

    callable: str  # public dotted path: torch.nn.Dropout, torch.nn.functional.dropout
    param: str
    kind: str
    choices: tuple[str, ...] = ()
    fold_case: bool = False  # CHOICE: compared lower-cased (Keras lower-cases padding strings)
    registry: str = ""  # REGISTRY: activation, initializer, regularizer, constraint
    strings: tuple[str, ...] = ()  # sizes: strings also accepted (Conv padding "same"/"valid")

    @property
    def key(self) -> str:
        return f"{self.callable}.{self.param}"


@dataclass(frozen=True)
class Divisible:
    """`callable` requires parameter `a` to be a multiple of parameter `b`."""

    callable: str
    a: str
    b: str


def _each(callables: tuple[str, ...], params: tuple[str, ...], kind: str, **kw: Any) -> list[Rule]:
    return [Rule(c, p, kind, **kw) for c in callables for p in params]


_NN = "torch.nn."
_F = "torch.nn.functional."
_CONV = tuple(f"{_NN}Conv{d}d" for d in (1, 2, 3))
_CONV_T = tuple(f"{_NN}ConvTranspose{d}d" for d in (1, 2, 3))
_POOL = tuple(f"{_NN}{k}Pool{d}d" for k in ("Max", "Avg") for d in (1, 2, 3))
_RNN = tuple(_NN + c for c in ("RNN", "LSTM", "GRU"))
_TRANSFORMER_LAYERS = tuple(
    _NN + c for c in ("TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer")
)
# Losses whose `reduction` goes through `_Reduction.get_enum`, which knows these three only.
_LOSSES = tuple(
    _NN + c
    for c in (
        "L1Loss",
        "MSELoss",
        "CrossEntropyLoss",
        "NLLLoss",
        "BCELoss",
        "BCEWithLogitsLoss",
        "SmoothL1Loss",
        "HuberLoss",
    )
) + tuple(
    _F + f
    for f in (
        "l1_loss",
        "mse_loss",
        "cross_entropy",
        "nll_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "smooth_l1_loss",
        "huber_loss",
    )
)
_REDUCTIONS = ("mean", "sum", "none")

_K = "keras.layers."
_K_CONV = tuple(_K + c for c in ("Conv1D", "Conv2D", "Conv3D"))
_K_CONV_T = tuple(_K + c for c in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"))
_K_RNN = tuple(_K + c for c in ("SimpleRNN", "LSTM", "GRU"))
_K_POOL = tuple(f"{_K}{k}Pooling{d}D" for k in ("Max", "Average") for d in (1, 2, 3))
_K_WEIGHTED = (_K + "Dense", *_K_CONV, *_K_CONV_T)

RULES: tuple[Rule, ...] = tuple(
    [
        # torch: _DropoutNd.__init__ and F.dropout* raise ValueError outside [0, 1].
        *_each(
            tuple(
                _NN + c
                for c in (
                    "Dropout",
                    "Dropout1d",
                    "Dropout2d",
                    "Dropout3d",
                    "AlphaDropout",
                    "FeatureAlphaDropout",
                )
            ),
            ("p",),
            PROBABILITY,
        ),
        *_each(
            tuple(
                _F + f
                for f in (
                    "dropout",
                    "dropout1d",
                    "dropout2d",
                    "dropout3d",
                    "alpha_dropout",
                    "feature_alpha_dropout",
                )
            ),
            ("p",),
            PROBABILITY,
        ),
        # RNNBase.__init__ raises ValueError; the transformer layers build an nn.Dropout from it.
        *_each(_RNN + _TRANSFORMER_LAYERS, ("dropout",), PROBABILITY),
        # Weight shapes: a negative dimension raises in torch.empty, a float one is a TypeError.
        *_each((_NN + "Linear",), ("in_features", "out_features"), NON_NEGATIVE),
        *_each((_NN + "Bilinear",), ("in1_features", "in2_features", "out_features"), NON_NEGATIVE),
        *_each(_CONV + _CONV_T, ("in_channels", "out_channels"), NON_NEGATIVE),
        *_each(tuple(f"{_NN}BatchNorm{d}d" for d in (1, 2, 3)), ("num_features",), NON_NEGATIVE),
        *_each((_NN + "Embedding",), ("num_embeddings", "embedding_dim"), NON_NEGATIVE),
        # RNNBase.__init__ refuses hidden_size <= 0 and num_layers <= 0.
        *_each(_RNN, ("hidden_size", "num_layers"), POSITIVE),
        # The convolution kernels refuse a zero kernel, stride or dilation; _ConvNd refuses groups.
        *_each(_CONV + _CONV_T, ("kernel_size", "stride", "dilation", "groups"), POSITIVE),
        # F.conv*d refuses negative padding; a string is "same" or "valid" (_ConvNd.__init__).
        *_each(_CONV, ("padding",), NON_NEGATIVE, strings=("same", "valid")),
        *_each(_CONV_T, ("padding",), NON_NEGATIVE),
        *_each(
            _CONV, ("padding_mode",), CHOICE, choices=("zeros", "reflect", "replicate", "circular")
        ),
        *_each(_POOL, ("kernel_size", "stride"), POSITIVE),
        *_each((_NN + "MultiheadAttention",), ("num_heads",), POSITIVE),
        *_each(_TRANSFORMER_LAYERS, ("nhead",), POSITIVE),
        *_each((_NN + "GroupNorm",), ("num_groups",), POSITIVE),
        *_each((_NN + "PixelShuffle",), ("upscale_factor",), POSITIVE),
        *_each((_NN + "PixelUnshuffle",), ("downscale_factor",), POSITIVE),
        *_each(_LOSSES, ("reduction",), CHOICE, choices=_REDUCTIONS),
        # kl_div accepts "batchmean" besides the three.
        *_each(
            (_NN + "KLDivLoss", _F + "kl_div"),
            ("reduction",),
            CHOICE,
            choices=("mean", "sum", "none", "batchmean"),
        ),
        *_each(
            (_NN + "Upsample",),
            ("mode",),
            CHOICE,
            choices=(
                "nearest",
                "linear",
                "bilinear",
                "bicubic",
                "trilinear",
                "area",
                "nearest-exact",
            ),
        ),
        # _get_activation_fn knows these two; a callable is the other way to pass one.
        *_each(_TRANSFORMER_LAYERS, ("activation",), CHOICE, choices=("relu", "gelu")),
        # keras: the registries raise on an unknown name at construction.
        *_each(
            (*_K_WEIGHTED, *_K_RNN, _K + "Activation"),
            ("activation",),
            REGISTRY,
            registry="activation",
        ),
        *_each(_K_RNN[1:], ("recurrent_activation",), REGISTRY, registry="activation"),
        *_each(
            _K_WEIGHTED + _K_RNN,
            ("kernel_initializer", "bias_initializer"),
            REGISTRY,
            registry="initializer",
        ),
        *_each(_K_RNN, ("recurrent_initializer",), REGISTRY, registry="initializer"),
        *_each((_K + "Embedding",), ("embeddings_initializer",), REGISTRY, registry="initializer"),
        *_each(
            _K_WEIGHTED,
            ("kernel_regularizer", "bias_regularizer", "activity_regularizer"),
            REGISTRY,
            registry="regularizer",
        ),
        *_each(
            _K_WEIGHTED, ("kernel_constraint", "bias_constraint"), REGISTRY, registry="constraint"
        ),
        *_each((_K + "Dense", *_K_RNN), ("units",), POSITIVE),
        *_each(
            _K_CONV + _K_CONV_T, ("filters", "kernel_size", "strides", "dilation_rate"), POSITIVE
        ),
        *_each((_K + "Embedding",), ("input_dim", "output_dim"), POSITIVE),
        *_each(_K_POOL, ("pool_size", "strides"), POSITIVE),
        *_each((_K + "MultiHeadAttention",), ("num_heads", "key_dim"), POSITIVE),
        *_each(
            tuple(
                _K + c
                for c in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")
            ),
            ("rate",),
            PROBABILITY,
        ),
        # Not the pooling layers: their padding is checked by the backend's op, and a misspelled
        # one runs on the torch backend (it fails on TensorFlow's only).
        *_each(
            _K_CONV[1:] + _K_CONV_T,
            ("padding",),
            CHOICE,
            choices=("valid", "same"),
            fold_case=True,
        ),
        *_each(
            _K_CONV[:1], ("padding",), CHOICE, choices=("valid", "same", "causal"), fold_case=True
        ),
        *_each(
            _K_CONV + _K_CONV_T + _K_POOL,
            ("data_format",),
            CHOICE,
            choices=("channels_last", "channels_first"),
            fold_case=True,
        ),
    ]
)

DIVISIBLE: tuple[Divisible, ...] = (
    *(Divisible(c, a, "groups") for c in _CONV + _CONV_T for a in ("in_channels", "out_channels")),
    Divisible(_NN + "MultiheadAttention", "embed_dim", "num_heads"),
    *(Divisible(c, "d_model", "nhead") for c in _TRANSFORMER_LAYERS),
    Divisible(_NN + "GroupNorm", "num_channels", "num_groups"),
)
# _ConvNd.__init__: "padding='same' is not supported for strided convolutions".
SAME_PADDING_NEEDS_STRIDE_1: tuple[str, ...] = _CONV


@dataclass(frozen=True)
class _Bound:
    """The rules of one framework, by the object each names."""

    rules: dict[Any, dict[str, Rule]]
    divisible: dict[Any, list[Divisible]]
    same_stride: frozenset[Any]


@lru_cache(maxsize=4)
def _bound_rules(top: str) -> _Bound:
    """Resolve each rule's callable of framework `top` to its object (once the framework is in)."""

    def resolve(path: str) -> Any:
        obj = fw.lookup(path).obj
        return None if obj in (fw.MISSING, fw.UNKNOWN) else obj

    rules: dict[Any, dict[str, Rule]] = {}
    for r in RULES:
        if r.callable.split(".")[0] == top and (obj := resolve(r.callable)) is not None:
            rules.setdefault(obj, {})[r.param] = r
    divisible: dict[Any, list[Divisible]] = {}
    for d in DIVISIBLE:
        if d.callable.split(".")[0] == top and (obj := resolve(d.callable)) is not None:
            divisible.setdefault(obj, []).append(d)
    same = frozenset(
        o
        for c in SAME_PADDING_NEEDS_STRIDE_1
        if c.split(".")[0] == top and (o := resolve(c)) is not None
    )
    return _Bound(rules, divisible, same)


def check_values(obj: Any, qualname: str, bound: dict[str, ast.AST]) -> list[ValueProblem]:
    """Problems with the literal arguments `bound` (parameter name -> expression) of a call to
    `obj`, judged by the rules of that exact callable."""
    top = qualname.split(".")[0]
    if top not in ("torch", "keras"):
        return []
    try:
        table = _bound_rules(top)
        rules = table.rules.get(obj, {})
        divisible = table.divisible.get(obj, [])
        same_stride = obj in table.same_stride
    except TypeError:  # an unhashable object
        return []
    out: list[ValueProblem] = []
    values = {k: literal(n) for k, n in bound.items()}
    for name, node in bound.items():
        v = values[name]
        rule = rules.get(name)
        if rule is None or v is NOT_LITERAL or v is None:
            continue
        if rule.kind in (POSITIVE, NON_NEGATIVE):
            if isinstance(v, str) and rule.strings:
                _choice(name, node, v, rule.strings, out)
            elif not isinstance(v, str):
                _check_sizes(name, node, v, allow_zero=rule.kind == NON_NEGATIVE, out=out)
        elif rule.kind == PROBABILITY:
            _check_rate(obj, name, node, v, out)
        elif rule.kind == CHOICE:
            _choice(name, node, v, rule.choices, out, fold_case=rule.fold_case)
        elif (
            rule.kind == REGISTRY
            and isinstance(v, str)
            and not fw.keras_registry_accepts(rule.registry, v)
        ):
            best = fw.suggest(v, fw.keras_registry_names(rule.registry))
            out.append(
                ValueProblem(
                    T.INVALID_ARGUMENT_VALUE,
                    name,
                    node,
                    f"unknown {rule.registry} {v!r} for `{name}`",
                    suggestion=repr(best) if best else None,
                )
            )
    if same_stride and values.get("padding") == "same":
        stride = values.get("stride", NOT_LITERAL)
        if stride is not NOT_LITERAL and any(_is_int(s) and s != 1 for s in _sizes(stride)):
            out.append(
                ValueProblem(
                    T.INVALID_ARGUMENT_VALUE,
                    "padding",
                    bound["padding"],
                    f"padding='same' is not supported for strided convolutions (stride={stride!r})",
                )
            )
    for d in divisible:
        _divisible(values, bound, d.a, d.b, out)
    return out


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


def _check_rate(obj: Any, name: str, node: ast.AST, v: Any, out: list[ValueProblem]) -> None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and not 0 <= v <= 1:
        default = fw.default_of(obj, name)
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
