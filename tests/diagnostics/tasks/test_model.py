"""The task model: tensor specs, tasks and suites as JSON, lookups, natural order."""

from __future__ import annotations

from pathlib import Path

import pytest
from deepeval_lsp.diagnostics.tasks.model import (
    Suite,
    SuiteError,
    Task,
    TaskFormatError,
    TensorSpec,
    UnknownTaskError,
    natural_key,
    read_reference,
)


def task(task_id: str, output_shape: tuple | None = (2, 10)) -> Task:
    return Task(
        id=task_id,
        suite="mine",
        difficulty="easy",
        framework="torch",
        category="text",
        requirement="Classify.",
        reference="def dl_model(): ...\n",
        reference_path=f"/suite/easy/{task_id}.py",
        inputs=(TensorSpec((2, 12), "int64", 500), TensorSpec((2, 3))),
        output_shape=output_shape,
    )


def test_tensor_spec_json_gives_the_bound_only_for_ids() -> None:
    assert TensorSpec((2, 3)).to_json() == {"shape": [2, 3], "dtype": "float32"}
    assert TensorSpec((2, 12), "int64", 500).to_json() == {
        "shape": [2, 12],
        "dtype": "int64",
        "high": 500,
    }


def test_task_json_leaves_the_source_out() -> None:
    two = task("two_heads", ((2, 10), (2, 1)))
    assert two.multi_output and not task("one").multi_output
    assert not task("unknown", None).multi_output
    data = two.to_json()
    assert "reference" not in data and data["reference_path"] == "/suite/easy/two_heads.py"
    assert data["output_shape"] == [[2, 10], [2, 1]]
    assert data["inputs"][0] == {"shape": [2, 12], "dtype": "int64", "high": 500}
    assert task("unknown", None).to_json()["output_shape"] is None


def test_suite_lookup_and_order() -> None:
    suite = Suite("mine", "/suite", [task("a"), task("b")])
    assert suite.ids() == ["a", "b"] and len(suite) == 2 and list(suite) == suite.tasks
    assert suite.get("b").id == "b"
    with pytest.raises(UnknownTaskError, match=r"no task 'c' in suite 'mine' \(/suite\)"):
        suite.get("c")
    assert issubclass(UnknownTaskError, SuiteError) and issubclass(UnknownTaskError, LookupError)
    assert sorted(["task_10", "task_2", "task_1"], key=natural_key) == [
        "task_1",
        "task_2",
        "task_10",
    ]


def test_read_reference_names_the_missing_file(tmp_path: Path) -> None:
    def bad(msg: str) -> TaskFormatError:
        return TaskFormatError(f"task.toml: {msg}")

    (tmp_path / "here.py").write_text("x = 1\n")
    assert read_reference(tmp_path / "here.py", bad) == "x = 1\n"
    with pytest.raises(TaskFormatError, match=r"task.toml: reference gone\.py is missing"):
        read_reference(tmp_path / "gone.py", bad)
