"""The input shape to run a model's forward with, when the program does not build it with one:
the task's, a `# deepeval: input=` pragma, the user's, shape annotations on forward, the
data set the text names, guesses from the first layer.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from dataclasses import dataclass
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
        if not type(m).__module__.startswith("torch.nn"):
            continue  # the program's own `class LSTM(nn.Module)` is no torch LSTM
        if not list(m.children()):
            return m
        if type(m).__name__ in ("MultiheadAttention", "TransformerEncoderLayer", "LSTM", "GRU"):
            return m
    return None


def guesses_from_layer(layer: Any) -> tuple[list[list[tuple[int, ...]]], str, bool]:
    """Candidate inputs from the first layer's declared inputs: (candidates, words, integer)."""
    name = type(layer).__name__
    if not type(layer).__module__.startswith("torch.nn"):
        return [], name, False
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
        # token ids batch first, then sequence first (`text.permute(1, 0)` in the model)
        return [[(BATCH, 16)], [(16, BATCH)]], f"{name}({layer.num_embeddings}, …)", True
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


@dataclass
class Candidates:
    """The inputs to try forward with, in order, and where they come from."""

    shapes: list[list[tuple[int, ...]]]
    note: str | None = None  # said in the result when the shape was guessed
    why: str | None = None  # why this guess: "the file names MNIST", "the first layer, …"
    integer: bool = False  # token ids for an embedding
    free: tuple[int, ...] = ()  # dims of the first input whose size is a guess (not the layer's)
    first: Any = None  # the first layer, whose declared inputs the guess follows

    def varied(self, at: int = 0) -> list[tuple[int, ...]]:
        """Candidate `at` with every guessed size doubled (the other inputs as they are)."""
        first, *rest = self.shapes[at]
        return [tuple(d * 2 if i in self.free else d for i, d in enumerate(first)), *rest]

    @property
    def guessed(self) -> bool:
        return self.why is not None


def torch_candidates(run: Run, model: Any, payload: JobPayload) -> Candidates:
    """Input shapes to try, in order; the note and the reason when they are guessed; and
    whether the inputs are integers (token ids for an embedding)."""
    first = first_leaf(model)
    integer = type(first).__name__ in ("Embedding", "EmbeddingBag")
    typed = payload.get("inputs")
    if typed:  # a task's own spec: every input with its dtype
        shapes = [tuple(spec[0]) for spec in typed]
        run.input_dtypes = [str(spec[1]) for spec in typed]
        return Candidates([shapes], integer=integer)
    pragma = pragma_shapes(run.source)
    if pragma:
        return Candidates([pragma], integer=integer)
    given = payload.get("input_shape")
    if given:  # stated by the user: it wins over any guess
        return Candidates([[tuple(given)]], integer=integer)
    ann = annotation_shapes(model)
    if ann:
        return Candidates([ann], integer=integer)
    text = " ".join(filter(None, [payload.get("requirement") or "", run.source]))
    found = datasets.named_in(text)
    ds = found.image_chw if found is not None else None
    if found is not None and ds:
        cands = [[(BATCH, *ds)]]
        if type(first).__name__ == "Linear" and first.in_features == math.prod(ds):
            cands.insert(0, [(BATCH, math.prod(ds))])
        name = found.study_names[0] if found.study_names else found.name
        return Candidates(
            cands,
            f"input shape {cands[0][0]} assumed from the dataset named in the file",
            f"the file names {name}",
            integer,
            tuple(range(2, len(cands[0][0]))),
            first,
        )
    if first is None:
        return Candidates([])
    cands, words, integer = guesses_from_layer(first)
    if not cands:
        return Candidates([])
    return Candidates(
        cands,
        (
            f"input shape {cands[0][0]} assumed from the first layer, {words}; set it with "
            "a `# deepeval: input=(…)` comment"
        ),
        f"from the first layer, {words}",
        integer,
        free_dims(first, cands[0][0]),
        first,
    )


def free_dims(layer: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The dims of a guess from `layer` (guesses_from_layer) that the layer does not fix: the
    spatial ones of a convolution, the steps of a sequence."""
    name = type(layer).__name__
    if name.startswith(("Conv", "BatchNorm2d")):
        return tuple(range(2, len(shape)))
    if name in ("Embedding", "EmbeddingBag"):
        return (1,)
    if name in ("LSTM", "GRU", "RNN"):
        return (1,) if layer.batch_first else (0,)
    if name in ("TransformerEncoderLayer", "MultiheadAttention"):
        return (1,) if shape[0] == BATCH else (0,)
    if name == "LayerNorm":
        return tuple(range(1, len(shape) - len(layer.normalized_shape)))
    return ()


# Names of forward's parameters and what the check gives them when it has no shape for them.
_MASK = re.compile(r"mask", re.I)
_STEP = re.compile(r"^(t|ts|timesteps?|times?|steps?|sigmas?|noise_levels?)$", re.I)
_LABEL = re.compile(r"^(y|labels?|class(es)?|class_labels?|targets?|cls)$", re.I)
# forward's parameters that take the length of each sequence of the batch
LENGTHS = re.compile(r"(^|_)(lengths?|lens|seq_lens|src_len)$", re.I)
# forward's parameters that take a number: a probability, a rate, a temperature
RATIO = re.compile(r"ratio|prob|rate$|temperature|^(p|alpha|beta|gamma|eps|tau)$", re.I)
_FEATURES = re.compile(
    r"context|cond|emb|memory|feat|latent|hidden|state|image|img|noise|audio|^(x|z|h|c)$", re.I
)


def extra_inputs(model: Any, given: int) -> tuple[list[str], list[str]] | None:
    """forward's required positional parameters beyond the `given` first ones, and its required
    keyword-only ones (the check gives each a tensor guessed from its name); None when forward's
    signature cannot be read."""
    try:
        sig = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return None
    positional = [
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    keyword = [
        p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    ]
    return positional[given:], keyword


def max_positional(model: Any) -> int | None:
    """How many positional inputs forward takes (None: any number, or unknown)."""
    try:
        sig = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def guessed_input(
    name: str, like: tuple[int, ...], like_dtype: str = "float32"
) -> tuple[tuple[int, ...], str]:
    """(shape, dtype) of a tensor for forward's parameter `name`, next to a first input of shape
    `like` and dtype `like_dtype`: a mask has its batch and positions, a time step or label one
    value per sample, anything else the first input's shape; its dtype too (a target sequence
    of token ids, `forward(src, trg)`) but for what reads as features (a context, a condition)."""
    batch = like[0] if like else BATCH
    if _MASK.search(name):
        if len(like) >= 4:  # (N, C, H, W): a mask per pixel
            return (batch, *like[2:]), "bool"
        return tuple(like[:2]) or (batch,), "bool"
    if _STEP.match(name):
        return (batch,), "int64"
    if _LABEL.match(name):
        return (batch,), "int64"
    if like_dtype == "int64" and not _FEATURES.search(name):
        return tuple(like), "int64"
    return tuple(like), "float32"
