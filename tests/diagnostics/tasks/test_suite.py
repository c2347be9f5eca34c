"""The suite loader: our TOML format, the study's YAML layout, and clear errors on bad files."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics.tasks.model import (
    DIFFICULTIES,
    SuiteError,
    TaskFormatError,
    TensorSpec,
    UnknownTaskError,
    natural_key,
)
from deepeval_lsp.diagnostics.tasks.suite import BUILTIN_SUITE, find_task, load_suite

GOOD_TOML = """\
id = "{id}"
difficulty = "{level}"
category = "image_classification"
framework = "torch"
requirement = "A small classifier for MNIST digits (1x28x28)."
tags = ["residual"]
output_shape = [2, 10]

[[inputs]]
shape = [2, 1, 28, 28]
dtype = "float32"
"""

GOOD_PY = """\
import torch.nn as nn


def dl_model() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
"""


def write_task(
    root: Path, level: str, task_id: str, toml: str | None = None, py: str | None = GOOD_PY
) -> Path:
    folder = root / level
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{task_id}.toml"
    path.write_text(toml if toml is not None else GOOD_TOML.format(id=task_id, level=level))
    if py is not None:
        (folder / f"{task_id}.py").write_text(py)
    return path


def test_builtin_suite_loads_sorted_with_references() -> None:
    suite = load_suite("builtin")
    assert suite.name == "builtin"
    assert len(suite) >= 10
    order = [(DIFFICULTIES.index(t.difficulty), natural_key(t.id)) for t in suite]
    assert order == sorted(order)
    for task in suite:
        assert task.framework == "torch"
        assert "def dl_model" in task.reference
        assert Path(task.reference_path).read_text(encoding="utf-8") == task.reference
        assert task.inputs and all(isinstance(s, TensorSpec) for s in task.inputs)
        assert task.output_shape is not None
    first = suite.tasks[0]
    assert suite.get(first.id) is first
    with pytest.raises(UnknownTaskError, match="no_such_task"):
        suite.get("no_such_task")


def test_own_format_folder_loads(tmp_path: Path) -> None:
    write_task(tmp_path, "hard", "task_b10")
    write_task(tmp_path, "hard", "task_b2")
    write_task(tmp_path, "easy", "task_a")
    multi = (
        GOOD_TOML.format(id="two_heads", level="medium").replace(
            "output_shape = [2, 10]", "output_shape = [[2, 10], [2, 1]]"
        )
        + '\n[[inputs]]\nshape = [2, 12]\ndtype = "int64"\nhigh = 500\n'
    )
    write_task(tmp_path, "medium", "two_heads", multi)
    suite = load_suite(str(tmp_path))
    assert suite.ids() == ["task_a", "two_heads", "task_b2", "task_b10"]
    two = suite.get("two_heads")
    assert two.output_shape == ((2, 10), (2, 1))
    assert two.multi_output
    assert two.inputs == (TensorSpec((2, 1, 28, 28)), TensorSpec((2, 12), "int64", 500))
    assert two.to_json()["output_shape"] == [[2, 10], [2, 1]]
    assert not suite.get("task_a").multi_output


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('framework = "torch"', 'framework = "torch'), "invalid TOML"),
        (lambda t: t.replace('id = "broken"', 'id = "other"'), "differs from the file name"),
        (lambda t: t.replace('"hard"', '"easy"'), "folder"),
        (lambda t: t.replace("image_classification", "poetry"), "category"),
        (lambda t: t.replace("[2, 10]", "[2, -1]"), "output_shape"),
        (lambda t: t.replace('dtype = "float32"', 'dtype = "int64"'), "high"),
        (lambda t: t.replace('dtype = "float32"', 'dtype = "float16"'), "dtype"),
        (lambda t: t + 'colour = "blue"\n', "unknown key"),
        (
            lambda t: t.replace(
                'requirement = "A small classifier for MNIST digits (1x28x28)."', 'requirement = ""'
            ),
            "requirement",
        ),
        (lambda t: t.split("[[inputs]]")[0], "inputs"),
    ],
)
def test_malformed_toml_names_the_file(tmp_path: Path, edit, message: str) -> None:
    path = write_task(tmp_path, "hard", "broken", edit(GOOD_TOML.format(id="broken", level="hard")))
    with pytest.raises(TaskFormatError, match=message) as info:
        load_suite(str(tmp_path))
    text = str(info.value)
    assert str(path) in text
    assert "\n" not in text


def test_missing_reference_is_a_format_error(tmp_path: Path) -> None:
    path = write_task(tmp_path, "easy", "lonely", py=None)
    with pytest.raises(TaskFormatError, match=r"lonely\.py is missing") as info:
        load_suite(str(tmp_path))
    assert str(path) in str(info.value)


def test_duplicate_id_across_levels(tmp_path: Path) -> None:
    write_task(tmp_path, "easy", "same")
    hard = write_task(tmp_path, "hard", "same", GOOD_TOML.format(id="same", level="hard"))
    with pytest.raises(TaskFormatError, match="duplicate task id") as info:
        load_suite(str(tmp_path))
    assert str(hard) in str(info.value)


def test_unknown_suite_paths(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="no such folder"):
        load_suite(str(tmp_path / "absent"))
    with pytest.raises(SuiteError, match="no tasks found"):
        load_suite(str(tmp_path))


# --- the study's layout ----------------------------------------------------------------------


def write_study_task(root: Path, level: str, n: int, yaml_text: str, py: str) -> Path:
    folder = root / level.capitalize()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{level}_task_{n}"
    (folder / f"{stem}.py").write_text(py)
    path = folder / f"{stem}.yaml"
    path.write_text(yaml_text)
    return path


KERAS_PY = """\
from keras.models import Model
from keras.layers import Input, Flatten, Dense

def dl_model():
    input_layer = Input(shape=(28, 28, 1))
    x = Flatten()(input_layer)
    output_layer = Dense(units=10, activation='softmax')(x)
    return Model(inputs=input_layer, outputs=output_layer)
"""


def test_study_layout_in_a_temporary_folder(tmp_path: Path) -> None:
    yaml_text = (
        'Requirement: "Build a classifier using the MNIST dataset. It has\n'
        '  one dense layer,   and\n\n  a softmax."\n'
    )
    write_study_task(tmp_path, "easy", 2, yaml_text, KERAS_PY)
    write_study_task(tmp_path, "easy", 10, yaml_text, KERAS_PY.replace("28, 28, 1", "32, 32, 3"))
    write_study_task(
        tmp_path, "hard", 1, yaml_text, KERAS_PY.replace("Dense(units=10", "Dense(units=100")
    )
    suite = load_suite(str(tmp_path))
    assert suite.ids() == ["easy_task_2", "easy_task_10", "hard_task_1"]
    t = suite.get("easy_task_2")
    assert t.framework == "keras" and t.category == "image_classification"
    assert t.requirement == (
        "Build a classifier using the MNIST dataset. It has one dense layer, and a softmax."
    )
    assert t.inputs == (TensorSpec((1, 28, 28, 1)),)
    assert t.output_shape == (1, 10)
    assert suite.get("easy_task_10").inputs[0].shape == (1, 32, 32, 3)
    assert suite.get("hard_task_1").output_shape == (1, 100)


@pytest.mark.parametrize(
    "yaml_text",
    [
        "Requirement: >\n  Build a classifier\n  for MNIST digits.\n",
        "# a study task\nRequirement: |\n  Build a classifier\n  for MNIST digits.\n",
        "  Requirement: 'Build a classifier for MNIST digits.'\n",
        '\ufeffRequirement: "Build a classifier\\\n  \\ for MNIST digits."\r\n',
    ],
)
def test_study_yaml_is_read_as_yaml(tmp_path: Path, yaml_text: str) -> None:
    write_study_task(tmp_path, "easy", 1, yaml_text, KERAS_PY)
    task = load_suite(str(tmp_path)).get("easy_task_1")
    assert task.requirement == "Build a classifier for MNIST digits."


def test_study_input_falls_back_to_the_requirement(tmp_path: Path) -> None:
    py = KERAS_PY.replace("Input(shape=(28, 28, 1))", "Input(shape=SHAPE)")
    write_study_task(tmp_path, "medium", 1, 'Requirement: "Classify CIFAR-10 images."\n', py)
    write_study_task(tmp_path, "medium", 2, 'Requirement: "Input data of shape (16, 16, 8)."\n', py)
    suite = load_suite(str(tmp_path))
    assert suite.get("medium_task_1").inputs[0].shape == (1, 32, 32, 3)
    assert suite.get("medium_task_2").inputs[0].shape == (1, 16, 16, 8)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            'Requirement: "never closed\n  at all\n',
            r"invalid YAML at line 3: found unexpected end of stream "
            r"\(while scanning a quoted scalar\)",
        ),
        ("Other: text\n", "no 'Requirement' key"),
        ("", "no 'Requirement' key"),
        ("Requirement:\n  - a\n  - b\n", "'Requirement' is a list: only string scalars"),
        ("Requirement: 5\n", "'Requirement' is a int: only string scalars"),
        ("- Requirement: x\n", "at the top level, not a list"),
        ('Requirement: "x" trailing\n', "invalid YAML at line 1: expected <block end>"),
        ('Requirement: ""\n', "empty"),
        ("Requirement:\n", "empty"),
    ],
)
def test_malformed_yaml_names_the_file(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = write_study_task(tmp_path, "easy", 1, yaml_text, KERAS_PY)
    with pytest.raises(TaskFormatError, match=message) as info:
        load_suite(str(tmp_path))
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_study_suite_from_the_published_data(study_data: Path) -> None:
    suite = load_suite(str(study_data / "DeepEval" / "benchmark" / "DeepEval"))
    assert len(suite) == 100
    assert Counter(t.difficulty for t in suite) == {"easy": 15, "medium": 35, "hard": 50}
    assert suite.ids()[:3] == ["easy_task_1", "easy_task_2", "easy_task_3"]
    assert suite.ids()[-1] == "hard_task_50"
    shapes = Counter(t.inputs[0].shape for t in suite)
    assert shapes[(1, 28, 28, 1)] >= 25 and shapes[(1, 32, 32, 3)] >= 60
    for t in suite:
        assert t.framework == "keras"
        assert t.requirement and "\n" not in t.requirement
        assert "def dl_model" in t.reference
    assert sum(t.output_shape == (1, 10) for t in suite) >= 90
    # A clone's root (or its parent) is accepted too.
    assert len(load_suite(str(study_data))) == 100


# --- one task for the checkers ---------------------------------------------------------------


def test_find_task_in_the_builtin_suite() -> None:
    toml = sorted(BUILTIN_SUITE.glob("*/*.toml"))[0]
    task = find_task(toml.stem)
    assert task == load_suite("builtin").get(toml.stem)
    assert task.reference == toml.with_suffix(".py").read_text(encoding="utf-8")
    assert (
        task.requirement == tomllib.loads(toml.read_text(encoding="utf-8"))["requirement"].strip()
    )
    assert find_task(toml.stem, "builtin") == task
    with pytest.raises(UnknownTaskError, match="no task 'no_such_task'"):
        find_task("no_such_task")
    with pytest.raises(UnknownTaskError, match="not a task id"):
        find_task("../etc/passwd")
    with pytest.raises(SuiteError, match="no such folder"):
        find_task("x", "/nonexistent/suite")


def test_find_task_reads_a_suite_again_when_it_changes(tmp_path: Path) -> None:
    path = write_task(tmp_path, "easy", "task_a")
    assert find_task("task_a", tmp_path).requirement.startswith("A small classifier")
    assert find_task("task_a", str(tmp_path)) is find_task("task_a", tmp_path)
    path.write_text(GOOD_TOML.format(id="task_a", level="easy").replace("A small", "A tiny"))
    assert find_task("task_a", tmp_path).requirement.startswith("A tiny classifier")
    write_task(tmp_path, "hard", "task_b")
    assert find_task("task_b", tmp_path).difficulty == "hard"
    path.write_text("id = ")
    with pytest.raises(TaskFormatError, match="invalid TOML"):
        find_task("task_a", tmp_path)
