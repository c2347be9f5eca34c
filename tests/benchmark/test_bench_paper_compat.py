"""`bench --paper-compat`: Keras programs scored by the paper engine's pool (the study's contract on
TensorFlow + tf-keras), PyTorch tasks by the default engine with one line saying so, and a
missing `paper` extra as a one-line error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics.dynamic.engines import PAPER
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.paper import engine as paper_engine

from deepeval_lsp.cli import main

from .sqlite_rows import db_rows

needs_tf = pytest.mark.skipif(
    paper_engine.available() is not None, reason=str(paper_engine.available())
)

REFERENCE = """\
from tensorflow.keras import layers, models


def dl_model():
    inputs = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Flatten()(layers.MaxPooling2D()(x))
    return models.Model(inputs, layers.Dense(10, activation="softmax")(x))
"""
# Keras 2 refuses variables created inside a Lambda layer
LAMBDA_VARIABLES = REFERENCE.replace(
    "layers.Flatten()(layers.MaxPooling2D()(x))",
    "layers.Lambda(lambda t: layers.Dense(4)(t))(layers.Flatten()(x))",
)


def _keras_suite(root: Path) -> Path:
    """A one-task suite in the study's layout."""
    (root / "Easy").mkdir(parents=True)
    (root / "Easy" / "easy_task_1.yaml").write_text(
        'Requirement: "A small convolutional network for MNIST digits."\n'
    )
    (root / "Easy" / "easy_task_1.py").write_text(REFERENCE)
    return root


@needs_tf
def test_keras_programs_get_the_paper_engines_verdict(tmp_path: Path) -> None:
    suite = _keras_suite(tmp_path / "Suite")
    replay = tmp_path / "m.jsonl"
    replay.write_text(
        "".join(
            json.dumps({"prompting": "zeroshot", "task": "easy_task_1", "sample": i, "code": code})
            + "\n"
            for i, code in enumerate([REFERENCE, LAMBDA_VARIABLES])
        )
    )
    db = tmp_path / "p.db"
    assert (
        main(
            [
                "bench",
                "--db",
                str(db),
                "--suite",
                str(suite),
                "--model",
                f"replay:{replay}",
                "--prompting",
                "zeroshot",
                "--samples",
                "2",
                "--paper-compat",
                "--workers",
                "1",
                "-q",
            ]
        )
        == 0
    )
    ok, bad = db_rows(db, "select * from samples order by sample_index")
    assert ok["outcome"] == "executable"
    assert (bad["outcome"], bad["failure_python_error"]) == ("failed", "ValueError")
    assert "Lambda" in bad["failure_message"]
    for s in (ok, bad):
        assert json.loads(s["passes"])["dynamic"] == "ran: paper engine"
    (run,) = db_rows(db, "select config from runs")
    assert json.loads(run["config"])["paper_compat"] is True


@pytest.fixture(scope="module")
def paper_pool() -> Iterator[WorkerPool]:
    if paper_engine.available():
        pytest.skip(str(paper_engine.available()))
    pool = WorkerPool(1, engine=PAPER)
    yield pool
    pool.close()


@pytest.mark.corpus
def test_replayed_study_programs_record_the_paper_engines_verdicts(
    study_data: Path, tmp_path: Path, paper_pool: WorkerPool
) -> None:
    suite = study_data / "DeepEval" / "benchmark" / "DeepEval"
    model = study_data / "DeepEval" / "response" / "DeepEval" / "gpt_4o"
    db = tmp_path / "s.db"
    assert (
        main(
            [
                "bench",
                "--db",
                str(db),
                "--suite",
                str(suite),
                "--model",
                f"replay:{model}",
                "--prompting",
                "zeroshot",
                "--task",
                "easy_task_1,hard_task_1",
                "--paper-compat",
                "--workers",
                "1",
                "--check-timeout",
                "60",
                "-q",
            ]
        )
        == 0
    )
    samples = db_rows(db, "select * from samples where valid = 1")
    assert len(samples) == 6
    for s in samples:
        raw = paper_pool.run(
            paper_engine.JOB, {"source": s["code"], "path": "gen.py"}, timeout_s=60
        )
        assert s["executable"] == int(raw["executable"]), s["task_id"]
        assert s["failure_dl_error"] == raw.get("dl_error"), s["task_id"]
        assert s["failure_python_error"] == raw.get("python_error"), s["task_id"]
    # these two tasks hold both verdicts, so the comparison above says something
    assert {s["outcome"] for s in samples} == {"executable", "failed"}


def test_pytorch_tasks_keep_the_default_engine_and_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "b.db"
    assert (
        main(["bench", "--db", str(db), "--limit", "1", "--paper-compat", "--workers", "1", "-q"])
        == 0
    )
    err = capsys.readouterr().err
    assert (
        "--paper-compat applies to Keras programs only: PyTorch tasks (1 of 1) are scored "
        "with the default engine"
    ) in err.splitlines()
    (s,) = db_rows(db, "select * from samples")
    assert s["outcome"] == "executable" and json.loads(s["passes"])["dynamic"] == "ran"


def test_a_missing_paper_extra_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(paper_engine, "available", lambda: "needs tensorflow: pip install x")
    db = tmp_path / "n.db"
    suite = _keras_suite(tmp_path / "Suite")
    assert main(["bench", "--db", str(db), "--suite", str(suite), "--paper-compat", "-q"]) == 2
    assert capsys.readouterr().err == (
        "deepeval-lsp bench: error: --paper-compat: needs tensorflow: pip install x\n"
    )
    assert db_rows(db, "select * from runs") == []
