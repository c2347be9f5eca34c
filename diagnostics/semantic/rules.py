"""The reading rules the API-graph interpreter consults, and ours (the default reading).

The interpreter (api_graph.py) reads every program the same way, and asks a `Rules` object at
each point where one reading of a program differs from another: how an API is named, what an
operator on tensors does to the graph, which constructs fail the sample. `Rules` itself is our
reading: it follows every construct the interpreter knows. The DeepEval study's reading, which
was narrower, is `StudyRules` (study_rules.py). A rule that records a construct adds its name
to `interp.violations`; the `*_failure` methods then say what those records cost.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from deepeval_lsp.diagnostics.semantic.graph import Func, merge

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.semantic.api_graph import Interpreter

# The functional spelling of an operation and its layer/module class are one API for the
# comparison (F.relu and nn.ReLU, layers.add and Add, torch.cat and Concatenate).
_CANONICAL = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softmax": "Softmax",
    "log_softmax": "LogSoftmax",
    "gelu": "GELU",
    "silu": "SiLU",
    "elu": "ELU",
    "selu": "SELU",
    "leaky_relu": "LeakyReLU",
    "hardswish": "Hardswish",
    "softplus": "Softplus",
    "max_pool1d": "MaxPool1d",
    "max_pool2d": "MaxPool2d",
    "max_pool3d": "MaxPool3d",
    "avg_pool1d": "AvgPool1d",
    "avg_pool2d": "AvgPool2d",
    "avg_pool3d": "AvgPool3d",
    "adaptive_avg_pool1d": "AdaptiveAvgPool1d",
    "adaptive_avg_pool2d": "AdaptiveAvgPool2d",
    "adaptive_max_pool1d": "AdaptiveMaxPool1d",
    "adaptive_max_pool2d": "AdaptiveMaxPool2d",
    "dropout": "Dropout",
    "dropout2d": "Dropout2d",
    "flatten": "Flatten",
    "linear": "Linear",
    "conv1d": "Conv1d",
    "conv2d": "Conv2d",
    "conv3d": "Conv3d",
    "layer_norm": "LayerNorm",
    "embedding": "Embedding",
    "interpolate": "Upsample",
    "add": "Add",
    "subtract": "Subtract",
    "multiply": "Multiply",
    "mul": "Multiply",
    "average": "Average",
    "maximum": "Maximum",
    "minimum": "Minimum",
    "concatenate": "Concatenate",
    "concat": "Concatenate",
    "cat": "Concatenate",
    "reshape": "Reshape",
    "view": "Reshape",
    "permute": "Permute",
}


def canonical_api(name: str) -> str:
    """The one name under which the comparison knows an API (see _CANONICAL)."""
    return _CANONICAL.get(name, name)


class Rules:
    """Our reading of a program's API graph; subclasses override where their reading differs.

    The rules hold no state: what they record during a reading lives on the interpreter
    (`interp.violations`, `interp.named_output`), so one instance serves every extraction.
    """

    # -- naming ---------------------------------------------------------------------------------

    def api_name(self, name: str) -> str:
        """An API's name in the graph: functional and class spellings are one (`canonical_api`)."""
        return canonical_api(name)

    # -- statements -----------------------------------------------------------------------------

    def on_program(self, interp: Interpreter) -> None:
        """Record what the program as a whole shows before it is read (nothing, in ours)."""

    def on_loop(self, interp: Interpreter, stmt: ast.For) -> None:
        """Record a `for` loop before it is unrolled (ours unrolls every loop it can)."""

    def on_bind(self, interp: Interpreter, name: str, value: Any) -> None:
        """Record a value bound to a name (ours tracks values, never names)."""

    def return_value(self, interp: Interpreter, stmt: ast.Return, env: dict[str, Any]) -> Any:
        """What a `return` statement returns: its expression's value."""
        return interp.eval(stmt.value, env) if stmt.value is not None else None

    # -- expressions ----------------------------------------------------------------------------

    def operator(self, interp: Interpreter, expr: ast.BinOp, left: Any, right: Any) -> Any:
        """The value of an operator on tensors (`a + b`): data flows through it, without a node."""
        return merge(left, right)

    def on_api_call(self, interp: Interpreter, call: ast.Call, env: dict[str, Any]) -> None:
        """Record an API call (a constructor or a function) before its arguments are read."""

    def on_direct_call(self, interp: Interpreter, call: ast.Call) -> None:
        """Record an API called directly on tensors (`torch.cat([a, b])`): a node, in ours."""

    def reads_constructor_argument(
        self, interp: Interpreter, arg: ast.expr, env: dict[str, Any], line: int
    ) -> bool:
        """True when the rules read a layer constructor's argument themselves (ours never do:
        the interpreter evaluates it, so nested constructor calls count as called)."""
        return False

    def reads_layer_object(self, interp: Interpreter, call: ast.Call) -> bool:
        """Is a layer applied to tensors read? Always in ours, however the layer was made."""
        return True

    def cuts_inline_calls(self, interp: Interpreter, call: ast.Call) -> bool:
        """Does a layer applied to an inline call (`Flatten()(Conv2D(...)(x))`) cut the graph
        there? Not in ours: data flows through the inline call."""
        return False

    def on_layer_arguments(
        self, interp: Interpreter, call: ast.Call, env: dict[str, Any], line: int
    ) -> None:
        """Record the arguments a layer is applied to, before they are evaluated."""

    def on_layer_input(self, interp: Interpreter, value: Any) -> None:
        """Record one evaluated argument of a layer application (ours ignores unknown ones)."""

    def on_inline(
        self, interp: Interpreter, func: Func, call: ast.Call | None, scope: dict[str, Any]
    ) -> None:
        """Record a function about to be inlined, its parameters bound in `scope` (ours inlines
        every helper, however it is defined, called or returns)."""

    # -- the model ------------------------------------------------------------------------------

    def refuses_model(self, kind: str) -> str | None:
        """Why a model of this kind ("Sequential", "subclassed") is not read (None: it is)."""
        return None

    def path_roots(self, result: Any) -> set[int] | None:
        """The graph nodes paths start from (None: every node without predecessors)."""
        return None

    def unnamed_entries(self, interp: Interpreter, result: Any) -> list[str]:
        """API-set entries without an API name that the reading adds (none, in ours)."""
        return []

    def outputs(self, interp: Interpreter, outputs: set[int]) -> set[int]:
        """The model's output nodes: the outputs the model was built with."""
        return outputs

    def sample_failure(self, violations: set[str]) -> str | None:
        """Why the recorded constructs fail the whole sample (None: they do not)."""
        return None

    def sequence_failure(self, violations: set[str]) -> str | None:
        """Why the recorded constructs lose the API sequences, the API set still scored."""
        return None

    def cut_failure(self, violations: set[str]) -> str | None:
        """Why no path is left, when a recorded construct cut the graph (None: none did)."""
        return None

    def left_out(self, tree: ast.Module) -> str | None:
        """Why a parsable program is left out of a task's mean (None: it is scored)."""
        return None


OUR_RULES = Rules()
