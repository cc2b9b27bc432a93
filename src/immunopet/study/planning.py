"""Which scans a run must measure, and why: the incremental part of ``immunopet run``.

A scan is measured again when anything its numbers depend on changed: its PET files, its
``scans.csv`` row, the patient's sex or height, any of its ``vois.csv`` rows or mask files, or the
parameters (SUV type, SUVpeak definition, nuclide, software version). Otherwise it is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from immunopet.errors import ImmunoPETError
from immunopet.study.fingerprint import canonical_json, hash_path, hash_row, sha256_text
from immunopet.study.manifest import Study
from immunopet.study.worker import ScanTask


@dataclass
class ScanPlan:
    """One scan of the study with its hashes and the reason to measure it (``None``: skip)."""

    scan_id: str
    task: ScanTask
    pet_hash: str
    input_hash: str
    voi_hashes: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    reason: str | None = None
    skip_reason: str | None = None
    failure: str | None = None  # an input could not be read: the scan fails without being sent out


def run_parameters(study: Study, *, version: str) -> dict[str, Any]:
    """The parameters results depend on (stored with every result row)."""
    return {
        "suv_type": study.config.suv_type,
        "suv_peak": study.config.suv_peak,
        "nuclide": study.config.nuclide,
        "software_version": version,
    }


def params_hash(parameters: dict[str, Any]) -> str:
    return sha256_text(canonical_json(parameters))


def _value(row: dict[str, Any], key: str) -> Any:
    """A cell, ``None`` when empty: pandas fills the empty cells of a partly filled column with NaN,
    NaT or NA, which must never reach the loader as a value."""
    value = row.get(key)
    if value is None or (not isinstance(value, (str, list, dict, tuple)) and bool(pd.isna(value))):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _overrides(scan: dict[str, Any], patient: dict[str, Any]) -> dict[str, Any]:
    found = {
        "injection_datetime": _value(scan, "injection_datetime"),
        "injected_bq": None if _value(scan, "injected_mbq") is None else float(scan["injected_mbq"]) * 1e6,
        "weight_kg": _value(scan, "weight_kg"),
        "height_cm": _value(patient, "height_cm"),
        "sex": _value(patient, "sex"),
    }
    return {k: v for k, v in found.items() if v is not None}


def clean_records(frame) -> list[dict[str, Any]]:
    """Rows of a table as dicts with ``None`` for empty cells (never NaN: JSON and SQL safe)."""
    return [{k: _value(r, k) for k in r} for r in frame.to_dict("records")]


def plan_scans(
    study: Study, stored: dict[str, dict[str, Any]], *, parameters: dict[str, Any], force: bool = False
) -> list[ScanPlan]:
    """Hash every scan's inputs and compare with the store.

    Parameters
    ----------
    study
        The validated study.
    stored
        What the store holds (:func:`immunopet.study.store.stored_scans`).
    parameters
        :func:`run_parameters` of this run.
    force
        Measure every scan regardless.
    """
    wanted_params = params_hash(parameters)
    patients = {r["patient_id"]: r for r in clean_records(study.patients)}
    path_hashes: dict[Path, str] = {}

    policy = study.policy
    rules = study.config.organ_rules.given()

    def hashed(path: Path) -> str:
        if path not in path_hashes:
            path_hashes[path] = hash_path(path, allowed=policy.inside)
        return path_hashes[path]

    plans = []
    for scan in clean_records(study.scans):
        patient = patients[scan["patient_id"]]
        pet_path = study.path(scan["pet"])
        vois = []
        voi_hashes = {}
        failure = None
        try:
            pet_hash = hashed(pet_path)
        except ImmunoPETError as unreadable:
            pet_hash, failure = sha256_text(str(unreadable)), str(unreadable)
        for row in clean_records(study.scan_vois(scan["scan_id"])):
            if rules and row.get("source") == "segmenter-rules":
                row = {**row, "organ_rules": rules}  # part of the VOI's definition: a change re-measures it
            try:
                mask_hash = hashed(study.path(row["path"])) if row.get("path") else None
            except ImmunoPETError as unreadable:
                mask_hash, failure = sha256_text(str(unreadable)), failure or f"VOI {row['voi_id']}: {unreadable}"
            voi_hashes[row["voi_id"]] = (hash_row(row), mask_hash)
            vois.append({k: v for k, v in row.items() if k != "_row"})
        input_hash = sha256_text(canonical_json({
            "pet": pet_hash,
            "scan": hash_row(scan),
            "patient": canonical_json({"sex": patient.get("sex"), "height_cm": patient.get("height_cm")}),
            "vois": canonical_json({k: list(v) for k, v in sorted(voi_hashes.items())}),
        }))
        task = ScanTask(
            scan_id=scan["scan_id"], root=str(study.root), pet=str(pet_path), series_uid=scan.get("pet_series_uid"),
            pet_units=scan.get("pet_units"), overrides=_overrides(scan, patient), vois=vois,
            suv_type=study.config.suv_type, nuclide=study.config.nuclide,
        )
        plan = ScanPlan(scan["scan_id"], task, pet_hash, input_hash, voi_hashes, failure=failure)
        before = stored.get(scan["scan_id"])
        if failure is not None:
            plan.reason = "an input cannot be read"
        elif force:
            plan.reason = "forced (--force)"
        elif before is None:
            plan.reason = "new scan"
        elif before["status"] != "done":
            plan.reason = "failed before: tried again"
        elif before["params_hash"] != wanted_params:
            plan.reason = "parameters or software version changed"
        elif before["pet_hash"] != pet_hash:
            plan.reason = "PET files changed"
        elif before["input_hash"] != input_hash:
            plan.reason = "scan row, patient size or VOIs changed"
        else:
            plan.skip_reason = f"unchanged since run {before['run_id']}"
        plans.append(plan)
    return plans
