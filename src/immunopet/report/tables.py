"""The report's tables built from the study's result tables (pure functions on DataFrames)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from immunopet.report.html import Table, table_from_frame

PATIENT_COLUMNS = {
    "patient_id": "patient", "tumour_type": "tumour type", "dose_cohort": "dose cohort", "sex": "sex",
    "n_lesions": "lesions", "pet_uptake": "PET uptake", "ihc_ic": "IHC IC", "ihc_tc": "IHC TC",
    "rna_cd274": "CD274", "rna_teff": "T-eff", "best_response": "best response",
    "best_pct_change": "best change %", "pfs_months": "PFS (mo)", "pfs_event": "PFS event",
    "os_months": "OS (mo)", "os_event": "OS event",
}
LESION_COLUMNS = {
    "voi_id": "lesion", "site": "site", "day": "day", "hours_pi": "hours p.i.", "suv_max": "SUVmax",
    "suv_peak": "SUVpeak", "suv_mean": "SUVmean", "volume_ml": "volume (mL)", "tbr_max": "TBRmax",
    "tbr_peak": "TBRpeak",
}
#: Identifying DICOM attributes shown only with --include-identifiers.
IDENTIFIER_COLUMNS = {"PatientName": "name", "PatientBirthDate": "birth date", "PatientID": "DICOM patient ID"}


def patient_table(patients: pd.DataFrame, *, identifiers: pd.DataFrame | None = None,
                  uptake_label: str = "PET uptake") -> Table:
    """The study's patient table (clinical data, PET uptake, outcome); identifiers only if given."""
    columns = dict(PATIENT_COLUMNS, pet_uptake=uptake_label)
    frame = patients
    if identifiers is not None and not identifiers.empty:
        frame = patients.merge(identifiers, on="patient_id", how="left")
        columns = {"patient_id": "patient", **IDENTIFIER_COLUMNS, **columns}
    return table_from_frame(frame, columns=columns)


def lesion_table(measurements: pd.DataFrame, patient_id: str) -> Table:
    """One row per lesion and scan day of one patient, metrics as columns."""
    rows = measurements[(measurements["patient_id"] == patient_id) & (measurements["kind"] == "lesion")]
    rows = rows.sort_values(["voi_id", "day"], kind="stable")
    return table_from_frame(_days_as_text(rows), columns=LESION_COLUMNS, empty_text="No lesions measured.")


def _days_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Nominal days as written in scans.csv (``0.04``, ``7``), not to three significant figures."""
    return frame.assign(day=[f"{d:g}" for d in frame["day"]]) if "day" in frame.columns else frame


def scan_table(scans: pd.DataFrame, patient_id: str, *, inputs: Mapping[str, Mapping[str, Any]] | None = None) -> Table:
    """One row per scan of one patient: day, uptake time, status and the SUV inputs used.

    ``inputs`` maps scan_id to ``{"injected_mbq", "weight_kg", "height_cm", "sex",
    "sources"}`` (see :func:`suv_inputs_of`).
    """
    rows = scans[scans["patient_id"] == patient_id].sort_values("day", kind="stable")
    extra = pd.DataFrame([{"scan_id": s, **(inputs or {}).get(s, {})} for s in rows["scan_id"]])
    frame = rows.merge(extra, on="scan_id", how="left") if not extra.empty else rows
    frame = _days_as_text(frame)
    columns = {"scan_id": "scan", "day": "day", "hours_pi": "hours p.i.", "status": "status",
               "injected_mbq": "injected (MBq)", "weight_kg": "weight (kg)", "height_cm": "height (cm)",
               "sex": "sex", "suv_factor": "SUV factor (g/Bq)", "sources": "SUV inputs from", "error": "error"}
    if "error" in frame.columns and frame["error"].isna().all():
        columns.pop("error")
    return table_from_frame(frame, columns=columns, empty_text="No scans.")


def _value(audit: Mapping[str, Any], name: str) -> Any:
    for key, item in audit.items():
        if key == name and isinstance(item, Mapping) and "value" in item:
            return item["value"]
        if isinstance(item, Mapping) and key != "replaced":
            found = _value(item, name)
            if found is not None:
                return found
    return None


def suv_inputs_of(audit: Mapping[str, Any]) -> dict[str, Any]:
    """The SUV inputs shown in a scan row, read from the scan's SUV audit (no dates or names)."""
    from immunopet.report.qa import _as_mapping, _sourced_items

    audit = _as_mapping(audit)
    injected = _value(audit, "injected_bq")
    overridden = sorted(name for name, item in _sourced_items(audit) if str(item.get("source", "")).startswith("override"))
    return {
        "injected_mbq": None if injected is None else float(injected) / 1e6,
        "weight_kg": _value(audit, "weight_kg"),
        "height_cm": _value(audit, "height_cm"),
        "sex": _value(audit, "sex"),
        "sources": "header" + (f"; override: {', '.join(overridden)}" if overridden else ""),
    }


def stat_table(records: list[Mapping[str, Any]]) -> Table:
    """Analysis stat records (test, inputs, n, estimate with CI, p) as a table."""
    rows = []
    for r in records:
        estimate = r.get("estimate")
        ci = ""
        if r.get("ci_low") is not None and r.get("ci_high") is not None:
            ci = f"{_fmt(r['ci_low'])} to {_fmt(r['ci_high'])}"
        rows.append({
            "test": r.get("name") or r.get("test", ""), "inputs": r.get("inputs", ""), "n": r.get("n"),
            "estimate": "" if estimate is None else f"{r.get('estimate_label') or ''} {_fmt(estimate)}".strip(),
            "ci": ci, "p": _p(r.get("p_value")), "note": r.get("reason") or r.get("method") or "",
        })
    frame = pd.DataFrame(rows, columns=["test", "inputs", "n", "estimate", "ci", "p", "note"])
    if not frame["inputs"].astype(bool).any():
        frame = frame.drop(columns="inputs")
    return table_from_frame(frame, columns={"test": "result", "inputs": "inputs", "n": "n", "estimate": "estimate",
                                            "ci": "95% CI", "p": "p", "note": "method / note"})


def _fmt(value: Any) -> str:
    from immunopet.report.html import format_value

    return format_value(float(value)) if value is not None else ""


def _p(value: Any) -> str:
    if value is None:
        return ""
    value = float(value)
    return "< 0.001" if value < 0.001 else f"{value:.3f}"
