"""The dynamic pass together with the static one: shape mistakes behind static mistakes are found
in the same check, the user's own modules import in the sandbox, and scoring judges the program
as written."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.text import apply_edits

BEHIND_STATIC = textwrap.dedent(
    """\
    import torch
    import torch.nn as nn
    # deepeval: input=(1, 3, 32, 32)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2D(3, 16, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(16 * 8 * 8, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv(x)))
            return self.fc(torch.flatten(x, 1))


    def dl_model():
        return Net()
    """
)


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerPool]:
    folder = tmp_path_factory.mktemp("project")
    p = WorkerPool(1, read_paths=[str(folder)])
    p.project = folder  # type: ignore[attr-defined]
    yield p
    p.close()


def test_shape_mistake_behind_static_mistakes_is_found_and_fixed(pool: WorkerPool) -> None:
    report = check(BEHIND_STATIC, "net.py", CheckOptions(), pool=pool)
    got = {(d.code, d.range.start.line) for d in report.diagnostics}
    assert ("DL104", 8) in got and ("DL101", 13) in got
    shape = [d for d in report.diagnostics if d.code == "DL301"]
    assert len(shape) == 1 and shape[0].range.start.line == 14
    assert shape[0].preferred_fix is not None, shape[0].fixes
    assert report.executable is False
    fixed = BEHIND_STATIC
    for _ in range(3):
        edits = [e for d in report.diagnostics if d.preferred_fix for e in d.preferred_fix.edits]
        if not edits:
            break
        fixed = apply_edits(fixed, edits)
        report = check(fixed, "net.py", CheckOptions(), pool=pool)
    assert [d for d in report.diagnostics if d.severity == "error"] == []
    assert report.executable is True
    assert "nn.Linear(64 * 8 * 8, 10)" in fixed  # the factor is edited, the expression kept


def test_scoring_judges_the_program_as_written(pool: WorkerPool) -> None:
    report = check(
        BEHIND_STATIC, "net.py", CheckOptions(fix_static_first=False, verify_fixes=False), pool=pool
    )
    assert report.executable is False
    assert not any(d.code == "DL301" for d in report.diagnostics)


def test_local_modules_import_in_the_sandbox(pool: WorkerPool) -> None:
    project: Path = pool.project  # type: ignore[attr-defined]
    (project / "blocks.py").write_text(
        "import torch.nn as nn\n\n\ndef block(i, o):\n"
        "    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.ReLU())\n"
    )
    main = project / "main.py"
    main.write_text(
        "import torch.nn as nn\nfrom blocks import block\n# deepeval: input=(1, 3, 32, 32)\n\n\n"
        "def dl_model():\n    return nn.Sequential(block(3, 16), block(32, 8))\n"
    )
    report = check(main.read_text(), str(main), CheckOptions(), pool=pool)
    (d,) = [d for d in report.diagnostics if d.severity == "error"]
    assert d.code == "DL301" and d.range.start.line == 6
    assert d.preferred_fix is not None
    assert apply_edits(main.read_text(), d.preferred_fix.edits).endswith("block(16, 8))\n")
