"""The model a program defines, found in the order of DESIGN.md §4: a `dl_model()` function,
a module-level model variable, a factory function of the file that returns a model, the
outermost model class. Factories and classes are called with the arguments of
child/arguments.py; those the check chose are `run.assumed`, and a failure with them is a note
(`not_the_programs`), not the program's error."""

from __future__ import annotations

import ast
import os
from typing import Any

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.arguments import Arguments, fill, signature_of
from deepeval_lsp.diagnostics.dynamic.child.layers import is_model, is_model_class
from deepeval_lsp.diagnostics.dynamic.child.plan import Plan
from deepeval_lsp.diagnostics.dynamic.child.run_state import MODULE_NAME, Run
from deepeval_lsp.diagnostics.sandbox.audit import SandboxViolation

NO_ENTRY = (
    "no model entry point (a dl_model() function, a module-level model, a function returning "
    "a model or an nn.Module/keras.Model subclass): dynamic checks did not run"
)


def find_model(run: Run, ns: dict[str, Any], plan: Plan, sl: Any) -> Any:
    """The model the executed program `ns` defines (building it); None, with a note saying
    why, when there is none. Sets `run.entry` to how it was reached, `run.assumed` to the
    arguments the check chose."""
    model = None
    kind = plan.entry_kind
    if kind == "dl_model" and callable(ns.get("dl_model")):
        run.entry = "dl_model()"
        model = ns["dl_model"]()
    if model is None and kind in ("variable", "dl_model"):
        names = sorted(plan.slice_vars, key=lambda n: n != "model")
        for n in names:
            if is_model(ns.get(n)):
                model, run.entry = ns[n], n
                break
        if model is None and plan.slice_vars:
            blocked = [f"{n} (line {line})" for n, line in sl.blocked.items()]
            if blocked:
                run.notes.append(
                    "the model depends on data loading or training code that the "
                    f"check does not run: {', '.join(blocked)}"
                )
                return None
    if model is None and run.entry is None:
        return _build_candidate(run, ns, plan)
    if model is None:
        run.notes.append(f"{run.entry} did not return a model")
    return model


def _candidates(ns: dict[str, Any], plan: Plan) -> list[tuple[str, Any, bool]]:
    """(name, callable, is a class): the factories, then the outermost model classes, then the
    others (tried when none of the outermost can be filled). Classes of the file that the syntax
    could not tell are models (an imported base) count once they are."""
    out: list[tuple[str, Any, bool]] = [
        (f, ns[f], False) for f in plan.factories if callable(ns.get(f))
    ]
    classes = [
        c
        for c in plan.classes
        if isinstance(ns.get(c), type)
        and getattr(ns[c], "__module__", "") == MODULE_NAME
        and is_model_class(ns[c])
    ]
    top = [c for c in classes if c in plan.classes[: plan.top_classes]]
    rest = [c for c in classes if c not in top]
    return out + [(c, ns[c], True) for c in top + rest]


def _build_candidate(run: Run, ns: dict[str, Any], plan: Plan) -> Any:
    """Call the first candidate whose arguments are known or can be assumed; a note when none
    can be built."""
    defs = {s.name: s for s in run.tree.body if isinstance(s, ast.ClassDef | ast.FunctionDef)}
    filled = [
        (name, obj, is_cls, fill(obj, ns, run.tree, defs.get(name)))
        for name, obj, is_cls in _candidates(ns, plan)
    ]
    makers = {name: obj for name, obj, _c, _a in filled}
    model = _program_built(run, ns, plan, makers)
    if model is None and not any(not a.missing and not a.assumed for *_, a in filled):
        model = _readme_built(run, ns, makers)
    if model is _SAID:
        return None
    if model is not None:
        return model
    said = False
    for name, obj, is_cls, args in filled:
        if args.missing:
            continue
        run.entry = args.call(name)
        run.assumed = [s for s in args.shown if s.partition("=")[0] in args.assumed]
        model = _call(run, name, obj, is_cls, args)
        if model is _SAID:
            said = True
            continue  # the failure is a note: the next candidate may build
        if is_model(model):
            if run.assumed:
                run.notes.append(
                    f"built as {run.entry}: {', '.join(args.assumed)} assumed; set "
                    f"{'them' if len(args.assumed) > 1 else 'it'} with a module-level "
                    f"model = {name}(…) or a dl_model() function"
                )
            return model
        # a function the syntax took for a factory: the next candidate
    run.entry, run.assumed = None, []
    if said:
        return None
    if filled:
        name, _obj, _is_cls, args = filled[0]
        run.notes.append(
            f"{name} needs constructor arguments ({', '.join(args.missing)}): add a "
            f"dl_model() function or a module-level model = {name}(…) to check it"
        )
    else:
        run.notes.append(NO_ENTRY)
    return None


# Callables an argument of the program's own call may call while the check evaluates it: the
# builtins below, the file's classes and functions, and the layers of the frameworks.
_PURE_BUILTINS = frozenset(
    {dict, list, tuple, set, int, float, str, bool, range, len, min, max, round, abs, sum}
)
_LAYER_MODULES = ("torch.nn", "keras", "tf_keras", "tensorflow.python.keras")


def _program_built(run: Run, ns: dict[str, Any], plan: Plan, makers: dict[str, Any]) -> Any:
    """The model as the program itself builds it in one of its functions or its `__main__`
    block (`model = GPTModel(cfg)` in main()), with the values the program gives there (the
    function's defaults, the assignments before the call): the program's own choice, so a
    failure is its error. None when no such call's arguments can be evaluated."""
    for own in plan.own_calls:
        obj = makers.get(own.callee)
        if obj is None:
            continue
        env = _scope_values(ns, own)
        try:
            args, kwargs = _arguments_of(own.call, env)
        except Exception:
            continue
        run.entry = " ".join(ast.unparse(own.call).split())
        where = f"{own.scope}()" if own.scope else "the __main__ block"
        run.notes.append(
            f"built as the program builds it in {where} (line {own.call.lineno}): {run.entry}"
        )
        try:
            model = obj(*args, **kwargs)
        except SandboxViolation as e:
            # (downloading its pretrained weights, most often): what it would load is unknown
            run.notes[-1] += (
                f"; building it does what the check may not ({e}), so it is not checked"
            )
            run.entry = None
            return _SAID
        if is_model(model):
            return model
        run.notes.pop()
        run.entry = None
    return None


_MOST_README_CALLS = 4  # tried, of the README's calls of the file's models


def _readme_built(run: Run, ns: dict[str, Any], makers: dict[str, Any]) -> Any:
    """The model as the project's README builds it (dynamic/usages.py), the outermost model
    first, with the values its block gives; None when no such call builds one. A call that fails
    to construct says so in a note (the README may be older than the code): the next is tried."""
    order = list(makers)
    usages = sorted(
        (u for u in run.usages if u.get("callee") in makers),
        key=lambda u: (bool(u.get("part")), order.index(u["callee"])),
    )
    for u in usages[:_MOST_README_CALLS]:
        try:
            call = ast.parse(u["call"], mode="eval").body
            if not isinstance(call, ast.Call):
                continue
            # `x_transformers.TransformerWrapper(…)`: the file's own TransformerWrapper
            call.func = ast.copy_location(ast.Name(u["callee"], ast.Load()), call.func)
            env = dict(ns)
            for text in u["assignments"]:
                (stmt,) = ast.parse(text).body
                if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                    name = stmt.targets[0].id
                    try:
                        env[name] = _evaluate(stmt.value, env)
                    except Exception:
                        env.pop(name, None)
            args, kwargs = _arguments_of(call, env)
        except Exception:
            continue
        where = f"{os.path.relpath(u['file'], os.path.dirname(run.path) or '.')}:{u['line']}"
        entry = " ".join(ast.unparse(call).split())
        try:
            model = makers[u["callee"]](*args, **kwargs)
        except SandboxViolation as e:
            run.notes.append(
                f"{where} builds {entry}, which does what the check may not ({e}): not checked"
            )
            return _SAID
        except Exception as e:
            run.notes.append(
                f"{where} builds {entry}, which fails here ({type(e).__name__}: {e}); "
                "not checked that way"
            )
            continue
        if is_model(model):
            run.entry = entry
            run.notes.append(f"built as {where} shows: {entry}")
            return model
    return None


def _scope_values(ns: dict[str, Any], own: Any) -> dict[str, Any]:
    """The names the call's arguments can read: the module's, the enclosing function's
    parameters with their defaults, and what the assignments before the call give (those that
    only compute values: no loading, no training)."""
    env = dict(ns)
    func = ns.get(own.scope) if own.scope else None
    sig = signature_of(func) if callable(func) else None
    for p in sig.parameters.values() if sig is not None else ():
        if p.kind is p.VAR_KEYWORD:
            env[p.name] = {}
        elif p.kind is p.VAR_POSITIONAL:
            env[p.name] = ()
        elif p.default is not p.empty:
            env[p.name] = p.default
        else:
            env.pop(p.name, None)
    for a in own.assignments:
        target = a.targets[0].id
        try:
            env[target] = _evaluate(a.value, env)
        except Exception:
            env.pop(target, None)  # a later read of it fails, not a stale value
    return env


def _arguments_of(call: ast.Call, env: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    for a in call.args:
        if isinstance(a, ast.Starred):
            args.extend(_evaluate(a.value, env))
        else:
            args.append(_evaluate(a, env))
    kwargs: dict[str, Any] = {}
    for k in call.keywords:
        if k.arg is None:
            kwargs.update(_evaluate(k.value, env))
        else:
            kwargs[k.arg] = _evaluate(k.value, env)
    return args, kwargs


def _evaluate(node: ast.expr, env: dict[str, Any]) -> Any:
    """`node`'s value in `env`; ValueError when it calls anything but a pure builtin, a class
    or function of the file, or a framework layer."""
    for n in ast.walk(node):
        if isinstance(n, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr):
            raise ValueError("not a plain value")
        if isinstance(n, ast.Call):
            if any(isinstance(m, ast.Call) for m in ast.walk(n.func)):
                raise ValueError("a computed callee")
            callee = eval(compile(ast.Expression(n.func), "<own call>", "eval"), env)
            if not _pure_callee(callee):
                raise ValueError(f"calls {callee!r}")
    return eval(compile(ast.Expression(node), "<own call>", "eval"), env)


def _pure_callee(obj: Any) -> bool:
    try:
        if obj in _PURE_BUILTINS:
            return True
    except TypeError:  # unhashable
        return False
    module = getattr(obj, "__module__", None) or ""
    return module == MODULE_NAME or (isinstance(obj, type) and module.startswith(_LAYER_MODULES))


_SAID = object()  # the call's failure is already a note


def _call(run: Run, name: str, obj: Any, is_cls: bool, args: Arguments) -> Any:
    """The candidate called as the check chose; `_SAID` when its failure is not the program's
    (a note then says why). A failure with assumed values is left to `not_the_programs`."""
    try:
        return obj(**args.kwargs)
    except Exception as e:
        if args.assumed:
            raise
        why = _refused(run, obj, is_cls, e) or _variadic_unfilled(obj, e)
        if why is None:
            raise
        run.notes.append(
            f"the check called {args.call(name)}, which the program never builds that way, and "
            f"{why}: add a dl_model() function or a module-level model = {name}(…) to check it"
        )
        run.entry = None
        return _SAID


def _variadic_unfilled(obj: Any, exc: BaseException) -> str | None:
    """Why a call given nothing for its *args/**kwargs failed, when it takes them: what they
    carry is unknown (`ResNet50(**kwargs)` wants the Keras modules injected, a factory passes
    `**vq_kwargs` on to a layer with required arguments). A name the code never defined fails
    whatever the arguments: no such reason then."""
    sig = signature_of(obj)
    if sig is None or isinstance(exc, NameError | ImportError):
        return None
    variadic = [
        ("*" if p.kind is p.VAR_POSITIONAL else "**") + p.name
        for p in sig.parameters.values()
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if not variadic:
        return None
    return (
        f"it failed ({type(exc).__name__}: {exc}); what {' and '.join(variadic)} should carry "
        "is unknown"
    )


def _refused(run: Run, obj: Any, is_cls: bool, exc: BaseException) -> str | None:
    """Why the call's failure is the entry's own validation of its arguments: an assert or a
    raise of AssertionError/ValueError/TypeError in the entry's own __init__ (the factory's own
    body), not deeper (a layer's shape mismatch stays the program's error)."""
    if not isinstance(exc, AssertionError | ValueError | TypeError):
        return None
    own = getattr(obj, "__init__", None) if is_cls else obj
    code = getattr(getattr(own, "__wrapped__", own), "__code__", None)
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if code is None or tb is None or tb.tb_frame.f_code is not code:
        return None
    line = tb.tb_lineno
    if not any(
        isinstance(n, ast.Assert | ast.Raise) and n.lineno <= line <= (n.end_lineno or n.lineno)
        for n in ast.walk(run.tree)
    ):
        return None
    return f"its own check refuses its defaults ({exc or type(exc).__name__}); it needs arguments"


def sizes_assumed(run: Run) -> str:
    """What the check gave the sizes the program computes from its data (run.assumed_sizes)."""
    one = len(run.assumed_sizes) == 1
    return (
        f"built with {', '.join(run.assumed_sizes)} assumed by the check: the program computes "
        f"{'it' if one else 'them'} from data that the check does not load"
    )


def not_the_programs(run: Run, plan: Plan) -> None:
    """An error that is no finding on the program, made a Not Checkable note saying what
    failed: one of a model built with arguments the check assumed (the program did not choose
    those values), and one raised before any model was reached in a file that the check ran
    only to learn whether its classes, of an imported base, are models."""
    if run.error is None or run.error["code"] == T.NOT_CHECKABLE:
        return
    if run.assumed:
        message = (
            f"built as {run.entry} with {', '.join(run.assumed)} assumed by the check (not the "
            f"program's choice), the model failed: {run.error['message']}"
        )
    elif run.assumed_sizes:
        message = f"{sizes_assumed(run)}, the model failed: {run.error['message']}"
    elif plan.runtime_only and run.entry is None:
        message = (
            "the file's classes derive from imported classes, so whether one is a model is "
            f"known only once the file runs, and here it did not: {run.error['message']}"
        )
    else:
        return
    run.error.update(code=T.NOT_CHECKABLE, message=message)
    run.error.pop("fix", None)
    run.proposal = None
    run.alternatives = []
    run.tentative = []
