"""The study tables (docs/study-format.md) and the ground truth folder written by the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from immunopet.simulate.cohort import LESION_COLUMNS, Cohort

SCAN_COLUMNS = ["scan_id", "patient_id", "day", "pet", "ct"]
VOI_COLUMNS = ["scan_id", "voi_id", "kind", "site", "source", "path", "label", "x_mm", "y_mm", "z_mm",
               "diameter_mm", "volume_ml", "delineation", "threshold"]


def study_yaml(params: dict[str, Any], days: list[float]) -> dict[str, Any]:
    """The ``study.yaml`` content of a simulated study (outcome day: the last scan if not scanned)."""
    sp = params["study"]
    outcome_day = sp["outcome_day"] if float(sp["outcome_day"]) in days else max(days)
    return {"name": sp["name"], "tracer": sp["tracer"], "nuclide": sp["nuclide"], "suv_type": "bw",
            "suv_peak": "global", "outcome_day": outcome_day, "lesion_metric": "suv_max",
            "responders": ["CR", "PR"],
            "tables": {"patients": "patients.csv", "scans": "scans.csv", "vois": "vois.csv",
                       "lesions": "lesions.csv"}}


def _csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def write_tables(out_dir: Path, cohort: Cohort, rows: dict[str, list[dict]], *, seed: int, quick: bool,
                 retest: bool = False, scenario: str | None = None) -> None:
    """Write study.yaml, the four tables and ``truth/`` (``scans.csv`` gets ``retest_of`` with ``retest``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "study.yaml").write_text(yaml.safe_dump(study_yaml(cohort.params, sorted(set(cohort.scans["day"]))), sort_keys=False), encoding="utf-8")
    _csv(cohort.patients, out_dir / "patients.csv")
    _csv(pd.DataFrame(rows["scans"], columns=SCAN_COLUMNS + (["retest_of"] if retest else [])), out_dir / "scans.csv")
    vois = pd.DataFrame(rows["vois"], columns=VOI_COLUMNS)
    vois["label"] = vois["label"].astype("Int64")
    _csv(vois, out_dir / "vois.csv")
    _csv(cohort.lesions[LESION_COLUMNS], out_dir / "lesions.csv")
    truth = out_dir / "truth"
    truth.mkdir(exist_ok=True)
    _csv(pd.DataFrame(rows["truth"]), truth / "truth.csv")
    _csv(pd.DataFrame(rows["positions"]), truth / "lesion_positions.csv")
    _csv(pd.DataFrame(rows["poses"]), truth / "poses.csv")
    _csv(cohort.lesions, truth / "lesions.csv")
    _csv(cohort.organs, truth / "organs.csv")
    _csv(cohort.subjects, truth / "subjects.csv")
    _csv(cohort.scans, truth / "scan_times.csv")
    (truth / "params.yaml").write_text(
        yaml.safe_dump({"seed": seed, "quick": quick, "retest": retest, "scenario": scenario or "default",
                        "params": cohort.params}, sort_keys=False), encoding="utf-8")
