"""B. Tumour uptake: per lesion, per patient (geometric mean), by type and site, over days; mixed model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from immunopet.analysis.comparisons import describe, kruskal_groups
from immunopet.analysis.inputs import at_day, lesion_rows
from immunopet.analysis.mixed import categorical_terms, fit_mixed, fixed_effects_table
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.record import Notes, clean

LESION_VALUES = ["suv_max", "suv_peak", "tbr_max", "tbr_peak"]
PATIENT_UPTAKE_COLUMNS = ["patient_id", "tumour_type", "dose_cohort", "n_lesions", "pet_uptake", "pet_min",
                          "pet_max", "pet_cv", "pet_range_ratio", "best_response", "response_class", "responder",
                          "best_pct_change", "pfs_months", "pfs_event", "os_months", "os_event"]


def lesion_summary(rows: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Per group: lesions, patients, geometric mean, median, quartiles and range of ``value`` (> 0)."""
    rows = rows[np.isfinite(rows[value]) & (rows[value] > 0)] if value in rows else rows.iloc[:0]
    columns = [*by, "metric", "n_lesions", "n_patients", "gmean", "median", "q1", "q3", "min", "max"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    g = rows.groupby(by, sort=True)
    out = pd.DataFrame({"n_lesions": g[value].size(), "n_patients": g["patient_id"].nunique(),
                        "gmean": g[value].agg(stats.gmean), "median": g[value].median(),
                        "q1": g[value].quantile(0.25), "q3": g[value].quantile(0.75),
                        "min": g[value].min(), "max": g[value].max()}).reset_index()
    return out.assign(metric=value)[columns]


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate the non-empty summaries (all of them when every one is empty)."""
    full = [f for f in frames if not f.empty]
    return pd.concat(full or frames[:1], ignore_index=True)


def _types(lesions: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Lesion rows with the patient's tumour type from the patient table."""
    types = patients.set_index("patient_id")["tumour_type"]
    lesions = lesions.drop(columns=[c for c in ("tumour_type",) if c in lesions.columns])
    lesions = lesions.assign(patient_id=lesions["patient_id"].astype(str)).join(types, on="patient_id")
    return lesions.assign(tumour_type=lesions["tumour_type"].fillna("unknown").astype(str))


def uptake_mixed_model(lesions: pd.DataFrame, *, metric: str, params: AnalysisParams, notes: Notes) -> dict:
    """log(metric) ~ tumour type x day + site + (1 | patient) + (1 | lesion within patient), all days.

    Each lesion is scanned on every day, so its repeated values share a lesion effect (second random
    intercept); the tumour type x day interaction lets types differ in their uptake over time.
    """
    data = lesions[np.isfinite(lesions[metric]) & (lesions[metric] > 0)].copy()
    data["log_uptake"] = np.log(data[metric])
    data["lesion"] = data["patient_id"].astype(str) + ":" + data["voi_id"].astype(str)
    levels = [f"{d:g}" for d in sorted(data["day"].unique())]  # numeric order; the first day is the reference
    data["day_f"] = pd.Categorical(data["day"].map(lambda d: f"{d:g}"), categories=levels)
    analysis = "tumour_uptake.mixed_model"
    terms = categorical_terms(data, ["tumour_type", "site", "day_f"], notes=notes, analysis=analysis) \
        if len(data) else []
    if {"C(tumour_type)", "C(day_f)"} <= set(terms):
        terms.append("C(tumour_type):C(day_f)")
    repeated = data.groupby("lesion")["day"].nunique().max() > 1 if len(data) else False
    return fit_mixed(data, response="log_uptake", terms=terms, group="patient_id", notes=notes, analysis=analysis,
                     inputs=f"log({metric}) of every lesion on every scan day", ci_level=params.ci_level,
                     nested="lesion" if repeated else None)


def outcome_day_icc(on_day: pd.DataFrame, *, metric: str, params: AnalysisParams, notes: Notes) -> dict:
    """log(metric) ~ tumour type + site + (1 | patient) on the outcome day: the ICC of lesions within patients."""
    data = on_day[np.isfinite(on_day[metric]) & (on_day[metric] > 0)].copy()
    data = data.groupby(["patient_id", "voi_id", "tumour_type", "site"], as_index=False)[metric].mean()
    data["log_uptake"] = np.log(data[metric])
    analysis = "tumour_uptake.icc_outcome_day"
    terms = categorical_terms(data, ["tumour_type", "site"], notes=notes, analysis=analysis) if len(data) else []
    return fit_mixed(data, response="log_uptake", terms=terms, group="patient_id", notes=notes, analysis=analysis,
                     inputs=f"log({metric}) of every lesion on day {params.day:g}", ci_level=params.ci_level)


def tumour_uptake(measurements: pd.DataFrame, patients: pd.DataFrame, *, params: AnalysisParams,
                  notes: Notes) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Section B: JSON block and tables. ``patients`` is the table from :func:`inputs.patient_table`."""
    metric = params.metric
    lesions = _types(lesion_rows(measurements, metric), patients)
    lesions = lesions[lesions["patient_id"].astype(str).isin(set(patients["patient_id"]))]
    values = [v for v in dict.fromkeys([metric, *LESION_VALUES]) if v in lesions.columns]
    keep = ["patient_id", "tumour_type", "scan_id", "day", "voi_id", "site", *values]
    tables = {"lesion_uptake": lesions[keep].sort_values(["patient_id", "voi_id", "day"], kind="stable")}
    on_day = at_day(lesions, params.day, what="lesions")
    with_pet = patients[patients["pet_uptake"].notna()]
    tables["patient_uptake"] = with_pet[[c for c in PATIENT_UPTAKE_COLUMNS if c in with_pet.columns]]
    tables["uptake_by_type"] = _stack([lesion_summary(on_day, ["tumour_type"], v) for v in values])
    tables["uptake_by_site"] = _stack([lesion_summary(on_day, ["site"], v) for v in values])
    tables["uptake_by_day"] = _stack([lesion_summary(lesions, ["day"], v) for v in values])
    per_type = {}
    for name, part in with_pet.groupby("tumour_type", sort=True):
        per_type[name] = {**describe(part["pet_uptake"]),
                          "gmean": float(stats.gmean(part["pet_uptake"])) if len(part) else None}
    type_test = kruskal_groups({k: g["pet_uptake"].to_numpy() for k, g in with_pet.groupby("tumour_type")},
        inputs=f"patient PET uptake (geometric mean {metric}, day {params.day:g}) across tumour types",
        notes=notes, analysis="tumour_uptake.by_type", min_group=params.min_group, **params.small_n())
    spread_rows = with_pet[with_pet["n_lesions"] >= 2]
    model = uptake_mixed_model(lesions, metric=metric, params=params, notes=notes)
    tables["mixed_uptake_fixed_effects"] = fixed_effects_table(model, f"log({metric})")
    icc_day = outcome_day_icc(on_day, metric=metric, params=params, notes=notes)
    tbr = {v: describe(on_day[v]) for v in ("tbr_max", "tbr_peak") if v in on_day.columns}
    if not tbr or all(d["n"] == 0 for d in tbr.values()):
        notes.warn("tumour_uptake.tbr", "no tumour-to-blood ratios in the measurements (no blood_pool VOI?)")
    block = {
        "metric": metric, "day": params.day,
        "n_patients": int(len(with_pet)), "n_lesions": int(len(on_day)),
        "patient_uptake": describe(with_pet["pet_uptake"]),
        "patient_uptake_gmean": float(stats.gmean(with_pet["pet_uptake"])) if len(with_pet) else None,
        "by_tumour_type": per_type,
        "tumour_type_test": type_test,
        "within_patient": {"n_patients": int(len(spread_rows)), "cv": describe(spread_rows["pet_cv"]),
                           "range_ratio": describe(spread_rows["pet_range_ratio"])},
        "by_site": clean(tables["uptake_by_site"][tables["uptake_by_site"]["metric"] == metric].to_dict("records")),
        "tumour_to_blood": tbr,
        "by_day": clean(tables["uptake_by_day"][tables["uptake_by_day"]["metric"] == metric].to_dict("records")),
        "mixed_model": model,
        "icc_outcome_day": icc_day,
    }
    return block, tables
