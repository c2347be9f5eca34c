"""A shape fix keeps the user's expression: it changes the literal factor, divisor or offset that
the wrong size came from (`2 * dim` -> `4 * dim`, `c * 4 * 4` -> `c * 6 * 6`), drops one that
becomes 1, and writes a literal only where the argument was one."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.dynamic.child.edits import apply_tuple_edits
from deepeval_lsp.diagnostics.dynamic.child.shape_fixes import expression_edits
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.findings import Fix
from deepeval_lsp.diagnostics.text import apply_edits


def _edited(expr: str, current: int, value: int) -> str | None:
    line = f"x = {expr}"
    node = ast.parse(line).body[0].value  # type: ignore[attr-defined]
    edits = expression_edits(node, current, value, [line])
    return None if edits is None else apply_tuple_edits(line, edits)[4:]


@pytest.mark.parametrize(
    ("expr", "current", "value", "fixed"),
    [
        ("2 * dim", 192, 384, "4 * dim"),
        ('2 * cfg["emb_dim"]', 1536, 3072, '4 * cfg["emb_dim"]'),
        ("out_channels * 4 * 4", 512 * 16, 512 * 36, "out_channels * 6 * 6"),
        ("out_channels * 6", 512 * 6, 512 * 36, "out_channels * 36"),
        ("prev_channels * 2", 128, 64, "prev_channels"),
        ("d // 2", 256, 512, "d"),
        ("in_size // 2", 512, 1024, "in_size"),
        ("d_out // 4", 192, 384, "d_out // 2"),
        ("int(512 * alpha)", 256, 512, "int(1024 * alpha)"),
        ("hidden + 1", 65, 66, "hidden + 2"),
    ],
)
def test_the_literal_the_size_came_from_changes(expr, current, value, fixed):
    assert _edited(expr, current, value) == fixed


@pytest.mark.parametrize(
    ("expr", "current", "value"),
    [
        ("128", 128, 256),  # a literal: replacing it is the fix
        ("dim", 64, 128),  # no literal to carry the change
        ("dims[-2]", 384, 768),
        ("3 * dim", 96, 100),  # 3 * 100/96 is no integer
    ],
)
def test_no_expression_edit_where_no_literal_carries_the_change(expr, current, value):
    assert _edited(expr, current, value) is None


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def _errors(source: str, pool: WorkerPool) -> list:
    report = check(source, "net.py", CheckOptions(), pool=pool)
    return [d for d in report.diagnostics if d.severity == "error"]


NET = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self, dim=16, channels=8):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.flat = nn.Flatten()
        self.head = nn.Linear(channels * 4 * 4, dim)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, img):
        return self.fc2(self.fc1(self.head(self.flat(self.conv(img)))))


model = Net()  # deepeval: input=(2, 3, 6, 6)
"""


def test_check_fix_restores_the_users_expressions(pool):
    errors = _errors(NET, pool)
    assert len(errors) == 2
    fixed = NET
    for d in errors:
        fix = d.preferred_fix
        assert fix is not None and fix.verified
        fixed = apply_edits(fixed, fix.edits)
    assert "nn.Linear(4 * dim, dim)" in fixed
    assert "nn.Linear(channels * 6 * 6, dim)" in fixed
    assert _errors(fixed, pool) == []


NAMED = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self, dims=(8, 16)):
        super().__init__()
        self.fc = nn.Linear(4, dims[-1])
        self.head = nn.Linear(dims[0], 2)

    def forward(self, x):
        return self.head(self.fc(x))


model = Net()  # deepeval: input=(2, 4)
"""


def test_a_literal_over_the_users_expression_is_offered_but_not_preferred(pool):
    (d,) = _errors(NAMED, pool)
    (fix,) = d.fixes
    assert fix.verified and not fix.preferred
    assert [e.new_text for e in fix.edits] == ["16"] and "dims[0]" in fix.title
    assert d.preferred_fix is None  # `check --fix` leaves `dims[0]` to the user
    assert Fix.from_json(fix.to_json()) == fix


def test_a_literal_argument_is_replaced_by_the_preferred_fix(pool):
    (d,) = _errors(NAMED.replace("nn.Linear(dims[0], 2)", "nn.Linear(8, 2)"), pool)
    fix = d.preferred_fix
    assert fix is not None and fix.preferred and [e.new_text for e in fix.edits] == ["16"]
