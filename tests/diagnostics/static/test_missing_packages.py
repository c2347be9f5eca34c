"""Static pass: a real package that is not installed here is a note, a module that exists nowhere
is an error."""

from __future__ import annotations

import importlib.util
import textwrap

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check

OPTS = CheckOptions(dynamic=False)


def run(src: str):
    return check(textwrap.dedent(src), "model.py", OPTS).diagnostics


@pytest.mark.parametrize(
    "statement",
    [
        "import gymnasium as gym",
        "import munch",
        "import keras_hub",
        "from timm.layers import DropPath",
        "from einx import dot",
    ],
)
def test_a_real_package_not_installed_is_information(statement: str) -> None:
    top = statement.split()[1].split(".")[0]
    if importlib.util.find_spec(top) is not None:
        pytest.skip(f"{top} is installed here")
    (d,) = run(f"{statement}\n")
    assert d.code == "DL401" and d.severity == "information"
    assert d.message == (
        f"`{top}` is not installed here: its names are not checked, "
        "and the model is built with stand-ins"
    )


def test_one_note_for_each_package_however_often_imported() -> None:
    if importlib.util.find_spec("gymnasium") is not None:
        pytest.skip("gymnasium is installed here")
    got = run("import gymnasium\nfrom gymnasium import spaces\nimport gymnasium.wrappers\n")
    assert [d.code for d in got] == ["DL401"]


def test_a_module_that_is_no_real_package_is_still_an_error() -> None:
    (d,) = run("import torch_utils_pro\nfrom torch_utils_pro.layers import Block\n")
    assert d.code == "DL102" and d.severity == "error"
    assert d.message == "no module named `torch_utils_pro` is installed"
