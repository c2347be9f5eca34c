"""The data-flow graph's values and its path enumeration (diagnostics/semantic/graph.py)."""

from __future__ import annotations

from deepeval_lsp.diagnostics.semantic.graph import (
    MAX_PATHS,
    Node,
    Seq,
    Tensor,
    merge,
    merge_all,
    paths,
    tensor_nodes,
)


def _residual() -> list[Node]:
    # input -> conv -> add <- input (a residual connection), then dense
    return [
        Node("Input", (), 1),
        Node("Conv2D", (0,), 2),
        Node("Add", (0, 1), 3),
        Node("Dense", (2,), 4),
    ]


def test_paths_spell_every_route_from_an_input_to_the_outputs() -> None:
    counted, truncated = paths(_residual(), {3})
    assert counted == {("Input", "Conv2D", "Add", "Dense"): 1, ("Input", "Add", "Dense"): 1}
    assert not truncated


def test_paths_count_branches_that_repeat_the_same_layers() -> None:
    nodes = [Node("Input", (), 1), Node("Dense", (0,), 2), Node("Dense", (0,), 3)]
    nodes.append(Node("Add", (1, 2), 4))
    assert paths(nodes, {3})[0] == {("Input", "Dense", "Add"): 2}


def test_paths_start_only_at_the_given_roots() -> None:
    nodes = [Node("Input", (), 1), Node(None, (), 2), Node("Add", (0, 1), 3)]
    assert paths(nodes, {2})[0] == {("Input", "Add"): 1, ("Add",): 1}
    assert paths(nodes, {2}, roots={0})[0] == {("Input", "Add"): 1}


def test_paths_are_truncated_past_the_limit() -> None:
    nodes = [Node(None, (), 1)]
    for i in range(MAX_PATHS + 1):
        nodes.append(Node(f"L{i}", (0,), 2))
    nodes.append(Node("Concatenate", tuple(range(1, len(nodes))), 3))
    counted, truncated = paths(nodes, {len(nodes) - 1})
    assert truncated and len(counted) == MAX_PATHS


def test_values_carry_the_nodes_they_flow_from() -> None:
    a, b = Tensor(frozenset({1})), Tensor(frozenset({2}))
    assert tensor_nodes(Seq([a, Seq([b]), None])) == {1, 2}
    assert merge(a, b) == Tensor(frozenset({1, 2}))
    assert merge(None, "shape") == "shape"
    assert merge_all([a, None, b]) == Tensor(frozenset({1, 2}))
    assert merge_all([None]) is None
