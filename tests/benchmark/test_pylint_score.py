"""The study's pylint score formula, with pylint run in-process."""

from __future__ import annotations

import pytest

pytest.importorskip("pylint")

from deepeval_lsp.benchmark.pylint_score import PylintCounts, pylint_counts


def test_formula_weights_errors_five_times_and_fatal_zeroes():
    assert PylintCounts(convention=2, warning=1, statements=10).score == pytest.approx(7.0)
    assert PylintCounts(error=1, refactor=1, statements=10).score == pytest.approx(4.0)
    assert PylintCounts(convention=50, statements=10).score == 0.0
    assert PylintCounts(fatal=1, statements=10).score == 0.0


def test_counts_come_from_pylint_messages():
    clean = '"""A module."""\n\n\ndef add(a, b):\n    """Add."""\n    return a + b\n'
    c = pylint_counts(clean)
    assert c is not None and c.statements >= 2
    assert c.score == 10.0
    messy = "import os\ndef f( x ):\n    return undefined_name\n"
    m = pylint_counts(messy)
    assert "undefined-variable" in m.symbols and m.error >= 1
    assert "unused-import" in m.symbols and m.warning >= 1
    assert "missing-module-docstring" in m.symbols and m.convention >= 1
    assert m.score < c.score


def test_tensorflow_import_errors_are_discounted():
    code = '"""M."""\nfrom tensorflow.keras.layers import Dense\n\nLAYER = Dense(3)\n'
    c = pylint_counts(code)
    assert "import-error" not in c.symbols and "no-name-in-module" not in c.symbols


def test_bench_records_the_pylint_score(tmp_path, capsys):
    import json
    import sqlite3

    from deepeval_lsp.cli import main

    db = tmp_path / "p.db"
    assert main(["bench", "--db", str(db), "--limit", "1", "--no-dynamic", "-q",
                 "--static-score", "pylint"]) == 0
    con = sqlite3.connect(db)
    (value,) = con.execute("select value from scores where name = 'pylint_score'").fetchone()
    con.close()
    assert 0.0 <= value <= 10.0
    capsys.readouterr()
    assert main(["report", "--db", str(db), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["pylint_score"] == pytest.approx(value)
