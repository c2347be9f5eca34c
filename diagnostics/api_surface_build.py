"""Build the API-surface file (diagnostics.api_surface) of the installed frameworks.

`python -m deepeval_lsp.diagnostics.api_surface_build PATH` imports the allow-listed frameworks
(diagnostics.framework.import_framework) and records what the static pass asks of them, with the
live introspection's own functions, so both answer alike: every module they loaded (their
`__dict__`, the names a module `__getattr__` serves, where its unloaded submodules are), every
class reached from them (its own attributes, MRO and metaclass), the flattened signature of
each class and function, and the names Keras's registries accept. It runs in a subprocess of
the checker, which therefore never imports a framework itself.
"""

from __future__ import annotations

import inspect
import marshal
import sys
import types
import warnings
from collections import deque
from pathlib import Path
from typing import Any

from deepeval_lsp.diagnostics import api_surface as S
from deepeval_lsp.diagnostics import framework as fw

# A name no module or class defines: what getattr answers for it is what it answers for a name
# that is not in the tables.
_PROBE = "deepeval_probe_no_such_member"
_CHUNK_BYTES = 16 * 1024


class _Builder:
    def __init__(self) -> None:
        self.oids: dict[int, int] = {}
        self.objects: list[Any] = [None]  # kept alive: ids must not be reused while building
        self.kinds = bytearray([S.OTHER])
        self.records: list[Any] = [(S.OTHER,)]
        self.queue: deque[int] = deque()

    def oid(self, value: Any) -> int:
        if value is fw.MISSING:
            return S.OID_MISSING
        if value is fw.UNKNOWN:
            return S.OID_UNKNOWN
        if inspect.ismodule(value):
            kind = S.MODULE
        elif inspect.isclass(value):
            kind = S.CLASS
        elif inspect.isfunction(value) or inspect.ismethod(value):
            kind = S.FUNCTION
        else:
            return S.OID_OTHER
        found = self.oids.get(id(value))
        if found is not None:
            return found
        oid = len(self.objects)
        self.oids[id(value)] = oid
        self.objects.append(value)
        self.kinds.append(kind)
        self.records.append(None)
        self.queue.append(oid)
        return oid

    def run(self) -> None:
        while self.queue:
            oid = self.queue.popleft()
            obj = self.objects[oid]
            kind = self.kinds[oid]
            if kind == S.MODULE:
                self.records[oid] = self.module(obj)
            elif kind == S.CLASS:
                self.records[oid] = self.klass(obj)
            else:
                self.records[oid] = (S.FUNCTION, _params(obj), _defaults(obj))

    def module(self, m: types.ModuleType) -> tuple[Any, ...]:
        own = dict(vars(m))
        members = {name: self.oid(value) for name, value in own.items()}
        fallback = self.oid(fw._attribute(m, _PROBE))
        if "__getattr__" in own:  # the names it serves (lazy submodules, deprecated aliases)
            for name in _served_names(m, own["__getattr__"]):
                if name not in members:
                    value = self.oid(fw._attribute(m, name))
                    if value != fallback:
                        members[name] = value
        explicit: tuple[str, ...] | None = None
        if "__dir__" in own or len(members) != len(own):
            explicit = tuple(n for n in _dir(m) if not n.startswith("_"))
        search_t = _search_path(m)
        name = own.get("__name__")
        return (S.MODULE, name if isinstance(name, str) else "", search_t, members, explicit,
                fallback)  # fmt: skip

    def klass(self, c: type) -> tuple[Any, ...]:
        own = {name: self.oid(fw._attribute(c, name)) for name in list(c.__dict__)}
        mro = tuple(self.oid(k) for k in c.__mro__)
        meta = self.oid(type(c))
        explicit: tuple[str, ...] | None = None
        if type(c).__dir__ is not type.__dir__:
            explicit = tuple(n for n in _dir(c) if not n.startswith("_"))
        fallback = self.oid(fw._attribute(c, _PROBE))
        return (S.CLASS, _params(c), _defaults(c), mro, meta, own, explicit, fallback)

    def chunks(self) -> tuple[list[int], list[bytes]]:
        starts: list[int] = []
        blobs: list[bytes] = []
        current: list[Any] = []
        size = 0
        for oid, rec in enumerate(self.records):
            if not current:
                starts.append(oid)
            current.append(rec)
            size += len(marshal.dumps(rec))
            if size >= _CHUNK_BYTES:
                blobs.append(marshal.dumps(current))
                current, size = [], 0
        if current:
            blobs.append(marshal.dumps(current))
        return starts, blobs


def _search_path(m: types.ModuleType) -> tuple[str, ...] | None:
    """A package's __path__ as strings; None when it has none (or an odd one, which the live
    lookup cannot search either)."""
    try:
        search = getattr(m, "__path__", None)
        if search is None:
            return None
        return tuple(p for p in list(search) if isinstance(p, str))
    except BaseException:
        return None


def _dir(obj: Any) -> list[str]:
    try:
        with fw._imports_refused():
            return sorted(dir(obj))
    except BaseException:
        return []


def _served_names(module: types.ModuleType, getattr_fn: Any) -> set[str]:
    """Names a module's `__getattr__` may answer: the strings in its code, the string keys of
    the module's collections it reads, `__all__`, and what `__dir__` lists."""
    names: set[str] = set()
    code = getattr(getattr_fn, "__code__", None)
    codes = [code] if code is not None else []
    while codes:
        c = codes.pop()
        for const in c.co_consts:
            if isinstance(const, str) and const.isidentifier():
                names.add(const)
            elif isinstance(const, types.CodeType):
                codes.append(const)
        for ref in c.co_names:
            value = vars(module).get(ref)
            if isinstance(value, (dict, set, frozenset, list, tuple)):
                names.update(k for k in value if isinstance(k, str) and k.isidentifier())
    all_names = vars(module).get("__all__")
    if isinstance(all_names, (list, tuple)):
        names.update(n for n in all_names if isinstance(n, str))
    names.update(_dir(module))
    return names


def _params(obj: Any) -> tuple[Any, ...] | None:
    try:
        p = fw.live_params(obj)
    except Exception:
        return None
    if p is None:
        return None
    return (p.qualname, p.positional, tuple(sorted(p.keyword)), p.required, p.var_positional,
            p.open_keywords)  # fmt: skip


def _defaults(obj: Any) -> dict[str, Any]:
    """The numeric defaults of obj's signature (what literal_values offers as a fix)."""
    try:
        sig = inspect.signature(obj)
    except Exception:
        return {}
    return {
        name: p.default
        for name, p in sig.parameters.items()
        if type(p.default) in (int, float, bool)
    }


def _registries() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """For each Keras registry, the names its `get` accepts among every name it could know, and
    the names offered as did-you-means."""
    if "keras" not in sys.modules:
        return {}
    out = {}
    for kind in S.KERAS_REGISTRIES:
        try:
            candidates = set(_dir(fw.keras_registry_module(kind)))
            src = sys.modules.get(f"keras.src.{kind}s")
            candidates.update(getattr(src, "ALL_OBJECTS_DICT", {}) or {})
        except Exception:
            continue
        candidates |= {c.lower() for c in candidates}
        accepted = tuple(sorted(c for c in candidates if fw.live_registry_accepts(kind, c)))
        out[kind] = (accepted, fw.live_registry_names(kind))
    return out


def build(path: Path) -> None:
    key = S.current_key()
    b = _Builder()
    tops: dict[str, int | None] = {}
    for top in S.TOPS:
        module = fw.import_framework(top)
        tops[top] = None if module is None else b.oid(module)
    sys_modules = {
        name: b.oid(m)
        for name, m in list(sys.modules.items())
        if name.split(".")[0] in tops and inspect.ismodule(m)
    }
    b.run()
    starts, blobs = b.chunks()
    header = {
        "key": key,
        "tops": tops,
        "sys_modules": sys_modules,
        "kinds": bytes(b.kinds),
        "chunk_starts": starts,
        "registries": _registries(),
    }
    S.write(path, header, blobs)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m deepeval_lsp.diagnostics.api_surface_build PATH", file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build(Path(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
