"""Schoenfeld test, stratified Cox, likelihood-ratio tests, C-index, RMST and piecewise hazard ratios.

References: lifelines' Rossi example ("Testing the proportional hazard assumptions" in the lifelines
documentation, Rossi data shipped with lifelines), whose check_assumptions output lists the
Schoenfeld statistics age 11.03 (km) / 11.45 (rank) and wexp 7.48 / 7.31; Fox & Weisberg (2011),
Rossi model likelihood-ratio test 33.27 on 7 df.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_rossi
from lifelines.statistics import logrank_test
from lifelines.utils import concordance_index, restricted_mean_survival_time

from immunopet.analysis.cox_checks import concordance_interval, harrell_c, null_log_likelihood
from immunopet.analysis.cutoffs import logrank_chi2
from immunopet.analysis.nonproportional import episodes, km_rmst, piecewise_hr
from immunopet.analysis.record import Notes
from immunopet.analysis.survival import cox_fit

COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


@pytest.fixture(scope="module")
def rossi():
    return load_rossi().rename(columns={"week": "os_months", "arrest": "os_event"})


def test_schoenfeld_and_likelihood_ratio_on_rossi(rossi):
    record = cox_fit(rossi, endpoint="os", covariates=COVARIATES)
    chi2 = record["ph_test_p_by_covariate"]
    # rank transform: age chi2 11.45, wexp 7.31 (lifelines documentation)
    assert record["ph_transform"] == "rank"
    from scipy import stats
    assert stats.chi2.isf(chi2["age"], 1) == pytest.approx(11.45, abs=0.01)
    assert stats.chi2.isf(chi2["wexp"], 1) == pytest.approx(7.31, abs=0.01)
    assert record["ph_test_p"] == chi2["fin"] and record["ph_test_p"] > 0.5  # fin: proportional
    assert record["lr_chi2"] == pytest.approx(33.27, abs=0.01) and record["lr_df"] == 7
    notes = Notes()
    cox_fit(rossi, endpoint="os", covariates=["age", "fin"], notes=notes, analysis="rossi")
    assert any("proportional hazards rejected for age" in n["message"] for n in notes.items)


def test_stratified_cox_on_rossi(rossi):
    record = cox_fit(rossi, endpoint="os", covariates=[c for c in COVARIATES if c != "wexp"], strata=["wexp"])
    # lifelines' example: cph.fit(rossi, 'week', 'arrest', strata=['wexp']); fin -0.38 (0.19), age -0.06 (0.02)
    reference = CoxPHFitter().fit(load_rossi(), "week", "arrest", strata=["wexp"])
    coefficients = {row["covariate"]: row for row in record["coefficients"]}
    for name in ("fin", "age", "race", "mar", "paro", "prio"):
        assert coefficients[name]["coef"] == pytest.approx(reference.params_[name], abs=1e-6)
    assert coefficients["fin"]["coef"] == pytest.approx(-0.380, abs=1e-3)
    assert coefficients["age"]["se"] == pytest.approx(0.0221, abs=1e-4)
    assert record["strata"] == ["wexp"] and "strata(wexp)" in record["inputs"]
    # the stratified null likelihood is the sum of each stratum's own
    by_stratum = sum(null_log_likelihood(g["os_months"], g["os_event"]) for _, g in rossi.groupby("wexp"))
    assert null_log_likelihood(rossi["os_months"], rossi["os_event"], rossi["wexp"].to_numpy()) == \
        pytest.approx(by_stratum)
    assert record["lr_chi2"] == pytest.approx(2 * (reference.log_likelihood_ - by_stratum))
    # the first covariate given the others: refit without it
    reduced = CoxPHFitter().fit(load_rossi().drop(columns=["fin"]), "week", "arrest", strata=["wexp"])
    from scipy import stats
    assert record["lr_p_first"] == pytest.approx(
        stats.chi2.sf(2 * (reference.log_likelihood_ - reduced.log_likelihood_), 1))


def test_null_likelihood_by_hand_with_ties():
    # times 1, 1, 2, 3 (events at 1, 1, 3): at t=1 two tied events among 4 at risk -> -(log 4 + log 3);
    # at t=3 one event among 1 -> -log 1
    assert null_log_likelihood(np.array([1, 1, 2, 3.0]), np.array([1, 1, 0, 1])) == pytest.approx(
        -np.log(4) - np.log(3))


def test_harrell_c_and_its_bootstrap(rossi):
    risk = rossi["prio"].to_numpy() + 0.1 * rossi["age"].to_numpy()
    c = harrell_c(rossi["os_months"], rossi["os_event"], risk)
    assert c == pytest.approx(concordance_index(rossi["os_months"], -risk, rossi["os_event"]))
    c2, low, high = concordance_interval(rossi["os_months"], rossi["os_event"], risk, n_boot=300, seed=1, ci_level=0.95)
    assert c2 == c and low < c < high and high - low < 0.15


def test_vectorised_logrank_equals_lifelines(rossi):
    t, e = rossi["os_months"].to_numpy(), rossi["os_event"].to_numpy()
    splits = np.array([rossi["fin"].to_numpy() == 1, rossi["age"].to_numpy() > 25])
    got = logrank_chi2(t, e, splits)
    for chi2, high in zip(got, splits, strict=True):
        assert chi2 == pytest.approx(logrank_test(t[high], t[~high], e[high], e[~high]).test_statistic)


def test_rmst_and_its_variance():
    t = np.array([2.0, 3, 3, 5, 8, 9, 12])
    e = np.array([1, 1, 0, 1, 0, 1, 1])
    rmst, var = km_rmst(t, e, 10.0)
    kmf = KaplanMeierFitter().fit(t, e)
    assert rmst == pytest.approx(restricted_mean_survival_time(kmf, t=10.0))
    # Greenwood-type variance by hand: event times 2 (7 at risk), 3 (6), 5 (4), 9 (2); A_j = area from t_j to 10
    s = {2: 6 / 7, 3: 6 / 7 * 5 / 6, 5: 6 / 7 * 5 / 6 * 3 / 4, 9: 6 / 7 * 5 / 6 * 3 / 4 * 1 / 2}
    area = {9: s[9] * 1, 5: s[5] * 4 + s[9] * 1, 3: s[3] * 2 + s[5] * 4 + s[9], 2: s[2] * 1 + s[3] * 2 + s[5] * 4 + s[9]}
    by_hand = sum(area[k] ** 2 * 1 / (n * (n - 1)) for k, n in ((2, 7), (3, 6), (5, 4), (9, 2)))
    assert var == pytest.approx(by_hand)


def test_piecewise_hazard_ratio_recovers_a_known_change():
    rng = np.random.default_rng(3)
    n = 1500
    x = rng.normal(size=n)
    # hazard 0.3 exp(log(0.4) x) before month 3 and 0.3 exp(0 * x) after: simulate by the two pieces
    early = rng.exponential(1 / (0.3 * np.exp(np.log(0.4) * x)))
    late = 3.0 + rng.exponential(1 / (0.3 * np.ones(n)))
    t = np.where(early < 3.0, early, late)
    censor = rng.uniform(6, 20, n)
    data = pd.DataFrame({"T": np.minimum(t, censor), "E": (t <= censor).astype(float), "x": x})
    long = episodes(data.reset_index().rename(columns={"index": "pid"}), "x", 3.0)
    assert len(long) == n + (data["T"] > 3).sum()
    record = piecewise_hr(data, column="x", cut=3.0, strata=[], ci_level=0.95, notes=Notes(), analysis="t",
                          inputs="t", per="per SD")
    assert record["early"]["ci_low"] < 0.4 < record["early"]["ci_high"]
    assert record["late"]["ci_low"] < 1.0 < record["late"]["ci_high"]
    assert record["p_equal"] < 1e-6
