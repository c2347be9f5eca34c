"""The four prompting methods: examples from the suite, never the asked task; framework wording."""

from __future__ import annotations

import pytest
from deepeval_lsp.benchmark.prompting import (
    PROMPTINGS,
    build_messages,
    pick_examples,
    reasoning_steps,
)
from deepeval_lsp.diagnostics.tasks.suite import load_suite

BUILTIN = load_suite("builtin")


@pytest.mark.parametrize("method", PROMPTINGS)
def test_examples_come_from_the_suite_and_are_never_the_asked_task(method):
    for task in BUILTIN.tasks:
        messages = build_messages(task, method, BUILTIN)
        assert messages[0]["role"] == "system"
        assert messages[-1]["role"] == "user"
        assert task.requirement in messages[-1]["content"]
        shown = [m["content"] for m in messages[1:-1]]
        expected = {"zeroshot": 0, "oneshot": 2, "oneshotcot": 2, "fewshot": 6}[method]
        assert len(shown) == expected
        assert not any(task.requirement in s for s in shown)
        assert not any(task.reference.strip() in s for s in shown)


def test_examples_are_deterministic_and_vary_across_tasks():
    a, b = BUILTIN.tasks[0], BUILTIN.tasks[5]
    assert build_messages(a, "fewshot", BUILTIN) == build_messages(a, "fewshot", BUILTIN)
    firsts = {pick_examples(t, BUILTIN, 1)[0].id for t in BUILTIN.tasks}
    assert len(firsts) > 1
    few = pick_examples(b, BUILTIN, 3)
    assert len({t.id for t in few}) == 3
    assert len({t.difficulty for t in few}) == 3  # one per level where the suite has them


def test_pytorch_wording_for_our_suite():
    text = " ".join(m["content"] for m in build_messages(BUILTIN.tasks[0], "zeroshot", BUILTIN))
    assert "PyTorch" in text and "nn.Module" in text and "dl_model()" in text
    assert "Keras" not in text


def test_keras_functional_wording_for_the_study_suite(study_data):
    suite = load_suite(str(study_data / "DeepEval" / "benchmark" / "DeepEval"))
    task = suite.tasks[0]
    messages = build_messages(task, "oneshotcot", suite)
    text = " ".join(m["content"] for m in messages)
    assert "Keras functional API" in text and "dl_model()" in text
    assert "PyTorch" not in text
    # the chain-of-thought example reasons through its reference's layers, in order
    assert "Step by step" in messages[2]["content"]
    assert "Input(shape=" in messages[2]["content"]


def test_reasoning_steps_list_layer_constructions_in_order():
    ref = (
        "import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.a = nn.Conv2d(1, 8, 3)\n"
        "        self.b = nn.Linear(8, 2)\n"
    )
    assert reasoning_steps(ref) == ["Conv2d(1, 8, 3)", "Linear(8, 2)"]


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown prompting"):
        build_messages(BUILTIN.tasks[0], "tenshot", BUILTIN)
