"""Tumour uptake: patient geometric means by hand, mixed model on data with known variance components."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunopet.analysis.inputs import patient_table
from immunopet.analysis.mixed import fit_mixed
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.record import Notes
from immunopet.analysis.tumour import tumour_uptake

PARAMS = AnalysisParams(n_boot=200, n_permutations=999)


def hand_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A: L1 measured twice on day 7 (4 and 6), L2 = 20; B: one lesion of 3; C: organs only."""
    lesion = dict(kind="lesion", hours_pi=168.0)
    rows = [
        dict(patient_id="A", scan_id="A7a", day=7, voi_id="L1", site="lung", suv_max=4.0, suv_peak=3.0, **lesion),
        dict(patient_id="A", scan_id="A7b", day=7, voi_id="L1", site="lung", suv_max=6.0, suv_peak=5.0, **lesion),
        dict(patient_id="A", scan_id="A7a", day=7, voi_id="L2", site="liver", suv_max=20.0, suv_peak=15.0, **lesion),
        dict(patient_id="A", scan_id="A2", day=2, voi_id="L1", site="lung", suv_max=2.0, suv_peak=1.5, **lesion),
        dict(patient_id="B", scan_id="B7", day=7, voi_id="L1", site="bone", suv_max=3.0, suv_peak=2.0, **lesion),
        dict(patient_id="C", scan_id="C7", day=7, voi_id="liver", site="liver", kind="organ", hours_pi=168.0,
             suv_mean=5.0),
    ]
    patients = pd.DataFrame({"patient_id": ["A", "B", "C"], "tumour_type": ["NSCLC", "NSCLC", "bladder"],
                             "best_response": ["PR", "PD", "SD"]})
    return pd.DataFrame(rows), patients


def test_patient_geometric_mean_by_hand_and_patient_without_lesions():
    measurements, patients = hand_tables()
    notes = Notes()
    table = patient_table(measurements, patients, day=7, metric="suv_max", responders=("CR", "PR"),
                          biomarkers=[], notes=notes).set_index("patient_id")
    assert table.loc["A", "pet_uptake"] == pytest.approx(np.sqrt(5.0 * 20.0))  # L1 once, as mean(4, 6)
    assert table.loc["A", "n_lesions"] == 2 and table.loc["A", "pet_range_ratio"] == pytest.approx(4.0)
    assert table.loc["A", "pet_cv"] == pytest.approx(np.std([5.0, 20.0], ddof=1) / 12.5)
    assert table.loc["B", "pet_uptake"] == pytest.approx(3.0) and np.isnan(table.loc["C", "pet_uptake"])
    assert [table.loc[p, "responder"] for p in "AB"] == [1.0, 0.0]
    assert list(table["response_class"]) == ["CR/PR", "PD", "SD"]
    assert any("C" in w["message"] and "excluded" in w["message"] for w in notes.items)


def test_mixed_model_recovers_known_variance_components():
    rng = np.random.default_rng(8)
    n_patients, per = 80, 5
    patient = np.repeat(np.arange(n_patients), per)
    kind = np.where(patient % 2 == 0, "a", "b")
    u = rng.normal(0, 0.5, n_patients)[patient]  # patient variance 0.25
    y = 1.0 + 0.4 * (kind == "b") + u + rng.normal(0, 0.3, patient.size)  # residual variance 0.09
    data = pd.DataFrame({"y": y, "kind": kind, "patient_id": patient})
    record = fit_mixed(data, response="y", terms=["C(kind)"], group="patient_id", inputs="synthetic",
                       notes=Notes(), analysis="mm", ci_level=0.95, focus="C(kind)[T.b]")
    assert record["converged"] and record["n"] == 400 and record["n_groups"] == 80
    assert record["ci_low"] < 0.4 < record["ci_high"]
    assert record["group_variance"] == pytest.approx(0.25, rel=0.35)
    assert record["residual_variance"] == pytest.approx(0.09, rel=0.15)
    assert record["icc"] == pytest.approx(0.25 / 0.34, abs=0.08)


def test_single_tumour_type_drops_the_term(cohort_22):
    _, (measurements, patients, _) = cohort_22
    patients = patients.assign(tumour_type="NSCLC")
    notes = Notes()
    table = patient_table(measurements, patients, day=7, metric="suv_max", responders=("CR", "PR"),
                          biomarkers=[], notes=notes)
    block, tables = tumour_uptake(measurements, table, params=PARAMS, notes=notes)
    terms = set(tables["mixed_uptake_fixed_effects"]["term"])
    assert not any("tumour_type" in t for t in terms) and any("site" in t for t in terms)
    assert "tumour_type" not in block["mixed_model"]["formula"]
    assert any("only one tumour_type" in w["message"] for w in notes.items)
    assert block["tumour_type_test"]["p_value"] is None


def test_simulated_trial_uptake_structure(cohort_200):
    cohort, (measurements, patients, _) = cohort_200
    notes = Notes()
    table = patient_table(measurements, patients, day=7, metric="suv_max", responders=("CR", "PR"),
                          biomarkers=[], notes=notes)
    block, tables = tumour_uptake(measurements, table, params=PARAMS, notes=notes)
    day7 = measurements[(measurements["kind"] == "lesion") & (measurements["day"] == 7)]
    gmean = np.exp(np.log(day7["suv_max"]).groupby(day7["patient_id"]).mean())
    got = tables["patient_uptake"].set_index("patient_id")["pet_uptake"]
    assert np.allclose(got.sort_index(), gmean.sort_index())
    effects = tables["mixed_uptake_fixed_effects"]
    assert (effects["n"] == (measurements["kind"] == "lesion").sum()).all() and (effects["n_patients"] == 200).all()
    fixed = effects.set_index("term")["estimate"]
    # simulator: lesion ki medians bladder 0.012 > NSCLC 0.009 > TNBC 0.007 (NSCLC is the reference); with the
    # type x day interaction the type effect on day 7 is the main effect plus its day-7 interaction
    day7_effect = {t: fixed[f"C(tumour_type)[T.{t}]"] + fixed[f"C(tumour_type)[T.{t}]:C(day_f)[T.7]"]
                   for t in ("bladder", "TNBC")}
    assert day7_effect["bladder"] > 0 > day7_effect["TNBC"]
    # site effects: lymph nodes +0.25, liver -0.20 on the log scale
    assert fixed["C(site)[T.lymph_node]"] > fixed["C(site)[T.liver]"]
    # antibody accumulates in tumours over the days
    assert fixed["C(day_f)[T.2]"] < fixed["C(day_f)[T.4]"] < fixed["C(day_f)[T.7]"]
    assert 0.2 < block["mixed_model"]["icc"] < 0.9
    # each lesion is scanned on every day: its own random intercept, nested in the patient
    assert block["mixed_model"]["nested"] == "lesion" and block["mixed_model"]["nested_variance"] > 0
    assert block["mixed_model"]["icc"] < block["mixed_model"]["icc_nested"] < 1
    assert 0.2 < block["icc_outcome_day"]["icc"] < 0.9
    assert block["n_patients"] == 200 and block["within_patient"]["n_patients"] == (got.index.map(
        tables["patient_uptake"].set_index("patient_id")["n_lesions"]) >= 2).sum()
    by_site = tables["uptake_by_site"].query("metric == 'suv_max'").set_index("site")
    assert by_site["n_lesions"].sum() == len(day7)
    lymph = day7[day7["site"] == "lymph_node"]["suv_max"]
    assert by_site.loc["lymph_node", "gmean"] == pytest.approx(np.exp(np.log(lymph).mean()))
    assert block["tumour_to_blood"]["tbr_max"]["median"] == pytest.approx(day7["tbr_max"].median())
    types = table.set_index("patient_id")["tumour_type"]
    bladder = gmean[types.reindex(gmean.index) == "bladder"]
    assert block["by_tumour_type"]["bladder"]["gmean"] == pytest.approx(np.exp(np.log(bladder).mean()))
    assert block["by_tumour_type"]["bladder"]["n"] == len(bladder)
    by_day = tables["uptake_by_day"].query("metric == 'suv_peak'").set_index("day")
    day2 = measurements[(measurements["kind"] == "lesion") & (measurements["day"] == 2)]["suv_peak"]
    assert by_day.loc[2, "median"] == pytest.approx(day2.median()) and by_day.loc[2, "n_lesions"] == len(day2)
