"""The model a program defines, found in the order of DESIGN.md §4: a `dl_model()` function,
a module-level model variable, the outermost model class that needs no constructor arguments."""

from __future__ import annotations

import inspect
from typing import Any

from deepeval_lsp.diagnostics.dynamic.child.layers import is_model, is_model_class
from deepeval_lsp.diagnostics.dynamic.child.plan import Plan
from deepeval_lsp.diagnostics.dynamic.child.run_state import MODULE_NAME, Run


def find_model(run: Run, ns: dict[str, Any], plan: Plan, sl: Any) -> Any:
    """The model the executed program `ns` defines (building it); None, with a note saying
    why, when there is none. Sets `run.entry` to how it was reached."""
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
    if model is None:
        for cname in plan.classes:
            cls = ns.get(cname)
            if not isinstance(cls, type) or getattr(cls, "__module__", "") != MODULE_NAME:
                continue
            if not is_model_class(cls):
                continue
            missing = _required_params(cls)
            if missing:
                run.notes.append(
                    f"{cname} needs constructor arguments ({', '.join(missing)}): "
                    "add a dl_model() function or a module-level model = "
                    f"{cname}(…) to check it"
                )
                return None
            run.entry = f"{cname}()"
            try:
                model = cls()
            except (TypeError, AssertionError) as e:
                if not _takes_anything(cls) or not _wants_arguments(e):
                    raise
                # Built with no arguments by the check, not by the program: what its
                # *args/**kwargs should carry is unknown, so this is not the program's mistake.
                run.notes.append(
                    f"{cname}() needs arguments through *args/**kwargs ({e}): add a "
                    f"dl_model() function or a module-level model = {cname}(…) to check it"
                )
                return None
            break
    if model is None and run.entry is not None:
        run.notes.append(f"{run.entry} did not return a model")
    return model


def _required_params(cls: type) -> list[str]:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in list(sig.parameters.values())[1:]
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _takes_anything(cls: type) -> bool:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values())


def _wants_arguments(exc: BaseException) -> bool:
    """An assertion on the arguments, or a call that misses required ones."""
    return isinstance(exc, AssertionError) or ("required" in str(exc) and "missing" in str(exc))
