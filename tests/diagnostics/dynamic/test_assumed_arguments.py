"""A model built with constructor arguments the check assumed, through the sandboxed worker:
its failure is a note on the check's limit, while the same failure in a model the program
fully determines stays an error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool

# A Linear that takes 32 features after a Conv2d giving 16 channels: a mismatch on any input.
MISMATCH = (
    "import torch\nfrom torch import nn\n\n"
    "# deepeval: input=(1, 3, 8, 8)\n\n\n"
    "class Net(nn.Module):\n"
    "    def __init__(self, {params}):\n"
    "        super().__init__()\n"
    "        self.conv = nn.Conv2d(3, 16, 3, padding=1)\n"
    "        self.fc = nn.Linear(32, 10)\n\n"
    "    def forward(self, x):\n"
    "        x = self.conv(x).mean(dim=(2, 3))\n"
    "        return self.fc(x)\n"
)


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def _dynamic(tmp_path, source: str, pool: WorkerPool):
    path = tmp_path / "model.py"
    path.write_text(source)
    report = check(source, str(path), CheckOptions(), pool=pool)
    return [d for d in report.diagnostics if d.source_pass == "dynamic"], report


def test_a_mismatch_in_a_model_built_with_assumed_arguments_is_a_note(tmp_path, pool):
    found, report = _dynamic(tmp_path, MISMATCH.format(params="dim"), pool)
    assert [d.code for d in found if d.code != T.NOT_CHECKABLE] == []
    note = next(d for d in found if "assumed by the check" in d.message)
    assert "Net(dim=64)" in note.message and "dim=64" in note.message
    assert "mat1 and mat2" in note.message or "shapes" in note.message, note.message
    assert report.executable is None


def test_the_same_mismatch_in_a_default_constructible_model_is_an_error(tmp_path, pool):
    found, report = _dynamic(tmp_path, MISMATCH.format(params="dim=64"), pool)
    assert [d.code for d in found if d.code != T.NOT_CHECKABLE] == [T.SHAPE_MISMATCH]
    assert report.executable is False
