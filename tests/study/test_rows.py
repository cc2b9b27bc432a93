"""Hostile cells in the tables: each refused by ``validate`` with its file, row and column."""

from __future__ import annotations

import pytest
from support.tables import edit_table, problems_of
from support.tables import set_cell as _set

from immunopet.study import load_study


def test_inf_and_nan_are_refused_in_every_number_column(linked_quick_study):
    study = linked_quick_study()
    edit_table(study / "patients.csv", lambda t: (_set(t, 2, "pfs_months", "inf"), _set(t, 3, "os_months", "NaN"),
                                                  _set(t, 4, "rna_cd274", "-inf")))
    edit_table(study / "scans.csv", lambda t: _set(t, 5, "day", "Infinity"))
    edit_table(study / "vois.csv", lambda t: (_set(t, 2, "x_mm", "nan"), _set(t, 3, "volume_ml", "inf")))
    found = {(f, r, c): m for f, r, c, m in problems_of(study)}
    for where in [("patients.csv", 2, "pfs_months"), ("patients.csv", 3, "os_months"),
                  ("patients.csv", 4, "rna_cd274"), ("scans.csv", 5, "day"), ("vois.csv", 2, "x_mm"),
                  ("vois.csv", 3, "volume_ml")]:
        assert "finite number" in found.pop(where), where
    # the rejected rows cause no follow-on errors elsewhere
    assert found == {}


@pytest.mark.parametrize(("column", "value", "expected_column", "words"), [
    ("pfs_months", "", "pfs_months", "pfs_event is given, so pfs_months is needed"),
    ("os_event", "", "os_event", "os_months is given, so os_event is needed"),
    ("pfs_months", "-2", "pfs_months", "greater than or equal to 0"),
    ("pfs_event", "yes", "pfs_event", "coded 0 (censored) or 1 (event), found 'yes'"),
    ("os_event", "2", "os_event", "coded 0 (censored) or 1 (event), found '2'"),
])
def test_survival_cells_are_checked(linked_quick_study, column, value, expected_column, words):
    study = linked_quick_study()
    edit_table(study / "patients.csv", lambda t: _set(t, 3, column, value))
    [(file, row, where, message)] = problems_of(study)
    assert (file, row, where) == ("patients.csv", 3, expected_column)
    assert words in message


def test_padded_response_and_event_are_read_as_meant(linked_quick_study):
    study = linked_quick_study()
    edit_table(study / "patients.csv", lambda t: (_set(t, 2, "best_response", " pr "), _set(t, 2, "pfs_event", " 1.0 ")))
    patients = load_study(study).patients.set_index("_row")
    assert patients.loc[2, "best_response"] == "PR" and patients.loc[2, "pfs_event"] == 1


def test_a_repeated_header_column_is_reported_not_renamed(linked_quick_study):
    study = linked_quick_study()
    path = study / "patients.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",height_cm", *(line + ",999" for line in lines[1:])]) + "\n")
    problems = problems_of(study)
    assert ("patients.csv", 1, "height_cm", "column appears more than once in the header") in problems


def test_ids_that_become_file_names_are_restricted(linked_quick_study):
    study = linked_quick_study()
    first = load_study(study).patients["patient_id"].iloc[0]
    bad = f"x/../../{first}"
    for table in ("patients", "scans", "lesions"):
        edit_table(study / f"{table}.csv", lambda t: t.__setitem__("patient_id", t["patient_id"].replace(first, bad)))
    edit_table(study / "vois.csv", lambda t: _set(t, 2, "voi_id", ".hidden"))
    problems = problems_of(study)
    rows = {(f, c) for f, _, c, m in problems if "ids become file names" in m}
    assert rows == {("patients.csv", "patient_id"), ("scans.csv", "patient_id"), ("lesions.csv", "patient_id"),
                    ("vois.csv", "voi_id")}
    assert any(f"found {bad!r}" in m for *_, m in problems)


def test_text_longer_than_the_store_holds_is_refused(linked_quick_study):
    study = linked_quick_study()
    yaml = (study / "study.yaml").read_text()
    (study / "study.yaml").write_text(yaml.replace("name: ZR-ATEZO-SIM", "name: " + "N" * 201))
    edit_table(study / "patients.csv", lambda t: _set(t, 2, "patient_id", "P" * 65))
    edit_table(study / "vois.csv", lambda t: _set(t, 4, "site", "s" * 201))
    problems = problems_of(study)
    assert ("study.yaml", None, "name", "String should have at most 200 characters") in problems
    assert any(p[:3] == ("patients.csv", 2, "patient_id") and "at most 64 characters" in p[3] for p in problems)
    assert any(p[:3] == ("vois.csv", 4, "site") and p[3].startswith("String should have at most 200 characters")
               for p in problems)
