"""`deepeval-lsp report` over a database of known samples: figures, formats, "not measured"."""

from __future__ import annotations

import csv
import io
import json
import random
import re

import pytest
from deepeval_lsp.benchmark.metrics import pass_at_k
from deepeval_lsp.benchmark.store import RunConfig, create_run, open_db, record_sample

from deepeval_lsp.cli import main

CONFIG = RunConfig(
    suite="builtin",
    models=["replay:x"],
    promptings=["zeroshot", "fewshot"],
    samples=3,
    temperature=0.8,
    top_p=0.95,
    max_tokens=2048,
    base_url=None,
)
FAILURES = ["Input Tensor Shape Mismatch", "Missing API Import", "Invalid API Argument Value"]


def _fill(db, run_id: str, seed: int) -> list[dict]:
    """Random but known samples for two promptings × 6 tasks × 3 samples."""
    rnd = random.Random(seed)
    made = []
    for prompting in ("zeroshot", "fewshot"):
        for t in range(6):
            for k in range(3):
                kind = rnd.choice(["executable", "failed", "failed", "empty"])
                s = {
                    "run_id": run_id,
                    "model": "m1",
                    "prompting": prompting,
                    "task_id": f"task_{t}",
                    "sample_index": k,
                    "outcome": kind,
                    "valid": int(kind != "empty"),
                    "executable": {"executable": 1, "failed": 0}.get(kind),
                    "static_errors": rnd.randint(0, 3) if kind != "empty" else None,
                    "failure_dl_error": rnd.choice(FAILURES) if kind == "failed" else None,
                    "prompt_tokens": 100,
                    "completion_tokens": 50,
                    "cost_usd": 0.001,
                }
                scores = {}
                if kind != "empty":
                    scores = {"api_set_f1": rnd.uniform(0, 100), "api_seq_f1": rnd.uniform(0, 100)}
                record_sample(db, s, [], scores)
                made.append({**s, **scores})
    return made


@pytest.fixture
def filled(tmp_path):
    path = tmp_path / "r.db"
    db = open_db(path)
    run_id = create_run(db, CONFIG, "test")
    made = _fill(db, run_id, seed=7)
    db.close()
    return path, run_id, made


def _expected(made: list[dict], prompting: str) -> dict:
    rows = [s for s in made if s["prompting"] == prompting]
    valid = [s for s in rows if s["valid"]]
    ok = sum(1 for s in valid if s["executable"] == 1)
    tasks: dict[str, list[dict]] = {}
    for s in rows:
        tasks.setdefault(s["task_id"], []).append(s)
    p = {
        k: 100
        * sum(pass_at_k(3, sum(x["executable"] == 1 for x in v), k) for v in tasks.values())
        / len(tasks)
        for k in (1, 2, 3)
    }
    tax: dict[str, int] = {}
    for s in rows:
        if s["failure_dl_error"]:
            tax[s["failure_dl_error"]] = tax.get(s["failure_dl_error"], 0) + 1
    return {
        "samples": len(rows),
        "valid": len(valid),
        "executable": ok,
        "executability_rate": 100 * ok / len(valid),
        "pass": p,
        "static": sum(s["static_errors"] for s in valid) / len(valid),
        "api_set_f1": sum(s["api_set_f1"] for s in valid) / len(valid),
        "taxonomy": tax,
    }


def test_json_rows_per_model_and_prompting(filled, capsys):
    path, _run_id, made = filled
    assert main(["report", "--db", str(path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["prompting"]) for r in rows] == [("m1", "zeroshot"), ("m1", "fewshot")]
    for row in rows:
        exp = _expected(made, row["prompting"])
        assert row["tasks"] == 6
        assert row["samples"] == exp["samples"] and row["valid"] == exp["valid"]
        assert row["executable"] == exp["executable"]
        assert row["executability_rate"] == pytest.approx(exp["executability_rate"])
        assert set(row["pass_at_k"]) == {"pass@1", "pass@2", "pass@3"}
        for k in (1, 2, 3):
            assert row["pass_at_k"][f"pass@{k}"] == pytest.approx(exp["pass"][k])
        assert row["static_errors_per_sample"] == pytest.approx(exp["static"])
        assert row["api_set_f1"] == pytest.approx(exp["api_set_f1"])
        assert row["api_seq_f1"] is not None
        assert row["taxonomy"] == exp["taxonomy"]
        assert row["cost_usd"] == pytest.approx(0.001 * exp["samples"])


def test_csv_table_and_html(filled, tmp_path, capsys):
    path, run_id, _made = filled
    assert main(["report", "--db", str(path), "--run", run_id, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 2 and rows[0]["prompting"] == "zeroshot"
    assert "pass@3" in rows[0] and "taxonomy: Input Tensor Shape Mismatch" in rows[0]

    assert main(["report", "--db", str(path), "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "m1" in table and "zeroshot" in table and "pass@3" in table
    assert "Input Tensor Shape Mismatch" in table

    out = tmp_path / "r.html"
    assert main(["report", "--db", str(path), "--format", "html", "--out", str(out)]) == 0
    html = out.read_text()
    assert html.count("<svg") == 4  # executability, taxonomy, API-set, API-sequence
    assert run_id in html
    # self-contained: no scripts, styles or images fetched from anywhere
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html


def test_unmeasured_figures_are_null_not_zero(tmp_path, capsys):
    path = tmp_path / "n.db"
    db = open_db(path)
    run_id = create_run(db, CONFIG, "test")
    record_sample(
        db,
        {
            "run_id": run_id,
            "model": "m",
            "prompting": "zeroshot",
            "task_id": "t",
            "sample_index": 0,
            "outcome": "not_measured",
            "valid": 1,
            "executable": None,
            "static_errors": 0,
        },
        [],
        {},
    )
    db.close()
    assert main(["report", "--db", str(path), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["executable"] is None and row["executability_rate"] is None
    assert row["pass_at_k"] == {"pass@1": None}
    assert row["api_set_f1"] is None and row["api_seq_f1"] is None
    assert main(["report", "--db", str(path)]) == 0
    assert "executability: not measured" in capsys.readouterr().out
    out = tmp_path / "n.html"
    assert main(["report", "--db", str(path), "--format", "html", "--out", str(out)]) == 0
    assert "not measured" in out.read_text()


def test_unknown_run_and_missing_database_are_one_line(filled, tmp_path, capsys):
    path, _, _ = filled
    assert main(["report", "--db", str(path), "--run", "NOPE"]) == 2
    assert "no run 'NOPE'" in capsys.readouterr().err
    assert main(["report", "--db", str(tmp_path / "none.db")]) == 2
    assert "no such database" in capsys.readouterr().err


def _selftest_run(db, table: dict, false_errors: dict) -> str:
    config = RunConfig(
        suite="builtin",
        models=["selftest"],
        promptings=list(table),
        samples=1,
        temperature=0.0,
        top_p=1.0,
        max_tokens=0,
        base_url=None,
    )
    run_id = create_run(db, config, "test")
    for kind in table:  # one stored mutant per kind, as selftest stores them
        record_sample(
            db,
            {
                "run_id": run_id,
                "model": "selftest",
                "prompting": kind,
                "task_id": "t",
                "sample_index": 0,
                "outcome": "checked",
                "valid": 1,
                "executable": 0,
            },
            [],
            {"detected": 1.0},
        )
    db["selftest"].insert(
        {
            "run_id": run_id,
            "table": json.dumps(table),
            "false_errors": len(false_errors),
            "references": 3,
            "false_error_detail": json.dumps(false_errors),
        }
    )
    return run_id


SELFTEST = {
    "concat_dim": {
        "mutants": 4,
        "recall": 1.0,
        "right_line": 0.75,
        "fix_offered": 0.75,
        "verified": 0.5,
        "cleans": 0.25,
    },
    "branch_padding": {
        "mutants": 2,
        "recall": 1.0,
        "right_line": 1.0,
        "fix_offered": 1.0,
        "verified": 1.0,
        "cleans": 1.0,
    },
}


def test_selftest_run_is_a_section_of_its_own_in_every_format(filled, tmp_path, capsys):
    path, bench_id, _made = filled
    db = open_db(path)
    run_id = _selftest_run(db, SELFTEST, {"task_b": ["DL301"]})
    db.close()

    assert main(["report", "--db", str(path), "--all", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["prompting"]) for r in data["results"]] == [
        ("m1", "zeroshot"),
        ("m1", "fewshot"),
    ]
    (entry,) = data["selftest"]
    assert entry["run_id"] == run_id and entry["false_errors"] == 1
    assert entry["references"] == 3 and entry["false_error_detail"] == {"task_b": ["DL301"]}
    concat = entry["kinds"][0]
    assert concat["kind"] == "concat_dim" and concat["mutants"] == 4
    assert (concat["right_line"], concat["verified"], concat["cleans"]) == (75.0, 50.0, 25.0)

    assert main(["report", "--db", str(path)]) == 0  # the latest run: the self-test alone
    table = capsys.readouterr().out
    assert f"self-test of the checkers (run {run_id})" in table
    assert "m1" not in table and "selftest  concat_dim" not in table
    concat_line = next(line for line in table.splitlines() if line.startswith("concat_dim"))
    assert concat_line.split() == ["concat_dim", "4", "100.0", "75.0", "75.0", "50.0", "25.0"]
    assert "false errors on untouched references: 1 of 3 references" in table
    assert "false error on task_b: DL301" in table

    assert main(["report", "--db", str(path), "--run", run_id, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["kind"], r["mutants"], r["cleans"]) for r in rows] == [
        ("concat_dim", "4", "25.0"),
        ("branch_padding", "2", "100.0"),
    ]
    assert {r["false_errors"] for r in rows} == {"1"}

    out = tmp_path / "s.html"
    assert main(["report", "--db", str(path), "--all", "--format", "html", "--out", str(out)]) == 0
    html = out.read_text()
    assert "Self-test of the checkers" in html and run_id in html and bench_id in html
    assert "<td>branch_padding</td>" in html
    # no model × prompting row for the mutants
    assert "<td>selftest</td><td>concat_dim</td>" not in html
