"""The written study: format, determinism, DICOM standard conformance, geometry and quantification."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import highdicom as hd
import nibabel
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import ndimage

from immunopet.image import Image
from immunopet.nuclides import get_nuclide
from immunopet.simulate.cohort import LESION_COLUMNS, PATIENT_COLUMNS

STANDARD_ORGANS = {"blood_pool", "liver", "spleen", "kidneys", "bone_marrow", "lungs", "brain", "muscle",
                   "intestine", "lymph_nodes", "tonsils"}


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(quick_study, quick_study_again):
    first, second = _digest(quick_study), _digest(quick_study_again)
    assert len(first) > 1000
    assert first == second


def test_study_folder_follows_the_study_format(quick_study, tables):
    config = yaml.safe_load((quick_study / "study.yaml").read_text())
    assert config["nuclide"] == "Zr-89" and config["outcome_day"] == 7 and config["responders"] == ["CR", "PR"]
    patients, scans, vois, lesions = (tables[k] for k in ("patients", "scans", "vois", "lesions"))
    assert list(patients.columns) == PATIENT_COLUMNS
    assert list(lesions.columns) == LESION_COLUMNS
    assert 4 <= len(patients) <= 6 and set(patients["tumour_type"]) == {"bladder", "NSCLC", "TNBC"}
    assert sorted(scans["day"].unique()) == [0.04, 2.0, 4.0, 7.0]
    assert scans["scan_id"].is_unique and set(scans["patient_id"]) == set(patients["patient_id"])
    for column in ("pet", "ct"):
        assert all((quick_study / p).is_dir() and any((quick_study / p).glob("*.dcm")) for p in scans[column])
    assert set(vois["scan_id"]) == set(scans["scan_id"])
    for scan_id, group in vois.groupby("scan_id"):
        assert group["voi_id"].is_unique
        assert STANDARD_ORGANS <= set(group.loc[group.kind == "organ", "voi_id"])
        patient = scans.set_index("scan_id").loc[scan_id, "patient_id"]
        assert set(group.loc[group.kind == "lesion", "voi_id"]) == set(lesions.loc[lesions.patient_id == patient, "voi_id"])
    spheres = vois[vois.source == "sphere"].set_index("voi_id")
    assert set(spheres.index) == {"blood_pool", "bone_marrow"}
    assert np.allclose(spheres.loc["blood_pool", "volume_ml"], 2.9) and np.allclose(spheres.loc["bone_marrow", "volume_ml"], 8.6)
    masks = vois[vois.source == "mask"]
    assert all(path == f"masks/{scan}_labels.nii.gz" for scan, path in zip(masks.scan_id, masks.path))


def test_mask_labels_and_spheres_point_at_the_right_tissue(quick_study, tables):
    vois, truth = tables["vois"], tables["truth"]
    for scan_id, group in list(vois.groupby("scan_id"))[:6]:
        labels = Image.from_nifti(quick_study / f"masks/{scan_id}_labels.nii.gz", dtype=None)
        for row in group[group.source == "mask"].itertuples():
            assert (labels.array == int(row.label)).any(), (scan_id, row.voi_id)
        blood_label = int(truth.query("scan_id == @scan_id and voi_id == 'blood_pool'")["label"].iloc[0])
        marrow_label = int(truth.query("scan_id == @scan_id and voi_id == 'bone_marrow'")["label"].iloc[0])
        for voi_id, label in (("blood_pool", blood_label), ("bone_marrow", marrow_label)):
            row = group.set_index("voi_id").loc[voi_id]
            ijk = np.rint(labels.world_to_index(np.array([row.x_mm, row.y_mm, row.z_mm]))).astype(int)
            assert labels.array[tuple(ijk)] == label


def test_dicom_passes_dciodvfy(quick_study, tables):
    scan = tables["scans"].iloc[-1]
    seg = next((quick_study / "masks").glob("*_seg.dcm"))
    files = [next((quick_study / scan.pet).glob("*.dcm")), sorted((quick_study / scan.ct).glob("*.dcm"))[40], seg]
    for file in files:
        result = subprocess.run(["dciodvfy", str(file)], capture_output=True, text=True)
        report = result.stdout + result.stderr
        assert "Error" not in report, (file, report)
        assert any(kind in report for kind in ("PETImage", "CTImage", "Segmentation"))


def test_dcm2niix_reads_the_pet_with_our_geometry(quick_study, tables, tmp_path):
    scan = tables["scans"].iloc[1]
    subprocess.run(["dcm2niix", "-z", "n", "-b", "n", "-f", "pet", "-o", str(tmp_path), str(quick_study / scan.pet)],
                   check=True, capture_output=True)
    theirs = nibabel.as_closest_canonical(nibabel.load(tmp_path / "pet.nii"))
    ours = nibabel.as_closest_canonical(nibabel.load(quick_study / f"masks/{scan.scan_id}_labels.nii.gz"))
    assert theirs.shape == ours.shape
    assert np.allclose(theirs.affine, ours.affine, atol=1e-3)


def test_pet_header_carries_the_89zr_suv_inputs(quick_study, tables, read_pet):
    scan = tables["scans"].iloc[-1]
    _, ds = read_pet(quick_study / scan.pet)
    drug = ds.RadiopharmaceuticalInformationSequence[0]
    code = drug.RadionuclideCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == ("63360001", "SCT", "^89^Zirconium")
    assert float(drug.RadionuclideHalfLife) == 282276.0
    assert ds.Units == "BQML" and ds.DecayCorrection == "START" and {"DECY", "ATTN"} <= set(ds.CorrectedImage)
    assert 30e6 < float(drug.RadionuclideTotalDose) < 45e6
    assert (ds.SeriesDate, ds.SeriesTime) == (ds.AcquisitionDate, ds.AcquisitionTime)
    assert drug.RadiopharmaceuticalStartDateTime[:8] < ds.SeriesDate  # injection days earlier
    ct = next((quick_study / scan.ct).glob("*.dcm"))
    import pydicom

    ct_ds = pydicom.dcmread(ct)
    assert ct_ds.FrameOfReferenceUID == ds.FrameOfReferenceUID and ct_ds.StudyInstanceUID == ds.StudyInstanceUID
    assert (float(ct_ds.RescaleSlope), float(ct_ds.RescaleIntercept)) == (1.0, -1024.0)


def _liver_interior(labels: np.ndarray) -> np.ndarray:
    lesions = ndimage.binary_dilation(labels > 100, iterations=2)
    return ndimage.binary_erosion(labels == 7, iterations=1) & ~lesions


def test_suv_from_the_header_reproduces_the_true_liver_suv(quick_study, tables, read_pet, suv_factor_from_header):
    truth = tables["truth"]
    for scan in tables["scans"].itertuples():
        bqml, ds = read_pet(quick_study / scan.pet)
        labels = Image.from_nifti(quick_study / f"masks/{scan.scan_id}_labels.nii.gz", dtype=None).array
        liver = _liver_interior(labels)
        measured = bqml[liver].mean() * suv_factor_from_header(ds)
        expected = truth.query("scan_id == @scan.scan_id and voi_id == 'liver'")["true_suv_mean"].iloc[0]
        standard_error = bqml[liver].std() * suv_factor_from_header(ds) / np.sqrt(liver.sum() / 4)
        # plus the low-frequency noise that does not average out in an organ: at most the day-7 liver
        # repeatability (RC 6 %, SD = RC / 2.77) of the calibrated noise model
        assert abs(measured - expected) < 4 * standard_error + 4 * 0.06 / 2.77 * expected, scan.scan_id


def test_load_pet_of_the_dicom_package_agrees(quick_study, tables):
    from immunopet.dicom import load_pet

    scan = tables["scans"].iloc[-1]
    pet = load_pet(quick_study / scan.pet)
    labels = Image.from_nifti(quick_study / f"masks/{scan.scan_id}_labels.nii.gz", dtype=None)
    assert pet.image.same_grid(labels)
    truth = tables["truth"].query("scan_id == @scan.scan_id and voi_id == 'liver'")
    assert np.isclose(pet.uptake_hours, truth["hours_pi"].iloc[0], atol=1e-3)
    measured = pet.suv("bw").array[_liver_interior(labels.array)].mean()
    assert measured == pytest.approx(truth["true_suv_mean"].iloc[0], rel=0.05)


def test_stored_activity_decays_with_the_89zr_half_life(quick_study, tables, read_pet):
    truth, zr = tables["truth"], get_nuclide("Zr-89")
    scans = tables["scans"]
    pid = scans["patient_id"].iloc[0]
    early, late = scans[scans.patient_id == pid].iloc[1], scans[scans.patient_id == pid].iloc[-1]
    measured, expected = [], []
    for scan in (early, late):
        bqml, _ = read_pet(quick_study / scan.pet)
        labels = Image.from_nifti(quick_study / f"masks/{scan.scan_id}_labels.nii.gz", dtype=None).array
        measured.append(bqml[_liver_interior(labels)].mean())
        row = truth.query("scan_id == @scan.scan_id and voi_id == 'liver'").iloc[0]
        expected.append(row)
    # Bq/mL ratio = SUV ratio x physical decay between the scans (same patient, dose and weight)
    hours = expected[1]["hours_pi"] - expected[0]["hours_pi"]
    decay = 2.0 ** (-hours * 3600.0 / zr.half_life_s)
    predicted = expected[1]["true_suv_mean"] / expected[0]["true_suv_mean"] * decay
    assert measured[1] / measured[0] == pytest.approx(predicted, rel=0.05)
    assert expected[1]["true_mean_bqml"] / expected[0]["true_mean_bqml"] == pytest.approx(predicted, rel=1e-6)


def test_day7_images_are_noisier_than_day2(quick_study, tables, read_pet):
    scans = tables["scans"]
    for pid, group in scans.groupby("patient_id"):
        cov = {}
        for scan in group[group.day.isin([2.0, 7.0])].itertuples():
            bqml, _ = read_pet(quick_study / scan.pet)
            labels = Image.from_nifti(quick_study / f"masks/{scan.scan_id}_labels.nii.gz", dtype=None).array
            liver = bqml[_liver_interior(labels)]
            cov[scan.day] = liver.std() / liver.mean()
        assert cov[7.0] > 1.2 * cov[2.0], (pid, cov)


def test_lesion_seg_references_the_pet_and_matches_the_label_map(quick_study, tables):
    seg_file = sorted((quick_study / "masks").glob("*_seg.dcm"))[0]
    scan_id = seg_file.name.replace("_lesions_seg.dcm", "")
    seg = hd.seg.segread(seg_file)
    labels = Image.from_nifti(quick_study / f"masks/{scan_id}_labels.nii.gz", dtype=None).array
    lesions = tables["vois"].query("scan_id == @scan_id and kind == 'lesion'")
    assert [d.SegmentLabel for d in seg.SegmentSequence] == lesions["voi_id"].tolist()
    volume = seg.get_volume(combine_segments=True)
    assert volume.array.sum() > 0
    per_segment = np.bincount(volume.array.ravel().astype(int), minlength=len(lesions) + 1)[1:]
    expected = [(labels == label).sum() for label in lesions["label"]]
    assert per_segment.tolist() == expected


def test_truth_table_covers_every_voi(tables):
    truth, vois = tables["truth"], tables["vois"]
    merged = vois.merge(truth, on=["scan_id", "voi_id"], how="left")
    assert merged["true_suv_mean"].notna().all()
    lesion_truth = truth[truth.kind == "lesion"]
    assert (lesion_truth["true_suv_max"] >= lesion_truth["true_suv_mean"]).all()
    check = truth["true_mean_bqml"] / (truth["true_suv_mean"] * truth["injected_bq"] * truth["decay_factor"]
                                       / (truth["weight_kg"] * 1000.0))
    assert np.allclose(check, 1.0, rtol=1e-5)


def test_refuses_to_overwrite(quick_study):
    from immunopet.errors import ImmunoPETError
    from immunopet.simulate import simulate_study

    with pytest.raises(ImmunoPETError, match="not empty"):
        simulate_study(quick_study, quick=True)


def test_tables_agree_with_draw_cohort(quick_study, tables):
    from immunopet.simulate import draw_cohort

    cohort = draw_cohort(len(tables["patients"]), 7, balanced=True)
    pd.testing.assert_frame_equal(cohort.patients.reset_index(drop=True), tables["patients"], check_dtype=False)
    pd.testing.assert_frame_equal(cohort.lesions[LESION_COLUMNS].reset_index(drop=True), tables["lesions"],
                                  check_dtype=False)
