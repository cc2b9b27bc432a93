"""A. Biodistribution: organ SUVmean per scan day, blood-pool clearance, organ-to-blood ratios, trends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from threadpoolctl import threadpool_limits

from immunopet.analysis.inputs import numeric, require_columns
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.record import Notes, clean, not_run, stat

BLOOD = "blood_pool"
SUMMARY_COLUMNS = ["n", "mean", "sd", "median", "min", "max"]


def organ_rows(measurements: pd.DataFrame) -> pd.DataFrame:
    """Organ measurements with a finite, positive ``suv_mean`` and the time in days (``t_days``)."""
    require_columns(measurements, ["patient_id", "scan_id", "day", "kind", "site", "suv_mean"], "measurements")
    organs = numeric(measurements[measurements["kind"].astype(str).str.lower() == "organ"],
                     ["day", "hours_pi", "suv_mean"])
    organs = organs[np.isfinite(organs["suv_mean"])]
    hours = organs["hours_pi"] if "hours_pi" in organs else pd.Series(np.nan, index=organs.index)
    return organs.assign(t_days=hours.div(24.0).fillna(organs["day"]))


def summarise(rows: pd.DataFrame, by: list[str], value: str = "suv_mean") -> pd.DataFrame:
    """n, mean, SD, median, min, max of ``value`` per group (ordered by the group columns)."""
    if rows.empty:
        return pd.DataFrame(columns=[*by, *SUMMARY_COLUMNS])
    out = rows.groupby(by, sort=True, dropna=False)[value].agg(
        n="count", mean="mean", sd=lambda s: s.std(ddof=1), median="median", min="min", max="max")
    return out.reset_index()


def blood_ratios(organs: pd.DataFrame) -> pd.DataFrame:
    """Each organ's SUVmean divided by the blood-pool SUVmean of the same scan (``ratio``)."""
    blood = organs[organs["site"] == BLOOD].groupby("scan_id")["suv_mean"].mean().rename("blood_suv_mean")
    rows = organs[organs["site"] != BLOOD].join(blood, on="scan_id", how="inner")
    rows = rows[rows["blood_suv_mean"] > 0]
    return rows.assign(ratio=rows["suv_mean"] / rows["blood_suv_mean"])


def log_linear_fit(rows: pd.DataFrame, *, inputs: str, ci_level: float) -> tuple[dict, float, tuple, float]:
    """OLS of log(SUVmean) on time in days with one intercept per patient (within-patient slope).

    Returns the statsmodels fit summary pieces: (record, slope, slope CI, p-value).
    """
    rows = rows[rows["suv_mean"] > 0].assign(log_suv=lambda d: np.log(d["suv_mean"]))
    multi = rows["patient_id"].nunique() > 1
    formula = "log_suv ~ t_days" + (" + C(patient_id)" if multi else "")
    with threadpool_limits(limits=1, user_api="blas"):  # one dummy per patient: threads only contend
        fit = smf.ols(formula, rows).fit(method="qr")
    ci = fit.conf_int(alpha=1.0 - ci_level).loc["t_days"]
    info = {"formula": formula, "n_patients": int(rows["patient_id"].nunique()), "df_resid": float(fit.df_resid)}
    return info, float(fit.params["t_days"]), (float(ci.iloc[0]), float(ci.iloc[1])), float(fit.pvalues["t_days"])


def clearance(organs: pd.DataFrame, *, group: str, params: AnalysisParams, notes: Notes) -> dict:
    """Mono-exponential blood-pool half-time (hours) from samples at or after ``clearance_min_hours``."""
    rows = organs[(organs["site"] == BLOOD) & (organs["t_days"] * 24.0 >= params.clearance_min_hours - 1e-9)]
    inputs = (f"log(blood-pool SUVmean) vs time, scans >= {params.clearance_min_hours:g} h p.i., "
              f"patients: {group}")
    n = int(rows["patient_id"].nunique())
    if rows.empty or rows["t_days"].nunique() < 2 or len(rows) <= n + 1:
        notes.warn(f"biodistribution.blood_clearance[{group}]", "too few blood-pool samples over time for a fit")
        return not_run("log-linear OLS", inputs=inputs, n=n, reason="too few samples", group=group)
    info, slope, (lo, hi), p = log_linear_fit(rows, inputs=inputs, ci_level=params.ci_level)
    hours = 24.0 * np.log(2.0)  # half-time (h) = 24 ln2 / -slope (slope per day)
    half = hours / -slope if slope < 0 else np.nan
    # the steeper slope bound gives the shorter half-time; a bound >= 0 leaves the interval open
    hours_ci = (hours / -lo if lo < 0 else None, hours / -hi if hi < 0 else None)
    if not (slope < 0 and hi < 0):
        notes.warn(f"biodistribution.blood_clearance[{group}]",
                   "the fitted clearance is not significantly negative: half-time interval open-ended")
    return stat("log-linear OLS", inputs=inputs, n=n, estimate=half, estimate_label="half-time (h)",
                ci=hours_ci, ci_level=params.ci_level, p_value=p,
                method="statsmodels OLS of log SUVmean on time with patient intercepts; half-time = ln2 / -slope, "
                       "CI by transforming the slope's t interval", group=group, n_samples=len(rows),
                slope_per_day=slope, slope_ci_low=lo, slope_ci_high=hi, **info)


def organ_trends(organs: pd.DataFrame, *, params: AnalysisParams) -> pd.DataFrame:
    """Per organ: % change in SUVmean per day (log-linear OLS with patient intercepts) with CI and p.

    The blood pool uses the clearance model's samples (``clearance_min_hours`` on), so its trend and
    the blood-pool half-time are one model (half-time = 24 ln 2 / -ln(1 + pct/100) hours).
    """
    rows = []
    for site, part in organs.groupby("site", sort=True):
        min_hours = params.clearance_min_hours if site == BLOOD else 0.0
        part = part[part["t_days"] * 24.0 >= min_hours - 1e-9]
        n = int(part["patient_id"].nunique())
        if part["t_days"].nunique() < 2 or len(part) <= n + 1:
            continue
        info, slope, (lo, hi), p = log_linear_fit(part, inputs=site, ci_level=params.ci_level)
        rows.append({"site": site, "min_hours": min_hours, "n_patients": n, "n_samples": len(part),
                     "pct_change_per_day": 100.0 * np.expm1(slope), "ci_low": 100.0 * np.expm1(lo),
                     "ci_high": 100.0 * np.expm1(hi), "p_value": p})
    return pd.DataFrame(rows, columns=["site", "min_hours", "n_patients", "n_samples", "pct_change_per_day", "ci_low",
                                       "ci_high", "p_value"])


def biodistribution(measurements: pd.DataFrame, *, params: AnalysisParams,
                    notes: Notes) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Section A: JSON block and tables (see ``docs/analyses.md``)."""
    organs = organ_rows(measurements)
    if organs.empty:
        notes.warn("biodistribution", "no organ measurements: biodistribution not analysed")
        return {"n_patients": 0, "organs": [], "blood_clearance": []}, {}
    has = {c: c in organs.columns and organs[c].notna().any() for c in ("dose_cohort", "tumour_type")}
    tables = {"biodistribution": summarise(organs, ["site", "day"])}
    if has["dose_cohort"]:
        tables["biodistribution_by_cohort"] = summarise(organs, ["dose_cohort", "site", "day"])
    if has["tumour_type"]:
        tables["biodistribution_by_type"] = summarise(organs, ["tumour_type", "site", "day"])
    ratios = blood_ratios(organs)
    if ratios.empty:
        notes.warn("biodistribution.organ_blood_ratio", "no blood_pool VOI: organ-to-blood ratios not computed")
    tables["organ_blood_ratio"] = summarise(ratios, ["site", "day"], value="ratio")
    tables["organ_trend"] = organ_trends(organs, params=params)
    fits = [clearance(organs, group="all", params=params, notes=notes)]
    if has["dose_cohort"] and organs["dose_cohort"].nunique() > 1:
        fits += [clearance(part, group=str(c), params=params, notes=notes)
                 for c, part in organs.groupby("dose_cohort", sort=True)]
    tables["blood_clearance"] = pd.DataFrame(
        [{k: f.get(k) for k in ("group", "n", "n_samples", "estimate", "ci_low", "ci_high", "slope_per_day",
                                "p_value")} for f in fits]).rename(columns={"estimate": "half_time_h"})
    block = {"n_patients": int(organs["patient_id"].nunique()), "n_scans": int(organs["scan_id"].nunique()),
             "sites": sorted(organs["site"].unique().tolist()),
             "days": sorted(float(d) for d in organs["day"].dropna().unique()),
             "organs": clean(tables["biodistribution"].to_dict("records")),
             "blood_clearance": fits, "organ_trend": clean(tables["organ_trend"].to_dict("records"))}
    return block, tables
