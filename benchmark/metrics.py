"""The figures a report shows: pass@k with the unbiased estimator, rates and means."""

from __future__ import annotations

from collections.abc import Iterable
from math import comb


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chance that at least one of k samples drawn from n (c of them correct) is correct.

    The unbiased estimator of Chen et al. (2021): 1 - C(n-c, k) / C(n, k). Requires k <= n.
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def mean_pass_at_k(per_task: Iterable[tuple[int, int]], k: int) -> float | None:
    """Mean pass@k in percent over tasks given as (n, c); tasks with n < k are left out."""
    values = [pass_at_k(n, c, k) for n, c in per_task if n >= k]
    if not values:
        return None
    return 100.0 * sum(values) / len(values)


def rate(part: int, whole: int) -> float | None:
    """`part` as a percent of `whole`; None when `whole` is 0."""
    return 100.0 * part / whole if whole else None


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that were measured (None left out); None when none was."""
    got = [v for v in values if v is not None]
    return sum(got) / len(got) if got else None
