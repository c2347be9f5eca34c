"""The meta-device patches, in process: invisible to the program (inspect, functools metadata,
identity, TorchScript, torch.fx), and the shape rules the meta kernels skip raise the CPU
kernel's own words."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from deepeval_lsp.diagnostics.dynamic.child.meta_patches import patched
from torch import nn

# Every callable the torch patches replace: (owner, attribute name).
PATCHED = [
    (torch, "cat"),
    (torch, "concat"),
    (torch, "concatenate"),
    (torch, "add"),
    (torch.Tensor, "__add__"),
    (torch.Tensor, "__iadd__"),
    (torch.Tensor, "to"),
    (torch.Tensor, "cuda"),
    (torch.Tensor, "cpu"),
    (nn.Module, "__init__"),
    (nn.Module, "to"),
    (nn.Module, "cuda"),
    (nn.Module, "cpu"),
    (nn.init, "kaiming_normal_"),
    (nn.init, "normal_"),
    (nn.LSTM, "forward"),
    (F, "conv2d"),
    (F, "conv_transpose2d"),
    (torch, "conv_transpose3d"),
]


def _signature(fn: Any) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError) as e:
        return f"{type(e).__name__}: {e}"


def _looks(fn: Any) -> tuple[Any, ...]:
    return (
        _signature(fn),
        getattr(fn, "__name__", None),
        getattr(fn, "__qualname__", None),
        getattr(fn, "__doc__", None),
        getattr(fn, "__module__", None),
    )


def test_every_patched_callable_is_actually_replaced():
    before = [getattr(owner, name) for owner, name in PATCHED]
    with patched("/nowhere.py"):
        during = [getattr(owner, name) for owner, name in PATCHED]
    assert all(a is not b for a, b in zip(before, during, strict=True))
    assert [getattr(owner, name) for owner, name in PATCHED] == before


@pytest.mark.parametrize(("owner", "name"), PATCHED, ids=lambda v: getattr(v, "__name__", v))
def test_a_patched_callable_looks_like_the_original(owner, name):
    real = getattr(owner, name)
    with patched("/nowhere.py"):
        ours = _looks(getattr(owner, name))
    if owner is nn.LSTM:  # its qualified name would send TorchScript to the real overloads
        assert ours[:2] + ours[3:4] == _looks(real)[:2] + _looks(real)[3:4]
    else:
        assert ours == _looks(real)


def test_identities_of_unpatched_torch_hold():
    pairs = [(F.conv2d, torch.conv2d), (F.conv_transpose1d, torch.conv_transpose1d)]
    same = [a is b for a, b in pairs] + [torch.cat is torch.concat]
    with patched("/nowhere.py"):
        during = [F.conv2d is torch.conv2d, F.conv_transpose1d is torch.conv_transpose1d]
        assert [*during, torch.cat is torch.concat] == same


def test_torch_add_and_cat_take_their_keyword_forms():
    a, b = torch.ones(2), torch.ones(2)
    with patched("/nowhere.py"):
        assert torch.add(input=a, other=b).tolist() == [2.0, 2.0]
        assert torch.cat(tensors=[a, b], dim=0).shape == (4,)
        assert a.__add__(other=b).tolist() == [2.0, 2.0]


def test_an_init_function_refuses_what_the_real_one_refuses():
    w = torch.empty(3, 3)
    with pytest.raises(TypeError) as real:
        nn.init.normal_(w, meann=0.0)
    with patched("/nowhere.py"), pytest.raises(TypeError) as ours:
        nn.init.normal_(w, meann=0.0)
    assert str(ours.value) == str(real.value)
    with pytest.raises(TypeError) as real:
        nn.init.constant_(w)
    with patched("/nowhere.py"), pytest.raises(TypeError) as ours:
        nn.init.constant_(w)
    assert str(ours.value) == str(real.value)
    with patched("/nowhere.py"):
        assert nn.init.normal_(w, std=0.1) is w
        assert nn.init.constant_(w, 0.5) is w
        assert nn.init.kaiming_normal_(tensor=w) is w


def _scripted_cat() -> torch.Tensor:
    @torch.jit.script
    def join(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.cat([a, b], dim=1) + torch.add(a, b).sum()

    return join(torch.ones(2, 3), torch.ones(2, 3))


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.up = nn.ConvTranspose2d(8, 2, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return self.up(torch.cat([y, y], 1))


@pytest.mark.parametrize(
    "program",
    [
        _scripted_cat,
        lambda: torch.jit.script(_Block())(torch.ones(1, 3, 4, 4)),
        lambda: torch.jit.trace(_Block(), torch.ones(1, 3, 4, 4))(torch.ones(1, 3, 4, 4)),
        lambda: torch.jit.script(nn.LSTM(3, 4))(torch.ones(5, 2, 3))[0],
    ],
    ids=["script-function", "script-module", "trace-module", "script-lstm"],
)
def test_torchscript_compiles_the_patched_ops_as_builtins(program: Callable[[], Any]):
    def outcome() -> Any:
        try:
            return tuple(program().shape)
        except Exception as e:  # torch's own refusal (a scripted LSTM has no forward here)
            return type(e), str(e)

    want = outcome()
    with patched("/nowhere.py"):
        assert outcome() == want


def test_torch_distributed_optim_imports_under_the_patches():
    import importlib
    import sys

    pytest.importorskip("torch.distributed.optim")
    saved = {k: v for k, v in sys.modules.items() if k.startswith("torch.distributed.optim")}
    for k in saved:
        del sys.modules[k]
    try:
        with patched("/nowhere.py"):
            importlib.import_module("torch.distributed.optim")  # scripts functions at import
    finally:
        sys.modules.update(saved)


def test_the_script_aliases_go_with_the_patches():
    from torch.jit import _builtins

    table = _builtins._get_builtin_table()
    before = dict(table)
    with patched("/nowhere.py"):
        cat = torch.cat
        assert _builtins._find_builtin(cat) == "aten::cat"
    assert _builtins._find_builtin(cat) is None
    assert table == before


def test_fx_trace_graph_has_no_nodes_of_the_patches(tmp_path):
    import torch.fx

    path = str(tmp_path / "model.py")
    source = (
        "import torch\n"
        "def forward(a, b):\n"
        "    return torch.cat([a, b], 1) + torch.add(a, b).sum()\n"
    )
    code = compile(source, path, "exec")
    space: dict[str, Any] = {}
    exec(code, space)
    plain = [n.target for n in torch.fx.symbolic_trace(space["forward"]).graph.nodes]
    with patched(path):
        exec(code, space)
        ours = [n.target for n in torch.fx.symbolic_trace(space["forward"]).graph.nodes]
    assert ours == plain


# ---------------------------------------------------------------------------------------------
# A layer called with a wrong shape fails on the meta device as it fails on CPU; the right shape
# stays clean. (layer, good input shapes, bad input shapes, float/long per input)


def _long(*shape: int) -> tuple[str, tuple[int, ...]]:
    return ("long", shape)


KERNELS: dict[str, tuple[Callable[[], nn.Module], list[Any], list[Any]]] = {
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(4, 8, 3), [(2, 4, 9)], [(2, 5, 9)]),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(4, 8, 3), [(2, 4, 9, 9)], [(2, 5, 9, 9)]),
    "ConvTranspose3d": (lambda: nn.ConvTranspose3d(4, 8, 3), [(1, 4, 5, 5, 5)], [(1, 3, 5, 5, 5)]),
    "ConvTranspose2d-unbatched": (lambda: nn.ConvTranspose2d(4, 8, 3), [(4, 9, 9)], [(5, 9, 9)]),
    "ConvTranspose2d-groups": (
        lambda: nn.ConvTranspose2d(4, 8, 3, groups=2),
        [(2, 4, 9, 9)],
        [(2, 6, 9, 9)],
    ),
    "ConvTranspose2d-stride": (
        lambda: nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1),
        [(2, 8, 4, 4)],
        [(2, 16, 4, 4)],
    ),
    "Conv1d": (lambda: nn.Conv1d(4, 8, 3), [(2, 4, 9)], [(2, 5, 9)]),
    "Conv2d": (lambda: nn.Conv2d(4, 8, 3), [(2, 4, 9, 9)], [(2, 5, 9, 9)]),
    "Conv3d": (lambda: nn.Conv3d(4, 8, 3), [(1, 4, 5, 5, 5)], [(1, 5, 5, 5, 5)]),
    "Conv2d-groups": (lambda: nn.Conv2d(4, 8, 3, groups=2), [(2, 4, 9, 9)], [(2, 6, 9, 9)]),
    "Conv2d-depthwise": (lambda: nn.Conv2d(4, 4, 3, groups=4), [(2, 4, 9, 9)], [(2, 8, 9, 9)]),
    "Conv2d-reflect": (
        lambda: nn.Conv2d(4, 8, 3, padding=1, padding_mode="reflect"),
        [(2, 4, 9, 9)],
        [(2, 5, 9, 9)],
    ),
    "Conv2d-same": (lambda: nn.Conv2d(4, 8, 3, padding="same"), [(2, 4, 9, 9)], [(2, 5, 9, 9)]),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(4), [(2, 4, 5, 5)], [(2, 5, 5, 5)]),
    "BatchNorm1d-eval": (lambda: nn.BatchNorm1d(4).eval(), [(2, 4)], [(2, 5)]),
    "InstanceNorm2d-affine": (
        lambda: nn.InstanceNorm2d(4, affine=True),
        [(2, 4, 5, 5)],
        [(2, 5, 5, 5)],
    ),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), [(2, 4, 5, 5)], [(2, 6, 5, 5)]),
    "LayerNorm": (lambda: nn.LayerNorm(8), [(2, 3, 8)], [(2, 3, 9)]),
    "Embedding-float-indices": (lambda: nn.Embedding(10, 4), [_long(2, 3)], [(2, 3)]),
    "MultiheadAttention": (
        lambda: nn.MultiheadAttention(8, 2, batch_first=True),
        [(2, 3, 8)] * 3,
        [(2, 3, 9)] * 3,
    ),
    "Linear": (lambda: nn.Linear(8, 4), [(2, 8)], [(2, 9)]),
    "Bilinear": (lambda: nn.Bilinear(8, 6, 4), [(2, 8), (2, 6)], [(2, 8), (2, 7)]),
    "PReLU": (lambda: nn.PReLU(4), [(2, 4, 5)], [(2, 5, 5)]),
}
# The families whose meta kernel skips the check: the patches give the CPU kernel's words.
CPU_WORDS = {name for name in KERNELS if name.startswith(("Conv",))}


def _inputs(specs: list[Any], device: str) -> list[torch.Tensor]:
    out = []
    for spec in specs:
        if isinstance(spec[0], str):
            out.append(torch.zeros(spec[1], dtype=torch.long, device=device))
        else:
            out.append(torch.rand(spec, device=device))
    return out


def _outcome(ctor: Callable[[], nn.Module], specs: list[Any], device: str) -> str | None:
    with torch.device(device):
        layer = ctor()
    try:
        layer(*_inputs(specs, device))
    except Exception as e:
        return str(e).splitlines()[0]
    return None


@pytest.mark.parametrize("name", list(KERNELS))
def test_a_wrong_input_fails_on_meta_as_on_cpu_and_the_right_one_runs(name):
    ctor, good, bad = KERNELS[name]
    on_cpu = _outcome(ctor, bad, "cpu")
    assert on_cpu is not None  # the table's bad input is a real failure
    with patched("/nowhere.py"):
        assert _outcome(ctor, good, "meta") is None
        on_meta = _outcome(ctor, bad, "meta")
    assert on_meta is not None
    if name in CPU_WORDS:
        assert on_meta == on_cpu


@pytest.mark.parametrize(
    ("name", "args", "groups"),
    [
        ("conv2d", [(2, 4, 5, 5), (8, 4, 3, 3), (7,)], 1),
        ("conv_transpose2d", [(2, 4, 5, 5), (4, 8, 3, 3), (7,)], 1),
        ("conv2d", [(2, 6, 5, 5), (8, 2, 3, 3)], 3),
        ("conv_transpose2d", [(2, 6, 5, 5), (4, 8, 3, 3)], 3),
    ],
    ids=["conv-bias", "conv-transpose-bias", "conv-groups", "conv-transpose-groups"],
)
def test_functional_convolutions_check_bias_and_groups(name, args, groups):
    def run(device: str) -> str | None:
        try:  # looked up at the call: the patched function while the patches are on
            getattr(F, name)(*(torch.rand(s, device=device) for s in args), groups=groups)
        except RuntimeError as e:
            return str(e)
        return None

    on_cpu = run("cpu")
    assert on_cpu is not None
    with patched("/nowhere.py"):
        assert run("meta") == on_cpu


def test_the_keras_patches_look_like_the_originals():
    keras = pytest.importorskip("keras")
    from keras.datasets import mnist
    from keras.src.layers.core.lambda_layer import Lambda

    targets = [
        (keras.layers.Layer, "__init__"),
        (Lambda, "compute_output_shape"),
        (mnist, "load_data"),
    ]
    before = [getattr(owner, name) for owner, name in targets]
    with patched("/nowhere.py", torch_on=False, keras_on=True):
        during = [getattr(owner, name) for owner, name in targets]
        (x, _), _ = mnist.load_data()  # the placeholder data, no download
    assert x.shape[1:] == (28, 28)
    assert all(a is not b for a, b in zip(before, during, strict=True))
    assert [_looks(f) for f in during] == [_looks(f) for f in before]
