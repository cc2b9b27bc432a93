"""The whole analysis on simulated trials with a known built-in effect, its JSON layout and edge cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from immunopet.analysis import AnalysisParams, analyze
from immunopet.errors import AnalysisError

FAST = AnalysisParams(n_boot=200, n_permutations=999, seed=4)
SECTIONS = {"schema_version", "parameters", "inputs", "warnings", "key_results", "biodistribution", "tumour_uptake",
            "outcome", "biomarkers", "kinetics", "multiplicity"}
TABLES = {"biodistribution", "biodistribution_by_cohort", "biodistribution_by_type", "organ_blood_ratio",
          "organ_trend", "blood_clearance", "lesion_uptake", "patient_uptake", "uptake_by_type", "uptake_by_site",
          "uptake_by_day", "mixed_uptake_fixed_effects", "lesion_response", "mixed_lesion_response_fixed_effects",
          "predictor_comparison", "auc_comparison", "pet_biomarker_correlation", "roc_curves", "km_curves",
          "km_at_risk", "time_activity", "blood_input", "patlak", "tiac", "dosimetry_tiac", "to_blood_by_day",
          "median_curves", "cutoff_scan"}


def stat_records(node):
    if isinstance(node, dict):
        if "test" in node and "p_value" in node:
            yield node
        for value in node.values():
            yield from stat_records(value)
    elif isinstance(node, list):
        for value in node:
            yield from stat_records(value)


@pytest.fixture(scope="module")
def large(cohort_200):
    _, (measurements, patients, lesions) = cohort_200
    return analyze(measurements, patients, lesions, FAST)


@pytest.fixture(scope="module")
def default(cohort_22):
    _, (measurements, patients, lesions) = cohort_22
    return analyze(measurements, patients, lesions, FAST)


@pytest.mark.parametrize("which", ["large", "default"])
def test_pet_outranks_ihc_and_higher_uptake_lowers_the_hazard(which, request):
    result = request.getfixturevalue(which)
    comparison = result.tables["predictor_comparison"].set_index("predictor")
    assert comparison.loc["pet_uptake", "auc"] > comparison.loc["ihc_ic", "auc"]
    assert comparison.loc["pet_uptake", "auc"] > comparison.loc["ihc_tc", "auc"]
    for endpoint in ("os", "pfs"):
        assert comparison.loc["pet_uptake", f"{endpoint}_hr"] < 1
        assert comparison.loc["pet_uptake", f"{endpoint}_hr_ci_high"] < 1
    assert comparison.loc["pet_uptake", "spearman_rho"] < 0  # more uptake, more shrinkage


def test_large_trial_recovers_the_ranking_with_confidence(large, cohort_200):
    cohort, (_, patients, _) = cohort_200
    summary = large.summary
    pet = summary["outcome"]
    assert pet["response"]["auc"]["ci_low"] > 0.75
    paired = {d["predictor"]: d for d in summary["biomarkers"]["auc_vs_pet"]}
    for marker in ("ihc_ic", "ihc_tc", "rna_cd274", "rna_teff"):
        assert paired[marker]["ci_low"] > 0, marker  # PET's AUC is higher, paired over the same patients
    assert pet["lesion_level"]["mixed_model"]["ci_high"] < 0
    # within a patient, pct change falls 20 per unit ln(lesion / patient mean) (simulator): -13.9 per doubling,
    # attenuated a little by measurement noise; between patients far steeper (through the patient's benefit)
    lesion = pet["lesion_level"]["mixed_model"]
    assert -20 < lesion["estimate"] < -8 and lesion["between"]["estimate"] < 2 * lesion["estimate"]
    evaluable = patients["best_response"].isin(["CR", "PR", "SD", "PD"])
    assert pet["response"]["auc"]["n"] == evaluable.sum()
    assert summary["inputs"]["n_responders"] == patients["best_response"].isin(["CR", "PR"]).sum()
    # the survival split is at the median: halves of the 200 patients
    groups = pet["survival"]["os"]["logrank"]["groups"]
    assert groups["high"]["n"] == groups["low"]["n"] == 100
    # PET correlates only weakly with IHC by construction (latent correlation 0.3)
    rho = {c["predictor"]: c for c in summary["biomarkers"]["pet_correlation"]}
    assert 0 < rho["ihc_ic"]["estimate"] < 0.5


def test_summary_layout_and_json(default, tmp_path):
    summary = default.summary
    assert SECTIONS <= set(summary)
    assert set(default.tables) == TABLES
    params = summary["parameters"]
    assert (params["day"], params["metric"], params["split"], params["n_boot"], params["seed"]) == \
           (7.0, "suv_max", "median", 200, 4)
    records = list(stat_records(summary))
    assert len(records) > 50
    for record in records:  # no p-value without its n
        assert isinstance(record["n"], int)
        if record["p_value"] is not None:
            assert 0 <= record["p_value"] <= 1
    for key in summary["key_results"]:
        assert {"name", "n", "estimate", "ci_low", "ci_high", "p_value"} <= set(key)
    path = default.write(tmp_path)
    loaded = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert loaded["outcome"]["response"]["auc"]["estimate"] == summary["outcome"]["response"]["auc"]["estimate"]
    for name in TABLES:
        assert (tmp_path / f"{name}.csv").is_file()
    km = default.tables["km_curves"]
    assert set(km["predictor"]) == {"pet_uptake", "ihc_ic", "ihc_tc", "rna_cd274", "rna_teff", "pet_ki"}
    roc = default.tables["roc_curves"].query("predictor == 'pet_uptake'")
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(summary["outcome"]["response"]["auc"]["estimate"])
    # small trial: exact Mann-Whitney for PET, permutation for tied IHC scores
    comparison = default.tables["predictor_comparison"].set_index("predictor")
    assert comparison.loc["pet_uptake", "mw_method"] == "exact"
    assert comparison.loc["ihc_ic", "mw_method"].startswith("exact with ties (all ")


def test_ki_rows_of_the_comparison_tables_are_its_records(default):
    """The Patlak Ki rows of predictor_comparison.csv and auc_comparison.csv carry the numbers of
    kinetics.ki_predictor, and the AUC difference is AUC(PET) - AUC(Ki) of the same table."""
    ki = default.summary["kinetics"]["ki_predictor"]
    comparison = default.tables["predictor_comparison"].set_index("predictor")
    row = comparison.loc["pet_ki"]
    auc = ki["response"]["auc"]
    assert (row["n"], row["auc_n"]) == (ki["n"], auc["n"])
    assert (row["auc"], row["auc_ci_low"], row["auc_ci_high"]) == pytest.approx(
        (auc["estimate"], auc["ci_low"], auc["ci_high"]))
    assert row["mw_p"] == pytest.approx(ki["response"]["mann_whitney"]["p_value"])
    for endpoint, result in ki["survival"].items():
        assert row[f"{endpoint}_hr"] == pytest.approx(result["cox"]["estimate"])
        assert row[f"{endpoint}_hr_adjusted"] == pytest.approx(result["cox_adjusted"]["estimate"])
    assert list(comparison.index[:1]) == ["pet_uptake"] and comparison.index[-1] == "pet_ki"
    diff = default.tables["auc_comparison"].set_index("predictor").loc["pet_ki"]
    record = ki["auc_vs_pet"]
    assert diff["n"] == record["n"]
    for column, key in (("auc_difference", "estimate"), ("ci_low", "ci_low"), ("ci_high", "ci_high"),
                        ("p_value", "p_value"), ("delong_p", "delong_p"), ("bootstrap_p", "bootstrap_p")):
        assert diff[column] == pytest.approx(record[key]), column
    if record["n"] == auc["n"] == comparison.loc["pet_uptake", "auc_n"]:  # the same patients: AUCs subtract
        assert diff["auc_difference"] == pytest.approx(comparison.loc["pet_uptake", "auc"] - row["auc"])
    assert "pet_ki" not in {r["predictor"] for r in default.summary["biomarkers"]["auc_vs_pet"]}


def test_all_censored_no_survival_p_values(cohort_22):
    _, (measurements, patients, lesions) = cohort_22
    result = analyze(measurements, patients.assign(os_event=0, pfs_event=0), lesions, FAST)
    for endpoint in ("os", "pfs"):
        survival = result.summary["outcome"]["survival"][endpoint]
        assert survival["cox"]["p_value"] is None and survival["logrank"]["p_value"] is None
        assert survival["cox"]["n"] == 22
    assert any("no events" in w["message"] for w in result.warnings)


def test_missing_biomarker_values_and_absent_biomarker(cohort_22):
    _, (measurements, patients, lesions) = cohort_22
    patients = patients.copy()
    patients.loc[patients.index[:5], "ihc_ic"] = np.nan
    patients = patients.drop(columns=["rna_teff"])
    result = analyze(measurements, patients, lesions, FAST)
    block = result.summary["biomarkers"]
    assert block["predictors"]["ihc_ic"]["n"] == 17 and block["predictors"]["ihc_ic"]["n_missing"] == 5
    assert block["predictors"]["ihc_ic"]["survival"]["os"]["cox"]["n"] == 17
    paired = {d["predictor"]: d for d in block["auc_vs_pet"]}
    assert paired["ihc_ic"]["n"] <= 17 and paired["rna_cd274"]["n"] > paired["ihc_ic"]["n"]
    assert block["not_available"] == ["rna_teff"]
    assert any("ihc_ic missing for 5 of 22" in w["message"] for w in result.warnings)


def test_patient_without_lesions_and_small_response_group(cohort_22):
    _, (measurements, patients, lesions) = cohort_22
    first = patients["patient_id"].iloc[0]
    measurements = measurements[~((measurements["patient_id"] == first) & (measurements["kind"] == "lesion"))]
    patients = patients.copy()
    responders = patients.index[patients["best_response"].isin(["CR", "PR"])]
    patients.loc[responders[2:], "best_response"] = "SD"  # leave two responders
    result = analyze(measurements, patients, lesions, FAST)
    assert result.summary["inputs"]["n_patients_with_pet"] == 21
    assert first not in set(result.tables["patient_uptake"]["patient_id"])
    mw = result.summary["outcome"]["response"]["mann_whitney"]
    assert mw["n_x"] == min(2, len(responders)) and mw["p_value"] is not None
    messages = " | ".join(w["message"] for w in result.warnings)
    assert f"excluded from the PET summaries: {first}" in messages
    assert "responders: n=2" in messages


def test_metric_and_day_choices(cohort_22):
    _, (measurements, patients, lesions) = cohort_22
    result = analyze(measurements, patients, lesions, FAST.with_(metric="suv_peak", day=4.0, split=8.0))
    day4 = measurements[(measurements["kind"] == "lesion") & (measurements["day"] == 4)]
    expected = np.exp(np.log(day4["suv_peak"]).groupby(day4["patient_id"]).mean())
    got = result.tables["patient_uptake"].set_index("patient_id")["pet_uptake"]
    assert np.allclose(got.sort_index(), expected.sort_index())
    logrank = result.summary["outcome"]["survival"]["os"]["logrank"]
    assert logrank["split_value"] == 8.0 and logrank["groups"]["high"]["n"] == (expected > 8.0).sum()
    with pytest.raises(AnalysisError, match="day 5"):
        analyze(measurements, patients, lesions, FAST.with_(day=5.0))
    with pytest.raises(AnalysisError, match="split"):
        AnalysisParams(split="mean")


def test_results_object_and_study_config(cohort_22, monkeypatch):
    from types import SimpleNamespace

    _, (measurements, patients, lesions) = cohort_22
    config = {"outcome_day": 4, "lesion_metric": "suv_peak", "responders": ["CR", "PR", "SD"]}
    assert AnalysisParams.from_config(config).n_boot == 2000  # the documented default
    from_config = AnalysisParams.from_config  # keep the test fast: fewer resamples than the default
    monkeypatch.setattr(AnalysisParams, "from_config",
                        classmethod(lambda cls, c=None, **kw: from_config(c, n_boot=200, n_permutations=999)))
    results = SimpleNamespace(measurements=measurements, patients=patients, lesions=lesions, config=config)
    summary = analyze(results).summary
    assert (summary["parameters"]["day"], summary["parameters"]["metric"]) == (4.0, "suv_peak")
    assert summary["parameters"]["responders"] == ["CR", "PR", "SD"]
    assert summary["inputs"]["n_responders"] == patients["best_response"].isin(["CR", "PR", "SD"]).sum()


def test_day_levels_in_numeric_order(cohort_22):
    _, (measurements, patients, lesions) = cohort_22
    shifted = measurements.assign(day=measurements["day"].replace({2.0: 10.0}))
    result = analyze(shifted, patients, lesions, FAST)
    day_terms = [t for t in result.tables["mixed_uptake_fixed_effects"]["term"] if t.startswith("C(day_f)")]
    assert day_terms == ["C(day_f)[T.4]", "C(day_f)[T.7]", "C(day_f)[T.10]"]  # reference: the 1 h scan


def test_no_organs_and_no_lesion_table(cohort_22):
    _, (measurements, patients, _) = cohort_22
    result = analyze(measurements[measurements["kind"] == "lesion"], patients, None, FAST)
    assert result.summary["biodistribution"]["organs"] == []
    assert result.summary["outcome"]["lesion_level"]["mixed_model"]["p_value"] is None
    where = {w["analysis"] for w in result.warnings}
    assert {"biodistribution", "outcome.lesion_level"} <= where
    assert result.summary["outcome"]["response"]["auc"]["estimate"] is not None


def test_plan_keys_on_every_result(default):
    """role on every record; ph_test_p on every Cox model; DeLong keys on every paired AUC; p_adjusted in families."""
    from immunopet.analysis.record import stat_records as records_with_paths

    summary = default.summary
    found = {".".join(path): record for path, record in records_with_paths(summary)}
    assert {record["role"] for record in found.values()} == {"primary", "secondary", "exploratory"}
    primary = [path for path, record in found.items() if record["role"] == "primary"]
    assert primary == ["outcome.response.firth_adjusted"]
    assert found[primary[0]]["test"] == "Firth logistic regression"
    assert found[primary[0]]["p_adjusted"] == found[primary[0]]["p_value"]  # a family of one
    for path, record in found.items():
        if record["test"] == "Cox proportional hazards" and record["p_value"] is not None:
            assert "ph_test_p" in record and "lr_p" in record, path
        if record["test"] == "paired AUC difference" and path.startswith("biomarkers."):
            assert {"delong_p", "delong_ci_low", "delong_ci_high", "p_adjusted"} <= set(record), path
            assert record["family"] == "auc_vs_pet" and record["role"] == "secondary"
        elif record["test"] == "paired AUC difference":  # Patlak Ki against PET uptake: outside the plan
            assert path.startswith("kinetics.") and record["role"] == "exploratory", path
            assert {"delong_p", "delong_ci_low", "delong_ci_high"} <= set(record), path
    family = summary["multiplicity"]["families"]["auc_vs_pet"]
    assert family["size"] == 4 and family["method"] == "Holm"
    raw = sorted(m["p_value"] for m in family["members"])
    holm = sorted(m["p_adjusted"] for m in family["members"])
    assert holm[0] == pytest.approx(min(1.0, 4 * raw[0]))
    secondary = summary["multiplicity"]["families"]["secondary"]["members"]
    assert {m["path"] for m in secondary} == {"outcome.survival.pfs.cox_adjusted", "outcome.survival.os.cox_adjusted"}
    assert summary["key_results"][0]["role"] == "primary" and summary["key_results"][0]["p_adjusted"] is not None
    assert summary["parameters"]["plan"]["primary"] == {"predictor": "pet_uptake", "endpoint": "response"}


def test_prespecified_cutoff_and_median_sensitivity(default):
    ihc = default.summary["biomarkers"]["predictors"]["ihc_ic"]["survival"]["pfs"]
    assert ihc["logrank"]["split_value"] == 1.0 and ihc["logrank"]["cutoff_source"] == "prespecified value"
    assert ihc["logrank"]["cutoff_label"] == "IC2/3 vs IC0/1"
    assert ihc["logrank_median"]["cutoff_source"] == "median (sensitivity analysis)"
    pet = default.summary["outcome"]["survival"]["pfs"]
    assert pet["logrank"]["cutoff_source"] == "median (data-driven)" and "logrank_median" not in pet
    scan = default.tables["cutoff_scan"].query("predictor == 'pet_uptake' and endpoint == 'pfs'")
    assert scan["quantile"].between(0.25, 0.75).all() and len(scan) >= 5
    median_row = scan[scan["quantile"] == 0.5]
    assert median_row["p_value"].iloc[0] == pytest.approx(pet["logrank"]["p_value"], rel=1e-6)


def test_pet_added_to_a_biomarker_is_a_nested_likelihood_ratio_test(default, cohort_22):
    from immunopet.analysis.inputs import patient_table
    from immunopet.analysis.record import Notes
    from immunopet.analysis.survival import cox_fit

    _, (measurements, patients, _) = cohort_22
    table = patient_table(measurements, patients, day=7, metric="suv_max", responders=("CR", "PR"),
                          biomarkers=["ihc_ic"], notes=Notes())
    table = table[table["pet_uptake"].notna()]
    refit = cox_fit(table, endpoint="pfs", covariates=["pet_uptake", "ihc_ic"], log2=["pet_uptake"],
                    strata=["tumour_type"])
    added = default.summary["biomarkers"]["pet_added"]["ihc_ic"]
    assert added["pfs"]["nested_lr_p"] == pytest.approx(refit["lr_p_first"], rel=1e-6)
    assert added["pfs"]["nested_test"] == "PET added to ihc_ic + tumour_type"
    assert added["response"]["test"] == "Firth logistic regression" and 0 < added["response"]["p_value"] <= 1


def test_methods_text_states_the_primary_result(default):
    from immunopet.report.statistics import statistics_sentences

    text = " ".join(statistics_sentences(default.summary))
    primary = default.summary["outcome"]["response"]["firth_adjusted"]
    assert "The prespecified primary analysis was Firth logistic regression of pet_uptake for response" in text
    assert f"{primary['estimate']:.2f}" in text and "Holm-adjusted within families" in text
