"""The model's output against its task's output_shape: DL305, its fix, and a missing final size."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.job import output_mismatch
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.tasks.model import TensorSpec, UnknownTaskError
from deepeval_lsp.diagnostics.tasks.suite import find_task, load_suite
from deepeval_lsp.diagnostics.taxonomy import Severity
from deepeval_lsp.diagnostics.text import apply_edits

MLP = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        self.fc2 = nn.Linear(64{out})

    def forward(self, x):
        return self.fc2(self.fc1(x).relu()).softmax(-1)


def dl_model():
    return Net()
"""

TWO_HEADS = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(32, 64)
        self.cls = nn.Linear(64, 10)
        self.box = nn.Linear(64, {box})

    def forward(self, x):
        h = self.body(x).relu()
        return self.cls(h), self.box(h)


def dl_model():
    return Net()
"""

INPUTS = (TensorSpec((2, 32)),)


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def _check(source: str, pool: WorkerPool, **options):
    return check(source, "model.py", CheckOptions(**options), pool=pool)


def _shape_findings(report):
    return [d for d in report.diagnostics if d.code == T.OUTPUT_SHAPE_MISMATCH]


def test_wrong_class_count_warns_at_the_final_linear_with_a_verified_fix(pool):
    source = MLP.format(out=", 100")
    report = _check(source, pool, inputs=INPUTS, output_shape=(2, 10), task_id="mlp_task")
    (d,) = _shape_findings(report)
    assert d.severity == Severity.WARNING
    assert report.executable is True  # a warning: the program builds and runs
    assert d.message == "the model returns (N, 100) but task mlp_task expects (N, 10)"
    line = source.splitlines()[d.range.start.line]
    assert line[d.range.start.character : d.range.end.character] == "100"
    assert "fc2" in (d.layer or "")
    fix = d.preferred_fix
    assert fix is not None and fix.verified and "task's output size" in fix.title
    fixed = apply_edits(source, fix.edits)
    assert "nn.Linear(64, 10)" in fixed
    assert not _shape_findings(_check(fixed, pool, inputs=INPUTS, output_shape=(2, 10)))


def test_right_output_and_unknown_output_shape_give_no_finding(pool):
    right = _check(MLP.format(out=", 10"), pool, inputs=INPUTS, output_shape=(2, 10))
    assert not _shape_findings(right) and right.executable is True
    unknown = _check(MLP.format(out=", 100"), pool, inputs=INPUTS)
    assert not _shape_findings(unknown) and unknown.executable is True


def test_tuple_outputs_compare_element_wise_and_by_count(pool):
    expected = ((2, 10), (2, 4))
    good = _check(TWO_HEADS.format(box=4), pool, inputs=INPUTS, output_shape=expected)
    assert not _shape_findings(good)
    source = TWO_HEADS.format(box=5)
    (d,) = _shape_findings(_check(source, pool, inputs=INPUTS, output_shape=expected))
    assert "(N, 5)" in d.message and "(N, 4)" in d.message
    assert source.splitlines()[d.range.start.line].strip() == "self.box = nn.Linear(64, 5)"
    assert d.preferred_fix is not None and d.preferred_fix.verified
    assert apply_edits(source, d.preferred_fix.edits) == TWO_HEADS.format(box=4)
    # one output where the task expects two: reported at the entry point, no fix offered
    (d,) = _shape_findings(
        _check(MLP.format(out=", 10"), pool, inputs=INPUTS, output_shape=expected)
    )
    assert "returns 1 output(s)" in d.message and not d.fixes


def test_missing_final_out_features_takes_the_tasks_size(pool):
    source = MLP.format(out="")
    options = {"inputs": INPUTS, "output_shape": (2, 10)}
    (d,) = [x for x in _check(source, pool, **options).diagnostics if x.code == T.MISSING_ARGUMENT]
    fix = d.preferred_fix
    assert fix is not None and fix.verified
    assert "the task's output size" in fix.title and "out_features=10" in fix.title
    fixed = apply_edits(source, fix.edits)
    again = _check(fixed, pool, **options)
    assert not again.has_errors and again.executable is True and not _shape_findings(again)
    # without a task nothing in the program says the size: no fix, as before
    (d,) = [
        x for x in _check(source, pool, inputs=INPUTS).diagnostics if x.code == T.MISSING_ARGUMENT
    ]
    assert d.preferred_fix is None


def test_batch_counts_only_when_the_run_is_the_tasks_and_guessed_inputs_compare_the_last_dim():
    out = [{"shape": [2, 10]}]
    task = CheckOptions(inputs=(TensorSpec((4, 32)),), output_shape=(4, 10))
    assert output_mismatch(out, task, run_batch=2) == []
    assert output_mismatch(out, task, run_batch=4) == [(0, 0)]
    guessed = CheckOptions(output_shape=(4, 7, 10))
    assert output_mismatch(out, guessed, run_batch=2) == []
    assert output_mismatch([{"shape": [2, 9]}], guessed, run_batch=2) == [(0, 1)]
    assert output_mismatch(out, CheckOptions(), run_batch=2) is None


def test_task_files_output_shape_agrees_with_the_suite_loader():
    suite = load_suite("builtin")
    assert len(suite) > 0
    for task in suite.tasks:
        assert find_task(task.id).output_shape == task.output_shape, task.id
    with pytest.raises(UnknownTaskError):
        find_task("no_such_task")
