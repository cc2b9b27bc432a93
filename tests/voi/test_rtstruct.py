"""RTSTRUCT rasterisation on real scanner data and on synthetic contours (holes, plane assignment)."""

from __future__ import annotations

import logging

import nibabel as nib
import numpy as np
import pydicom
import pytest
from matplotlib.path import Path as MplPath

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi import masks_from_nifti, masks_from_rtstruct, measure_masks
from support.rtstruct import square, synthetic_rtstruct


def independent_raster(rtstruct: str, roi: str, grid: Image) -> np.ndarray:
    """Per contour: matplotlib Path on the voxel centres of the nearest slice; XOR per slice."""
    ds = pydicom.dcmread(rtstruct)
    number = next(int(r.ROINumber) for r in ds.StructureSetROISequence if r.ROIName == roi)
    contours = next(rc for rc in ds.ROIContourSequence if int(rc.ReferencedROINumber) == number).ContourSequence
    ii, jj = np.meshgrid(np.arange(grid.shape[0]), np.arange(grid.shape[1]), indexing="ij")
    centres = np.c_[ii.ravel(), jj.ravel()]
    mask = np.zeros(grid.shape, bool)
    for c in contours:
        ijk = grid.world_to_index(np.asarray(c.ContourData, float).reshape(-1, 3))
        k = int(round(ijk[:, 2].mean()))
        inside = MplPath(ijk[:, :2]).contains_points(centres).reshape(grid.shape[:2])
        mask[:, :, k] ^= inside
    return mask


def dice(a, b):
    return 2 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


@pytest.fixture(scope="module")
def ge_gtv(ge_pet, shared_data):
    path = str(shared_data / "tcia-sts-001-ge-fdg" / "rtstruct" / "1-1.dcm")
    return path, masks_from_rtstruct(path, ge_pet, roi_names=["GTV_Mass"])["GTV_Mass"]


def test_ge_gtv_mass_matches_independent_rasterisation(ge_pet, ge_gtv):
    path, mask = ge_gtv
    reference = independent_raster(path, "GTV_Mass", ge_pet)
    assert dice(mask, reference) > 0.99
    assert mask.sum() == pytest.approx(reference.sum(), rel=0.01)
    ours = measure_masks(ge_pet, {"gtv": mask}).iloc[0]
    theirs = ge_pet.array[reference]
    assert ours.suv_mean == pytest.approx(theirs.mean(), rel=0.005)
    assert ours.suv_max == pytest.approx(theirs.max())
    # 32 contours on 3.27 mm slices; sanity of the physical size (hundreds of mL sarcoma)
    assert 300 < ours.volume_ml < 450


def test_ge_gtv_nifti_route_identical(ge_pet, ge_gtv, tmp_path):
    _, mask = ge_gtv
    nib.save(ge_pet.with_array(mask.astype(np.uint8)).to_nifti(), tmp_path / "gtv.nii.gz")
    back = masks_from_nifti(tmp_path / "gtv.nii.gz", ge_pet)["gtv"]
    assert np.array_equal(back, mask)
    a = measure_masks(ge_pet, {"x": mask}).iloc[0, 1:]
    b = measure_masks(ge_pet, {"x": back}).iloc[0, 1:]
    assert np.allclose(a.to_numpy(float), b.to_numpy(float), equal_nan=True)


def test_frame_of_reference_mismatch_raises(ge_pet, ge_gtv):
    other = Image(ge_pet.array, ge_pet.affine, "BQML", {"frame_of_reference_uid": "1.2.3.4"})
    with pytest.raises(VOIError, match="frame of reference"):
        masks_from_rtstruct(ge_gtv[0], other, roi_names=["GTV_Mass"])
    with pytest.raises(VOIError, match="not in the RTSTRUCT"):
        masks_from_rtstruct(ge_gtv[0], ge_pet, roi_names=["Liver"])
    assert list(masks_from_rtstruct(ge_gtv[0], ge_pet, roi_names=["gtv_mass"])) == ["GTV_Mass"]
    assert list(masks_from_rtstruct(ge_gtv[0], ge_pet, roi_names=[])) == ["GTV_Mass", "GTV_Edema"]  # empty = all


@pytest.mark.parametrize("patient", ["STS_002", "STS_003"])
def test_cropped_sts_pet_and_ct_contours(patient, shared_data, read_series, tmp_path):
    root = shared_data / "tcia-sts-cropped" / patient
    pet = read_series(root / "pet" / "image")
    ct = read_series(root / "ct" / "image")
    pet_rs, ct_rs = str(root / "pet" / "mask" / "RS.dcm"), str(root / "ct" / "mask" / "RS.dcm")
    on_pet = masks_from_rtstruct(pet_rs, pet)["GTV_Mass_PET"]
    assert dice(on_pet, independent_raster(pet_rs, "GTV_Mass_PET", pet)) > 0.97
    # the CT-drawn contour: rasterised on the CT grid, written to NIfTI and mapped onto the PET grid,
    # agrees with rasterising it directly on the PET grid
    direct = masks_from_rtstruct(ct_rs, pet)["GTV_Mass_CT"]
    on_ct = masks_from_rtstruct(ct_rs, ct)["GTV_Mass_CT"]
    nib.save(ct.with_array(on_ct.astype(np.uint8)).to_nifti(), tmp_path / "ct_gtv.nii.gz")
    via_nifti = masks_from_nifti(tmp_path / "ct_gtv.nii.gz", pet)["ct_gtv"]
    ct_ml = on_ct.sum() * ct.voxel_volume_ml
    assert direct.sum() * pet.voxel_volume_ml == pytest.approx(ct_ml, rel=0.1)
    assert dice(direct, via_nifti) > 0.9


def test_hole_multiple_contours_and_plane_assignment(tmp_path, aniso_grid, caplog):
    # PET voxel centres: x = 2 i, y = 2 j, z = 5 k
    grid = aniso_grid(shape=(40, 40, 12), spacing=(2.0, 2.0, 5.0), origin=(0.0, 0.0, 0.0))
    grid = Image(grid.array, grid.affine, "SUVbw", {"frame_of_reference_uid": "1.2.3"})
    ring = [square(40, 40, 15, 25.0), square(40, 40, 7, 25.0), square(70, 70, 3, 25.0)]  # outer, hole, island
    every_other = [square(20, 20, 5, z) for z in (10.0, 20.0, 30.0)]  # contours every 2nd slice
    fine = [square(60, 20, 5 + (z % 5), z) for z in np.arange(20.0, 31.0, 1.0)]  # 1 mm planes
    tilted = [np.array([[10, 60, 24.0], [20, 60, 24.0], [20, 70, 27.0], [10, 70, 27.0]])]
    path = synthetic_rtstruct(tmp_path / "rs.dcm", {"ring": ring, "sparse": every_other, "fine": fine,
                                                    "tilted": tilted}, "1.2.3")
    with caplog.at_level(logging.WARNING):
        masks = masks_from_rtstruct(path, grid)
    assert "not parallel to the PET slices" in caplog.text
    ring_mask = masks["ring"]
    assert np.flatnonzero(ring_mask.any(axis=(0, 1))).tolist() == [5]
    # outer square 25..55 mm -> centres i = 13..27 (15 per axis), hole 33..47 -> i = 17..23 (7),
    # island 67..73 -> i = 34..36 (3): 225 - 49 + 9 voxels (no centre lies on an edge)
    ring_slice = ring_mask[:, :, 5]
    assert ring_slice.sum() == 225 - 49 + 9
    assert not ring_slice[20, 20] and ring_slice[14, 20] and ring_slice[35, 35]
    assert masks["sparse"].any(axis=(0, 1)).tolist() == [False, False, True, True, True, True, True, False, False,
                                                          False, False, False]
    # fine planes every 1 mm: PET slice k takes the plane at z = 5 k (half-size 5 + 0)
    fine_mask = masks["fine"]
    assert np.flatnonzero(fine_mask.any(axis=(0, 1))).tolist() == [4, 5, 6]
    assert fine_mask[:, 10, 4].sum() == fine_mask[:, 10, 6].sum()
    assert masks["tilted"].any(axis=(0, 1)).sum() == 1


def test_contour_partly_outside_fov_warns(tmp_path, aniso_grid, caplog):
    grid = aniso_grid(shape=(20, 20, 5), spacing=(2.0, 2.0, 5.0), origin=(0.0, 0.0, 0.0))
    path = synthetic_rtstruct(tmp_path / "rs.dcm", {"edge": [square(38.0, 20.0, 8.9, 10.0)],
                                                    "gone": [square(500.0, 20.0, 5, 10.0)]}, "1.2.3")
    with caplog.at_level(logging.WARNING):
        masks = masks_from_rtstruct(path, grid)
    assert list(masks) == ["edge"] and "lie outside the PET field of view" in caplog.text
    # x 29.1..46.9 mm -> i = 15..23 of which 15..19 in the image; y 11.1..28.9 -> j = 6..14
    assert masks["edge"].sum() == 5 * 9 and "44.4 %" in caplog.text
    with pytest.raises(VOIError, match="no voxel inside the PET field of view"):
        masks_from_rtstruct(path, grid, roi_names=["gone"])


def test_unreadable_or_wrong_files_raise(tmp_path, ge_pet, shared_data):
    (tmp_path / "junk.dcm").write_bytes(b"not dicom at all")
    with pytest.raises(VOIError, match="cannot read DICOM"):
        masks_from_rtstruct(tmp_path / "junk.dcm", ge_pet)
    with pytest.raises(VOIError, match="not an RTSTRUCT"):
        masks_from_rtstruct(shared_data / "tcia-sts-001-ge-fdg" / "pet" / "1-001.dcm", ge_pet)


def test_ge_gtv_peaks_match_a_full_image_convolution(ge_pet, ge_gtv):
    """SUVpeak on real data against an independent whole-image FFT convolution with a ball kernel."""
    from scipy.signal import fftconvolve

    _, mask = ge_gtv
    spacing = ge_pet.spacing
    reach = np.ceil(6.2 / spacing).astype(int)
    grids = np.meshgrid(*(np.arange(-r, r + 1) * s for r, s in zip(reach, spacing)), indexing="ij")
    ball = (np.sqrt(sum(g**2 for g in grids)) <= 6.2).astype(float)
    image = ge_pet.array.astype(float)
    means = fftconvolve(image, ball, mode="same") / fftconvolve(np.ones_like(image), ball, mode="same")
    row = measure_masks(ge_pet, {"gtv": mask}).iloc[0]
    assert row.suv_peak == pytest.approx(means[mask].max(), rel=1e-6)
    hottest = mask & (image == image[mask].max())
    assert row.suv_peak_local == pytest.approx(means[hottest].max(), rel=1e-6)
