"""ROC AUC: vectorised bootstrap replicates equal sklearn's AUC; intervals and paired differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from immunopet.analysis.roc import (auc_replicates, auc_with_ci, curve_points, paired_auc_difference,
                                    stratified_indices)


def test_vectorised_replicates_equal_sklearn_on_each_resample():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(7), np.zeros(11)]
    x = rng.integers(0, 4, y.size).astype(float)  # many ties, like IHC scores
    idx = stratified_indices(y, n_boot=25, seed=3)
    reps = auc_replicates(x, 7, idx)
    for b in range(25):
        assert reps[b] == pytest.approx(roc_auc_score(y[idx[b]], x[idx[b]]))
        assert y[idx[b]][:7].all() and not y[idx[b]][7:].any()


def test_auc_interval_covers_the_binormal_truth():
    rng = np.random.default_rng(2)
    shift = 1.0
    truth = stats.norm.cdf(shift / np.sqrt(2))
    y = np.r_[np.ones(150), np.zeros(150)]
    x = np.r_[rng.normal(shift, 1, 150), rng.normal(0, 1, 150)]
    record = auc_with_ci(y, x, inputs="x", n_boot=400, seed=1, ci_level=0.95)
    assert record["estimate"] == pytest.approx(roc_auc_score(y, x))
    assert record["ci_low"] < truth < record["ci_high"]
    assert record["ci_high"] - record["ci_low"] < 0.15
    assert (record["n_responders"], record["n_non_responders"], record["n"]) == (150, 150, 300)


def test_auc_needs_both_classes_and_drops_missing():
    record = auc_with_ci(np.ones(5), np.arange(5.0), inputs="x", n_boot=200, seed=0, ci_level=0.95)
    assert record["estimate"] is None and "both" in record["reason"]
    y = np.array([1, 1, 0, 0, np.nan])
    x = np.array([3.0, np.nan, 1.0, 2.0, 5.0])
    assert auc_with_ci(y, x, inputs="x", n_boot=200, seed=0, ci_level=0.95)["n"] == 3


def test_paired_difference_identical_and_ordered_predictors():
    rng = np.random.default_rng(4)
    y = np.r_[np.ones(60), np.zeros(60)]
    strong = np.r_[rng.normal(1.5, 1, 60), rng.normal(0, 1, 60)]
    weak = np.r_[rng.normal(0.2, 1, 60), rng.normal(0, 1, 60)]
    same = paired_auc_difference(y, strong, strong, inputs="a-a", n_boot=300, seed=0, ci_level=0.95)
    assert same["estimate"] == 0.0 and same["p_value"] is None and same["delong_p"] is None
    assert same["bootstrap_ci_low"] == same["bootstrap_ci_high"] == 0.0 and same["bootstrap_p"] is None
    diff = paired_auc_difference(y, strong, weak, inputs="a-b", n_boot=300, seed=0, ci_level=0.95)
    assert diff["estimate"] == pytest.approx(roc_auc_score(y, strong) - roc_auc_score(y, weak))
    assert diff["ci_low"] > 0 and diff["p_value"] < 0.01 and diff["p_value"] == diff["delong_p"]
    assert diff["bootstrap_ci_low"] > 0 and diff["bootstrap_p"] < 0.01  # the second method agrees


def test_curve_points_match_sklearn():
    y = np.array([1, 0, 1, 0, 1.0])
    x = np.array([0.9, 0.1, 0.4, 0.5, 0.8])
    points = curve_points(y, x)
    assert points["fpr"][0] == 0 and points["tpr"][-1] == 1
    assert np.trapezoid(points["tpr"], points["fpr"]) == pytest.approx(roc_auc_score(y, x))
