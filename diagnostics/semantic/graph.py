"""The abstract values the API-graph interpreter computes, its data-flow graph and its paths.

A program is interpreted over these values (api_graph.py): `Tensor` (the graph nodes a value
flows from), `Layer` (a layer object not yet applied), `Func`, `Obj`, `ModelValue`, `Seq` (a
Python list or tuple) and `Const` (a Python constant known statically). Each API call applied
to tensors appends a `Node`; `paths` enumerates the API sequences from the model inputs to its
outputs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

MAX_PATHS = 512  # distinct sequences kept per node; residual stacks double them at each block


@dataclass
class Node:
    api: str | None  # None: a pass-through point (a model input without an Input call)
    preds: tuple[int, ...]
    line: int  # 1-based line of the call


@dataclass(frozen=True)
class Tensor:
    nodes: frozenset[int]


@dataclass
class Seq:
    items: list[Any]


@dataclass(frozen=True)
class Layer:
    """A layer object not yet applied: one API, or a chain (a Sequential's children)."""

    # (api name, line) in application order; a block module (Obj) stands for its forward().
    apis: tuple[tuple[Any, int], ...]


@dataclass(frozen=True)
class Func:
    node: ast.FunctionDef | ast.Lambda
    env: dict[str, Any] | None = None  # the closure's scope (None: module scope)
    self_obj: Any = None  # bound `self` for methods


@dataclass
class Obj:
    """An instance of a class defined in the program (a model or a block module)."""

    cls: ast.ClassDef
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelValue:
    inputs: Any
    outputs: Any
    line: int
    call: ast.Call | None = None


class Const:
    """A Python constant known statically (loop bounds, list literals of numbers)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def tensor_nodes(value: Any) -> set[int]:
    """The graph nodes a value carries data from (a tensor, or a list or tuple of them)."""
    if isinstance(value, Tensor):
        return set(value.nodes)
    if isinstance(value, Seq):
        out: set[int] = set()
        for v in value.items:
            out |= tensor_nodes(v)
        return out
    return set()


def merge(a: Any, b: Any) -> Any:
    """The value of combining two values (an operator, a conditional): their data flow joined."""
    nodes = tensor_nodes(a) | tensor_nodes(b)
    if nodes:
        return Tensor(frozenset(nodes))
    return a if a is not None else b


def merge_all(items: list[Any]) -> Any:
    """One tensor carrying the data flow of all `items` (None when none carries any)."""
    nodes: set[int] = set()
    for v in items:
        nodes |= tensor_nodes(v)
    return Tensor(frozenset(nodes)) if nodes else None


def paths(
    nodes: list[Node], outputs: set[int], roots: set[int] | None = None
) -> tuple[dict[tuple[str, ...], int], bool]:
    """Every API sequence on a path from a root (a model input) to an output, with the number
    of paths that spell it (branches that repeat the same layers count once per branch), and
    whether some node had more than MAX_PATHS distinct sequences. `roots` None: every node
    without predecessors is a root."""
    memo: list[dict[tuple[str, ...], int]] = []
    truncated = False
    # Nodes are created in data-flow order (inputs before the nodes that use them).
    for i, node in enumerate(nodes):
        if not node.preds:
            seqs: dict[tuple[str, ...], int] = {(): 1} if roots is None or i in roots else {}
        else:
            seqs = {}
            for p in node.preds:
                for s, n in memo[p].items():
                    if s in seqs:
                        seqs[s] += n
                    elif len(seqs) < MAX_PATHS:
                        seqs[s] = n
                    else:
                        truncated = True
        if node.api is not None:
            seqs = {(*s, node.api): n for s, n in seqs.items()}
        memo.append(seqs)
    out: dict[tuple[str, ...], int] = {}
    for o in sorted(outputs):
        for s, n in memo[o].items():
            out[s] = out.get(s, 0) + n
    return out, truncated
