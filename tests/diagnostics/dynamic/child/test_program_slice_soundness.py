"""The slice runs what it keeps with its inputs: the patterns of real scripts whose slice used to
fail (half a data pipeline, a model saved and loaded back, a guarded import), and module-level
calls of a model on data the script builds itself, whose shape faults are the program's own."""

from __future__ import annotations

import ast
import os
import textwrap

import pytest
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child import program_slice as ps
from deepeval_lsp.diagnostics.dynamic.child.job import run_job

os.environ.setdefault("KERAS_BACKEND", "torch")


def _run(tmp_path, source: str):
    source = textwrap.dedent(source)
    path = tmp_path / "prog.py"
    path.write_text(source)
    return run_job({"source": source, "path": str(path)})


def _errors(result) -> list[tuple[str, int]]:
    return [
        (e["code"], e["range"][0] + 1) for e in result["errors"] if e["code"] != T.NOT_CHECKABLE
    ]


HALF_PIPELINE = """\
import numpy as np
import tensorflow as tf
from tensorflow import keras

train_data = tf.data.Dataset.from_tensor_slices((np.zeros((100, 8)), np.zeros(100)))
train_data = train_data.shuffle(100).batch(32)
n_features = train_data.element_spec[0].shape[-1]

model = keras.Sequential([keras.layers.Dense(16, input_shape=(n_features,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(train_data, epochs=2)
"""


def test_half_a_data_pipeline_is_not_run() -> None:
    sl = ps.slice_program(ast.parse(HALF_PIPELINE))
    kept = {n.lineno for n in sl.module.body}
    assert 6 not in kept and 7 not in kept  # they read what line 5 alone binds
    assert sl.stand_ins == {"n_features": 7}  # train_data: no kept code reads it


def test_a_model_sized_by_dropped_data_is_built_with_a_conventional_size_said(tmp_path) -> None:
    result = _run(tmp_path, HALF_PIPELINE)
    assert result["errors"] == []
    assert result["summary"]["input_shapes"] == [[None, 64]]
    assert "built with n_features=64 (line 7) assumed by the check" in " ".join(result["notes"])


def test_a_size_read_off_data_under_a_name_of_no_convention_is_a_note(tmp_path) -> None:
    result = _run(
        tmp_path,
        """\
        import numpy as np
        import torch.nn as nn

        x_train = np.load("x.npy")
        width_of_rows = x_train.shape[1]
        model = nn.Sequential(nn.Linear(width_of_rows, 4), nn.ReLU(), nn.Linear(4, 2))
        """,
    )
    assert _errors(result) == []
    assert any("width_of_rows (line 5)" in e["message"] for e in result["errors"])


def test_a_failure_with_an_assumed_size_is_a_note_that_says_so(tmp_path) -> None:
    # vocab_size = len(vocab) is assumed (100); the model's own Linear(32, …) then meets the
    # embedding's 16: a real mistake, but the run had a size the program did not choose
    result = _run(
        tmp_path,
        """\
        import torch
        import torch.nn as nn

        vocab = torch.load("vocab.pt")
        vocab_size = len(vocab)
        model = nn.Sequential(nn.Embedding(vocab_size, 16), nn.Linear(32, 2))
        """,
    )
    assert _errors(result) == []
    [note] = [e for e in result["errors"] if "vocab_size=100 (line 5)" in e["message"]]
    assert note["code"] == T.NOT_CHECKABLE and "the model failed" in note["message"]


def test_sizes_are_what_only_a_size_expression_binds() -> None:
    sl = ps.slice_program(
        ast.parse(
            textwrap.dedent(
                """\
                import torch
                import torch.nn as nn

                data = torch.load("d.pt")
                input_dim = len(data.vocab)
                pad_idx = data.vocab.stoi["<pad>"] + 0
                hidden_dim = data.hidden(3)
                model = nn.Sequential(nn.Embedding(input_dim, 8, pad_idx), nn.Linear(8, hidden_dim))
                """
            )
        )
    )
    assert sl.sizes == {"input_dim", "pad_idx"}  # a call of the data's own is no size
    assert set(sl.stand_ins) == {"input_dim", "pad_idx", "hidden_dim"}


def test_a_loader_factory_is_not_taken_for_the_model(tmp_path) -> None:
    source = """\
    import torch
    import torch.nn as nn

    train_data = torch.load("train.pt")
    vocab_size = len(train_data.vocab)

    def get_data_loader(dataset, batch_size):
        return torch.utils.data.DataLoader(dataset, batch_size=batch_size)

    train_loader = get_data_loader(train_data, 8)
    model = nn.Sequential(nn.Embedding(vocab_size, 8), nn.Linear(8, 2))
    """
    sl = ps.slice_program(ast.parse(textwrap.dedent(source)))
    assert sl.model_vars == ["model"]
    assert 10 not in {n.lineno for n in sl.module.body}
    result = _run(tmp_path, source)
    assert result["errors"] == [] and result["summary"]["input_shapes"] == [[2, 16]]


def test_a_total_augmented_in_a_loop_after_its_dropped_start_is_dropped_too() -> None:
    sl = ps.slice_program(
        ast.parse(
            textwrap.dedent(
                """\
                import torch

                weights = torch.load("w.pt")
                total = torch.zeros(weights.shape)
                for i, w in enumerate([torch.ones(3), torch.ones(3)]):
                    total += w
                """
            )
        )
    )
    assert {n.lineno for n in sl.module.body} == {1}


def test_a_name_error_for_a_dropped_name_is_a_note(tmp_path) -> None:
    # `hidden` is read before the kept `hidden = 8` binds it: only the dropped line 4 binds it
    # above, so the run meets its stand-in, not a NameError.
    result = _run(
        tmp_path,
        """\
        import numpy as np
        import torch.nn as nn

        hidden = np.load("h.npy").shape[0]
        model = nn.Sequential(nn.Linear(4, hidden), nn.Linear(hidden, 2))
        hidden = 8
        """,
    )
    assert _errors(result) == []


def test_a_saved_and_reloaded_keras_model_is_the_model_built_before(tmp_path) -> None:
    source = """\
    from tensorflow import keras

    model = keras.Sequential([keras.layers.Dense(16, input_shape=(8,)), keras.layers.Dense(1)])
    path = "my_model.keras"
    model.save(path)
    model = keras.models.load_model(path)
    """
    sl = ps.slice_program(ast.parse(textwrap.dedent(source)))
    assert {n.lineno for n in sl.module.body} == {1, 3, 4}
    result = _run(tmp_path, source)
    assert result["errors"] == [] and result["executable"] is True


def test_a_saved_and_reloaded_torch_model_is_the_model_built_before(tmp_path) -> None:
    source = """\
    import torch
    import torch.nn as nn

    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    torch.save(model, "model.pt")
    model = torch.load("model.pt")
    with open("log.txt", "w") as f:
        f.write("saved")
    """
    sl = ps.slice_program(ast.parse(textwrap.dedent(source)))
    assert {n.lineno for n in sl.module.body} == {1, 2, 4}
    assert _run(tmp_path, source)["errors"] == []


def test_a_guarded_import_is_kept_whole(tmp_path) -> None:
    source = """\
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        print("torch is required")
        raise


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 2)

        def forward(self, x):
            return self.fc(x)
    """
    sl = ps.slice_program(ast.parse(textwrap.dedent(source)))
    assert isinstance(sl.module.body[0], ast.Try)
    result = _run(tmp_path, source)
    assert result["errors"] == [] and result["entry"] == "Net()"


# The first bug report: nn.Linear applied at module level to a tensor made from a numpy array of
# the wrong width (4 columns, the layer takes 5).
LINEAR_ON_NUMPY = """\
import numpy as np
import torch
import torch.nn as nn

data = np.random.rand(10, 4)
X = torch.from_numpy(data).float()
layer = nn.Linear(5, 3)
out = layer(X)
print(out.shape)
"""


def test_a_linear_layer_on_a_numpy_tensor_of_the_wrong_width_fails_at_its_line(tmp_path) -> None:
    result = _run(tmp_path, LINEAR_ON_NUMPY)
    assert _errors(result)[0] == (T.SHAPE_MISMATCH, 8)
    assert "10x4 and 5x3" in result["errors"][0]["message"]


def test_the_same_script_of_the_right_width_is_clean(tmp_path) -> None:
    result = _run(tmp_path, LINEAR_ON_NUMPY.replace("nn.Linear(5, 3)", "nn.Linear(4, 3)"))
    assert result["errors"] == []


def test_an_inline_layer_on_module_level_data_is_checked(tmp_path) -> None:
    source = """\
    import torch
    import torch.nn as nn

    x = torch.randn(4, 3, 32, 32).view(4, -1)
    out = nn.Linear(3 * 32, 10)(x)
    """
    sl = ps.slice_program(ast.parse(textwrap.dedent(source)))
    assert sl.model_calls == [5]
    assert _errors(_run(tmp_path, source)) == [(T.SHAPE_MISMATCH, 5)]
    assert _run(tmp_path, source.replace("3 * 32,", "3 * 32 * 32,"))["errors"] == []


# The second bug report: a seq2seq nn.Transformer fed a target built with a hard-coded batch
# size that is not the source's.
TRANSFORMER = """\
import torch
import torch.nn as nn

BATCH_SIZE = 16


class Seq2Seq(nn.Module):
    def __init__(self, d_model=512):
        super().__init__()
        self.transformer = nn.Transformer(
            d_model=d_model, nhead=8, num_encoder_layers=2, num_decoder_layers=2
        )

    def forward(self, src, tgt):
        return self.transformer(src, tgt)


model = Seq2Seq()
src = torch.rand(10, 32, 512)
tgt = torch.rand(20, BATCH_SIZE, 512)
out = model(src, tgt)
"""


def test_a_transformer_fed_a_hard_coded_batch_fails_where_the_batches_meet(tmp_path) -> None:
    result = _run(tmp_path, TRANSFORMER)
    errors = _errors(result)
    assert errors and errors[0][1] == 15  # in forward, called from line 21 with the script's data
    assert "batch number of src and tgt must be equal" in result["errors"][0]["message"]
    fixed = TRANSFORMER.replace("BATCH_SIZE = 16", "BATCH_SIZE = 32")
    # the script's own call runs clean (what the check then guesses for forward is another matter)
    assert not [line for _, line in _errors(_run(tmp_path, fixed)) if line in (15, 21)]


@pytest.mark.parametrize(
    "data",
    [
        "import pandas as pd\nX = torch.tensor(pd.read_csv('x.csv').values)",
        "X = torch.tensor(np.load('x.npy'))",
        "X = torch.randn(10, 4)\nX = preprocess(X)",
    ],
)
def test_a_model_call_on_data_from_elsewhere_is_not_run(data: str) -> None:
    source = (
        "import numpy as np\nimport torch\nimport torch.nn as nn\n"
        "def preprocess(v):\n    return v\n"
        f"{data}\nmodel = nn.Sequential(nn.Linear(5, 3))\nout = model(X)\n"
    )
    sl = ps.slice_program(ast.parse(source))
    assert sl.model_calls == []
    assert "out = model(X)" not in ast.unparse(sl.module)


def test_a_statement_reading_a_name_last_bound_by_a_dropped_statement_is_dropped() -> None:
    # line 3 is kept, but line 4 rebinds series from data: line 5 reads that, not the list
    source = """\
    import tensorflow as tf

    series = [0, 1, 2, 3]
    series = tf.data.Dataset.range(7)
    windows = series.window(3)
    size = len(series)
    """
    sl = ps.slice_program(ast.parse(textwrap.dedent(source)))
    assert {n.lineno for n in sl.module.body} == {1, 3}
