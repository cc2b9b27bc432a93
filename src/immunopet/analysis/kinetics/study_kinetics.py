"""The kinetic analyses of a study: blood inputs, Patlak per VOI, TIAC per VOI, tables and JSON block."""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.analysis.kinetics.blood import BloodInput, blood_input
from immunopet.analysis.kinetics.methods import kinetics_methods
from immunopet.analysis.kinetics.params import KineticsParams
from immunopet.analysis.kinetics.patlak import patlak_coordinates, patlak_fit
from immunopet.analysis.kinetics.patlak_blood import WITHIN_FIT, VoiPoints, blood_intervals
from immunopet.analysis.kinetics.tiac import tiac
from immunopet.analysis.kinetics.time_activity import median_curves, ratio_summary, time_activity
from immunopet.analysis.record import Notes, clean

#: ``patlak.csv``: the documented columns first (docs/analyses.md), then the details.
PATLAK_COLUMNS = ["patient_id", "voi_id", "kind", "ki_per_h", "ki_ci_low", "ki_ci_high", "v_t", "v_t_se", "n_points",
                  "first_day", "site", "ki_se", "df", "ci_kind", "ki_se_fit", "blood_input", "reason"]
TIAC_COLUMNS = ["patient_id", "voi_id", "tiac_h", "method", "kind", "site", "tiac_trapezoid_h", "tail_fraction",
                "tiac_mono_exponential_h", "aicc_mono_exponential", "tiac_bi_exponential_h", "aicc_bi_exponential",
                "tiac_patlak_model_h", "aicc_patlak_model", "n_points", "volume_ml", "reason"]
#: Whole-organ VOIs (standard names of docs/study-format.md) -> source-organ names of OLINDA / IDAC-Dose.
SOURCE_ORGANS = {"liver": "Liver", "spleen": "Spleen", "kidneys": "Kidneys", "lungs": "Lungs", "brain": "Brain",
                 "heart_wall": "Heart Wall"}
BLOOD_COLUMNS = ["patient_id", "source", "method", "n_samples", "first_sample_h", "a1", "half_life1_h", "a2",
                 "half_life2_h", "integral_to_last_scan", "early_integral", "early_fraction", "note"]


def blood_inputs(table: pd.DataFrame, params: KineticsParams, *, samples: pd.DataFrame | None = None,
                 notes: Notes) -> tuple[dict[str, BloodInput], pd.DataFrame]:
    """One blood input per patient: from ``samples`` (``patient_id, hours_pi, whole_blood``, decay
    corrected to injection) when given for the patient, else the image-derived blood-pool SUVmean."""
    inputs: dict[str, BloodInput] = {}
    rows = []
    image = table[(table["voi_id"] == params.blood_voi) & np.isfinite(table["suv_mean"]) & (table["suv_mean"] > 0)]
    image_parts = dict(tuple(image.groupby("patient_id")))
    sample_parts = {} if samples is None else dict(tuple(samples.assign(
        patient_id=samples["patient_id"].astype(str)).groupby("patient_id")))
    last_scan = table.groupby("patient_id")["hours_pi"].max()
    empty = image.iloc[:0]
    for pid in sorted(table["patient_id"].unique()):
        own = sample_parts.get(pid)
        if own is not None and len(own):
            source, hours, values = "blood samples", own["hours_pi"].to_numpy(float), own["whole_blood"].to_numpy(float)
        else:
            part = image_parts.get(pid, empty)
            source, hours, values = "image", part["hours_pi"].to_numpy(float), part["suv_mean"].to_numpy(float)
        try:
            curve = blood_input(hours, values, method=params.blood_method, start_value=params.blood_start_suv
                                if source == "image" else None)
        except ValueError as error:
            notes.warn(f"kinetics.blood_input[{pid}]", f"no blood input ({error}): no Patlak fit or Patlak-model TIAC")
            rows.append({"patient_id": pid, "source": source, "n_samples": int(hours.size), "note": str(error)})
            continue
        inputs[pid] = curve
        last = float(last_scan[pid])
        total = float(curve.integral(last))
        early = float(curve.integral(float(curve.hours.min())))
        info = curve.as_dict()
        rows.append({"patient_id": pid, "source": source, "method": curve.method, "n_samples": int(curve.hours.size),
                     "first_sample_h": float(curve.hours.min()), "a1": info.get("a1"),
                     "half_life1_h": info.get("half_life1_h"), "a2": info.get("a2"),
                     "half_life2_h": info.get("half_life2_h"), "integral_to_last_scan": total, "early_integral": early,
                     "early_fraction": early / total if total > 0 else np.nan, "note": curve.note or None})
    return inputs, pd.DataFrame(rows, columns=BLOOD_COLUMNS)


def patlak_table(table: pd.DataFrame, inputs: dict[str, BloodInput], params: KineticsParams, *,
                 sample_patients: set[str] = frozenset()) -> pd.DataFrame:
    """``patlak.csv``: Ki and V_T of every organ and lesion VOI (not the blood VOI) per patient."""
    used = table[(table["day"] >= params.patlak_from_day - 1e-9) & (table["voi_id"] != params.blood_voi)]
    used = used.reset_index(drop=True)
    blood_volume = table[table["voi_id"] == params.blood_voi].groupby("patient_id")["volume_ml"].median()
    hours, days = used["hours_pi"].to_numpy(float), used["day"].to_numpy(float)
    volume = used["volume_ml"].fillna(1.0).to_numpy(float)
    image_values = used[params.metric].to_numpy(float)
    # blood samples are in Bq/mL: the tissue in the same unit (decay corrected to injection)
    sample_values = image_values * (used["bqml_at_injection"] / used["suv_mean"]).to_numpy(float)
    kinds, sites = used["kind"].to_numpy(), used["site"].to_numpy()
    out, points = [], {}
    for (pid, voi), index in sorted(used.groupby(["patient_id", "voi_id"]).indices.items()):
        base = {"patient_id": pid, "voi_id": voi, "kind": kinds[index[0]], "site": sites[index[0]],
                "first_day": float(days[index].min())}
        curve = inputs.get(pid)
        if curve is None:
            out.append({**base, "n_points": int(index.size), "reason": "no blood input"})
            continue
        samples = pid in sample_patients
        blood_ml = None if samples else blood_volume.get(pid)
        blood_ml = None if blood_ml is None or not np.isfinite(blood_ml) else float(blood_ml)
        t = hours[index]
        ct = (sample_values if samples else image_values)[index]
        x, y, counts = patlak_coordinates(t, ct, curve.value(t), curve.integral(t), tissue_ml=volume[index],
                                          blood_ml=blood_ml, decay_per_h=params.decay_per_h)
        fit = patlak_fit(x, y, weights=counts if params.weights == "counts" else None, ci_level=params.ci_level)
        row = {**base, **fit.as_dict(), "blood_input": curve.method}
        if not fit.reason:
            row.update(ci_kind=WITHIN_FIT, ki_se_fit=fit.ki_se)
        out.append(row)
        if blood_ml is not None and not fit.reason:  # an image-derived input with a volume: its noise is estimable
            keep = np.isfinite(x) & np.isfinite(y)
            points.setdefault(pid, (blood_ml, []))[1].append(
                (len(out) - 1, VoiPoints(t[keep], ct[keep], volume[index][keep], x[keep], y[keep], counts[keep], fit)))
    if params.blood_draws:
        for pid, (blood_ml, vois) in points.items():
            wider = blood_intervals(inputs[pid], [v for _, v in vois], blood_ml=blood_ml, draws=params.blood_draws,
                                    seed=params.seed, patient_id=pid, decay_per_h=params.decay_per_h,
                                    weights=params.weights, ci_level=params.ci_level,
                                    start_value=params.blood_start_suv)
            for (row, _), update in zip(vois, wider or [], strict=False):
                out[row].update(update)
    return pd.DataFrame(out, columns=PATLAK_COLUMNS)


def tiac_table(table: pd.DataFrame, inputs: dict[str, BloodInput], params: KineticsParams) -> pd.DataFrame:
    """``tiac.csv``: TIAC (h) of every VOI per patient from its fraction of injected activity."""
    hours, fraction = table["hours_pi"].to_numpy(float), table["fraction_injected"].to_numpy(float)
    volume, kinds, sites = table["volume_ml"].to_numpy(float), table["kind"].to_numpy(), table["site"].to_numpy()
    out = []
    for (pid, voi), index in sorted(table.groupby(["patient_id", "voi_id"]).indices.items()):
        finite = np.isfinite(fraction[index])
        vols = volume[index][np.isfinite(volume[index])]
        base = {"patient_id": pid, "voi_id": voi, "kind": kinds[index[0]], "site": sites[index[0]],
                "volume_ml": float(np.median(vols)) if vols.size else np.nan, "n_points": int(finite.sum())}
        if not finite.any():
            out.append({**base, "reason": "no activity in Bq (mean_bqml/pct_id empty: e.g. a NIfTI SUV image)"})
            continue
        result = tiac(hours[index], fraction[index], decay_per_h=params.decay_per_h, blood=inputs.get(pid),
                      fit=params.tiac_fit)
        out.append({**base, **result.as_dict()})
    return pd.DataFrame(out, columns=TIAC_COLUMNS)


def kinetics(measurements: pd.DataFrame, *, params: KineticsParams, notes: Notes,
             samples: pd.DataFrame | None = None) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Every kinetic analysis; returns the ``kinetics`` JSON block and the tables (docs/analyses.md)."""
    table = time_activity(measurements, params)
    inputs, blood = blood_inputs(table, params, samples=samples, notes=notes)
    fallbacks = blood["note"].dropna()
    if len(fallbacks):
        notes.warn("kinetics.blood_input", f"{len(fallbacks)} patient(s) with another blood curve than "
                   f"{params.blood_method}: " + "; ".join(f"{r} ({n})" for r, n in fallbacks.value_counts().items())
                   + " (see blood_input.csv)")
    sample_patients = set() if samples is None else set(samples["patient_id"].astype(str))
    patlak = patlak_table(table, inputs, params, sample_patients=sample_patients)
    n_fitted = int(patlak["ki_per_h"].notna().sum())
    if len(patlak) and n_fitted < len(patlak):
        reasons = patlak.loc[patlak["ki_per_h"].isna(), "reason"].value_counts()
        notes.warn("kinetics.patlak", f"{len(patlak) - n_fitted} of {len(patlak)} VOIs without a Patlak fit: "
                   + "; ".join(f"{r} ({n})" for r, n in reasons.items()))
    tiacs = tiac_table(table, inputs, params)
    organs = tiacs[(tiacs["kind"] == "organ") & tiacs["voi_id"].isin(list(SOURCE_ORGANS)) & tiacs["tiac_h"].notna()]
    dosimetry = pd.DataFrame({"patient_id": organs["patient_id"],
                              "source_organ": organs["voi_id"].map(SOURCE_ORGANS), "tiac_h": organs["tiac_h"],
                              "method": organs["method"], "voi_volume_ml": organs["volume_ml"]})
    tables = {"time_activity": table, "blood_input": blood, "patlak": patlak, "tiac": tiacs,
              "dosimetry_tiac": dosimetry, "to_blood_by_day": ratio_summary(table, params), "median_curves": median_curves(table)}
    block = {
        "parameters": params.as_dict(),
        "n_patients": int(table["patient_id"].nunique()),
        "n_blood_inputs": len(inputs),
        "blood_input": clean(blood.to_dict("records")),
        "patlak": clean(patlak.to_dict("records")),
        "n_patlak_fits": n_fitted,
        "blood_draws": params.blood_draws,
        "n_blood_draw_intervals": int((patlak["ci_kind"] == "blood_draws").sum()),
        "tiac": clean(tiacs.to_dict("records")),
        "dosimetry_note": ("dosimetry_tiac.csv lists whole-organ TIACs for OLINDA / IDAC-Dose; the dose software "
                           "applies its phantom's organ masses, not the patient's"),
    }
    block["methods"] = kinetics_methods(block)
    return block, tables
