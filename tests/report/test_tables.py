"""Report tables: the right rows, the SUV inputs from the audit, identifiers only when given."""

from __future__ import annotations

import json

import pandas as pd

from immunopet.report.tables import lesion_table, patient_table, scan_table, stat_table, suv_inputs_of

AUDIT = {
    "inputs": {
        "injected_bq": {"value": 36_530_000.0, "source": "RadionuclideTotalDose (0018,1074)", "note": "Bq"},
        "weight_kg": {"value": 65.6, "source": "PatientWeight (0010,1030)", "note": "kg"},
        "height_cm": {"value": 152.7, "source": "override: height_cm", "note": ""},
        "sex": {"value": "F", "source": "override: sex", "note": ""},
        "injection_datetime": {"value": "2017-01-09T10:47:15", "source": "header", "note": ""},
    },
    "overrides": {"height_cm": {"value": 152.7, "source": "PatientSize (0010,1020)", "note": ""}},
}


def test_suv_inputs_from_audit():
    values = suv_inputs_of(json.dumps(AUDIT))
    assert values == {"injected_mbq": 36.53, "weight_kg": 65.6, "height_cm": 152.7, "sex": "F",
                      "sources": "header; override: height_cm, sex"}


def test_scan_table_rows_and_no_dates():
    scans = pd.DataFrame({"scan_id": ["P1_D7", "P1_H1", "P2_D7"], "patient_id": ["P1", "P1", "P2"],
                          "day": [7.0, 0.04, 7.0], "hours_pi": [168.2, 1.0, 167.0], "status": "done",
                          "error": None, "suv_factor": [0.0018, 0.0019, 0.002]})
    table = scan_table(scans, "P1", inputs={s: suv_inputs_of(AUDIT) for s in scans["scan_id"]})
    assert [row[0] for row in table.rows] == ["P1_H1", "P1_D7"]
    assert table.rows[0][1] == "0.04" and table.rows[1][1] == "7"
    assert "36.5" in table.rows[0] and "0.00190" in table.rows[0]
    assert "error" not in table.columns
    assert not any("2017" in cell for row in table.rows for cell in row)


def test_lesion_table_one_row_per_lesion_and_day(synthetic_measurements):
    table = lesion_table(synthetic_measurements, "P03")
    assert len(table.rows) == 3 * 4
    assert table.columns[:3] == ["lesion", "site", "day"]
    assert [r[0] for r in table.rows[:4]] == ["L1"] * 4 and [r[2] for r in table.rows[:4]] == ["0.04", "2", "4", "7"]


def test_patient_table_identifiers_only_when_given(synthetic_patients):
    plain = patient_table(synthetic_patients)
    assert "name" not in plain.columns and len(plain.rows) == 22
    ids = pd.DataFrame({"patient_id": ["P01"], "PatientName": ["Doe^Jane"], "PatientBirthDate": ["19600101"],
                        "PatientID": ["123"]})
    named = patient_table(synthetic_patients, identifiers=ids)
    assert named.columns[:4] == ["patient", "name", "birth date", "DICOM patient ID"]
    assert named.rows[0][:4] == ["P01", "Doe^Jane", "19600101", "123"]


def test_stat_table_formats_records():
    table = stat_table([{"name": "PET: ROC AUC", "test": "ROC AUC", "inputs": "", "n": 21, "estimate": 0.9,
                         "estimate_label": "AUC", "ci_low": 0.74, "ci_high": 1.0, "p_value": 0.0004, "method": "x"}])
    assert table.rows == [["PET: ROC AUC", "21", "AUC 0.900", "0.740 to 1.00", "< 0.001", "x"]]
