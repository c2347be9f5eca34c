"""The built-in PyTorch suite: every reference builds, runs and matches its task description.

The references are the project's own trusted programs, so they run in-process here: each is
built and run forward once on the meta device and once on a tiny real CPU batch.
"""

from __future__ import annotations

import ast
import re
from collections import Counter, defaultdict
from collections.abc import Callable

import pytest
import torch
from deepeval_lsp.diagnostics.check import check
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.semantic.similarity import MEASURES, compare
from deepeval_lsp.diagnostics.tasks.model import CATEGORIES, DIFFICULTIES, Task
from deepeval_lsp.diagnostics.tasks.suite import load_suite

SUITE = load_suite("builtin")
TASKS = SUITE.tasks


def load_reference(task: Task) -> Callable[[], torch.nn.Module]:
    namespace: dict = {"__name__": f"builtin_reference_{task.id}"}
    exec(compile(task.reference, task.reference_path, "exec"), namespace)
    return namespace["dl_model"]


def make_inputs(task: Task, device: str) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    tensors = []
    for spec in task.inputs:
        if spec.dtype == "int64":
            if device == "meta":
                t = torch.empty(spec.shape, dtype=torch.int64, device="meta")
            else:
                t = torch.randint(0, spec.high or 2, spec.shape, generator=gen)
        elif device == "meta":
            t = torch.empty(spec.shape, device="meta")
        else:
            t = torch.randn(spec.shape, generator=gen)
        tensors.append(t)
    return tensors


def output_shapes(out) -> tuple:
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    assert isinstance(out, (tuple, list)), f"forward returned {type(out).__name__}"
    return tuple(output_shapes(o) for o in out)


# --- the suite as a whole --------------------------------------------------------------------


def test_suite_size_and_mix() -> None:
    assert len(TASKS) >= 100
    ids = [t.id for t in TASKS]
    assert len(ids) == len(set(ids))
    categories = Counter(t.category for t in TASKS)
    assert set(categories) <= set(CATEGORIES)
    assert len(categories) >= 5
    assert categories["image_classification"] * 2 >= len(TASKS)
    levels = Counter(t.difficulty for t in TASKS)
    share = {d: levels[d] / len(TASKS) for d in DIFFICULTIES}
    # The study's split is 15 / 35 / 50; allow a few points either way.
    assert 0.10 <= share["easy"] <= 0.20, levels
    assert 0.30 <= share["medium"] <= 0.40, levels
    assert 0.45 <= share["hard"] <= 0.55, levels


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_reference_contract(task: Task) -> None:
    assert task.framework == "torch"
    tree = ast.parse(task.reference)
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "dl_model" in funcs, "the reference must define dl_model()"
    assert not funcs["dl_model"].args.args, "dl_model() takes no arguments"
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "torch.nn" in imported
    forbidden = {"DataLoader", "optim", "backward", "fit", "load_state_dict", "open"}
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not used & forbidden, f"no training or data code in a reference: {used & forbidden}"


# --- build and run ---------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_reference_runs_on_meta_and_cpu(task: Task) -> None:
    dl_model = load_reference(task)
    with torch.device("meta"):
        model = dl_model()
    assert isinstance(model, torch.nn.Module)
    with torch.no_grad():
        out = model.eval()(*make_inputs(task, "meta"))
    assert output_shapes(out) == task.output_shape, "meta-device output shape"

    torch.manual_seed(0)
    model = dl_model().eval()
    with torch.inference_mode():
        out = model(*make_inputs(task, "cpu"))
    assert output_shapes(out) == task.output_shape, "CPU output shape"
    flat = [out] if isinstance(out, torch.Tensor) else list(out)
    for o in flat:
        assert o.device.type == "cpu"
        if o.is_floating_point():
            assert torch.isfinite(o).all(), "the output holds NaN or inf"


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_reference_has_no_static_errors(task: Task) -> None:
    report = check(task.reference, task.reference_path, CheckOptions(dynamic=False, semantic=False))
    errors = [d for d in report.diagnostics if d.severity.name.lower() == "error"]
    assert report.error is None, report.error
    assert not errors, [f"{d.code} line {d.range.start.line + 1}: {d.message}" for d in errors]


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_reference_semantic_self_similarity(task: Task) -> None:
    result = compare(task.reference, task.reference)
    assert result.error is None, result.error
    assert result.missing_apis == [] and result.extra_apis == []
    assert {k: round(result.scores[k], 6) for k in MEASURES} == dict.fromkeys(MEASURES, 100.0)


# --- the requirement says what the inputs are ------------------------------------------------

# Dataset name -> (channels, height, width, classes) of the standard version.
DATASETS = {
    r"\bFashion-MNIST\b": (1, 28, 28, 10),
    r"(?<!Fashion-)\bMNIST\b": (1, 28, 28, 10),
    r"\bCIFAR-10(?!0)\b": (3, 32, 32, 10),
    r"\bCIFAR-100\b": (3, 32, 32, 100),
    r"\bSVHN\b": (3, 32, 32, 10),
    r"\bSTL-10\b": (3, 96, 96, 10),
}


def numbers_in(text: str) -> set[int]:
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return {int(n) for n in re.findall(r"\d+", text)}


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_requirement_states_the_inputs(task: Task) -> None:
    req = task.requirement
    said = numbers_in(req)
    for spec in task.inputs:
        missing = [d for d in spec.shape[1:] if d not in said]
        assert not missing, f"the requirement does not state input dims {missing} of {spec.shape}"
        if spec.high is not None:
            assert spec.high in said, f"the requirement does not state the vocabulary {spec.high}"
    if task.category == "image_classification":
        assert isinstance(task.output_shape[-1], int)
        assert task.output_shape[-1] in said, "the requirement does not state the class count"
    first = task.inputs[0]
    for pattern, (c, h, w, classes) in DATASETS.items():
        if first.dtype == "float32" and len(first.shape) == 4 and re.search(pattern, req):
            assert first.shape[1:] == (c, h, w), f"{pattern} images are {c}×{h}×{w}"
            if task.category == "image_classification":
                assert task.output_shape == (first.shape[0], classes), f"{pattern}: {classes}"


# --- tags are honoured -----------------------------------------------------------------------


def call_names(tree: ast.AST) -> Counter:
    names: Counter = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            names[f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")] += 1
    return names


def keyword_values(tree: ast.AST, key: str) -> list[ast.AST]:
    return [
        kw.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        for kw in n.keywords
        if kw.arg == key
    ]


def conv_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and re.fullmatch(r"Conv[123]d", n.func.attr)
    ]


def is_one(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (1, (1, 1))


def has_depthwise(tree: ast.AST) -> bool:
    """A convolution whose groups equals its in_channels (same literal or same name)."""
    for call in conv_calls(tree):
        kws = {kw.arg: kw.value for kw in call.keywords}
        groups = kws.get("groups")
        in_ch = kws.get("in_channels", call.args[0] if call.args else None)
        if groups is not None and in_ch is not None and ast.dump(groups) == ast.dump(in_ch):
            return True
    return False


def max_fan_out(tree: ast.AST) -> int:
    """How many different calls consume one value (a name between two assignments)."""
    best = 0
    for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        version: dict[str, int] = defaultdict(int)
        uses: dict[tuple[str, int], set[str]] = defaultdict(set)
        simple = [
            n
            for n in ast.walk(func)
            if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return))
        ]
        for stmt in sorted(simple, key=lambda n: (n.lineno, n.col_offset)):
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name):
                    name = node.args[0].id
                    uses[(name, version[name])].add(ast.dump(node.func))
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    version[node.id] += 1
        best = max([best, *(len(v) for v in uses.values())])
    return best


def has_add_of_tensors(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add)
            and not any(isinstance(side, ast.Constant) for side in (node.left, node.right))
        ):
            return True
        if (
            isinstance(node, ast.AugAssign)
            and isinstance(node.op, ast.Add)
            and not isinstance(node.value, ast.Constant)
        ):
            return True
    return "add" in call_names(tree)


def has_mult_of_tensors(tree: ast.AST) -> bool:
    return any(
        isinstance(n, ast.BinOp)
        and isinstance(n.op, ast.Mult)
        and not any(isinstance(s, ast.Constant) for s in (n.left, n.right))
        for n in ast.walk(tree)
    ) or "mul" in call_names(tree)


def has_patch_conv(tree: ast.AST) -> bool:
    """A convolution whose stride equals its (non-unit) kernel size: non-overlapping patches."""
    for call in conv_calls(tree):
        kws = {kw.arg: kw.value for kw in call.keywords}
        kernel, stride = kws.get("kernel_size"), kws.get("stride")
        if (
            kernel is not None
            and stride is not None
            and not is_one(stride)
            and (ast.dump(kernel) == ast.dump(stride))
        ):
            return True
    return False


def pooling_variants(tree: ast.AST) -> int:
    variants = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if re.search(r"(max|avg|adaptive_\w+)_?pool\dd", name, re.I):
                variants.add(ast.dump(node))
    return len(variants)


def forward_arity(tree: ast.AST) -> int:
    arities = [
        len(n.args.args) - 1
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef) and n.name == "forward"
    ]
    return max(arities, default=0)


def has(*names: str) -> Callable[[ast.AST], bool]:
    return lambda tree: bool(set(names) & set(call_names(tree)))


def all_of(*checks: Callable[[ast.AST], bool]) -> Callable[[ast.AST], bool]:
    return lambda tree: all(c(tree) for c in checks)


UPSAMPLING = (
    "Upsample",
    "interpolate",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "PixelShuffle",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
)

TAG_CHECKS: dict[str, Callable[[ast.AST], bool]] = {
    "residual": has_add_of_tensors,
    # One value feeding two paths, or one path per input of a multi-input model.
    "branches": lambda t: max_fan_out(t) >= 2 or forward_arity(t) >= 2,
    "concat": has("cat", "concat", "concatenate", "stack"),
    "depthwise": has_depthwise,
    "grouped": lambda t: any(not is_one(v) for v in keyword_values(t, "groups")),
    "dilated": lambda t: any(not is_one(v) for v in keyword_values(t, "dilation")),
    "asymmetric": lambda t: any(
        isinstance(v, ast.Tuple) and len({ast.dump(e) for e in v.elts}) > 1
        for v in keyword_values(t, "kernel_size")
    ),
    "attention": has(
        "sigmoid",
        "Sigmoid",
        "softmax",
        "Softmax",
        "MultiheadAttention",
        "scaled_dot_product_attention",
    ),
    "self_attention": lambda t: (
        has("MultiheadAttention", "scaled_dot_product_attention")(t)
        or (
            has("softmax", "Softmax")(t)
            and (
                has("matmul", "bmm", "einsum")(t)
                or any(
                    isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) for n in ast.walk(t)
                )
            )
        )
    ),
    "gating": all_of(has("sigmoid", "Sigmoid"), has_mult_of_tensors),
    "channel_split": has("chunk", "split", "tensor_split", "unbind"),
    "channel_shuffle": lambda t: (
        has("ChannelShuffle", "channel_shuffle")(t)
        or (has("view", "reshape")(t) and has("transpose", "permute")(t))
    ),
    "multi_scale_pooling": lambda t: pooling_variants(t) >= 2,
    "global_pooling": has(
        "AdaptiveAvgPool2d",
        "AdaptiveMaxPool2d",
        "adaptive_avg_pool2d",
        "adaptive_max_pool2d",
        "AdaptiveAvgPool1d",
        "AdaptiveMaxPool1d",
        "mean",
        "amax",
    ),
    "upsample": has(*UPSAMPLING),
    "dense_connections": all_of(has("cat"), has("append")),
    "transformer": has(
        "TransformerEncoder",
        "TransformerEncoderLayer",
        "TransformerDecoder",
        "TransformerDecoderLayer",
        "Transformer",
        "MultiheadAttention",
    ),
    "positional_encoding": lambda t: has("Parameter", "register_buffer", "sin", "Embedding")(t),
    "patch_embedding": has_patch_conv,
    "mlp_mixer": all_of(has("LayerNorm"), has("transpose", "permute")),
    "batchnorm": has("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"),
    "layernorm": has("LayerNorm"),
    "dropout": has("Dropout", "Dropout2d", "dropout"),
    "conv1d": has("Conv1d"),
    "conv2d": has("Conv2d"),
    "lstm": has("LSTM", "LSTMCell"),
    "gru": has("GRU", "GRUCell"),
    "rnn": has("RNN", "LSTM", "GRU"),
    "bidirectional": lambda t: any(
        isinstance(v, ast.Constant) and v.value is True for v in keyword_values(t, "bidirectional")
    ),
    "embedding": has("Embedding", "EmbeddingBag"),
    "unet": all_of(has("cat"), has(*UPSAMPLING)),
    "generator": has(*UPSAMPLING, "Tanh", "tanh"),
    "discriminator": has("LeakyReLU", "leaky_relu"),
    "vae": has("exp", "randn_like"),
    "multi_input": lambda t: forward_arity(t) >= 2,
    "multi_output": lambda t: any(
        isinstance(n, ast.Return) and isinstance(n.value, ast.Tuple) for n in ast.walk(t)
    ),
}


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_tags_are_honoured(task: Task) -> None:
    tree = ast.parse(task.reference)
    unknown = [t for t in task.tags if t not in TAG_CHECKS]
    assert not unknown, f"unknown tag(s) {unknown}: add a check to TAG_CHECKS or use a known tag"
    assert len(set(task.tags)) == len(task.tags), "a tag is repeated"
    missing = [t for t in task.tags if not TAG_CHECKS[t](tree)]
    assert not missing, f"the reference does not show the structure its tags claim: {missing}"
    if task.category == "multi_io":
        assert forward_arity(tree) >= 2 or len(task.inputs) >= 2 or task.multi_output
    assert (len(task.inputs) >= 2) == (forward_arity(tree) >= 2), "inputs vs forward arguments"


def test_tag_checks_reject_plain_models() -> None:
    plain = ast.parse(
        "import torch.nn as nn\n"
        "class M(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)\n"
        "        self.fc = nn.Linear(8, 10)\n"
        "    def forward(self, x):\n"
        "        x = self.conv(x)\n"
        "        x = x.mean(dim=(2, 3))\n"
        "        return self.fc(x)\n"
    )
    claimed = [tag for tag, ok in TAG_CHECKS.items() if ok(plain)]
    assert sorted(claimed) == ["conv2d", "global_pooling"]
