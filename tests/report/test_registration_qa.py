"""The registration block of the report's QA: poor and failed registrations are flagged."""

import json

from immunopet.report.registration_qa import registration_blocks, registration_table


def _write(study, records):
    (study / "registration").mkdir(parents=True)
    (study / "registration" / "registration.json").write_text(json.dumps({"scans": records}))


def test_poor_and_failed_registrations_are_flagged(tmp_path):
    _write(tmp_path, [
        {"scan_id": "P01_D7", "reference_scan_id": "P01_D7", "status": "reference"},
        {"scan_id": "P01_D2", "reference_scan_id": "P01_D7", "status": "done", "modality": "CT", "nmi_before": 1.2,
         "nmi_after": 1.6, "body_dice_before": 0.8, "body_dice_after": 0.99, "verdict": "good", "reasons": ""},
        {"scan_id": "P02_D2", "reference_scan_id": "P02_D7", "status": "done", "modality": "CT", "nmi_before": 1.2,
         "nmi_after": 1.3, "body_dice_before": 0.75, "body_dice_after": 0.87, "verdict": "poor",
         "reasons": "body Dice 0.870 < 0.93"},
        {"scan_id": "P03_D2", "reference_scan_id": "P03_D7", "status": "failed", "error": "CT unreadable"},
    ])
    table = registration_table(tmp_path).set_index("scan_id")
    assert list(table.index) == ["P01_D2", "P02_D2", "P03_D2"]
    assert table.loc["P03_D2", "verdict"] == "failed" and table.loc["P03_D2", "reasons"] == "CT unreadable"
    blocks, flagged = registration_blocks(tmp_path)
    assert flagged == 2
    assert blocks[0]["note"].startswith("2 of 3 registrations poor or failed")


def test_no_block_without_registration(tmp_path):
    assert registration_blocks(tmp_path) == ([], 0)


def test_the_note_states_the_quality_limits_and_a_clean_study_says_so(tmp_path):
    from immunopet.register.params import QualityLimits

    _write(tmp_path, [{"scan_id": "P01_D2", "reference_scan_id": "P01_D7", "status": "done", "verdict": "good",
                       "reasons": ""}])
    blocks, flagged = registration_blocks(tmp_path)
    limits = QualityLimits()
    assert flagged == 0
    assert blocks[0]["note"].startswith("All 1 registrations are within the limits.")
    assert (f"body Dice < {limits.min_body_dice:g}, NMI < {limits.min_nmi:g} or landmark error > "
            f"{limits.max_landmark_mm:g} mm") in blocks[0]["note"]
    assert "body Dice < 0.93, NMI < 1.25 or landmark error > 4 mm" in blocks[0]["note"]


def test_the_note_states_the_limits_set_in_study_yaml(tmp_path):
    _write(tmp_path, [{"scan_id": "P01_D2", "reference_scan_id": "P01_D7", "status": "done", "verdict": "good",
                       "reasons": ""}])
    settings = {"min_body_dice": 0.9, "max_landmark_mm": 6.5, "rigid_iterations": 50}  # a registration setting too
    blocks, _ = registration_blocks(tmp_path, settings)
    assert "body Dice < 0.9, NMI < 1.25 or landmark error > 6.5 mm" in blocks[0]["note"]
