"""Static pass against the installed torch and keras: members, imports, signatures, values."""

from __future__ import annotations

import textwrap

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.text import apply_edits

OPTS = CheckOptions(dynamic=False)


def run(src: str):
    return check(textwrap.dedent(src), "model.py", OPTS).diagnostics


@pytest.mark.parametrize(
    ("prelude", "expr", "bad", "good"),
    [
        ("import torch.nn as nn", "nn.Conv2D(3, 8, 3)", "Conv2D", "Conv2d"),
        ("from torch import nn", "nn.Conv2D(3, 8, 3)", "Conv2D", "Conv2d"),
        ("import torch", "torch.nn.Conv2D(3, 8, 3)", "Conv2D", "Conv2d"),
        ("import torch.nn.functional as F", "F.softmax2", "softmax2", "softmax"),
        ("from torch.nn import functional as F", "F.relu6x", "relu6x", "relu6"),
        ("from keras import layers", "layers.Conv2d(8, 3)", "Conv2d", "Conv2D"),
        ("import keras", "keras.layers.Conv2d(8, 3)", "Conv2d", "Conv2D"),
        ("import tensorflow as tf", "tf.keras.layers.Conv2d(8, 3)", "Conv2d", "Conv2D"),
        ("from tensorflow.keras import layers", "layers.MaxPool2d(2)", "MaxPool2d", "MaxPool2D"),
        ("import torch.nn as nn\nL = nn", "L.Conv2D(3, 8, 3)", "Conv2D", "Conv2d"),
    ],
)
def test_nonexistent_member_through_aliases(prelude: str, expr: str, bad: str, good: str) -> None:
    src = f"{prelude}\ny = {expr}\n"
    errors = [d for d in run(src) if d.severity == "error"]
    assert [d.code for d in errors] == ["DL104"]
    (d,) = errors
    assert d.dl_error == "Non-Existent API Attribute Access" and d.python_error == "AttributeError"
    line = src.splitlines()[d.range.start.line]
    assert line[d.range.start.character : d.range.end.character] == bad
    assert f"did you mean `{good}`" in d.message
    assert d.fixes[0].verified
    fixed = apply_edits(src, d.fixes[0].edits)
    assert [x for x in run(fixed) if x.severity == "error"] == []


def test_members_of_user_objects_are_not_checked() -> None:
    src = """\
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 2, 3)

            def forward(self, x):
                return self.conv(x).whatever.we_like

        nn = Net()
        y = nn.Conv2D
        """
    assert run(src) == []


def test_nonexistent_imports() -> None:
    ds = run(
        """\
        from keras.layers import Dense, Conv2d
        from torch.nn import Conv2D as C
        import torch.nn.foo
        from keras.layers.advanced import Dense
        import surely_not_a_real_package_xyz
        import torchvision
        """
    )
    got = [(d.code, d.range.start.line) for d in ds if d.severity == "error"]
    assert got == [("DL103", 0), ("DL103", 1), ("DL102", 2), ("DL102", 3), ("DL102", 4)]
    assert "did you mean `Conv2D`" in ds[0].message
    assert (
        ds[0].dl_error == "Non-Existent API Import"
        and ds[2].dl_error == "Non-Existent Module Import"
    )


def test_import_fix_renames_uses_too() -> None:
    src = "from keras.layers import Conv2d\nx = Conv2d(8, 3)\n"
    (d,) = run(src)
    fixed = apply_edits(src, d.preferred_fix.edits)
    assert fixed == "from keras.layers import Conv2D\nx = Conv2D(8, 3)\n"


def test_keras2_only_members_are_explained() -> None:
    (d,) = run("from keras import backend as K\ns = K.int_shape\n")
    assert d.code == "DL104" and "Keras 2 API" in d.message


def test_keras2_api_is_no_finding_when_keras_is_keras2() -> None:
    # --paper-compat reads `keras` as the study's Keras 2: what tf.keras has exists
    src = (
        "from keras import backend as K\n"
        "from keras.preprocessing.image import ImageDataGenerator\n"
        "from keras.layers import Conv2d\n"
        "s = K.int_shape\n"
    )
    assert [d.code for d in run(src)] == ["DL103", "DL103", "DL104"]
    paper = check(src, "model.py", CheckOptions(dynamic=False, paper_compat=True)).diagnostics
    assert [(d.code, "Conv2d" in d.message) for d in paper] == [("DL103", True)]


def test_call_signatures() -> None:
    ds = run(
        """\
        import torch.nn as nn
        from keras import layers

        a = nn.Conv2d(3, 16, kernal_size=3)
        b = nn.Linear(4, 2, True, None, None, 99)
        c = nn.BatchNorm2d()
        d = layers.Conv2D(32, kernal_size=3)
        e = layers.Dense(units=4, activaton="relu")
        f = nn.Linear(4, 2, in_features=3)
        g = layers.Dense(4, input_shape=(3,), name="d")
        """
    )
    got = [(d.code, d.range.start.line) for d in ds]
    assert got == [
        ("DL204", 3),
        ("DL204", 4),
        ("DL203", 5),
        ("DL204", 6),
        ("DL204", 7),
        ("DL204", 8),
    ]
    assert "did you mean `kernel_size`" in ds[0].message
    # the misspelled keyword is not also reported as a missing `kernel_size`
    assert "at most 5 positional" in ds[1].message
    assert "num_features" in ds[2].message and ds[2].dl_error == "Missing API Argument"
    assert "multiple values" in ds[5].message


def test_tf_keras_accepts_keras2_keywords() -> None:
    src = "from tensorflow.keras.layers import Embedding\ne = Embedding(100, 8, input_length=10)\n"
    assert run(src) == []
    # Keras 3 takes input_length out of its kwargs too (and warns): the call runs.
    src = "from keras.layers import Embedding\ne = Embedding(100, 8, input_length=10)\n"
    assert run(src) == []
    src = "from keras.layers import Embedding\ne = Embedding(100, 8, bogus_length=10)\n"
    assert [d.code for d in run(src)] == ["DL204"]


def test_keywords_a_constructor_reads_from_its_kwargs_are_accepted() -> None:
    """nn.RNN(*args, **kwargs) takes `nonlinearity` out of kwargs itself; what it passes on to
    RNNBase is still a closed set, so a keyword no one reads is still refused (as torch does)."""
    import torch.nn as nn

    nn.RNN(4, 8, nonlinearity="relu")  # the real API takes it
    with pytest.raises(TypeError):
        nn.LSTM(4, 8, bogus=2)
    assert run("import torch.nn as nn\nr = nn.RNN(4, 8, nonlinearity='relu')\n") == []
    found = run("import torch.nn as nn\nr = nn.LSTM(4, 8, bogus=2)\n")
    assert [d.code for d in found] == ["DL204"]


def test_starred_calls_are_not_bound() -> None:
    assert run("import torch.nn as nn\nargs = (1, 2)\nkw = {}\nx = nn.Linear(*args, **kw)\n") == []


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        ('layers.Dense(10, activation="relu6x")', "unknown activation 'relu6x'"),
        ('layers.Conv2D(8, 3, padding="full")', "padding='full'"),
        ('layers.Conv2D(8, 3, kernel_initializer="he_normall")', "unknown initializer"),
        ("layers.Dense(-3)", "`units` must be positive"),
        ("layers.Dropout(1.5)", "between 0 and 1"),
        ("layers.Conv2D(8, 0)", "`kernel_size` must be positive"),
        ("nn.Linear(-1, 10)", "`in_features` must be non-negative"),
        ("nn.Linear(128.0, 10)", "must be an integer"),
        ("nn.Dropout(p=2)", "between 0 and 1"),
        ('nn.Conv2d(3, 8, 3, stride=2, padding="same")', "strided"),
        ('nn.Conv2d(3, 8, 3, padding_mode="zero")', "padding_mode='zero'"),
        ("nn.Conv2d(3, 8, 3, groups=2)", "divisible by `groups`"),
        ("nn.MultiheadAttention(100, 3)", "divisible by `num_heads`"),
        (
            'nn.TransformerEncoderLayer(d_model=64, nhead=8, activation="swish")',
            "activation='swish'",
        ),
    ],
)
def test_invalid_literal_values(call: str, fragment: str) -> None:
    ds = run(f"import torch.nn as nn\nfrom keras import layers\nx = {call}\n")
    assert len(ds) == 1, ds
    (d,) = ds
    assert d.code in ("DL201", "DL202") and fragment in d.message
    assert d.range.start.line == 2


def test_value_fix_is_verified() -> None:
    src = 'from keras import layers\nx = layers.Dense(10, activation="softmaxx")\n'
    (d,) = run(src)
    assert d.preferred_fix is not None
    assert run(apply_edits(src, d.preferred_fix.edits)) == []


def test_all_mistakes_reported_in_one_run() -> None:
    src = """\
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2D(1, 8, 3)
                self.conv2 = nn.Conv2d(8, 16, kernal_size=3)
                self.fc = nn.Linear(16, 10)

            def forward(self, x):
                return F.softmax(self.fc(x), dim=1)
        """
    assert sorted(d.code for d in run(src)) == ["DL101", "DL104", "DL204"]


def test_user_module_imports_are_read_with_jedi(tmp_path) -> None:
    (tmp_path / "blocks.py").write_text("import torch\nclass ResBlock: ...\ndef make(): ...\n")
    main = tmp_path / "main.py"
    src = "from blocks import ResBlock, make, ResBlok\nimport blocks\n"
    ds = check(src, str(main), OPTS).diagnostics
    assert [(d.code, d.message.split(";")[0]) for d in ds] == [
        ("DL103", "cannot import `ResBlok` from `blocks` (blocks.py defines no such name)")
    ]
    assert "did you mean `ResBlock`" in ds[0].message


def test_a_file_written_for_keras2_gets_warnings_not_errors() -> None:
    # Keras 2 code (keras.engine, K.int_shape) fails only on Keras 3: which Keras the user
    # runs is not known, so its findings are warnings that say so
    src = (
        "from keras.engine import Layer\n"
        "from keras import backend as K\n"
        "def f(x):\n"
        "    return K.int_shape(x), K.in_train_phase(x, x)\n"
    )
    found = run(src)
    assert [(d.code, d.severity.value) for d in found] == [
        ("DL102", "warning"),
        ("DL104", "warning"),
        ("DL104", "warning"),
    ]
    assert "written for Keras 2" in found[0].message


def test_a_keras3_file_keeps_its_errors() -> None:
    (d,) = run("import keras\nx = keras.layers.Conv2d(8, 3)\n")
    assert d.code == "DL104" and d.severity.value == "error"
