"""Rank-based group comparisons and correlations (scipy), each returned as a stat record."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from immunopet.analysis.exact import mann_whitney_exact_p
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
                 n_permutations: int = 9999, exact_max_splits: int = 10**15) -> dict:
    """Two-sided Mann-Whitney U test of ``x`` (e.g. responders) against ``y``.

    p-value: ``method="exact"`` (scipy) when there are no ties and ``len(x) + len(y) <= exact_max_n``;
    with ties at that size the exact permutation distribution of U (every one of the
    ``C(n, len(x))`` splits counted, :func:`immunopet.analysis.exact.mann_whitney_exact_p`) when
    there are at most ``exact_max_splits`` splits, else a seeded permutation test of
    ``n_permutations`` resamples; the tie-corrected normal approximation above ``exact_max_n``. The estimate is U / (n_x n_y), the probability that a value of ``x``
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
    elif n <= exact_max_n and math.comb(n, x.size) <= exact_max_splits:
        u, p, splits = mann_whitney_exact_p(x, y)
        return stat("Mann-Whitney U", inputs=inputs, n=n, estimate=u / (x.size * y.size),
                    estimate_label="P(X > Y) = AUC", p_value=p,
                    method=f"exact with ties (all {splits} splits counted)", statistic=u, n_x=int(x.size),
                    n_y=int(y.size), median_x=float(np.median(x)), median_y=float(np.median(y)))
    elif n <= exact_max_n:
        method = stats.PermutationMethod(n_resamples=n_permutations, rng=np.random.default_rng(seed))
        label = (f"permutation (ties; {math.comb(n, x.size)} splits > {exact_max_splits} to enumerate; "
                 f"{n_permutations} resamples, seed {seed})")
    else:
        method, label = "asymptotic", "normal approximation with tie correction"
    result = stats.mannwhitneyu(x, y, alternative="two-sided", method=method)
    return stat("Mann-Whitney U", inputs=inputs, n=n, estimate=float(result.statistic) / (x.size * y.size),
                estimate_label="P(X > Y) = AUC", p_value=float(result.pvalue), method=label,
                statistic=float(result.statistic), n_x=int(x.size), n_y=int(y.size),
                median_x=float(np.median(x)), median_y=float(np.median(y)))


def _kruskal_h(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return stats.kruskal(*samples, axis=axis).statistic


def _spearman_rho(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman's rho along ``axis`` (Pearson correlation of the ranks), for permutation tests."""
    y = np.broadcast_to(y, x.shape)
    return stats.pearsonr(stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis), axis=axis).statistic


def _pairing_test(x: np.ndarray, y: np.ndarray, statistic, *, n_permutations: int, seed: int) -> float:
    """Two-sided permutation p of ``statistic(x, y)`` over re-pairings (only ``x`` is reordered, so the
    n! orderings are enumerated exactly when n! <= ``n_permutations``)."""
    batch = max(64, 2_000_000 // max(x.size * x.size, 1))  # bounds the (batch, n, n) pair arrays to ~16 MB
    result = stats.permutation_test((x,), lambda a, axis=-1: statistic(a, y, axis=axis), vectorized=True,
                                    permutation_type="pairings", n_resamples=n_permutations, batch=batch,
                                    rng=np.random.default_rng(seed))
    return float(result.pvalue)


def _kendall_s(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Kendall's S (concordant minus discordant pairs) along the last axis, vectorised over resamples.

    Under permutation of the pairings tau-b = S / constant, so S gives tau-b's permutation p-value
    (scipy's own ``kendalltau`` is too slow for thousands of resamples).
    """
    y = np.broadcast_to(y, x.shape)
    dx = np.sign(x[..., :, None] - x[..., None, :])
    dy = np.sign(y[..., :, None] - y[..., None, :])
    return (dx * dy).sum(axis=(-2, -1)) / 2.0


def kruskal_groups(groups: dict[str, np.ndarray], *, inputs: str, notes: Notes, analysis: str,
                   min_group: int, exact_max_n: int = 50, seed: int = 0, n_permutations: int = 9999) -> dict:
    """Kruskal-Wallis H test across the non-empty ``groups`` (:func:`scipy.stats.kruskal`).

    With at most ``exact_max_n`` patients the p-value is that of a seeded permutation test of H
    (:func:`scipy.stats.permutation_test`, exact enumeration when the partitions are few); above, the
    tie-corrected chi-square approximation.
    """
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
    p, method = float(result.pvalue), "chi-square approximation with tie correction"
    if n <= exact_max_n and min(sizes.values()) < 2:
        method += " (a group of one patient: no permutation test)"
    elif n <= exact_max_n:
        perm = stats.permutation_test(list(present.values()), _kruskal_h, permutation_type="independent",
                                      alternative="greater", n_resamples=n_permutations, vectorized=True,
                                      rng=np.random.default_rng(seed))
        p, method = float(perm.pvalue), f"permutation of H (up to {n_permutations} resamples, seed {seed})"
    return stat("Kruskal-Wallis H", inputs=inputs, n=n, p_value=p, method=method, statistic=float(result.statistic),
                group_n=sizes, group_median={k: float(np.median(v)) for k, v in present.items()})


def kendall_trend(values: np.ndarray, ranks: np.ndarray, *, inputs: str, exact_max_n: int = 50, seed: int = 0,
                  n_permutations: int = 9999) -> dict:
    """Trend of ``values`` across ordered categories: Kendall's tau-b against the category rank.

    Used in place of the Jonckheere-Terpstra test (not in scipy): for an ordered grouping
    S = 2 JT - (between-group pairs), so S's permutation test is JT's. tau-b handles the many ties of
    an ordered category.
    With at most ``exact_max_n`` patients the p-value comes from a seeded permutation test of S
    (:func:`scipy.stats.permutation_test`); above it, :func:`scipy.stats.kendalltau`'s normal
    approximation.
    """
    values = np.asarray(values, dtype=float)
    ranks = np.asarray(ranks, dtype=float)
    n = values.size
    if n < 3 or np.unique(ranks).size < 2 or np.unique(values).size < 2:
        return not_run("Kendall tau-b trend", inputs=inputs, n=n, reason="fewer than 3 patients or 2 categories")
    result = stats.kendalltau(values, ranks, variant="b")
    p, method = float(result.pvalue), "scipy.stats.kendalltau (tau-b), normal approximation with ties"
    if n <= exact_max_n:
        p = _pairing_test(values, ranks, _kendall_s, n_permutations=n_permutations, seed=seed)
        method = f"permutation of Kendall's S (up to {n_permutations} resamples, seed {seed})"
    return stat("Kendall tau-b trend", inputs=inputs, n=n, estimate=float(result.statistic),
                estimate_label="Kendall tau-b", p_value=p, method=method)


def spearman(x: np.ndarray, y: np.ndarray, *, inputs: str, ci_level: float, exact_max_n: int = 50, seed: int = 0,
             n_permutations: int = 9999) -> dict:
    """Spearman's rho with a Fisher-z confidence interval (Bonett & Wright 2000 variance).

    The interval is tanh(atanh(rho) +- z * sqrt((1 + rho^2 / 2) / (n - 3))) (none when |rho| = 1).
    The p-value is a seeded permutation test's with at most ``exact_max_n`` pairs (exact
    enumeration when n! is small), else :func:`scipy.stats.spearmanr`'s t approximation. Pairs with
    a missing value are dropped first.
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
    p, method = float(result.pvalue), "t approximation"
    if n <= exact_max_n:
        p = _pairing_test(x, y, _spearman_rho, n_permutations=n_permutations, seed=seed)
        method = f"permutation (up to {n_permutations} resamples, seed {seed})"
    ci = None
    if abs(rho) < 1.0 - 1e-12:
        z = stats.norm.ppf(0.5 + ci_level / 2.0)
        half = z * np.sqrt((1.0 + rho * rho / 2.0) / (n - 3))
        ci = (float(np.tanh(np.arctanh(rho) - half)), float(np.tanh(np.arctanh(rho) + half)))
    return stat("Spearman correlation", inputs=inputs, n=n, estimate=rho, estimate_label="Spearman rho",
                ci=ci, ci_level=ci_level, p_value=p, method=f"Fisher z interval (Bonett-Wright SE); {method} p")
