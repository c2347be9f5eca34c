"""The meta-device patches seen from a checked file, through the sandboxed worker: TorchScript in
the user's program runs as it does without them, and a transposed convolution given the wrong
channel count is an error with a verified in_channels fix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.text import apply_edits


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def _check(tmp_path, source: str, pool: WorkerPool):
    path = tmp_path / "model.py"
    path.write_text(source)
    return check(source, str(path), CheckOptions(), pool=pool)


def _errors(report) -> list:
    return [d for d in report.diagnostics if d.severity == "error"]


SCRIPTED_HELPER = """import torch
import torch.nn as nn


@torch.jit.script
def merge(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cat([a, b], dim=1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(3, 8, 1)
        self.head = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        return self.head(merge(self.a(x), self.b(x)))


model = Net()  # deepeval: input=(2, 3, 16, 16)
"""

DISTRIBUTED_OPTIM = """import torch
import torch.distributed.optim
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x)


model = Net()  # deepeval: input=(4, 8)
"""

SCRIPTED_MODEL = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 2, 4)

    def forward(self, x):
        y = self.conv(x).mean(dim=(2, 3))
        return self.fc(torch.cat([y, y], 1))


net = Net()
scripted = torch.jit.script(net)
traced = torch.jit.trace(net, torch.zeros(1, 3, 8, 8))
model = Net()  # deepeval: input=(2, 3, 8, 8)
"""


@pytest.mark.parametrize(
    "source",
    [SCRIPTED_HELPER, DISTRIBUTED_OPTIM, SCRIPTED_MODEL],
    ids=["jit-script-helper", "import-distributed-optim", "script-and-trace-a-module"],
)
def test_torchscript_in_the_program_is_no_error(tmp_path, pool, source):
    report = _check(tmp_path, source, pool)
    assert _errors(report) == []
    assert report.passes["dynamic"] == "ran"


GENERATOR = """import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, nz=100, ngf=64):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


model = Generator()  # deepeval: input=(2, 100, 1, 1)
"""


def test_a_transposed_convolution_given_the_wrong_channels_is_found_and_fixed(tmp_path, pool):
    report = _check(tmp_path, GENERATOR, pool)
    (d,) = _errors(report)
    assert d.code == T.SHAPE_MISMATCH
    assert "expected input[2, 512, 4, 4] to have 256 channels" in d.message
    fix = d.preferred_fix
    assert fix is not None and fix.verified
    fixed = apply_edits(GENERATOR, fix.edits)
    assert "nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False)" in fixed  # factor edited
    after = _check(tmp_path, fixed, pool)
    assert _errors(after) == []
    assert after.model is not None and after.model.output_shape == (2, 3, 16, 16)
