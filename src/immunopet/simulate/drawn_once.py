"""The simulator's ``vois.csv`` with VOIs drawn once per patient (``simulate --vois drawn-once``).

Instead of every VOI on every scan (the per-day truth), each patient gets what a reader gives once
(docs/study-format.md, "VOIs drawn once"):

- the standard organs of the segmenter rules (``blood_pool``, ``bone_marrow``, ``liver``, ``spleen``,
  ``kidneys``, ``lungs``, ``brain``, ``muscle``) as ``segmenter-rules`` rows of the scan whose CT the
  simulator segmented (``segmentations/<scan_id>/``, the outcome day), measured on every scan after
  registration;
- every lesion as a ``seed`` at its true centre on that scan, delineated on each day's own PET
  (``pct_max`` inside a search sphere of twice its baseline diameter plus 10 mm, 30-60 mm);
- the organs the rules do not derive (``intestine``, ``lymph_nodes``, ``tonsils``) stay per-day
  label-map rows, so the biodistribution keeps them.

The per-day rows remain the truth the drawn-once VOIs are checked against (``truth/`` is unchanged).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from immunopet.simulate.manifest import VOI_COLUMNS

#: The VOI layouts of a simulated study (``--vois``): every VOI on every scan, or drawn once per patient.
VOI_LAYOUTS = ("per-day", "drawn-once")


def check_voi_layout(value: object) -> str:
    """``value`` if it names a layout of :data:`VOI_LAYOUTS`; else an error naming ``--vois``."""
    if value not in VOI_LAYOUTS:
        from immunopet.errors import ImmunoPETError

        raise ImmunoPETError(f"unknown VOI layout {value!r}", attribute="--vois", fix="give --vois per-day or drawn-once")
    return str(value)


#: Organs the segmenter rules derive (immunopet.voi.organ_rules).
RULE_ORGANS = ("blood_pool", "bone_marrow", "liver", "spleen", "kidneys", "lungs", "brain", "muscle")
DRAWN_COLUMNS = ["scan_id", "patient_id", "drawn_on", *VOI_COLUMNS[1:]]


def search_diameter_mm(lesion_diameter_mm: np.ndarray) -> np.ndarray:
    """The seed's search sphere: twice the lesion's baseline diameter plus 10 mm, within 30-60 mm."""
    return np.clip(2.0 * np.asarray(lesion_diameter_mm, dtype=float) + 10.0, 30.0, 60.0).round(1)


def drawn_once_vois(vois: pd.DataFrame, scans: pd.DataFrame, positions: pd.DataFrame, lesions: pd.DataFrame,
                    segmented: dict[str, str]) -> pd.DataFrame:
    """The drawn-once table (module docstring) from the per-day one.

    Parameters
    ----------
    vois, scans, lesions
        The simulator's per-day ``vois.csv``, ``scans.csv`` and ``lesions.csv``.
    positions
        ``truth/lesion_positions.csv`` (true lesion centres per scan).
    segmented
        Patient id -> the scan whose CT has a segmenter folder.
    """
    patient_of = scans.set_index("scan_id")["patient_id"]
    centres = positions.set_index(["scan_id", "voi_id"])
    diameters = lesions.set_index(["patient_id", "voi_id"])["baseline_diameter_mm"]
    rows = []
    for patient_id, scan_id in segmented.items():
        own = vois[(vois["scan_id"] == scan_id)]
        for voi in RULE_ORGANS:
            rows.append({"patient_id": patient_id, "drawn_on": scan_id, "voi_id": voi, "kind": "organ", "site": voi,
                         "source": "segmenter-rules", "path": f"segmentations/{scan_id}"})
        for row in own[own["kind"] == "lesion"].itertuples(index=False):
            x, y, z = (float(centres.loc[(scan_id, row.voi_id), axis]) for axis in ("x_mm", "y_mm", "z_mm"))
            rows.append({"patient_id": patient_id, "drawn_on": scan_id, "voi_id": row.voi_id, "kind": "lesion",
                         "site": row.site, "source": "seed", "x_mm": round(x, 2), "y_mm": round(y, 2),
                         "z_mm": round(z, 2), "delineation": "pct_max",
                         "diameter_mm": float(search_diameter_mm(diameters.loc[(patient_id, row.voi_id)]))})
    kept = vois[(vois["kind"] == "organ") & ~vois["voi_id"].isin(RULE_ORGANS)].copy()
    kept["patient_id"] = kept["scan_id"].map(patient_of)
    table = pd.concat([pd.DataFrame(rows), kept], ignore_index=True)
    table["label"] = table["label"].astype("Int64") if "label" in table else pd.NA
    return table.reindex(columns=DRAWN_COLUMNS)


def write_drawn_once(study_dir: Path) -> None:
    """Rewrite ``study_dir/vois.csv`` of a simulated study with VOIs drawn once per patient."""
    scans = pd.read_csv(study_dir / "scans.csv")
    segmented = {}
    for folder in sorted((study_dir / "segmentations").iterdir()):
        match = scans[scans["scan_id"] == folder.name]
        if not match.empty:
            segmented[str(match["patient_id"].iloc[0])] = folder.name
    table = drawn_once_vois(pd.read_csv(study_dir / "vois.csv"), scans,
                            pd.read_csv(study_dir / "truth" / "lesion_positions.csv"),
                            pd.read_csv(study_dir / "lesions.csv"), segmented)
    table.to_csv(study_dir / "vois.csv", index=False, lineterminator="\n")
