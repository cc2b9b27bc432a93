"""``results/lesion_tracking.csv``: the lesions of each patient's scans matched to its reference scan.

After a run, for every patient whose scans are registered (``registration/``, docs/registration.md),
each measured lesion's centre is mapped into the reference scan's frame through its scan's transform
(:func:`immunopet.register.transforms.to_reference`) and the lesions of each day are matched to the
reference scan's lesions by :func:`immunopet.voi.track.track_lesions` (Hungarian assignment on centre
distance, at most study.yaml ``lesion_match_max_mm``).

A lesion's centre is the one its VOI definition holds: the seed or sphere centre (``x_mm``,
``y_mm``, ``z_mm``; for a VOI drawn once, the centre as drawn, mapped from the scan it was drawn on),
or the centre of mass of its label in a ``mask`` file. Lesions given by RTSTRUCT, SEG or segmenter
folders have no centre here and are left out (logged). Only lesions measured in the store take part.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from immunopet.errors import ImmunoPETError
from immunopet.study.manifest import Study
from immunopet.study.masks import cell_given, label_key
from immunopet.study.results import Results
from immunopet.voi.track import ScanLesions, track_lesions

log = logging.getLogger(__name__)

FILE = "lesion_tracking.csv"
COLUMNS = ["patient_id", "scan_id", "day", "voi_id", "tracked_id", "status", "distance_mm"]


@dataclass(frozen=True)
class TrackingCounts:
    """Lesion rows of the non-reference scans by status (the line ``immunopet run`` prints)."""

    matched: int = 0
    new: int = 0
    vanished: int = 0

    @classmethod
    def of(cls, table: pd.DataFrame) -> TrackingCounts:
        status = table["status"].value_counts()
        return cls(int(status.get("matched", 0)), int(status.get("new", 0)), int(status.get("vanished", 0)))


class _Centres:
    """Lesion centres in their own scan's frame (LPS mm), each label map read once for the rows that follow."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self._maps: dict[Path, Any] = {}

    def of(self, row: Mapping[str, Any]) -> tuple[float, float, float] | None:
        if row["source"] in ("seed", "sphere") and all(cell_given(row.get(c)) for c in ("x_mm", "y_mm", "z_mm")):
            return float(row["x_mm"]), float(row["y_mm"]), float(row["z_mm"])
        if row["source"] == "mask" and cell_given(row.get("path")):
            return self._mask_centre(self.study.path(str(row["path"])), row.get("label"))
        return None

    def _mask_centre(self, path: Path, label: Any) -> tuple[float, float, float] | None:
        from immunopet.image import Image

        if path not in self._maps:
            self._maps.clear()  # one label map at a time: a scan's lesions share one, a study has hundreds
            self._maps[path] = Image.from_nifti(str(path), dtype=None)
        image = self._maps[path]
        key = label_key(label) if cell_given(label) else None
        if isinstance(key, str):  # a named label: its number is in the file's own table, no centre here
            return None
        selected = image.array > 0 if key is None else image.array == key
        if not selected.any():
            return None
        x, y, z = image.index_to_world(np.argwhere(selected).mean(axis=0))
        return float(x), float(y), float(z)


def _in_reference(study: Study, rows: pd.DataFrame, centres: _Centres, records: dict[str, dict[str, Any]],
                  transforms: dict[str, Any]) -> tuple[dict[str, tuple[float, ...]], frozenset[str], list[str]]:
    """``voi_id -> centre in the reference frame`` of one scan's lesion rows, the drawn-once ids,
    and the ids that have no centre."""
    from immunopet.register.transforms import to_reference
    from immunopet.study.registration import transform_of

    mapped, once, missing = {}, set(), []
    for row in rows.to_dict("records"):
        drawn_on = row.get("drawn_on")
        frame = str(drawn_on) if cell_given(drawn_on) else str(row["scan_id"])  # where the centre was given
        if cell_given(drawn_on):
            once.add(str(row["voi_id"]))
        centre = centres.of(row)
        if centre is None:
            missing.append(str(row["voi_id"]))
            continue
        if frame not in transforms:
            transforms[frame] = transform_of(study.root, frame, records=records)
        mapped[str(row["voi_id"])] = tuple(to_reference(transforms[frame], np.asarray([centre]))[0])
    return mapped, frozenset(once), missing


def lesion_tracking_table(study: Study, results: Results) -> pd.DataFrame:
    """The tracking table (:data:`COLUMNS`) of every registered patient; the others are logged."""
    from immunopet.study.registration_store import read_records

    records = read_records(study.root)
    measured = results.measurements[results.measurements["kind"] == "lesion"][["scan_id", "voi_id"]]
    lesion_rows = study.vois[study.vois["kind"] == "lesion"].merge(measured, on=["scan_id", "voi_id"])
    scans = results.scans[results.scans["status"] == "done"].sort_values(["day", "scan_id"])
    centres, transforms = _Centres(study), {}
    tables = []
    for pid, patient_scans in scans.groupby("patient_id", sort=True):
        pid = str(pid)
        ids = [str(s) for s in patient_scans["scan_id"]]
        lesions = lesion_rows[lesion_rows["scan_id"].isin(ids)]
        if lesions.empty:
            continue
        reference = {(records.get(s) or {}).get("reference_scan_id") for s in ids} - {None}
        if len(reference) != 1 or (next(iter(reference)) not in ids):
            log.info("patient %s: lesions not tracked over days: its scans are not registered (%s)", pid,
                     "run immunopet register STUDY_DIR" if not reference else "reference scan not measured")
            continue
        reference_id = next(iter(reference))
        try:
            per_scan, skipped, no_centre = {}, [], []
            for scan_id in ids:
                if scan_id != reference_id and (records.get(scan_id) or {}).get("status") != "done":
                    skipped.append(scan_id)
                    continue
                mapped, once, missing = _in_reference(study, lesions[lesions["scan_id"] == scan_id], centres,
                                                      records, transforms)
                per_scan[scan_id] = ScanLesions(scan_id, mapped, once)
                no_centre += [f"{scan_id}/{v}" for v in missing]
        except (ImmunoPETError, OSError, ValueError) as error:
            log.warning("patient %s: lesions not tracked over days: %s", pid, error)
            continue
        if skipped:
            log.info("patient %s: scans %s not registered: their lesions are not tracked", pid, ", ".join(skipped))
        if no_centre:
            log.info("patient %s: lesions without a centre (RTSTRUCT, SEG or segmenter VOIs) not tracked: %s",
                     pid, ", ".join(no_centre))
        others = [per_scan[s] for s in ids if s in per_scan and s != reference_id]
        tracked = track_lesions(per_scan[reference_id], others, max_distance_mm=study.config.lesion_match_max_mm)
        day_of = dict(zip(patient_scans["scan_id"].astype(str), patient_scans["day"].astype(float), strict=True))
        tables.append(pd.DataFrame([{"patient_id": pid, "scan_id": t.scan_id, "day": day_of[t.scan_id],
                                     "voi_id": t.voi_id, "tracked_id": t.tracked_id, "status": t.status,
                                     "distance_mm": t.distance_mm} for t in tracked], columns=COLUMNS))
    if not tables:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(tables, ignore_index=True)
    table["distance_mm"] = table["distance_mm"].astype(float).round(2)
    return table


def write_lesion_tracking(study: Study, results: Results, folder: Path) -> TrackingCounts | None:
    """Write ``folder/lesion_tracking.csv`` (atomic, spreadsheet-safe; header only when no patient is
    registered) and return its counts, ``None`` when no patient's lesions were tracked."""
    from immunopet.study.exports import write_csv

    table = lesion_tracking_table(study, results)
    write_csv(table, folder / FILE)
    return TrackingCounts.of(table) if not table.empty else None
