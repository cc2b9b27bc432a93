"""Series discovery on the real data folder and on a messy folder."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from immunopet.dicom import discover, scan


def test_discover_real_data(shared_data):
    series = discover(shared_data)
    assert Counter(s.modality for s in series) == Counter({"PT": 5, "CT": 2, "RTSTRUCT": 5})
    ge = next(s for s in series if s.patient_id == "STS_001" and s.modality == "PT")
    assert ge.n_instances == 267 and len(ge.files) == 267
    assert ge.shape == (128, 128, 267)
    assert ge.spacing == pytest.approx((4.6875, 4.6875, 3.27), abs=1e-3)
    assert ge.orientation == pytest.approx((1, 0, 0, 0, 1, 0))
    assert ge.series_datetime.isoformat() == "2000-09-07T11:20:11"
    assert ge.description == "PET AC" and ge.units == "BQML"
    assert ge.geometry_problem is None
    rt = next(s for s in series if s.patient_id == "STS_001" and s.modality == "RTSTRUCT")
    assert rt.shape is None and rt.n_instances == 1
    ct = next(s for s in series if s.patient_id == "STS_002" and s.modality == "CT")
    assert ct.shape == (161, 143, 48) and ct.frame_of_reference_uid
    assert ct.as_dict()["shape"] == [161, 143, 48]


def test_messy_folder_lists_unreadable_files(shared_data, tmp_path):
    root = tmp_path / "messy"
    (root / "a" / "b").mkdir(parents=True)
    for n in range(1, 6):
        shutil.copy(shared_data / "tcia-sts-001-ge-fdg" / "pet" / f"1-{n:03d}.dcm", root / "a" / "b" / f"IMG{n}")
    shutil.copy(shared_data / "acrin-flt-siemens" / "1.dcm", root / "x.dcm")
    (root / "notes.txt").write_text("not dicom")
    data = (shared_data / "acrin-flt-siemens" / "2.dcm").read_bytes()
    (root / "truncated.dcm").write_bytes(data[:300])
    (root / "DICOMDIR").write_bytes(b"")
    found = scan(root)
    assert sorted(s.n_instances for s in found.series) == [1, 5]
    reasons = dict((f.split("/")[-1], r) for f, r in found.unreadable)
    assert set(reasons) == {"notes.txt", "truncated.dcm"}
    assert reasons["notes.txt"] == "not a DICOM file"
    five = next(s for s in found.series if s.n_instances == 5)
    assert five.shape == (128, 128, 5)
