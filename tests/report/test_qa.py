"""QA findings: failures, overrides, missing inputs and uptake-time deviations are found exactly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from immunopet.report.qa import qa_findings, timing_deviations, uptake_tolerance_h


def _audit(*, weight_source="PatientWeight (0010,1030)", weight=70.0, header_weight=None, height=None):
    inputs = {
        "weight_kg": {"value": weight, "source": weight_source, "note": ""},
        "injected_bq": {"value": 37e6, "source": "RadionuclideTotalDose (0018,1074)", "note": "Bq"},
        "height_cm": {"value": height, "source": "absent" if height is None else "PatientSize (0010,1020)",
                      "note": "PatientSize missing"},
    }
    overrides = {} if header_weight is None else {"weight_kg": {"value": header_weight, "source": "PatientWeight (0010,1030)", "note": ""}}
    return json.dumps({"inputs": inputs, "overrides": overrides, "suv_factors": {"bw": 0.002},
                       "warnings": ["slice spacing irregular"] if height is None else []})


def test_tolerance_rule():
    assert np.allclose(uptake_tolerance_h([0.04, 2, 4, 7]), [1.0, 4.8, 9.6, 12.0])


def test_timing_deviations_flags_only_far_scans():
    scans = pd.DataFrame({"scan_id": ["a", "b", "c", "d"], "patient_id": "P1", "day": [0.04, 2, 7, 7],
                          "hours_pi": [1.5, 53.0, 180.5, 179.0]})
    flagged = timing_deviations(scans)
    assert flagged["scan_id"].tolist() == ["b", "c"]  # 5 h > 4.8 h; 12.5 h > 12 h; 11 h is fine
    assert np.allclose(flagged["deviation_h"], [5.0, 12.5])


def test_findings_from_run_tables():
    scans = pd.DataFrame({
        "scan_id": ["P1_D2", "P1_D7", "P2_D7"], "patient_id": ["P1", "P1", "P2"], "day": [2.0, 7.0, 7.0],
        "hours_pi": [48.0, 168.0, np.nan], "status": ["done", "done", "failed"],
        "error": [None, None, "RadiopharmaceuticalStartDateTime missing"],
        "suv_audit": [_audit(height=170.0), _audit(weight_source="override: weight_kg", weight=72.0, header_weight=70.0,
                                                   height=170.0), None],
    })
    vois = pd.DataFrame({"scan_id": ["P1_D7"], "voi_id": ["L3"], "error": ["outside the field of view"]})
    qa = qa_findings(scans, failed_vois=vois, audit_column="suv_audit")
    assert qa.failed_scans["scan_id"].tolist() == ["P2_D7"]
    assert "StartDateTime" in qa.failed_scans["error"].iloc[0]
    assert qa.failed_vois["voi_id"].tolist() == ["L3"]
    assert qa.overrides.to_dict("records") == [{"scan_id": "P1_D7", "input": "weight_kg", "value": "72",
                                                "header value": "70", "source": "override: weight_kg", "changed": True}]
    assert qa.missing.empty and qa.warnings.empty and qa.timing.empty
    assert qa.n_problems == 2 and qa.n_scans == 3 and qa.n_notes == 1
    assert len(qa.changed_overrides) == 1


def test_override_equal_to_header_within_rounding_is_not_a_change():
    audit = json.loads(_audit(weight_source="override: weight_kg", weight=155.2, header_weight=1.552 * 100, height=170.0))
    scans = pd.DataFrame({"scan_id": ["s"], "patient_id": ["P"], "day": [7.0], "hours_pi": [168.0],
                          "status": ["done"], "error": [None], "suv_audit": [json.dumps(audit)]})
    qa = qa_findings(scans, audit_column="suv_audit")
    assert len(qa.overrides) == 1 and qa.changed_overrides.empty and qa.n_notes == 0


def test_missing_inputs_and_warnings():
    scans = pd.DataFrame({"scan_id": ["s"], "patient_id": ["P"], "day": [7.0], "hours_pi": [168.0],
                          "status": ["done"], "error": [None], "suv_audit": [_audit()]})
    qa = qa_findings(scans, audit_column="suv_audit")
    assert qa.missing[["scan_id", "input"]].values.tolist() == [["s", "height_cm"]]
    assert qa.warnings["warning"].tolist() == ["slice spacing irregular"]
    assert qa.n_problems == 0 and qa.n_notes == 2
