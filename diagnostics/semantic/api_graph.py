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

Where readings of a program differ, the interpreter asks a `Rules` object (rules.py): ours by
default, or the DeepEval study's (`StudyRules`, study_rules.py). The values it computes, the
graph and the path enumeration are in graph.py.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from deepeval_lsp.diagnostics.semantic.graph import (
    Const,
    Func,
    Layer,
    ModelValue,
    Node,
    Obj,
    Seq,
    Tensor,
    merge,
    merge_all,
    paths,
    tensor_nodes,
)
from deepeval_lsp.diagnostics.semantic.rules import OUR_RULES, Rules
from deepeval_lsp.diagnostics.text import attribute_chain, parse_python

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


class ExtractionError(Exception):
    """The program's model structure could not be read; the message says why (one line)."""


@dataclass
class Extraction:
    """What the semantic comparison needs from one program."""

    sequences: list[tuple[str, ...]]  # distinct API sequences, input -> output
    apis: list[str]  # distinct API names called while building the model, first call first
    path_apis: list[str]  # distinct API names on the input -> output paths
    api_lines: dict[str, int]  # API name -> 1-based line of its first call
    model_line: int | None  # where the model is constructed or returned
    truncated: bool = False  # more paths than graph.MAX_PATHS per node
    # How many input -> output paths spell each sequence (parallel branches of the same
    # layers are several paths); scores weigh each sequence by it.
    counts: list[int] = field(default_factory=list)
    # Why there are no sequences although the API set was read (rules that drop or cut them).
    sequence_error: str | None = None

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [1] * len(self.sequences)


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class Interpreter:
    """Interprets a program abstractly, building its data-flow graph, as `rules` read it."""

    def __init__(self, tree: ast.Module, rules: Rules) -> None:
        self.tree = tree
        self.rules = rules
        self.nodes: list[Node] = []
        self.aliases: dict[str, str] = {}  # local name -> imported dotted name
        self.module_env: dict[str, Any] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.called: dict[str, int] = {}  # API name -> first line, in call order
        self.models: list[ModelValue] = []
        self.depth = 0
        self.steps = 0
        # What the rules record while reading: the constructs they noted (names their
        # `*_failure` methods look up), and an output found by name (None: Model(...)'s own).
        self.violations: set[str] = set()
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

    def add_node(self, api: str | None, preds: frozenset[int], line: int) -> Tensor:
        """Append a node (api None: a source without an API name); the tensor it produces."""
        self.nodes.append(Node(api, tuple(sorted(preds)), line))
        if api is not None:
            self.called.setdefault(api, line)
        return Tensor(frozenset({len(self.nodes) - 1}))

    def _apply_layer(self, layer: Layer, inputs: frozenset[int], line: int) -> Any:
        current: Any = Tensor(inputs)
        for k, (item, _) in enumerate(layer.apis):
            if not isinstance(item, Obj):
                current = self.add_node(item, current.nodes, line)
                continue
            # A block module inside a Sequential: run its forward.
            current = self._run_forward(item, current)
            if k < len(layer.apis) - 1:
                nodes = tensor_nodes(current)
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
        return self.inline(Func(fn, None, obj), fake, scope)

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
            self._bind(stmt.target, merge(left, right), env)
        elif isinstance(stmt, ast.Expr):
            self.eval(stmt.value, env)
        elif isinstance(stmt, ast.Return):
            raise _Return(self.rules.return_value(self, stmt, env))
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
            if isinstance(test, Const):
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
        self.rules.on_loop(self, stmt)
        iterable = self.eval(stmt.iter, env)
        items: list[Any] | None = None
        if isinstance(iterable, Const) and isinstance(iterable.value, list | tuple | range):
            items = [Const(v) for v in iterable.value]
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
            self.rules.on_bind(self, target.id, value)
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
                and isinstance(index, Const)
                and isinstance(index.value, int)
                and -len(owner.items) <= index.value < len(owner.items)
            ):
                owner.items[index.value] = value

    def _lookup_target(self, target: ast.expr, env: dict[str, Any]) -> Any:
        return self.eval(target, env)

    # -- expressions ----------------------------------------------------------------------------

    def eval(self, expr: ast.expr | None, env: dict[str, Any]) -> Any:
        """The abstract value of an expression in scope `env`."""
        if expr is None:
            return None
        if isinstance(expr, ast.Constant):
            return Const(expr.value)
        if isinstance(expr, ast.Name):
            if expr.id in env:
                return env[expr.id]
            if expr.id in self.module_env:
                return self.module_env[expr.id]
            return None
        if isinstance(expr, ast.Tuple | ast.List):
            items = [self.eval(e, env) for e in expr.elts]
            if all(isinstance(i, Const) for i in items):
                return Const([i.value for i in items])
            return Seq(items)
        if isinstance(expr, ast.Call):
            return self._call(expr, env)
        if isinstance(expr, ast.Subscript):
            owner = self.eval(expr.value, env)
            index = self.eval(expr.slice, env)
            if isinstance(owner, Seq):
                if isinstance(index, Const) and isinstance(index.value, int):
                    if -len(owner.items) <= index.value < len(owner.items):
                        return owner.items[index.value]
                    return None
                return merge_all(owner.items)
            if isinstance(owner, Const) and isinstance(index, Const):
                try:
                    return Const(owner.value[index.value])
                except Exception:
                    return None
            if (
                isinstance(owner, Layer)
                and isinstance(index, Const)
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
            if isinstance(left, Const) and isinstance(right, Const):
                try:
                    return Const(_binop(expr.op, left.value, right.value))
                except Exception:
                    return None
            return self.rules.operator(self, expr, left, right)
        if isinstance(expr, ast.UnaryOp):
            operand = self.eval(expr.operand, env)
            if isinstance(operand, Const) and isinstance(expr.op, ast.USub):
                try:
                    return Const(-operand.value)
                except Exception:
                    return None
            return operand if isinstance(operand, Tensor) else None
        if isinstance(expr, ast.Compare | ast.BoolOp):
            return None
        if isinstance(expr, ast.IfExp):
            return merge(self.eval(expr.body, env), self.eval(expr.orelse, env))
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
        if isinstance(iterable, Const) and isinstance(iterable.value, list | tuple | range):
            items = [Const(v) for v in iterable.value]
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
                return self.add_node(self.rules.api_name(func.attr), frozenset(sources), line)
            if isinstance(owner, Func | ModelValue):
                return None
            if isinstance(owner, Const):
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
            and all(isinstance(a, Const) and isinstance(a.value, int) for a in args)
        ):
            try:
                return Const(range(*[a.value for a in args]))
            except (TypeError, ValueError):
                return None
        if name in {"list", "tuple", "reversed"} and len(args) == 1:
            if isinstance(args[0], Seq):
                return Seq(
                    list(reversed(args[0].items)) if name == "reversed" else list(args[0].items)
                )
            return args[0]
        if name in {"int", "len"} and len(args) == 1 and isinstance(args[0], Const):
            try:
                return Const(int(args[0].value) if name == "int" else len(args[0].value))
            except Exception:
                return None
        if name == "enumerate" and len(args) == 1 and isinstance(args[0], Seq | Const):
            items = args[0].items if isinstance(args[0], Seq) else [Const(v) for v in args[0].value]
            return Seq([Seq([Const(i), v]) for i, v in enumerate(items)])
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
        return None if name is None else self.rules.api_name(name)

    def _tensor_args(self, call: ast.Call, env: dict[str, Any]) -> set[int]:
        sources: set[int] = set()
        for a in [*call.args, *(k.value for k in call.keywords)]:
            sources |= tensor_nodes(self.eval(a, env))
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
            return self.add_node(name, frozenset(), line)
        self.rules.on_api_call(self, call, env)
        sources = self._tensor_args(call, env)
        if sources:
            self.rules.on_direct_call(self, call)
            return self.add_node(name, frozenset(sources), line)
        # A constructor whose result is applied later (or a layer Lambda wraps): a layer object.
        for a in [*call.args, *(k.value for k in call.keywords)]:
            if isinstance(a, ast.Lambda) or self.rules.reads_constructor_argument(
                self, a, env, line
            ):
                continue
            self.eval(a, env)  # nested constructor calls (e.g. regularizers) count as called
        self.called.setdefault(name, line)
        return Layer(((name, line),))

    def _invoke(self, target: Any, call: ast.Call, env: dict[str, Any], line: int) -> Any:
        if isinstance(target, Layer):
            if not self.rules.reads_layer_object(self, call):
                return None
            inline_cut = self.rules.cuts_inline_calls(self, call)
            self.rules.on_layer_arguments(self, call, env, line)
            args = [
                self._eval_cut(a, env, line) if inline_cut else self.eval(a, env) for a in call.args
            ]
            args += [
                self.eval(k.value, env) for k in call.keywords if k.arg in {"inputs", "x", "input"}
            ]
            inputs: set[int] = set()
            for a in args:
                inputs |= tensor_nodes(a)
                self.rules.on_layer_input(self, a)
            if not inputs:
                return None
            return self._apply_layer(target, frozenset(inputs), line)
        if isinstance(target, Func):
            return self.inline(target, call, env)
        if isinstance(target, Obj):
            forward = _method(target.cls, "forward") or _method(target.cls, "call")
            if forward is None:
                return None
            return self.inline(Func(forward, None, target), call, env)
        if isinstance(target, ModelValue):
            args = [self.eval(a, env) for a in call.args]
            inputs: set[int] = set()
            for a in args:
                inputs |= tensor_nodes(a)
            return Tensor(frozenset(inputs) | tensor_nodes(target.outputs)) if inputs else None
        return None

    def _eval_cut(self, expr: ast.expr, env: dict[str, Any], line: int) -> Any:
        """Evaluate a layer's argument; an inline call in it gives a source no input reaches."""
        if isinstance(expr, ast.Call):
            value = self.eval(expr, env)
            return self.add_node(None, frozenset(), line) if tensor_nodes(value) else value
        if isinstance(expr, ast.List | ast.Tuple):
            return Seq([self._eval_cut(e, env, line) for e in expr.elts])
        return self.eval(expr, env)

    def inline(self, func: Func, call: ast.Call | None, env: dict[str, Any]) -> Any:
        """Run a function's body with `call`'s arguments (evaluated in `env`); its return value."""
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
        self.rules.on_inline(self, func, call, scope)
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
            self.inline(Func(init, None, obj), call, env)
        return obj


def _method(cls: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            return stmt
    return None


def _literal(expr: ast.expr) -> Const | None:
    try:
        return Const(ast.literal_eval(expr))
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


def _unpack(value: Any, n: int) -> list[Any]:
    if isinstance(value, Seq):
        return list(value.items)
    if isinstance(value, Const) and isinstance(value.value, list | tuple):
        return [Const(v) for v in value.value]
    # A tensor unpacked into parts (e.g. a split): each part carries the same data flow.
    return [value] * n


def extract(source: str | ast.Module, *, rules: Rules = OUR_RULES) -> Extraction:
    """Read the API sequences and API set of the model a program builds, as `rules` read it.

    `rules` is our reading by default; `study_rules.STUDY_RULES` reproduces the study's
    extractor where it was narrower than ours (e.g. it read only functional Keras graphs, so a
    `Sequential` or subclassed model fails to extract and scores 0 there).
    Raises ExtractionError with a one-line reason when no model structure can be read.
    """
    if isinstance(source, str):
        try:
            tree = parse_python(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            raise ExtractionError(f"the program does not parse: {e}") from None
    else:
        tree = source
    interp = Interpreter(tree, rules)
    rules.on_program(interp)
    try:
        return _extract(interp)
    except ExtractionError as e:
        e.interp = interp  # type: ignore[attr-defined]
        raise


def _extract(interp: Interpreter) -> Extraction:
    rules = interp.rules
    try:
        result, model_line = _build(interp)
    except RecursionError:
        raise ExtractionError("expressions nested too deeply to analyse") from None
    outputs: set[int] = set()
    if isinstance(result, ModelValue):
        outputs = tensor_nodes(result.outputs)
        model_line = result.line
    elif isinstance(result, Layer):
        _check_model_kind(interp, "Sequential")
        if not result.apis:
            raise ExtractionError("the Sequential model is empty")
        applied = interp._apply_layer(
            result, interp.add_node(None, frozenset(), model_line or 1).nodes, model_line or 1
        )
        outputs = tensor_nodes(applied)
    elif isinstance(result, Tensor):
        outputs = set(result.nodes)
    elif isinstance(result, Seq):
        outputs = tensor_nodes(result)
    if not outputs:
        raise ExtractionError("no model with inputs and outputs found")
    roots = rules.path_roots(result)
    unnamed = rules.unnamed_entries(interp, result)
    outputs = rules.outputs(interp, outputs)
    failure = rules.sample_failure(interp.violations)
    if failure is not None:
        raise ExtractionError(failure)
    counted, truncated = paths(interp.nodes, outputs, roots)
    sequences = [s for s in counted if s]
    sequence_error = rules.sequence_failure(interp.violations)
    if sequence_error is not None:
        sequences = []
    elif not sequences:
        sequence_error = rules.cut_failure(interp.violations)
    if not sequences and sequence_error is None:
        raise ExtractionError("the model's outputs are not connected to API calls")
    on_paths = list(dict.fromkeys(a for s in sequences for a in s))
    apis = [a for a in interp.called if a not in _MODEL_NAMES and a not in _SEQUENTIAL_NAMES]
    apis.extend(unnamed)
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


def _build(interp: Interpreter) -> tuple[Any, int | None]:
    """Find the entry point (DESIGN.md §4) and interpret it; return (result, line)."""
    env = interp.module_env
    entry = env.get("dl_model")
    if isinstance(entry, Func):
        value = interp.inline(entry, None, {})
        value = _finish(interp, value)
        if value is not None:
            return value, entry.node.lineno
    # A model class: the last nn.Module / keras.Model subclass with forward/call.
    for cls in reversed(list(interp.classes.values())):
        if _method(cls, "forward") or _method(cls, "call"):
            _check_model_kind(interp, "subclassed")
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


def _finish(interp: Interpreter, value: Any) -> Any:
    if isinstance(value, Obj):
        _check_model_kind(interp, "subclassed")
        return _forward(interp, value)
    if value is None and interp.models:
        return interp.models[-1]
    return value


def _check_model_kind(interp: Interpreter, kind: str) -> None:
    refused = interp.rules.refuses_model(kind)
    if refused is not None:
        raise ExtractionError(refused)


def _run_class(interp: Interpreter, cls: ast.ClassDef) -> Any:
    obj = Obj(cls)
    init = _method(cls, "__init__")
    if init is not None:
        interp.inline(Func(init, None, obj), None, {})
    return _forward(interp, obj)


def _forward(interp: Interpreter, obj: Obj) -> Any:
    fn = _method(obj.cls, "forward") or _method(obj.cls, "call")
    if fn is None:
        return None
    # Each input parameter is a model input: a source node without an API name.
    scope_args = [a.arg for a in fn.args.args[1:]]
    fake = ast.Call(func=ast.Name("forward"), args=[], keywords=[])
    env: dict[str, Any] = {}
    for i in range(len(scope_args)):
        node_name = f"__input_{i}"
        env[node_name] = interp.add_node(None, frozenset(), fn.lineno)
        fake.args.append(ast.Name(node_name))
    return interp.inline(Func(fn, None, obj), fake, env)
