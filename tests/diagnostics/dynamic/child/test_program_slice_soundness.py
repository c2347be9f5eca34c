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


def test_a_model_built_on_dropped_data_is_a_note_not_a_name_error(tmp_path) -> None:
    result = _run(tmp_path, HALF_PIPELINE)
    assert _errors(result) == []
    [note] = result["errors"]
    assert note["code"] == T.NOT_CHECKABLE and "n_features (line 7)" in note["message"]
    assert note["python_error"] != "NameError"


def test_a_torch_model_sized_by_loaded_data_is_a_note(tmp_path) -> None:
    result = _run(
        tmp_path,
        """\
        import numpy as np
        import torch.nn as nn

        x_train = np.load("x.npy")
        n_in = x_train.shape[1]
        model = nn.Sequential(nn.Linear(n_in, 4), nn.ReLU(), nn.Linear(4, 2))
        """,
    )
    assert _errors(result) == []
    assert any("n_in (line 5)" in e["message"] for e in result["errors"])


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
