"""DeLong's AUC variance and paired test against an explicit implementation of DeLong et al. (1988)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import roc_auc_score

from immunopet.analysis.delong import delong, logit_ci, paired_test


def explicit_delong(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong, DeLong & Clarke-Pearson, Biometrics 1988;44:837-845, equations as printed: psi(X, Y) =
    1, 1/2, 0; V10(X_i) = mean_j psi; V01(Y_j) = mean_i psi; S = S10 / m + S01 / n (double loops)."""
    k = scores.shape[0]
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    v10, v01 = np.zeros((k, m)), np.zeros((k, n))
    for r in range(k):
        for i in range(m):
            for j in range(n):
                psi = 1.0 if pos[r, i] > neg[r, j] else 0.5 if pos[r, i] == neg[r, j] else 0.0
                v10[r, i] += psi / n
                v01[r, j] += psi / m
    auc = v10.mean(axis=1)
    s10 = np.array([[np.sum((v10[a] - auc[a]) * (v10[b] - auc[b])) / (m - 1) for b in range(k)] for a in range(k)])
    s01 = np.array([[np.sum((v01[a] - auc[a]) * (v01[b] - auc[b])) / (n - 1) for b in range(k)] for a in range(k)])
    return auc, s10 / m + s01 / n


def test_hand_checkable_set():
    # positives 0.9, 0.8, 0.5; negatives 0.7, 0.5, 0.2 (one tie)
    # V10 = (1, 1, 1/2), V01 = (2/3, 5/6, 1): AUC = 5/6; S10 = 1/12, S01 = 1/36; var = 1/36 + 1/108 = 1/27
    y = np.array([1, 1, 1, 0, 0, 0])
    x = np.array([0.9, 0.8, 0.5, 0.7, 0.5, 0.2])
    fit = delong(y, x)
    assert fit.auc[0] == pytest.approx(5 / 6)
    assert fit.cov[0, 0] == pytest.approx(1 / 27)
    assert fit.se() == pytest.approx(np.sqrt(1 / 27))


def test_matches_the_explicit_implementation_with_ties_and_two_predictors():
    rng = np.random.default_rng(5)
    y = np.r_[np.ones(9), np.zeros(13)].astype(int)
    a = np.r_[rng.normal(1.0, 1, 9), rng.normal(0, 1, 13)]
    b = rng.integers(0, 4, 22).astype(float) + 0.5 * y  # an IHC-like score, many ties
    fit = delong(y, np.vstack([a, b]))
    auc, cov = explicit_delong(y, np.vstack([a, b]))
    assert np.allclose(fit.auc, auc) and np.allclose(fit.cov, cov, rtol=1e-12, atol=1e-15)
    assert fit.auc == pytest.approx([roc_auc_score(y, a), roc_auc_score(y, b)])
    test = paired_test(fit, ci_level=0.95)
    se = np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert test["difference"] == pytest.approx(auc[0] - auc[1])
    assert test["p_value"] == pytest.approx(2 * stats.norm.sf(abs(auc[0] - auc[1]) / se))
    assert test["ci_high"] - test["ci_low"] == pytest.approx(2 * 1.959963984540054 * se)


def test_logit_interval_stays_inside_and_is_none_at_the_boundary():
    low, high = logit_ci(0.95, 0.04, 0.95)
    assert 0.0 < low < 0.95 < high < 1.0
    assert logit_ci(1.0, 0.0, 0.95) == (None, None)
    y = np.array([1, 1, 1, 0, 0, 0])
    assert delong(y, np.array([3.0, 4, 5, 0, 1, 2])).cov[0, 0] == 0.0  # separated: no variance
    with pytest.raises(ValueError, match="2 positives"):
        delong(np.array([1, 0, 0]), np.array([1.0, 0, 2]))


def test_identical_predictors_have_no_test():
    y = np.array([1, 1, 0, 0, 1, 0])
    x = np.array([0.3, 0.9, 0.1, 0.5, 0.6, 0.2])
    result = paired_test(delong(y, np.vstack([x, x])), ci_level=0.95)
    assert result["difference"] == 0.0 and result["p_value"] is None


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=4, max_size=16), st.lists(st.integers(0, 3), min_size=4, max_size=16))
def test_variance_is_never_negative_and_auc_is_sklearns(pos, neg):
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))].astype(int)
    x = np.r_[pos, neg].astype(float)
    fit = delong(y, x)
    assert fit.cov[0, 0] >= -1e-15
    assert fit.auc[0] == pytest.approx(roc_auc_score(y, x))
