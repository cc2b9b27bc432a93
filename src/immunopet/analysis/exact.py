"""Exact permutation distribution of the Mann-Whitney statistic with ties, by counting splits.

Every one of the ``C(n, m)`` ways to choose which ``m`` of the ``n`` patients form group x is equally
likely under the null. U = (sum of the group's mid-ranks) - m (m + 1) / 2, and mid-ranks are
multiples of 1/2, so the number of splits giving each rank sum is counted by the subset-sum
recursion ``N_k(s) += N_{k-1}(s - 2 r_i)`` over the patients (doubled ranks are integers): the full
enumeration in ``O(n m S)`` operations instead of listing ``C(n, m)`` splits one by one. The
two-sided p-value is that of :func:`scipy.stats.mannwhitneyu` with an exact permutation method,
``min(1, 2 min(P(U >= u), P(U <= u)))``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def rank_sum_counts(ranks: np.ndarray, m: int) -> np.ndarray:
    """``counts[s]``: the number of size-``m`` subsets whose doubled mid-ranks sum to ``s``."""
    doubled = np.rint(2.0 * np.asarray(ranks, dtype=float)).astype(int)
    top = int(np.sort(doubled)[::-1][:m].sum())
    counts = np.zeros((m + 1, top + 1), dtype=float)  # float: C(50, 25) ~ 1.3e14 is exact in float64
    counts[0, 0] = 1.0
    for r in doubled:
        counts[1:, r:] += counts[:-1, : top + 1 - r].copy()
    return counts[m]


def mann_whitney_exact_p(x: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """(U of ``x``, exact two-sided p, number of splits) with ties, by counting every split."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m = x.size
    ranks = stats.rankdata(np.concatenate([x, y]))
    counts = rank_sum_counts(ranks, m)
    observed = int(np.rint(2.0 * ranks[:m].sum()))
    total = counts.sum()
    upper = counts[observed:].sum() / total
    lower = counts[: observed + 1].sum() / total
    u = ranks[:m].sum() - m * (m + 1) / 2.0
    return float(u), float(min(1.0, 2.0 * min(upper, lower))), int(round(total))
