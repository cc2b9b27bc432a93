"""Rank-based group comparisons and correlations (scipy), each returned as a stat record."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from immunopet.analysis.record import Notes, not_run, stat


def describe(values: pd.Series | np.ndarray) -> dict[str, float | int | None]:
    """n, mean, SD (ddof=1), median, quartiles and range of the finite values."""
    x = pd.Series(np.asarray(values, dtype=float)).dropna()
    x = x[np.isfinite(x)]
    if x.empty:
        return {"n": 0, "mean": None, "sd": None, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    return {"n": int(x.size), "mean": float(x.mean()), "sd": float(x.std(ddof=1)) if x.size > 1 else None,
            "median": float(x.median()), "q1": float(x.quantile(0.25)), "q3": float(x.quantile(0.75)),
            "min": float(x.min()), "max": float(x.max())}


def mann_whitney(x: np.ndarray, y: np.ndarray, *, inputs: str, exact_max_n: int, seed: int,
                 n_permutations: int = 9999) -> dict:
    """Two-sided Mann-Whitney U test of ``x`` (e.g. responders) against ``y``.

    p-value: ``method="exact"`` (scipy) when there are no ties and ``len(x) + len(y) <= exact_max_n``;
    a seeded permutation test (:class:`scipy.stats.PermutationMethod`, exact enumeration when the
    number of splits is small) when there are ties at that size; the tie-corrected normal
    approximation above it. The estimate is U / (n_x n_y), the probability that a value of ``x``
    exceeds one of ``y`` (ties count one half), i.e. the AUC.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size + y.size
    if x.size == 0 or y.size == 0:
        return not_run("Mann-Whitney U", inputs=inputs, n=n, reason="one group is empty",
                       n_x=int(x.size), n_y=int(y.size))
    ties = np.unique(np.concatenate([x, y])).size < n
    if n <= exact_max_n and not ties:
        method, label = "exact", "exact"
    elif n <= exact_max_n:
        method = stats.PermutationMethod(n_resamples=n_permutations, rng=np.random.default_rng(seed))
        label = f"permutation (ties; up to {n_permutations} resamples, seed {seed})"
    else:
        method, label = "asymptotic", "normal approximation with tie correction"
    result = stats.mannwhitneyu(x, y, alternative="two-sided", method=method)
    return stat("Mann-Whitney U", inputs=inputs, n=n, estimate=float(result.statistic) / (x.size * y.size),
                estimate_label="P(X > Y) = AUC", p_value=float(result.pvalue), method=label,
                statistic=float(result.statistic), n_x=int(x.size), n_y=int(y.size),
                median_x=float(np.median(x)), median_y=float(np.median(y)))


def kruskal_groups(groups: dict[str, np.ndarray], *, inputs: str, notes: Notes, analysis: str,
                   min_group: int) -> dict:
    """Kruskal-Wallis H test across the non-empty ``groups`` (:func:`scipy.stats.kruskal`)."""
    present = {k: np.asarray(v, dtype=float) for k, v in groups.items() if len(v)}
    sizes = {k: int(v.size) for k, v in present.items()}
    n = sum(sizes.values())
    if len(present) < 2:
        notes.warn(analysis, "fewer than two non-empty groups: no Kruskal-Wallis test")
        return not_run("Kruskal-Wallis H", inputs=inputs, n=n, reason="fewer than two groups", group_n=sizes)
    notes.small_groups(analysis, sizes, min_group)
    if np.unique(np.concatenate(list(present.values()))).size < 2:
        return not_run("Kruskal-Wallis H", inputs=inputs, n=n, reason="all values are equal", group_n=sizes)
    result = stats.kruskal(*present.values())
    return stat("Kruskal-Wallis H", inputs=inputs, n=n, p_value=float(result.pvalue),
                method="chi-square approximation with tie correction", statistic=float(result.statistic),
                group_n=sizes, group_median={k: float(np.median(v)) for k, v in present.items()})


def kendall_trend(values: np.ndarray, ranks: np.ndarray, *, inputs: str) -> dict:
    """Trend of ``values`` across ordered categories: Kendall's tau-b against the category rank.

    Used in place of the Jonckheere-Terpstra test (not in scipy); tau-b handles the many ties of an
    ordered category, and its p-value is :func:`scipy.stats.kendalltau`'s (exact when no ties and
    small n, else the normal approximation).
    """
    values = np.asarray(values, dtype=float)
    ranks = np.asarray(ranks, dtype=float)
    n = values.size
    if n < 3 or np.unique(ranks).size < 2 or np.unique(values).size < 2:
        return not_run("Kendall tau-b trend", inputs=inputs, n=n, reason="fewer than 3 patients or 2 categories")
    result = stats.kendalltau(values, ranks, variant="b")
    return stat("Kendall tau-b trend", inputs=inputs, n=n, estimate=float(result.statistic),
                estimate_label="Kendall tau-b", p_value=float(result.pvalue),
                method="scipy.stats.kendalltau (tau-b, two-sided)")


def spearman(x: np.ndarray, y: np.ndarray, *, inputs: str, ci_level: float) -> dict:
    """Spearman's rho with a Fisher-z confidence interval (Bonett & Wright 2000 variance).

    The interval is tanh(atanh(rho) +- z * sqrt((1 + rho^2 / 2) / (n - 3))); the p-value is
    :func:`scipy.stats.spearmanr`'s. Pairs with a missing value are dropped first.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(keep.sum())
    if n < 4 or np.unique(x).size < 2 or np.unique(y).size < 2:
        return not_run("Spearman correlation", inputs=inputs, n=n, reason="fewer than 4 complete pairs or no spread")
    result = stats.spearmanr(x, y)
    rho = float(result.statistic)
    z = stats.norm.ppf(0.5 + ci_level / 2.0)
    half = z * np.sqrt((1.0 + rho * rho / 2.0) / (n - 3))
    centre = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    return stat("Spearman correlation", inputs=inputs, n=n, estimate=rho, estimate_label="Spearman rho",
                ci=(float(np.tanh(centre - half)), float(np.tanh(centre + half))), ci_level=ci_level,
                p_value=float(result.pvalue), method="Fisher z interval (Bonett-Wright SE); t-approximation p")
