"""Validation of the study folder: every problem at once, each naming file, row and column."""

from __future__ import annotations

import pandas as pd
import pytest

from immunopet.errors import StudyError
from immunopet.study import StudyValidationError, load_study
from immunopet.study.problems import Problem


def test_valid_study_loads_typed_tables(analytic_study):
    study = load_study(analytic_study)
    assert study.config.name == "ANALYTIC"
    assert study.config.nuclide == "Zr-89"
    assert list(study.patients["patient_id"]) == ["P01", "P02", "P03"]
    assert len(study.scans) == 6 and len(study.vois) == 18 and len(study.lesions) == 3
    assert study.scans["day"].dtype.kind == "f"
    # spreadsheet rows: header is row 1
    assert list(study.scans["_row"]) == [2, 3, 4, 5, 6, 7]
    assert study.path("pet/x.nii.gz") == analytic_study.resolve() / "pet" / "x.nii.gz"


def _edit(path, change):
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(table)
    table.to_csv(path, index=False)


def test_broken_study_reports_every_problem_with_file_row_column(analytic_study):
    root = analytic_study
    (root / "study.yaml").write_text("name: X\nnuclide: Zr-89\nsuv_tpye: lbm\noutcome_day: -1\n")

    def patients(t):
        t.loc[1, "sex"] = "X"  # row 3
        t.loc[2, "patient_id"] = "P01"  # row 4: duplicate

    def scans(t):
        t.loc[0, "patient_id"] = "P99"  # row 2: unknown patient
        t.loc[1, "day"] = "seven"  # row 3: not a number
        t.loc[2, "pet"] = "pet/missing.nii.gz"  # row 4: file missing

    def vois(t):
        t.loc[1, "x_mm"] = ""  # row 3: sphere without centre x
        t.loc[2, "scan_id"] = "NOPE"  # row 4: unknown scan
        t.loc[3, "path"] = ""  # row 5: mask without path
        t.loc[4, "source"] = "lasso"  # row 6: unknown source

    _edit(root / "patients.csv", patients)
    _edit(root / "scans.csv", scans)
    _edit(root / "vois.csv", vois)
    with pytest.raises(StudyValidationError) as raised:
        load_study(root)
    found = {(p.file, p.row, p.column) for p in raised.value.problems}
    expected = {
        ("study.yaml", None, "suv_tpye"),
        ("study.yaml", None, "outcome_day"),
        ("patients.csv", 3, "sex"),
        ("patients.csv", 4, "patient_id"),
        ("scans.csv", 2, "patient_id"),
        ("scans.csv", 3, "day"),
        ("scans.csv", 4, "pet"),
        ("vois.csv", 3, "x_mm"),
        ("vois.csv", 4, "scan_id"),
        ("vois.csv", 5, "path"),
        ("vois.csv", 6, "source"),
    }
    assert expected <= found, expected - found
    assert isinstance(raised.value, StudyError)
    text = str(raised.value)
    assert "scans.csv, row 2, column patient_id: 'P99' is not in patients.csv" in text
    assert "unknown key" in text


def test_missing_columns_and_files_are_reported(analytic_study):
    (analytic_study / "vois.csv").unlink()
    _edit(analytic_study / "scans.csv", lambda t: t.drop(columns=["day"], inplace=True))
    with pytest.raises(StudyValidationError) as raised:
        load_study(analytic_study)
    assert Problem("vois.csv", None, None, f"file not found in {analytic_study.resolve()}") in raised.value.problems
    assert any(p.file == "scans.csv" and p.row == 1 and p.column == "day" for p in raised.value.problems)


def test_source_requirements(analytic_study):
    def vois(t):
        t.loc[0, ["source", "path", "label"]] = ["rtstruct", "masks/P01_D2_liver.nii.gz", ""]  # rtstruct needs label
        t.loc[1, "volume_ml"] = "2.9"  # sphere with both diameter and volume
        t.loc[2, "delineation"] = "fixed"  # sphere cannot be delineated, and fixed needs a threshold

    _edit(analytic_study / "vois.csv", vois)
    with pytest.raises(StudyValidationError) as raised:
        load_study(analytic_study)
    found = {(p.row, p.column) for p in raised.value.problems}
    assert {(2, "label"), (3, "diameter_mm"), (4, "delineation"), (4, "threshold")} <= found


def test_lesion_table_must_name_lesion_vois(analytic_study):
    _edit(analytic_study / "lesions.csv", lambda t: t.__setitem__("voi_id", ["L1", "L7", "liver"]))
    with pytest.raises(StudyValidationError) as raised:
        load_study(analytic_study)
    assert {(p.file, p.row, p.column) for p in raised.value.problems} == {("lesions.csv", 3, "voi_id"), ("lesions.csv", 4, "voi_id")}


def test_spreadsheet_habits_are_accepted(analytic_study):
    """Lower-case sex, whole numbers written as 1.0, a trailing blank line."""
    def patients(t):
        t["sex"] = "f"
        t["pfs_months"] = "6"
        t["pfs_event"] = "1.0"
    _edit(analytic_study / "patients.csv", patients)
    path = analytic_study / "patients.csv"
    n_columns = len(path.read_text().splitlines()[0].split(","))
    with path.open("a") as handle:
        handle.write("," * (n_columns - 1) + "\n")
    study = load_study(analytic_study)
    assert set(study.patients["sex"]) == {"F"}
    assert list(study.patients["pfs_event"]) == [1, 1, 1]
    assert len(study.patients) == 3


def test_an_invalid_row_does_not_cause_follow_on_errors(analytic_study):
    """A scan row rejected for its day still counts as a known scan for vois.csv."""
    _edit(analytic_study / "scans.csv", lambda t: t.__setitem__("day", ["x", "2", "7", "2", "7", "2"]))
    with pytest.raises(StudyValidationError) as raised:
        load_study(analytic_study)
    assert [(p.file, p.row, p.column) for p in raised.value.problems] == [("scans.csv", 2, "day")]
    assert "found 'x'" in raised.value.problems[0].message


def test_nifti_pet_must_be_in_the_study_suv(analytic_study):
    text = (analytic_study / "study.yaml").read_text()
    (analytic_study / "study.yaml").write_text(text.replace("suv_type: bw", "suv_type: lbm"))
    with pytest.raises(StudyValidationError) as raised:
        load_study(analytic_study)
    problems = raised.value.problems
    assert len(problems) == 6 and {(p.column, p.row) for p in problems} == {("pet_units", r) for r in range(2, 8)}
    assert "SUVlbm" in problems[0].message


def test_empty_tables_are_reported(analytic_study):
    (analytic_study / "vois.csv").write_text("scan_id,voi_id,kind,site,source\n")
    with pytest.raises(StudyValidationError) as raised:
        load_study(analytic_study)
    problems = [(p.file, p.row, p.column) for p in raised.value.problems]
    # lesions.csv then names lesion VOIs that do not exist
    assert problems == [("vois.csv", None, None), ("lesions.csv", 2, "voi_id"), ("lesions.csv", 3, "voi_id"),
                        ("lesions.csv", 4, "voi_id")]
    assert "no rows" in raised.value.problems[0].message
