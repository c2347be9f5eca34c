"""The static pass's fix verification (verify_static): a fix is verified only if it cleans."""

from __future__ import annotations

import dataclasses

from deepeval_lsp.diagnostics import CheckOptions
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.findings import Fix, TextEdit
from deepeval_lsp.diagnostics.static.run import run_static, verify_static

SOURCE = """\
import torch.nn as nn

conv = nn.Conv2D(3, 8, 3)
"""


def _finding_with(fix_text: str):
    """The static finding for `nn.Conv2D`, its fix replaced by one writing `fix_text`."""
    result = run_static(SOURCE, "m.py", CheckOptions(dynamic=False, verify_fixes=False))
    (d,) = result.diagnostics
    assert d.code == T.NONEXISTENT_ATTRIBUTE and not result.fixes_verified
    (edit,) = d.fixes[0].edits
    fix = Fix(f"Change to `{fix_text}`", (TextEdit(edit.range, fix_text),))
    result.diagnostics = [dataclasses.replace(d, fixes=(fix,))]
    return result


def test_a_fix_that_leaves_the_error_is_not_verified() -> None:
    result = _finding_with("Conv2DD")
    verify_static(result, SOURCE, "m.py", CheckOptions(dynamic=False))
    assert result.fixes_verified
    assert [f.verified for f in result.diagnostics[0].fixes] == [False]
    assert result.diagnostics[0].preferred_fix is None


def test_a_fix_that_cleans_is_verified() -> None:
    result = _finding_with("Conv2d")
    verify_static(result, SOURCE, "m.py", CheckOptions(dynamic=False))
    assert [f.verified for f in result.diagnostics[0].fixes] == [True]
