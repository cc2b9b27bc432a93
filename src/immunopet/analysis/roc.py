"""ROC AUC of a predictor for response, its DeLong and bootstrap intervals, and paired AUC comparisons.

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

from immunopet.analysis.delong import delong, logit_ci, paired_test
from immunopet.analysis.record import Notes, not_run, stat


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


def _percentile(boot: np.ndarray, ci_level: float) -> tuple[float, float]:
    tail = (1.0 - ci_level) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return float(low), float(high)


def auc_with_ci(y: np.ndarray, x: np.ndarray, *, inputs: str, n_boot: int, seed: int, ci_level: float,
                notes: Notes | None = None, analysis: str = "auc") -> dict:
    """ROC AUC of ``x`` for ``y == 1`` (higher value = response) with two intervals.

    The reported interval is DeLong's standard error on the logit scale (stays inside 0-1;
    :func:`immunopet.analysis.delong.logit_ci`); the stratified percentile bootstrap is kept beside
    it (``bootstrap_ci_low``, ``bootstrap_ci_high``). An AUC of 0 or 1 (complete separation) has no
    logit interval: the bootstrap interval is reported, ``at_boundary`` is true and a warning says so.
    ``bootstrap_share_at_one`` is the share of bootstrap replicates equal to 1.
    """
    y, x = _complete(np.asarray(y, dtype=float), np.asarray(x, dtype=float))
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return not_run("ROC AUC", inputs=inputs, n=y.size, reason="responders and non-responders are both needed",
                       n_responders=n_pos, n_non_responders=n_neg)
    auc = float(roc_auc_score(y, x))
    boot = auc_replicates(x, n_pos, stratified_indices(y, n_boot=n_boot, seed=seed))
    boot_ci = _percentile(boot, ci_level)
    se = delong(y, x).se() if n_pos >= 2 and n_neg >= 2 else np.nan
    ci = logit_ci(auc, se, ci_level) if np.isfinite(se) else (None, None)
    boundary = ci[0] is None
    if boundary and notes is not None:
        notes.warn(analysis, f"AUC {auc:.3f} is on its boundary (or has no DeLong variance): no logit interval; "
                             "the bootstrap interval is reported and is not reliable here")
    method = ("sklearn roc_auc_score; DeLong SE, logit-transformed interval" if not boundary else
              "sklearn roc_auc_score; at the boundary: stratified percentile bootstrap interval")
    return stat("ROC AUC", inputs=inputs, n=y.size, estimate=auc, estimate_label="AUC",
                ci=boot_ci if boundary else ci, ci_level=ci_level,
                method=method + f"; bootstrap over patients stratified by class (n_boot={n_boot}, seed={seed})",
                n_responders=n_pos, n_non_responders=n_neg, delong_se=se, delong_ci_low=ci[0], delong_ci_high=ci[1],
                bootstrap_ci_low=boot_ci[0], bootstrap_ci_high=boot_ci[1], at_boundary=boundary,
                bootstrap_share_at_one=float(np.mean(boot >= 1.0 - 1e-12)))


def paired_auc_difference(y: np.ndarray, a: np.ndarray, b: np.ndarray, *, inputs: str, n_boot: int, seed: int,
                          ci_level: float) -> dict:
    """AUC(a) - AUC(b) on the patients with both values: DeLong's test, and a paired bootstrap.

    The reported p-value and interval are DeLong's (``delong_p``, ``delong_ci_low``,
    ``delong_ci_high``; DeLong et al. 1988). The second method: both predictors evaluated on the
    same stratified bootstrap resamples, percentile interval (``bootstrap_ci_low``,
    ``bootstrap_ci_high``) and ``bootstrap_p`` from ``D = diff / sd(replicate differences)``
    against the standard normal (the bootstrap test of pROC, Robin et al. 2011).
    """
    y, a, b = _complete(np.asarray(y, dtype=float), np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos < 2 or n_neg < 2:
        return not_run("paired AUC difference", inputs=inputs, n=y.size,
                       reason="at least two responders and two non-responders are needed",
                       n_responders=n_pos, n_non_responders=n_neg)
    diff = float(roc_auc_score(y, a) - roc_auc_score(y, b))
    idx = stratified_indices(y, n_boot=n_boot, seed=seed)
    boot = auc_replicates(a, n_pos, idx) - auc_replicates(b, n_pos, idx)
    boot_ci = _percentile(boot, ci_level)
    sd = float(np.std(boot, ddof=1))
    boot_p = float(2.0 * stats.norm.sf(abs(diff) / sd)) if sd > 0 else None
    test = paired_test(delong(y, np.vstack([a, b])), ci_level=ci_level)
    ci = None if test["ci_low"] is None else (test["ci_low"], test["ci_high"])
    return stat("paired AUC difference", inputs=inputs, n=y.size, estimate=diff, estimate_label="AUC difference",
                ci=ci, ci_level=ci_level, p_value=test["p_value"],
                method="DeLong test and Wald interval (DeLong et al. 1988); second method: paired stratified "
                       f"bootstrap over patients (n_boot={n_boot}, seed={seed}), p from D = diff / SD",
                n_responders=n_pos, n_non_responders=n_neg, delong_p=test["p_value"], delong_se=test["se"],
                delong_z=test["z"], delong_ci_low=test["ci_low"], delong_ci_high=test["ci_high"],
                bootstrap_p=boot_p, bootstrap_ci_low=boot_ci[0], bootstrap_ci_high=boot_ci[1])


def curve_points(y: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """ROC curve (``fpr``, ``tpr``, ``threshold``) of ``x`` on the complete pairs."""
    y, x = _complete(np.asarray(y, dtype=float), np.asarray(x, dtype=float))
    if (y == 1).sum() == 0 or (y == 0).sum() == 0:
        return {"fpr": np.array([]), "tpr": np.array([]), "threshold": np.array([])}
    fpr, tpr, thresholds = roc_curve(y, x, drop_intermediate=False)
    return {"fpr": fpr, "tpr": tpr, "threshold": thresholds}
