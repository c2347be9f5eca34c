"""What a layer or a model is (torch or Keras), its output's shape, its name as the user
writes it."""

from __future__ import annotations

import sys
from typing import Any

from deepeval_lsp.diagnostics.dynamic.child.run_state import Run


def is_torch_module(obj: Any) -> bool:
    """An nn.Module (torch is imported only by the program or the worker)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def is_keras_model(obj: Any) -> bool:
    """A keras.Model."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def is_model(obj: Any) -> bool:
    """A torch or Keras model."""
    return is_torch_module(obj) or is_keras_model(obj)


def is_keras_layer(obj: Any) -> bool:
    """A Keras layer."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.layers.Layer)


def is_layer(obj: Any) -> bool:
    """A torch module or a Keras layer."""
    # On the torch backend Keras layers are nn.Modules too.
    return is_torch_module(obj) or is_keras_layer(obj)


def is_model_class(cls: type) -> bool:
    """A subclass of nn.Module or keras.Model."""
    torch = sys.modules.get("torch")
    keras = sys.modules.get("keras")
    return bool(
        (torch and issubclass(cls, torch.nn.Module)) or (keras and issubclass(cls, keras.Model))
    )


def out_shape(out: Any) -> list[Any] | None:
    """The shape of a tensor (the first of a tuple, list or dict of them), None where unknown."""
    if hasattr(out, "shape"):
        return [None if d is None else int(d) for d in out.shape]
    if isinstance(out, tuple | list) and out:
        return out_shape(out[0])
    if isinstance(out, dict) and out:
        return out_shape(next(iter(out.values())))
    return None


def layer_name(run: Run, layer: Any) -> str:
    """`features[3] (Conv2d)`: the layer as the user would name it, with its class."""
    cls = type(layer).__name__
    if not is_keras_layer(layer) and is_torch_module(run.model):
        for name, m in run.model.named_modules():
            if m is layer:
                shown = _display(name)
                if shown.startswith("[") and (run.entry or "").isidentifier():
                    shown = f"{run.entry}{shown}"  # model[3], as the user would index it
                return f"{shown} ({cls})" if name else cls
    name = getattr(layer, "name", None)
    if isinstance(name, str) and name:
        return f"{name} ({cls})"
    return cls


def _display(name: str) -> str:
    """`layers.0.conv` -> `layers[0].conv`; `3` -> `[3]` (how the user would index it)."""
    out = ""
    for part in name.split("."):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out
