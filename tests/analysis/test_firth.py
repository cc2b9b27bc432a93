"""Firth logistic regression against its penalised likelihood maximised directly (scipy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from immunopet.analysis.firth import design, firth_logistic, loo_auc
from immunopet.analysis.record import Notes


def penalised_loglik(beta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Firth (1993): l(b) + 1/2 log det(X'WX), X with the intercept column."""
    eta = x @ beta
    loglik = np.sum(y * eta - np.logaddexp(0.0, eta))
    p = 1.0 / (1.0 + np.exp(-eta))
    info = x.T @ (x * (p * (1 - p))[:, None])
    return float(loglik + 0.5 * np.linalg.slogdet(info)[1])


def maximise(x: np.ndarray, y: np.ndarray, fixed: dict[int, float] | None = None) -> tuple[np.ndarray, float]:
    fixed = fixed or {}
    free = [k for k in range(x.shape[1]) if k not in fixed]

    def full(b_free):
        beta = np.zeros(x.shape[1])
        beta[free] = b_free
        for k, v in fixed.items():
            beta[k] = v
        return beta

    res = optimize.minimize(lambda b: -penalised_loglik(full(b), x, y), np.zeros(len(free)), method="BFGS",
                            options={"gtol": 1e-10})
    return full(res.x), -float(res.fun)


def trial() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 24
    uptake = np.exp(rng.normal(1.8, 0.6, n))
    kind = np.array(["bladder", "NSCLC", "TNBC"] * 8)
    eta = -1.0 + 1.2 * (np.log2(uptake) - 2.6) - 0.8 * (kind == "TNBC")
    return pd.DataFrame({"pet_uptake": uptake, "tumour_type": kind,
                         "responder": (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)})


def test_estimate_test_and_profile_interval_equal_the_direct_maximum():
    table = trial()
    record = firth_logistic(table, predictor="pet_uptake", log2=True, covariates=["tumour_type"], ci_level=0.95,
                            notes=Notes(), analysis="t")
    x, y, _ = design(table, ["pet_uptake"], log2=["pet_uptake"], covariates=["tumour_type"])
    xm = np.column_stack([np.ones(len(y)), x.to_numpy()])
    beta, top = maximise(xm, y)
    assert np.log(record["estimate"]) == pytest.approx(beta[1], abs=1e-4)
    _, constrained = maximise(xm, y, {1: 0.0})
    chi2 = 2 * (top - constrained)
    assert record["p_value"] == pytest.approx(stats.chi2.sf(chi2, 1), rel=1e-3)
    # profile bounds: the penalised likelihood drops by chi2(0.95, 1) / 2 there
    for bound in (record["ci_low"], record["ci_high"]):
        _, at = maximise(xm, y, {1: np.log(bound)})
        assert 2 * (top - at) == pytest.approx(stats.chi2.ppf(0.95, 1), abs=2e-3)
    assert record["terms"] == ["pet_uptake", "tumour_type=TNBC", "tumour_type=bladder"]


def test_separated_data_give_a_finite_estimate_and_an_epv_warning():
    table = pd.DataFrame({"pet_uptake": [1.0, 2, 3, 4, 8, 9, 10, 12], "responder": [0.0, 0, 0, 0, 1, 1, 1, 1],
                          "tumour_type": ["a"] * 8})
    notes = Notes()
    record = firth_logistic(table, predictor="pet_uptake", log2=True, covariates=["tumour_type"], ci_level=0.95,
                            notes=notes, analysis="sep")
    assert np.isfinite(record["estimate"]) and record["estimate"] > 1
    x, y, _ = design(table, ["pet_uptake"], log2=["pet_uptake"])
    beta, _ = maximise(np.column_stack([np.ones(8), x.to_numpy()]), y)
    assert np.log(record["estimate"]) == pytest.approx(beta[1], abs=1e-4)
    messages = " ".join(n["message"] for n in notes.items)
    assert "no variation" in messages and "EPV" in messages


def test_no_responders_is_not_run_and_cv_auc_is_bounded():
    table = trial()
    none = firth_logistic(table.assign(responder=0.0), predictor="pet_uptake", log2=True, ci_level=0.95,
                          notes=Notes(), analysis="t")
    assert none["p_value"] is None and none["reason"]
    cv = loo_auc(table, columns=["pet_uptake"], log2=["pet_uptake"], covariates=["tumour_type"], inputs="t")
    assert 0.0 <= cv["estimate"] <= 1.0 and cv["estimate_label"] == "leave-one-out AUC"
