"""pass@k against brute-force enumeration of every k-subset of the samples."""

from __future__ import annotations

from itertools import combinations

import pytest
from deepeval_lsp.benchmark.metrics import mean, mean_pass_at_k, pass_at_k, rate
from hypothesis import given
from hypothesis import strategies as st


def _brute(n: int, c: int, k: int) -> float:
    samples = [True] * c + [False] * (n - c)
    subsets = list(combinations(samples, k))
    return sum(any(s) for s in subsets) / len(subsets)


@given(
    st.integers(1, 9).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n)))
)
def test_unbiased_estimator_equals_the_enumerated_probability(nck):
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(_brute(n, c, k))


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_mean_pass_at_k_is_in_percent_and_skips_short_tasks():
    per_task = [(3, 3), (3, 0), (1, 1)]
    assert mean_pass_at_k(per_task, 1) == pytest.approx(100 * (1 + 0 + 1) / 3)
    assert mean_pass_at_k(per_task, 3) == pytest.approx(100 * (1 + 0) / 2)
    assert mean_pass_at_k([], 1) is None


def test_rate_and_mean_leave_out_what_was_not_measured():
    assert rate(1, 4) == 25.0
    assert rate(0, 0) is None
    assert mean([None, 2.0, 4.0]) == 3.0
    assert mean([None]) is None
