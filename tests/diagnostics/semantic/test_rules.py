"""The reading rules the interpreter consults, and ours (diagnostics/semantic/rules.py)."""

from __future__ import annotations

import ast
import textwrap

import pytest
from deepeval_lsp.diagnostics.semantic.api_graph import ExtractionError, extract
from deepeval_lsp.diagnostics.semantic.rules import OUR_RULES, Rules, canonical_api
from deepeval_lsp.diagnostics.text import parse_python

SEQUENTIAL = textwrap.dedent(
    """
    import torch.nn as nn
    import torch.nn.functional as F

    def dl_model():
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    """
)


def test_our_rules_name_functional_and_class_spellings_alike() -> None:
    assert OUR_RULES.api_name("relu") == canonical_api("relu") == "ReLU"
    assert OUR_RULES.api_name("Conv2D") == "Conv2D"


def test_our_rules_fail_nothing_and_leave_nothing_out() -> None:
    recorded = {"binop", "noloop", "direct_op"}
    assert OUR_RULES.sample_failure(recorded) is None
    assert OUR_RULES.sequence_failure(recorded) is None
    assert OUR_RULES.cut_failure(recorded) is None
    assert OUR_RULES.refuses_model("Sequential") is None
    assert OUR_RULES.left_out(parse_python("x = 1\n")) is None
    assert extract(SEQUENTIAL).sequences == [("Linear", "ReLU", "Linear")]


class _NoSequential(Rules):
    """A reading that refuses Sequential models and names APIs as written."""

    def api_name(self, name: str) -> str:
        return name

    def refuses_model(self, kind: str) -> str | None:
        return f"no {kind} models here" if kind == "Sequential" else None


def test_the_interpreter_asks_the_rules_it_is_given() -> None:
    with pytest.raises(ExtractionError, match="no Sequential models here"):
        extract(SEQUENTIAL, rules=_NoSequential())
    functional = SEQUENTIAL.replace(
        "return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))",
        "x = Input((4,))\n    return F.relu(x)",
    )
    assert extract(functional).sequences == [("Input", "ReLU")]
    assert extract(ast.parse(functional), rules=_NoSequential()).sequences == [("Input", "relu")]
