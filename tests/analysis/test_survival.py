"""Survival wiring: Cox against the published Rossi coefficients, Kaplan-Meier against hand calculation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from immunopet.analysis.record import Notes
from immunopet.analysis.survival import cox_fit, km_split

#: Fox & Weisberg (2011), "Cox Proportional-Hazards Regression for Survival Data in R", appendix to
#: An R Companion to Applied Regression, 2nd ed.: coxph(Surv(week, arrest) ~ fin + age + race + wexp +
#: mar + paro + prio), coefficients and standard errors as printed there.
ROSSI_PUBLISHED = {
    "fin": (-0.379, 0.191), "age": (-0.0574, 0.0220), "race": (0.314, 0.308), "wexp": (-0.150, 0.212),
    "mar": (-0.434, 0.382), "paro": (-0.0849, 0.196), "prio": (0.0915, 0.0286),
}


def rossi_patients() -> pd.DataFrame:
    """The Rossi data mapped onto immunopet's patient-table columns (os = weeks to arrest)."""
    rossi = load_rossi()
    return rossi.rename(columns={"week": "os_months", "arrest": "os_event"}).assign(
        patient_id=[f"R{i:03d}" for i in range(len(rossi))])


def test_cox_reproduces_published_rossi_coefficients():
    record = cox_fit(rossi_patients(), endpoint="os", covariates=list(ROSSI_PUBLISHED))
    assert record["n"] == 432 and record["events"] == 114
    coefficients = {row["covariate"]: row for row in record["coefficients"]}
    for name, (coef, se) in ROSSI_PUBLISHED.items():
        assert coefficients[name]["coef"] == pytest.approx(coef, abs=6e-4), name
        assert coefficients[name]["se"] == pytest.approx(se, abs=6e-4), name
        assert coefficients[name]["hazard_ratio"] == pytest.approx(np.exp(coefficients[name]["coef"]))
    # the headline is the first covariate: published exp(coef) 0.684, 95 % CI 0.470-0.996
    assert record["estimate"] == pytest.approx(0.684, abs=1e-3)
    assert (record["ci_low"], record["ci_high"]) == pytest.approx((0.470, 0.996), abs=1e-3)
    assert record["p_value"] == pytest.approx(0.047, abs=1e-3)


def test_cox_log2_covariate_is_per_doubling():
    patients = rossi_patients()
    on_log2 = cox_fit(patients, endpoint="os", covariates=["age"], log2=["age"])
    direct = cox_fit(patients.assign(age=np.log2(patients["age"])), endpoint="os", covariates=["age"])
    assert on_log2["estimate_label"] == "hazard ratio per doubling"
    assert on_log2["estimate"] == pytest.approx(direct["estimate"], rel=1e-9)


def small_km_patients() -> pd.DataFrame:
    """Group high: deaths at 1..5; group low: 2, 4, 8 deaths, 6 and 10 censored."""
    return pd.DataFrame({"patient_id": [f"P{i}" for i in range(10)], "marker": [10.0] * 5 + [1.0] * 5,
                         "os_months": [1, 2, 3, 4, 5, 2, 4, 6, 8, 10], "os_event": [1, 1, 1, 1, 1, 1, 1, 0, 1, 0]})


def hand_logrank(patients: pd.DataFrame) -> float:
    """Mantel-Haenszel log-rank chi-square computed from its definition."""
    high = patients["marker"] > 5
    observed = expected = variance = 0.0
    for t in sorted(patients.loc[patients["os_event"] == 1, "os_months"].unique()):
        at_risk = patients["os_months"] >= t
        deaths = (patients["os_months"] == t) & (patients["os_event"] == 1)
        n, d = at_risk.sum(), deaths.sum()
        n1, d1 = (at_risk & high).sum(), (deaths & high).sum()
        observed += d1
        expected += d * n1 / n
        variance += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1) if n > 1 else 0.0
    return (observed - expected) ** 2 / variance


def test_kaplan_meier_medians_at_risk_and_logrank_by_hand():
    patients = small_km_patients()
    notes = Notes()
    record, curves, at_risk = km_split(patients, endpoint="os", column="marker", split="median", times=[0, 3, 6, 9],
                                       ci_level=0.95, notes=notes, analysis="km", min_group=3)
    assert record["split_value"] == 5.5
    # S_high: 0.8, 0.6, 0.4 at t=3 -> median 3; S_low: 0.8 (t2), 0.6 (t4), 0.3 (t8) -> median 8
    assert record["groups"]["high"]["median"] == 3.0
    assert record["groups"]["low"]["median"] == 8.0
    assert record["groups"]["low"]["events"] == 3 and record["groups"]["high"]["n"] == 5
    low = curves[curves["group"] == "low"].set_index("time")["survival"]
    assert low[8.0] == pytest.approx(0.8 * 0.75 * 0.5)
    risk = at_risk.set_index(["group", "time"])["at_risk"]
    assert [risk["high", t] for t in (0, 3, 6, 9)] == [5, 3, 0, 0]
    assert [risk["low", t] for t in (0, 3, 6, 9)] == [5, 4, 3, 1]
    chi2 = hand_logrank(patients)
    assert record["statistic"] == pytest.approx(chi2, rel=1e-9)
    from scipy import stats
    assert record["p_value"] == pytest.approx(stats.chi2.sf(chi2, 1), rel=1e-9)
    assert notes.items == []


def test_all_censored_gives_no_p_value_but_a_warning():
    patients = small_km_patients().assign(os_event=0)
    notes = Notes()
    record, curves, _ = km_split(patients, endpoint="os", column="marker", split="median", times=None,
                                 ci_level=0.95, notes=notes, analysis="km", min_group=3)
    cox = cox_fit(patients, endpoint="os", covariates=["marker"], notes=notes, analysis="cox")
    assert record["p_value"] is None and record["n"] == 10 and "no events" in record["reason"]
    assert cox["p_value"] is None and cox["estimate"] is None and cox["n"] == 10
    assert {w["analysis"] for w in notes.items} == {"km", "cox"}
    assert (curves["survival"] == 1.0).all()


def test_few_events_and_ties_warn_but_fit():
    patients = small_km_patients().assign(os_months=[1, 1, 2, 2, 3, 1, 2, 2, 3, 3])  # tied times
    notes = Notes()
    cox = cox_fit(patients, endpoint="os", covariates=["marker"], notes=notes, analysis="cox",
                  min_events_per_covariate=10)
    assert cox["events"] == 8 and cox["estimate"] > 0
    assert any("events for 1 covariate" in w["message"] for w in notes.items)


def test_separated_data_record_the_convergence_problem():
    patients = pd.DataFrame({"marker": [1.0, 2, 3, 4, 5, 6], "os_months": [1.0, 2, 3, 10, 11, 12],
                             "os_event": [1, 1, 1, 0, 0, 0]})
    notes = Notes()
    record = cox_fit(patients, endpoint="os", covariates=["marker"], notes=notes, analysis="cox")
    assert record["n"] == 6 and record["events"] == 3
    assert record["convergence_warnings"]  # lifelines reports the separation; it is recorded, not hidden
    assert any("convergence" in w["message"] for w in notes.items)
