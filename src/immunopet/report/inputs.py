"""What the report reads: the run's results, the analyses and (when asked) the patients' identifiers."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from immunopet.errors import StudyError

log = logging.getLogger(__name__)


@dataclass
class ReportInputs:
    """Everything a report is made from (tables as DataFrames, the analysis summary as a dict)."""

    study_dir: Path
    config: Any
    measurements: pd.DataFrame
    patients: pd.DataFrame
    scans: pd.DataFrame
    failed_vois: pd.DataFrame
    analysis: dict[str, Any] = field(default_factory=dict)
    analysis_tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _failed_vois(results: Any) -> pd.DataFrame:
    vois = getattr(results, "vois", None)
    if isinstance(vois, pd.DataFrame) and "status" in vois.columns:
        failed = vois[vois["status"].astype(str) != "done"]
        keep = [c for c in ("scan_id", "voi_id", "kind", "site", "error") if c in failed.columns]
        return failed[keep].reset_index(drop=True)
    return pd.DataFrame(columns=["scan_id", "voi_id", "error"])


def read_analysis(study_dir: Path, *, run_if_missing: bool = True) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """``analysis/analysis.json`` and its CSV tables; runs the analyses first when they are missing."""
    folder = study_dir / "analysis"
    path = folder / "analysis.json"
    if not path.is_file() and run_if_missing:
        from immunopet.analysis import analyze_study

        log.info("no analyses found in %s: running them", folder)
        analyze_study(study_dir)
    if not path.is_file():
        return {}, {}
    summary = json.loads(path.read_text(encoding="utf-8"))
    tables = {}
    for csv in sorted(folder.glob("*.csv")):
        try:
            tables[csv.stem] = pd.read_csv(csv)
        except pd.errors.EmptyDataError:  # an analysis that could not run writes an empty table
            tables[csv.stem] = pd.DataFrame()
        except pd.errors.ParserError as error:
            log.warning("%s: not read (%s)", csv, error)
    return summary, tables


def read_inputs(study_dir: str | Path, *, db_url: str | None = None, run_analyses: bool = True) -> ReportInputs:
    """Load the results of ``immunopet run`` (and the analyses) for the report.

    Raises
    ------
    StudyError
        When the study has no results yet.
    """
    from immunopet.study import load_results

    root = Path(study_dir).resolve()
    results = load_results(root, db_url=db_url)
    if results.measurements is None or len(results.scans) == 0:
        raise StudyError("the study has no results yet", file=root, fix=f"run `immunopet run {root}` first")
    summary, tables = read_analysis(root, run_if_missing=run_analyses)
    return ReportInputs(
        study_dir=root, config=results.config, measurements=results.measurements, patients=results.patients,
        scans=results.scans, failed_vois=_failed_vois(results), analysis=summary, analysis_tables=tables,
    )


def dicom_identifiers(pet_paths: dict[str, Path]) -> pd.DataFrame:
    """PatientName, PatientBirthDate and PatientID from one PET file of each patient.

    Only called for ``--include-identifiers``; a patient whose file cannot be read gets blanks.
    """
    import pydicom

    rows = []
    for patient_id, path in pet_paths.items():
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        row: dict[str, Any] = {"patient_id": patient_id}
        for file in files[:20]:
            try:
                ds = pydicom.dcmread(file, stop_before_pixels=True,
                                     specific_tags=["PatientName", "PatientBirthDate", "PatientID"])
            except (pydicom.errors.InvalidDicomError, OSError):
                continue
            row.update(PatientName=str(ds.get("PatientName", "")), PatientBirthDate=str(ds.get("PatientBirthDate", "")),
                       PatientID=str(ds.get("PatientID", "")))
            break
        rows.append(row)
    return pd.DataFrame(rows, columns=["patient_id", "PatientName", "PatientBirthDate", "PatientID"])
