"""Every literal-value rule against the real API: for each (callable, parameter) rule, a valid value
that the static pass leaves alone and the installed framework accepts, and invalid values that the
static pass reports and the framework really raises on (at construction, or when called on real
tensors). A rule that contradicts the API fails here."""

from __future__ import annotations

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics import framework as fw
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.static import literal_values as lv

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

OPTS = CheckOptions(dynamic=False)
_Z = "torch.zeros"
_K = "keras.ops.zeros"


def _conv_in(d: int, channels_last: bool = False) -> str:
    dims = ", ".join(["8"] * d)
    return f"{_K}((1, {dims}, 2))" if channels_last else f"{_Z}(1, 2, {dims})"


# callable -> (base keyword arguments as source text, the call's arguments as source text or None
# for a function whose base arguments already hold its tensors)
CALLS: dict[str, tuple[dict[str, str], str | None]] = {
    "torch.nn.Dropout": ({}, f"{_Z}(2, 3)"),
    "torch.nn.Dropout1d": ({}, f"{_Z}(2, 3, 4)"),
    "torch.nn.Dropout2d": ({}, f"{_Z}(2, 3, 4, 4)"),
    "torch.nn.Dropout3d": ({}, f"{_Z}(1, 2, 3, 4, 4)"),
    "torch.nn.AlphaDropout": ({}, f"{_Z}(2, 3)"),
    "torch.nn.FeatureAlphaDropout": ({}, f"{_Z}(2, 3, 4, 4)"),
    "torch.nn.functional.dropout": ({"input": f"{_Z}(2, 3)"}, None),
    "torch.nn.functional.dropout1d": ({"input": f"{_Z}(2, 3, 4)"}, None),
    "torch.nn.functional.dropout2d": ({"input": f"{_Z}(2, 3, 4, 4)"}, None),
    "torch.nn.functional.dropout3d": ({"input": f"{_Z}(1, 2, 3, 4, 4)"}, None),
    "torch.nn.functional.alpha_dropout": ({"input": f"{_Z}(2, 3)", "training": "True"}, None),
    "torch.nn.functional.feature_alpha_dropout": (
        {"input": f"{_Z}(2, 3, 4, 4)", "training": "True"},
        None,
    ),
    **{
        f"torch.nn.{c}": (
            {"input_size": "4", "hidden_size": "8", "num_layers": "2"},
            f"{_Z}(3, 2, 4)",
        )
        for c in ("RNN", "LSTM", "GRU")
    },
    "torch.nn.TransformerEncoderLayer": ({"d_model": "8", "nhead": "2"}, f"{_Z}(2, 3, 8)"),
    "torch.nn.TransformerDecoderLayer": (
        {"d_model": "8", "nhead": "2"},
        f"{_Z}(2, 3, 8), {_Z}(2, 3, 8)",
    ),
    "torch.nn.Transformer": (
        {"d_model": "8", "nhead": "2", "num_encoder_layers": "1", "num_decoder_layers": "1"},
        f"{_Z}(2, 3, 8), {_Z}(2, 3, 8)",
    ),
    "torch.nn.Linear": ({"in_features": "4", "out_features": "2"}, f"{_Z}(1, 4)"),
    "torch.nn.Bilinear": (
        {"in1_features": "3", "in2_features": "4", "out_features": "2"},
        f"{_Z}(1, 3), {_Z}(1, 4)",
    ),
    **{
        f"torch.nn.{k}{d}d": (
            {"in_channels": "2", "out_channels": "4", "kernel_size": "3"},
            _conv_in(d),
        )
        for k in ("Conv", "ConvTranspose")
        for d in (1, 2, 3)
    },
    **{
        f"torch.nn.BatchNorm{d}d": (
            {"num_features": "2"},
            f"{_Z}(2, 2{', 3' * (d if d > 1 else 0)})",
        )
        for d in (1, 2, 3)
    },
    "torch.nn.Embedding": (
        {"num_embeddings": "10", "embedding_dim": "4"},
        "torch.tensor([1, 2])",
    ),
    **{
        f"torch.nn.{k}Pool{d}d": ({"kernel_size": "2"}, _conv_in(d))
        for k in ("Max", "Avg")
        for d in (1, 2, 3)
    },
    "torch.nn.MultiheadAttention": (
        {"embed_dim": "8", "num_heads": "2"},
        f"{_Z}(3, 2, 8), {_Z}(3, 2, 8), {_Z}(3, 2, 8)",
    ),
    "torch.nn.GroupNorm": ({"num_groups": "2", "num_channels": "4"}, f"{_Z}(1, 4, 3)"),
    "torch.nn.PixelShuffle": ({"upscale_factor": "2"}, f"{_Z}(1, 4, 3, 3)"),
    "torch.nn.PixelUnshuffle": ({"downscale_factor": "2"}, f"{_Z}(1, 1, 4, 4)"),
    "torch.nn.Upsample": ({"scale_factor": "2"}, f"{_Z}(1, 1, 4, 4)"),
    # keras
    "keras.layers.Dense": ({"units": "4"}, f"{_K}((2, 3))"),
    **{
        f"keras.layers.Conv{d}D{t}": ({"filters": "2", "kernel_size": "3"}, _conv_in(d, True))
        for d in (1, 2, 3)
        for t in ("", "Transpose")
    },
    **{
        f"keras.layers.{c}": ({"units": "4"}, f"{_K}((2, 5, 3))")
        for c in ("SimpleRNN", "LSTM", "GRU")
    },
    "keras.layers.Activation": ({"activation": "'relu'"}, f"{_K}((2, 3))"),
    "keras.layers.Embedding": (
        {"input_dim": "10", "output_dim": "4"},
        f"{_K}((2, 3), dtype='int32')",
    ),
    **{
        f"keras.layers.{k}Pooling{d}D": ({"pool_size": "2"}, _conv_in(d, True))
        for k in ("Max", "Average")
        for d in (1, 2, 3)
    },
    "keras.layers.MultiHeadAttention": (
        {"num_heads": "2", "key_dim": "4"},
        f"{_K}((2, 3, 8)), {_K}((2, 3, 8))",
    ),
    "keras.layers.Dropout": ({"rate": "0.5"}, f"{_K}((2, 3)), training=True"),
    "keras.layers.SpatialDropout1D": ({"rate": "0.5"}, f"{_K}((2, 3, 4)), training=True"),
    "keras.layers.SpatialDropout2D": ({"rate": "0.5"}, f"{_K}((2, 3, 3, 4)), training=True"),
    "keras.layers.SpatialDropout3D": ({"rate": "0.5"}, f"{_K}((1, 3, 3, 3, 4)), training=True"),
}
_PAIR = (f"{_Z}(2, 3)", f"{_Z}(2, 3)")
_LOSS_ARGS = {
    "CrossEntropy": (f"{_Z}(2, 3)", "torch.tensor([0, 1])"),
    "NLL": (f"{_Z}(2, 3)", "torch.tensor([0, 1])"),
    "BCE": ("torch.full((2, 3), 0.5)", f"{_Z}(2, 3)"),
}
_LOSSES = ("L1", "MSE", "CrossEntropy", "NLL", "BCE", "BCEWithLogits", "SmoothL1", "Huber", "KLDiv")
for _name in _LOSSES:
    CALLS[f"torch.nn.{_name}Loss"] = ({}, ", ".join(_LOSS_ARGS.get(_name, _PAIR)))
for _f, _name in (
    ("l1_loss", "L1"),
    ("mse_loss", "MSE"),
    ("cross_entropy", "CrossEntropy"),
    ("nll_loss", "NLL"),
    ("binary_cross_entropy", "BCE"),
    ("binary_cross_entropy_with_logits", "BCEWithLogits"),
    ("smooth_l1_loss", "SmoothL1"),
    ("huber_loss", "Huber"),
    ("kl_div", "KLDiv"),
):
    _i, _t = _LOSS_ARGS.get(_name, _PAIR)
    CALLS[f"torch.nn.functional.{_f}"] = ({"input": _i, "target": _t}, None)

# A valid value where the kind's default does not fit the call.
VALID: dict[str, str] = {
    **{f"torch.nn.{k}{d}d.groups": "2" for k in ("Conv", "ConvTranspose") for d in (1, 2, 3)},
    **{f"torch.nn.{k}{d}d.stride": "2" for k in ("Conv", "ConvTranspose") for d in (1, 2, 3)},
    **{f"torch.nn.{k}{d}d.padding": "1" for k in ("Conv", "ConvTranspose") for d in (1, 2, 3)},
    "torch.nn.Upsample.mode": "'bilinear'",
    "torch.nn.TransformerEncoderLayer.activation": "'gelu'",
}
_REGISTRY_VALID = {
    "activation": "relu",
    "initializer": "zeros",
    "regularizer": "l2",
    "constraint": "non_neg",
}


def _source(callable_: str, kwargs: dict[str, str]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return f"import torch\nimport keras\nx = {callable_}({args})\n"


def _runs(callable_: str, kwargs: dict[str, str]) -> BaseException | None:
    """What calling the real API with these arguments raised (None when it ran)."""
    call = CALLS[callable_][1]
    src = _source(callable_, kwargs) + (f"x({call})\n" if call is not None else "")
    try:
        exec(compile(src, "probe.py", "exec"), {})
    except Exception as e:
        return e
    return None


def _values(rule: lv.Rule) -> tuple[str, list[str]]:
    """A valid value and the invalid values (as source text) of `rule`'s kind."""
    base = CALLS[rule.callable][0]
    if rule.kind == lv.PROBABILITY:
        return "0.5", ["1.5", "-0.1"]
    if rule.kind == lv.CHOICE:
        valid = VALID.get(rule.key, repr(rule.choices[0]))
        return valid, [repr(rule.choices[0] + "x")]
    if rule.kind == lv.REGISTRY:
        name = _REGISTRY_VALID[rule.registry]
        return repr(name), [repr(name + "x")]
    valid = VALID.get(rule.key, base.get(rule.param, "1"))
    bad = ["-1"] if rule.kind == lv.NON_NEGATIVE else ["0", "-1"]
    if rule.strings:
        bad.append(repr(rule.strings[0] + "x"))
    return valid, [*bad, f"{int(valid)}.0"]


def _findings(src: str) -> list:
    return check(src, "model.py", OPTS).diagnostics


@pytest.mark.parametrize("rule", lv.RULES, ids=lambda r: r.key)
def test_rule_matches_the_real_api(rule: lv.Rule) -> None:
    assert fw.lookup(rule.callable).obj not in (fw.MISSING, fw.UNKNOWN), rule.callable
    base = CALLS[rule.callable][0]
    valid, invalid = _values(rule)
    ok = {**base, rule.param: valid}
    assert _findings(_source(rule.callable, ok)) == []
    assert _runs(rule.callable, ok) is None, f"{rule.key}={valid} is valid"
    for bad in invalid:
        kwargs = {**base, rule.param: bad}
        ds = _findings(_source(rule.callable, kwargs))
        assert [d.code for d in ds] in (
            [T.INVALID_ARGUMENT_VALUE],
            [T.INVALID_ARGUMENT_TYPE],
        ), (bad, ds)
        assert _runs(rule.callable, kwargs) is not None, f"{rule.key}={bad} ran fine"


@pytest.mark.parametrize(
    ("callable_", "valid", "invalid"),
    [
        ("torch.nn.Conv2d", {"groups": "2"}, {"out_channels": "5", "groups": "2"}),
        (
            "torch.nn.ConvTranspose2d",
            {"groups": "2"},
            {"in_channels": "3", "out_channels": "6", "groups": "2"},
        ),
        ("torch.nn.MultiheadAttention", {"num_heads": "4"}, {"num_heads": "3"}),
        ("torch.nn.TransformerEncoderLayer", {"nhead": "4"}, {"nhead": "3"}),
        ("torch.nn.TransformerDecoderLayer", {"nhead": "4"}, {"nhead": "3"}),
        ("torch.nn.Transformer", {"nhead": "4"}, {"nhead": "3"}),
        ("torch.nn.GroupNorm", {"num_groups": "4"}, {"num_groups": "3"}),
        (
            "torch.nn.Conv2d",
            {"padding": "'same'", "stride": "1"},
            {"padding": "'same'", "stride": "2"},
        ),
    ],
)
def test_cross_parameter_rules_match_the_real_api(
    callable_: str, valid: dict[str, str], invalid: dict[str, str]
) -> None:
    base = CALLS[callable_][0]
    assert _findings(_source(callable_, {**base, **valid})) == []
    assert _runs(callable_, {**base, **valid}) is None
    ds = _findings(_source(callable_, {**base, **invalid}))
    assert [d.code for d in ds] == [T.INVALID_ARGUMENT_VALUE], ds
    assert _runs(callable_, {**base, **invalid}) is not None


def test_every_cross_parameter_rule_is_tested() -> None:
    tested = {
        "torch.nn.Conv2d",
        "torch.nn.ConvTranspose2d",
        "torch.nn.MultiheadAttention",
        "torch.nn.GroupNorm",
    }
    tested |= {
        "torch.nn.TransformerEncoderLayer",
        "torch.nn.TransformerDecoderLayer",
        "torch.nn.Transformer",
    }
    kinds = {d.callable.rsplit(".", 1)[-1].rstrip("123d").rstrip("Dd") for d in lv.DIVISIBLE}
    assert kinds <= {c.rsplit(".", 1)[-1].rstrip("123d").rstrip("Dd") for c in tested}


@pytest.mark.parametrize(
    "src",
    [
        "import torch\nimport torch.nn.functional as F\nx = F.normalize(torch.zeros(2, 3), p=2)\n",
        "import torch\nx = torch.norm(torch.zeros(2, 3), p=2)\n",
        "import torch.nn as nn\npad = nn.ConstantPad2d(-1, 0.0)\n",
        "import torch\nimport torch.nn.functional as F\n"
        "x = F.kl_div(torch.zeros(2, 3), torch.zeros(2, 3), reduction='batchmean')\n",
        "import torch\nimport torch.nn as nn\nw = torch.empty(3, 5)\n"
        "nn.init.kaiming_normal_(w, nonlinearity='linear')\n",
        "import torch\nimport torch.nn as nn\nw = torch.empty(3, 5)\n"
        "nn.init.kaiming_normal_(w, nonlinearity='leaky_relu')\n",
        "import keras\ns = keras.utils.pad_sequences([[1, 2]], padding='post')\n",
    ],
)
def test_shared_parameter_names_are_not_judged(src: str) -> None:
    assert _findings(src) == []
    exec(compile(src, "probe.py", "exec"), {})  # and the API agrees: it runs
