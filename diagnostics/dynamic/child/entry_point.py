"""The model a program defines, found in the order of DESIGN.md §4: a `dl_model()` function,
a module-level model variable, a factory function of the file that returns a model, the
outermost model class. Factories and classes are called with the arguments of
child/arguments.py; those the check chose are `run.assumed`, and a failure with them is a note
(`not_the_programs`), not the program's error."""

from __future__ import annotations

import ast
from typing import Any

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.arguments import Arguments, fill, signature_of
from deepeval_lsp.diagnostics.dynamic.child.layers import is_model, is_model_class
from deepeval_lsp.diagnostics.dynamic.child.plan import Plan
from deepeval_lsp.diagnostics.dynamic.child.run_state import MODULE_NAME, Run

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
    """(name, callable, is a class): the factories, then the outermost model classes (all the
    model classes when each is used by another). Classes of the file that the syntax could not
    tell are models (an imported base) count once they are."""
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
    return out + [(c, ns[c], True) for c in (top or classes)]


def _build_candidate(run: Run, ns: dict[str, Any], plan: Plan) -> Any:
    """Call the first candidate whose arguments are known or can be assumed; a note when none
    can be built."""
    defs = {s.name: s for s in run.tree.body if isinstance(s, ast.ClassDef | ast.FunctionDef)}
    filled = [
        (name, obj, is_cls, fill(obj, ns, run.tree, defs.get(name)))
        for name, obj, is_cls in _candidates(ns, plan)
    ]
    for name, obj, is_cls, args in filled:
        if args.missing:
            continue
        run.entry = args.call(name)
        run.assumed = [s for s in args.shown if s.partition("=")[0] in args.assumed]
        model = _call(run, name, obj, is_cls, args)
        if model is _SAID:
            return None
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
    if filled:
        name, _obj, _is_cls, args = filled[0]
        run.notes.append(
            f"{name} needs constructor arguments ({', '.join(args.missing)}): add a "
            f"dl_model() function or a module-level model = {name}(…) to check it"
        )
    else:
        run.notes.append(NO_ENTRY)
    return None


_SAID = object()  # the call's failure is already a note


def _call(run: Run, name: str, obj: Any, is_cls: bool, args: Arguments) -> Any:
    try:
        return obj(**args.kwargs)
    except (TypeError, AssertionError) as e:
        if not is_cls or not _takes_anything(obj) or not _wants_arguments(e) or args.assumed:
            raise
        # Built with no arguments by the check, not by the program: what its
        # *args/**kwargs should carry is unknown, so this is not the program's mistake.
        run.notes.append(
            f"{name}() needs arguments through *args/**kwargs ({e}): add a "
            f"dl_model() function or a module-level model = {name}(…) to check it"
        )
        run.entry = None
        return _SAID


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


def _takes_anything(cls: type) -> bool:
    sig = signature_of(cls)
    return sig is not None and any(
        p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values()
    )


def _wants_arguments(exc: BaseException) -> bool:
    """An assertion on the arguments, or a call that misses required ones."""
    return isinstance(exc, AssertionError) or ("required" in str(exc) and "missing" in str(exc))
