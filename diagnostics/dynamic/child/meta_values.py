"""Real values for the small tensors a program builds from Python numbers, on the meta device.

A meta tensor has a shape and no values, so `.item()` and `.tolist()` on it fail. Models read
values back from tensors they made only from numbers, e.g. timm's drop-path rates
`[x.item() for x in torch.linspace(0, rate, sum(depths))]`: such a factory call (no tensor
argument, no explicit device, few elements) is computed on the CPU as well, and the meta tensor
it gives carries those values, so reading them back (`item`, `tolist`, `int`, `float`, `bool`,
iteration and indexing) gives the program what it would get on a real device. Any other
operation gives a plain meta tensor, whose values stay unknown as before.
"""

from __future__ import annotations

import math
from typing import Any

VALUES_ATTR = "_deepeval_values"  # on a meta tensor: the same tensor's values, on the CPU
MAX_ELEMENTS = 4096
_NUMBER = (int, float, bool)


def _count(data: Any, limit: int) -> int | None:
    """Elements of nested lists/tuples of Python numbers (None: something else, or over limit)."""
    if isinstance(data, _NUMBER):
        return 1
    if not isinstance(data, list | tuple):
        return None
    total = 0
    for item in data:
        n = _count(item, limit - total)
        if n is None:
            return None
        total += n
        if total > limit:
            return None
    return total


def _size(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int | None:
    """How many elements the factory call gives, when computing it is cheap and its arguments
    are Python numbers only."""
    if "out" in kwargs or "device" in kwargs:
        return None
    if name == "tensor":
        return _count(args[0], MAX_ELEMENTS) if len(args) == 1 else None
    if not all(isinstance(a, _NUMBER) for a in (*args, kwargs.get("steps", 0))):
        return None
    if name in ("linspace", "logspace"):
        steps = args[2] if len(args) > 2 else kwargs.get("steps")
        return steps if isinstance(steps, int) else None
    # arange(end), arange(start, end), arange(start, end, step)
    start, end, step = 0, None, 1
    if len(args) == 1:
        end = args[0]
    elif len(args) >= 2:
        start, end = args[0], args[1]
        step = args[2] if len(args) > 2 else kwargs.get("step", 1)
    end = kwargs.get("end", end)
    if end is None or not step:
        return None
    return max(0, math.ceil((end - start) / step))


def _with_values(torch: Any, cpu: Any) -> Any:
    meta = torch.empty_like(cpu, device="meta")
    setattr(meta, VALUES_ATTR, cpu)
    return meta


def _factory(torch: Any, name: str, real: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> Any:
        n = _size(name, args, kwargs)
        if n is None or n > MAX_ELEMENTS:
            return real(*args, **kwargs)
        out = real(*args, **kwargs)
        if getattr(out, "device", None) is None or out.device.type != "meta":
            return out
        try:
            cpu = real(*args, **kwargs, device="cpu")
        except Exception:
            return out
        setattr(out, VALUES_ATTR, cpu)
        return out

    return factory


def _reader(name: str, real: Any) -> Any:
    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        cpu = self.__dict__.get(VALUES_ATTR) if hasattr(self, "__dict__") else None
        return (
            getattr(cpu, name)(*args, **kwargs) if cpu is not None else real(self, *args, **kwargs)
        )

    return read


def install(setattr_: Any) -> None:
    """Patch the factories and the readers of torch (undone with the other meta patches)."""
    import torch

    # invisible like every meta patch (TorchScript compiles the aten op, not the wrapper)
    from deepeval_lsp.diagnostics.dynamic.child.meta_patches import disguise
    from torch.utils import _device

    # `with torch.device("meta")` knows the factories by identity, from a set it makes once:
    # made now, it holds the real ones (a wrapper calls them, and they still land on meta).
    _device._device_constructors()
    for name in ("linspace", "logspace", "arange", "tensor"):
        real = getattr(torch, name)
        setattr_(torch, name, disguise(_factory(torch, name, real), real))
    for name in ("item", "tolist", "__int__", "__float__", "__bool__", "__index__"):
        real = getattr(torch.Tensor, name)
        setattr_(torch.Tensor, name, disguise(_reader(name, real), real))
    real_iter = torch.Tensor.__iter__
    real_getitem = torch.Tensor.__getitem__

    def iterate(self: Any) -> Any:
        cpu = self.__dict__.get(VALUES_ATTR)
        if cpu is None or cpu.dim() == 0:
            return real_iter(self)
        return iter([_with_values(torch, row) for row in cpu.unbind(0)])

    def getitem(self: Any, index: Any) -> Any:
        cpu = self.__dict__.get(VALUES_ATTR)
        if cpu is None or isinstance(index, torch.Tensor):
            return real_getitem(self, index)
        return _with_values(torch, real_getitem(cpu, index))

    setattr_(torch.Tensor, "__iter__", disguise(iterate, real_iter))
    setattr_(torch.Tensor, "__getitem__", disguise(getitem, real_getitem))
