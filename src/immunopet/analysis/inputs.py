"""Checking the input tables and deriving the per-patient PET summary from lesion measurements."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from immunopet.analysis.record import Notes
from immunopet.errors import AnalysisError

MEASUREMENT_COLUMNS = ("patient_id", "scan_id", "day", "voi_id", "kind", "site")
PATIENT_COLUMNS = ("patient_id",)
#: RECIST best response -> ordered response class (NE: not evaluable, left out).
RESPONSE_CLASS = {"CR": "CR/PR", "PR": "CR/PR", "SD": "SD", "PD": "PD"}
RESPONSE_ORDER = ("PD", "SD", "CR/PR")


def require_columns(table: pd.DataFrame, columns: tuple[str, ...] | list[str], name: str) -> None:
    """Raise :class:`AnalysisError` naming the first column of ``columns`` missing from ``table``."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise AnalysisError(f"the {name} table has no column {missing[0]!r}", file=name,
                            attribute=", ".join(missing),
                            fix="re-run `immunopet run` or add the column (see docs/study-format.md)")


def numeric(table: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """A copy of ``table`` with ``columns`` (those present) as floats; unparsable cells become NaN."""
    out = table.copy()
    for column in columns:
        if column in out.columns:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    return out


def at_day(rows: pd.DataFrame, day: float, *, what: str) -> pd.DataFrame:
    """Rows whose nominal ``day`` equals ``day``; an error listing the days present if there are none."""
    days = pd.to_numeric(rows["day"], errors="coerce")
    picked = rows[np.isclose(days, day, rtol=0.0, atol=1e-6)]
    if picked.empty:
        present = ", ".join(f"{d:g}" for d in sorted(days.dropna().unique()))
        raise AnalysisError(f"no {what} measured on day {day:g} (days present: {present or 'none'})",
                            attribute="day", fix="choose one of the days present (--day) or set outcome_day")
    return picked


def lesion_rows(measurements: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Lesion measurements with ``metric`` as float; an error when the metric column is absent."""
    require_columns(measurements, [*MEASUREMENT_COLUMNS, metric], "measurements")
    lesions = measurements[measurements["kind"].astype(str).str.lower() == "lesion"]
    return numeric(lesions, ["day", "hours_pi", metric, "suv_max", "suv_peak", "tbr_max", "tbr_peak",
                             "volume_ml"])


def patient_pet(measurements: pd.DataFrame, patients: pd.DataFrame, *, day: float, metric: str,
                notes: Notes) -> pd.DataFrame:
    """Per-patient PET summary of ``metric`` over the patient's lesions on ``day``.

    Returns
    -------
    pandas.DataFrame
        One row per patient with lesion data: ``patient_id, n_lesions, pet_uptake`` (geometric mean,
        :func:`scipy.stats.gmean`, over the patient's lesions; a lesion measured on several scans of
        ``day`` enters once with the mean of its values), ``pet_min, pet_max, pet_cv`` (SD/mean over
        lesions, ddof=1) and ``pet_range_ratio`` (max/min). Lesions with a non-positive or missing value
        are left out (and a warning recorded); patients without any lesion are left out with a warning.
    """
    rows = at_day(lesion_rows(measurements, metric), day, what="lesions")
    scans = rows.groupby("patient_id")["scan_id"].nunique()
    repeated = sorted(scans[scans > 1].index.astype(str))
    if repeated:
        notes.warn("pet_uptake", f"{len(repeated)} patient(s) scanned more than once on day {day:g} "
                                 f"({', '.join(repeated)}): each lesion's values are averaged over those scans")
    # a lesion measured on several scans of that day counts once (mean of its values)
    lesions = rows.groupby(["patient_id", "voi_id"], as_index=False)[metric].mean()
    usable = lesions[np.isfinite(lesions[metric]) & (lesions[metric] > 0)]
    dropped = len(lesions) - len(usable)
    if dropped:
        notes.warn("pet_uptake", f"{dropped} lesion measurement(s) on day {day:g} with a missing or "
                                 f"non-positive {metric} left out of the geometric means")
    grouped = usable.groupby("patient_id", sort=True)[metric]
    table = pd.DataFrame({
        "n_lesions": grouped.size(),
        "pet_uptake": grouped.agg(stats.gmean),
        "pet_min": grouped.min(),
        "pet_max": grouped.max(),
        "pet_cv": grouped.std(ddof=1) / grouped.mean(),
        "pet_range_ratio": grouped.max() / grouped.min(),
    }).reset_index()
    known = set(patients["patient_id"].astype(str))
    without = sorted(known - set(table["patient_id"].astype(str)))
    if without:
        notes.warn("pet_uptake", f"{len(without)} patient(s) without lesion data on day {day:g} are excluded "
                                 f"from the PET summaries: {', '.join(without)}")
    stray = sorted(set(table["patient_id"].astype(str)) - known)
    if stray:
        notes.warn("pet_uptake", f"lesions of patient(s) missing from the patient table ignored: {', '.join(stray)}")
        table = table[~table["patient_id"].astype(str).isin(stray)]
    return table


def patient_table(measurements: pd.DataFrame, patients: pd.DataFrame, *, day: float, metric: str,
                  responders: tuple[str, ...], biomarkers: list[str], notes: Notes, min_group: int = 5) -> pd.DataFrame:
    """The patient table the outcome analyses use: clinical columns, PET summary, response classes.

    Adds ``response_class`` (``CR/PR``, ``SD``, ``PD`` or NaN for NE/missing), ``response_rank``
    (0 = PD, 1 = SD, 2 = CR/PR) and ``responder`` (1/0, NaN when not evaluable). Tumour types and
    dose cohorts with fewer than ``min_group`` patients with PET are warned about.
    """
    require_columns(patients, PATIENT_COLUMNS, "patients")
    base = patients.drop(columns=[c for c in ("pet_uptake", "n_lesions") if c in patients.columns])
    base = numeric(base, [*biomarkers, "best_pct_change", "pfs_months", "pfs_event", "os_months", "os_event"])
    base = base.assign(patient_id=base["patient_id"].astype(str))
    types = base["tumour_type"] if "tumour_type" in base.columns else pd.Series(None, index=base.index, dtype=object)
    base["tumour_type"] = types.fillna("unknown").astype(str)
    if base["patient_id"].duplicated().any():
        twice = base.loc[base["patient_id"].duplicated(), "patient_id"].iloc[0]
        raise AnalysisError(f"patient {twice!r} appears more than once in the patient table", file="patients",
                            attribute="patient_id", fix="keep one row per patient")
    pet = patient_pet(measurements, base, day=day, metric=metric, notes=notes)
    table = base.merge(pet.assign(patient_id=pet["patient_id"].astype(str)), on="patient_id", how="left")
    response = table.get("best_response", pd.Series(np.nan, index=table.index)).astype("string").str.upper()
    table["response_class"] = response.map(RESPONSE_CLASS)
    table["response_rank"] = table["response_class"].map({c: k for k, c in enumerate(RESPONSE_ORDER)})
    evaluable = response.isin(list(RESPONSE_CLASS)).fillna(False).astype(bool)
    table["responder"] = np.where(evaluable, response.isin(list(responders)).fillna(False).astype(float), np.nan)
    with_pet = table[table["pet_uptake"].notna()]
    for column in ("tumour_type", "dose_cohort"):
        if column in with_pet.columns and with_pet[column].nunique() > 1:
            notes.small_groups(f"inputs.{column}", with_pet[column].astype(str).value_counts().to_dict(), min_group)
    return table
