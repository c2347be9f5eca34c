"""The DeepEval study's API-sequence rules: how its extractor read (and failed to read) programs.

The study's extractor read assignments of the form `name = Layer(...)(names)` over variable
names, in functional Keras graphs only (`Input` ... `Model(inputs, outputs)`). `StudyRules`
reproduces that reading on our interpreter (api_graph.py): the constructs it could not read are
recorded while the graph is still built, and then fail the sample, lose its sequences or cut
its graph as the study's published per-task scores show they did. Which construct does what was
measured against those scores (perf/semantic_study.py); docs/semantic.md ("Study-compatible mode
and the calibration") gives the evidence for each rule.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from deepeval_lsp.diagnostics.semantic.graph import (
    Func,
    Layer,
    ModelValue,
    Seq,
    merge,
    tensor_nodes,
)
from deepeval_lsp.diagnostics.semantic.rules import Rules

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.semantic.api_graph import Interpreter

# The constructs below fail the whole sample (0 for the API set and the API sequences) ...
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
# (StudyRules.left_out; forced by the published means, docs/semantic.md).
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
# The scope entry naming the variable a helper's `return <expression>` returns.
_STUDY_RETURN = "<study return>"


class StudyRules(Rules):
    """The study's reading (docs/semantic.md, "Study-compatible mode and the calibration")."""

    # -- naming ---------------------------------------------------------------------------------

    def api_name(self, name: str) -> str:
        """Names as written: the study compared `relu` and `ReLU` as two APIs."""
        return name

    # -- statements -----------------------------------------------------------------------------

    def on_program(self, interp: Interpreter) -> None:
        """`dl_model()` without a `return` loses the sequences (docs/semantic.md, rules table)."""
        entry = interp.module_env.get("dl_model")
        if isinstance(entry, Func) and not any(isinstance(n, ast.Return) for n in entry.node.body):
            interp.violations.add("no_return")

    def on_loop(self, interp: Interpreter, stmt: ast.For) -> None:
        """A loop fails the sample unless the study read it (`_study_reads_loop`; 23 forced
        read, 7 forced 0 in docs/semantic.md)."""
        if not _study_reads_loop(stmt):
            interp.violations.add("noloop")

    def on_bind(self, interp: Interpreter, name: str, value: Any) -> None:
        """The first tensor dl_model()'s own body names `output_layer`, `outputs` or `output` is
        the model's output (the study renamed reassignments; 85 tasks exact, docs/semantic.md)."""
        if (
            interp.depth == 1  # dl_model()'s own body, not a helper's
            and name in STUDY_OUTPUT_NAMES
            and interp.named_output is None
            and tensor_nodes(value)
        ):
            interp.named_output = value

    def return_value(self, interp: Interpreter, stmt: ast.Return, env: dict[str, Any]) -> Any:
        """A helper returning an operator on two names or a layer class applied to a list of
        names returns its last assigned variable; a returned call adds the unnamed set entry
        (the returned-expression rule, 13 samples forced for, 2 against: docs/semantic.md)."""
        if _STUDY_RETURN in env and _study_merge_return(stmt.value):
            if isinstance(stmt.value, ast.Call):
                interp.violations.add("ret_layer")
            return env.get(env[_STUDY_RETURN])
        return super().return_value(interp, stmt, env)

    # -- expressions ----------------------------------------------------------------------------

    def operator(self, interp: Interpreter, expr: ast.BinOp, left: Any, right: Any) -> Any:
        """An operator on tensors cuts the graph: its result starts a path no model input
        reaches, so only the paths around it are read (gemma fewshot hard_task_19)."""
        if tensor_nodes(left) or tensor_nodes(right):
            interp.violations.add("binop")
            return interp.add_node(None, frozenset(), expr.lineno)
        return merge(left, right)

    def on_api_call(self, interp: Interpreter, call: ast.Call, env: dict[str, Any]) -> None:
        """An API called on a name holding another API call's result (`to_categorical(y_train)`
        after `load_data()`) fails the sample (docs/semantic.md, rules table)."""
        if any(
            isinstance(a, ast.Name) and isinstance(interp.eval(a, env), Layer)
            for a in [*call.args, *(k.value for k in call.keywords)]
        ):
            interp.violations.add("data_op")

    def on_direct_call(self, interp: Interpreter, call: ast.Call) -> None:
        """An API applied directly to tensors (`tf.concat(...)`, `layers.add([...])`) fails the
        sample: the study read only `Layer(...)(names)` (docs/semantic.md, rules table)."""
        interp.violations.add("direct_op")

    def reads_constructor_argument(
        self, interp: Interpreter, arg: ast.expr, env: dict[str, Any], line: int
    ) -> bool:
        """`Lambda(helper)`: the study inlined every helper, so the helper's failures count; its
        calls and nodes are not kept (the helper is read on a dummy tensor)."""
        if not isinstance(arg, ast.Name):
            return False
        f = env.get(arg.id, interp.module_env.get(arg.id))
        if not (isinstance(f, Func) and isinstance(f.node, ast.FunctionDef)):
            return False
        saved, n_nodes = dict(interp.called), len(interp.nodes)
        dummy = {"__t": interp.add_node(None, frozenset(), line)}
        fake = ast.Call(func=arg, args=[ast.Name("__t")], keywords=[])
        interp.inline(f, fake, dummy)
        interp.called = saved
        del interp.nodes[n_nodes:]
        return True

    def reads_layer_object(self, interp: Interpreter, call: ast.Call) -> bool:
        """A layer object applied later (`conv = Conv2D(...)`, then `conv(x)`) fails the sample:
        the study read a layer only where it is constructed (docs/semantic.md, rules table)."""
        if not isinstance(call.func, ast.Call):
            interp.violations.add("layer_obj")
            return False
        return True

    def cuts_inline_calls(self, interp: Interpreter, call: ast.Call) -> bool:
        """An inline call as a layer's argument cuts the graph in dl_model()'s own body, and
        loses the sequences in a helper or inside a list (the inline-call rule: 1,169 exact,
        docs/semantic.md)."""
        if any(
            isinstance(a, ast.List | ast.Tuple) and any(isinstance(e, ast.Call) for e in a.elts)
            for a in call.args
        ):
            interp.violations.add("nested_call")
            return False
        if any(isinstance(a, ast.Call) for a in call.args):
            inline_cut = interp.depth == 1
            interp.violations.add("nested_cut" if inline_cut else "nested_call")
            return inline_cut
        return False

    def on_layer_arguments(
        self, interp: Interpreter, call: ast.Call, env: dict[str, Any], line: int
    ) -> None:
        """The study's graph is over variable names: a layer applied to a name that holds no
        tensor (a shape tuple) makes that name a source, and the sequences are lost."""
        for a in call.args:
            if isinstance(a, ast.Name) and not tensor_nodes(interp.eval(a, env)):
                env[a.id] = interp.add_node(None, frozenset(), line)
                interp.violations.add("name_root")

    def on_layer_input(self, interp: Interpreter, value: Any) -> None:
        """A layer applied to a value the graph does not know fails the sample (rules table)."""
        if _has_unknown(value):
            interp.violations.add("strict_args")

    def on_inline(
        self, interp: Interpreter, func: Func, call: ast.Call | None, scope: dict[str, Any]
    ) -> None:
        """The study's rules for the functions it inlined: how they return, where they are
        defined, how they are called, their parameter `x`, their renamed variables."""
        fn = func.node
        if not isinstance(fn, ast.FunctionDef):
            return
        self._returns(interp, fn, scope)
        if interp.depth >= 2:
            interp.violations.add("helper_helper")
        if fn.name != "dl_model" and func.env is None:
            interp.violations.add("mod_helper")
        if call is not None and call.args and call.keywords:
            interp.violations.add("helper_mixed_args")
        if fn.name != "dl_model" and tensor_nodes(scope.get("x")):
            # A helper's parameter named x cuts the study's graph like an operator: the helper's
            # result starts no path from an input (docs/semantic.md: 1,168 exact as a cut).
            scope["x"] = interp.add_node(None, frozenset(), fn.lineno)
            interp.violations.add("param_x")
        if _rename_clash(fn):
            interp.violations.add("rename_clash")

    def _returns(self, interp: Interpreter, fn: ast.FunctionDef, scope: dict[str, Any]) -> None:
        """A function returning an expression rather than a variable fails the sample, except a
        list of names (read, with the unnamed entry), a tuple of names (sequences lost) and the
        expressions `return_value` reads as the last assigned variable."""
        rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
        for r in rets:
            if _names_of(r.value, ast.List):
                interp.violations.add("ret_list")
            elif _names_of(r.value, ast.Tuple):
                interp.violations.add("ret_tuple")
        rets = [r for r in rets if not _names_of(r.value, ast.List | ast.Tuple)]
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
            interp.violations.add("ret_call")
        if fn.name == "dl_model" and any(not isinstance(r.value, ast.Name) for r in rets):
            interp.violations.add("dl_ret_call")

    # -- the model ------------------------------------------------------------------------------

    def refuses_model(self, kind: str) -> str | None:
        """Sequential and subclassed models fail: the study read functional graphs only."""
        return f"a {kind} model (the study read functional graphs only)"

    def path_roots(self, result: Any) -> set[int] | None:
        """Paths start at the inputs `Model(...)` names: the study followed names from them."""
        return tensor_nodes(result.inputs) if isinstance(result, ModelValue) else None

    def unnamed_entries(self, interp: Interpreter, result: Any) -> list[str]:
        """The study's set entry without an API name (STUDY_UNNAMED), for a bare `Model(...)`
        output, an alias, a returned list or a returned layer call (docs/semantic.md)."""
        unnamed = _study_unnamed(interp, result) or bool(
            {"ret_list", "ret_layer"} & interp.violations
        )
        return [STUDY_UNNAMED] if unnamed else []

    def outputs(self, interp: Interpreter, outputs: set[int]) -> set[int]:
        """The tensor dl_model() named as the study expected (`on_bind`) is the output."""
        if interp.named_output is not None:
            return tensor_nodes(interp.named_output)
        return outputs

    def sample_failure(self, violations: set[str]) -> str | None:
        """The first recorded construct of STUDY_FAILS, which the study scored 0."""
        return _first(violations, STUDY_FAILS, "read")

    def sequence_failure(self, violations: set[str]) -> str | None:
        """The first recorded construct of STUDY_SEQUENCE_FAILS: the study kept the set only."""
        return _first(violations, STUDY_SEQUENCE_FAILS, "follow")

    def cut_failure(self, violations: set[str]) -> str | None:
        """The first recorded construct of STUDY_CUT, when it left no path to the output."""
        return _first(violations, STUDY_CUT, "follow")

    def left_out(self, tree: ast.Module) -> str | None:
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


STUDY_RULES = StudyRules()


def _first(violations: set[str], table: dict[str, str], verb: str) -> str | None:
    """The message for the alphabetically first violation in `table` (None: there is none)."""
    found = violations & table.keys()
    if not found:
        return None
    return f"the study's extractor cannot {verb} {table[sorted(found)[0]]}"


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


def _study_unnamed(interp: Interpreter, result: Any) -> bool:
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
