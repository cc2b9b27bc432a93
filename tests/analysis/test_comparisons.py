"""Rank tests: exact and permutation p-values against full enumeration, Spearman interval coverage."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from immunopet.analysis.comparisons import describe, kendall_trend, kruskal_groups, mann_whitney, spearman
from immunopet.analysis.record import Notes


def enumerated_mw_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided p of U by enumerating every split of the pooled values (ties by mid-ranks)."""
    pooled = np.concatenate([x, y])
    ranks = stats.rankdata(pooled)
    def u(idx):
        return ranks[list(idx)].sum() - len(x) * (len(x) + 1) / 2
    observed = u(range(len(x)))
    us = np.array([u(c) for c in itertools.combinations(range(pooled.size), len(x))])
    return min(1.0, 2 * min((us >= observed - 1e-9).mean(), (us <= observed + 1e-9).mean()))


def test_mann_whitney_exact_without_ties_matches_enumeration():
    x, y = np.array([3.1, 4.7, 5.2, 8.0]), np.array([1.0, 2.2, 3.3, 0.4, 2.9])
    record = mann_whitney(x, y, inputs="x vs y", exact_max_n=50, seed=0)
    assert record["method"] == "exact"
    assert record["p_value"] == pytest.approx(enumerated_mw_p(x, y), rel=1e-9)
    labels = np.r_[np.ones(4), np.zeros(5)]
    assert record["estimate"] == pytest.approx(roc_auc_score(labels, np.r_[x, y]))
    assert (record["n"], record["n_x"], record["n_y"]) == (9, 4, 5)


def test_mann_whitney_with_ties_is_exact_equal_to_enumeration():
    x, y = np.array([2.0, 3, 3, 1]), np.array([0.0, 1, 1, 2, 0])  # IHC-like scores
    record = mann_whitney(x, y, inputs="scores", exact_max_n=50, seed=0)
    assert record["method"] == "exact with ties (all 126 splits counted)"
    assert record["p_value"] == pytest.approx(enumerated_mw_p(x, y), rel=1e-9)
    # above the enumeration limit: seeded permutations, said so
    sampled = mann_whitney(x, y, inputs="scores", exact_max_n=50, seed=0, exact_max_splits=100)
    assert sampled["method"].startswith("permutation (ties; 126 splits > 100")


def test_mann_whitney_large_sample_is_asymptotic_and_empty_group_not_run():
    rng = np.random.default_rng(1)
    big = mann_whitney(rng.normal(size=40), rng.normal(size=40), inputs="big", exact_max_n=50, seed=0)
    assert big["method"].startswith("normal approximation")
    empty = mann_whitney(np.array([1.0]), np.array([]), inputs="none", exact_max_n=50, seed=0)
    assert empty["p_value"] is None and empty["n"] == 1


def test_kruskal_permutation_and_small_group_warning():
    groups = {"PD": np.array([1.0, 2.0, 2.5]), "SD": np.array([3.0, 3.5]), "CR/PR": np.array([5.0, 6.0, 7.0])}
    notes = Notes()
    record = kruskal_groups(groups, inputs="uptake", notes=notes, analysis="kw", min_group=3, n_permutations=9999)
    assert record["statistic"] == pytest.approx(stats.kruskal(*groups.values()).statistic)
    # enumerate every assignment of the 8 values into groups of 3, 2, 3
    pooled = np.concatenate(list(groups.values()))
    hs = []
    for first in itertools.combinations(range(8), 3):
        rest = [i for i in range(8) if i not in first]
        for second in itertools.combinations(rest, 2):
            third = [i for i in rest if i not in second]
            hs.append(stats.kruskal(pooled[list(first)], pooled[list(second)], pooled[third]).statistic)
    assert record["p_value"] == pytest.approx(np.mean(np.array(hs) >= record["statistic"] - 1e-9), rel=1e-9)
    assert record["group_n"] == {"PD": 3, "SD": 2, "CR/PR": 3}
    assert notes.items and "SD: n=2" in notes.items[0]["message"]


def test_kendall_trend_matches_pair_count_and_permutation():
    values = np.array([1.0, 2.0, 4.0, 3.0, 6.0, 5.0, 8.0])
    ranks = np.array([0, 0, 1, 1, 1, 2, 2], dtype=float)
    record = kendall_trend(values, ranks, inputs="trend", n_permutations=9999)
    i, j = np.triu_indices(len(values), 1)
    s = np.sum(np.sign(values[i] - values[j]) * np.sign(ranks[i] - ranks[j]))
    tied_ranks = np.sum(ranks[i] == ranks[j])
    n0 = len(i)
    assert record["estimate"] == pytest.approx(s / np.sqrt(n0 * (n0 - tied_ranks)))
    # all 5040 orderings enumerated by scipy (fewer than the resamples): exact permutation p
    perms = np.array(list(itertools.permutations(values)))
    all_s = np.array([np.sum(np.sign(p[i] - p[j]) * np.sign(ranks[i] - ranks[j])) for p in perms])
    expected = min(1.0, 2 * min((all_s >= s).mean(), (all_s <= s).mean()))
    assert record["p_value"] == pytest.approx(expected, rel=1e-9)


def test_spearman_fisher_interval_covers_at_nominal_rate():
    rng = np.random.default_rng(5)
    r = 0.5
    true_rho = 6 / np.pi * np.arcsin(r / 2)  # Spearman's rho of a bivariate normal
    hits = 0
    for _ in range(300):
        xy = rng.multivariate_normal([0, 0], [[1, r], [r, 1]], size=40)
        record = spearman(xy[:, 0], xy[:, 1], inputs="xy", ci_level=0.95, exact_max_n=0)
        hits += record["ci_low"] <= true_rho <= record["ci_high"]
    assert 0.91 <= hits / 300 <= 0.99


def test_spearman_drops_missing_pairs_and_small_n_permutation():
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    y = np.array([2.0, 1.0, 3.0, np.nan, 6.0, 5.0])
    record = spearman(x, y, inputs="xy", ci_level=0.95)
    assert record["n"] == 4
    assert record["estimate"] == pytest.approx(stats.spearmanr([1, 2, 5, 6], [2, 1, 6, 5]).statistic)
    perfect = spearman(np.arange(5.0), -np.arange(5.0), inputs="xy", ci_level=0.95)
    assert perfect["estimate"] == pytest.approx(-1.0) and perfect["ci_low"] is None
    assert perfect["p_value"] == pytest.approx(2 / 120)  # exact: 2 of 5! orderings are as extreme


def test_describe():
    d = describe(np.array([1.0, 2.0, 3.0, np.nan]))
    assert d == {"n": 3, "mean": 2.0, "sd": 1.0, "median": 2.0, "q1": 1.5, "q3": 2.5, "min": 1.0, "max": 3.0}
