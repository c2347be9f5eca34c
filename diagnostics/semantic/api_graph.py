"""The API data-flow graph of a model program, read from its syntax tree (never executed).

The semantic pass (DESIGN.md §7) compares the structure of a program with a reference: which
framework APIs it calls and in what order data flows through them. This module reads that
structure:

1. normalise the program while interpreting it abstractly: helper ("block") functions are
   inlined at each call, simple loops (`range(N)` with a constant N, literal lists) are
   unrolled, names are tracked by value rather than by spelling (so `x = f(x)` reuses are
   harmless and variable names do not matter);
2. each API call applied to tensors adds a node to a data-flow graph (the node's result
   <- API call(its tensor arguments)); operators, subscripts and attribute reads pass data on
   without adding a node;
3. every path from a model input to a model output becomes the sequence of API names on it
   (a helper function contributes all of its own paths, i.e. the Cartesian product at each
   call), and the API set is the distinct API names called while building the model.

API names are the last component of the called name (`tf.keras.layers.Conv2D` -> `Conv2D`),
after undoing import aliases. `Model`, `Sequential` (its children are expanded instead) and
helper functions are left out. Works for the Keras functional API, Keras `Sequential`,
subclassed Keras models and PyTorch `nn.Module` classes (layers assigned in `__init__`, data
flow in `forward`) and `nn.Sequential`.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from deepeval_lsp.diagnostics.text import attribute_chain, parse_python

MAX_PATHS = 512  # distinct sequences kept per node; residual stacks double them at each block
MAX_UNROLL = 64  # loop iterations unrolled
MAX_INLINE_DEPTH = 12  # nested helper calls (recursion guard)
MAX_STEPS = 20_000  # statements interpreted, a guard against pathological inputs

# Calls that compute plain Python values, never framework APIs.
_BUILTINS = frozenset(
    {
        "range",
        "len",
        "int",
        "float",
        "str",
        "bool",
        "list",
        "tuple",
        "dict",
        "set",
        "print",
        "zip",
        "enumerate",
        "isinstance",
        "super",
        "min",
        "max",
        "sum",
        "abs",
        "round",
        "sorted",
        "reversed",
        "getattr",
        "setattr",
        "hasattr",
        "type",
        "format",
        "map",
        "filter",
        "any",
        "all",
        "iter",
        "next",
        "repr",
        "divmod",
        "pow",
    }
)
_MODEL_NAMES = frozenset({"Model", "Functional"})
_SEQUENTIAL_NAMES = frozenset({"Sequential"})
_CONTAINER_NAMES = frozenset({"ModuleList", "ModuleDict"})
_INPUT_NAMES = frozenset({"Input", "InputLayer"})
# Methods that build or train a model object rather than transform tensors.
_MODEL_METHODS = frozenset(
    {
        "compile",
        "fit",
        "summary",
        "evaluate",
        "predict",
        "save",
        "build",
        "load_weights",
        "add",
        "to",
        "cuda",
        "cpu",
        "eval",
        "train",
        "parameters",
        "apply",
    }
)
# Tensor methods that only reinterpret metadata: pass the tensor on without adding a node.
_PASS_METHODS = frozenset(
    {
        "to",
        "cuda",
        "cpu",
        "contiguous",
        "float",
        "double",
        "detach",
        "clone",
        "type_as",
        "numpy",
        "item",
    }
)


# The study's extractor read assignments of the form `name = Layer(...)(names)` over variable
# names. The constructs below are ones it could not read; in study-compatible mode they are
# recorded while the graph is still built, and then fail the sample as the study did. Which
# construct fails what was measured against the study's published per-task scores
# (perf/semantic_study.py; docs/semantic.md): these fail the whole sample (0 for the API set and
# the API sequences) ...
STUDY_FAILS = {
    "helper_helper": "a helper function calling another helper",
    "rename_clash": "a variable renamed to a name the program already uses",
    "noloop": "a loop",
    "direct_op": "an API called directly on tensors (tf.concat(...), layers.add(...))",
    "layer_obj": "a layer object applied later (conv = Conv2D(...); conv(x))",
    "ret_call": "a helper function returning an expression rather than a variable",
    "dl_ret_call": "dl_model() returning an expression rather than a variable",
    "mod_helper": "a helper function defined outside dl_model()",
    "strict_args": "a layer applied to a value the graph does not know",
    "helper_mixed_args": "a helper called with both positional and keyword arguments",
    "data_op": "an API called on the result of another API call (to_categorical(y_train))",
}
# ... and these only the API sequences (the API set is still scored).
STUDY_SEQUENCE_FAILS = {
    "ret_tuple": "a function returning a tuple of tensors (return a, b)",
    "no_return": "dl_model() without a return statement",
    "name_root": "a layer applied to a name that holds no tensor (a shape tuple)",
    "nested_call": "a layer applied to an inline call (Flatten()(Conv2D(...)(x)))",
    "output_name": "keras.Model(...) whose outputs are not named output_layer, outputs or output",
}
# An operator on tensors (a * b) cuts the study's graph there: the paths through it are lost,
# and the sequences are 0 only when no path from an input to the output is left.
STUDY_CUT = {
    "binop": "an operator on tensors (a + b) on every path to the output",
    "param_x": "a helper function whose parameter is named x, on every path to the output",
    "nested_cut": "a layer applied to an inline call (Flatten()(Conv2D(...)(x))), on every path",
}
# The study's extractor found a model's output by name: the first tensor dl_model() assigns to
# one of these (its renaming of reassignments left that one with the plain name), wherever the
# model's outputs are; else at the `Model(...)` call, which it did not recognise when spelled as
# an attribute (keras.Model).
STUDY_OUTPUT_NAMES = frozenset({"output_layer", "outputs", "output"})
# Programs the study left out of its per-task means although they parse, as it did empty and
# unparsable files: its extractor must have stopped on them rather than read them as 0
# (study_left_out; forced by the published means, docs/semantic.md).
STUDY_LEFT_OUT = {
    "no_function": "a program that defines no function (the model built at module level)",
    "trains": "dl_model() training or running the model (.fit, .evaluate, .predict)",
}
_STUDY_TRAINING_CALLS = frozenset({"fit", "evaluate", "predict"})
# An API-set entry the study's extractor recorded without an API name: for a plain alias
# (`main_path = conv3`), for a function returning a list of names (`return [a, b]`) and for a
# bare `Model(...)` call it took as the output. It is one entry
# however often it occurs, and it matches the same entry in the reference.
STUDY_UNNAMED = "<unnamed>"
# The scope entry naming the variable a helper's `return <expression>` returns (study mode).
_STUDY_RETURN = "<study return>"


# The functional spelling of an operation and its layer/module class are one API for the
# comparison (F.relu and nn.ReLU, layers.add and Add, torch.cat and Concatenate). The study
# compared names as written, so study-compatible mode leaves them alone.
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


class ExtractionError(Exception):
    """The program's model structure could not be read; the message says why (one line)."""


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


class _Const:
    """A Python constant known statically (loop bounds, list literals of numbers)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass
class Extraction:
    """What the semantic comparison needs from one program."""

    sequences: list[tuple[str, ...]]  # distinct API sequences, input -> output
    apis: list[str]  # distinct API names called while building the model, first call first
    path_apis: list[str]  # distinct API names on the input -> output paths
    api_lines: dict[str, int]  # API name -> 1-based line of its first call
    model_line: int | None  # where the model is constructed or returned
    truncated: bool = False  # more paths than MAX_PATHS per node
    # How many input -> output paths spell each sequence (parallel branches of the same
    # layers are several paths); scores weigh each sequence by it.
    counts: list[int] = field(default_factory=list)
    # Why there are no sequences although the API set was read (study-compatible mode only).
    sequence_error: str | None = None

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [1] * len(self.sequences)


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Interpreter:
    def __init__(self, tree: ast.Module, *, study_compat: bool) -> None:
        self.tree = tree
        self.study_compat = study_compat
        self.nodes: list[Node] = []
        self.aliases: dict[str, str] = {}  # local name -> imported dotted name
        self.module_env: dict[str, Any] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.called: dict[str, int] = {}  # API name -> first line, in call order
        self.models: list[ModelValue] = []
        self.depth = 0
        self.steps = 0
        self.violations: set[str] = set()
        # The first tensor dl_model() names output_layer, outputs or output (study-compatible).
        self.named_output: Any = None
        for stmt in tree.body:
            self._record_definitions(stmt)

    # -- module scope -------------------------------------------------------------------------

    def _record_definitions(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                self.aliases[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(stmt, ast.ImportFrom):
            for a in stmt.names:
                self.aliases[a.asname or a.name] = f"{stmt.module or ''}.{a.name}"
        elif isinstance(stmt, ast.FunctionDef):
            self.module_env[stmt.name] = Func(stmt)
        elif isinstance(stmt, ast.ClassDef):
            self.classes[stmt.name] = stmt
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            # Module-level constants only (input shapes, class counts); never layers or tensors.
            value = _literal(stmt.value)
            if value is not None:
                self._bind(stmt.targets[0], value, self.module_env)
        elif isinstance(stmt, ast.If | ast.Try):
            for s in stmt.body:
                self._record_definitions(s)

    # -- graph ----------------------------------------------------------------------------------

    def _node(self, api: str | None, preds: frozenset[int], line: int) -> Tensor:
        self.nodes.append(Node(api, tuple(sorted(preds)), line))
        if api is not None:
            self.called.setdefault(api, line)
        return Tensor(frozenset({len(self.nodes) - 1}))

    def _apply_layer(self, layer: Layer, inputs: frozenset[int], line: int) -> Any:
        current: Any = Tensor(inputs)
        for k, (item, _) in enumerate(layer.apis):
            if not isinstance(item, Obj):
                current = self._node(item, current.nodes, line)
                continue
            # A block module inside a Sequential: run its forward.
            current = self._run_forward(item, current)
            if k < len(layer.apis) - 1:
                nodes = _tensor_nodes(current)
                if not nodes:
                    return None
                current = Tensor(frozenset(nodes))
        return current

    def _run_forward(self, obj: Obj, value: Any) -> Any:
        fn = _method(obj.cls, "forward") or _method(obj.cls, "call")
        if fn is None:
            return None
        scope = {"__x": value}
        fake = ast.Call(func=ast.Name("forward"), args=[ast.Name("__x")], keywords=[])
        return self._inline(Func(fn, None, obj), fake, scope)

    # -- statements -----------------------------------------------------------------------------

    def run_body(self, body: list[ast.stmt], env: dict[str, Any]) -> None:
        for stmt in body:
            self.run_stmt(stmt, env)

    def run_stmt(self, stmt: ast.stmt, env: dict[str, Any]) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ExtractionError("the program is too large to analyse")
        if isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, env)
            for target in stmt.targets:
                self._bind(target, value, env)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self._bind(stmt.target, self.eval(stmt.value, env), env)
        elif isinstance(stmt, ast.AugAssign):
            left = self._lookup_target(stmt.target, env)
            right = self.eval(stmt.value, env)
            self._bind(stmt.target, _merge(left, right), env)
        elif isinstance(stmt, ast.Expr):
            self.eval(stmt.value, env)
        elif isinstance(stmt, ast.Return):
            if self.study_compat and _STUDY_RETURN in env and _study_merge_return(stmt.value):
                # The study read such a helper as returning its last assigned variable.
                value = env.get(env[_STUDY_RETURN])
                if isinstance(stmt.value, ast.Call):
                    self.violations.add("ret_layer")
                raise _Return(value)
            raise _Return(self.eval(stmt.value, env) if stmt.value is not None else None)
        elif isinstance(stmt, ast.FunctionDef):
            env[stmt.name] = Func(stmt, env)
        elif isinstance(stmt, ast.ClassDef):
            self.classes[stmt.name] = stmt
        elif isinstance(stmt, ast.For):
            self._run_for(stmt, env)
        elif isinstance(stmt, ast.While):
            self.run_body(stmt.body, env)
        elif isinstance(stmt, ast.If):
            test = self.eval(stmt.test, env)
            if isinstance(test, _Const):
                self.run_body(stmt.body if test.value else stmt.orelse, env)
            else:
                self.run_body(stmt.body, env)
                self.run_body(stmt.orelse, env)
        elif isinstance(stmt, ast.With):
            self.run_body(stmt.body, env)
        elif isinstance(stmt, ast.Try):
            self.run_body(stmt.body, env)
            self.run_body(stmt.finalbody, env)
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            self._record_definitions(stmt)

    def _run_for(self, stmt: ast.For, env: dict[str, Any]) -> None:
        if self.study_compat and not _study_reads_loop(stmt):
            self.violations.add("noloop")
        iterable = self.eval(stmt.iter, env)
        items: list[Any] | None = None
        if isinstance(iterable, _Const) and isinstance(iterable.value, list | tuple | range):
            items = [_Const(v) for v in iterable.value]
        elif isinstance(iterable, Seq):
            items = list(iterable.items)
        elif isinstance(iterable, Layer) and len(iterable.apis) > 1:
            items = [a if isinstance(a, Obj) else Layer(((a, n),)) for a, n in iterable.apis]
        if items is None:
            self.run_body(stmt.body, env)  # unknown trip count: one pass
            return
        for item in items[:MAX_UNROLL]:
            self._bind(stmt.target, item, env)
            self.run_body(stmt.body, env)

    def _bind(self, target: ast.expr, value: Any, env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
            if (
                self.study_compat
                and self.depth == 1  # dl_model()'s own body, not a helper's
                and target.id in STUDY_OUTPUT_NAMES
                and self.named_output is None
                and _tensor_nodes(value)
            ):
                self.named_output = value
        elif isinstance(target, ast.Tuple | ast.List):
            parts = _unpack(value, len(target.elts))
            for t, v in zip(target.elts, parts, strict=False):
                self._bind(t, v, env)
        elif isinstance(target, ast.Attribute):
            owner = self.eval(target.value, env)
            if isinstance(owner, Obj):
                owner.attrs[target.attr] = value
        elif isinstance(target, ast.Subscript):
            owner = self.eval(target.value, env)
            index = self.eval(target.slice, env)
            if (
                isinstance(owner, Seq)
                and isinstance(index, _Const)
                and isinstance(index.value, int)
                and -len(owner.items) <= index.value < len(owner.items)
            ):
                owner.items[index.value] = value

    def _lookup_target(self, target: ast.expr, env: dict[str, Any]) -> Any:
        return self.eval(target, env)

    # -- expressions ----------------------------------------------------------------------------

    def eval(self, expr: ast.expr | None, env: dict[str, Any]) -> Any:
        if expr is None:
            return None
        if isinstance(expr, ast.Constant):
            return _Const(expr.value)
        if isinstance(expr, ast.Name):
            if expr.id in env:
                return env[expr.id]
            if expr.id in self.module_env:
                return self.module_env[expr.id]
            return None
        if isinstance(expr, ast.Tuple | ast.List):
            items = [self.eval(e, env) for e in expr.elts]
            if all(isinstance(i, _Const) for i in items):
                return _Const([i.value for i in items])
            return Seq(items)
        if isinstance(expr, ast.Call):
            return self._call(expr, env)
        if isinstance(expr, ast.Subscript):
            owner = self.eval(expr.value, env)
            index = self.eval(expr.slice, env)
            if isinstance(owner, Seq):
                if isinstance(index, _Const) and isinstance(index.value, int):
                    if -len(owner.items) <= index.value < len(owner.items):
                        return owner.items[index.value]
                    return None
                return _merge_all(owner.items)
            if isinstance(owner, _Const) and isinstance(index, _Const):
                try:
                    return _Const(owner.value[index.value])
                except Exception:
                    return None
            if (
                isinstance(owner, Layer)
                and isinstance(index, _Const)
                and isinstance(index.value, int)
            ):
                try:
                    return Layer((owner.apis[index.value],))
                except IndexError:
                    return None
            return owner if isinstance(owner, Tensor) else None
        if isinstance(expr, ast.Attribute):
            owner = self.eval(expr.value, env)
            if isinstance(owner, Obj):
                if expr.attr in owner.attrs:
                    return owner.attrs[expr.attr]
                method = _method(owner.cls, expr.attr)
                return Func(method, None, owner) if method else None
            return None  # x.shape and friends: plain values, not data flow
        if isinstance(expr, ast.BinOp):
            left, right = self.eval(expr.left, env), self.eval(expr.right, env)
            if isinstance(left, _Const) and isinstance(right, _Const):
                try:
                    return _Const(_binop(expr.op, left.value, right.value))
                except Exception:
                    return None
            if self.study_compat and (_tensor_nodes(left) or _tensor_nodes(right)):
                # The study's graph has no edge through an operator: its result starts a path
                # that no model input reaches, so only the paths around it are read.
                self.violations.add("binop")
                return self._node(None, frozenset(), expr.lineno)
            return _merge(left, right)
        if isinstance(expr, ast.UnaryOp):
            operand = self.eval(expr.operand, env)
            if isinstance(operand, _Const) and isinstance(expr.op, ast.USub):
                try:
                    return _Const(-operand.value)
                except Exception:
                    return None
            return operand if isinstance(operand, Tensor) else None
        if isinstance(expr, ast.Compare | ast.BoolOp):
            return None
        if isinstance(expr, ast.IfExp):
            return _merge(self.eval(expr.body, env), self.eval(expr.orelse, env))
        if isinstance(expr, ast.Lambda):
            return Func(expr, env)
        if isinstance(expr, ast.ListComp | ast.GeneratorExp):
            return self._comprehension(expr, env)
        if isinstance(expr, ast.Starred):
            return self.eval(expr.value, env)
        return None

    def _comprehension(self, expr: ast.ListComp | ast.GeneratorExp, env: dict[str, Any]) -> Any:
        if len(expr.generators) != 1:
            return None
        gen = expr.generators[0]
        iterable = self.eval(gen.iter, env)
        if isinstance(iterable, _Const) and isinstance(iterable.value, list | tuple | range):
            items = [_Const(v) for v in iterable.value]
        elif isinstance(iterable, Seq):
            items = list(iterable.items)
        else:
            items = [None]
        local = dict(env)
        out = []
        for item in items[:MAX_UNROLL]:
            self._bind(gen.target, item, local)
            out.append(self.eval(expr.elt, local))
        return Seq(out)

    def _call(self, call: ast.Call, env: dict[str, Any]) -> Any:
        func = call.func
        line = call.lineno
        # Layer(...)(tensors): construct, then apply.
        if isinstance(func, ast.Call):
            layer = self._call(func, env)
            return self._invoke(layer, call, env, line)
        if isinstance(func, ast.Attribute):
            owner = self.eval(func.value, env)
            if isinstance(owner, Obj):
                target = owner.attrs.get(func.attr)
                if target is None:
                    method = _method(owner.cls, func.attr)
                    target = Func(method, None, owner) if method else None
                if target is not None:
                    return self._invoke(target, call, env, line)
                return None
            if isinstance(owner, Seq) and func.attr in {"append", "extend", "insert"}:
                args = [self.eval(a, env) for a in call.args]
                if func.attr == "append" and args:
                    owner.items.append(args[0])
                elif func.attr == "extend" and args and isinstance(args[0], Seq):
                    owner.items.extend(args[0].items)
                elif func.attr == "insert" and len(args) == 2:
                    owner.items.append(args[1])
                return None
            if isinstance(owner, Layer) and func.attr == "add":
                # keras Sequential.add / torch Sequential.add_module: grow the chain in place.
                added = self.eval(call.args[0], env) if call.args else None
                if isinstance(added, Layer):
                    new = Layer(owner.apis + added.apis)
                    self._rebind(func.value, new, env)
                return None
            if isinstance(owner, Layer) and func.attr == "add_module" and len(call.args) == 2:
                added = self.eval(call.args[1], env)
                if isinstance(added, Layer):
                    self._rebind(func.value, Layer(owner.apis + added.apis), env)
                return None
            if isinstance(owner, ModelValue | Layer) and func.attr in _MODEL_METHODS:
                self._tensor_args(call, env)  # e.g. compile(loss=...): calls made while building
                return None
            if isinstance(owner, Tensor):
                if func.attr in _PASS_METHODS:
                    return owner
                sources = set(owner.nodes) | self._tensor_args(call, env)
                method = func.attr if self.study_compat else canonical_api(func.attr)
                return self._node(method, frozenset(sources), line)
            if isinstance(owner, Func | ModelValue):
                return None
            if isinstance(owner, _Const):
                return None
        elif isinstance(func, ast.Name):
            target = env.get(func.id, self.module_env.get(func.id))
            if target is not None:
                return self._invoke(target, call, env, line)
            if func.id in self.classes:
                return self._instantiate(self.classes[func.id], call, env)
            if func.id in _BUILTINS:
                return self._builtin(func.id, call, env)
        else:
            return None
        name = self._api_name(func)
        if name is None or name.startswith("__"):  # super().__init__() and other dunders
            return None
        return self._api_call(name, call, env, line)

    def _rebind(self, target: ast.expr, value: Any, env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name | ast.Attribute):
            self._bind(target, value, env)

    def _builtin(self, name: str, call: ast.Call, env: dict[str, Any]) -> Any:
        args = [self.eval(a, env) for a in call.args]
        if (
            name == "range"
            and args
            and all(isinstance(a, _Const) and isinstance(a.value, int) for a in args)
        ):
            try:
                return _Const(range(*[a.value for a in args]))
            except (TypeError, ValueError):
                return None
        if name in {"list", "tuple", "reversed"} and len(args) == 1:
            if isinstance(args[0], Seq):
                return Seq(
                    list(reversed(args[0].items)) if name == "reversed" else list(args[0].items)
                )
            return args[0]
        if name in {"int", "len"} and len(args) == 1 and isinstance(args[0], _Const):
            try:
                return _Const(int(args[0].value) if name == "int" else len(args[0].value))
            except Exception:
                return None
        if name == "enumerate" and len(args) == 1 and isinstance(args[0], Seq | _Const):
            items = (
                args[0].items if isinstance(args[0], Seq) else [_Const(v) for v in args[0].value]
            )
            return Seq([Seq([_Const(i), v]) for i, v in enumerate(items)])
        if name == "zip" and args and all(isinstance(a, Seq) for a in args):
            return Seq([Seq(list(t)) for t in zip(*[a.items for a in args], strict=False)])
        return None

    def _api_name(self, func: ast.expr) -> str | None:
        dotted = attribute_chain(func)  # of a call on a call result (`f().g`): the attributes
        if not dotted:
            return None
        head = dotted.split(".")[0]
        if head in self.aliases:
            dotted = self.aliases[head] + dotted[len(head) :]
        name = dotted.rsplit(".", 1)[-1] or None
        return name if self.study_compat or name is None else canonical_api(name)

    def _tensor_args(self, call: ast.Call, env: dict[str, Any]) -> set[int]:
        sources: set[int] = set()
        for a in [*call.args, *(k.value for k in call.keywords)]:
            sources |= _tensor_nodes(self.eval(a, env))
        return sources

    def _api_call(self, name: str, call: ast.Call, env: dict[str, Any], line: int) -> Any:
        if name in _MODEL_NAMES:
            inputs = outputs = None
            for k in call.keywords:
                if k.arg == "inputs":
                    inputs = self.eval(k.value, env)
                elif k.arg == "outputs":
                    outputs = self.eval(k.value, env)
            if len(call.args) >= 1 and inputs is None:
                inputs = self.eval(call.args[0], env)
            if len(call.args) >= 2 and outputs is None:
                outputs = self.eval(call.args[1], env)
            model = ModelValue(inputs, outputs, line, call)
            self.models.append(model)
            return model
        if name in _SEQUENTIAL_NAMES | _CONTAINER_NAMES:
            chain: list[tuple[str, int]] = []
            for a in call.args:
                value = self.eval(a, env)
                for v in value.items if isinstance(value, Seq) else [value]:
                    if isinstance(v, Layer):
                        chain.extend(v.apis)
                    elif isinstance(v, Obj):
                        chain.append((v, line))
            return Layer(tuple(chain))
        if name in _INPUT_NAMES:
            return self._node(name, frozenset(), line)
        if self.study_compat and any(
            isinstance(a, ast.Name) and isinstance(self.eval(a, env), Layer)
            for a in [*call.args, *(k.value for k in call.keywords)]
        ):
            self.violations.add("data_op")
        sources = self._tensor_args(call, env)
        if sources:
            if self.study_compat:
                self.violations.add("direct_op")
            return self._node(name, frozenset(sources), line)
        # A constructor whose result is applied later (or a layer Lambda wraps): a layer object.
        for a in [*call.args, *(k.value for k in call.keywords)]:
            if isinstance(a, ast.Lambda):
                continue
            if self.study_compat and isinstance(a, ast.Name):
                # Lambda(helper): the study inlined every helper, so its failures count.
                f = env.get(a.id, self.module_env.get(a.id))
                if isinstance(f, Func) and isinstance(f.node, ast.FunctionDef):
                    saved, n_nodes = dict(self.called), len(self.nodes)
                    dummy = {"__t": self._node(None, frozenset(), line)}
                    fake = ast.Call(func=a, args=[ast.Name("__t")], keywords=[])
                    self._inline(f, fake, dummy)
                    self.called = saved
                    del self.nodes[n_nodes:]
                    continue
            self.eval(a, env)  # nested constructor calls (e.g. regularizers) count as called
        self.called.setdefault(name, line)
        return Layer(((name, line),))

    def _invoke(self, target: Any, call: ast.Call, env: dict[str, Any], line: int) -> Any:
        if isinstance(target, Layer):
            if self.study_compat and not isinstance(call.func, ast.Call):
                self.violations.add("layer_obj")
                return None
            inline_cut = False
            if self.study_compat and any(
                isinstance(a, ast.List | ast.Tuple) and any(isinstance(e, ast.Call) for e in a.elts)
                for a in call.args
            ):
                self.violations.add("nested_call")
            elif self.study_compat and any(isinstance(a, ast.Call) for a in call.args):
                # A layer applied directly to an inline call in dl_model()'s own body: the
                # graph is cut there, like at an operator; in a helper the sequences are lost.
                inline_cut = self.depth == 1
                self.violations.add("nested_cut" if inline_cut else "nested_call")
            if self.study_compat:
                # The study's graph is over variable names: a layer applied to a name that
                # holds no tensor (e.g. a shape tuple) makes that name a source.
                for a in call.args:
                    if isinstance(a, ast.Name) and not _tensor_nodes(self.eval(a, env)):
                        env[a.id] = self._node(None, frozenset(), line)
                        self.violations.add("name_root")
            args = [
                self._eval_cut(a, env, line) if inline_cut else self.eval(a, env) for a in call.args
            ]
            args += [
                self.eval(k.value, env) for k in call.keywords if k.arg in {"inputs", "x", "input"}
            ]
            inputs: set[int] = set()
            for a in args:
                inputs |= _tensor_nodes(a)
                if self.study_compat and _has_unknown(a):
                    self.violations.add("strict_args")
            if not inputs:
                return None
            return self._apply_layer(target, frozenset(inputs), line)
        if isinstance(target, Func):
            return self._inline(target, call, env)
        if isinstance(target, Obj):
            forward = _method(target.cls, "forward") or _method(target.cls, "call")
            if forward is None:
                return None
            return self._inline(Func(forward, None, target), call, env)
        if isinstance(target, ModelValue):
            args = [self.eval(a, env) for a in call.args]
            inputs: set[int] = set()
            for a in args:
                inputs |= _tensor_nodes(a)
            return Tensor(frozenset(inputs) | _tensor_nodes(target.outputs)) if inputs else None
        return None

    def _eval_cut(self, expr: ast.expr, env: dict[str, Any], line: int) -> Any:
        """Evaluate a layer's argument; an inline call in it gives a source no input reaches."""
        if isinstance(expr, ast.Call):
            value = self.eval(expr, env)
            return self._node(None, frozenset(), line) if _tensor_nodes(value) else value
        if isinstance(expr, ast.List | ast.Tuple):
            return Seq([self._eval_cut(e, env, line) for e in expr.elts])
        return self.eval(expr, env)

    def _inline(self, func: Func, call: ast.Call | None, env: dict[str, Any]) -> Any:
        if self.depth >= MAX_INLINE_DEPTH:
            return None
        fn = func.node
        scope: dict[str, Any] = dict(func.env) if func.env is not None else {}
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if func.self_obj is not None and params:
            scope[params[0]] = func.self_obj
            params = params[1:]
        defaults = fn.args.defaults
        for p, d in zip(params[len(params) - len(defaults) :], defaults, strict=False):
            scope[p] = self.eval(d, scope)
        for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=False):
            scope[a.arg] = self.eval(d, scope) if d is not None else None
        if call is not None:
            for p, a in zip(params, call.args, strict=False):
                scope[p] = self.eval(a, env)
            for k in call.keywords:
                if k.arg is not None:
                    scope[k.arg] = self.eval(k.value, env)
        if self.study_compat and isinstance(fn, ast.FunctionDef):
            rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
            # Returning several tensors by name: a list (`return [a, b]`) was read, with the
            # unnamed set entry an alias gives; a tuple (`return a, b`) lost the sequences.
            for r in rets:
                if _names_of(r.value, ast.List):
                    self.violations.add("ret_list")
                elif _names_of(r.value, ast.Tuple):
                    self.violations.add("ret_tuple")
            rets = [r for r in rets if not _names_of(r.value, ast.List | ast.Tuple)]
            # A helper returning an operator or a layer applied to a list of names
            # (`return x + shortcut`, `return Add()([a, b])`) was read as returning its last
            # assigned variable (the run_stmt side of this rule): not a failure.
            merged = {
                id(r)
                for f in ast.walk(fn)
                if isinstance(f, ast.FunctionDef) and _study_return_name(f) is not None
                for r in _own_statements(f.body)
                if isinstance(r, ast.Return) and _study_merge_return(r.value)
            }
            rets = [r for r in rets if id(r) not in merged]
            scope.pop(_STUDY_RETURN, None)
            returned = _study_return_name(fn)
            if returned is not None:
                scope[_STUDY_RETURN] = returned
            if fn.name != "dl_model" and any(not isinstance(r.value, ast.Name) for r in rets):
                self.violations.add("ret_call")
            if fn.name == "dl_model" and any(not isinstance(r.value, ast.Name) for r in rets):
                self.violations.add("dl_ret_call")
            if self.depth >= 2:
                self.violations.add("helper_helper")
            if fn.name != "dl_model" and func.env is None:
                self.violations.add("mod_helper")
            if call is not None and call.args and call.keywords:
                self.violations.add("helper_mixed_args")
            if fn.name != "dl_model" and _tensor_nodes(scope.get("x")):
                # A helper's parameter named x cuts the study's graph like an operator: the
                # helper's result starts no path from an input.
                scope["x"] = self._node(None, frozenset(), fn.lineno)
                self.violations.add("param_x")
            if _rename_clash(fn):
                self.violations.add("rename_clash")
        self.depth += 1
        try:
            if isinstance(fn, ast.Lambda):
                return self.eval(fn.body, scope)
            self.run_body(fn.body, scope)
        except _Return as r:
            return r.value
        finally:
            self.depth -= 1
        return None

    def _instantiate(self, cls: ast.ClassDef, call: ast.Call, env: dict[str, Any]) -> Obj:
        obj = Obj(cls)
        init = _method(cls, "__init__")
        if init is not None:
            self._inline(Func(init, None, obj), call, env)
        return obj


def _method(cls: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            return stmt
    return None


def _literal(expr: ast.expr) -> _Const | None:
    try:
        return _Const(ast.literal_eval(expr))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _binop(op: ast.operator, a: Any, b: Any) -> Any:
    if isinstance(op, ast.Add):
        return a + b
    if isinstance(op, ast.Sub):
        return a - b
    if isinstance(op, ast.Mult):
        if isinstance(a, list | tuple | str) or isinstance(b, list | tuple | str):
            raise ValueError("no sequence repetition")
        return a * b
    if isinstance(op, ast.FloorDiv):
        return a // b
    if isinstance(op, ast.Div):
        return a / b
    if isinstance(op, ast.Mod):
        return a % b
    raise ValueError("unsupported")


def _tensor_nodes(value: Any) -> set[int]:
    if isinstance(value, Tensor):
        return set(value.nodes)
    if isinstance(value, Seq):
        out: set[int] = set()
        for v in value.items:
            out |= _tensor_nodes(v)
        return out
    return set()


def _merge(a: Any, b: Any) -> Any:
    nodes = _tensor_nodes(a) | _tensor_nodes(b)
    if nodes:
        return Tensor(frozenset(nodes))
    return a if a is not None else b


def _merge_all(items: list[Any]) -> Any:
    nodes: set[int] = set()
    for v in items:
        nodes |= _tensor_nodes(v)
    return Tensor(frozenset(nodes)) if nodes else None


def _unpack(value: Any, n: int) -> list[Any]:
    if isinstance(value, Seq):
        return list(value.items)
    if isinstance(value, _Const) and isinstance(value.value, list | tuple):
        return [_Const(v) for v in value.value]
    # A tensor unpacked into parts (e.g. a split): each part carries the same data flow.
    return [value] * n


def extract(source: str | ast.Module, *, study_compat: bool = False) -> Extraction:
    """Read the API sequences and API set of the model a program builds.

    `study_compat` reproduces the study's extractor where it was narrower than ours: it read
    only functional Keras graphs (`Input` ... `Model(inputs, outputs)`), so a `Sequential` or
    subclassed model fails to extract (and scores 0 there).
    Raises ExtractionError with a one-line reason when no model structure can be read.
    """
    if isinstance(source, str):
        try:
            tree = parse_python(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            raise ExtractionError(f"the program does not parse: {e}") from None
    else:
        tree = source
    interp = _Interpreter(tree, study_compat=study_compat)
    if study_compat:
        entry = interp.module_env.get("dl_model")
        if isinstance(entry, Func) and not any(isinstance(n, ast.Return) for n in entry.node.body):
            interp.violations.add("no_return")
    try:
        return _extract(interp, study_compat)
    except ExtractionError as e:
        e.interp = interp  # type: ignore[attr-defined]
        raise


def _extract(interp: _Interpreter, study_compat: bool) -> Extraction:
    try:
        result, model_line = _build(interp)
    except RecursionError:
        raise ExtractionError("expressions nested too deeply to analyse") from None
    outputs: set[int] = set()
    if isinstance(result, ModelValue):
        outputs = _tensor_nodes(result.outputs)
        model_line = result.line
    elif isinstance(result, Layer):
        if study_compat:
            raise ExtractionError("a Sequential model (the study read functional graphs only)")
        if not result.apis:
            raise ExtractionError("the Sequential model is empty")
        applied = interp._apply_layer(
            result, interp._node(None, frozenset(), model_line or 1).nodes, model_line or 1
        )
        outputs = _tensor_nodes(applied)
    elif isinstance(result, Tensor):
        outputs = set(result.nodes)
    elif isinstance(result, Seq):
        outputs = _tensor_nodes(result)
    if not outputs:
        raise ExtractionError("no model with inputs and outputs found")
    roots = None
    if study_compat and isinstance(result, ModelValue):
        roots = _tensor_nodes(result.inputs)
    unnamed = False
    if study_compat:
        unnamed = _study_unnamed(interp, result) or bool(
            {"ret_list", "ret_layer"} & interp.violations
        )
        if interp.named_output is not None:
            outputs = _tensor_nodes(interp.named_output)
    if interp.violations & STUDY_FAILS.keys():
        first = sorted(interp.violations & STUDY_FAILS.keys())[0]
        raise ExtractionError(f"the study's extractor cannot read {STUDY_FAILS[first]}")
    counted, truncated = _paths(interp.nodes, outputs, roots)
    sequences = [s for s in counted if s]
    sequence_error = None
    if interp.violations & STUDY_SEQUENCE_FAILS.keys():
        first = sorted(interp.violations & STUDY_SEQUENCE_FAILS.keys())[0]
        sequence_error = f"the study's extractor cannot follow {STUDY_SEQUENCE_FAILS[first]}"
        sequences = []
    if not sequences and sequence_error is None and interp.violations & STUDY_CUT.keys():
        first = sorted(interp.violations & STUDY_CUT.keys())[0]
        sequence_error = f"the study's extractor cannot follow {STUDY_CUT[first]}"
    if not sequences and sequence_error is None:
        raise ExtractionError("the model's outputs are not connected to API calls")
    on_paths = list(dict.fromkeys(a for s in sequences for a in s))
    apis = [a for a in interp.called if a not in _MODEL_NAMES and a not in _SEQUENTIAL_NAMES]
    if unnamed:
        apis.append(STUDY_UNNAMED)
    return Extraction(
        sequences,
        apis,
        on_paths,
        dict(interp.called),
        model_line,
        truncated,
        [counted[s] for s in sequences],
        sequence_error,
    )


def _build(interp: _Interpreter) -> tuple[Any, int | None]:
    """Find the entry point (DESIGN.md §4) and interpret it; return (result, line)."""
    env = interp.module_env
    entry = env.get("dl_model")
    if isinstance(entry, Func):
        value = interp._inline(entry, None, {})
        value = _finish(interp, value)
        if value is not None:
            return value, entry.node.lineno
    # A model class: the last nn.Module / keras.Model subclass with forward/call.
    for cls in reversed(list(interp.classes.values())):
        if _method(cls, "forward") or _method(cls, "call"):
            if interp.study_compat:
                raise ExtractionError("a subclassed model (the study read functional graphs only)")
            return _run_class(interp, cls), cls.lineno
    # Module-level code: the last model built at the top level.
    top: dict[str, Any] = dict(env)
    last: tuple[Any, int | None] = (None, None)
    for stmt in interp.tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom):
            continue
        try:
            interp.run_stmt(stmt, top)
        except _Return:
            break
        if isinstance(stmt, ast.Assign):
            value = top.get(stmt.targets[0].id) if isinstance(stmt.targets[0], ast.Name) else None
            if isinstance(value, ModelValue | Layer) and (
                not isinstance(value, Layer) or len(value.apis) > 1
            ):
                last = (value, stmt.lineno)
    if interp.models:
        return interp.models[-1], interp.models[-1].line
    return last


def _finish(interp: _Interpreter, value: Any) -> Any:
    if isinstance(value, Obj):
        if interp.study_compat:
            raise ExtractionError("a subclassed model (the study read functional graphs only)")
        return _forward(interp, value)
    if value is None and interp.models:
        return interp.models[-1]
    return value


def _run_class(interp: _Interpreter, cls: ast.ClassDef) -> Any:
    obj = Obj(cls)
    init = _method(cls, "__init__")
    if init is not None:
        interp._inline(Func(init, None, obj), None, {})
    return _forward(interp, obj)


def _forward(interp: _Interpreter, obj: Obj) -> Any:
    fn = _method(obj.cls, "forward") or _method(obj.cls, "call")
    if fn is None:
        return None
    # Each input parameter is a model input: a source node without an API name.
    scope_args = [a.arg for a in fn.args.args[1:]]
    fake = ast.Call(func=ast.Name("forward"), args=[], keywords=[])
    env: dict[str, Any] = {}
    for i in range(len(scope_args)):
        node_name = f"__input_{i}"
        env[node_name] = interp._node(None, frozenset(), fn.lineno)
        fake.args.append(ast.Name(node_name))
    return interp._inline(Func(fn, None, obj), fake, env)


def _paths(
    nodes: list[Node], outputs: set[int], roots: set[int] | None = None
) -> tuple[dict[tuple[str, ...], int], bool]:
    """Every API sequence on a path from a root (a model input) to an output, with the number
    of paths that spell it (branches that repeat the same layers count once per branch)."""
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


def study_left_out(tree: ast.Module) -> str | None:
    """Why the study left this parsable program out of its per-task mean (None: it scored it).

    A program that defines no function at all, and a `dl_model()` that calls `.fit`,
    `.evaluate` or `.predict`, were averaged as if the file were missing. (`fit_generator`
    alone was not: the published numbers score such a sample 0.)
    """
    if not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in ast.walk(tree)):
        return STUDY_LEFT_OUT["no_function"]
    for fn in ast.walk(tree):
        if not (isinstance(fn, ast.FunctionDef) and fn.name == "dl_model"):
            continue
        for n in ast.walk(fn):
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr in _STUDY_TRAINING_CALLS
            ):
                return STUDY_LEFT_OUT["trains"]
    return None


def _study_reads_loop(stmt: ast.For) -> bool:
    """Did the study's extractor read this loop? It did a loop that calls nothing
    (`for layer in base.layers: layer.trainable = False`) and a repetition
    (`for _ in range(3): x = block(x)`: a constant count, the loop variable unused), not others.
    """
    if not any(isinstance(n, ast.Call) for s in stmt.body for n in ast.walk(s)):
        return True
    it = stmt.iter
    if not (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "range"
        and all(isinstance(a, ast.Constant) and isinstance(a.value, int) for a in it.args)
    ):
        return False
    names = {n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)}
    return not any(
        isinstance(n, ast.Name) and n.id in names for s in stmt.body for n in ast.walk(s)
    )


def _study_unnamed(interp: _Interpreter, result: Any) -> bool:
    """Apply the study's output-name rules; True when its API set had an unnamed entry.

    A tensor dl_model() names as the study expected is the output (`interp.named_output`).
    Without one, `keras.Model(...)` records the `output_name` violation, and a bare
    `Model(...)` gave the study's API set an entry without a name (STUDY_UNNAMED), as did a
    plain alias assignment in dl_model().
    """
    unnamed = False
    call = result.call if isinstance(result, ModelValue) else None
    if call is not None and interp.named_output is None:
        out = next((k.value for k in call.keywords if k.arg == "outputs"), None)
        if out is None and len(call.args) >= 2:
            out = call.args[1]
        if not (isinstance(out, ast.Name) and out.id in STUDY_OUTPUT_NAMES):
            if isinstance(call.func, ast.Name):
                unnamed = True
            else:
                interp.violations.add("output_name")
    entry = interp.module_env.get("dl_model")
    if isinstance(entry, Func) and isinstance(entry.node, ast.FunctionDef):
        unnamed = unnamed or any(
            isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Name)
            and all(isinstance(t, ast.Name) for t in n.targets)
            for n in ast.walk(entry.node)
        )
    return unnamed


def _names_of(expr: ast.expr | None, kind: type | types.UnionType) -> bool:
    """Is `expr` a list or tuple (`kind`) of plain names (`[a, b]`, `a, b`)?"""
    return isinstance(expr, kind) and all(isinstance(e, ast.Name) for e in expr.elts)


def _has_unknown(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, Seq):
        return any(_has_unknown(v) for v in value.items)
    return False


def _rename_clash(fn: ast.FunctionDef) -> bool:
    """Does renaming reassigned variables to `name_1`, `name_2`, … make a name its own input?

    The study made variable names unique by suffixing each reassignment with a counter. Where
    a reassignment is renamed to a name the program already uses and reads that name
    (`path3 = Concatenate()([path3_1, path3_2])` becomes `path3_1 = Concatenate()([path3_1,
    …])`), the sample failed; a clash without such a self-reference was read normally.
    """
    assigned = {
        t.id
        for stmt in _own_statements(fn.body)
        if isinstance(stmt, ast.Assign)
        for t in stmt.targets
        if isinstance(t, ast.Name)
    }
    # Parameters hold a value already: reassigning one is its first renaming.
    count = {a.arg: 1 for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    current: dict[str, str] = {}
    for stmt in _own_statements(fn.body):
        if not isinstance(stmt, ast.Assign):
            continue
        loads = {current.get(n.id, n.id) for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
        for target in stmt.targets:
            if not isinstance(target, ast.Name):
                continue
            name = target.id
            renamed = f"{name}_{count[name]}" if name in count else name
            count[name] = count.get(name, 0) + 1
            current[name] = renamed
            if renamed != name and renamed in assigned and renamed in loads:
                return True
    return False


def _study_merge_return(expr: ast.expr | None) -> bool:
    """Is `expr` an operator on two names or a layer class applied to a list of names?"""
    if isinstance(expr, ast.BinOp):
        return isinstance(expr.left, ast.Name) and isinstance(expr.right, ast.Name)
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Call)
        and isinstance(expr.func.func, ast.Name)
        and len(expr.args) == 1
        and not expr.keywords
        and _names_of(expr.args[0], ast.List)
    )


def _study_return_name(fn: ast.FunctionDef) -> str | None:
    """The variable a helper's `return <expression>` gave the study: its last assigned one."""
    if fn.name == "dl_model":
        return None
    last = None
    for stmt in _own_statements(fn.body):
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    last = t.id
    return last


def _own_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a function body in source order, nested blocks included, nested
    function and class bodies not (they are renamed on their own)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for block in ("body", "orelse", "finalbody"):
            yield from _own_statements(getattr(stmt, block, []))
