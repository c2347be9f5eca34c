"""Introspection of the installed frameworks: does `torch.nn.Conv2D` exist, what does
`keras.layers.Dense` accept, what did the user probably mean?

Only the top-level framework packages on an allow-list are ever imported here, and nothing else:
not a user's module (that would run their code in the checker's process), and not a framework
submodule that importing the framework did not load (`numpy.f2py.__main__` runs a command line
when imported): such a submodule is found on disk, and its members are unknown.
`tensorflow.keras` is answered by Keras 3 when TensorFlow itself is not installed, which is how the
default engine runs such code.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.machinery
import importlib.util
import inspect
import io
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from types import ModuleType
from typing import Any

from deepeval_lsp.diagnostics import api_surface
from deepeval_lsp.diagnostics.api_surface import Member
from deepeval_lsp.diagnostics.packages import REAL_PACKAGES
from deepeval_lsp.diagnostics.text import PARSE_LOCK, parse_python

# Packages whose members and signatures the static pass checks. Importing them runs only their code.
FRAMEWORKS = frozenset({"torch", "keras", "numpy", "torchvision"})

TF_KERAS = "keras._tf_keras.keras"
MISSING: Any = object()  # sentinel: the attribute does not exist
UNKNOWN: Any = object()  # sentinel: cannot tell (framework not installed, dynamic object…)


def ensure_backend() -> None:
    """Keras runs on the torch backend in this tool unless the user chose another."""
    os.environ.setdefault("KERAS_BACKEND", "torch")


@cache
def installed(top: str) -> bool:
    """Is a top-level package importable (without importing it)?"""
    if top in sys.modules:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


@cache
def import_framework(name: str) -> ModuleType | None:
    """Import a top-level framework on the allow-list, or None if it is not installed/importable.

    Whatever the import does is contained: a print() or input() cannot reach the protocol on
    stdout/stdin, and sys.exit() or KeyboardInterrupt at import time is a failed import, not the
    end of the checker.
    """
    if "." in name or name not in FRAMEWORKS:
        return None
    ensure_backend()
    try:
        # Under the parse lock: the frameworks' imports parse source (ast.parse) themselves, and
        # CPython 3.11 fails when threads parse at once (see text.parse_python).
        with PARSE_LOCK, _contained_io():
            return importlib.import_module(name)
    except BaseException:  # a framework that fails to import is as good as absent
        return None


@contextlib.contextmanager
def _contained_io() -> Iterator[None]:
    stdin = sys.stdin
    sys.stdin = io.StringIO()  # input() gets EOFError instead of reading the protocol
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdin = stdin


def canonical(dotted: str) -> str | None:
    """Map a dotted path to the engine that answers for it, or None if nothing can.

    `tensorflow.keras.X` is answered by Keras 3's tf.keras surface (`keras._tf_keras.keras`,
    which is what `tf.keras` is on TensorFlow 2.16 and later, Keras 2's legacy backend functions
    included), whether or not TensorFlow is installed: the checker never imports TensorFlow
    (seconds and hundreds of MB), and the default engine runs such code on Keras 3. Other
    `tensorflow.*` paths cannot be checked.
    """
    top = dotted.split(".")[0]
    if top == "tensorflow":
        if dotted == "tensorflow.keras" or dotted.startswith("tensorflow.keras."):
            return TF_KERAS + dotted[len("tensorflow.keras") :] if installed("keras") else None
        return None
    if top not in FRAMEWORKS or not installed(top):
        return None
    return dotted


@dataclass(frozen=True)
class Lookup:
    """The result of walking a dotted path: the object, or where the walk stopped."""

    obj: Any  # the object, MISSING or UNKNOWN
    parent: Any = None  # the last object that exists
    parent_path: str = ""  # its dotted path
    missing: str | None = None  # the first name that does not exist on `parent`


@dataclass(frozen=True)
class Unloaded:
    """A framework submodule found on disk that the checker did not import: it exists, and its
    members are unknown (importing it because a file names it would run it, `__main__` included)."""

    name: str
    search: tuple[str, ...] | None  # where its own submodules are, if it is a package


@lru_cache(maxsize=4096)
def lookup(dotted: str) -> Lookup:
    """Resolve `torch.nn.Conv2d` to the object, importing nothing beyond the framework itself.

    Submodules that importing the framework loaded are walked as attributes; one that it did not
    load is looked for on disk (`Unloaded`: it exists, its members are unknown) and never imported.
    Where the API surface is on disk (diagnostics.api_surface), the walk reads it instead of the
    framework, and the objects are its `Member`s.
    """
    path = canonical(dotted)
    if path is None:
        return Lookup(UNKNOWN)
    parts = path.split(".")
    source: _Introspection = _introspection(parts[0])
    obj: Any = source.top(parts[0])
    if obj is None:
        return Lookup(UNKNOWN)
    current = parts[0]
    for part in parts[1:]:
        name = f"{current}.{part}"
        if isinstance(obj, Unloaded):
            nxt = _find_unloaded(name, obj.search) or UNKNOWN
        elif is_module(obj):
            nxt = source.attribute(obj, part)
            if nxt is MISSING or nxt is UNKNOWN:
                loaded = source.loaded(name)
                if loaded is not None:
                    nxt = loaded
                else:
                    nxt = _find_unloaded(name, source.search(obj)) or nxt
        elif is_class(obj):
            nxt = source.attribute(obj, part)
        else:
            return Lookup(UNKNOWN)
        if nxt is MISSING:
            return Lookup(MISSING, obj, current, part)
        if nxt is UNKNOWN:
            return Lookup(UNKNOWN)
        obj, current = nxt, name
    return Lookup(obj, None, current)


def is_module(obj: Any) -> bool:
    """A framework module, live or as the surface knows it."""
    if isinstance(obj, Member):
        return obj.kind == api_surface.MODULE
    return inspect.ismodule(obj)


def is_class(obj: Any) -> bool:
    if isinstance(obj, Member):
        return obj.kind == api_surface.CLASS
    return inspect.isclass(obj)


class _Introspection:
    """Where a walk reads a framework from: the imported framework itself."""

    def top(self, name: str) -> Any:
        return import_framework(name)

    def attribute(self, obj: Any, part: str) -> Any:
        return _attribute(obj, part)

    def loaded(self, name: str) -> Any:
        return sys.modules.get(name)

    def search(self, module: Any) -> Any:
        return getattr(module, "__path__", None)


class _SurfaceIntrospection(_Introspection):
    """...or the framework's API surface on disk."""

    def __init__(self, surface: api_surface.Surface) -> None:
        self.surface = surface

    def top(self, name: str) -> Any:
        return self.surface.top(name)

    def attribute(self, obj: Any, part: str) -> Any:
        return _member_value(self.surface, self.surface.attribute(obj, part))

    def loaded(self, name: str) -> Any:
        return self.surface.sys_module(name)

    def search(self, module: Any) -> Any:
        return self.surface.search(module)


def _member_value(surface: api_surface.Surface, oid: int) -> Any:
    if oid == api_surface.OID_MISSING:
        return MISSING
    if oid == api_surface.OID_UNKNOWN:
        return UNKNOWN
    return surface.member(oid)


_LIVE = _Introspection()
_surface_lock = threading.Lock()
_surface_state: list[_SurfaceIntrospection | None] = []


_build_behind: list[bool] = [False]


def build_surface_behind() -> None:
    """From now on, a missing API surface is built on a background thread while the live
    frameworks answer, instead of the first check waiting for the build (tens of seconds
    after an install). For long-lived processes: the language server, the MCP server."""
    _build_behind[0] = True


def surface() -> api_surface.Surface | None:
    """The API surface the static pass reads, built first if needed (once per process); None
    when there is none to be had, and the live frameworks are introspected."""
    if not _surface_state:
        with _surface_lock:
            if not _surface_state:
                behind = _build_behind[0]
                found = api_surface.surface(build_missing=not behind)
                _surface_state.append(None if found is None else _SurfaceIntrospection(found))
                if found is None and behind:
                    threading.Thread(
                        target=_build_then_read, name="deepeval-api-surface", daemon=True
                    ).start()
    held = _surface_state[0]
    return None if held is None else held.surface


def _build_then_read() -> None:
    found = api_surface.surface()
    if found is not None:
        _surface_state[0] = _SurfaceIntrospection(found)  # the checks that follow read it


def _introspection(top: str) -> _Introspection:
    """The surface for the frameworks it holds; the live import for any other top package."""
    found = surface()
    if found is not None and top in found.tops:
        return _surface_state[0] or _LIVE
    return _LIVE


def _attribute(obj: Any, part: str) -> Any:
    """getattr that imports nothing: a module-level `__getattr__` that would import a submodule
    (torch's lazy modules, numpy's) answers UNKNOWN instead."""
    try:
        with _imports_refused() as refused:
            nxt = getattr(obj, part, MISSING)
    except BaseException:
        return UNKNOWN
    return UNKNOWN if refused else nxt


def _find_unloaded(name: str, search: Any) -> Unloaded | None:
    """The submodule `name` of a package whose submodules live in `search`, found without
    executing anything (importlib.util.find_spec would import the parents)."""
    if not search:
        return None
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, list(search))
    except BaseException:
        return None
    if spec is None:
        return None
    locations = spec.submodule_search_locations
    return Unloaded(name, tuple(locations) if locations is not None else None)


class _RefuseImports:  # a meta path finder (importlib.abc, unimported: 6 ms at start-up)
    """Refuses every import in a thread while it looks an attribute up (see `_imports_refused`)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        refused = getattr(self.local, "refused", None)
        if refused is not None:
            refused.append(fullname)
            raise ImportError(f"the checker does not import {fullname}", name=fullname)


_REFUSE = _RefuseImports()


@contextlib.contextmanager
def _imports_refused() -> Iterator[list[str]]:
    if _REFUSE not in sys.meta_path:
        sys.meta_path.insert(0, _REFUSE)
    outer = getattr(_REFUSE.local, "refused", None)
    refused: list[str] = []
    _REFUSE.local.refused = refused
    try:
        yield refused
    finally:
        _REFUSE.local.refused = outer


def display_path(path: str) -> str:
    """A canonical path as the user would write it (`keras._tf_keras.keras` is tf.keras)."""
    if path == TF_KERAS or path.startswith(TF_KERAS + "."):
        return "tensorflow.keras" + path[len(TF_KERAS) :]
    return path


def in_keras2(path: str) -> bool:
    """Whether a `keras.…` path that Keras 3 lacks is Keras 2 API (tf.keras still has it)."""
    if not path.startswith("keras.") or path.startswith(TF_KERAS):
        return False
    return lookup(TF_KERAS + path[len("keras") :]).obj not in (MISSING, UNKNOWN)


def legacy_note(path: str) -> str:
    """' (Keras 2 API, removed in Keras 3)' when a missing `keras.…` member is tf.keras-only."""
    if not in_keras2(path):
        return ""
    return " (it is Keras 2 API, removed in Keras 3; tf.keras still has it)"


def module_exists(dotted: str) -> bool | None:
    """True/False for framework modules and installed packages; None when it cannot be told."""
    top = dotted.split(".")[0]
    if top in FRAMEWORKS or dotted.startswith("tensorflow.keras"):
        if canonical(dotted) is None:
            return None
        found = lookup(dotted)
        if found.obj is UNKNOWN:
            return None
        return isinstance(found.obj, Unloaded) or is_module(found.obj)
    if "." not in dotted:
        return True if installed(dotted) else (None if dotted in REAL_PACKAGES else False)
    return None  # submodules of non-framework packages: importing them would run their code


@lru_cache(maxsize=2048)
def public_names(dotted: str) -> tuple[str, ...]:
    found = lookup(dotted)
    if found.obj in (MISSING, UNKNOWN) or isinstance(found.obj, Unloaded):
        return ()
    if isinstance(found.obj, Member):
        held = surface()
        return held.public_names(found.obj) if held is not None else ()
    try:
        with _imports_refused():
            names = dir(found.obj)
    except BaseException:
        return ()
    return tuple(n for n in names if not n.startswith("_"))


# The other framework's spelling of the same thing: LLMs mix PyTorch and Keras names.
_SYNONYMS = {
    "Dense": ("Linear",),
    "Linear": ("Dense",),
    "LSTMLayer": ("LSTM",),
    "GRULayer": ("GRU",),
    "BatchNormalization": ("BatchNorm2d", "BatchNorm1d"),
    "BatchNorm2d": ("BatchNormalization",),
    "GlobalAveragePooling2D": ("AdaptiveAvgPool2d",),
    "AdaptiveAvgPool2d": ("GlobalAveragePooling2D",),
    "Concatenate": ("concatenate", "cat"),
    "Conv2DTranspose": ("ConvTranspose2d",),
    "ConvTranspose2d": ("Conv2DTranspose",),
    "MultiHeadAttention": ("MultiheadAttention",),
    "use_bias": ("bias",),
    "bias": ("use_bias",),
    "units": ("out_features",),
    "out_features": ("units",),
    "filters": ("out_channels",),
    "strides": ("stride",),
    "stride": ("strides",),
    "rate": ("p",),
    "p": ("rate",),
    "axis": ("dim",),
    "dim": ("axis",),
    "input_dim": ("in_features", "num_embeddings"),
    "output_dim": ("embedding_dim",),
}


def suggest(name: str, candidates: tuple[str, ...] | list[str]) -> str | None:
    """The best did-you-mean for `name`: the other framework's spelling, a case-insensitive
    match, then difflib."""
    import difflib  # only when there is a finding to suggest for

    candidates = [c for c in candidates if c != name]
    for synonym in _SYNONYMS.get(name, ()):
        if synonym in candidates:
            return synonym
    lowered = [c for c in candidates if c.lower() == name.lower()]
    if len(lowered) == 1:
        return lowered[0]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    if close:
        return close[0]
    close = difflib.get_close_matches(
        name.lower(), [c.lower() for c in candidates], n=1, cutoff=0.8
    )
    if close:
        return next(c for c in candidates if c.lower() == close[0])
    return None


# ---------------------------------------------------------------------------------------------
# Signatures


@dataclass(frozen=True)
class Params:
    """What a callable accepts, flattened for binding call sites."""

    qualname: str
    positional: tuple[str, ...]  # positional parameters in order (after self)
    keyword: frozenset[str]  # every name accepted by keyword
    required: tuple[str, ...]  # parameters with no default (not *args/**kwargs)
    var_positional: bool
    open_keywords: bool  # accepts arbitrary keywords (a **kwargs that is not validated)


@lru_cache(maxsize=4096)
def _params_cached(obj: Any) -> Params | None:
    return _params(obj)


def params_of(obj: Any) -> Params | None:
    """The parameters of a framework class's constructor or a framework function, if knowable."""
    try:
        return _params_cached(obj)
    except TypeError:  # unhashable object
        return None


def live_params(obj: Any) -> Params | None:
    """params_of an imported object (what the API surface records)."""
    return _params(obj)


def default_of(obj: Any, name: str) -> Any:
    """The default of parameter `name` in the signature of `obj` (numbers only from the API
    surface), or None."""
    if isinstance(obj, Member):
        held = surface()
        return held.default(obj, name) if held is not None else None
    try:
        param = inspect.signature(obj).parameters.get(name)
    except (TypeError, ValueError):
        return None
    if param is None or param.default is param.empty:
        return None
    return param.default


def _keras_layer_base() -> type | None:
    if "keras" not in sys.modules:
        return None
    try:
        from keras.src.layers.layer import Layer
    except Exception:
        return None
    return Layer


# Keyword arguments Keras 3's Layer.__init__ pops from **kwargs before rejecting the rest.
_KERAS_LAYER_EXTRA = frozenset({"input_dim", "input_shape"})


def _params(obj: Any) -> Params | None:
    if isinstance(obj, Member):
        held = surface()
        fields = held.params(obj) if held is not None else None
        if fields is None:
            return None
        qual, positional, keyword, required, var_positional, open_keywords = fields
        return Params(qual, positional, frozenset(keyword), required, var_positional, open_keywords)
    if inspect.isclass(obj):
        init = obj.__dict__.get("__init__") or getattr(obj, "__init__", None)
        if init is None or init is object.__init__:
            return None
        sig = _signature(init)
        if sig is None:
            return None
        plist = list(sig.parameters.values())[1:]  # drop self
        qual = f"{obj.__module__}.{obj.__qualname__}"
        if any(p.kind is p.VAR_KEYWORD for p in plist):
            layer_base = _keras_layer_base()
            if (
                layer_base is not None
                and issubclass(obj, layer_base)
                and any(p.kind is p.VAR_POSITIONAL for p in plist)
            ):
                return None  # a dispatching constructor (keras.Model(inputs=…, outputs=…))
            return _class_params_through_mro(obj, qual)
        return _flatten(qual, plist, open_keywords=False)
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        sig = _signature(obj)
        if sig is None:
            return None
        plist = list(sig.parameters.values())
        if inspect.ismethod(obj):
            plist = plist[1:] if plist and plist[0].name in ("self", "cls") else plist
        has_kw = any(p.kind is p.VAR_KEYWORD for p in plist)
        return _flatten(f"{obj.__module__}.{obj.__qualname__}", plist, open_keywords=has_kw)
    return None  # builtins and C functions: no reliable signature


def _class_params_through_mro(cls: type, qual: str) -> Params | None:
    """A constructor with **kwargs: follow the MRO while each __init__ forwards **kwargs.

    Keras layers forward to Layer.__init__, which accepts a few names and rejects the rest, so their
    accepted keywords are a closed set. Anything else that swallows **kwargs is left open. The
    names an __init__ reads out of its **kwargs itself (`kwargs.pop("nonlinearity")`) count.
    """
    layer_base = _keras_layer_base()
    own = _signature(cls.__dict__.get("__init__") or cls.__init__)
    if own is None:
        return None
    first = [p for p in list(own.parameters.values())[1:]]
    keyword: set[str] = set()
    closed = False
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        sig = _signature(init)
        if sig is None:
            return None
        ps = list(sig.parameters.values())[1:]
        keyword |= {p.name for p in ps if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if layer_base is not None and klass is layer_base:
            keyword |= _KERAS_LAYER_EXTRA
            closed = True
            break
        if not any(p.kind is p.VAR_KEYWORD for p in ps):
            closed = True
            break
        var_kw = next((p.name for p in ps if p.kind is p.VAR_KEYWORD), None)
        if var_kw is not None:  # the names it reads out of **kwargs itself (nn.RNN's nonlinearity)
            keyword |= _keywords_read(init, var_kw)
    base = _flatten(qual, first, open_keywords=not closed)
    return Params(
        base.qualname,
        base.positional,
        frozenset(keyword | base.keyword),
        base.required,
        base.var_positional,
        base.open_keywords,
    )


def _keywords_read(init: Any, var_kw: str) -> set[str]:
    """The string keys a function reads from its `**var_kw` dict: `kw["x"]`, `kw.pop("x")`,
    `kw.get("x")`, `"x" in kw`. Read from its source; nothing when there is none."""
    try:
        import textwrap

        tree = parse_python(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError, ValueError):
        return set()
    names: set[str] = set()

    def is_kw(node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id == var_kw

    for node in ast.walk(tree):
        key: ast.AST | None = None
        if isinstance(node, ast.Subscript) and is_kw(node.value):
            key = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("pop", "get", "setdefault")
            and is_kw(node.func.value)
            and node.args
        ):
            key = node.args[0]
        elif isinstance(node, ast.Compare) and any(is_kw(c) for c in node.comparators):
            key = node.left
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def _flatten(qual: str, plist: list[inspect.Parameter], *, open_keywords: bool) -> Params:
    positional = tuple(
        p.name for p in plist if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )
    keyword = frozenset(
        p.name for p in plist if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )
    required = tuple(
        p.name
        for p in plist
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )
    var_pos = any(p.kind is p.VAR_POSITIONAL for p in plist)
    return Params(qual, positional, keyword, required, var_pos, open_keywords)


def _signature(fn: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# Keras's registries of names (activations, initializers, regularizers, constraints)


def keras_registry_module(kind: str) -> ModuleType:
    import keras

    return {
        "activation": keras.activations,
        "initializer": keras.initializers,
        "regularizer": keras.regularizers,
        "constraint": keras.constraints,
    }[kind]


def live_registry_accepts(kind: str, value: str) -> bool:
    try:
        keras_registry_module(kind).get(value)
    except Exception:
        return False
    return True


def live_registry_names(kind: str) -> tuple[str, ...]:
    module = keras_registry_module(kind)
    names = [n for n in dir(module) if not n.startswith("_") and n[0].islower()]
    return tuple(n for n in names if n not in {"get", "serialize", "deserialize"})


def _registry(kind: str) -> tuple[frozenset[str], tuple[str, ...]] | None:
    held = surface()
    if held is None or held.tops.get("keras") is None:
        return None
    return held.registry(kind)


@lru_cache(maxsize=512)
def keras_registry_accepts(kind: str, value: str) -> bool:
    """Whether Keras's `<kind>s.get(value)` accepts the name (`activations.get("relu")`)."""
    found = _registry(kind)
    return value in found[0] if found is not None else live_registry_accepts(kind, value)


@lru_cache(maxsize=8)
def keras_registry_names(kind: str) -> tuple[str, ...]:
    """The names a registry lists, for did-you-means."""
    found = _registry(kind)
    return found[1] if found is not None else live_registry_names(kind)
