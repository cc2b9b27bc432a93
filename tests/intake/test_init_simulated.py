"""init on simulated raw exports finds exactly the scans of truth/scans.csv and leaves out every decoy."""

from __future__ import annotations

import pytest

from tests.intake.conftest import EXPECTED_REASON, read


@pytest.fixture(params=["pacs_export", "pacs_export_small"])
def case(request, init_of):
    sim = request.getfixturevalue(request.param)
    return sim, init_of(sim)


def test_finds_exactly_the_true_scans(case):
    sim, summary = case
    truth = read(sim / "truth" / "scans.csv")
    scans = read(summary.study_dir / "scans.csv")
    assert sorted(scans["pet_series_uid"]) == sorted(truth["pet_series_uid"])
    merged = scans.merge(truth, on="pet_series_uid", suffixes=("", "_truth"))
    assert (merged["ct_series_uid"] == merged["ct_series_uid_truth"]).all()
    assert (merged["day"].astype(float) == merged["day_truth"].astype(float)).all()
    assert (merged["hours_pi"].astype(float) - merged["hours_pi_truth"].astype(float)).abs().max() < 1e-3
    # patients: init's entries and the simulator's patients correspond one to one
    pairs = set(zip(merged["patient_id"], merged["patient_id_truth"]))
    assert len(pairs) == merged["patient_id"].nunique() == merged["patient_id_truth"].nunique()


def test_every_decoy_left_out_with_its_reason(case):
    sim, summary = case
    decoys = read(sim / "truth" / "decoys.csv")
    series = read(summary.study_dir / "init" / "series.csv").set_index("series_uid")
    assert set(decoys["kind"]) >= {"second_recon", "nac", "mip", "scout", "dose_report", "rdsr", "off_schedule_pet"}
    for row in decoys.itertuples():
        got = series.loc[row.series_uid]
        assert got["role"] == "left out", row
        assert got["reason"].split(":")[0] == EXPECTED_REASON[row.kind], row
    # nothing else is left out: every other series is a PET, CT or VOI source of a true scan
    others = series.drop(index=decoys["series_uid"])
    assert set(others["role"]) <= {"pet", "ct", "voi"}


def test_returning_patient_is_a_separate_entry_with_a_question(pacs_export, init_of):
    summary = init_of(pacs_export)
    pair = read(pacs_export / "truth" / "injections.csv").iloc[0]
    truth = read(pacs_export / "truth" / "scans.csv")
    scans = read(summary.study_dir / "scans.csv").merge(truth, on="pet_series_uid", suffixes=("", "_truth"))
    first = set(scans.loc[scans["patient_id_truth"] == pair["same_person_as"], "patient_id"])
    second = set(scans.loc[scans["patient_id_truth"] == pair["returning_patient"], "patient_id"])
    assert len(first) == len(second) == 1
    (a,), (b,) = first, second
    assert b == f"{a}i2"
    assert any(a in w and b in w and "2 injections" in w for w in summary.plan.warnings)
    ids = read(summary.study_dir / "identifiers.csv").set_index("patient_id")
    assert ids.loc[a, "dicom_patient_id"] == ids.loc[b, "dicom_patient_id"]
    assert ids.loc[[a, b], "injection_number"].tolist() == ["1", "2"]
    assert summary.exit_code == 0  # a question for the user, not a failure


def test_vois_from_the_lesion_seg_and_templates(pacs_export, init_of):
    summary = init_of(pacs_export)
    vois = read(summary.study_dir / "vois.csv")
    truth = read(pacs_export / "truth" / "study" / "vois.csv")
    truth_scans = read(pacs_export / "truth" / "scans.csv")
    scans = read(summary.study_dir / "scans.csv").merge(truth_scans, on="pet_series_uid", suffixes=("", "_truth"))
    to_truth = dict(zip(scans["scan_id"], scans["scan_id_truth"]))
    assert set(vois["source"]) == {"seg"} and set(vois["kind"]) == {"lesion"}
    for scan_id, group in vois.groupby("scan_id"):
        lesions = truth[(truth["scan_id"] == to_truth[scan_id]) & (truth["kind"] == "lesion")]
        assert sorted(group["voi_id"]) == sorted(lesions["voi_id"])
    patients = read(summary.study_dir / "patients.csv")
    assert set(patients["tumour_type"]) == {"unknown"} and set(patients["sex"]) <= {"M", "F"}
    assert "PatientName" not in (summary.study_dir / "patients.csv").read_text()


def test_study_validates_and_runs(pacs_export, pacs_export_small, init_of):
    from immunopet.study import load_study, run_study

    assert len(load_study(init_of(pacs_export).study_dir).scans) == len(read(pacs_export / "truth" / "scans.csv"))
    summary = init_of(pacs_export_small)
    study = load_study(summary.study_dir)
    assert len(study.scans) == len(read(pacs_export_small / "truth" / "scans.csv"))
    result = run_study(summary.study_dir, workers=1)
    assert result.exit_code == 0
    measured = read(summary.study_dir / "results" / "measurements.csv")
    assert len(measured) == len(read(summary.study_dir / "vois.csv"))
    assert (measured["suv_max"].astype(float) > 0).all()
