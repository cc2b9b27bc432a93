"""Exact Mann-Whitney p with ties: the split-counting recursion against listing every split."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from immunopet.analysis.exact import mann_whitney_exact_p, rank_sum_counts


def listed_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided p from every one of the C(n, m) splits, one at a time."""
    pooled = np.concatenate([x, y])
    ranks = stats.rankdata(pooled)
    observed = ranks[: x.size].sum()
    sums = np.array([ranks[list(c)].sum() for c in combinations(range(pooled.size), x.size)])
    upper, lower = np.mean(sums >= observed - 1e-9), np.mean(sums <= observed + 1e-9)
    return min(1.0, 2 * min(upper, lower))


def test_ihc_like_scores_by_listing_every_split():
    x = np.array([3.0, 2, 2, 3, 1, 2])  # responders' IC scores
    y = np.array([0.0, 1, 1, 0, 2, 0, 1, 0, 1, 2])
    u, p, splits = mann_whitney_exact_p(x, y)
    assert splits == 8008  # C(16, 6)
    assert p == pytest.approx(listed_p(x, y), rel=1e-12)
    assert u == pytest.approx(stats.mannwhitneyu(x, y).statistic)


def test_counts_sum_to_the_number_of_splits():
    counts = rank_sum_counts(stats.rankdata([1, 1, 2, 3, 3, 3, 4]), 3)
    assert counts.sum() == 35


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=2, max_size=6), st.lists(st.integers(0, 3), min_size=2, max_size=7))
def test_equals_scipys_exact_permutation_distribution(x, y):
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    if np.unique(np.r_[x, y]).size < 2:
        return
    expected = stats.mannwhitneyu(x, y, method=stats.PermutationMethod(n_resamples=np.inf)).pvalue
    assert mann_whitney_exact_p(x, y)[1] == pytest.approx(expected, rel=1e-9, abs=1e-12)
