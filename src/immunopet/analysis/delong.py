"""DeLong's variance of ROC AUCs and the paired test of two correlated AUCs.

DeLong ER, DeLong DM, Clarke-Pearson DL. Comparing the areas under two or more correlated receiver
operating characteristic curves: a nonparametric approach. *Biometrics* 1988;44:837-845.

For positives ``X_i`` (i = 1..m) and negatives ``Y_j`` (j = 1..n) the AUC is the Mann-Whitney
statistic ``A = (1 / mn) sum_ij psi(X_i, Y_j)`` with ``psi = 1`` (X > Y), ``1/2`` (tie), ``0``.
Its structural components are ``V10(X_i) = (1/n) sum_j psi(X_i, Y_j)`` and
``V01(Y_j) = (1/m) sum_i psi(X_i, Y_j)``; for k predictors measured on the same patients

    S10 = cov over i of V10,  S01 = cov over j of V01,  S = S10 / m + S01 / n,

and ``var(A_a - A_b) = S_aa + S_bb - 2 S_ab``. The components are computed from mid-ranks (Sun X,
Xu W. Fast implementation of DeLong's algorithm. *IEEE Signal Process Lett* 2014;21:1389-1393):
``V10_i = (R_i - R^X_i) / n`` with ``R_i`` the rank of ``X_i`` among all values and ``R^X_i`` its
rank among the positives, so the cost is a sort, not an m x n table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class DeLong:
    """AUCs of k predictors on the same patients and their DeLong covariance matrix."""

    auc: np.ndarray
    cov: np.ndarray
    n_pos: int
    n_neg: int

    def se(self, k: int = 0) -> float:
        """Standard error of AUC ``k``."""
        return float(np.sqrt(max(self.cov[k, k], 0.0)))


def delong(y: np.ndarray, scores: np.ndarray) -> DeLong:
    """AUCs and DeLong covariance of ``scores`` (shape ``(k, n)`` or ``(n,)``) for ``y == 1``.

    Higher scores are taken to indicate ``y == 1``. Needs at least two positives and two negatives
    (the components' covariance has m - 1 and n - 1 degrees of freedom).
    """
    y = np.asarray(y, dtype=int)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    if m < 2 or n < 2:
        raise ValueError(f"DeLong needs >= 2 positives and >= 2 negatives (have {m} and {n})")
    all_ranks = stats.rankdata(np.hstack([pos, neg]), axis=1)
    v10 = (all_ranks[:, :m] - stats.rankdata(pos, axis=1)) / n
    v01 = 1.0 - (all_ranks[:, m:] - stats.rankdata(neg, axis=1)) / m
    auc = v10.mean(axis=1)
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return DeLong(auc=auc, cov=cov, n_pos=m, n_neg=n)


def logit_ci(auc: float, se: float, ci_level: float) -> tuple[float | None, float | None]:
    """Interval of an AUC on the logit scale, back-transformed (stays inside 0-1).

    ``logit(A) +- z se / (A (1 - A))`` (delta method). At the boundary (A = 0 or 1) or with a zero
    standard error there is no such interval: ``(None, None)``.
    """
    if not 0.0 < auc < 1.0 or se <= 0.0:
        return None, None
    z = stats.norm.ppf(0.5 + ci_level / 2.0)
    centre, half = np.log(auc / (1.0 - auc)), z * se / (auc * (1.0 - auc))
    return float(1.0 / (1.0 + np.exp(-(centre - half)))), float(1.0 / (1.0 + np.exp(-(centre + half))))


def paired_test(fit: DeLong, a: int = 0, b: int = 1, *, ci_level: float) -> dict[str, float | None]:
    """DeLong's test of AUC_a = AUC_b: difference, SE, z, two-sided p and Wald interval.

    The interval is ``diff +- z SE``, clipped to [-1, 1]; with a zero variance (both AUCs on the
    boundary, or identical predictors) z and p are ``None``.
    """
    diff = float(fit.auc[a] - fit.auc[b])
    var = float(fit.cov[a, a] + fit.cov[b, b] - 2.0 * fit.cov[a, b])
    if var <= 1e-15:
        return {"difference": diff, "se": 0.0, "z": None, "p_value": None, "ci_low": None, "ci_high": None}
    se = float(np.sqrt(var))
    z = stats.norm.ppf(0.5 + ci_level / 2.0)
    return {"difference": diff, "se": se, "z": diff / se, "p_value": float(2.0 * stats.norm.sf(abs(diff) / se)),
            "ci_low": max(-1.0, diff - z * se), "ci_high": min(1.0, diff + z * se)}
