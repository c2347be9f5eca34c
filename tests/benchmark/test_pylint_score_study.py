"""The study's pylint score: real pylint in a child process, the study's formula and discounts."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from deepeval_lsp.benchmark import pylint_score
from deepeval_lsp.benchmark.pylint_score import (
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
MESSY = """import os
from tensorflow.keras.layers import Dense
def dl_model():
    unused = 1
    return undefined_name
"""


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
    assert r.score == pytest.approx(
        max(0.0, 10 - 10 * (5 + r.warning + r.convention + r.refactor) / 5)
    )


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
        'import json, sys\nprint(json.dumps({"error": "the stand-in ran"}))\nsys.exit(0)\n'
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PylintUnavailable, match="the stand-in ran"):
        pylint_files([os.devnull], pylint_path="other-pylint")


def _stand_in_pylint(root: Path, says: str) -> Path:
    pkg = root / "pylint"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        f'import json, sys\nprint(json.dumps({{"error": "{says}"}}))\nsys.exit(0)\n'
    )
    return root


def test_the_study_pylint_beside_the_installed_one_is_the_default(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv(pylint_score.ENV_PATH, raising=False)
    study_dir = _stand_in_pylint(tmp_path / "pylint-2.16", "the study's pylint ran")
    monkeypatch.setattr(pylint_score, "STUDY_PYLINT_DIR", str(study_dir))
    with pytest.raises(PylintUnavailable, match="the study's pylint ran"):
        pylint_files([os.devnull])
    # the environment variable, then the argument, come first
    other = _stand_in_pylint(tmp_path / "other", "the named pylint ran")
    monkeypatch.setenv(pylint_score.ENV_PATH, str(other))
    with pytest.raises(PylintUnavailable, match="the named pylint ran"):
        pylint_files([os.devnull])
    named = _stand_in_pylint(tmp_path / "arg", "the argument's pylint ran")
    with pytest.raises(PylintUnavailable, match="the argument's pylint ran"):
        pylint_files([os.devnull], pylint_path=str(named))


def test_the_study_pylint_reproduces_a_published_task_score(study_data: Path) -> None:
    if not os.path.isdir(os.path.join(pylint_score.STUDY_PYLINT_DIR, "pylint")):
        pytest.skip(
            f"the study's pylint 2.16 is not in {pylint_score.STUDY_PYLINT_DIR} "
            "(scripts/install.sh puts it there)"
        )
    row = next(
        r
        for r in csv.DictReader((study_data / "paper_results" / "static_pylint_by_task.csv").open())
        if (r["model"], r["prompting"], r["task"]) == ("gpt_4o", "zeroshot", "hard_task_1")
    )
    folder = study_data / "DeepEval/response/DeepEval/gpt_4o/zeroshot/hard_task_1"
    paths = [str(p) for p in sorted(folder.glob("*.py")) if p.stat().st_size]
    res = pylint_files(paths)
    assert {r.version for r in res.values()} == {"2.16.4"}
    for kind in ("convention", "warning", "error", "refactor", "fatal"):
        assert sum(getattr(r, kind) for r in res.values()) == int(row[kind]), kind
    mean = sum(r.score for r in res.values()) / len(res)
    assert mean == pytest.approx(float(row["average_score"]), abs=1e-4)
