"""A long file is checked like a short one: its length is no timeout of the dynamic pass."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool

MODEL = """\
import torch
import torch.nn as nn
# deepeval: input=(1, 3, 32, 32)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 16 * 16, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(torch.flatten(x, 1))


def dl_model():
    return Net()

"""


def _harmless(statements: int) -> str:
    """Hyper-parameters, helpers and prints: what a long training script has around its model."""
    out = []
    for i in range(statements // 4):
        out.append(f"width_{i} = 16 * {i % 4 + 1}\n")
        out.append(f"rate_{i} = width_{i} / 1000\n")
        out.append(f"def scale_{i}(v):\n    return v * rate_{i}\n")
        out.append(f"print(scale_{i}(width_{i}))\n")
    return "".join(out)


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def test_a_correct_model_followed_by_4k_statements_is_clean(pool: WorkerPool) -> None:
    src = MODEL + _harmless(4000)
    assert src.count("\n") > 4000
    report = check(src, "long_model.py", CheckOptions(), pool=pool)  # the default time limit
    assert report.error is None
    assert [(d.code, d.message) for d in report.diagnostics] == []
    assert report.passes["dynamic"] == "ran"
    assert report.model is not None and report.model.output_shape == (1, 10)
