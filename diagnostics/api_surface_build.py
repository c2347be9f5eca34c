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

import contextlib
import inspect
import marshal
import os
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
_ABSENT = object()


class _Builder:
    def __init__(self) -> None:
        self.oids: dict[int, int] = {}
        self.objects: list[Any] = [None]  # kept alive: ids must not be reused while building
        self.kinds = bytearray([S.OTHER])
        self.records: list[Any] = [(S.OTHER,)]
        self.queue: deque[int] = deque()
        self.owns: dict[int, dict[str, int]] = {}

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
        own = {k: v for k, v in vars(m).items() if isinstance(k, str)}
        listed = _dir(m)  # before the probes below: a __getattr__ may keep what it serves
        members = {name: self.oid(value) for name, value in own.items()}
        if type(m) is not types.ModuleType:  # a module subclass: its class's attributes too
            for name in _dir(type(m)):
                if name not in members:
                    members[name] = self.oid(fw._attribute(m, name))
        fallback = self.oid(fw._attribute(m, _PROBE))
        served = own.get("__getattr__") or getattr(type(m), "__getattr__", None)
        if served is not None:  # the names it serves (lazy submodules, deprecated aliases)
            for name in _served_names(m, served):
                if name not in members:
                    value = self.oid(fw._attribute(m, name))
                    if value != fallback:
                        members[name] = value
        explicit: tuple[str, ...] | None = None
        if "__dir__" in own or len(members) != len(own) or type(m) is not types.ModuleType:
            explicit = tuple(n for n in listed if not n.startswith("_"))
        search_t = _search_path(m)
        name = own.get("__name__")
        return (S.MODULE, name if isinstance(name, str) else "", search_t, members, explicit,
                fallback, self.oid(type(m)))  # fmt: skip

    def klass(self, c: type) -> tuple[Any, ...]:
        own = self.own(c)
        mro = tuple(self.oid(k) for k in c.__mro__)
        meta = self.oid(type(c))
        explicit: tuple[str, ...] | None = None
        listed = _dir(c)
        if type(c).__dir__ is not type.__dir__:
            explicit = tuple(n for n in listed if not n.startswith("_"))
        fallback = self.oid(fw._attribute(c, _PROBE))
        # What getattr answers where the walk of the MRO's own attributes (then the metaclass's)
        # would not: a descriptor of the metaclass (`__class__`, `__base__`), its methods bound
        # to the class, an attribute a base computes for each subclass.
        overrides: dict[str, int] = {}
        for name in sorted({*listed, *_dir(type(c))}):
            if name in own:
                continue
            actual = fw._attribute(c, name)
            if not self.same(actual, self.walked(c, name, fallback)):
                overrides[name] = self.oid(actual)
        return (S.CLASS, _params(c), _defaults(c), mro, meta, own, explicit, fallback, overrides)

    def own(self, c: type) -> dict[str, int]:
        """getattr(c, name) for each name of c's own __dict__, as oids."""
        found = self.owns.get(id(c))
        if found is None:
            self.oid(c)  # kept alive, so that its id stays its own
            names = [n for n in list(c.__dict__) if isinstance(n, str)]
            found = self.owns[id(c)] = {n: self.oid(fw._attribute(c, n)) for n in names}
        return found

    def walked(self, c: type, name: str, fallback: int) -> int:
        """What api_surface.Surface.attribute finds for `name` on c without an override."""
        for klass in (*c.__mro__, *type(c).__mro__):
            own = self.own(klass)
            if name in own:
                return own[name]
        return fallback

    def same(self, value: Any, oid: int) -> bool:
        """Whether getattr's `value` is what the record `oid` stands for (a method bound to
        another class of the same family counts as the same: same function, same kind)."""
        if oid < 0 or oid == S.OID_OTHER:
            return self.kind_of(value) == oid
        recorded = self.objects[oid]
        if value is recorded:
            return True
        return (
            inspect.ismethod(value)
            and inspect.ismethod(recorded)
            and value.__func__ is recorded.__func__
            and inspect.isclass(value.__self__) == inspect.isclass(recorded.__self__)
        )

    def kind_of(self, value: Any) -> int:
        """The oid a value gets when it needs no record of its own, else 1 (not one of those)."""
        if value is fw.MISSING:
            return S.OID_MISSING
        if value is fw.UNKNOWN:
            return S.OID_UNKNOWN
        if inspect.ismodule(value) or inspect.isclass(value):
            return 1
        if inspect.isfunction(value) or inspect.ismethod(value):
            return 1
        return S.OID_OTHER

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
            return sorted(n for n in dir(obj) if isinstance(n, str))
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
        for ref in c.co_names:  # a global, or an attribute of the module (`self.all_dsls`)
            value = vars(module).get(ref, _ABSENT)
            if value is _ABSENT:
                value = fw._attribute(module, ref)
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


def _die_with(parent: int) -> None:
    """End this build when the process that waits for it ends (a server shut down mid-build):
    the next start builds again, and no builder is left behind."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it ended before the line above
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2) or (len(args) == 2 and not args[1].isdigit()):
        usage = "usage: python -m deepeval_lsp.diagnostics.api_surface_build PATH [PARENT_PID]"
        print(usage, file=sys.stderr)
        return 2
    if len(args) == 2:
        _die_with(int(args[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build(Path(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
