"""Stand-ins for real packages that are not installed."""

from __future__ import annotations

import importlib
import sys

import pytest
from deepeval_lsp.diagnostics.dynamic.child.stubs import (
    MissingPackageUsed,
    StubFinder,
    not_installed,
)


def test_a_stubbed_package_imports_and_its_members_are_stubs():
    finder = StubFinder({"deepeval_absent_pkg"})
    sys.meta_path.insert(0, finder)
    try:
        mod = importlib.import_module("deepeval_absent_pkg.sub")
        thing = mod.Layer(3)["x"].attr
        assert "deepeval_absent_pkg" in repr(thing)

        class Model(mod.Base):  # a stub as a base class
            pass

        assert Model.__mro__[1] is object
        with pytest.raises(MissingPackageUsed):
            list(thing)
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n.startswith("deepeval_absent_pkg")]:
            del sys.modules[name]


def test_not_installed():
    assert not_installed("deepeval_absent_pkg")
    assert not not_installed("ast")
