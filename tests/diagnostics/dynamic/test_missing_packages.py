"""A real package that is not installed here: the file is still built (with stand-ins), a real
mistake beside the import is found, and what depends on a stand-in is not called an error."""

from __future__ import annotations

import importlib.util
import textwrap
from collections.abc import Iterator

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool


def _absent(*tops: str) -> None:
    for top in tops:
        if importlib.util.find_spec(top) is not None:
            pytest.skip(f"{top} is installed here: nothing stands in for it")


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerPool]:
    p = WorkerPool(1, read_paths=[str(tmp_path_factory.mktemp("project"))])
    yield p
    p.close()


def _check(src: str, pool: WorkerPool):
    return check(textwrap.dedent(src), "agent.py", CheckOptions(), pool=pool).diagnostics


def test_a_shape_mistake_beside_a_missing_package_is_found(pool: WorkerPool) -> None:
    _absent("gymnasium")
    got = _check(
        """\
        import gymnasium as gym
        import torch
        import torch.nn as nn


        class Policy(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(8, 32)
                self.fc2 = nn.Linear(16, 4)

            def forward(self, x):
                return self.fc2(torch.relu(self.fc1(x)))


        env = gym.make("LunarLander-v3")
        model = Policy()
        """,
        pool,
    )
    errors = [d for d in got if d.severity == "error"]
    assert [(d.code, d.range.start.line) for d in errors] == [("DL301", 12)]
    notes = [d for d in got if d.range.start.line == 0]
    assert [(d.code, d.severity) for d in notes] == [("DL401", "information")]


def test_a_stand_in_layer_is_a_module_and_what_follows_it_is_no_error(pool: WorkerPool) -> None:
    _absent("timm")
    got = _check(
        """\
        import torch.nn as nn
        from timm.layers import SelectAdaptivePool2d
        # deepeval: input=(2, 3, 32, 32)

        model = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            SelectAdaptivePool2d(pool_type="avg", flatten=True),
            nn.Linear(8, 10),
        )
        """,
        pool,
    )
    assert [d for d in got if d.severity == "error"] == []
    assert not any("Module subclass" in d.message for d in got)
    (after,) = [d for d in got if d.range.start.line > 1]
    assert after.code == "DL401"
    assert "stand-in for `timm`" in after.message


def test_a_stand_in_function_on_a_tensor_keeps_later_layers_from_erring(pool: WorkerPool) -> None:
    _absent("einx")
    got = _check(
        """\
        import torch.nn as nn
        from einx import rearrange
        # deepeval: input=(2, 3, 32, 32)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3, padding=1)
                self.fc = nn.Linear(8 * 32 * 32, 10)

            def forward(self, x):
                x = rearrange("b c h w -> b (c h w)", self.conv(x))
                return self.fc(x)


        model = Net()
        """,
        pool,
    )
    assert [d for d in got if d.severity == "error"] == []
    assert any("stand-in for `einx`" in d.message for d in got)


def test_a_mistake_before_any_stand_in_is_still_an_error(pool: WorkerPool) -> None:
    _absent("timm")
    got = _check(
        """\
        import torch.nn as nn
        from timm.layers import SelectAdaptivePool2d
        # deepeval: input=(2, 3, 32, 32)

        model = nn.Sequential(
            nn.Conv2d(4, 8, 3, padding=1),
            SelectAdaptivePool2d(pool_type="avg", flatten=True),
        )
        """,
        pool,
    )
    errors = [d for d in got if d.severity == "error"]
    assert [d.code for d in errors] == ["DL301"]


def test_a_stand_in_initialiser_on_the_weights_leaves_later_mistakes_errors(
    pool: WorkerPool,
) -> None:
    # `trunc_normal_(m.weight)` sets values, not shapes: the mistake in forward stays an error
    _absent("timm")
    got = _check(
        """\
        import torch.nn as nn
        from timm.models.layers import trunc_normal_
        # deepeval: input=(2, 3, 32, 32)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3, padding=1)
                self.fc = nn.Linear(4 * 32 * 32, 10)
                self.apply(self._init)

            def _init(self, m):
                if isinstance(m, nn.Linear):
                    trunc_normal_(m.weight, std=0.02)

            def forward(self, x):
                return self.fc(self.conv(x).flatten(1))


        model = Net()
        """,
        pool,
    )
    errors = [d for d in got if d.severity == "error"]
    assert [(d.code, d.range.start.line) for d in errors] == [("DL301", 17)]
