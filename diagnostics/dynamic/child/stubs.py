"""Stand-ins for real third-party packages that are not installed where the check runs.

A model may import `torchvision` or `einops` without needing them to be built; a finder on
`sys.meta_path` answers such imports with stub modules whose every attribute is a stub, so the
build goes on (and the check says what it stubbed).

A stub that is called gives back, once torch is loaded, a stand-in `nn.Module`: it can sit in an
`nn.Sequential` or be a submodule, and its forward is an identity (the real output shape is not
known). A stub called on a tensor gives that tensor back. Either way the run remembers that a
tensor went through a stand-in, and an error found after that depends on it (`depends_on`): the
check reports it as not checkable rather than as the user's error.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from typing import Any

from deepeval_lsp.diagnostics.dynamic.child.run_state import CHECKER_DIR


class MissingPackageUsed(RuntimeError):
    """The model needed a package that is not installed (stubbed for the check)."""


# Names of the stand-ins a tensor went through in this run (reset by each StubFinder).
_PASSED: list[str] = []

# Path components that say a stubbed class is a layer (`einops.layers.torch.Rearrange`,
# `timm.models.layers.DropPath`): a class that subclasses it is built as an nn.Module.
_LAYER_PARTS = frozenset({"nn", "layers", "layer", "torch", "modules", "models", "blocks"})


def _top(name: str) -> str:
    return name.split(".")[0]


def _first_tensor(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    return next((a for a in (*args, *kwargs.values()) if torch.is_tensor(a)), None)


def _through(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What calling the stand-in `name` gives: its tensor argument unchanged, the program's
    class or function it decorates (`@BACKBONES.register_module()`, `@register_model`), or a
    stand-in."""
    if len(args) == 1 and not kwargs and _decorated(args[0]):
        return args[0]
    tensor = _first_tensor(args, kwargs)
    if tensor is not None:
        # given a layer's parameter, it is an initialiser (`trunc_normal_(m.weight)`): it sets
        # values, not shapes, so what the model computes later does not depend on it
        if not isinstance(tensor, sys.modules["torch"].nn.Parameter):
            _PASSED.append(name)
        return tensor
    cls = _module_class()
    if cls is None:
        return _Stub(f"{name}()")
    inst = cls()
    inst._stub_name = f"{name}()"
    return inst


def _decorated(obj: Any) -> bool:
    """A function, or a class that is not torch's or Keras's own (`act_layer=nn.ReLU` is a
    layer to build, not a class to decorate)."""
    if isinstance(obj, types.FunctionType):
        return True
    module = getattr(obj, "__module__", "") if isinstance(obj, type) else ""
    return bool(module) and _top(module) not in ("torch", "keras", "tensorflow", "tf_keras")


class _Stub:
    """Stands in for anything from a package that is not installed."""

    # copy/pickle cache this on a class they meet; set here, the checker's class stays unchanged
    __slotnames__: list[str] = []  # noqa: RUF012

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _through(self._name, args, kwargs)

    def __getitem__(self, item: Any) -> Any:  # annotations such as Float[Tensor, "b 3 32 32"]
        return _Stub(f"{self._name}[]")

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        parts = set(self._name.split(".")[1:])
        cls = _module_class() if parts & _LAYER_PARTS else None
        return (cls or _StandInBase,)

    def __iter__(self) -> Any:
        raise MissingPackageUsed(f"{_top(self._name)} is not installed (stubbed)")

    def __repr__(self) -> str:
        return f"<MissingPackageStub {self._name}>"

    def _arith(self, *other: Any) -> Any:  # `cfg.dim * 4`: a value that is not known either
        return _Stub(f"{self._name}(op)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _arith
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __pow__ = _arith
    __neg__ = __pos__ = _arith


class _StandInBase:
    """The base of a class that subclasses a stubbed one that is no layer: takes any arguments."""

    # copy/pickle cache this on a class they meet; set here, the checker's class stays unchanged
    __slotnames__: list[str] = []  # noqa: RUF012

    _stub_name = "stand-in"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return _Stub(f"{type(self).__name__}.{attr}")


_MODULE_CLASS: list[type] = []


def _module_class() -> type | None:
    """The stand-in nn.Module class (made once torch is loaded; None before)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if _MODULE_CLASS:
        return _MODULE_CLASS[0]

    class StandInModule(torch.nn.Module):
        """An nn.Module standing in for a layer of a package that is not installed."""

        _deepeval_stand_in = True
        __slotnames__: list[str] = []  # noqa: RUF012 (see _Stub)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__()
            self._stub_name = type(self).__name__

        def __getattr__(self, attr: str) -> Any:
            try:
                return super().__getattr__(attr)
            except AttributeError:
                if attr.startswith("_"):
                    raise
                return _Stub(f"{self._stub_name}.{attr}")

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return _through(self._stub_name, args, kwargs)

        def register_module(self, *args: Any, **kwargs: Any) -> Any:
            if len(args) == 2 and not kwargs:  # nn.Module's own: (name, module)
                return super().register_module(*args)
            # a registry of the missing package: `@BACKBONES.register_module()`
            return _through(f"{self._stub_name}.register_module", args, kwargs)

        def __getitem__(self, item: Any) -> Any:
            return _Stub(f"{self._stub_name}[]")

        def __iter__(self) -> Any:
            raise MissingPackageUsed(f"{_top(self._stub_name)} is not installed (stubbed)")

        def extra_repr(self) -> str:
            return f"stand-in for {self._stub_name}"

    _MODULE_CLASS.append(StandInModule)
    return StandInModule


def _is_stand_in(obj: Any) -> bool:
    # Exact types: a user's class that subclasses a stand-in runs its own code.
    return type(obj) is _Stub or bool(_MODULE_CLASS and type(obj) is _MODULE_CLASS[0])


def depends_on(exc: BaseException) -> str | None:
    """The package whose stand-in the error `exc` may come from: a tensor went through a
    stand-in before it, or a stand-in is among the values of the frames it was raised in."""
    if _PASSED and any(isinstance(f, StubFinder) for f in sys.meta_path):  # in this run
        return _top(_PASSED[0])
    tb = exc.__traceback__
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            try:
                if _is_stand_in(value):
                    return _top(value._name if type(value) is _Stub else value._stub_name)
            except Exception:
                continue
        tb = tb.tb_next
    return None


class _StubModule(types.ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self.__name__}.{attr}")


class StubFinder:
    def __init__(self, tops: set[str]) -> None:
        self.tops = tops
        _PASSED.clear()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.split(".")[0] in self.tops:
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> Any:
        return _StubModule(spec.name)

    def exec_module(self, module: Any) -> None:
        return None


def not_installed(top: str) -> bool:
    """Is the top-level package missing here (without importing it)?"""
    try:
        return importlib.util.find_spec(top) is None
    except (ImportError, ValueError):
        return True


# The names the program's slice dropped and the run bound to stand-ins: name -> line of the
# dropped statement that binds it (set by bind_dropped for each run).
_DROPPED: dict[str, int] = {}
# Names of the dropped-value stand-ins a tensor went through in this run.
_DROPPED_PASSED: list[str] = []


class DroppedValue:
    """Stands in for a value only code that the check does not run binds (data loading,
    training, saving): its attributes, items, calls and arithmetic give stand-ins too, and a
    tensor passed to it comes back unchanged. What fails on one is the check's limit."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return DroppedValue(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tensor = _first_tensor(args, kwargs)
        if tensor is not None:
            _DROPPED_PASSED.append(self._name)
            return tensor
        return DroppedValue(f"{self._name}()")

    def __getitem__(self, item: Any) -> Any:
        return DroppedValue(f"{self._name}[]")

    def __iter__(self) -> Any:
        raise MissingPackageUsed(f"{self._name} is not known to the check (iterated)")

    def __repr__(self) -> str:
        return f"<value of {self._name}, not run by the check>"

    def _arith(self, *other: Any) -> Any:
        return DroppedValue(f"{self._name}(op)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _arith
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __pow__ = _arith
    __neg__ = __pos__ = _arith


def bind_dropped(ns: dict[str, Any], names: dict[str, int]) -> None:
    """Bind each name of `names` (name -> line of the dropped statement binding it) in the
    program's namespace `ns` to a DroppedValue, before the program's slice runs."""
    _DROPPED.clear()
    _DROPPED.update(names)
    _DROPPED_PASSED.clear()
    for name in names:
        ns[name] = DroppedValue(name)


def _root(name: str) -> str:
    return name.split(".")[0].split("(")[0].split("[")[0]


def dropped_in(exc: BaseException) -> str | None:
    """`name (line N)` when the error `exc` may come from a value the check did not compute: a
    NameError for a name only dropped code binds, a tensor that went through such a stand-in,
    or a stand-in among the values of a function the error was raised in (or in its message)."""
    if not _DROPPED:
        return None

    def said(name: str) -> str:
        root = _root(name)
        return f"{root} (line {_DROPPED[root]})" if root in _DROPPED else root

    if isinstance(exc, NameError) and getattr(exc, "name", None) in _DROPPED:
        return said(exc.name)  # type: ignore[arg-type]
    if _DROPPED_PASSED:
        return said(_DROPPED_PASSED[0])
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        # (the module's globals hold every stand-in, and so do the checker's own frames, which
        # hold the program's namespace)
        if frame.f_locals is not frame.f_globals and not frame.f_code.co_filename.startswith(
            CHECKER_DIR + os.sep
        ):
            for value in list(frame.f_locals.values()):
                if type(value) is DroppedValue:
                    return said(value._name)
                if isinstance(value, list | tuple | dict):
                    items = value.values() if isinstance(value, dict) else value
                    found = next((v for v in items if type(v) is DroppedValue), None)
                    if found is not None:
                        return said(found._name)
        tb = tb.tb_next
    text = str(exc)
    if "DroppedValue" in text or "not run by the check" in text:
        names = [said(n) for n in _DROPPED]
        return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    return None
