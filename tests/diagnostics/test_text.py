"""Source text utilities: the names of attribute chains."""

from __future__ import annotations

import ast

from deepeval_lsp.diagnostics.text import attribute_chain, dotted_name, dotted_parts


def _expr(code: str) -> ast.expr:
    return ast.parse(code, mode="eval").body


def test_a_chain_from_a_name():
    node = _expr("torch.nn.functional.relu")
    assert dotted_parts(node) == ("torch", ["nn", "functional", "relu"])
    assert dotted_name(node) == "torch.nn.functional.relu"
    assert attribute_chain(node) == "torch.nn.functional.relu"
    assert dotted_name(_expr("x")) == "x"


def test_a_chain_from_a_call_keeps_the_attributes_only_where_asked():
    node = _expr("f().b.c")
    assert dotted_parts(node) == (None, ["b", "c"])
    assert dotted_name(node) is None
    assert attribute_chain(node) == "b.c"
    assert attribute_chain(_expr("f()")) == ""
