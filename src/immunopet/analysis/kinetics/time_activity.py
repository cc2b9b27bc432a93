"""Time-activity curves per VOI and lesion over the scans, and the ratios to blood per scan.

One row per scan and VOI (table ``time_activity``):

- ``hours_pi``: hours after injection from the full date-times (``immunopet run``);
- ``suv_mean`` (``suv_max``, ``suv_peak``): decay corrected, as measured by ``immunopet run``;
- ``bqml_measured``: the VOI's mean activity concentration at the scan start, not decay corrected
  to injection (``mean_bqml`` of the Bq/mL image); ``bqml_at_injection`` = that x ``exp(lambda t)``;
- ``fraction_injected``: activity in the VOI / injected activity, physical decay included,
  ``pct_id / 100 x exp(-lambda t)`` (the input of the TIAC);
- ``to_blood``: ``suv_mean`` / blood-pool SUVmean of the same scan; ``tbr_max`` for lesions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.analysis.inputs import numeric, require_columns
from immunopet.analysis.kinetics.params import KineticsParams

COLUMNS = ["patient_id", "voi_id", "kind", "site", "scan_id", "day", "hours_pi", "suv_mean", "suv_max", "suv_peak",
           "volume_ml", "bqml_measured", "bqml_at_injection", "fraction_injected", "blood_suv_mean", "to_blood",
           "tbr_max"]


def time_activity(measurements: pd.DataFrame, params: KineticsParams) -> pd.DataFrame:
    """The ``time_activity`` table (see the module docstring), sorted by patient, VOI and time.

    Rows without a finite, positive ``hours_pi`` cannot be placed in time and are left out.
    """
    require_columns(measurements, ["patient_id", "scan_id", "day", "hours_pi", "voi_id", "kind", "site",
                                   params.metric], "measurements")
    m = numeric(measurements, ["day", "hours_pi", "suv_mean", "suv_max", "suv_peak", "volume_ml", "mean_bqml",
                               "pct_id"])
    for column in ("suv_mean", "suv_max", "suv_peak", "volume_ml", "mean_bqml", "pct_id"):
        if column not in m.columns:
            m[column] = np.nan
    m = m[np.isfinite(m["hours_pi"]) & (m["hours_pi"] > 0)]
    m = m.assign(patient_id=m["patient_id"].astype(str), voi_id=m["voi_id"].astype(str),
                 kind=m["kind"].astype(str).str.lower())
    growth = np.exp(params.decay_per_h * m["hours_pi"])
    blood = (m[m["voi_id"] == params.blood_voi].groupby("scan_id")["suv_mean"].mean().rename("blood_suv_mean"))
    out = m.assign(bqml_measured=m["mean_bqml"], bqml_at_injection=m["mean_bqml"] * growth,
                   fraction_injected=m["pct_id"] / 100.0 / growth).join(blood, on="scan_id")
    out["to_blood"] = out["suv_mean"] / out["blood_suv_mean"]
    out["tbr_max"] = np.where(out["kind"] == "lesion", out["suv_max"] / out["blood_suv_mean"], np.nan)
    return out[COLUMNS].sort_values(["patient_id", "voi_id", "hours_pi"], kind="stable").reset_index(drop=True)


def ratio_summary(table: pd.DataFrame, params: KineticsParams) -> pd.DataFrame:
    """Tumour- and organ-to-blood ratios per nominal day: n, median, quartiles over VOIs (``kind``, ``site``)."""
    rows = table[(table["voi_id"] != params.blood_voi) & np.isfinite(table["to_blood"])]
    if rows.empty:
        return pd.DataFrame(columns=["kind", "site", "day", "n", "median", "q25", "q75"])
    rows = rows.assign(site=np.where(rows["kind"] == "lesion", "lesion", rows["site"]))
    grouped = rows.groupby(["kind", "site", "day"], sort=True)["to_blood"]
    return pd.DataFrame({"n": grouped.count(), "median": grouped.median(), "q25": grouped.quantile(0.25),
                         "q75": grouped.quantile(0.75)}).reset_index()


def median_curves(table: pd.DataFrame) -> pd.DataFrame:
    """Cohort curves: per organ (lesions pooled as ``lesion``) and nominal day, the median SUVmean and time."""
    rows = table[np.isfinite(table["suv_mean"])]
    if rows.empty:
        return pd.DataFrame(columns=["site", "day", "n", "median_hours_pi", "median_suv_mean", "q25", "q75"])
    rows = rows.assign(site=np.where(rows["kind"] == "lesion", "lesion", rows["site"]))
    grouped = rows.groupby(["site", "day"], sort=True)
    return pd.DataFrame({"n": grouped["suv_mean"].count(), "median_hours_pi": grouped["hours_pi"].median(),
                         "median_suv_mean": grouped["suv_mean"].median(),
                         "q25": grouped["suv_mean"].quantile(0.25),
                         "q75": grouped["suv_mean"].quantile(0.75)}).reset_index()
