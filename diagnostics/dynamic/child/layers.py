"""What a layer or a model is (torch or Keras), its output's shape, its name as the user
writes it."""

from __future__ import annotations

import sys
from typing import Any

from deepeval_lsp.diagnostics.dynamic.child.run_state import Run


def is_torch_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def is_keras_model(obj: Any) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def is_model(obj: Any) -> bool:
    return is_torch_module(obj) or is_keras_model(obj)


def is_keras_layer(obj: Any) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.layers.Layer)


def is_layer(obj: Any) -> bool:
    # On the torch backend Keras layers are nn.Modules too.
    return is_torch_module(obj) or is_keras_layer(obj)


def is_model_class(cls: type) -> bool:
    torch = sys.modules.get("torch")
    keras = sys.modules.get("keras")
    return bool(
        (torch and issubclass(cls, torch.nn.Module)) or (keras and issubclass(cls, keras.Model))
    )


def out_shape(out: Any) -> list[Any] | None:
    if hasattr(out, "shape"):
        return [None if d is None else int(d) for d in out.shape]
    if isinstance(out, tuple | list) and out:
        return out_shape(out[0])
    if isinstance(out, dict) and out:
        return out_shape(next(iter(out.values())))
    return None


def layer_name(run: Run, layer: Any) -> str:
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
