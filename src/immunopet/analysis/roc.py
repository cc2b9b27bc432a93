"""ROC AUC of a predictor for response, its bootstrap interval, and paired AUC comparisons.

Point estimates come from :func:`sklearn.metrics.roc_auc_score` and curves from
:func:`sklearn.metrics.roc_curve`. Bootstrap replicates are computed for all resamples at once: the
resampling is stratified (responders and non-responders resampled separately, as pROC does), so
every replicate holds both classes and the AUC of replicate ``b`` is the Mann-Whitney identity
``(sum of responder ranks - n1 (n1 + 1) / 2) / (n1 n0)`` with ranks from
:func:`scipy.stats.rankdata` along the replicate axis.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve

from immunopet.analysis.record import not_run, stat


def stratified_indices(y: np.ndarray, *, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n)`` resample indices: positives first (drawn among positives), then negatives."""
    rng = np.random.default_rng(seed)
    pos = np.flatnonzero(y == 1)
    neg = np.flatnonzero(y == 0)
    return np.hstack([rng.choice(pos, size=(n_boot, pos.size)), rng.choice(neg, size=(n_boot, neg.size))])


def auc_replicates(values: np.ndarray, n_pos: int, indices: np.ndarray) -> np.ndarray:
    """AUC of every bootstrap replicate; ``indices`` from :func:`stratified_indices`."""
    ranks = stats.rankdata(values[indices], axis=1)
    n_neg = indices.shape[1] - n_pos
    return (ranks[:, :n_pos].sum(axis=1) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def _complete(y: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    keep = np.isfinite(y)
    for c in columns:
        keep &= np.isfinite(c)
    return (y[keep].astype(int), *(c[keep] for c in columns))


def auc_with_ci(y: np.ndarray, x: np.ndarray, *, inputs: str, n_boot: int, seed: int, ci_level: float) -> dict:
    """ROC AUC of ``x`` for ``y == 1`` (higher value = response) with a percentile bootstrap CI."""
    y, x = _complete(np.asarray(y, dtype=float), np.asarray(x, dtype=float))
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return not_run("ROC AUC", inputs=inputs, n=y.size, reason="responders and non-responders are both needed",
                       n_responders=n_pos, n_non_responders=n_neg)
    auc = float(roc_auc_score(y, x))
    boot = auc_replicates(x, n_pos, stratified_indices(y, n_boot=n_boot, seed=seed))
    tail = (1.0 - ci_level) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return stat("ROC AUC", inputs=inputs, n=y.size, estimate=auc, estimate_label="AUC",
                ci=(float(low), float(high)), ci_level=ci_level,
                method=f"sklearn roc_auc_score; stratified percentile bootstrap over patients "
                       f"(n_boot={n_boot}, seed={seed})",
                n_responders=n_pos, n_non_responders=n_neg)


def paired_auc_difference(y: np.ndarray, a: np.ndarray, b: np.ndarray, *, inputs: str, n_boot: int, seed: int,
                          ci_level: float) -> dict:
    """AUC(a) - AUC(b) on the patients with both values, by a paired stratified bootstrap.

    Both predictors are evaluated on the same resampled patients. The interval is the percentile
    interval of the replicate differences; the p-value is two-sided from
    ``D = (AUC_a - AUC_b) / sd(replicate differences)`` against the standard normal (the bootstrap
    test of Hanley & McNeil's paired design as implemented in pROC, Robin et al. 2011).
    """
    y, a, b = _complete(np.asarray(y, dtype=float), np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return not_run("paired AUC difference", inputs=inputs, n=y.size,
                       reason="responders and non-responders are both needed")
    diff = float(roc_auc_score(y, a) - roc_auc_score(y, b))
    idx = stratified_indices(y, n_boot=n_boot, seed=seed)
    boot = auc_replicates(a, n_pos, idx) - auc_replicates(b, n_pos, idx)
    tail = (1.0 - ci_level) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    sd = float(np.std(boot, ddof=1))
    p = float(2.0 * stats.norm.sf(abs(diff) / sd)) if sd > 0 else None
    return stat("paired AUC difference", inputs=inputs, n=y.size, estimate=diff, estimate_label="AUC difference",
                ci=(float(low), float(high)), ci_level=ci_level, p_value=p,
                method=f"paired stratified bootstrap over patients (n_boot={n_boot}, seed={seed}); "
                       "p from D = diff / SD(bootstrap differences)",
                n_responders=n_pos, n_non_responders=n_neg)


def curve_points(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """ROC curve (``fpr``, ``tpr``, ``threshold``) of ``x`` on the complete pairs."""
    y, x = _complete(np.asarray(y, dtype=float), np.asarray(x, dtype=float))
    if (y == 1).sum() == 0 or (y == 0).sum() == 0:
        return {"fpr": np.array([]), "tpr": np.array([]), "threshold": np.array([])}
    fpr, tpr, thresholds = roc_curve(y, x, drop_intermediate=False)
    return {"fpr": fpr, "tpr": tpr, "threshold": thresholds}
