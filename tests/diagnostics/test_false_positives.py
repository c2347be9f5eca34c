"""Correct models produce no error-severity diagnostics (static pass)."""

from __future__ import annotations

from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import Checker, CheckOptions

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.py")))
def test_correct_model_has_no_errors(name: str) -> None:
    with Checker() as checker:
        report = checker.check_path(DATA / name, CheckOptions(dynamic=False))
    errors = [d for d in report.diagnostics if d.severity == "error"]
    assert errors == [], errors
    assert report.error is None
