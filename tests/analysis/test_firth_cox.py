"""Firth-penalised Cox against the penalised partial likelihood maximised directly (Heinze & Schemper 2001)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from immunopet.analysis.firth_cox import firth_cox
from immunopet.analysis.record import Notes
from immunopet.analysis.survival import cox_fit


def _penalised(beta: np.ndarray, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> float:
    """Breslow log partial likelihood + 1/2 log det of its information, written out from the definition."""
    eta = x @ beta
    loglik, info = 0.0, np.zeros((x.shape[1], x.shape[1]))
    for t in np.unique(time[event]):
        dead, risk = (time == t) & event, time >= t
        d, w = dead.sum(), np.exp(eta[risk])
        s0, s1, s2 = w.sum(), w @ x[risk], (x[risk] * w[:, None]).T @ x[risk]
        loglik += eta[dead].sum() - d * np.log(s0)
        info += d * (s2 / s0 - np.outer(s1, s1) / s0**2)
    return loglik + 0.5 * np.linalg.slogdet(info)[1]


def _direct(x, time, event):
    fit = optimize.minimize(lambda b: -_penalised(b, x, time, event), np.zeros(x.shape[1]), method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000})
    return fit.x, -fit.fun


def _messages(notes: Notes) -> list[str]:
    return [item["message"] for item in notes.items if item["analysis"] == "pfs"]


def _data(seed: int, n: int = 18, separated: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    time = np.round(rng.exponential(12 * np.exp(-0.8 * x[:, 0])), 0) + 1  # rounded: tied event times
    event = rng.random(n) < 0.6
    if separated:  # every event among the higher x1: the ordinary estimate is infinite
        event = x[:, 0] > np.median(x[:, 0])
    return pd.DataFrame({"T": time, "E": event.astype(int), "x1": x[:, 0], "x2": x[:, 1]})


@pytest.mark.parametrize("seed,separated", [(1, False), (2, False), (3, True)])
def test_estimates_and_penalised_lr_p_equal_the_direct_maximum(seed, separated):
    data = _data(seed, separated=separated)
    x, time, event = data[["x1", "x2"]].to_numpy(), data["T"].to_numpy(float), data["E"].to_numpy(bool)
    beta, best = _direct(x, time, event)
    got = firth_cox(data, ["x1", "x2"])
    assert got["converged"]
    assert [r["coef"] for r in got["coefficients"]] == pytest.approx(beta, abs=2e-4)
    assert got["penalised_log_likelihood"] == pytest.approx(best, abs=1e-6)
    # penalised LR test of x1: the maximum with x1 = 0 fixed, found directly over x2
    reduced = optimize.minimize_scalar(lambda b2: -_penalised(np.array([0.0, b2]), x, time, event),
                                       bounds=(-20, 20), method="bounded", options={"xatol": 1e-10})
    p = stats.chi2.sf(2 * (best + reduced.fun), 1)
    assert got["p_value"] == pytest.approx(p, rel=1e-3, abs=1e-6)
    assert got["ci_low"] < got["hazard_ratio"] < got["ci_high"] and np.isfinite(got["ci_high"])
    # the profile interval's ends are where the penalised LR statistic reaches the chi2 quantile
    def drop(b1):
        inner = optimize.minimize_scalar(lambda b2: -_penalised(np.array([b1, b2]), x, time, event),
                                         bounds=(-20, 20), method="bounded", options={"xatol": 1e-10})
        return 2 * (best + inner.fun) - stats.chi2.ppf(0.95, 1)
    for end in (got["ci_low"], got["ci_high"]):
        assert abs(drop(np.log(end))) < 2e-2


def test_cox_fit_with_few_events_reports_the_firth_model_beside_it():
    data = _data(3, separated=True).rename(columns={"T": "pfs_months", "E": "pfs_event"})
    notes = Notes()
    record = cox_fit(data, endpoint="pfs", covariates=["x1"], notes=notes, analysis="pfs")
    firth = record["firth"]
    assert firth["hazard_ratio"] == pytest.approx(firth_cox(
        data.rename(columns={"pfs_months": "T", "pfs_event": "E"}), ["x1"])["hazard_ratio"], rel=1e-9)
    assert np.isfinite(firth["hazard_ratio"]) and np.isfinite(firth["ci_high"])
    assert any("Firth-penalised Cox" in w and f"{firth['hazard_ratio']:.3g}" in w for w in _messages(notes))


def test_a_stratified_model_records_that_it_has_no_firth_estimate():
    data = _data(2).rename(columns={"T": "pfs_months", "E": "pfs_event"})
    data["tumour_type"] = ["a", "b"] * 9
    notes = Notes()
    record = cox_fit(data, endpoint="pfs", covariates=["x1"], strata=["tumour_type"], notes=notes, analysis="pfs",
                    min_events_per_covariate=50)
    assert "not fitted for a stratified model" in record["firth"]["error"]
    assert not any("Firth" in w for w in _messages(notes))  # the unstratified model's warning quotes its estimate
