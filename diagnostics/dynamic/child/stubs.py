"""Stand-ins for real third-party packages that are not installed where the check runs.

A model may import `torchvision` or `einops` without needing them to be built; a finder on
`sys.meta_path` answers such imports with stub modules whose every attribute is a stub, so the
build goes on (and the check says what it stubbed).
"""

from __future__ import annotations

import importlib.util
import types
from typing import Any


class MissingPackageUsed(RuntimeError):
    """The model needed a package that is not installed (stubbed for the check)."""


class _Stub:
    """Stands in for anything from a package that is not installed."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _Stub(f"{self._name}()")

    def __getitem__(self, item: Any) -> Any:  # annotations such as Float[Tensor, "b 3 32 32"]
        return _Stub(f"{self._name}[]")

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        return (object,)

    def __iter__(self) -> Any:
        raise MissingPackageUsed(f"{self._name.split('.')[0]} is not installed (stubbed)")

    def __repr__(self) -> str:
        return f"<MissingPackageStub {self._name}>"


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
