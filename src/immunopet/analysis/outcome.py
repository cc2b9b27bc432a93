"""C. PET uptake against outcome (patient level) and lesion uptake against lesion size change."""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.analysis.comparisons import spearman
from immunopet.analysis.firth import loo_auc
from immunopet.analysis.inputs import at_day, lesion_rows, numeric
from immunopet.analysis.mixed import fit_mixed, fixed_effects_table
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.plan import split_covariates
from immunopet.analysis.predictors import analyse_predictor
from immunopet.analysis.record import Notes, not_run

PET = "pet_uptake"


def lesion_response(measurements: pd.DataFrame, lesions: pd.DataFrame | None, patients: pd.DataFrame, *,
                    params: AnalysisParams, notes: Notes) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Lesion % change in diameter ~ within-patient + between-patient log2 uptake + (1 | patient)."""
    analysis = "outcome.lesion_level"
    inputs = f"lesion pct_change (lesions.csv) vs log2 lesion {params.metric} on day {params.day:g}"
    empty = pd.DataFrame(columns=["patient_id", "voi_id", "uptake", "pct_change", "log2_uptake", "patient_mean_log2",
                                  "within_log2"])
    if lesions is None or lesions.empty or "pct_change" not in lesions.columns:
        notes.warn(analysis, "no lesions table with pct_change: lesion-level analysis not run")
        block = {"n_lesions": 0, "n_patients": 0,
                 "mixed_model": not_run("linear mixed model", inputs=inputs, n=0, reason="no lesions table"),
                 "spearman_unclustered": not_run("Spearman correlation", inputs=inputs, n=0,
                                                 reason="no lesions table")}
        return block, empty, fixed_effects_table({}, "pct_change")
    uptake = at_day(lesion_rows(measurements, params.metric), params.day, what="lesions")
    uptake = uptake[["patient_id", "voi_id", params.metric]].rename(columns={params.metric: "uptake"})
    uptake = uptake.groupby(["patient_id", "voi_id"], as_index=False)["uptake"].mean()
    sizes = numeric(lesions, ["pct_change"])[["patient_id", "voi_id", "pct_change"]]
    sizes = sizes.assign(patient_id=sizes["patient_id"].astype(str), voi_id=sizes["voi_id"].astype(str))
    data = uptake.assign(patient_id=uptake["patient_id"].astype(str), voi_id=uptake["voi_id"].astype(str))
    data = data.merge(sizes, on=["patient_id", "voi_id"], how="inner")
    data = data[data["patient_id"].isin(set(patients["patient_id"]))]
    complete = data[np.isfinite(data["pct_change"]) & (data["uptake"] > 0)].copy()
    if len(complete) < len(data):
        notes.warn(analysis, f"{len(data) - len(complete)} lesion(s) without pct_change or positive uptake left out")
    complete["log2_uptake"] = np.log2(complete["uptake"])
    # within/between decomposition (Neuhaus & Kalbfleisch, Biometrics 1998;54:638-645): the lesion's
    # uptake relative to its patient's mean, and that mean; one slope would mix the two
    complete["patient_mean_log2"] = complete.groupby("patient_id")["log2_uptake"].transform("mean")
    complete["within_log2"] = complete["log2_uptake"] - complete["patient_mean_log2"]
    model = fit_mixed(complete, response="pct_change", terms=["within_log2", "patient_mean_log2"], group="patient_id",
                      inputs=inputs, notes=notes, analysis=analysis, ci_level=params.ci_level, focus="within_log2")
    if model.get("estimate_label"):
        model["estimate_label"] = "within-patient change in % diameter change per doubling of lesion uptake"
        between = next(f for f in model["fixed_effects"] if f["term"] == "patient_mean_log2")
        model["between"] = {**between, "label": "between-patient change per doubling of the patient's mean uptake"}
    rho = spearman(complete["log2_uptake"].to_numpy(), complete["pct_change"].to_numpy(),
                   inputs=inputs + " (lesions treated as independent)", ci_level=params.ci_level,
                   **params.small_n())
    block = {"n_lesions": int(len(complete)), "n_patients": int(complete["patient_id"].nunique()),
             "mixed_model": model, "spearman_unclustered": rho}
    return block, complete, fixed_effects_table(model, "pct_change")


def outcome(measurements: pd.DataFrame, patients: pd.DataFrame, lesions: pd.DataFrame | None, *,
            params: AnalysisParams, notes: Notes) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Section C: the PET predictor block, lesion-level model, and curve tables."""
    label = f"PET uptake (geometric mean lesion {params.metric}, day {params.day:g})"
    block, curves = analyse_predictor(patients, PET, label=label, log2=True, params=params,
                                      notes=notes, section="outcome")
    lesion_block, lesion_table, lesion_fixed = lesion_response(measurements, lesions, patients, params=params,
                                                               notes=notes)
    block = {"day": params.day, "metric": params.metric, "responders": list(params.responders), **block,
             "lesion_level": lesion_block}
    categorical, numeric = split_covariates(patients, params.plan.covariates, exclude=[PET])
    evaluable = patients[patients["responder"].notna()]
    block["response"]["cv_auc"] = {
        "pet_plus_covariates": loo_auc(evaluable, columns=[PET], log2=[PET], covariates=[*categorical, *numeric],
                                       inputs="response ~ log2(PET) + " + " + ".join([*categorical, *numeric] or ["1"])),
        "covariates_only": loo_auc(evaluable, columns=[], log2=[], covariates=[*categorical, *numeric],
                                   inputs="response ~ " + " + ".join([*categorical, *numeric] or ["1"]))}
    tables = {"lesion_response": lesion_table, "mixed_lesion_response_fixed_effects": lesion_fixed}
    return block, {**tables, **{f"_{k}": v for k, v in curves.items()}}
