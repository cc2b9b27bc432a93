"""A run on hostile tables and folders: right numbers, plain messages, nothing identifying stored,
no spreadsheet formula exported."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import sqlalchemy as sa
from support.tables import copy_patients, edit_table, set_cell

from immunopet.cli import main
from immunopet.study import load_results, load_study, run_study

FORMULA = '=HYPERLINK("http://example.org/x","click")'
PATIENT_FOLDER = "DOE_JANE_MRN99887766"


@pytest.fixture(scope="module")
def hostile(quick_study, tmp_path_factory):
    """One patient's study below a folder named after a patient and with Rich markup in its path,
    a formula in a text cell, one scan whose PET folder holds no DICOM; run once (SQLite)."""
    root = tmp_path_factory.mktemp("hostile") / PATIENT_FOLDER / "st[" / "x]dy"
    study = copy_patients(quick_study, root, [0])
    broken = study / "dicom" / "broken"
    broken.mkdir()
    (broken / "junk.dcm").write_text("not DICOM")
    edit_table(study / "patients.csv", lambda t: set_cell(t, 2, "tumour_type", FORMULA))
    edit_table(study / "scans.csv", lambda t: set_cell(t, 3, "pet", "dicom/broken"))
    failed_scan = pd.read_csv(study / "scans.csv")["scan_id"].iloc[1]
    summary = run_study(study, workers=1, progress=False)
    assert [o.scan_id for o in summary.failed] == [failed_scan] and len(summary.done) == 3
    return study, failed_scan


def test_markup_in_the_folder_name_is_printed_as_text(hostile, capsys):
    study, failed_scan = hostile
    assert main(["validate", str(study)]) == 0
    assert main(["run", str(study), "--workers", "1"]) == 1  # the failed scan is tried again, and fails
    err = " ".join(capsys.readouterr().err.split())
    assert "st[/x]dy" in err and failed_scan in err and "1 failed" in err and "3 skipped" in err


def test_markup_in_a_cell_is_listed_as_a_problem(hostile, tmp_path, capsys):
    import shutil

    study = shutil.copytree(hostile[0], tmp_path / "x[" / "y]" / "study", ignore=shutil.ignore_patterns("results"))
    edit_table(study / "scans.csv", lambda t: set_cell(t, 2, "day", "[/x]"))
    assert main(["validate", str(study)]) == 3
    err = capsys.readouterr().err
    assert "'[/x]'" in err and "scans.csv" in err and "day" in err


def test_the_store_keeps_no_uid_date_or_folder_path(hostile):
    study, failed_scan = hostile
    scans = load_results(study).scans.set_index("scan_id")
    assert scans.loc[failed_scan, "status"] == "failed"
    error = scans.loc[failed_scan, "error"]
    assert "dicom/broken" in error and PATIENT_FOLDER not in error and str(study) not in error
    for text in scans["suv_audit"].dropna():
        audit = json.loads(text)
        assert PATIENT_FOLDER not in text and "uid" not in text.lower()
        assert not re.search(r"(19|20)\d\d-[01]\d-[0-3]\d", text), "a calendar date was stored"
        assert audit["inputs"]["injection_datetime"]["value"] == "injection +0.000 h"
        hours = float(audit["inputs"]["scan_datetime"]["value"].split()[1])
        assert hours == pytest.approx(audit["uptake_hours"], abs=1e-3)  # uptake time kept, date gone
        assert audit["source"].startswith("dicom/")


def test_include_identifiers_keeps_what_the_header_said(hostile, tmp_path):
    import shutil

    study = shutil.copytree(hostile[0], tmp_path / "study", ignore=shutil.ignore_patterns("results"))
    run_study(study, workers=1, progress=False, include_identifiers=True)
    audit = json.loads(load_results(study).scans.dropna(subset=["suv_audit"])["suv_audit"].iloc[0])
    assert audit["series_uid"].startswith("2.25.")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", audit["inputs"]["injection_datetime"]["value"])
    assert audit["source"] == str(study / load_study(study).scans["pet"].iloc[0])


def test_formulas_in_text_cells_are_neutralised_in_the_csv_exports(hostile):
    study, _ = hostile
    patients = pd.read_csv(study / "results" / "patients.csv", dtype=str)
    measurements = pd.read_csv(study / "results" / "measurements.csv", dtype=str)
    assert set(patients["tumour_type"]) == {"'" + FORMULA}
    assert set(measurements["tumour_type"]) == {"'" + FORMULA}
    assert (measurements["suv_max"].astype(float) > 0).all()  # numbers stay numbers
    assert set(pd.read_parquet(study / "results" / "measurements.parquet")["tumour_type"]) == {FORMULA}


def test_an_override_on_some_rows_only_leaves_the_others_to_their_headers(quick_study, measured, tmp_path):
    from immunopet.dicom import load_pet

    study = copy_patients(quick_study, tmp_path / "study", [0])
    scans = load_study(study).scans
    header = load_pet(study / scans["pet"].iloc[1]).audit()["inputs"]["injection_datetime"]["value"]
    edit_table(study / "scans.csv",
               lambda t: t.__setitem__("injection_datetime", [header if i == 1 else "" for i in range(len(t))]))
    summary = run_study(study, workers=1, progress=False)
    assert summary.exit_code == 0 and len(summary.done) == len(scans)
    results = load_results(study)
    mine = results.measurements.set_index(["scan_id", "voi_id"])["suv_max"].sort_index()
    clean = measured[2].measurements.set_index(["scan_id", "voi_id"])["suv_max"]
    pd.testing.assert_series_equal(mine, clean.loc[mine.index].sort_index())
    audit = json.loads(results.scans.set_index("scan_id").loc[scans["scan_id"].iloc[1], "suv_audit"])
    assert audit["inputs"]["injection_datetime"]["source"].startswith("override")


def test_text_at_the_limit_is_stored_alike_on_every_store(quick_study, tmp_path, store_url):
    """200 characters (the limit validate enforces) fit SQLite and PostgreSQL alike."""
    study = copy_patients(quick_study, tmp_path / "study", [0])
    site = "s" * 200
    edit_table(study / "vois.csv", lambda t: set_cell(t, 2, "site", site))
    summary = run_study(study, db_url=store_url, workers=1, progress=False)
    assert summary.exit_code == 0
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        stored = {s for (s,) in conn.exec_driver_sql("SELECT site FROM vois")}
    engine.dispose()
    assert site in stored
