"""Biodistribution against the simulator's organ truth (known kinetics) and hand-built tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunopet.analysis.biodistribution import biodistribution
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.record import Notes

PARAMS = AnalysisParams(n_boot=200)


@pytest.fixture(scope="module")
def result(cohort_200):
    cohort, (measurements, _, _) = cohort_200
    notes = Notes()
    block, tables = biodistribution(measurements, params=PARAMS, notes=notes)
    return cohort, measurements, block, tables, notes


def test_organ_means_match_the_simulated_truth(result):
    cohort, _, block, tables, notes = result
    truth = cohort.organs.rename(columns={"organ": "site"}).groupby(["site", "day"])["suv_mean"].agg(
        ["mean", "std", "count"])
    got = tables["biodistribution"].set_index(["site", "day"])
    assert len(got) == len(truth) and notes.items == []
    joined = got.join(truth, rsuffix="_true")
    # 5 % log-normal measurement noise averaged over 200 patients: means within 2 %
    assert np.allclose(joined["mean"], joined["mean_true"], rtol=0.02)
    assert np.allclose(joined["sd"], joined["std"], rtol=0.15)
    assert (joined["n"] == joined["count"]).all()
    assert block["n_patients"] == 200 and "blood_pool" in block["sites"]


def test_blood_clearance_recovers_the_simulated_blood_curve(result):
    cohort, _, block, tables, _ = result
    late = cohort.organs[(cohort.organs["organ"] == "blood_pool") & (cohort.organs["hours_pi"] >= 24)]
    late = late.merge(cohort.patients[["patient_id", "dose_cohort"]], on="patient_id")
    # noise-free truth: mean of each patient's own least-squares slope of ln SUV on hours
    def truth_half_time(rows):
        slopes = [np.polyfit(g["hours_pi"], np.log(g["suv_mean"]), 1)[0] for _, g in rows.groupby("patient_id")]
        return np.log(2) / -np.mean(slopes)
    fits = {f["group"]: f for f in block["blood_clearance"]}
    assert fits["all"]["estimate"] == pytest.approx(truth_half_time(late), rel=0.03)
    for cohort_name in ("10mg", "1mg"):
        rows = late[late["dose_cohort"] == cohort_name]
        assert fits[cohort_name]["estimate"] == pytest.approx(truth_half_time(rows), rel=0.04)
        assert fits[cohort_name]["n"] == rows["patient_id"].nunique()
    # the built-in effect: the low protein dose clears faster (blood t_slow x 0.75)
    assert fits["1mg"]["ci_high"] < fits["10mg"]["ci_low"]
    assert set(tables["blood_clearance"]["group"]) == {"all", "10mg", "1mg"}


def test_organ_to_blood_ratio_and_trend(result):
    _, measurements, _, tables, _ = result
    organs = measurements[measurements["kind"] == "organ"]
    blood = organs[organs["site"] == "blood_pool"].set_index("scan_id")["suv_mean"]
    spleen = organs[organs["site"] == "spleen"]
    ratio = (spleen["suv_mean"] / spleen["scan_id"].map(blood)).groupby(spleen["day"]).mean()
    got = tables["organ_blood_ratio"].query("site == 'spleen'").set_index("day")["mean"]
    assert np.allclose(got.sort_index(), ratio.sort_index())
    trend = tables["organ_trend"].set_index("site")
    # spleen accumulates antibody (Patlak ki > 0), blood clears
    assert trend.loc["spleen", "ci_low"] > 0 and trend.loc["blood_pool", "ci_high"] < 0


def test_small_hand_table_without_blood_pool():
    rows = pd.DataFrame({
        "patient_id": ["A", "A", "B", "B"], "scan_id": ["A1", "A2", "B1", "B2"], "day": [2, 7, 2, 7],
        "hours_pi": [48, 168, 48, 168], "voi_id": "liver", "kind": "organ", "site": "liver",
        "suv_mean": [4.0, 6.0, 5.0, 9.0], "dose_cohort": "10mg", "tumour_type": "NSCLC",
    })
    notes = Notes()
    block, tables = biodistribution(rows, params=PARAMS, notes=notes)
    day2 = tables["biodistribution"].set_index("day").loc[2]
    assert (day2["n"], day2["mean"], day2["median"], day2["min"], day2["max"]) == (2, 4.5, 4.5, 4.0, 5.0)
    assert day2["sd"] == pytest.approx(np.std([4.0, 5.0], ddof=1))
    assert block["blood_clearance"][0]["p_value"] is None
    assert {w["analysis"] for w in notes.items} >= {"biodistribution.organ_blood_ratio",
                                                     "biodistribution.blood_clearance[all]"}
