"""Build the program's model and run it: forward for torch (with the input shapes of
input_shapes), build, summary() and compile() for Keras (as the study did)."""

from __future__ import annotations

from typing import Any

from deepeval_lsp.diagnostics.dynamic.child.entry_point import find_model
from deepeval_lsp.diagnostics.dynamic.child.input_shapes import (
    BATCH,
    dataset_shape,
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


def run_torch(run: Run, model: Any, payload: JobPayload) -> None:
    """Run forward with the first candidate inputs that work (the first one's error otherwise)."""
    import torch

    model.eval()
    candidates, note, integer = torch_candidates(run, model, payload)
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
    for i, shapes in enumerate(candidates):
        dtypes = run.input_dtypes or ["int64" if integer else "float32"] * len(shapes)
        inputs = [
            torch.zeros(s, dtype=torch.long) if d.startswith("int") else torch.empty(s)
            for s, d in zip(shapes, dtypes, strict=False)
        ]
        records: dict[int, dict[str, Any]] = {}
        run.records = records
        hooks = summary_hooks(run, records)
        try:
            out = model(*inputs)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            if first_error is None:
                first_error = e
            if i + 1 < len(candidates) and note is not None:
                continue
            raise first_error from None
        finally:
            for h in hooks:
                h.remove()
        if note is not None and i > 0:
            note = note.replace(str(candidates[0][0]), str(shapes[0]))
        run.input_note = note
        run.summary = torch_summary(run, model, shapes, out_shape(out), records)
        run.outputs = forward_outputs(run, out)
        return


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
        elif payload.get("input_shape"):
            shape = tuple(payload["input_shape"])
        if shape is not None:
            model(keras.ops.zeros(shape))
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
