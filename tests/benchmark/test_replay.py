"""Replaying recorded programs: the study's published layout, JSONL files, and the reference."""

from __future__ import annotations

import json

import pytest
from deepeval_lsp.benchmark.sources import ModelSpecError, parse_model

from deepeval_lsp.cli import main

from .sqlite_rows import db_rows


@pytest.mark.corpus
def test_the_study_layout_scores_as_it_is(study_data, tmp_path, capsys):
    suite = study_data / "DeepEval" / "benchmark" / "DeepEval"
    model = study_data / "DeepEval" / "response" / "DeepEval" / "gpt_4o"
    db = tmp_path / "s.db"
    tasks = ["easy_task_1", "hard_task_36"]  # hard_task_36 zeroshot sample 2 is an empty file
    rc = main(
        [
            "bench",
            "--db",
            str(db),
            "--suite",
            str(suite),
            "--model",
            f"replay:{model}",
            "--no-dynamic",
            "-q",
            *[a for t in tasks for a in ("--task", t)],
        ]
    )
    assert rc == 0, capsys.readouterr().err
    samples = db_rows(db, "select * from samples")
    assert len(samples) == 4 * 2 * 3
    assert {s["model"] for s in samples} == {"gpt_4o"}
    for s in samples:
        # generated_code_<k>.py, numbered from 1, is sample k-1, recorded byte for byte
        f = model / s["prompting"] / s["task_id"] / f"generated_code_{s['sample_index'] + 1}.py"
        assert s["raw_answer"] == f.read_text(encoding="utf-8")
        assert s["prompt"] is None and s["attempts"] == 0
    empty = [s for s in samples if s["outcome"] == "empty"]
    assert [(s["prompting"], s["task_id"], s["sample_index"]) for s in empty] == [
        ("zeroshot", "hard_task_36", 1)
    ]
    assert all(s["valid"] == 1 for s in samples if s not in empty)
    tasks_rows = db_rows(db, "select task_id, framework, input_shape from tasks")
    assert {t["task_id"] for t in tasks_rows} == set(tasks)
    assert all(t["framework"] == "keras" for t in tasks_rows)
    assert json.loads(tasks_rows[0]["input_shape"])[0][0] == 1

    capsys.readouterr()
    assert main(["report", "--db", str(db), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["prompting"] for r in rows] == ["zeroshot", "oneshot", "oneshotcot", "fewshot"]
    assert rows[0]["valid"] == 5 and rows[1]["valid"] == 6


def test_a_jsonl_replay_extracts_code_from_answers(tmp_path, capsys):
    from deepeval_lsp.diagnostics.tasks.suite import load_suite

    task = load_suite("builtin").tasks[0]
    path = tmp_path / "my-model.jsonl"
    records = [
        {
            "prompting": "zeroshot",
            "task": task.id,
            "sample": 0,
            "answer": f"Sure:\n```python\n{task.reference}```\nDone.",
        },
        {"prompting": "zeroshot", "task": task.id, "sample": 1, "code": task.reference},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    db = tmp_path / "j.db"
    assert (
        main(
            [
                "bench",
                "--db",
                str(db),
                "--model",
                f"replay:{path}",
                "--task",
                task.id,
                "--prompting",
                "zeroshot",
                "--samples",
                "2",
                "--no-dynamic",
                "-q",
            ]
        )
        == 0
    )
    samples = db_rows(db, "select * from samples order by sample_index")
    assert [s["model"] for s in samples] == ["my-model", "my-model"]
    assert samples[0]["code"].strip() == task.reference.strip()
    assert samples[0]["raw_answer"].startswith("Sure:")
    assert samples[1]["code"] == task.reference


def test_a_replay_without_a_sample_records_it_missing(tmp_path):
    from deepeval_lsp.diagnostics.tasks.suite import load_suite

    task = load_suite("builtin").tasks[0]
    folder = tmp_path / "tiny_model" / "zeroshot" / task.id
    folder.mkdir(parents=True)
    (folder / "generated_code_1.py").write_text(task.reference)
    db = tmp_path / "m.db"
    assert (
        main(
            [
                "bench",
                "--db",
                str(db),
                "--model",
                f"replay:{tmp_path / 'tiny_model'}",
                "--task",
                task.id,
                "--prompting",
                "zeroshot",
                "--samples",
                "2",
                "--no-dynamic",
                "-q",
            ]
        )
        == 0
    )
    outcomes = [
        r["outcome"] for r in db_rows(db, "select outcome from samples order by sample_index")
    ]
    assert outcomes == ["not_measured", "missing"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt-4o", "expected openai:<name>"),
        ("anthropic:claude", "unknown kind 'anthropic'"),
        ("replay:/no/such/path", "no such file or folder"),
    ],
)
def test_bad_model_specs_are_one_line(spec, message, capsys, tmp_path):
    with pytest.raises(ModelSpecError, match=message):
        parse_model(spec)
    assert main(["bench", "--db", str(tmp_path / "x.db"), "--model", spec]) == 2
    assert message in capsys.readouterr().err


def test_a_malformed_task_file_is_one_line(tmp_path, capsys):
    suite = tmp_path / "suite" / "easy"
    suite.mkdir(parents=True)
    (suite / "bad_task.toml").write_text('id = "bad_task"\ndifficulty = \n')
    (suite / "bad_task.py").write_text("def dl_model():\n    pass\n")
    rc = main(["bench", "--db", str(tmp_path / "x.db"), "--suite", str(tmp_path / "suite")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "bad_task.toml: invalid TOML" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_reference_model_scores_every_task_executable(tmp_path, capsys):
    db = tmp_path / "ref.db"
    # a generous check timeout: a loaded machine must not turn a slow check into a verdict
    assert (
        main(
            [
                "bench",
                "--db",
                str(db),
                "--limit",
                "6",
                "--workers",
                "2",
                "-q",
                "--check-timeout",
                "120",
            ]
        )
        == 0
    )
    samples = db_rows(db, "select outcome, passes, prompting, failure_message from samples")
    assert len(samples) == 6
    assert all(s["prompting"] == "none" for s in samples)
    assert [s["outcome"] for s in samples] == ["executable"] * 6, samples
    capsys.readouterr()
    assert main(["report", "--db", str(db), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["executability_rate"] == 100.0 and row["pass_at_k"] == {"pass@1": 100.0}


def test_semantic_scores_are_recorded_and_an_unparsable_program_scores_zero(tmp_path, capsys):
    from deepeval_lsp.diagnostics.tasks.suite import load_suite

    task = load_suite("builtin").tasks[0]
    path = tmp_path / "sem.jsonl"
    records = [
        {"prompting": "zeroshot", "task": task.id, "sample": 0, "code": task.reference},
        {
            "prompting": "zeroshot",
            "task": task.id,
            "sample": 1,
            "code": "def dl_model(:\n    return None\n",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    db = tmp_path / "sem.db"
    assert (
        main(
            [
                "bench",
                "--db",
                str(db),
                "--model",
                f"replay:{path}",
                "--task",
                task.id,
                "--prompting",
                "zeroshot",
                "--samples",
                "2",
                "--no-dynamic",
                "-q",
            ]
        )
        == 0
    )
    scores = {
        (r["sample_index"], r["name"]): r["value"]
        for r in db_rows(
            db,
            "select s.sample_index, sc.name, sc.value from scores sc "
            "join samples s on s.id = sc.sample_id",
        )
    }
    # the reference compared with itself is a perfect match; a syntax error scores 0
    assert scores[(0, "api_set_f1")] == 100.0 and scores[(0, "api_seq_f1")] == 100.0
    assert scores[(1, "api_set_f1")] == 0.0 and scores[(1, "api_seq_f1")] == 0.0
    outcomes = [
        r["outcome"] for r in db_rows(db, "select outcome from samples order by sample_index")
    ]
    assert outcomes == ["not_measured", "failed"]  # a program that does not parse cannot run
    capsys.readouterr()
    assert main(["report", "--db", str(db), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["api_set_f1"] == 50.0
