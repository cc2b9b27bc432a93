"""The exported SEG and SR of a real (simulated) multi-day study: valid DICOM, faithful to the store."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from immunopet.export.identity import tracking

TID1500READER = Path(sys.executable).parent / "tid1500reader"
#: SR NUM values are DS: at most 16 characters, so about 12 significant digits survive.
DS_RTOL = 1e-10


def _objects(summary, kind):
    return [Path(r.files[kind]) for r in summary.done]


def test_every_measured_scan_is_exported_both_ways(exported):
    scans = set(exported.results.scans["scan_id"])
    assert len(scans) == 2
    for summary in (exported.pseudonymous, exported.identified):
        assert summary.failed == [] and summary.exit_code == 0
        assert {r.scan_id for r in summary.done} == scans
        assert all(Path(f).is_file() for f in summary.files())


@pytest.mark.parametrize("mode", ["pseudonymous", "identified"])
def test_dciodvfy_finds_no_error(exported, mode):
    for path in getattr(exported, mode).files():
        done = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=120)
        errors = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]
        assert errors == [], f"{path}: {errors}"


def test_objects_are_the_bytes_pydicom_writes_for_them(exported):
    """The export writes with immunopet.dicom.dataset_writer; pydicom writes the same file of the same content."""
    from io import BytesIO

    for path in exported.pseudonymous.files() + exported.identified.files():
        ds = pydicom.dcmread(path)
        ds.walk(lambda dataset, element: None)  # decode every element, so pydicom encodes each again
        buffer = BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        assert buffer.getvalue() == path.read_bytes(), path


def test_seg_masks_equal_the_measured_masks_voxel_for_voxel(exported):
    from immunopet.dicom import load_pet
    from immunopet.study import build_scan_masks, load_study
    from immunopet.voi import masks_from_seg

    study = load_study(exported.study)
    for result in exported.identified.done:
        pet = load_pet(study.path(study.scan(result.scan_id)["pet"]))
        measured = build_scan_masks(study, result.scan_id, pet)
        back = masks_from_seg(result.files["seg"], pet.image)
        assert set(back) == set(measured)
        for voi_id, mask in measured.items():
            assert back[voi_id].dtype == bool
            assert np.array_equal(back[voi_id], mask), f"{result.scan_id}/{voi_id}"


def test_segments_are_coded_and_tracked_the_same_on_every_day(exported):
    name = exported.results.config.name
    by_voi: dict[str, set[str]] = {}
    for path in _objects(exported.pseudonymous, "seg"):
        seg = hd.seg.segread(str(path))
        for number in seg.segment_numbers:
            d = seg.get_segment_description(number)
            voi_id = str(d.segment_label)
            patient = str(seg.PatientID)
            assert (d.tracking_id, d.tracking_uid) == tracking(name, patient, voi_id)
            by_voi.setdefault(voi_id, set()).add(d.tracking_uid)
            category = d.SegmentedPropertyCategoryCodeSequence[0].CodeValue
            kind = d.SegmentedPropertyTypeCodeSequence[0].CodeValue
            if voi_id.startswith("L"):
                assert (category, kind) == ("49755003", "108369006")  # morphologically abnormal, neoplasm
                assert "AnatomicRegionSequence" in d
            elif voi_id == "liver":
                assert (category, kind, d.SegmentAlgorithmType) == ("91723000", "10200004", "MANUAL")
            else:
                assert voi_id == "blood_pool" and kind == "87612001" and d.SegmentAlgorithmType == "SEMIAUTOMATIC"
                assert "sphere" in d.SegmentAlgorithmName
    assert all(len(uids) == 1 for uids in by_voi.values()), by_voi  # one UID per lesion, every day
    assert len({next(iter(u)) for u in by_voi.values()}) == len(by_voi)  # and different lesions differ


def _store_rows(exported, scan_id):
    m = exported.results.measurements
    return {r["voi_id"]: r for r in m[m["scan_id"] == scan_id].to_dict("records")}


def _close(a, b):
    return math.isclose(float(a), float(b), rel_tol=DS_RTOL, abs_tol=1e-12)


def test_sr_values_read_by_highdicom_equal_the_store(exported):
    derivations = {"56851009": "suv_max", "0F91": "suv_peak", "VJGA": "suv_peak_local", "373098007": "suv_mean"}
    others = {"118565006": "volume_ml", "TLU": "tlu", "PCTID": "pct_id"}
    ratios = {"56851009": "tbr_max", "0F91": "tbr_peak", "373098007": "tbr_mean"}
    scans = exported.results.scans.set_index("scan_id")
    for result in exported.pseudonymous.done:
        store = _store_rows(exported, result.scan_id)
        sr = hd.sr.srread(result.files["sr"])
        seg = hd.seg.segread(result.files["seg"])
        labels = {n: str(seg.get_segment_description(n).segment_label) for n in seg.segment_numbers}
        groups = sr.content.get_volumetric_roi_measurement_groups()
        assert len(groups) == len(store)
        checked = 0
        for group in groups:
            reference = group.referenced_segment
            voi_id = labels[int(reference[0].ReferencedSOPSequence[0].ReferencedSegmentNumber)]
            assert reference[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == seg.SOPInstanceUID
            assert str(reference[1].UID) == str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID)  # the PET series
            for m in group.get_measurements():
                code = m.name.value
                if code == "128740":  # time point: days after injection
                    assert _close(m.value, round(scans.loc[result.scan_id, "hours_pi"] / 24, 6))
                    continue
                column = derivations.get(m.derivation.value) if code == "126401" else others.get(code)
                if column is None:
                    continue
                assert _close(m.value, store[voi_id][column]), (result.scan_id, voi_id, column)
                if code == "126401":
                    assert m.unit.value == "{SUVbw}g/ml"
                checked += 1
        assert checked == 7 * len(store)
        ratio_groups = sr.content.get_image_measurement_groups()
        assert len(ratio_groups) == len(store) - 1  # every VOI but the blood pool itself
        for group in ratio_groups:
            refs = [item.ReferencedSOPSequence[0].ReferencedSegmentNumber for item in group[0].ContentSequence
                    if item.ValueType == "IMAGE"]
            names = [labels[int(n)] for n in refs]
            assert names[1] == "blood_pool" and names[0] != "blood_pool"
            assert str(group.tracking_identifier).endswith(f"/{names[0]}:blood_pool")
            for m in group.get_measurements():
                if m.name.value == "126039":
                    assert _close(m.value, store[names[0]][ratios[m.derivation.value]])


def test_sr_values_read_by_dcmqi_tid1500reader_equal_the_store(exported, tmp_path):
    result = exported.identified.done[-1]
    store = _store_rows(exported, result.scan_id)
    out = tmp_path / "sr.json"
    done = subprocess.run([str(TID1500READER), "--inputDICOM", result.files["sr"], "--outputMetadata", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    metadata = json.loads(out.read_text())
    columns = {("126401", "56851009"): "suv_max", ("126401", "0F91"): "suv_peak", ("126401", "VJGA"): "suv_peak_local",
               ("126401", "373098007"): "suv_mean", ("118565006", None): "volume_ml", ("TLU", None): "tlu",
               ("PCTID", None): "pct_id", ("126039", "56851009"): "tbr_max"}
    seen = 0
    for group in metadata["Measurements"]:
        voi_id = group["TrackingIdentifier"].split("/", 1)[1].split(":")[0]
        for item in group["measurementItems"]:
            key = (item["quantity"]["CodeValue"], item.get("derivationModifier", {}).get("CodeValue"))
            if key in columns:
                assert _close(item["value"], store[voi_id][columns[key]]), (voi_id, key)
                seen += 1
    assert seen == 7 * len(store) + (len(store) - 1)


def test_pseudonymous_objects_hold_no_identifier_of_the_source(exported):
    from immunopet.study import load_study

    study = load_study(exported.study)
    for result in exported.pseudonymous.done:
        pet_dir = study.path(study.scan(result.scan_id)["pet"])
        first = pydicom.dcmread(sorted(pet_dir.iterdir())[0], stop_before_pixels=True)
        secrets = [str(first.PatientName), str(first.StudyInstanceUID), str(first.SeriesInstanceUID),
                   str(first.SOPInstanceUID), str(first.FrameOfReferenceUID), str(first.StudyDate)]
        for kind in ("seg", "sr"):
            raw = Path(result.files[kind]).read_bytes()
            for secret in secrets:
                assert secret.encode() not in raw, (kind, secret)
            ds = pydicom.dcmread(result.files[kind], stop_before_pixels=True)
            assert str(ds.PatientID) == str(first.PatientID)  # the simulator's id is already the pseudonym
            assert ds.PatientIdentityRemoved == "YES"
            assert ds.ContentDate.startswith("2000") and ds.StudyDate.startswith("2000")


def test_objects_with_identifiers_join_the_pet_study_and_reference_its_series(exported):
    from immunopet.study import load_study

    study = load_study(exported.study)
    for result in exported.identified.done:
        pet_dir = study.path(study.scan(result.scan_id)["pet"])
        first = pydicom.dcmread(sorted(pet_dir.iterdir())[0], stop_before_pixels=True)
        seg = pydicom.dcmread(result.files["seg"], stop_before_pixels=True)
        sr = pydicom.dcmread(result.files["sr"])
        for ds in (seg, sr):
            assert (ds.StudyInstanceUID, ds.PatientName, ds.PatientID) == (
                first.StudyInstanceUID, first.PatientName, first.PatientID)
            assert ds.SeriesInstanceUID != first.SeriesInstanceUID
        assert seg.FrameOfReferenceUID == first.FrameOfReferenceUID
        assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == first.SeriesInstanceUID
        evidence = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
        assert {s.SeriesInstanceUID for s in evidence} == {first.SeriesInstanceUID, seg.SeriesInstanceUID}
