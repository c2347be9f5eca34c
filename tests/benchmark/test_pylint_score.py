"""`--static-score pylint`: the study's pylint score of every valid sample, after scoring."""

from __future__ import annotations

import json
import sqlite3

import pytest

from deepeval_lsp.cli import main

pytest.importorskip("pylint")


def test_bench_records_the_pylint_score_once_per_valid_sample(tmp_path, capsys):
    db = tmp_path / "p.db"
    assert (
        main(
            [
                "bench",
                "--db",
                str(db),
                "--limit",
                "2",
                "--no-dynamic",
                "-q",
                "--static-score",
                "pylint",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "pylint: 2 programs scored" in err
    con = sqlite3.connect(db)
    values = [v for (v,) in con.execute("select value from scores where name = 'pylint_score'")]
    run_id = con.execute("select id from runs").fetchone()[0]
    con.close()
    assert len(values) == 2 and all(0.0 <= v <= 10.0 for v in values)
    assert main(["report", "--db", str(db), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["pylint_score"] == pytest.approx(sum(values) / 2)
    # a resumed run has nothing left to lint
    assert main(["bench", "--db", str(db), "--resume", run_id, "-q"]) == 0
    assert "pylint:" not in capsys.readouterr().err
