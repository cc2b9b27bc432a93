"""Mixed models with lesions nested in patients: statsmodels' variance components against the likelihood
maximised directly, on simulated data with known variances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from immunopet.analysis.mixed import fit_mixed
from immunopet.analysis.record import Notes

PATIENT, LESION, RESIDUAL = 0.10, 0.04, 0.07


def nested_data(n_patients: int = 60, lesions: int = 3, days: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        u = rng.normal(0, np.sqrt(PATIENT))
        for k in range(lesions):
            v = rng.normal(0, np.sqrt(LESION))
            for d in range(days):
                rows.append({"patient_id": f"P{p}", "lesion": f"P{p}:L{k}", "day": d,
                             "y": 1.0 + 0.2 * d + u + v + rng.normal(0, np.sqrt(RESIDUAL))})
    return pd.DataFrame(rows)


def direct_ml(data: pd.DataFrame) -> tuple[np.ndarray, float]:
    """ML of y ~ 1 + day with V_i = s_p J + s_l Z_l Z_l' + s_e I per patient, beta profiled by GLS."""
    groups = []
    for _, part in data.groupby("patient_id"):
        x = np.column_stack([np.ones(len(part)), part["day"].to_numpy(float)])
        z = pd.get_dummies(part["lesion"]).to_numpy(float)
        groups.append((part["y"].to_numpy(), x, z))

    def negloglik(log_var):
        sp, sl, se = np.exp(log_var)
        xtvx, xtvy, parts = np.zeros((2, 2)), np.zeros(2), []
        for y, x, z in groups:
            v = sp * np.ones((len(y), len(y))) + sl * z @ z.T + se * np.eye(len(y))
            vinv = np.linalg.inv(v)
            xtvx += x.T @ vinv @ x
            xtvy += x.T @ vinv @ y
            parts.append((y, x, v, vinv))
        beta = np.linalg.solve(xtvx, xtvy)
        total = 0.0
        for y, x, v, vinv in parts:
            r = y - x @ beta
            total += np.linalg.slogdet(v)[1] + r @ vinv @ r + len(y) * np.log(2 * np.pi)
        return 0.5 * total

    res = optimize.minimize(negloglik, np.log([0.1, 0.05, 0.05]), method="Nelder-Mead",
                            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    return np.exp(res.x), -float(res.fun)


def test_nested_variance_components_equal_the_direct_likelihood():
    data = nested_data()
    record = fit_mixed(data, response="y", terms=["day"], group="patient_id", inputs="y", notes=Notes(),
                       analysis="t", ci_level=0.95, nested="lesion", reml=False)
    variances, loglik = direct_ml(data)
    assert record["log_likelihood"] == pytest.approx(loglik, abs=1e-3)
    got = [record["group_variance"], record["nested_variance"], record["residual_variance"]]
    assert got == pytest.approx(list(variances), rel=2e-3)
    assert record["n_nested"] == 180 and "(1 | patient_id:lesion)" in record["formula"]
    total = sum(got)
    assert record["icc"] == pytest.approx(got[0] / total)
    assert record["icc_nested"] == pytest.approx((got[0] + got[1]) / total)


def test_reml_recovers_the_known_variances():
    record = fit_mixed(nested_data(n_patients=120, seed=1), response="y", terms=["day"], group="patient_id",
                       inputs="y", notes=Notes(), analysis="t", ci_level=0.95, nested="lesion")
    assert record["group_variance"] == pytest.approx(PATIENT, rel=0.35)
    assert record["nested_variance"] == pytest.approx(LESION, rel=0.35)
    assert record["residual_variance"] == pytest.approx(RESIDUAL, rel=0.15)
    slope = next(f for f in record["fixed_effects"] if f["term"] == "day")
    assert slope["ci_low"] < 0.2 < slope["ci_high"]
