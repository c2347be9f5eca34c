"""Build the program's model and run it: forward for torch (with the input shapes of
input_shapes), build, summary() and compile() for Keras (as the study did)."""

from __future__ import annotations

import re
from math import gcd, prod
from typing import Any

from deepeval_lsp.diagnostics.dynamic.child.entry_point import find_model, sizes_assumed
from deepeval_lsp.diagnostics.dynamic.child.input_shapes import (
    BATCH,
    LENGTHS,
    RATIO,
    dataset_shape,
    extra_inputs,
    guessed_input,
    max_positional,
    pragma_shapes,
    torch_candidates,
)
from deepeval_lsp.diagnostics.dynamic.child.layers import (
    is_keras_model,
    is_torch_module,
    out_shape,
)
from deepeval_lsp.diagnostics.dynamic.child.plan import Plan
from deepeval_lsp.diagnostics.dynamic.child.run_state import (
    Run,
    entry_line,
    not_checkable,
)
from deepeval_lsp.diagnostics.dynamic.child.summary import (
    forward_outputs,
    keras_summary,
    summary_hooks,
    torch_summary,
)
from deepeval_lsp.diagnostics.dynamic.wire import JobPayload


def build_and_run(run: Run, ns: dict[str, Any], plan: Plan, payload: JobPayload, sl: Any) -> None:
    """Find the model (entry_point) and run it: torch forward, or Keras build, summary, compile."""
    model = find_model(run, ns, plan, sl)
    if model is None:
        return
    run.model = model
    if is_keras_model(model):
        run.framework = "keras"
        run_keras(run, model, payload, plan.entry_kind == "dl_model")
    elif is_torch_module(model):
        run.framework = "torch"
        run_torch(run, model, payload)
    else:
        run.notes.append(f"{run.entry} returned {type(model).__name__}, not a model")
        return
    if run.assumed_sizes:
        run.notes.append(sizes_assumed(run))


def run_torch(run: Run, model: Any, payload: JobPayload) -> None:
    """Run forward with the first candidate inputs that work (the first one's error otherwise).

    forward's further required inputs (a mask, a time step, a condition) get tensors guessed
    from their names. While forward runs on a guessed input, `run.guess` says so: a failure
    then is the guess's as much as the program's, and is reported as not checkable."""
    import torch

    model.eval()
    cands = torch_candidates(run, model, payload)
    candidates = cands.shapes
    note = cands.note
    if not candidates:
        line = entry_line(run)
        run.info.append(
            not_checkable(
                line,
                run.lines,
                "input shape unknown: add a `# deepeval: "
                "input=(1, 3, 32, 32)` comment (or --input-shape) to check the "
                "forward pass",
            )
        )
        run.summary = torch_summary(run, model, None, [], {})
        run.undecided = True
        return
    first_error: BaseException | None = None
    # the failing guess that ran furthest (most modules returned): a guess too small fails in
    # the first layers, before the mistake that every size that fits then meets
    furthest: tuple[int, BaseException, int] | None = None
    for i, shapes in enumerate(candidates):
        dtypes = run.input_dtypes or ["int64" if cands.integer else "float32"] * len(shapes)
        inputs = [_tensor(torch, s, d) for s, d in zip(shapes, dtypes, strict=False)]
        kwargs: dict[str, Any] = {}
        named = _named_inputs(torch, model, inputs, shapes, dtypes, kwargs, cands.guessed)
        if i == 0:
            run.guess = _guess_words(cands.why, shapes, named)
        records: dict[int, dict[str, Any]] = {}
        run.records = records
        hooks = summary_hooks(run, records)
        try:
            out = model(*inputs, **kwargs)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            if first_error is None:
                first_error = e
            if furthest is None or len(records) > furthest[0]:
                furthest = (len(records), e, i)
            if i + 1 < len(candidates) and cands.guessed:
                continue
            at = 0
            if cands.guessed and furthest[1] is not first_error:
                _, first_error, at = furthest
                run.guess = _guess_words(cands.why, candidates[at], named)
            if cands.guessed and not named and _fails_alike(run, model, cands, first_error, at):
                run.guess = None  # no guessed size makes it: the program's own failure
            raise first_error from None
        finally:
            for h in hooks:
                h.remove()
        run.guess = None
        if note is not None and i > 0:
            note = note.replace(str(candidates[0][0]), str(shapes[0]))
        run.input_note = note
        if named:
            guessed = ", ".join(f"`{n}` {_shown(t)}" for n, t in named)
            run.notes.append(f"forward's further inputs were guessed from their names: {guessed}")
        run.summary = torch_summary(run, model, shapes, out_shape(out), records)
        run.outputs = forward_outputs(run, out)
        return


# a tensor shape quoted in an error ("expected input[2, 64, 36, 36] to have 128 channels")
_SHAPE_LIST = re.compile(r"\[\d+(?:, \d+)+\]")


# a product's operands: "got [32, 384] X [192, 96]" (meta), "(32x384 and 192x96)" (CPU)
_PRODUCT = re.compile(r"got \[(?:\d+, )*(\d+)\] X \[(\d+)(?:, \d+)*\]|\(\d+x(\d+) and (\d+)x\d+\)")
_NUMBER = re.compile(r"\d+")
# a view that does not fit: "shape '[2, 16, 4, 96]' is invalid for input of size 3072"
_VIEW = re.compile(r"shape '\[([\d, ]+)\]' is invalid for input of size (\d+)")


def _same_words(a: str, b: str) -> bool:
    """The same message, or the same but for sizes that follow the guess while the sizes in
    conflict stay: the channels a layer wants and gets (named outside the shapes quoted); a
    product's inner sizes (its rows are batch × steps); a view's size ratio to its input."""
    if a == b:
        return True
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    pa, pb = _PRODUCT.search(a), _PRODUCT.search(b)
    if pa and pb:
        return [g for g in pa.groups() if g] == [g for g in pb.groups() if g]
    va, vb = _VIEW.search(a), _VIEW.search(b)
    if va and vb:
        return _view_ratio(va) is not None and _view_ratio(va) == _view_ratio(vb)
    masked = _SHAPE_LIST.sub("[…]", a)
    return masked == _SHAPE_LIST.sub("[…]", b) and any(c.isdigit() for c in masked)


def _view_ratio(m: re.Match[str]) -> tuple[int, int] | None:
    """Input size over the view's size, as a reduced fraction (None with a -1 in the view)."""
    dims = [int(d) for d in m.group(1).split(",")]
    wanted, size = prod(dims), int(m.group(2))
    if wanted <= 0:
        return None
    g = gcd(wanted, size)
    return size // g, wanted // g


def _fails_alike(run: Run, model: Any, cands: Any, error: BaseException, at: int = 0) -> bool:
    """Does forward fail the same way (same exception, same line, same words but for the
    tensor shapes they quote) with every guessed size of candidate `at` doubled, and not in the
    first layer, whose declared inputs the guess follows? Then the failure does not come from
    the sizes the check guessed. (A message whose every size is in the shapes it quotes, as
    "got [2, 1800] X [177608, 1000]", must match exactly: those are the guess's sizes.)"""
    import torch

    if _failing_layer(error) is cands.first:
        return False
    shapes = cands.varied(at)
    if shapes == cands.shapes[at]:
        return True
    dtypes = run.input_dtypes or ["int64" if cands.integer else "float32"] * len(shapes)
    # the layers' records stay those of the run being reported
    saved = {k: dict(v) for k, v in run.records.items()}
    try:
        model(*[_tensor(torch, s, d) for s, d in zip(shapes, dtypes, strict=False)])
    except Exception as e:
        return (
            type(e) is type(error)
            and _same_words(str(e), str(error))
            and _user_line(run, e) == _user_line(run, error)
        )
    finally:
        run.records.clear()
        run.records.update(saved)
    return False


def _failing_layer(exc: BaseException) -> Any:
    """The innermost module whose method is on the exception's stack."""
    from torch import nn

    found = None
    tb = exc.__traceback__
    while tb is not None:
        obj = tb.tb_frame.f_locals.get("self")
        if isinstance(obj, nn.Module):
            found = obj
        tb = tb.tb_next
    return found


def _user_line(run: Run, exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == run.path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _tensor(torch: Any, shape: tuple[int, ...], dtype: str) -> Any:
    if dtype == "bool":
        return torch.zeros(shape, dtype=torch.bool)
    if dtype.startswith("int"):
        return torch.zeros(shape, dtype=torch.long)
    return torch.empty(shape)


def _named_inputs(
    torch: Any,
    model: Any,
    inputs: list[Any],
    shapes: list[tuple[int, ...]],
    dtypes: list[str],
    kwargs: dict[str, Any],
    guessed: bool,
) -> list[tuple[str, Any]]:
    """Complete `inputs` (and `kwargs`) with a tensor for each further required input of
    forward, guessed from its name; drop guessed inputs forward does not take. The guessed
    ones, by name."""
    if guessed:
        most = max_positional(model)
        if most is not None and 0 < most < len(inputs):
            del inputs[most:]
    extra = extra_inputs(model, len(inputs))
    if extra is None or not shapes:
        return []
    positional, keyword = extra
    named = []
    for name in positional + keyword:
        if RATIO.search(name):
            t: Any = 0.5  # `teacher_forcing_ratio`, `mask_prob`: a number, not a tensor
        elif LENGTHS.search(name) and len(shapes[0]) >= 2:
            # a sequence length per sample, as pack_padded_sequence wants them: on the CPU
            t = torch.full(shapes[0][:1], shapes[0][1], dtype=torch.long, device="cpu")
        else:
            shape, dtype = guessed_input(name, shapes[0], dtypes[0] if dtypes else "float32")
            t = _tensor(torch, shape, dtype)
        named.append((name, t))
        if name in keyword:
            kwargs[name] = t
        else:
            inputs.append(t)
    return named


def _guess_words(why: str | None, shapes: list[tuple[int, ...]], named: list[Any]) -> str | None:
    """How a failure under guessed inputs begins ("built with guessed input … (why)"); None
    when every input is known."""
    parts = []
    if why is not None:
        shown = ", ".join(str(s) for s in shapes)
        parts.append(f"built with guessed input {shown} ({why})")
    if named:
        guessed = ", ".join(f"`{n}` {_shown(t)}" for n, t in named)
        parts.append(f"forward's further inputs guessed from their names: {guessed}")
    return "; ".join(parts) or None


def run_keras(run: Run, model: Any, payload: JobPayload, study_contract: bool) -> None:
    """Build the model if it is not built (from a pragma, the data set named or the user's shape),
    then summary() and compile() as the study did."""
    import keras

    if not model.built:
        shape = None
        pragma = pragma_shapes(run.source)
        text = " ".join(filter(None, [payload.get("requirement") or "", run.source]))
        ds = dataset_shape(text)
        if pragma:
            shape = pragma[0]
        elif ds:
            shape = (BATCH, ds[1], ds[2], ds[0])
            run.input_note = f"input shape {shape} assumed from the dataset named in the file"
            run.guess = f"built with guessed input {shape} (the dataset named in the file)"
        elif payload.get("input_shape"):
            shape = tuple(payload["input_shape"])
        if shape is not None:
            model(keras.ops.zeros(shape))
            run.guess = None
        elif not study_contract:
            run.info.append(
                not_checkable(
                    entry_line(run),
                    run.lines,
                    "input shape unknown: the model is not built; add an Input(…) "
                    "or a `# deepeval: input=(…)` comment to check it",
                )
            )
            run.undecided = True
            return
    if not model.built:
        # What the study's summary() call catches ("This model has not yet been built"); on a
        # built model it renders a rich table (~half of a Keras check) that finds nothing more
        # than walking the layers below does.
        model.summary(print_fn=lambda *a, **k: None)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    run.summary = keras_summary(run, model)


def _shown(value: Any) -> str:
    """A guessed input as a note shows it: a tensor by its shape, a number as itself."""
    shape = getattr(value, "shape", None)
    return str(tuple(shape)) if shape is not None else repr(value)
