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


def test_a_function_returning_what_an_imported_model_builder_makes_is_a_factory():
    source = (
        "from keras.layers import Input, Conv2D\n"
        "from .model_utils import get_segmentation_model, load_model\n\n"
        "def unet_mini(n_classes, input_height=360):\n"
        "    img_input = Input(shape=(input_height, input_height, 3))\n"
        "    model = get_segmentation_model(img_input, Conv2D(n_classes, 1)(img_input))\n"
        "    return model\n\n"
        "def restore(path):\n    return load_model(path)\n"
    )
    plan = make_plan(ast.parse(source))
    assert plan.entry_kind == "factory" and plan.factories == ["unet_mini"]


def test_the_programs_own_calls_main_block_first_not_inside_factories():
    source = (
        "from torch import nn\n\n"
        "class Net(nn.Module):\n    pass\n\n"
        "def make():\n    return Net()\n\n"
        "def helper():\n    return Net()\n\n"
        "def main():\n    net = make()\n\n"
        'if __name__ == "__main__":\n    model = Net()\n'
    )
    plan = make_plan(ast.parse(source))
    assert [(c.callee, c.scope) for c in plan.own_calls] == [("Net", None), ("make", "main")]
