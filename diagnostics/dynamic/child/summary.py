"""The model summary (layers, shapes, parameters), the forward hooks that record it, and the
layers that set the sizes of forward's outputs.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from deepeval_lsp.diagnostics.dynamic.child.layers import layer_name, out_shape
from deepeval_lsp.diagnostics.dynamic.child.run_state import Run, site_range
from deepeval_lsp.diagnostics.dynamic.wire import OutputRecord, SummaryRecord

# Layers whose literal argument sets one dimension of their output: (argument, positional index,
# dimension of the output it sets).
_SIZE_SETTERS = {
    "Linear": ("out_features", 1, -1),
    "Bilinear": ("out_features", 2, -1),
    "Conv1d": ("out_channels", 1, 1),
    "Conv2d": ("out_channels", 1, 1),
    "Conv3d": ("out_channels", 1, 1),
    "ConvTranspose1d": ("out_channels", 1, 1),
    "ConvTranspose2d": ("out_channels", 1, 1),
    "ConvTranspose3d": ("out_channels", 1, 1),
}


def forward_outputs(run: Run, out: Any) -> list[OutputRecord] | None:
    """Each output tensor of forward (several when it returns a tuple or list): its shape and,
    when one is found, the layer whose size argument gave its size at that argument's dim."""
    tensors = list(out) if isinstance(out, tuple | list) else [out]
    if not tensors or not all(hasattr(t, "shape") for t in tensors):
        return None
    found = []
    for t in tensors:
        shape = [int(d) for d in t.shape]
        item: OutputRecord = {"shape": shape}
        # the layer that made this very tensor, else the last one run whose size it carries
        made = run.producers.get(id(t))
        for m in [made, *(run.producers.get(id(o)) for o in reversed(run.alive))]:
            setter = _SIZE_SETTERS.get(type(m).__name__) if m is not None else None
            if setter is None:
                continue
            param, _, dim = setter
            if len(shape) < 2 or shape[dim] != getattr(m, param, None):
                continue
            if (
                m is not made
                and dim != -1
                and len(shape) != len(run.records.get(id(m), {}).get("output") or [])
            ):
                continue
            item.update(
                layer=layer_name(run, m),
                type=type(m).__name__,
                param=param,
                dim=dim,
                range=site_range(run, m),
            )
            break
        found.append(item)
    return found


def summary_hooks(run: Run, records: dict[int, dict[str, Any]]) -> list[Any]:
    """Global forward hooks recording each module's input and output shapes and the line that
    called it into `records`, and which module made each tensor."""
    from torch.nn.modules import module as mod

    def pre(m: Any, args: Any) -> None:
        if args and hasattr(args[0], "shape"):
            run.inputs_of[id(m)] = args[0]
        if id(m) in records:
            records[id(m)]["last"] = [out_shape(a) for a in args if hasattr(a, "shape")]
            return
        line = None
        f = sys._getframe(1)
        while f is not None:
            if f.f_code.co_filename == run.path:
                line = f.f_lineno - 1
                break
            f = f.f_back
        records[id(m)] = {
            "input": out_shape(args[0]) if args else None,
            "line": line,
            "order": len(records),
            "last": [out_shape(a) for a in args if hasattr(a, "shape")],
        }

    def post(m: Any, args: Any, out: Any) -> None:
        if hasattr(out, "shape"):
            run.producers.setdefault(id(out), m)  # the innermost module made it
            run.alive.append(out)  # keeps ids unique while the forward runs
        rec = records.get(id(m))
        if rec is not None and "output" not in rec:
            rec["output"] = out_shape(out)

    return [mod.register_module_forward_pre_hook(pre), mod.register_module_forward_hook(post)]


def torch_summary(
    run: Run, model: Any, shapes: Any, out: Any, records: dict[int, dict[str, Any]]
) -> SummaryRecord:
    """The summary of a torch model: the modules forward ran (and the root), with their shapes."""
    layers = []
    counts = _parameter_counts(model)
    for name, m in model.named_modules():
        rec = records.get(id(m))
        if name and rec is None:
            continue
        layers.append(
            {
                "name": name or type(m).__name__,
                "type": type(m).__name__,
                "input_shape": rec.get("input") if rec else None,
                "output_shape": rec.get("output") if rec else None,
                "params": counts[id(m)]
                if counts is not None
                else sum(p.numel() for p in m.parameters()),
                "depth": name.count(".") + 1 if name else 0,
                "range": site_range(run, m),
                "line": rec.get("line") if rec else None,
                "_order": rec["order"] if rec else -1,
            }
        )
    for layer in layers:
        layer.pop("_order")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "framework": "torch",
        "entry_point": run.entry or "",
        "input_shapes": [list(s) for s in shapes or []],
        "output_shape": out,
        "total_params": total,
        "trainable_params": trainable,
        "layers": layers,
    }


def _parameter_counts(model: Any) -> dict[int, int] | None:
    """`sum(p.numel() for p in m.parameters())` of every module, in one walk from the leaves up
    (per module, that sum walks the module's whole subtree: quadratic in a deep model's
    nesting). None when a module or a parameter is shared: `parameters()` counts it once."""
    modules = [m for _, m in model.named_modules(remove_duplicate=False)]
    if len({id(m) for m in modules}) != len(modules):
        return None
    own: dict[int, int] = {}
    seen: set[int] = set()
    for m in modules:
        n = 0
        for p in m._parameters.values():
            if p is None:
                continue
            if id(p) in seen:
                return None
            seen.add(id(p))
            n += p.numel()
        own[id(m)] = n
    counts: dict[int, int] = {}
    for m in reversed(modules):  # each module after its descendants
        counts[id(m)] = own[id(m)] + sum(counts[id(c)] for c in m.children())
    return counts


def keras_summary(run: Run, model: Any) -> SummaryRecord:
    """The summary of a built Keras model."""
    layers = []
    for layer in model.layers:
        try:
            out = out_shape(layer.output)
        except (AttributeError, ValueError, RuntimeError):
            out = None
        try:
            inp = out_shape(layer.input)
        except (AttributeError, ValueError, RuntimeError):
            inp = None
        try:
            params = int(layer.count_params())
        except ValueError:
            params = 0
        layers.append(
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "input_shape": inp,
                "output_shape": out,
                "params": params,
                "depth": 1,
                "range": site_range(run, layer),
                "line": None,
            }
        )
    try:
        inputs = [out_shape(t) for t in model.inputs]
        output = out_shape(model.outputs[0]) if model.outputs else None
    except (AttributeError, ValueError):
        inputs, output = [], None
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return {
        "framework": "keras",
        "entry_point": run.entry or "",
        "input_shapes": inputs,
        "output_shape": output,
        "total_params": int(model.count_params()),
        "trainable_params": int(trainable),
        "layers": layers,
    }
