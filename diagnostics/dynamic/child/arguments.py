"""The arguments the check passes to a model's constructor or factory function when the program
does not say (no dl_model(), no module-level model): the parameters' defaults, the file's own
configuration (a dataclass config built with its defaults, a dict literal whose keys cover what
the model reads), and conventional values for conventional names. What was not the program's
choice is listed as assumed, so a failure with it is not reported as the program's mistake.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass, field
from typing import Any

from deepeval_lsp.diagnostics.dynamic.child.layers import is_model, is_model_class
from deepeval_lsp.diagnostics.dynamic.child.run_state import MODULE_NAME

# Conventional parameter names and a plausible value each, the first match wins (the whole name
# is matched). Sizes are divisible by the usual head counts and patch sizes: 64 = 4 heads × 16 =
# 8 × 8, 32 = 8 patches of 4.
CONVENTIONAL: tuple[tuple[str, Any], ...] = (
    (r"(in|input|image|img|num|n)_?(channels|chans|ch)|channels", 3),
    (r"(num|n)_?classes|classes|num_labels|out_classes", 10),
    (r"(num|n)_?heads?|heads|nheads?|num_attention_heads", 4),
    (r"(\w+_)?depth|(num|n)_?(layers?|blocks)", 2),
    # a size per stage (keras_hub's `stackwise_num_filters`, `layerwise_depths`): two stages
    (r"(stackwise|layerwise)_\w+", [2, 2]),
    (r"rank", 4),
    (r"vocab(_size)?|(num|n)_?(tokens|vocab)|vocab_sz", 100),
    (r"(image|img|input)_?(size|res|resolution)|resolution", 32),
    (r"patch(_size)?", 4),
    (r"seq_?len(gth)?|max_?(seq_?)?len(gth)?|context_?(length|len|size)|block_size|n_?ctx", 16),
    (r"(p_?)?drop(out)?(_?(rate|prob|p))?|attn_drop|proj_drop", 0.0),
    (r"dim_?head|head_?dim", 16),
    (r"(pad|padding|unk|sos|eos|bos|cls|sep|mask)_?(idx|index|id|token_id|token_idx)", 0),
    (r"kernel(_?size)?|ksize", 3),
    (r"(\w+_)?stride", 1),
    (r"(num_)?frames", 4),
    (r"latent(_dim|_size)?|z_?dim|(n_)?latents?", 16),
    (
        r"dim|d_?model|(embed|emb|embedding|hidden|model)_?(dim|size)|n_?embd|width|features",
        64,
    ),
    (r"(out|hidden|base|mid|inner)_?(channels|chans|ch)", 64),
    (r"(use|is|with|has)_\w+", False),
    # (not `*_channels`: `encoder_channels` is a list as often as not)
    (r"\w+_(dim|size|features)", 64),
    (r"(num|n)_\w+", 2),
)
# Parameter names that take the program's configuration object.
CONFIG_NAMES = frozenset(
    {"config", "cfg", "conf", "args", "hparams", "params", "opt", "opts", "hp"}
)
# Arguments that keep the check from downloading weights: always passed when a parameter exists.
NO_DOWNLOAD: dict[str, Any] = {"weights": None, "pretrained": False}
# Parameter names that take another model (`GaussianDiffusion(model, …)`): the file's own model
# class that can be built is passed.
MODEL_NAMES = frozenset({"model", "net", "network", "backbone", "encoder", "denoise_fn", "unet"})
# The values assumed for an annotated parameter no name above matches.
BY_ANNOTATION: dict[str, Any] = {"int": 16, "float": 0.0, "bool": False}


@dataclass
class Arguments:
    """The keyword arguments for one call, how to show them, and which the check assumed."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    shown: list[str] = field(default_factory=list)  # "dim=64", "cfg=GPT_CONFIG_124M"
    assumed: list[str] = field(default_factory=list)  # parameter names the check chose
    missing: list[str] = field(default_factory=list)  # required parameters it could not fill

    def call(self, name: str) -> str:
        """The call as the user would write it: `Unet(dim=64)`."""
        return f"{name}({', '.join(self.shown)})"


def signature_of(obj: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def fill(
    obj: Any, ns: dict[str, Any], tree: ast.Module, owner: ast.AST | None, inner: bool = False
) -> Arguments:
    """The arguments for calling `obj` (a class or a function of the program); `owner` is its
    definition in `tree`, where the keys it reads of a config dict are looked up. `inner`: a
    model being filled for another one's model parameter (no further nesting)."""
    out = Arguments()
    sig = signature_of(obj)
    if sig is None:
        return out
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in NO_DOWNLOAD:
            value = NO_DOWNLOAD[p.name]
            if p.default is p.empty or p.default != value:
                out.kwargs[p.name] = value
                out.shown.append(f"{p.name}={value!r}")
            continue
        if p.default is not p.empty:
            continue
        if p.kind is p.POSITIONAL_ONLY:
            out.missing.append(p.name)
            continue
        found = _config(p, ns, tree, owner)
        if found is None and not inner and p.name.lower() in MODEL_NAMES:
            found = _inner_model(obj, ns, tree)
        if found is None:
            found = _conventional(p)
        if found is None:
            out.missing.append(p.name)
            continue
        value, shown = found
        out.kwargs[p.name] = value
        out.shown.append(f"{p.name}={shown}")
        out.assumed.append(p.name)
    return out


def _inner_model(outer: Any, ns: dict[str, Any], tree: ast.Module) -> tuple[Any, str] | None:
    """The file's first model class, other than `outer` and its kin, that builds with the
    arguments filled for it: the model a wrapper (a diffusion process, a trainer) takes."""
    defs = {s.name: s for s in tree.body if isinstance(s, ast.ClassDef)}
    for name, owner in defs.items():
        cls = ns.get(name)
        if not (_own_class(cls) and is_model_class(cls)) or cls is outer:
            continue
        if isinstance(outer, type) and (issubclass(cls, outer) or issubclass(outer, cls)):
            continue
        args = fill(cls, ns, tree, owner, inner=True)
        if args.missing:
            continue
        try:
            model = cls(**args.kwargs)
        except Exception:
            continue
        if is_model(model):
            return model, args.call(name)
    return None


def conventional_value(name: str) -> Any:
    """The conventional value of a parameter or variable called `name` (any case), or None."""
    name = name.lower()
    for pattern, value in CONVENTIONAL:
        if re.fullmatch(pattern, name):
            return list(value) if isinstance(value, list) else value  # each call its own list
    return None


def _conventional(p: inspect.Parameter) -> tuple[Any, str] | None:
    value = conventional_value(p.name)
    if value is not None:
        return value, repr(value)
    ann = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
    if ann in BY_ANNOTATION:
        return BY_ANNOTATION[ann], repr(BY_ANNOTATION[ann])
    return None


def _config(
    p: inspect.Parameter, ns: dict[str, Any], tree: ast.Module, owner: ast.AST | None
) -> tuple[Any, str] | None:
    """The program's own configuration for a config parameter: its annotated class or a config
    dataclass of the file, built with its defaults; else the file's dict literal that has every
    key `owner` reads of the parameter."""
    ann = p.annotation
    if isinstance(ann, str):
        ann = ns.get(ann)
    classes = [ann] if _own_class(ann) else []
    if p.name.lower() in CONFIG_NAMES or classes:
        classes += sorted(
            (v for v in ns.values() if _own_class(v) and hasattr(v, "__dataclass_fields__")),
            key=lambda c: not re.search(r"config|args|param", c.__name__, re.IGNORECASE),
        )
        for cls in classes:
            try:
                return cls(), f"{cls.__name__}()"
            except Exception:
                continue
    keys = _keys_read(owner, p.name) if owner is not None else set()
    if not keys:
        return None
    for name, node in _dict_literals(tree):
        if not keys <= {k.value for k in node.keys if isinstance(k, ast.Constant)}:
            continue
        value = ns.get(name)
        if isinstance(value, dict):
            return value, name
        # a dict written inside main() or a function: its values read the module, and those
        # computed from what the check does not run (the command line, a tokenizer) take the
        # conventional value of their key
        value, guessed = {}, []
        for k, v in zip(node.keys, node.values, strict=True):
            key = k.value  # type: ignore[union-attr]
            try:
                value[key] = eval(compile(ast.Expression(v), "<config>", "eval"), ns)
            except Exception:
                found = (
                    _conventional(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY))
                    if key.isidentifier()
                    else None
                )
                if found is None:
                    break
                value[key] = found[0]
                guessed.append(f"{key!r}: {found[1]}")
        else:
            return value, f"{{**{name}, {', '.join(guessed)}}}" if guessed else name
    return None


def _own_class(obj: Any) -> bool:
    return isinstance(obj, type) and getattr(obj, "__module__", "") == MODULE_NAME


def _keys_read(owner: ast.AST, name: str) -> set[str]:
    """The constant keys read as `name["key"]` in `owner`."""
    return {
        n.slice.value
        for n in ast.walk(owner)
        if isinstance(n, ast.Subscript)
        and isinstance(n.value, ast.Name)
        and n.value.id == name
        and isinstance(n.slice, ast.Constant)
        and isinstance(n.slice.value, str)
    }


def _dict_literals(tree: ast.Module) -> list[tuple[str, ast.Dict]]:
    """`NAME = {"key": value, …}` anywhere in the file, string keys only, in file order."""
    out = []
    for n in ast.walk(tree):
        if (
            isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name)
            and isinstance(n.value, ast.Dict)
            and n.value.keys
            and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in n.value.keys)
        ):
            out.append((n.targets[0].id, n.value))
    out.sort(key=lambda item: (item[1].lineno, item[1].col_offset))
    return out
