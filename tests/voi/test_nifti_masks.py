"""NIfTI label maps on other grids (finer, flipped, oblique) mapped onto the PET grid by world position."""

from __future__ import annotations

import json
import logging

import nibabel as nib
import numpy as np
import pytest

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi import masks_from_nifti, read_label_table


def world_box_mask(image: Image, lo, hi) -> np.ndarray:
    """Voxels of ``image`` whose centres lie in the world box [lo, hi] (LPS mm)."""
    centres = image.voxel_centres()
    return np.all((centres >= lo) & (centres <= hi), axis=-1)


@pytest.fixture()
def pet(aniso_grid):
    # PET centres at x = -30 + 2i, y = -39 + 3j, z = -40 + 4k
    return aniso_grid(shape=(30, 26, 20), spacing=(2.0, 3.0, 4.0), origin=(-30.0, -39.0, -40.0))


@pytest.fixture()
def fine_oblique(rotation):
    """A 0.75 mm 'CT' grid, rotated 25 degrees about z and flipped along two axes, covering the PET box."""
    direction = rotation(2, 25.0) @ np.diag([-1.0, 1.0, -1.0])
    affine = np.eye(4)
    affine[:3, :3] = direction * 0.75
    affine[:3, 3] = direction @ -np.array([45.0, 45.0, 45.0]) + [-5.0, -5.0, -5.0]  # centre near (-5,-5,-5)
    return Image(np.zeros((120, 120, 120), dtype=np.uint8), affine, "label")


# box faces halfway between PET voxel centres: every PET centre is >= 1 mm from a face, more than the
# 0.65 mm half-diagonal of a 0.75 mm source voxel, so nearest neighbour is exact
LESION = (np.array([-21.0, -16.5, -22.0]), np.array([-9.0, 5.5, 2.0]))
ORGAN = (np.array([1.0, -4.5, -10.0]), np.array([13.0, 13.5, 14.0]))


def write_labels(tmp_path, source: Image, boxes: dict[int, tuple]) -> str:
    array = np.zeros(source.shape, dtype=np.uint8)
    for value, (lo, hi) in boxes.items():
        array[world_box_mask(source, lo, hi)] = value
    path = tmp_path / "labels.nii.gz"
    nib.save(source.with_array(array).to_nifti(), path)
    return str(path)


def test_label_map_on_oblique_finer_grid_maps_by_world_position(tmp_path, pet, fine_oblique):
    path = write_labels(tmp_path, fine_oblique, {1: LESION, 3: ORGAN})
    masks = masks_from_nifti(path, pet, labels={1: "L1", 3: "liver"})
    assert set(masks) == {"L1", "liver"}
    assert np.array_equal(masks["L1"], world_box_mask(pet, *LESION))
    assert np.array_equal(masks["liver"], world_box_mask(pet, *ORGAN))
    assert masks["L1"].sum() == 6 * 7 * 6  # 12 mm / 2, 22 mm / 3 (rounded down), 24 mm / 4
    assert masks_from_nifti(path, pet, label=3).keys() == {"3"}


def test_partial_volume_fractions(tmp_path, pet, fine_oblique):
    # x from -22.5: the PET voxel i = 4 (centre -22, edges -23..-21) is 3/4 inside; its 3 sub-voxel
    # centres along x are at -22.67 (out), -22 and -21.33 (in): fraction 2/3 (multiples of 1/27)
    box = (np.array([-22.5, -16.5, -22.0]), np.array([-9.0, 5.5, 2.0]))
    path = write_labels(tmp_path, fine_oblique, {1: box})
    fractions = masks_from_nifti(path, pet, label=1, fractional=True)["labels"]
    assert fractions.dtype == np.float32 and fractions.max() == 1.0
    assert fractions[4, 10, 7] == pytest.approx(2 / 3)
    assert fractions[3, 10, 7] == 0.0 and fractions[5, 10, 7] == 1.0
    box_ml = np.prod(box[1] - box[0]) / 1000
    assert fractions.sum() * pet.voxel_volume_ml == pytest.approx(box_ml, rel=0.03)


def test_binary_mask_named_after_file_and_flipped_same_grid(tmp_path, pet):
    flipped = Image(np.zeros(pet.shape, np.uint8), pet.affine @ np.array(
        [[-1, 0, 0, pet.shape[0] - 1], [0, 1, 0, 0], [0, 0, -1, pet.shape[2] - 1], [0, 0, 0, 1]], float))
    truth = world_box_mask(pet, *LESION)
    array = truth[::-1, :, ::-1].astype(np.uint8)  # the same voxels, stored in flipped order
    path = tmp_path / "L7.nii.gz"
    nib.save(flipped.with_array(array).to_nifti(), path)
    masks = masks_from_nifti(path, pet)
    assert list(masks) == ["L7"] and np.array_equal(masks["L7"], truth)


def test_label_tables_csv_tsv_json(tmp_path):
    (tmp_path / "t.csv").write_text("label,name\n1,liver\n2,spleen\n")
    (tmp_path / "t.tsv").write_text("label\tname\n1\tliver\n2\tspleen\n")
    (tmp_path / "t.json").write_text(json.dumps({"1": "liver", "2": "spleen"}))
    for name in ("t.csv", "t.tsv", "t.json"):
        assert read_label_table(tmp_path / name) == {1: "liver", 2: "spleen"}
    (tmp_path / "bad.csv").write_text("value,organ\n1,liver\n")
    with pytest.raises(VOIError, match="label,name"):
        read_label_table(tmp_path / "bad.csv")


def test_outside_fov_and_partial_coverage(tmp_path, pet, fine_oblique, caplog):
    far_affine = np.eye(4)
    far_affine[0, 3] = 500.0  # a 1 mm grid starting 500 mm to the patient's left
    far_grid = Image(np.zeros((10, 10, 10), np.uint8), far_affine)
    far = write_labels(tmp_path, far_grid, {1: (np.array([500, 2, 2]), np.array([505, 7, 7]))})
    with pytest.raises(VOIError, match="entirely outside the PET field of view"):
        masks_from_nifti(far, pet, label=1)
    # a box straddling the PET's x = +29 mm edge (outer voxel edge at x = 29): 1/3 of it outside
    edge = (np.array([17.0, -4.5, -10.0]), np.array([35.0, 13.5, 14.0]))
    path = write_labels(tmp_path, fine_oblique, {2: edge})
    with caplog.at_level(logging.WARNING):
        masks = masks_from_nifti(path, pet, label=2)
    assert "33." in caplog.text and "outside the PET field of view" in caplog.text
    assert masks["2"].sum() == 6 * 6 * 6


def test_non_integer_mask_and_missing_label(tmp_path, pet):
    path = tmp_path / "prob.nii.gz"
    nib.save(pet.with_array(np.full(pet.shape, 0.3, np.float32)).to_nifti(), path)
    with pytest.raises(VOIError, match="not non-negative integers"):
        masks_from_nifti(path, pet)
    box = write_labels(tmp_path, pet, {1: LESION})
    with pytest.raises(VOIError, match="label 4 not present"):
        masks_from_nifti(box, pet, label=4)


def test_present_labels_integer_and_float_paths():
    from immunopet.voi.labelmap import present_labels

    assert present_labels(np.array([[[0, 3, 3, 7]]], np.uint8)) == [3, 7]
    assert present_labels(np.array([[[2, 5]]], np.int16)) == [2, 5]
    assert present_labels(np.array([[[0.0, 1.0, 4.0]]], np.float32)) == [1, 4]
    assert present_labels(np.zeros((2, 2, 2), np.uint8)) == []
    with pytest.raises(VOIError):
        present_labels(np.array([[[-1, 2]]], np.int16))
