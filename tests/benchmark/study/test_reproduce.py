"""`deepeval-lsp reproduce`: the study's layout and tables are read, every program is scored by
the real engines, pylint and the semantic pass, and ours is set beside the study's figures."""

from __future__ import annotations

import argparse
import csv
import json
import textwrap
from pathlib import Path

import pytest
from deepeval_lsp.benchmark.cli import reproduce as cli_reproduce
from deepeval_lsp.benchmark.study.reproduce import (
    PROMPTINGS,
    Study,
    StudyDataError,
    compare,
    score,
    shares,
    study_tables,
)
from deepeval_lsp.benchmark.study.text import study_source
from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, PAPER
from deepeval_lsp.diagnostics.paper import engine as paper_engine
from deepeval_lsp.diagnostics.semantic.similarity import study_task_scores
from deepeval_lsp.diagnostics.taxonomy import CODES

REFERENCE = """
from tensorflow.keras.layers import Input, Conv2D, MaxPooling2D, Flatten, Dense
from tensorflow.keras.models import Model

def dl_model():
    inputs = Input(shape=(28, 28, 1))
    x = Conv2D(16, (3, 3), activation="relu")(inputs)
    x = MaxPooling2D((2, 2))(x)
    x = Flatten()(x)
    outputs = Dense(10, activation="softmax")(x)
    model = Model(inputs=inputs, outputs=outputs)
    return model
"""
SHAPE_MISMATCH = """
from tensorflow.keras.layers import Input, Conv2D, Add, Flatten, Dense
from tensorflow.keras.models import Model

def dl_model():
    inputs = Input(shape=(28, 28, 1))
    a = Conv2D(16, (3, 3))(inputs)
    b = Conv2D(16, (3, 3), padding="same")(inputs)
    x = Add()([a, b])
    return Model(inputs=inputs, outputs=Dense(10)(Flatten()(x)))
"""
MISSING_IMPORT = """
from tensorflow.keras.layers import Input, Flatten, Dense
from tensorflow.keras.models import Model

def dl_model():
    inputs = Input(shape=(28, 28, 1))
    x = Conv2D(16, (3, 3), activation="relu")(inputs)
    return Model(inputs=inputs, outputs=Dense(10)(Flatten()(x)))
"""


def make_study(root: Path) -> Path:
    """A study folder in the published layout, with programs and tables of our own."""
    refs = root / "DeepEval" / "benchmark" / "DeepEval" / "Easy"
    refs.mkdir(parents=True)
    (refs / "easy_task_1.py").write_text(REFERENCE)
    (refs / "easy_task_1.yaml").write_text("Requirement: a CNN for MNIST\n")
    cells = {
        "zeroshot": [REFERENCE, SHAPE_MISMATCH, MISSING_IMPORT],
        "oneshot": [REFERENCE, ""],  # an empty answer: not a valid program, 0 in semantics
    }
    for prompting, programs in cells.items():
        folder = root / "DeepEval" / "response" / "DeepEval" / "m" / prompting / "easy_task_1"
        folder.mkdir(parents=True)
        for k, source in enumerate(programs, 1):
            (folder / f"generated_code_{k}.py").write_text(source)
    tables = root / "paper_results"
    tables.mkdir()
    with (tables / "executability_by_model_prompting.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "prompting", "success", "failed", "valid_pyfiles", "rate_percent"])
        w.writerow(["m", "zeroshot", 1, 1, 2, 50.0])
        w.writerow(["m", "oneshot", 1, 1, 1, 100.0])
    (tables / "runtime_error_taxonomy.json").write_text(
        json.dumps(
            {
                "m": {
                    "Python Error": {
                        "ValueError": {
                            "Number": 3,
                            "DL Error": {
                                "Input Tensor Shape Mismatch": {
                                    "Number": 2,
                                    "Root Cause Level": "APIs Call Sequence",
                                },
                                "InputTensor- API Argument Mismatch": {
                                    "Number": 1,
                                    "Root Cause Level": "APIs Call Sequence",
                                },
                            },
                        },
                        "NameError": {
                            "Number": 1,
                            "DL Error": {
                                "Missing API Import": {"Number": 1, "Root Cause Level": "Import"}
                            },
                        },
                    }
                }
            }
        )
    )
    with (tables / "static_pylint_by_task.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "model",
                "prompting",
                "task",
                "convention",
                "warning",
                "error",
                "fatal",
                "refactor",
                "valid_pyfiles",
                "average_score",
            ]
        )
        w.writerow(["m", "zeroshot", "easy_task_1", 9, 1, 1, 0, 0, 3, 4.5])
        w.writerow(["m", "oneshot", "easy_task_1", 3, 0, 0, 0, 0, 1, 7.0])
    with (tables / "semantic_by_task.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "model",
                "prompting",
                "task",
                "api_set_recall",
                "api_set_precision",
                "api_set_f1",
                "api_seq_recall",
                "api_seq_precision",
                "api_seq_f1",
            ]
        )
        w.writerow(["m", "zeroshot", "easy_task_1", 90, 90, 90, 80, 80, 80])
        w.writerow(["m", "oneshot", "easy_task_1", 50, 50, 50, 50, 50, 50])
    return root


def test_the_study_tables_are_read_with_their_spelling_normalised(tmp_path: Path) -> None:
    study = Study.locate(make_study(tmp_path), None)
    t = study_tables(study)
    assert t["executability"][("m", "zeroshot")] == {"success": 1, "valid": 2, "rate": 50.0}
    assert t["taxonomy"]["m"]["InputTensor-API Argument Mismatch"] == 1
    s = shares(t["taxonomy"]["m"])
    assert s["Input Tensor Shape Mismatch"] == 50.0 and s["Missing API Import"] == 25.0
    assert s["Other"] == 25.0
    with pytest.raises(StudyDataError, match="paper_results"):
        Study.locate(tmp_path / "DeepEval", None)


def test_score_and_compare_a_small_study(tmp_path: Path) -> None:
    study = Study.locate(make_study(tmp_path), None)
    programs = study.programs(["m"])
    assert len(programs) == 5
    engines = [DEFAULT] if paper_engine.available() else [DEFAULT, PAPER]
    res = score(study, programs, engines=engines, workers=1, timeout_s=60)
    data = compare(study, res)
    rows = {r["prompting"]: r for r in data["rows"]}
    for engine in engines:
        zs = rows["zeroshot"]
        assert (zs[f"{engine.name}_valid"], zs[f"{engine.name}_executable"]) == (3, 1), engine
        assert rows["oneshot"][f"{engine.name}_executability"] == 100.0
        tax = next(t for t in data["taxonomy"] if t["model"] == "m")
        assert tax[f"{engine.name}_counts"] == {
            "Input Tensor Shape Mismatch": 1,
            "Missing API Import": 1,
        }, engine
        assert tax[engine.name]["Input Tensor Shape Mismatch"] == 50.0
    assert rows["zeroshot"]["study_executability"] == 50.0
    # per task, the semantic pass's study averaging; per cell, the mean over tasks
    assert study_task_scores(REFERENCE, [REFERENCE])["api_seq_f1"] == 100.0
    expected = study_task_scores(REFERENCE, [REFERENCE, ""])
    assert rows["oneshot"]["api_set_f1"] == pytest.approx(expected["api_set_f1"])
    assert rows["oneshot"]["api_seq_f1"] == pytest.approx(expected["api_seq_f1"])
    zeroshot = study_task_scores(REFERENCE, [REFERENCE, SHAPE_MISMATCH, MISSING_IMPORT])
    assert rows["zeroshot"]["api_set_f1"] == pytest.approx(zeroshot["api_set_f1"])
    assert rows["oneshot"]["study_api_set_f1"] == 50.0
    if res.pylint:  # pylint installed: counts over the non-empty programs only
        zs = rows["zeroshot"]
        assert zs["pylint_counts"]["error"] >= 1  # undefined Conv2D
        assert 0 <= zs["pylint_score"] <= 10 and zs["study_pylint_score"] == 4.5
        assert len([p for p in res.pylint if p.parent.parent.name == "oneshot"]) == 1
    assert data["seconds"]["total"] > 0


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli_reproduce.add_arguments(parser)
    return cli_reproduce.run(parser.parse_args(list(argv)))


def test_cli_prints_ours_beside_the_study(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_study(tmp_path / "study")
    out = tmp_path / "report.md"
    rc = _cli(
        "--study",
        str(root),
        "--engine",
        "default",
        "--skip",
        "pylint",
        "--format",
        "markdown",
        "--workers",
        "1",
        "--out",
        str(out),
    )
    assert rc == 0
    text = out.read_text()
    assert "### Executability" in text and "### Semantic similarity" in text
    # ours 33.3 beside the study's 50.0
    assert "| m | zeroshot | 3 | 33.3 | -16.7 | 50.0 |" in text
    rc = _cli("--study", str(tmp_path / "nowhere"))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("deepeval-lsp reproduce: error: ")
    assert "paper_results" in err[-1]


@pytest.mark.corpus
def test_the_published_study_is_read_and_a_task_scored(study_data: Path) -> None:
    study = Study.locate(study_data, None)
    tables = study_tables(study)
    assert len(tables["executability"]) == 16
    for cell in tables["executability"].values():
        assert cell["rate"] == pytest.approx(100 * cell["success"] / cell["valid"], abs=0.01)
    known = {c.dl_error for c in CODES.values()}
    for counts in tables["taxonomy"].values():
        assert set(counts) <= known, set(counts) - known
    programs = study.programs(["gpt_4o"], ["easy_task_1"])
    assert {p.prompting for p in programs} == set(PROMPTINGS) and len(programs) == 12
    res = score(study, programs, dimensions=["executability", "semantic"], workers=1)
    verdicts = res.verdicts["default"]
    assert set(verdicts) == res.valid
    assert all(v.executable is not None for v in verdicts.values())
    data = compare(study, res)
    assert all(r["study_api_set_f1"] is not None for r in data["rows"])
    assert any("only 1 tasks scored" in n for n in data["notes"])


def test_a_program_file_is_read_as_text(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    bad = root / "DeepEval" / "response" / "DeepEval" / "m" / "zeroshot" / "easy_task_1"
    (bad / "generated_code_4.py").write_bytes(b"\xff\xfe" + textwrap.dedent(REFERENCE).encode())
    study = Study.locate(root, None)
    res = score(study, study.programs(["m"]), dimensions=["semantic"])
    assert ("m", "zeroshot", "easy_task_1") in res.semantic


def test_the_editors_note_in_published_programs_is_not_run_nor_linted(tmp_path: Path) -> None:
    # Some published programs carry a note between their imports and dl_model() that the
    # study's runs and pylint did not have; its semantic similarity read the published file.
    root = make_study(tmp_path)
    folder = root / "DeepEval" / "response" / "DeepEval" / "m" / "zeroshot" / "easy_task_1"
    head, sep, rest = REFERENCE.partition("def dl_model")
    noted = folder / "generated_code_1.py"
    noted.write_text(head + "，增加dl_model 和 return model\n" + sep + rest)
    (folder / "generated_code_2.py").write_text(head + " 和 return model\n" + sep + rest)
    for path in (noted, folder / "generated_code_2.py"):
        text, dropped = study_source(path.read_text())
        assert dropped and text == REFERENCE
    # a program's own `return model` is untouched
    assert study_source(MISSING_IMPORT) == (MISSING_IMPORT, False)

    study = Study.locate(root, None)
    res = score(study, study.programs(["m"]), dimensions=["pylint", "semantic"])
    assert any("2 programs run and linted without" in n for n in res.notes)
    clean = res.pylint[noted]
    assert clean.fatal == 0 and "syntax-error" not in clean.symbols and clean.statements > 5
    # semantically, the two noted samples do not parse and are left out of the task's mean:
    # the task scores as its one parsable sample, which reads nothing for a missing import
    assert res.semantic[("m", "zeroshot", "easy_task_1")] == study_task_scores(
        REFERENCE, [MISSING_IMPORT]
    )


def test_a_program_without_dl_model_runs_completed_and_is_linted_as_published(
    tmp_path: Path,
) -> None:
    # The study's executability run completed such programs (def dl_model() after the imports,
    # return model); its pylint read them as published.
    root = make_study(tmp_path)
    folder = root / "DeepEval" / "response" / "DeepEval" / "m" / "oneshot" / "easy_task_1"
    head, _, body = REFERENCE.partition("def dl_model():\n")
    module_level = folder / "generated_code_2.py"
    module_level.write_text(head + textwrap.dedent(body))  # ends in `return model`
    study = Study.locate(root, None)
    programs = [p for p in study.programs(["m"]) if p.prompting == "oneshot"]
    engines = [DEFAULT] if paper_engine.available() else [DEFAULT, PAPER]
    res = score(
        study,
        programs,
        engines=engines,
        workers=1,
        timeout_s=60,
        dimensions=["executability", "pylint"],
    )
    for engine in engines:
        assert res.verdicts[engine.name][module_level].executable is True, engine
    assert any("1 program without dl_model() run completed" in n for n in res.notes)
    if res.pylint:
        assert "return-outside-function" in res.pylint[module_level].symbols
