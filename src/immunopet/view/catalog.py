"""What the viewer may show: patients, scans and VOI numbers of a study that has been run.

Everything here is keyed by the study's pseudonymous ids (``patient_id``, ``scan_id``, ``voi_id``);
URLs carry only these ids, checked against this catalog, never a file path. Names, birth dates,
DICOM UIDs and calendar dates are never part of it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: the characters an id may have to be served at all (others are answered with 404)
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$")

METRICS = ("suv_max", "suv_peak", "suv_peak_local", "suv_mean", "volume_ml", "tbr_max")
PATIENT_FIELDS = ("patient_id", "tumour_type", "dose_cohort", "best_response", "pet_uptake", "n_lesions")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    """A table cell as JSON: whole numbers stay int, non-finite floats and missing cells become None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _number(value)
    return str(value)


@dataclass(frozen=True)
class ScanEntry:
    """One scan as the viewer serves it (paths stay on the server)."""

    scan_id: str
    patient_id: str
    day: float
    hours_pi: float | None
    status: str
    pet: Path
    ct: Path | None
    series_uid: str | None
    suv_factor: float | None
    input_hash: str


class ViewCatalog:
    """The study's patients, scans and measurements, from ``load_study`` and ``load_results``."""

    def __init__(self, study_dir: str | Path, *, db_url: str | None = None) -> None:
        from immunopet.study import load_results, load_study

        self.study = load_study(study_dir)
        self.root = self.study.root
        self.results = load_results(self.root, db_url=db_url)
        self.db_url = db_url
        hashes = _input_hashes(self.results, self.root, db_url)
        self._scans: dict[str, ScanEntry] = {}
        stored = self.results.scans.set_index("scan_id")
        for row in self.study.scans.to_dict("records"):
            scan_id = str(row["scan_id"])
            if scan_id not in stored.index or not ID_PATTERN.match(scan_id):
                continue
            done = stored.loc[scan_id]
            ct = row.get("ct")
            self._scans[scan_id] = ScanEntry(
                scan_id=scan_id,
                patient_id=str(row["patient_id"]),
                day=float(row["day"]),
                hours_pi=_number(done["hours_pi"]),
                status=str(done["status"]),
                pet=self.study.path(str(row["pet"])),
                ct=self.study.path(str(ct)) if isinstance(ct, str) and ct.strip() else None,
                series_uid=row.get("pet_series_uid") if isinstance(row.get("pet_series_uid"), str) else None,
                suv_factor=_number(done["suv_factor"]),
                input_hash=hashes.get(scan_id, ""),
            )

    # ----- lookups (None = not served: the caller answers 404) ---------------------------------
    def scan(self, scan_id: str) -> ScanEntry | None:
        return self._scans.get(scan_id) if ID_PATTERN.match(scan_id or "") else None

    def has_patient(self, patient_id: str) -> bool:
        return bool(ID_PATTERN.match(patient_id or "")) and any(s.patient_id == patient_id for s in self._scans.values())

    # ----- JSON-able views ----------------------------------------------------------------------
    def patients(self) -> list[dict[str, Any]]:
        """One entry per patient with a scan: id, tumour type, cohort, best response, PET uptake."""
        table = self.results.patients
        served = {s.patient_id for s in self._scans.values()}
        rows = []
        for record in table.to_dict("records"):
            if str(record.get("patient_id")) in served:
                rows.append({field: _plain(record.get(field)) for field in PATIENT_FIELDS})
        return sorted(rows, key=lambda r: str(r["patient_id"]))

    def patient_scans(self, patient_id: str) -> list[dict[str, Any]]:
        scans = sorted((s for s in self._scans.values() if s.patient_id == patient_id), key=lambda s: (s.day, s.scan_id))
        return [{"scan_id": s.scan_id, "day": s.day, "hours_pi": s.hours_pi, "status": s.status,
                 "has_ct": s.ct is not None} for s in scans]

    def scan_measurements(self, scan_id: str) -> list[dict[str, Any]]:
        """The VOI rows of one scan (kind, site and the metrics of :data:`METRICS`)."""
        table = self.results.measurements
        rows = table[table["scan_id"] == scan_id]
        keep = ["voi_id", "kind", "site", "suv_type", *METRICS]
        return [{k: _plain(v) for k, v in r.items()} for r in rows.reindex(columns=keep).to_dict("records")]

    def patient_over_days(self, patient_id: str) -> list[dict[str, Any]]:
        """SUVmax (lesions) or SUVmean (organs) of each VOI of a patient on each scan day."""
        table = self.results.measurements
        rows = table[table["patient_id"] == patient_id]
        out = []
        for (voi_id, kind), group in rows.groupby(["voi_id", "kind"], sort=True):
            metric = "suv_max" if kind == "lesion" else "suv_mean"
            values = {f"{day:g}": _number(v) for day, v in group.groupby("day")[metric].mean().items()}
            out.append({"voi_id": str(voi_id), "kind": str(kind), "metric": metric, "by_day": values})
        return out


def _input_hashes(results: Any, root: Path, db_url: str | None) -> dict[str, str]:
    """``scan_id -> input_hash`` from the store (PET, scan row, patient size, VOIs and masks)."""
    import sqlalchemy as sa

    from immunopet.study import schema, store

    engine = store.open_store(db_url or store.default_url(root), create=False)
    try:
        with engine.connect() as conn:
            query = sa.select(schema.scans.c.scan_id, schema.scans.c.input_hash).where(
                schema.scans.c.study == results.config.name)
            return {str(scan_id): str(value) for scan_id, value in conn.execute(query)}
    finally:
        engine.dispose()
