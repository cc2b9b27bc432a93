"""Volume assembly: per-slice rescale, sorting, geometry checks, NIfTI and SimpleITK agreement."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from immunopet.dicom import load_image_series, write_nifti
from immunopet.errors import DicomError, GeometryError


def _independent(folder: Path) -> tuple[np.ndarray, list[Dataset]]:
    """pydicom's own pixel_array x each slice's slope + intercept, sorted by z (axial slices)."""
    datasets = [pydicom.dcmread(p) for p in folder.iterdir()]
    datasets.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    array = np.stack(
        [d.pixel_array.T.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in datasets], axis=-1)
    return array, datasets


def test_ge_per_slice_slopes(ge_image, ge_independent):
    image = ge_image
    expected, datasets = ge_independent
    slopes = {float(d.RescaleSlope) for d in datasets}
    assert len(slopes) > 100  # the reason this series is a test: one slope per slice
    assert image.array.dtype == np.float32 and image.shape == (128, 128, 267)
    np.testing.assert_allclose(image.array, expected, rtol=1e-6, atol=1e-3)
    assert image.units == "BQML" and image.meta["modality"] == "PT"
    assert image.meta["series_uid"] == datasets[0].SeriesInstanceUID
    assert image.meta["frame_of_reference_uid"] == datasets[0].FrameOfReferenceUID
    # every slice's voxel (0, 0) sits where its ImagePositionPatient says
    for k in (0, 100, 266):
        np.testing.assert_allclose(image.index_to_world([0, 0, k]), np.array(datasets[k].ImagePositionPatient, float), atol=0.05)


def test_ge_geometry_matches_simpleitk(ge_pet, ge_image):
    image = ge_image
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(ge_pet)))
    reference = reader.Execute()
    assert reference.GetSize() == image.shape
    np.testing.assert_allclose(reference.GetOrigin(), image.origin, atol=1e-3)
    np.testing.assert_allclose(np.reshape(reference.GetDirection(), (3, 3)), image.direction, atol=1e-6)
    np.testing.assert_allclose(reference.GetSpacing(), image.spacing, atol=0.01)
    # this SimpleITK/GDCM build reads the per-slice slopes of this series as float: values agree
    theirs = sitk.GetArrayFromImage(reference).transpose(2, 1, 0)
    np.testing.assert_allclose(theirs, image.array, rtol=1e-5, atol=1e-2)


def test_nifti_places_voxels_where_dicom_says(ge_image, ge_independent, tmp_path):
    image = ge_image
    out = tmp_path / "pet.nii.gz"
    write_nifti(image, out)
    nii = nibabel.load(out)
    assert nii.get_data_dtype() == np.float32
    np.testing.assert_array_equal(np.asanyarray(nii.dataobj), image.array)
    _, datasets = ge_independent
    i, j, k = 17, 93, 201
    ds = datasets[k]
    iop = np.array(ds.ImageOrientationPatient, float)
    row_spacing, col_spacing = (float(v) for v in ds.PixelSpacing)
    lps = np.array(ds.ImagePositionPatient, float) + i * col_spacing * iop[:3] + j * row_spacing * iop[3:]
    ras = nii.affine @ [i, j, k, 1]
    np.testing.assert_allclose(ras[:3], lps * [-1, -1, 1], atol=0.05)
    assert nii.header.get_sform(coded=True)[1] == 1 and nii.header.get_qform(coded=True)[1] == 1


@pytest.fixture
def ge_subset(ge_pet, tmp_path) -> Path:
    """Ten consecutive GE slices copied into a temporary folder, named without suffix."""
    folder = tmp_path / "subset"
    folder.mkdir()
    for n in range(100, 110):
        shutil.copy(ge_pet / f"1-{n:03d}.dcm", folder / f"IM{n}")
    return folder


def _edit(path: Path, **changes) -> None:
    ds = pydicom.dcmread(path)
    for key, value in changes.items():
        setattr(ds, key, value)
    ds.save_as(path)


def test_duplicate_position_is_an_error(ge_subset):
    ds = pydicom.dcmread(ge_subset / "IM105")
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(ge_subset / "copy")
    with pytest.raises(GeometryError, match="share a position") as caught:
        load_image_series(ge_subset)
    assert "ImagePositionPatient (0020,0032)" in str(caught.value)


def test_missing_slice_is_an_error(ge_subset):
    (ge_subset / "IM104").unlink()
    with pytest.raises(GeometryError, match="missing slice"):
        load_image_series(ge_subset)


def test_mixed_orientation_is_an_error(ge_subset):
    _edit(ge_subset / "IM103", ImageOrientationPatient=[1, 0, 0, 0, 0.9, 0.43589])
    with pytest.raises(GeometryError, match="mixed slice orientations") as caught:
        load_image_series(ge_subset)
    assert "IM103" in str(caught.value) and "ImageOrientationPatient" in str(caught.value)


def test_gantry_tilt_warns_and_keeps_slice_positions(ge_subset, tmp_path, caplog):
    positions = {}
    for path in ge_subset.iterdir():
        ds = pydicom.dcmread(path)
        z = float(ds.ImagePositionPatient[2])
        ds.ImagePositionPatient = [float(ds.ImagePositionPatient[0]), float(ds.ImagePositionPatient[1]) + 0.2 * z, z]
        ds.save_as(path)
        positions[z] = np.array(ds.ImagePositionPatient, float)
    image = load_image_series(ge_subset)
    assert "gantry tilt" in caplog.text
    for k, z in enumerate(sorted(positions)):
        np.testing.assert_allclose(image.index_to_world([0, 0, k]), positions[z], atol=0.05)
    write_nifti(image, tmp_path / "tilt.nii.gz")
    assert "sheared" in caplog.text
    sform = nibabel.load(tmp_path / "tilt.nii.gz").get_sform()
    z_last = sorted(positions)[-1]
    np.testing.assert_allclose((sform @ [0, 0, 9, 1])[:3], positions[z_last] * [-1, -1, 1], atol=0.05)


def test_sorted_by_position_not_instance_number(ge_subset):
    for n, path in enumerate(sorted(ge_subset.iterdir())):
        _edit(path, InstanceNumber=(n * 7) % 10 + 1)
    image = load_image_series(ge_subset)
    expected, _ = _independent(ge_subset)
    np.testing.assert_allclose(image.array, expected, rtol=1e-6, atol=1e-3)


def test_enhanced_multiframe_equals_classic(ge_subset, make_enhanced, tmp_path):
    classic = load_image_series(ge_subset)
    folder = make_enhanced(ge_subset, tmp_path / "enhanced")
    enhanced = load_image_series(folder)
    assert enhanced.same_grid(classic)
    np.testing.assert_array_equal(enhanced.array, classic.array)


def test_ct_in_hounsfield_units(shared_data):
    folder = shared_data / "tcia-sts-cropped" / "STS_002" / "ct" / "image"
    image = load_image_series(folder)
    expected, _ = _independent(folder)
    assert image.units == "HU" and image.meta["modality"] == "CT"
    np.testing.assert_allclose(image.array, expected, atol=1e-3)
    assert expected.min() < -500  # intercept (-1024) applied: air is negative


def test_folder_with_several_series_needs_a_uid(shared_data):
    folder = shared_data / "tcia-sts-cropped" / "STS_002"
    with pytest.raises(DicomError, match="2 image series found") as caught:
        load_image_series(folder)
    assert "--series" in str(caught.value)
    ct = pydicom.dcmread(folder / "ct" / "image" / "000000.dcm", stop_before_pixels=True)
    image = load_image_series(folder, series_uid=ct.SeriesInstanceUID)
    assert image.meta["modality"] == "CT" and image.shape[2] == 48
    files = sorted((folder / "ct" / "image").iterdir())
    assert load_image_series(files).same_grid(image)


def test_truncated_slice_is_a_dicom_error(ge_subset):
    data = (ge_subset / "IM105").read_bytes()
    (ge_subset / "IM105").write_bytes(data[: len(data) - 5000])
    with pytest.raises(DicomError, match="truncated") as caught:
        load_image_series(ge_subset)
    assert "IM105" in str(caught.value)


def test_overflowing_slope_names_the_slice(ge_subset):
    _edit(ge_subset / "IM107", RescaleSlope="1e38")
    with pytest.raises(DicomError, match="not finite") as caught:
        load_image_series(ge_subset)
    assert "IM107" in str(caught.value) and "RescaleSlope" in str(caught.value)


@pytest.mark.parametrize("k", [0, 37, 299])
def test_first_non_finite_slice_across_slabs(k):
    from immunopet.dicom.volume import first_non_finite_slice

    array = np.zeros((64, 64, 300), dtype=np.float32, order="F")  # 256 slices per slab: two slabs
    assert first_non_finite_slice(array) is None
    array[5, 9, k] = np.nan
    array[1, 2, 299] = np.inf
    assert first_non_finite_slice(array) == k


@pytest.mark.parametrize("populate", [True, False])
def test_volume_buffer_is_a_writable_float32_array(populate, monkeypatch):
    import mmap

    from immunopet.dicom import volume

    if not populate:
        monkeypatch.delattr(mmap, "MAP_POPULATE", raising=False)
    array = volume.populated_empty((3, 5, 7))
    assert array.shape == (3, 5, 7) and array.dtype == np.float32 and array.flags.c_contiguous and array.flags.writeable
    array[...] = 2.5
    assert float(array.sum()) == 2.5 * 105
    assert volume.populated_empty((0, 4, 4)).shape == (0, 4, 4)
