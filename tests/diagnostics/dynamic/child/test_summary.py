"""The torch summary's parameter count of each module: the same as `parameters()` gives, for
nested and for shared modules and parameters."""

from __future__ import annotations

import torch
from deepeval_lsp.diagnostics.dynamic.child.summary import _parameter_counts
from torch import nn


def _naive(model: nn.Module) -> dict[int, int]:
    return {id(m): sum(p.numel() for p in m.parameters()) for m in model.modules()}


def test_counts_of_nested_modules_are_those_of_parameters():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.Sequential(nn.BatchNorm2d(4), nn.Sequential(nn.Linear(4, 5), nn.ReLU())),
        nn.LSTM(5, 6),
    )
    model.extra = nn.Parameter(torch.ones(7))
    counts = _parameter_counts(model)
    assert counts is not None
    assert {k: counts[k] for k in _naive(model)} == _naive(model)


def test_a_shared_module_or_parameter_is_left_to_parameters():
    shared = nn.Linear(4, 4)
    assert _parameter_counts(nn.Sequential(shared, nn.ReLU(), shared)) is None
    tied = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10, bias=False))
    tied[1].weight = tied[0].weight
    assert _parameter_counts(tied) is None
