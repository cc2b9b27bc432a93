"""Segmenter output folders (one NIfTI per organ on a finer CT grid) mapped onto the PET grid."""

from __future__ import annotations

import logging

import nibabel as nib
import numpy as np
import pytest

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi import masks_from_segmenter


@pytest.fixture()
def organ_folder(tmp_path, aniso_grid):
    """PET grid 4x4x3 mm; 'CT' grid 1 mm; liver and spleen boxes, plus an empty brain file."""
    pet = aniso_grid(shape=(30, 26, 20), spacing=(4.0, 4.0, 3.0), origin=(0.0, 0.0, 0.0))
    ct_affine = np.eye(4)
    ct_affine[:3, 3] = (-1.5, -1.5, -1.0)
    ct = Image(np.zeros((120, 104, 60), np.uint8), ct_affine)
    centres = ct.voxel_centres()
    folder = tmp_path / "segmentations"
    folder.mkdir()
    boxes = {  # world boxes whose faces lie on PET voxel edges (x, y at 4 i +- 2; z at 3 k +- 1.5)
        "liver": ([10.0, 18.0, 7.5], [50.0, 58.0, 37.5]),
        "spleen": ([70.0, 30.0, 19.5], [90.0, 46.0, 43.5]),
    }
    for organ, (lo, hi) in boxes.items():
        inside = np.all((centres >= lo) & (centres <= hi), axis=-1)
        nib.save(ct.with_array(inside.astype(np.uint8)).to_nifti(), folder / f"{organ}.nii.gz")
    nib.save(ct.to_nifti(), folder / "brain.nii.gz")  # empty: organ not in the scan
    return pet, folder, boxes


def test_organs_resampled_with_their_volumes(organ_folder, caplog):
    pet, folder, boxes = organ_folder
    with caplog.at_level(logging.WARNING):
        masks = masks_from_segmenter(folder, pet)
    assert set(masks) == {"liver", "spleen"} and "empty organ mask" in caplog.text
    for organ, (lo, hi) in boxes.items():
        assert masks[organ].sum() * pet.voxel_volume_ml == pytest.approx(np.prod(np.subtract(hi, lo)) / 1000)
    assert masks["liver"][3:13, 5:15, 3:13].all() and masks["liver"].sum() == 10 * 10 * 10


def test_organ_selection_and_errors(organ_folder, tmp_path):
    pet, folder, _ = organ_folder
    assert list(masks_from_segmenter(folder, pet, organs=["spleen"])) == ["spleen"]
    assert set(masks_from_segmenter(folder, pet, organs=[])) == {"liver", "spleen"}  # empty = all
    with pytest.raises(VOIError, match="not in the segmenter folder"):
        masks_from_segmenter(folder, pet, organs=["kidney_left"])
    with pytest.raises(VOIError, match="is empty"):
        masks_from_segmenter(folder, pet, organs=["brain"])
    with pytest.raises(VOIError, match="no NIfTI files"):
        masks_from_segmenter(tmp_path, pet)


def test_fractional_organs(organ_folder):
    pet, folder, boxes = organ_folder
    liver = masks_from_segmenter(folder, pet, organs=["liver"], fractional=True)["liver"]
    assert liver.sum() * pet.voxel_volume_ml == pytest.approx(40 * 40 * 30 / 1000, rel=0.01)
