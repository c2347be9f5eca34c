"""Finding the model a program defines, in the order of DESIGN.md §4."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from deepeval_lsp.diagnostics.dynamic.child.entry_point import find_model
from deepeval_lsp.diagnostics.dynamic.child.plan import make_plan
from deepeval_lsp.diagnostics.dynamic.child.program_slice import slice_program
from deepeval_lsp.diagnostics.dynamic.child.run_state import MODULE_NAME, Run

HEAD = "import torch\nfrom torch import nn\n\n"


def _find(source: str) -> tuple[Any, Run]:
    tree = ast.parse(source)
    run = Run(source, "<m>", source.splitlines(), tree)
    ns: dict[str, Any] = {"__name__": MODULE_NAME}
    exec(compile(source, "<m>", "exec"), ns)
    for value in ns.values():  # classes defined by exec carry the module name of `ns`
        if isinstance(value, type):
            value.__module__ = MODULE_NAME
    return find_model(run, ns, make_plan(tree), slice_program(tree)), run


def test_dl_model_first():
    model, run = _find(HEAD + "def dl_model():\n    return nn.Linear(2, 3)\n\nmodel = nn.ReLU()\n")
    assert type(model).__name__ == "Linear" and run.entry == "dl_model()"


def test_a_module_level_model():
    model, run = _find(HEAD + "net = nn.Sequential(nn.Linear(2, 3))\n")
    assert type(model).__name__ == "Sequential" and run.entry == "net"


def test_the_outermost_class_and_constructor_arguments():
    source = HEAD + "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    model, run = _find(source)
    assert type(model).__name__ == "Net" and run.entry == "Net()"
    source = (
        HEAD + "class Net(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
    )
    model, run = _find(source)
    assert model is None and "needs constructor arguments (n)" in run.notes[0]


def test_a_class_built_with_no_arguments_through_kwargs_is_a_note_not_an_error():
    source = HEAD + (
        "class Layers(nn.Module):\n"
        "    def __init__(self, dim, causal):\n        super().__init__()\n\n\n"
        "class Decoder(Layers):\n"
        "    def __init__(self, **kwargs):\n        super().__init__(causal=True, **kwargs)\n"
    )
    model, run = _find(source)
    assert model is None
    assert "Decoder() needs arguments through *args/**kwargs" in run.notes[0]
    assert "dim" in run.notes[0]


def test_a_class_with_no_variadic_arguments_that_fails_still_raises():
    source = HEAD + (
        "class Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        nn.Linear(4)\n"
    )
    with pytest.raises(TypeError, match="missing"):
        _find(source)
