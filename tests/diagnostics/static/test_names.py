"""Static pass: undefined names, missing imports with their fixes, scopes, unbound locals."""

from __future__ import annotations

import textwrap

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.text import apply_edits

OPTS = CheckOptions(dynamic=False)


def run(src: str):
    return check(textwrap.dedent(src), "model.py", OPTS).diagnostics


def codes(src: str) -> list[str]:
    return [d.code for d in run(src)]


@pytest.mark.parametrize(
    ("name", "statement"),
    [
        ("torch", "import torch"),
        ("nn", "import torch.nn as nn"),
        ("F", "import torch.nn.functional as F"),
        ("np", "import numpy as np"),
        ("optim", "import torch.optim as optim"),
        ("math", "import math"),
    ],
)
def test_missing_import_gets_conventional_import(name: str, statement: str) -> None:
    (d,) = run(f"x = {name}.something\n")
    assert d.code == "DL101"
    assert d.dl_error == "Missing API Import" and d.python_error == "NameError"
    assert d.root_cause == "Import"
    assert d.range.start.line == 0 and d.range.start.character == 4
    (fix,) = d.fixes
    assert fix.edits[0].new_text == statement + "\n"


def test_keras_names_come_from_keras_or_tf_keras() -> None:
    src = "from keras.models import Model\nx = Conv2D(8, 3)\ny = layers.Dense(3)\n"
    ds = run(src)
    assert [d.code for d in ds] == ["DL101", "DL101"]
    assert ds[0].fixes[0].title == "Add `from keras.layers import Conv2D`"
    assert ds[1].fixes[0].edits[0].new_text == "from keras import layers\n"
    tf_src = "from tensorflow.keras.layers import Dense\nx = Conv2D(8, 3)\n"
    (d,) = run(tf_src)
    # extends the existing `from tensorflow.keras.layers import …` line
    assert apply_edits(tf_src, d.fixes[0].edits).splitlines()[0] == (
        "from tensorflow.keras.layers import Dense, Conv2D"
    )


def test_fix_all_missing_imports_leaves_clean_file() -> None:
    src = textwrap.dedent(
        '''\
        """Doc."""
        import torch


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return F.relu(self.fc(x)) + np.pi
        '''
    )
    ds = check(src, "m.py", OPTS).diagnostics
    assert sorted({d.code for d in ds}) == ["DL101"]
    assert all(f.verified for d in ds for f in d.fixes)
    fixed = apply_edits(src, [e for d in ds for e in d.preferred_fix.edits])
    assert fixed.splitlines()[1:5] == [
        "import torch",
        "import torch.nn as nn",
        "import torch.nn.functional as F",
        "import numpy as np",
    ]
    assert check(fixed, "m.py", OPTS).diagnostics == []


def test_undefined_variable_with_did_you_mean() -> None:
    ds = run(
        """\
        def dl_model():
            hidden_units = 64
            return hiden_units + totally_unknown
        """
    )
    assert [d.code for d in ds] == ["DL004", "DL004"]
    assert ds[0].dl_error == "Undefined Variable" and ds[0].root_cause == "Syntax"
    assert "did you mean `hidden_units`" in ds[0].message
    assert ds[1].fixes == ()


def test_scopes_are_respected() -> None:
    src = """\
        import torch
        from torch import nn

        LIMIT = 3

        class Net(nn.Module):
            size = 4
            doubled = [i * 2 for i in range(size)]

            def forward(self, x, *args, scale=1, **kw):
                global counter
                counter = 1
                total = sum(v for v in args if (w := v) > 0)
                def inner():
                    nonlocal total
                    total += LIMIT
                    return w
                try:
                    pass
                except ValueError as err:
                    print(err)
                with open("f") as fh:
                    fh.read()
                for i, (a, b) in enumerate(kw.items()):
                    print(i, a, b)
                lam = lambda q, r=scale: q + r
                return x * scale + total + lam(1) + inner() + len(__file__)

        def uses_counter():
            return counter
        """
    assert codes(src) == []
    # class-body names are invisible inside methods and comprehensions
    assert codes("class A:\n    size = 3\n    def f(self):\n        return size\n") == ["DL004"]
    assert codes("class A:\n    size = 3\n    d = [size for _ in range(2)]\n") == ["DL004"]


def test_star_import_from_framework_defines_names_and_unknown_star_silences() -> None:
    assert codes("from torch.nn import *\nx = Conv2d(1, 2, 3)\n") == []
    assert codes("from keras.layers import *\nx = Dense(3)\ny = Nope\n") == ["DL004"]
    assert codes("from tests.diagnostics.siblings import *\ny = anything_at_all\n") == []


def test_local_read_before_assignment() -> None:
    ds = run(
        """\
        from keras import layers

        def dl_model():
            x = layers.Dense(10)(x)
            return x

        def fine(n):
            for i in range(n):
                if i:
                    print(y)
                y = i
            return n
        """
    )
    assert [(d.code, d.range.start.line) for d in ds] == [("DL003", 3)]
    assert ds[0].python_error == "UnboundLocalError"


def test_syntax_error_location_and_invalid_return() -> None:
    (d,) = run("def f(:\n    pass\n")
    assert d.code == "DL001" and d.range.start.line == 0 and d.range.start.character == 6
    (d,) = run("x = 1\nreturn x\n")
    assert d.code == "DL002" and d.dl_error == "Invalid Return Statement"
    assert d.range.start.line == 1
