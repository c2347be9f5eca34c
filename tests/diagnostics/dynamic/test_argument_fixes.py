"""Fixes for missing and invalid layer arguments, verified by re-running the model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.tasks.model import TensorSpec
from deepeval_lsp.diagnostics.text import apply_edits

MLP = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, {hidden})
        self.drop = nn.Dropout({p})
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(self.drop(self.fc1(x).relu()))


def dl_model():
    return Net()
"""

CONV = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8{conv})
        self.pool = {pool}
        self.fc = nn.Linear({flat}, 10)

    def forward(self, x):
        return self.fc(self.pool(self.conv(x)).flatten(1))


def dl_model():
    return Net()
"""

LSTM = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100{embed})
        self.lstm = nn.LSTM(16{lstm}, batch_first=True)
        self.head = nn.Linear(24, 3)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.head(out[:, -1])


def dl_model():
    return Net()
"""

ATTENTION = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(12, batch_first=True)

    def forward(self, x):
        return self.attn(x, x, x)[0]


def dl_model():
    return Net()
"""


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def _finding(source: str, code: str, pool: WorkerPool, **options):
    report = check(source, "model.py", CheckOptions(**options), pool=pool)
    (d,) = [d for d in report.diagnostics if d.code == code]
    return d


def _cleans(source: str, fix, pool: WorkerPool, **options) -> bool:
    fixed = apply_edits(source, fix.edits)
    again = check(fixed, "model.py", CheckOptions(**options), pool=pool)
    return not again.has_errors and again.executable is True


def _one(source: str, code: str, pool: WorkerPool, **options):
    d = _finding(source, code, pool, **options)
    assert d.preferred_fix is not None, d
    assert all(f.verified for f in d.fixes)
    assert _cleans(source, d.preferred_fix, pool, **options)
    return d


def test_missing_out_features_takes_the_size_the_next_layer_expects(pool):
    source = MLP.format(hidden="", p="0.1").replace("(32, )", "(32)")
    d = _one(source, T.MISSING_ARGUMENT, pool, input_shape=(2, 32))
    assert d.preferred_fix.edits[0].new_text == ", 64"
    assert "fc2" in d.preferred_fix.title


def test_negative_size_becomes_its_absolute_value_when_the_model_then_runs(pool):
    source = MLP.format(hidden="-64", p="0.1")
    d = _one(source, T.INVALID_ARGUMENT_VALUE, pool, input_shape=(2, 32))
    assert d.preferred_fix.edits[0].new_text == "64"


def test_negative_size_that_does_not_fit_takes_the_consumers_size(pool):
    source = MLP.format(hidden="-48", p="0.1")
    d = _one(source, T.INVALID_ARGUMENT_VALUE, pool, input_shape=(2, 32))
    assert d.preferred_fix.edits[0].new_text == "64"
    assert "fc2" in d.preferred_fix.title


def test_dropout_out_of_range_takes_the_signatures_default():
    import inspect

    from torch import nn

    source = MLP.format(hidden="64", p="1.5")
    report = check(source, "model.py", CheckOptions(dynamic=False))
    (d,) = [d for d in report.diagnostics if d.code == T.INVALID_ARGUMENT_VALUE]
    default = inspect.signature(nn.Dropout).parameters["p"].default
    assert d.preferred_fix is not None
    assert d.preferred_fix.edits[0].new_text == repr(default)
    assert "default" in d.preferred_fix.title


def test_missing_embedding_dim_and_hidden_size(pool):
    options = {"inputs": (TensorSpec((2, 5), "int64", 100),)}
    source = LSTM.format(embed="", lstm=", 24")
    d = _one(source, T.MISSING_ARGUMENT, pool, **options)
    assert d.preferred_fix.edits[0].new_text == ", 16"
    source = LSTM.format(embed=", 16", lstm="")
    d = _one(source, T.MISSING_ARGUMENT, pool, **options)
    assert "24" in d.preferred_fix.edits[0].new_text


def test_missing_kernel_size_with_padding_prefers_the_size_keeping_kernel(pool):
    # pooled to 1x1: every usual kernel runs, the padding says which keeps the size
    source = CONV.format(conv=", padding=1", pool="nn.AdaptiveAvgPool2d(1)", flat=8)
    d = _finding(source, T.MISSING_ARGUMENT, pool, input_shape=(2, 3, 6, 6))
    assert [f.edits[0].new_text for f in d.fixes] == [", 3", ", 1", ", 5", ", 7"]
    assert all(f.verified for f in d.fixes)
    assert "keeps the size with padding=1" in d.preferred_fix.title
    assert all("padding=1 suggests 3" in f.title for f in d.fixes[1:])
    assert _cleans(source, d.preferred_fix, pool, input_shape=(2, 3, 6, 6))


def test_missing_kernel_size_that_only_one_candidate_fits(pool):
    # 6x6 input, no padding, 8 * 2 * 2 features after the conv: only kernel 5 runs
    source = CONV.format(conv="", pool="nn.Identity()", flat=8 * 2 * 2)
    d = _one(source, T.MISSING_ARGUMENT, pool, input_shape=(2, 3, 6, 6))
    assert len(d.fixes) == 1
    assert d.preferred_fix.edits[0].new_text == ", 5"
    assert "only one" in d.preferred_fix.title


def test_missing_num_heads_offers_each_divisor_that_runs(pool):
    d = _finding(ATTENTION, T.MISSING_ARGUMENT, pool, input_shape=(2, 4, 12))
    values = [f.edits[0].new_text for f in d.fixes]
    assert values == [", 4", ", 2", ", 1"]  # 8 does not divide 12
    assert all(f.verified for f in d.fixes)
    assert "nothing in the program decides" in d.fixes[0].title
    assert _cleans(ATTENTION, d.preferred_fix, pool, input_shape=(2, 4, 12))


def test_a_final_layer_without_its_size_gets_no_fix(pool):
    # nothing consumes fc2's output: any size runs, so none is offered
    source = MLP.format(hidden="64", p="0.1").replace("(64, 10)", "(64)")
    d = _finding(source, T.MISSING_ARGUMENT, pool, input_shape=(2, 32))
    assert d.fixes == ()


def test_extra_runs_only_for_such_a_finding_and_bounded(pool, monkeypatch):
    from deepeval_lsp.diagnostics.dynamic.argument_fixes import MAX_RUNS

    jobs = []
    run = pool.run
    monkeypatch.setattr(pool, "run", lambda *a, **k: jobs.append(a) or run(*a, **k))
    options = CheckOptions(input_shape=(2, 32))
    clean = check(MLP.format(hidden="64", p="0.1"), "model.py", options, pool=pool)
    assert not clean.has_errors and len(jobs) == 1
    jobs.clear()
    source = MLP.format(hidden="-48", p="0.1")
    check(source, "model.py", options, pool=pool)
    assert 1 < len(jobs) <= 1 + MAX_RUNS
