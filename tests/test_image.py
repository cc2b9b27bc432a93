"""The one geometry convention: voxel index -> LPS mm, and its NIfTI / SimpleITK edges."""

import nibabel
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.errors import GeometryError
from immunopet.image import Image
from immunopet.nuclides import get_nuclide


def _oblique_image() -> Image:
    rng = np.random.default_rng(0)
    angle = np.deg2rad(20)
    rot = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag([2.0, 3.0, 4.5])
    affine[:3, 3] = [-100.0, 50.0, 12.5]
    return Image(rng.random((5, 6, 7), dtype=np.float32), affine, "BQML")


def test_index_world_round_trip():
    img = _oblique_image()
    ijk = np.array([[1, 2, 3], [4, 0, 6]], dtype=float)
    assert np.allclose(img.world_to_index(img.index_to_world(ijk)), ijk)
    assert np.allclose(img.spacing, [2.0, 3.0, 4.5])
    assert img.voxel_volume_ml == pytest.approx(2 * 3 * 4.5 / 1000)


def test_nifti_round_trip_flips_to_ras(tmp_path):
    img = _oblique_image()
    path = tmp_path / "x.nii.gz"
    nibabel.save(img.to_nifti(), path)
    back = nibabel.load(path)
    lps = img.index_to_world([1, 2, 3])
    ras = back.affine @ [1, 2, 3, 1]
    assert np.allclose(ras[:3], [-lps[0], -lps[1], lps[2]])
    again = Image.from_nifti(str(path))
    assert np.allclose(again.affine, img.affine) and np.array_equal(again.array, img.array)


def test_sitk_round_trip_keeps_physical_points():
    img = _oblique_image()
    sitk_img = img.to_sitk()
    assert np.allclose(sitk_img.TransformIndexToPhysicalPoint((1, 2, 3)), img.index_to_world([1, 2, 3]))
    assert sitk_img.GetPixel(1, 2, 3) == pytest.approx(float(img.array[1, 2, 3]))
    back = Image.from_sitk(sitk_img)
    assert np.allclose(back.affine, img.affine) and np.array_equal(back.array, img.array)


def test_degenerate_affine_is_refused():
    with pytest.raises(GeometryError):
        Image(np.zeros((2, 2, 2), np.float32), np.diag([1.0, 0.0, 1.0, 1.0]))


@pytest.mark.parametrize("name", ["Zr-89", "89Zr", "^89^Zirconium", "zr89", "Zirconium-89"])
def test_zirconium_aliases(name):
    zr = get_nuclide(name)
    assert zr.half_life_s == pytest.approx(282276.0)
    # a scan on day 7 (168 h) sees 2**(168/78.41) = 4.42x less activity than at injection
    assert 1 / zr.decay_factor(168 * 3600) == pytest.approx(2 ** (168 / 78.41))
    assert 1 / zr.decay_factor(168 * 3600) == pytest.approx(4.42, abs=0.005)


def test_fluorine_name_forms():
    assert get_nuclide("^18^Fluorine").half_life_s == pytest.approx(6586.2)
    assert get_nuclide("F-18").name == "F-18"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 400),
       st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([np.nan, np.inf, -np.inf])), max_size=8))
def test_non_finite_per_slice_counts_like_a_whole_volume_mask(ni, nj, nk, bad):
    import immunopet.image as image_module

    array = np.zeros((ni, nj, nk), dtype=np.float32)
    flat = array.reshape(-1)
    for index, value in bad:
        flat[index % flat.size] = value
    want = np.count_nonzero(~np.isfinite(array), axis=(0, 1))
    whole = image_module.SLAB_VOXELS
    try:
        for voxels in (whole, 64):  # one slab, and many slabs of a few slices
            image_module.SLAB_VOXELS = voxels
            np.testing.assert_array_equal(image_module.non_finite_per_slice(array), want)
    finally:
        image_module.SLAB_VOXELS = whole
