"""Shape rules for the layers that keep their input's shape, on the meta device (DESIGN.md §6).

torch computes the meta results of batch_norm, layer_norm, group_norm, most activations, dropout
and element-wise arithmetic through Python decompositions (torch._refs, torch._decomp): 0.2-3 ms a
call, most of the time of a deep conv net's forward. Inside the worker each of these calls goes
through a rule first: it checks the call as the CPU kernel does and returns an empty meta tensor
of the shape, dtype and layout the CPU kernel gives. A call the rule cannot vouch for (a tensor
not on meta or of a subclass, mixed dtypes, a gradient to record, an unusual argument form or
layout) goes to torch's own kernel, as does each refusal that the meta kernel words like the CPU
one; where the meta words differ (LayerNorm's shapes, broadcasting), the rule raises the CPU's
words, which the error classification and the shape fixes read.

Each rule takes the call's arguments and returns the result, or None for "ask torch".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Imported by the meta patches only, in the worker, where torch is. (Nothing here changes after
# import: the integrity check compares the checker's module globals before and after a run.)
import torch as _torch

Rule = Callable[..., Any]

_NUMBER = (int, float)  # bool is neither here: `type(x) in _NUMBER`
_PLAIN = (_torch.Tensor, _torch.nn.Parameter)  # a subclass may define __torch_function__


def _meta(t: Any) -> bool:
    """A plain meta tensor (a subclass may define __torch_function__: torch's kernel decides)."""
    return type(t) in _PLAIN and t.is_meta


def _meta_float(t: Any) -> bool:
    return _meta(t) and t.is_floating_point() and t.numel() > 0


def _no_grad(*tensors: Any) -> bool:
    """No autograd graph to record (the worker runs forward under no_grad)."""
    if not _torch.is_grad_enabled():
        return True
    return not any(t is not None and t.requires_grad for t in tensors)


def _dense(x: Any) -> bool:
    """`x` is contiguous or channels-last: each element once, no gaps."""
    if x.is_contiguous():
        return True
    rank = x.dim()
    torch = _torch
    return (rank == 4 and x.is_contiguous(memory_format=torch.channels_last)) or (
        rank == 5 and x.is_contiguous(memory_format=torch.channels_last_3d)
    )


def _like(x: Any) -> Any:
    """An empty tensor laid out as a CPU kernel lays out the result of an element-wise op of a
    dense `x` (as `x`), None for other layouts. (clone: a few µs on meta, empty_like ~40.)"""
    return x.clone() if _dense(x) else None


def _contiguous(x: Any) -> Any:
    return x.clone() if x.is_contiguous() else _torch.empty(x.shape, dtype=x.dtype, device=x.device)


# ------------------------------------------------------------------------------------ norms


def batch_norm(*args: Any, **kwargs: Any) -> Any:
    """torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
    eps, cudnn_enabled), as F.batch_norm calls it (its eps and batch size checks done there)."""
    if kwargs or len(args) != 9:
        return None
    x, weight, bias, mean, var, training = args[:6]
    if not (_meta_float(x) and x.dim() >= 2 and type(training) is bool):
        return None
    if (mean is None or var is None) and not training:
        return None  # "running_mean must be defined in evaluation mode"
    channels = x.shape[1]
    for t in (weight, bias, mean, var):
        # any other size: torch words it as the CPU does ("running_mean should contain 4
        # elements not 5")
        if t is not None and not (
            _meta(t) and t.dtype == x.dtype and t.dim() == 1 and t.shape[0] == channels
        ):
            return None
    if not _no_grad(x, weight, bias, mean, var):
        return None
    if _dense(x):
        return _like(x)
    # the CPU kernel's layout: x.suggest_memory_format()
    return _torch.empty(x.shape, dtype=x.dtype, device=x.device, memory_format=_suggested(x))


def _suggested(x: Any) -> Any:
    """`x.suggest_memory_format()`: channels-last where the strides order the dimensions so
    (c10's is_channels_last_strides_2d/3d), else contiguous."""
    torch = _torch
    rank = x.dim()
    if rank not in (4, 5):
        return torch.contiguous_format
    sizes, strides = x.shape, x.stride()
    if strides[1] == 0:
        return torch.contiguous_format
    low = 0
    for d in (1, 3, 2, 0) if rank == 4 else (1, 4, 3, 2, 0):
        if strides[d] == 0 or strides[d] < low or (d == 0 and low == strides[1]):
            return torch.contiguous_format
        low = strides[d] * max(sizes[d], 1)
    return torch.channels_last if rank == 4 else torch.channels_last_3d


def _int_list(shape: Any) -> tuple[int, ...] | None:
    if type(shape) is int:
        return (shape,)
    if isinstance(shape, list | tuple) and all(type(d) is int for d in shape):
        return tuple(shape)
    return None


def layer_norm(*args: Any, **kwargs: Any) -> Any:
    """torch.layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5,
    cudnn_enable=True), as F.layer_norm calls it. The meta kernel words the shape refusals
    unlike the CPU ("expected input with shape [5]" for "[*, 5]"): these are raised here."""
    if kwargs or not 2 <= len(args) <= 6:
        return None
    x, shape = args[0], _int_list(args[1])
    weight = args[2] if len(args) > 2 else None
    bias = args[3] if len(args) > 3 else None
    if shape is None or not shape or not _meta(x):
        return None
    if not all(t is None or _meta(t) for t in (weight, bias)):
        return None
    wanted = list(shape)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(t.shape)} and normalized_shape = {wanted}"
            )
    if x.dim() < len(shape) or tuple(x.shape[x.dim() - len(shape) :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={wanted}, expected input with shape "
            f"[*{''.join(f', {d}' for d in shape)}], but got input of size{list(x.shape)}"
        )
    if not _meta_float(x) or any(t is not None and t.dtype != x.dtype for t in (weight, bias)):
        return None
    if not _no_grad(x, weight, bias):
        return None
    return _contiguous(x)


def group_norm(*args: Any, **kwargs: Any) -> Any:
    """torch.group_norm(input, num_groups, weight=None, bias=None, eps=1e-5,
    cudnn_enabled=True), as F.group_norm calls it (its rank and batch size checks done there)."""
    if kwargs or not 2 <= len(args) <= 6:
        return None
    x, groups = args[0], args[1]
    weight = args[2] if len(args) > 2 else None
    bias = args[3] if len(args) > 3 else None
    if not (_meta_float(x) and x.dim() >= 2 and type(groups) is int and groups > 0):
        return None
    channels = x.shape[1]
    if channels % groups:
        return None  # "Expected number of channels in input to be divisible by num_groups…"
    for t in (weight, bias):
        if t is not None and not (
            _meta(t) and t.dtype == x.dtype and t.dim() == 1 and t.shape[0] == channels
        ):
            return None
    if not _no_grad(x, weight, bias):
        return None
    return _like(x)


# ------------------------------------------------------------------ activations and dropout


def _unary(extra: int = 0, names: tuple[str, ...] = (), check: Rule | None = None) -> Rule:
    """The rule of an element-wise function of one tensor: up to `extra` more positional
    numbers, or those numbers by `names`; `check(*args, **kwargs)` vets anything else."""

    def rule(*args: Any, **kwargs: Any) -> Any:
        if not args or len(args) > 1 + extra:
            return None
        x = args[0]
        if check is not None:
            if not check(*args, **kwargs):
                return None
        elif any(type(a) not in _NUMBER for a in args[1:]) or any(
            k not in names or type(v) not in _NUMBER for k, v in kwargs.items()
        ):
            return None
        if not _meta_float(x) or not _no_grad(x):
            return None
        return _like(x)

    return rule


def _gelu_args(x: Any, **kwargs: Any) -> bool:
    return all(k == "approximate" and v in ("none", "tanh") for k, v in kwargs.items())


def _hardtanh_args(x: Any, *args: Any, **kwargs: Any) -> bool:
    if any(type(a) not in _NUMBER for a in (*args, *kwargs.values())):
        return False
    if any(k not in ("min_val", "max_val") for k in kwargs):
        return False
    given = dict(zip(("min_val", "max_val"), args, strict=False))
    if set(given) & set(kwargs):
        return False
    given.update(kwargs)
    return given.get("min_val", -1.0) <= given.get("max_val", 1.0)


def dropout(*args: Any, **kwargs: Any) -> Any:
    """_VF.dropout/feature_dropout(input, p, train), as F.dropout* call them (p checked there).
    In training (0 < p ≤ 1) the CPU computes `input * noise`; otherwise it returns the input
    itself, which torch's kernel does as fast."""
    if kwargs or len(args) != 3:
        return None
    x, p, train = args
    if train is not True or type(p) not in _NUMBER or not 0 < p <= 1:
        return None
    if not _meta_float(x) or not _no_grad(x):
        return None
    return _like(x)


# ------------------------------------------------------------------------- arithmetic


def broadcast_refusal(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], str]:
    """The broadcast shape of `a` and `b`, or () and the CPU's refusal (aten infer_size)."""
    n = max(len(a), len(b))
    out = [0] * n
    for i in range(n - 1, -1, -1):
        offset = n - 1 - i
        da = a[len(a) - 1 - offset] if offset < len(a) else 1
        db = b[len(b) - 1 - offset] if offset < len(b) else 1
        if da != db and da != 1 and db != 1:
            return (), (
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                f"non-singleton dimension {i}"
            )
        out[i] = db if da == 1 else da
    return tuple(out), ""


def binary(*args: Any, **kwargs: Any) -> Any:
    """`a op b` for +, -, *, /: a meta float tensor with a Python number, or with a meta tensor
    of its dtype (broadcast). Two meta float tensors that do not broadcast get the CPU's words
    ("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension
    1"; meta says "Attempting to broadcast a dimension of length 4 at -1!")."""
    if kwargs or len(args) != 2:
        return None
    a, b = args
    if type(b) in _NUMBER:
        if _meta_float(a) and _no_grad(a):
            return _like(a)
        return None
    if not (_meta(a) and _meta(b)):
        return None
    sa, sb = a.shape, b.shape
    if sa == sb:
        shape: tuple[int, ...] = tuple(sa)
    else:
        shape, refusal = broadcast_refusal(tuple(sa), tuple(sb))
        if refusal:
            if a.is_floating_point() and b.is_floating_point():
                raise RuntimeError(refusal)
            return None
    if a.dtype != b.dtype or not a.is_floating_point() or not a.numel() or not b.numel():
        return None
    if not _no_grad(a, b):
        return None
    if sa == sb and a.stride() == b.stride():
        return _like(a)
    if a.is_contiguous() and b.is_contiguous():
        return _torch.empty(shape, dtype=a.dtype, device=a.device)
    return None


def reflected(*args: Any, **kwargs: Any) -> Any:
    """`number op a` (__radd__, __rmul__): the number's side only."""
    if kwargs or len(args) != 2 or type(args[1]) not in _NUMBER:
        return None
    return binary(*args)


def in_place(*args: Any, **kwargs: Any) -> Any:
    """`a op= b` for +=, -=, *=, /=: `a` itself, when the result fits it."""
    if kwargs or len(args) != 2:
        return None
    a, b = args
    if not (_meta_float(a) and _dense(a)):
        return None
    if type(b) in _NUMBER:
        return a if _no_grad(a) else None
    if not _meta(b):
        return None
    if a.shape != b.shape:
        shape, refusal = broadcast_refusal(tuple(a.shape), tuple(b.shape))
        if refusal:
            if b.is_floating_point():
                raise RuntimeError(refusal)
            return None
        if shape != tuple(a.shape):
            raise RuntimeError(
                f"output with shape {list(a.shape)} doesn't match the broadcast shape {list(shape)}"
            )
    if b.dtype != a.dtype or not b.numel() or not _no_grad(a, b):
        return None
    return a


# --------------------------------------------------------------------------- install


def fast(real: Any, rule: Rule) -> Any:
    """`real` with `rule` tried first (the rule's refusals are raised as they are)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        out = rule(*args, **kwargs)
        return real(*args, **kwargs) if out is None else out

    return call


def _targets(torch: Any) -> list[tuple[Any, str, Rule]]:
    """(owner, attribute, rule) of every call given a rule."""
    from torch.nn import functional

    nn_c = torch._C._nn
    targets: list[tuple[Any, str, Rule]] = [
        (torch, "batch_norm", batch_norm),
        (torch, "layer_norm", layer_norm),
        (torch, "group_norm", group_norm),
        (torch._VF, "dropout", dropout),
        (torch._VF, "feature_dropout", dropout),
    ]
    plain = _unary()
    for owner in (torch, torch.Tensor):
        targets += [(owner, name, plain) for name in ("relu", "sigmoid", "tanh")]
    targets += [(nn_c, n, plain) for n in ("silu", "hardswish", "mish", "hardsigmoid", "relu6")]
    targets += [
        (nn_c, "leaky_relu", _unary(1, ("negative_slope",))),
        (nn_c, "elu", _unary(3, ("alpha", "scale", "input_scale"))),
        (nn_c, "hardtanh", _unary(2, check=_hardtanh_args)),
        (nn_c, "gelu", _unary(check=_gelu_args)),
    ]
    if functional.gelu is nn_c.gelu:  # F.gelu is the builtin itself: keep it so
        targets.append((functional, "gelu", targets[-1][2]))
    targets += [(torch.Tensor, n, binary) for n in ("__sub__", "__mul__", "__truediv__")]
    targets += [(torch.Tensor, "__rmul__", reflected)]
    targets += [(torch.Tensor, n, in_place) for n in ("__isub__", "__imul__", "__itruediv__")]
    targets += [(torch, n, binary) for n in ("mul", "sub", "div")]
    return targets


def install(setattr_: Any) -> None:
    """Give the calls above their rules (undone with the other meta patches). Addition is
    given its rules by meta_patches, which also remembers its operands when it fails."""
    from deepeval_lsp.diagnostics.dynamic.child.meta_patches import disguise

    seen: dict[int, Any] = {}
    for owner, name, rule in _targets(_torch):
        real = getattr(owner, name)
        wrapper = seen.get(id(real))
        if wrapper is None:  # one wrapper per builtin (F.gelu is torch._C._nn.gelu)
            wrapper = seen[id(real)] = disguise(fast(real, rule), real)
        setattr_(owner, name, wrapper)
