"""The study's pylint score: real pylint in a child process, the study's formula and discounts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics.pylint_score import (
    PylintResult,
    PylintUnavailable,
    pylint_files,
    pylint_source,
)

pytest.importorskip("pylint")

CLEAN = '''"""A module."""


def dl_model():
    """Return one."""
    return 1
'''
# five statements: two imports, a def, an assignment, a return
MESSY = '''import os
from tensorflow.keras.layers import Dense
def dl_model():
    unused = 1
    return undefined_name
'''


def test_the_formula_is_over_statements_with_errors_weighing_five() -> None:
    r = PylintResult("x.py", convention=3, warning=2, error=1, statements=20)
    assert r.score == pytest.approx(10 - 10 * (5 + 2 + 3) / 20)
    assert PylintResult("x.py", convention=50, statements=10).score == 0.0
    assert PylintResult("x.py", fatal=1, statements=10).score == 0.0


def test_messages_are_counted_by_type_and_tensorflow_keras_is_discounted() -> None:
    assert pylint_source(CLEAN).score == 10.0
    r = pylint_source(MESSY)
    assert r.statements == 5
    assert "undefined-variable" in r.symbols and "unused-import" in r.symbols
    assert r.error == 1  # undefined-variable only: never tensorflow.keras's import errors
    assert not any(s in r.symbols for s in ("import-error", "no-name-in-module"))
    assert r.score == pytest.approx(max(0.0, 10 - 10 * (5 + r.warning + r.convention
                                                         + r.refactor) / 5))


def test_files_of_the_same_name_are_told_apart(tmp_path: Path) -> None:
    # the study's layout: generated_code_1.py in every task folder
    paths = []
    for task, source in (("a", CLEAN), ("b", MESSY)):
        (tmp_path / task).mkdir()
        p = tmp_path / task / "generated_code_1.py"
        p.write_text(source)
        paths.append(str(p))
    res = pylint_files(paths)
    assert set(res) == set(paths)
    assert res[paths[0]].score == 10.0 and res[paths[0]].statements == 2  # def, return
    assert res[paths[1]].error == 1 and res[paths[1]].statements == 5


def test_a_missing_pylint_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PylintUnavailable, match="no pylint in"):
        pylint_files([os.devnull], pylint_path=str(tmp_path))


def test_a_relative_pylint_path_is_the_pylint_that_runs(tmp_path: Path, monkeypatch) -> None:
    # a stand-in pylint that announces itself the moment the driver imports it
    fake = tmp_path / "other-pylint" / "pylint"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        'import json, sys\nprint(json.dumps({"error": "the stand-in ran"}))\nsys.exit(0)\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PylintUnavailable, match="the stand-in ran"):
        pylint_files([os.devnull], pylint_path="other-pylint")
