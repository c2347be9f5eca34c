"""The shape rules of meta_fast, against torch's own CPU kernels on real tensors: for random
configurations (seeded) of each rule, the same output shape, dtype and layout, or the same
exception with the same words; and a call the rule vouches for runs no kernel on meta."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from deepeval_lsp.diagnostics.dynamic.child import meta_fast
from deepeval_lsp.diagnostics.dynamic.child.meta_patches import patched
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

CONFIGS = 40  # per rule
# builds its layer and tensors on the device given; the call of torch it returns runs them
Call = Callable[[str], Callable[[], Any]]


class _Kernels(TorchDispatchMode):
    """The aten ops run meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


# what a rule's result costs: the empty tensor it returns
_ALLOCATION = {"aten.clone.default", "aten.empty.memory_format"}


def _layout(t: torch.Tensor) -> tuple[int, ...]:
    """The strides that matter (a dimension of size 1 may have any)."""
    return tuple(s for s, n in zip(t.stride(), t.shape, strict=True) if n != 1)


def _outcome(call: Call, device: str, kernels: _Kernels | None = None) -> tuple[Any, ...]:
    try:
        run = call(device)
        if kernels is None:
            out = run()
        else:
            with kernels:
                out = run()
    except Exception as e:
        return (type(e).__name__, str(e))
    return ("ok", tuple(out.shape), out.dtype, _layout(out), out.device.type)


def _compare(call: Call) -> tuple[tuple[Any, ...], tuple[Any, ...], list[str]]:
    """(CPU outcome, meta outcome under the patches, the kernels that ran for it on meta)."""
    cpu = _outcome(call, "cpu")
    kernels = _Kernels()
    with patched("/nowhere.py"), torch.no_grad():
        meta = _outcome(call, "meta", kernels)
    if cpu[0] == "ok":  # the same but for the device
        cpu = (*cpu[:-1], "meta")
    return cpu, meta, sorted(set(kernels.ops) - _ALLOCATION)


def _check(call: Call) -> bool:
    """The meta outcome under the patches is the CPU's; True when no kernel ran for it."""
    cpu, meta, ran = _compare(call)
    assert meta == cpu
    return not ran


def _tensor(shape: tuple[int, ...], device: str, layout: str = "contiguous", dtype: Any = None):
    """A tensor of `shape`: contiguous, channels-last (rank 4, 5), or transposed (last two)."""
    dtype = dtype or torch.float32
    if layout == "transposed" and len(shape) >= 2:
        swapped = (*shape[:-2], shape[-1], shape[-2])
        return torch.ones(swapped, device=device, dtype=dtype).transpose(-1, -2)
    t = torch.ones(shape, device=device, dtype=dtype)
    if layout == "channels_last" and len(shape) in (4, 5):
        fmt = torch.channels_last if len(shape) == 4 else torch.channels_last_3d
        t = t.contiguous(memory_format=fmt)
    return t


def _shape(rng: random.Random, rank: int, low: int = 1) -> tuple[int, ...]:
    return tuple(rng.randint(low, 5) for _ in range(rank))


def _run(configs: list[tuple[str, Call, bool]]) -> None:
    """Each (name, call, valid) agrees with the CPU; each valid one runs no kernel on meta."""
    differ, slow = [], []
    for name, call, valid in configs:
        cpu, meta, ran = _compare(call)
        if meta != cpu:
            differ.append(f"{name}:\n  cpu  {cpu}\n  meta {meta}")
        elif valid and ran:
            slow.append(f"{name}: {ran}")
    assert not differ, "\n".join(differ)
    assert not slow, f"ran torch's kernels: {slow}"


# ------------------------------------------------------------------------------------ norms


def _batch_norm_configs(rng: random.Random) -> list[tuple[str, Call, bool]]:
    out = []
    for _ in range(CONFIGS):
        spatial = rng.choice([1, 2, 3])
        cls = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[spatial]
        c = rng.randint(1, 6)
        rank = rng.choice([spatial + 1, spatial + 2, spatial + 2, spatial + 2, 1])
        if spatial == 1:
            rank = rng.choice([1, 2, 3, 3, 4])
        wrong = rng.random() < 0.3
        shape = list(_shape(rng, rank))
        if rank >= 2:
            shape[1] = c + rng.randint(1, 3) if wrong else c
        training = rng.random() < 0.3
        if training and rng.random() < 0.3:
            shape = [1, *shape[1:]] if rank >= 2 else shape
        layout = rng.choice(["contiguous", "contiguous", "channels_last", "transposed"])
        affine, stats = rng.random() < 0.8, rng.random() < 0.8
        spec = (cls.__name__, c, tuple(shape), training, layout, affine, stats)

        def call(device: str, cls=cls, c=c, shape=tuple(shape), spec=spec) -> Any:
            _, _, _, training, layout, affine, stats = spec
            layer = cls(c, affine=affine, track_running_stats=stats, device=device)
            layer.train(training)
            x = _tensor(shape, device, layout)
            if training and stats:  # its own counter, not the norm's kernel
                layer.num_batches_tracked = None
            return lambda: layer(x)

        valid = (
            (rank == spatial + 2 or (spatial == 1 and rank == 2))
            and (not wrong)
            and not (training and shape[0] * prod_rest(shape) == 1)
        )
        out.append((repr(spec), call, valid))
    return out


def prod_rest(shape: list[int]) -> int:
    n = 1
    for d in shape[2:]:
        n *= d
    return n


def test_batch_norm_layers_fail_and_pass_as_on_cpu():
    _run(_batch_norm_configs(random.Random(1)))


@pytest.mark.parametrize("which", ["running_mean", "running_var", "weight", "bias"])
def test_batch_norm_with_stats_of_the_wrong_size_fails_as_on_cpu(which):
    def call(device: str) -> Any:
        parts = {n: torch.ones(4, device=device) for n in ("running_mean", "running_var")}
        parts.update(weight=torch.ones(4, device=device), bias=torch.ones(4, device=device))
        parts[which] = torch.ones(5, device=device)
        x = torch.ones(2, 4, 3, device=device)
        return lambda: F.batch_norm(x, **parts)

    _check(call)
    assert "should contain 4 elements not 5" in _outcome(call, "cpu")[1]


def test_batch_norm_in_evaluation_needs_its_statistics_as_on_cpu():
    def call(device: str) -> Any:
        x = torch.ones(2, 4, 3, device=device)
        return lambda: F.batch_norm(x, None, None, training=False)

    _check(call)


def _layer_norm_configs(rng: random.Random) -> list[tuple[str, Call, bool]]:
    out = []
    for _ in range(CONFIGS):
        rank = rng.randint(1, 4)
        shape = _shape(rng, rank)
        k = rng.randint(1, rank)
        normalized = list(shape[rank - k :])
        wrong = rng.random() < 0.35
        if wrong:
            i = rng.randrange(len(normalized))
            normalized[i] += rng.randint(1, 3)
        if rng.random() < 0.2:
            normalized = [rng.randint(1, 4), *normalized]  # longer than the input may be
        as_int = len(normalized) == 1 and rng.random() < 0.5
        layout = rng.choice(["contiguous", "transposed", "channels_last"])
        affine = rng.random() < 0.8
        spec = (tuple(shape), tuple(normalized), as_int, layout, affine)

        def call(device: str, spec=spec) -> Any:
            shape, normalized, as_int, layout, affine = spec
            arg = normalized[0] if as_int else normalized
            layer = nn.LayerNorm(arg, elementwise_affine=affine, device=device)
            x = _tensor(shape, device, layout)
            return lambda: layer(x)

        fits = len(normalized) <= rank and tuple(shape[rank - len(normalized) :]) == tuple(
            normalized
        )
        out.append((repr(spec), call, fits))
    return out


def test_layer_norm_layers_fail_and_pass_as_on_cpu():
    _run(_layer_norm_configs(random.Random(2)))


@pytest.mark.parametrize("which", ["weight", "bias"])
def test_layer_norm_with_affine_tensors_of_the_wrong_shape_fails_as_on_cpu(which):
    def call(device: str) -> Any:
        parts = {"weight": torch.ones(4, device=device), "bias": torch.ones(4, device=device)}
        parts[which] = torch.ones(3, device=device)
        x = torch.ones(2, 3, 4, device=device)
        return lambda: F.layer_norm(x, (4,), **parts)

    _check(call)


def test_layer_norm_words_a_wrong_input_as_the_cpu_does():
    def call(device: str) -> Any:
        layer, x = nn.LayerNorm(8, device=device), torch.ones(2, 3, 4, device=device)
        return lambda: layer(x)

    _check(call)
    assert _outcome(call, "cpu")[1] == (
        "Given normalized_shape=[8], expected input with shape [*, 8], but got input of "
        "size[2, 3, 4]"
    )


def _group_norm_configs(rng: random.Random) -> list[tuple[str, Call, bool]]:
    out = []
    for _ in range(CONFIGS):
        groups = rng.randint(1, 4)
        channels = groups * rng.randint(1, 3)
        rank = rng.randint(2, 5)
        shape = list(_shape(rng, rank))
        wrong = rng.random() < 0.35
        shape[1] = channels + rng.randint(1, 3) if wrong else channels
        if rng.random() < 0.15:
            shape = [1, groups, *([1] * (rank - 2))]  # one value per group
        layout = rng.choice(["contiguous", "contiguous", "channels_last", "transposed"])
        affine = rng.random() < 0.8
        spec = (groups, channels, tuple(shape), layout, affine)

        def call(device: str, spec=spec) -> Any:
            groups, channels, shape, layout, affine = spec
            layer = nn.GroupNorm(groups, channels, affine=affine, device=device)
            x = _tensor(shape, device, layout)
            return lambda: layer(x)

        valid = (
            shape[1] == channels
            and layout != "transposed"
            and prod_rest(shape) * (shape[0] * shape[1] // groups) > 1
        )
        out.append((repr(spec), call, valid))
    return out


def test_group_norm_layers_fail_and_pass_as_on_cpu():
    _run(_group_norm_configs(random.Random(3)))


def test_group_norm_with_channels_not_divisible_fails_as_on_cpu():
    _check(lambda d: lambda: F.group_norm(torch.ones(2, 6, 3, device=d), 4))
    _check(
        lambda d: lambda: F.group_norm(torch.ones(2, 6, 3, device=d), 3, torch.ones(4, device=d))
    )


# ------------------------------------------------------------------ activations and dropout

ACTIVATIONS: list[tuple[str, Callable[..., Any]]] = [
    ("ReLU", lambda x: nn.ReLU()(x)),
    ("relu", F.relu),
    ("torch.relu", lambda x: torch.relu(x)),  # the patched one, looked up at the call
    ("Tensor.relu", lambda x: x.relu()),
    ("Sigmoid", lambda x: nn.Sigmoid()(x)),
    ("Tensor.sigmoid", lambda x: x.sigmoid()),
    ("Tanh", lambda x: nn.Tanh()(x)),
    ("GELU", lambda x: nn.GELU()(x)),
    ("GELU tanh", lambda x: nn.GELU(approximate="tanh")(x)),
    ("SiLU", lambda x: nn.SiLU()(x)),
    ("Mish", lambda x: nn.Mish()(x)),
    ("Hardswish", lambda x: nn.Hardswish()(x)),
    ("Hardsigmoid", lambda x: nn.Hardsigmoid()(x)),
    ("ReLU6", lambda x: nn.ReLU6()(x)),
    ("relu6", F.relu6),
    ("Hardtanh", lambda x: nn.Hardtanh(-2.0, 2)(x)),
    ("LeakyReLU", lambda x: nn.LeakyReLU(0.2)(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x, negative_slope=0.1)),
    ("ELU", lambda x: nn.ELU(alpha=0.5)(x)),
]


def _activation_configs(rng: random.Random) -> list[tuple[str, Call, bool]]:
    out = []
    for name, fn in ACTIVATIONS:
        for _ in range(3):
            rank = rng.randint(1, 5)
            shape = _shape(rng, rank)
            layout = rng.choice(["contiguous", "channels_last", "transposed"])
            dtype = rng.choice([torch.float32, torch.float32, torch.float64])
            spec = (name, shape, layout, dtype)

            def call(device: str, fn=fn, spec=spec) -> Any:
                x = _tensor(spec[1], device, spec[2], spec[3])
                return lambda: fn(x)

            dense = layout != "transposed" or rank < 2 or 1 in shape[-2:]
            out.append((repr(spec), call, dense))
    return out


def test_activations_give_what_the_cpu_gives():
    _run(_activation_configs(random.Random(4)))


@pytest.mark.parametrize(
    "call",
    [
        lambda d: F.gelu(torch.ones(2, 3, device=d), approximate="tan"),
        lambda d: F.hardtanh(torch.ones(2, 3, device=d), 2.0, 1.0),
        lambda d: torch._C._nn.hardtanh(torch.ones(2, 3, device=d), 2.0, 1.0),
        lambda d: F.leaky_relu(torch.ones(2, 3, device=d), "0.1"),
        lambda d: torch.relu(torch.ones(2, 3, device=d), 1),
        lambda d: torch.relu(torch.ones(2, 3, device=d, dtype=torch.long)),
        lambda d: torch.sigmoid(torch.ones(2, 3, device=d, dtype=torch.long)),
    ],
    ids=["gelu-approximate", "hardtanh-range", "hardtanh-aten", "slope-str", "extra", "int",
         "int-sigmoid"],
)  # fmt: skip
def test_activations_with_unusual_arguments_are_torchs_to_judge(call):
    _check(lambda device: lambda: call(device))


def _dropout_configs(rng: random.Random) -> list[tuple[str, Call, bool]]:
    out = []
    for _ in range(CONFIGS):
        fn = rng.choice([F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout])
        rank = {F.dropout1d: (2, 3), F.dropout2d: (3, 4), F.dropout3d: (4, 5)}.get(fn, (1, 5))
        shape = _shape(rng, rng.randint(*rank))
        p = rng.choice([0.1, 0.25, 0.5, 0.5, 1.0, 0.0, 1.5, -0.1])
        training = rng.random() < 0.8
        layout = rng.choice(["contiguous", "channels_last", "transposed"])
        spec = (fn.__name__, shape, p, training, layout)

        def call(device: str, fn=fn, spec=spec) -> Any:
            _, shape, p, training, layout = spec
            x = _tensor(shape, device, layout)
            return lambda: fn(x, p, training)

        valid = (
            fn in (F.dropout, F.dropout2d, F.dropout3d)
            and training
            and 0 < p <= 1
            and (layout != "transposed" or len(shape) < 2 or 1 in shape[-2:])
            # unbatched: torch reshapes it first
            and len(shape) == {F.dropout2d: 4, F.dropout3d: 5}.get(fn, len(shape))
        )
        out.append((repr(spec), call, valid))
    return out


def test_dropout_gives_what_the_cpu_gives():
    _run(_dropout_configs(random.Random(5)))


# ------------------------------------------------------------------------- arithmetic

BINARY: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("+", lambda a, b: a + b),
    ("-", lambda a, b: a - b),
    ("*", lambda a, b: a * b),
    ("/", lambda a, b: a / b),
    ("torch.add", lambda a, b: torch.add(a, b)),  # the patched one, looked up at the call
    ("torch.mul", lambda a, b: torch.mul(a, b)),
    ("torch.sub", lambda a, b: torch.sub(a, b)),
    ("torch.div", lambda a, b: torch.div(a, b)),
]


def _in_place(op: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if op == "+=":
            a += b
        elif op == "-=":
            a -= b
        elif op == "*=":
            a *= b
        else:
            a /= b
        return a

    return apply


def _operand_shapes(rng: random.Random) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
    """Two shapes: equal, broadcastable, or not (and whether they broadcast)."""
    a = _shape(rng, rng.randint(1, 4), low=2)
    kind = rng.choice(["same", "same", "broadcast", "broadcast", "wrong"])
    if kind == "same":
        return a, a, True
    b = list(a[rng.randint(0, len(a) - 1) :])
    if kind == "broadcast":
        for i in range(len(b)):
            if rng.random() < 0.5:
                b[i] = 1
        if rng.random() < 0.5:
            a, b = tuple(b), list(a)
        return tuple(a), tuple(b), True
    i = rng.randrange(len(b))
    b[i] += rng.randint(1, 3)
    return a, tuple(b), False


def _binary_configs(rng: random.Random) -> list[tuple[str, Call, bool]]:
    out = []
    ops = [*BINARY, *((op, _in_place(op)) for op in ("+=", "-=", "*=", "/="))]
    for _ in range(3 * CONFIGS):
        name, fn = rng.choice(ops)
        sa, sb, fits = _operand_shapes(rng)
        other = rng.choice(["tensor", "tensor", "tensor", "int", "float", "float64"])
        layout = rng.choice(["contiguous", "contiguous", "channels_last", "transposed"])
        spec = (name, sa, sb, other, layout)

        def call(device: str, fn=fn, spec=spec) -> Any:
            _, sa, sb, other, layout = spec
            a = _tensor(sa, device, layout)
            if other in ("int", "float"):
                number = 3 if other == "int" else 0.5
                return lambda: fn(a, number)
            dtype = torch.float64 if other == "float64" else torch.float32
            b = _tensor(sb, device, layout, dtype)
            return lambda: fn(a, b)

        in_place = name.endswith("=")
        dense = layout != "transposed" or len(sa) < 2 or 1 in sa[-2:]
        if other in ("int", "float"):
            out.append((repr(spec), call, dense))
            continue
        # a tensor of the same dtype: the same shape and layout, or broadcast and contiguous
        broadcast = fits and layout == "contiguous"
        valid = other == "tensor" and dense and fits and (sa == sb or broadcast)
        if in_place and fits:
            valid &= tuple(torch.broadcast_shapes(sa, sb)) == sa
        # shapes that do not broadcast: the rule raises the CPU's words
        out.append((repr(spec), call, valid or not fits))
    return out


def test_arithmetic_gives_what_the_cpu_gives_and_words_broadcasting_as_it_does():
    _run(_binary_configs(random.Random(6)))


@pytest.mark.parametrize(
    ("a", "b"),
    [((2, 3), (2, 4)), ((5, 3), (4,)), ((4,), (2, 3)), ((2, 1, 3), (4, 1, 2))],
)
def test_a_broadcast_refusal_has_the_cpus_words(a, b):
    shape, refusal = meta_fast.broadcast_refusal(a, b)
    try:
        torch.ones(a) + torch.ones(b)
    except RuntimeError as e:
        assert (shape, refusal) == ((), str(e))
    else:
        raise AssertionError("the CPU broadcast them")


def test_an_in_place_op_whose_result_does_not_fit_fails_as_on_cpu():
    def call(device: str) -> Any:
        a, b = torch.ones(2, 1, device=device), torch.ones(2, 4, device=device)
        return lambda: _in_place("+=")(a, b)

    _check(call)
    assert _outcome(call, "cpu")[1] == (
        "output with shape [2, 1] doesn't match the broadcast shape [2, 4]"
    )


def test_a_failed_residual_addition_still_carries_its_operands():
    from deepeval_lsp.diagnostics.dynamic.child.meta_patches import MERGE_ATTR

    a, b = torch.ones(2, 3, device="meta"), torch.ones(2, 4, device="meta")
    with patched("/nowhere.py"), pytest.raises(RuntimeError) as caught:
        a + b
    assert getattr(caught.value, MERGE_ATTR) == [a, b]


def test_an_operation_that_needs_a_gradient_is_torchs():
    w = torch.ones(4, device="meta", requires_grad=True)
    x = torch.ones(2, 4, 3, device="meta")
    with patched("/nowhere.py"):
        weighted = F.batch_norm(x, w.detach(), w.detach(), w, w)
        summed = torch.ones(4, device="meta") + w
    assert weighted.grad_fn is not None
    assert summed.grad_fn is not None


def test_in_the_worker_a_residual_net_runs_no_kernel_for_its_norms_and_additions():
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(8, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.ln = nn.GroupNorm(2, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.gelu(self.ln(torch.relu(self.bn(self.conv(x)) + x)) * 0.5)

    with patched("/nowhere.py"), torch.device("meta"), torch.no_grad():
        block = Block().eval()
        x = torch.empty(2, 8, 6, 6)
        with _Kernels() as kernels:
            out = block(x)
    assert out.shape == (2, 8, 6, 6)
    assert [op for op in kernels.ops if op not in _ALLOCATION] == ["aten.convolution.default"]
