"""VOI rows -> masks: file sources shared between rows, seeds, failures pinned to their VOI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunopet.image import Image
from immunopet.study import build_scan_masks, load_study
from immunopet.study.masks import build_masks


def _row(**cells):
    base = {k: None for k in ("path", "label", "x_mm", "y_mm", "z_mm", "diameter_mm", "volume_ml", "delineation", "threshold")}
    return {**base, "kind": "lesion", "site": "lung", **cells}


@pytest.fixture
def suv(analytic_study) -> Image:
    return Image.from_nifti(str(analytic_study / "pet" / "P01_D7.nii.gz"), units="SUVbw")


def test_seed_delineation_finds_the_hot_block(analytic_study, suv):
    lesion = load_study(analytic_study).scan_vois("P01_D7").set_index("voi_id").loc["L1"]
    rows = [
        _row(voi_id="seed41", source="seed", x_mm=lesion.x_mm, y_mm=lesion.y_mm, z_mm=lesion.z_mm, diameter_mm=60.0),
        _row(voi_id="fixed", source="seed", x_mm=lesion.x_mm, y_mm=lesion.y_mm, z_mm=lesion.z_mm,
             delineation="fixed", threshold=5.0),
    ]
    masks, failures = build_masks(rows, suv, root=analytic_study)
    block = np.zeros(suv.shape, dtype=bool)
    block[14:20, 14:20, 4:10] = True  # the lesion block written by the fixture (SUV 8 on 1)
    assert failures == {}
    np.testing.assert_array_equal(masks["seed41"], block)
    np.testing.assert_array_equal(masks["fixed"], block)


def test_failures_are_pinned_to_their_voi(analytic_study, suv):
    rows = [
        _row(voi_id="good", source="mask", path="masks/P01_D7_liver.nii.gz", label="1"),
        _row(voi_id="absent", source="mask", path="masks/P01_D7_liver.nii.gz", label="5"),
        _row(voi_id="far", source="sphere", x_mm=0.0, y_mm=0.0, z_mm=900.0, diameter_mm=20.0),
    ]
    masks, failures = build_masks(rows, suv, root=analytic_study)
    assert list(masks) == ["good"] and masks["good"].sum() == 6 * 6 * 6
    assert set(failures) == {"absent", "far"}
    assert "label" in failures["absent"] and "outside" not in failures["absent"]


def test_seg_source_gives_the_label_map_lesions(copy_quick_study):
    """The simulator writes each scan's lesions twice (label map and DICOM SEG): same masks."""
    from immunopet.dicom import load_pet

    study_dir = copy_quick_study("seg", patients=[0])
    vois = pd.read_csv(study_dir / "vois.csv", dtype=str, keep_default_na=False)
    scan_id = vois["scan_id"].iloc[-1]  # the last scan day
    lesions = vois[(vois["scan_id"] == scan_id) & (vois["kind"] == "lesion")]
    seg_file = next(p for p in (study_dir / "masks").glob(f"{scan_id}*") if p.name.endswith(".dcm"))
    seg = lesions.assign(voi_id=lesions["voi_id"] + "_seg", source="seg", path=f"masks/{seg_file.name}",
                         label=lesions["voi_id"])
    pd.concat([vois, seg]).to_csv(study_dir / "vois.csv", index=False)
    study = load_study(study_dir)
    pet = load_pet(study.path(study.scan(scan_id)["pet"]))
    masks = build_scan_masks(study, scan_id, pet)
    assert len(lesions) >= 1
    for voi_id in lesions["voi_id"]:
        assert masks[voi_id].any()
        np.testing.assert_array_equal(masks[f"{voi_id}_seg"], masks[voi_id])
