"""The input shape to run a model's forward with, when the program does not build it with one:
the task's, a `# deepeval: input=` pragma, the user's, shape annotations on forward, the
data set the text names, guesses from the first layer.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from typing import Any

from deepeval_lsp.diagnostics import datasets
from deepeval_lsp.diagnostics.dynamic.child.run_state import Run
from deepeval_lsp.diagnostics.dynamic.wire import JobPayload
from deepeval_lsp.diagnostics.pragmas import parse_pragmas

BATCH = 2  # batch 1 would make `x.squeeze()` drop the batch dimension


def pragma_shapes(source: str) -> list[tuple[int, ...]] | None:
    """The shapes of a `# deepeval: input=(1, 3, 32, 32)` (or `input=[(…), (…)]`) comment."""
    given = parse_pragmas(source).get("input")
    if not given:
        return None
    try:
        value = ast.literal_eval(given)
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, tuple | list) and value and all(isinstance(v, int) for v in value):
        return [tuple(value)]
    if isinstance(value, tuple | list) and all(isinstance(v, tuple | list) for v in value):
        return [tuple(int(x) for x in v) for v in value]
    return None


def dataset_shape(text: str) -> tuple[int, int, int] | None:
    """(channels, height, width) of the image data set the text names."""
    found = datasets.named_in(text)
    return found.image_chw if found is not None else None


def annotation_shapes(model: Any) -> list[tuple[int, ...]] | None:
    """jaxtyping-style `x: Float[Tensor, "batch 3 32 32"]` on forward."""
    try:
        src = inspect.getsource(type(model).forward)
    except (OSError, TypeError):
        return None
    m = re.search(r"\w+\s*:\s*\w+\[\s*\w+\s*,\s*[\"']([^\"']+)[\"']\s*\]", src)
    if not m:
        return None
    dims: list[int] = []
    for i, tok in enumerate(m.group(1).split()):
        if tok.isdigit():
            dims.append(int(tok))
        elif i == 0:
            dims.append(BATCH)
        else:
            return None
    return [tuple(dims)]


def first_leaf(model: Any) -> Any:
    """The first layer forward would run (a leaf of torch.nn, or an attention or RNN block)."""
    for m in model.modules():
        if not list(m.children()) and type(m).__module__.startswith("torch.nn"):
            return m
        if type(m).__name__ in ("MultiheadAttention", "TransformerEncoderLayer", "LSTM", "GRU"):
            return m
    return None


def guesses_from_layer(layer: Any) -> tuple[list[list[tuple[int, ...]]], str, bool]:
    """Candidate inputs from the first layer's declared inputs: (candidates, words, integer)."""
    name = type(layer).__name__
    if name in ("Conv1d",):
        c = layer.in_channels
        return [[(BATCH, c, s)] for s in (64, 128, 32, 100, 256)], f"{name}(in_channels={c})", False
    if name in ("Conv2d", "ConvTranspose2d"):
        c = layer.in_channels
        return (
            [[(BATCH, c, s, s)] for s in (32, 28, 64, 224, 96, 128, 256, 16)],
            f"{name}(in_channels={c})",
            False,
        )
    if name == "Conv3d":
        c = layer.in_channels
        return [[(BATCH, c, s, s, s)] for s in (16, 32, 8)], f"{name}(in_channels={c})", False
    if name == "Linear":
        return [[(BATCH, layer.in_features)]], f"Linear(in_features={layer.in_features})", False
    if name in ("Embedding", "EmbeddingBag"):
        return [[(BATCH, 16)]], f"{name}({layer.num_embeddings}, …)", True
    if name in ("LSTM", "GRU", "RNN"):
        shape = (BATCH, 8, layer.input_size) if layer.batch_first else (8, BATCH, layer.input_size)
        return [[shape]], f"{name}(input_size={layer.input_size})", False
    if name in ("BatchNorm1d",):
        return [[(BATCH, layer.num_features)]], f"{name}({layer.num_features})", False
    if name in ("BatchNorm2d",):
        return (
            [[(BATCH, layer.num_features, s, s)] for s in (32, 28, 64)],
            f"{name}({layer.num_features})",
            False,
        )
    if name == "LayerNorm":
        d = tuple(layer.normalized_shape)
        return [[(BATCH, 8, *d)]], f"LayerNorm({d})", False
    if name == "TransformerEncoderLayer":
        d = layer.self_attn.embed_dim
        bf = getattr(layer.self_attn, "batch_first", False)
        return [[(BATCH, 8, d) if bf else (8, BATCH, d)]], f"{name}(d_model={d})", False
    if name == "MultiheadAttention":
        d = layer.embed_dim
        shape = (BATCH, 8, d) if layer.batch_first else (8, BATCH, d)
        return [[shape, shape, shape]], f"MultiheadAttention({d}, …)", False
    return [], name, False


def torch_candidates(
    run: Run, model: Any, payload: JobPayload
) -> tuple[list[list[tuple[int, ...]]], str | None, bool]:
    """Input shapes to try, in order; the note saying where they come from when guessed; and
    whether the inputs are integers (token ids for an embedding)."""
    first = first_leaf(model)
    integer = type(first).__name__ in ("Embedding", "EmbeddingBag")
    typed = payload.get("inputs")
    if typed:  # a task's own spec: every input with its dtype
        shapes = [tuple(spec[0]) for spec in typed]
        run.input_dtypes = [str(spec[1]) for spec in typed]
        return [shapes], None, integer
    pragma = pragma_shapes(run.source)
    if pragma:
        return [pragma], None, integer
    given = payload.get("input_shape")
    if given:  # stated by the user: it wins over any guess
        return [[tuple(given)]], None, integer
    ann = annotation_shapes(model)
    if ann:
        return [ann], None, integer
    text = " ".join(filter(None, [payload.get("requirement") or "", run.source]))
    ds = dataset_shape(text)
    if ds:
        cands = [[(BATCH, *ds)]]
        if type(first).__name__ == "Linear" and first.in_features == math.prod(ds):
            cands.insert(0, [(BATCH, math.prod(ds))])
        return (
            cands,
            f"input shape {cands[0][0]} assumed from the dataset named in the file",
            integer,
        )
    if first is None:
        return [], None, False
    cands, words, integer = guesses_from_layer(first)
    if not cands:
        return [], None, False
    return (
        cands,
        (
            f"input shape {cands[0][0]} assumed from the first layer, {words}; set it with "
            "a `# deepeval: input=(…)` comment"
        ),
        integer,
    )
