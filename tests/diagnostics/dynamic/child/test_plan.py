"""What the syntax tree alone says: the entry point's kind and the frameworks used."""

from __future__ import annotations

import ast

from deepeval_lsp.diagnostics.dynamic.child.plan import make_plan


def test_dl_model_is_the_study_contract():
    plan = make_plan(ast.parse("import keras\n\ndef dl_model():\n    return keras.Sequential()\n"))
    assert plan.entry_kind == "dl_model"
    assert plan.uses_keras and not plan.uses_torch
    assert plan.imports == {"keras"}


def test_the_outermost_model_class_comes_first():
    source = (
        "import torch\nfrom torch import nn\n\n"
        "class Block(nn.Module):\n    pass\n\n"
        "class Net(nn.Module):\n    def __init__(self):\n        self.b = Block()\n"
    )
    plan = make_plan(ast.parse(source))
    assert plan.entry_kind == "class"
    assert plan.classes == ["Net", "Block"]
    assert plan.uses_torch and not plan.uses_keras


def test_no_entry_point():
    assert make_plan(ast.parse("x = 1\n")).entry_kind is None
