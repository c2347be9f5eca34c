"""The checker's own code, as it was before the checked program ran: a snapshot, and its check.

The checked program runs in the same interpreter as the check that runs it, so it could patch
the runner (`sys.modules["deepeval_lsp…"].run_job = lambda p: {"status": "ok"}`, a class
attribute, a function's `__code__` or defaults, `json.dumps`, a builtin) and have a broken model
come back clean. `snapshot()` records, by identity, before the job runs: the globals of every
deepeval_lsp module and of the modules the report is written with (builtins, json, os, …), the
attributes of the classes deepeval_lsp defines, and the code, defaults and closure cells of their
functions; `changed()` says, after the job, the first thing that differs. Builtins may gain names
(a program's own `builtins.x = …` shadows nothing the checker uses); every other namespace must
be exactly as it was.

Limits: the snapshot is of references, not of the objects' contents (a module-level dict or list
of the checker's, or an object of the job in flight, can still be mutated by a program that
reaches it, e.g. through frames that a library helper hands out); and a program that runs native
code (ctypes, see sandbox/result_channel.py) can rewrite memory the snapshot reads.
"""

from __future__ import annotations

import sys
import types
from typing import Any

OWN = "deepeval_lsp"
# Modules the report path relies on besides the checker's own.
REPORT_MODULES = ("builtins", "json", "json.encoder", "json.decoder", "json.scanner", "os")

# (label, the namespace dict, its (name, value) pairs); (label, function, code, defaults,
# kwdefaults and its pairs, closure cells and their contents)
Namespace = tuple[str, dict[str, Any], tuple[tuple[str, Any], ...]]
FunctionState = tuple[str, types.FunctionType, Any, Any, Any, Any, Any]
Snapshot = tuple[tuple[tuple[str, Any], ...], tuple[Namespace, ...], tuple[FunctionState, ...]]


def _own(name: str) -> bool:
    return name == OWN or name.startswith(OWN + ".")


def _function_state(label: str, f: types.FunctionType) -> FunctionState:
    kw = f.__kwdefaults__
    cells = f.__closure__ or ()
    return (
        label,
        f,
        f.__code__,
        f.__defaults__,
        (kw, tuple(kw.items()) if kw else ()),
        cells,
        tuple(_cell(c) for c in cells),
    )


_EMPTY = object()


def _cell(c: types.CellType) -> Any:
    try:
        return c.cell_contents
    except ValueError:  # an empty cell
        return _EMPTY


def _functions(label: str, value: Any) -> list[types.FunctionType]:
    if isinstance(value, staticmethod | classmethod):
        value = value.__func__
    if isinstance(value, property):
        return [
            f for f in (value.fget, value.fset, value.fdel) if isinstance(f, types.FunctionType)
        ]
    return [value] if isinstance(value, types.FunctionType) else []


# The warnings machinery adds this to the globals of the module a warning is attributed to (a
# warning the checker's own code raised while the program ran): the registry of warnings shown,
# no state the check reads.
_WARNINGS_REGISTRY = "__warningregistry__"


def snapshot() -> Snapshot:
    """The state `changed()` compares with, taken before the checked program runs."""
    modules = tuple(
        (name, m)
        for name, m in list(sys.modules.items())
        if (_own(name) or name in REPORT_MODULES) and isinstance(m, types.ModuleType)
    )
    spaces: list[Namespace] = []
    funcs: list[FunctionState] = []
    for name, m in modules:
        ns = vars(m)
        spaces.append((name, ns, tuple(ns.items())))
        if not _own(name):
            continue
        for attr, value in list(ns.items()):
            for f in _functions(attr, value):
                if f.__module__ == name:
                    funcs.append(_function_state(f"{name}.{attr}", f))
            if isinstance(value, type) and value.__module__ == name:
                cls_ns = value.__dict__
                label = f"{name}.{attr}"
                spaces.append((label, cls_ns, tuple(cls_ns.items())))  # type: ignore[arg-type]
                for meth, v in list(cls_ns.items()):
                    funcs.extend(_function_state(f"{label}.{meth}", f) for f in _functions(meth, v))
    return modules, tuple(spaces), tuple(funcs)


def changed(
    before: Snapshot,
    _modules: dict[str, Any] = sys.modules,
    _len: Any = len,
    _any: Any = any,
    _zip: Any = zip,
    _cellget: Any = _cell,
) -> str | None:
    """The first name the program changed since `before` ("module.name"), or None. What it calls
    is bound at import, before any program ran: a patched builtin cannot answer for it."""
    modules, spaces, funcs = before
    for name, m in modules:
        if _modules.get(name) is not m:
            return name
    for label, ns, items in spaces:
        for key, value in items:
            if (key not in ns or ns[key] is not value) and key != _WARNINGS_REGISTRY:
                return f"{label}.{key}"
        if _len(ns) != _len(items) and label != "builtins":
            known = {k for k, _ in items}
            added = [k for k in ns if k not in known and k != _WARNINGS_REGISTRY]
            if added:
                return f"{label}.{added[0]}"
    for label, f, code, defaults, (kw, kw_items), cells, contents in funcs:
        if f.__code__ is not code or f.__defaults__ is not defaults or f.__kwdefaults__ is not kw:
            return label
        if kw is not None and (
            _len(kw) != _len(kw_items) or _any(kw.get(k, _EMPTY) is not v for k, v in kw_items)
        ):
            return label
        if _any(_cellget(c) is not v for c, v in _zip(cells, contents, strict=True)):
            return label
    return None
