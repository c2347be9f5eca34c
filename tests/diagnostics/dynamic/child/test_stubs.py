"""Stand-ins for real packages that are not installed."""

from __future__ import annotations

import importlib
import sys

import pytest
import torch
from deepeval_lsp.diagnostics.dynamic.child.stubs import (
    MissingPackageUsed,
    StubFinder,
    depends_on,
    not_installed,
)


@pytest.fixture
def absent():
    finder = StubFinder({"deepeval_absent_pkg"})
    sys.meta_path.insert(0, finder)
    yield importlib.import_module("deepeval_absent_pkg.layers.torch")
    sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if n.startswith("deepeval_absent_pkg")]:
        del sys.modules[name]


def test_a_stubbed_package_imports_and_its_members_are_stubs():
    finder = StubFinder({"deepeval_absent_pkg"})
    sys.meta_path.insert(0, finder)
    try:
        mod = importlib.import_module("deepeval_absent_pkg.sub")
        thing = mod.Layer(3)["x"].attr
        assert "deepeval_absent_pkg" in repr(thing)

        class Config(mod.Base):  # a stub as a base class takes any arguments
            def __init__(self, size):
                super().__init__(size=size)

        assert Config(3).anything is not None
        assert not isinstance(Config(3), torch.nn.Module)
        with pytest.raises(MissingPackageUsed):
            list(thing)
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n.startswith("deepeval_absent_pkg")]:
            del sys.modules[name]


def test_not_installed():
    assert not_installed("deepeval_absent_pkg")
    assert not not_installed("ast")


def test_a_called_stub_is_an_identity_module_in_a_sequential(absent):
    layer = absent.Rearrange("b c h w -> b (c h w)")
    assert isinstance(layer, torch.nn.Module)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), layer)
    x = torch.empty(2, 3, 8, 8)
    assert model(x).shape == (2, 8, 6, 6)
    assert "stand-in" in repr(model)


def test_an_error_after_a_tensor_went_through_a_stand_in_depends_on_it(absent):
    fc = torch.nn.Linear(99, 2)
    try:
        fc(torch.empty(2, 4))
    except RuntimeError as e:
        assert depends_on(e) is None  # nothing went through a stand-in yet
    x = absent.rearrange(torch.empty(2, 4), "b n -> b n")
    with pytest.raises(RuntimeError) as info:
        fc(x)
    assert depends_on(info.value) == "deepeval_absent_pkg"


def test_a_stand_in_value_in_the_failing_call_is_what_the_error_depends_on(absent):
    with pytest.raises(TypeError) as info:
        torch.nn.Linear(absent.spaces.Box().shape[0], 4)
    assert depends_on(info.value) == "deepeval_absent_pkg"


def test_a_class_on_a_stubbed_layer_is_a_module(absent):
    class Block(absent.DropPath):
        def __init__(self):
            super().__init__(0.1)
            self.fc = torch.nn.Linear(4, 4)

    assert isinstance(Block(), torch.nn.Module)
    assert isinstance(Block().fc, torch.nn.Linear)


def test_arithmetic_on_a_stand_in_value_stays_a_stand_in(absent):
    cfg = absent.Munch(dim=4)
    with pytest.raises(TypeError) as info:
        torch.nn.Linear(cfg.dim * 4 + 1, 2)
    assert depends_on(info.value) == "deepeval_absent_pkg"


def test_what_went_through_a_stand_in_counts_only_while_its_run_lasts(absent):
    absent.rearrange(torch.empty(2, 4), "b n -> b n")
    finders = [f for f in sys.meta_path if isinstance(f, StubFinder)]
    for f in finders:
        sys.meta_path.remove(f)
    try:
        with pytest.raises(RuntimeError) as info:
            torch.nn.Linear(99, 2)(torch.empty(2, 4))
        assert depends_on(info.value) is None
    finally:
        sys.meta_path[:0] = finders


def test_a_stub_decorator_and_a_stub_registry_give_the_decorated_back(absent):
    registry = absent.Registry("backbone")

    @registry.register_module()
    class Net(torch.nn.Module):
        pass

    @absent.register_model
    def net():
        return Net()

    assert isinstance(Net, type) and isinstance(net(), Net)
    # a layer class given to a stub is a layer to build: the stub stays a stand-in layer
    assert isinstance(absent.create_act(torch.nn.ReLU), torch.nn.Module)
    registry.register_module("_child", torch.nn.Linear(2, 2))  # nn.Module's own, still
    assert isinstance(registry._child, torch.nn.Linear)
