"""Editing copies of study tables in tests, and collecting what ``load_study`` refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest


def edit_table(path: Path, change: Callable[[pd.DataFrame], object]) -> None:
    """Read a study table as text, let ``change`` edit it in place, write it back."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(table)
    table.to_csv(path, index=False)


def set_cell(frame: pd.DataFrame, row: int, column: str, value: str) -> None:
    """Set the cell of spreadsheet row ``row`` (the header is row 1)."""
    frame.loc[row - 2, column] = value


def problems_of(study_dir: Path) -> list[tuple[str, int | None, str | None, str]]:
    """``(file, row, column, message)`` of every problem ``load_study`` finds (fails if none)."""
    from immunopet.study import StudyValidationError, load_study

    with pytest.raises(StudyValidationError) as raised:
        load_study(study_dir)
    return [(p.file, p.row, p.column, p.message) for p in raised.value.problems]


def keep_patients(out: Path, patients: list[int]) -> None:
    """Cut the tables of a study copy down to some patients (positions in patients.csv)."""
    everyone = pd.read_csv(out / "patients.csv", dtype=str, keep_default_na=False)["patient_id"]
    chosen = [everyone.iloc[i] for i in patients]
    scans = pd.read_csv(out / "scans.csv", dtype=str, keep_default_na=False)
    scans = scans[scans["patient_id"].isin(chosen)]
    scans.to_csv(out / "scans.csv", index=False)
    for table, key, keep in (("patients", "patient_id", chosen), ("lesions", "patient_id", chosen),
                             ("vois", "scan_id", list(scans["scan_id"]))):
        frame = pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False)
        frame[frame[key].isin(keep)].to_csv(out / f"{table}.csv", index=False)


def copy_patients(study: Path, out: Path, patients: list[int]) -> Path:
    """A copy of ``study`` with only the images and tables of some patients (positions in patients.csv)."""
    import shutil

    everyone = pd.read_csv(study / "patients.csv", dtype=str, keep_default_na=False)["patient_id"]
    chosen = {everyone.iloc[i] for i in patients}

    def ignore(folder: str, names: list[str]) -> list[str]:
        here = Path(folder)
        if here == study:
            return [n for n in names if n in ("results", "truth", "analysis", "report")]
        if here == study / "dicom":
            return [n for n in names if n not in chosen]
        if here == study / "masks":
            return [n for n in names if not any(n.startswith(f"{p}_") for p in chosen)]
        return []

    shutil.copytree(study, out, ignore=ignore)
    keep_patients(out, patients)
    return out
