"""The clinical model over many patients: response rates per tumour type, the assessment schedule of
PFS, mixed responses, the built-in PET effect, and the null scenario's type-I error."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from immunopet.analysis.comparisons import mann_whitney
from immunopet.simulate import draw_cohort
from immunopet.simulate.clinical import WEEK_MONTHS, _observed, _seen

#: Objective response rates of atezolizumab monotherapy (IMvigor210, OAK, PCD4989g).
PUBLISHED_ORR = {"bladder": 0.15, "NSCLC": 0.14, "TNBC": 0.10}


@pytest.fixture(scope="module")
def trial():
    cohort = draw_cohort(2000, 21)
    return cohort, cohort.patients.merge(cohort.subjects, on="patient_id")


def test_response_rates_per_type_are_the_published_ones_within_binomial_noise(trial):
    _, pts = trial
    for tumour_type, rate in PUBLISHED_ORR.items():
        group = pts[pts.tumour_type == tumour_type]
        observed = group["best_response"].isin(["CR", "PR"]).mean()
        assert abs(observed - rate) <= 3 * np.sqrt(rate * (1 - rate) / len(group)), (tumour_type, observed)


def test_no_progression_before_the_first_assessment_at_6_to_9_weeks(trial):
    _, pts = trial
    first = pts["first_assessment_months"]
    assert first.between(6 * WEEK_MONTHS - 1e-3, 9 * WEEK_MONTHS + 1e-3).all()
    events = pts[pts.pfs_event == 1]
    assert (events["pfs_months"] >= events["first_assessment_months"] - 0.01).all()
    # progressions are seen at assessments: first + k * 9 weeks
    k = (events["pfs_months"] - events["first_assessment_months"]) / (9 * WEEK_MONTHS)
    assert np.allclose(k, np.round(k), atol=0.01)
    pd_ = pts[(pts.best_response == "PD") & (pts.pfs_event == 1)]
    assert np.allclose(pd_["pfs_months"], pd_["first_assessment_months"], atol=0.01)
    assert (pts["os_months"] >= pts["pfs_months"] - 0.01).all()


def test_assessment_schedule_arithmetic():
    interval = 9 * WEEK_MONTHS
    assert _seen(1.5, 1.0, interval) == 1.5  # before the first assessment: seen there
    assert _seen(1.5, 1.6, interval) == pytest.approx(1.5 + interval)
    assert _observed(1.5, 1.5 + interval, 10.0, interval) == (pytest.approx(1.5 + interval), 1)
    assert _observed(1.5, 1.5 + 3 * interval, 1.5 + 1.2 * interval, interval) == (pytest.approx(1.5 + interval), 0)
    assert _observed(1.5, 3.0, 0.4, interval) == (0.4, 0)  # lost before any assessment


def test_lesions_respond_differently_within_a_patient(trial):
    cohort, _ = trial
    les = cohort.lesions.dropna(subset=["pct_change"])
    groups = les.groupby("patient_id")["pct_change"]
    within, between = groups.var(ddof=1).mean(), groups.mean().var()
    icc = between / (between + within)
    assert 0.5 < icc < 0.85
    shrink = les["pct_change"] <= -30
    grow = les["pct_change"] >= 20
    mixed = (shrink.groupby(les["patient_id"]).any() & grow.groupby(les["patient_id"]).any()).mean()
    assert mixed > 0.05


def test_default_pet_effect_gives_an_auc_of_about_075(trial):
    _, pts = trial
    evaluable = pts[pts.best_response != "NE"]
    responder = evaluable["best_response"].isin(["CR", "PR"])
    auc_pet = roc_auc_score(responder, evaluable["true_uptake"])
    assert 0.70 < auc_pet < 0.80
    assert auc_pet > roc_auc_score(responder, evaluable["ihc_ic"]) + 0.03
    assert auc_pet > roc_auc_score(responder, evaluable["rna_teff"]) + 0.03


def test_null_scenario_rejects_at_the_nominal_rate():
    """100 trials of 22 patients under ``beta_pet: 0``: the AUC of the true uptake for response is
    0.5 on average and its Mann-Whitney test (the test of AUC = 0.5) rejects in at most 5 % plus
    binomial noise; pooled over all trials the AUC is 0.5 within 3 standard errors."""
    cohort = draw_cohort(2200, 5, scenario="null")
    pts = cohort.patients.merge(cohort.subjects, on="patient_id")
    rejected, estimates = [], []
    for k in range(100):
        trial = pts.iloc[22 * k: 22 * (k + 1)]
        trial = trial[trial.best_response != "NE"]
        responder = trial["best_response"].isin(["CR", "PR"]).to_numpy()
        result = mann_whitney(trial["true_uptake"].to_numpy()[responder], trial["true_uptake"].to_numpy()[~responder],
                              inputs="true uptake by response", exact_max_n=50, seed=k)
        if result["p_value"] is None:
            continue
        rejected.append(result["p_value"] < 0.05)
        estimates.append(result["estimate"])
    assert len(rejected) >= 80
    assert np.mean(rejected) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / len(rejected))
    assert abs(np.mean(estimates) - 0.5) < 0.04
    evaluable = pts[pts.best_response != "NE"]
    responder = evaluable["best_response"].isin(["CR", "PR"])
    n1, n0 = responder.sum(), (~responder).sum()
    se = np.sqrt((n1 + n0 + 1) / (12 * n1 * n0))  # SE of the AUC under H0 (Mann-Whitney)
    assert abs(roc_auc_score(responder, evaluable["true_uptake"]) - 0.5) < 3 * se
