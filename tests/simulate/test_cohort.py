"""The cohort draw: composition, determinism, internal consistency and the built-in PET effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from immunopet.simulate import draw_cohort
from immunopet.simulate.cohort import LESION_COLUMNS, PATIENT_COLUMNS, allocate_types, scan_label

SITES = {"lung", "liver", "lymph_node", "bone", "adrenal", "soft_tissue", "bladder_wall"}


@pytest.fixture(scope="module")
def cohort():
    return draw_cohort(22, 0)


@pytest.fixture(scope="module")
def large():
    return draw_cohort(300, 11)


def test_default_cohort_mirrors_the_seed_study_design(cohort):
    assert list(cohort.patients.columns) == PATIENT_COLUMNS
    assert cohort.patients["tumour_type"].value_counts().to_dict() == {"bladder": 9, "NSCLC": 9, "TNBC": 4}
    assert cohort.patients["patient_id"].tolist() == [f"P{k:02d}" for k in range(1, 23)]
    assert set(cohort.patients.loc[cohort.patients.tumour_type == "TNBC", "sex"]) == {"F"}
    assert cohort.subjects["injected_bq"].between(33e6, 41e6).all()
    assert sorted(cohort.scans["day"].unique()) == [0.04, 2.0, 4.0, 7.0]


def test_allocation_keeps_every_type_when_it_can():
    assert allocate_types(5, {"bladder": 9, "NSCLC": 9, "TNBC": 4}).count("TNBC") == 1
    assert len(allocate_types(200, {"a": 1, "b": 1})) == 200
    assert scan_label(0.04) == "H1" and scan_label(7) == "D7" and scan_label(2.5) == "D2p5"


def test_same_seed_same_cohort_and_other_seed_differs(cohort):
    again = draw_cohort(22, 0)
    pd.testing.assert_frame_equal(cohort.patients, again.patients)
    pd.testing.assert_frame_equal(cohort.lesions, again.lesions)
    assert not draw_cohort(22, 1).lesions["ki"].equals(cohort.lesions["ki"])


def test_a_patient_does_not_depend_on_cohort_size():
    small, big = draw_cohort(3, 5), draw_cohort(30, 5)
    common = big.subjects.set_index("patient_id").loc[small.subjects["patient_id"], "weight_kg"]
    assert np.allclose(common.to_numpy(), small.subjects["weight_kg"].to_numpy())


def test_lesions_are_plausible(large):
    les = large.lesions
    assert list(les.columns[: len(LESION_COLUMNS)]) == LESION_COLUMNS
    assert les["baseline_diameter_mm"].between(10.0, 60.0).all()
    assert set(les["site"]) <= SITES
    per_patient = les.groupby("patient_id").size()
    assert per_patient.min() >= 1 and per_patient.max() <= 8
    assert (les.groupby("patient_id")["voi_id"].first() == "L1").all()
    # SUVmean / SUVmax of the parabolic profile 1 - h r^2 with an optional necrotic core r < c:
    # max 1 - h c^2, mean (1 - c^3) - 3 h (1 - c^5) / 5 + 0.15 c^3 (1 - 0.6 h without a core)
    h, c = les["heterogeneity"], les["necrotic_core"]
    ratio = les["suv_mean_day7"] / les["suv_max_day7"]
    assert np.allclose(ratio, ((1 - c**3) - 0.6 * h * (1 - c**5) + 0.15 * c**3) / (1 - h * c**2))
    plain = c == 0
    assert np.allclose(ratio[plain], 1.0 - 0.6 * h[plain])
    assert 0.1 < (c > 0).mean() < 0.4 and 0.15 < (les["lobes"] > 0).mean() < 0.45
    assert ((les["lobes"] > 0) & (c > 0)).sum() == 0  # cores only in plain ellipsoids


def test_uptake_is_heterogeneous_between_and_within_patients(large):
    log_uptake = np.log(large.lesions["suv_max_outcome"])
    groups = [g.to_numpy() for _, g in log_uptake.groupby(large.lesions["patient_id"]) if len(g) > 1]
    within = np.mean([np.var(g, ddof=1) for g in groups])
    assert within > 0.05  # lesions of one patient differ
    patient_means = log_uptake.groupby(large.lesions["patient_id"]).mean()
    assert patient_means.var() > within / 2  # and patients differ more than lesion noise alone
    by_type = large.patients.merge(large.subjects, on="patient_id").groupby("tumour_type")["true_uptake"].median()
    assert by_type["bladder"] > by_type["TNBC"]


def test_best_pct_change_is_the_change_of_the_sum_of_diameters(large):
    les, pts = large.lesions, large.patients.set_index("patient_id")
    after = (les["baseline_diameter_mm"] * (1 + les["pct_change"] / 100)).groupby(les["patient_id"]).sum()
    before = les.groupby("patient_id")["baseline_diameter_mm"].sum()
    expected = (100 * (after / before - 1)).round(1)
    evaluable = pts["best_response"] != "NE"
    assert np.allclose(pts.loc[evaluable, "best_pct_change"], expected[evaluable[evaluable].index], atol=0.15)
    assert pts.loc[~evaluable, "best_pct_change"].isna().all()


def test_recist_classes_follow_the_size_change(large):
    pts = large.patients
    assert set(pts["best_response"]) <= {"CR", "PR", "SD", "PD", "NE"}
    assert (pts.loc[pts.best_response == "PR", "best_pct_change"] <= -30).all()
    assert (pts.loc[pts.best_response == "CR", "best_pct_change"] == -100).all()
    sd = pts.loc[pts.best_response == "SD", "best_pct_change"]
    assert sd.between(-30, 20).all()
    assert (pts.loc[pts.best_pct_change >= 20, "best_response"] == "PD").all()


def test_survival_is_consistent(large):
    pts = large.patients
    assert (pts["pfs_months"] <= pts["os_months"]).all()
    assert set(pts["pfs_event"]) <= {0, 1} and set(pts["os_event"]) <= {0, 1}
    assert 0 < pts["os_event"].mean() < 1  # some patients are censored
    assert pts["ihc_ic"].between(0, 3).all() and pts["ihc_tc"].between(0, 3).all()


def test_pet_predicts_outcome_better_than_ihc_and_rna(large):
    pts = large.patients.merge(large.subjects, on="patient_id")
    evaluable = pts[pts.best_response != "NE"]
    rho_pet = stats.spearmanr(evaluable["true_uptake"], evaluable["best_pct_change"])[0]
    rho_ihc = stats.spearmanr(evaluable["ihc_ic"], evaluable["best_pct_change"])[0]
    assert rho_pet < -0.3 and rho_pet < rho_ihc


def test_organ_kinetics_show_blood_clearance_and_antigen_sinks(large):
    mean = large.organs.groupby(["organ", "day"])["suv_mean"].mean().unstack()
    assert mean.loc["blood_pool", 0.04] > 3 * mean.loc["blood_pool", 7.0]
    assert mean.loc["spleen", 7.0] > mean.loc["spleen", 0.04]
    assert mean.loc["bone_marrow", 7.0] > mean.loc["bone_marrow", 0.04]
    assert mean.loc["spleen", 7.0] > mean.loc["liver", 7.0] > mean.loc["muscle", 7.0] > mean.loc["brain", 7.0]
    # inter-patient variation
    assert large.organs.query("organ == 'liver' and day == 7")["suv_mean"].std() > 0.3
    # the low protein dose cohort has more uptake in the spleen
    spleen = large.organs.query("organ == 'spleen' and day == 7").merge(large.patients, on="patient_id")
    by_dose = spleen.groupby("dose_cohort")["suv_mean"].median()
    assert by_dose["1mg"] > by_dose["10mg"]


def test_balanced_selection_covers_types_and_response_classes():
    for seed in range(5):
        picked = draw_cohort(5, seed, balanced=True).patients
        assert len(picked) == 5 and set(picked["tumour_type"]) == {"bladder", "NSCLC", "TNBC"}
        groups = picked["best_response"].replace({"CR": "resp", "PR": "resp"})
        assert (groups == "resp").sum() >= 2 and {"PD"} <= set(groups) and "NE" not in set(groups)
        pool = draw_cohort(40, seed).patients.set_index("patient_id")
        same = pool.loc[picked["patient_id"]].reset_index()
        pd.testing.assert_frame_equal(same, picked)  # the selection keeps each patient's draw


def test_days_that_would_share_a_scan_id_are_an_error():
    from immunopet.errors import ImmunoPETError

    with pytest.raises(ImmunoPETError, match="same scan id"):
        draw_cohort(2, 0, days=(0.04, 0.05, 7))
