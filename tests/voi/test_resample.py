"""Nearest-neighbour resampling against SimpleITK's own resampler on oblique, flipped grids."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.image import Image
from immunopet.voi.resample import fraction_inside, resample_fractions, resample_nearest


def test_nearest_neighbour_equals_simpleitk(rotation):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 4, size=(23, 19, 17)).astype(np.uint8)
    src_affine = np.eye(4)
    src_affine[:3, :3] = rotation(0, 17.0) @ rotation(2, -35.0) @ np.diag([-1.0, 1.0, 1.0]) * [1.3, 1.1, 2.2]
    src_affine[:3, 3] = [5.0, -7.0, 3.0]
    source = Image(labels, src_affine)
    pet = Image(np.zeros((16, 18, 12), np.float32), np.diag([2.0, 1.7, 2.5, 1.0]) + np.array(
        [[0, 0, 0, -14.0], [0, 0, 0, -12.0], [0, 0, 0, -10.0], [0, 0, 0, 0]]))
    ours = resample_nearest(source, pet)
    resampler = sitk.ResampleImageFilter()
    resampler.SetReferenceImage(pet.to_sitk())
    resampler.SetInterpolator(sitk.sitkNearestNeighbor)
    resampler.SetDefaultPixelValue(0)
    theirs = Image.from_sitk(resampler.Execute(source.to_sitk())).array
    assert ours.any() and (ours == theirs).mean() > 0.999


def test_fractions_and_fov_share_of_a_single_voxel_label():
    source = Image(np.zeros((4, 4, 4), np.uint8), np.diag([2.0, 2.0, 2.0, 1.0]))
    source.array[1, 1, 1] = 1  # one 2 mm voxel centred at (2, 2, 2)
    pet_affine = np.eye(4)
    pet_affine[:3, 3] = 0.1  # 1 mm PET voxels centred at 0.1 + i mm: no sub-sample on a source edge
    pet = Image(np.zeros((6, 6, 6), np.float32), pet_affine)
    fractions = resample_fractions(source, pet, [1])[1]
    # the source voxel spans 1..3 mm. Along x, PET voxel 1 (0.6..1.6) has sub-samples at 0.77, 1.1,
    # 1.43 mm: 2 inside; voxel 2 (1.6..2.6): 3 inside; voxel 3 (2.6..3.6) at 2.77, 3.1, 3.43: 1 inside
    assert fractions[2, 2, 2] == 1.0
    assert fractions[1, 2, 2] == np.float32(2 / 3) and fractions[3, 2, 2] == np.float32(1 / 3)
    assert fractions[1, 1, 1] == np.float32(8 / 27)
    assert fractions.sum() == np.float32(8.0)  # (2/3 + 1 + 1/3)^3: the 8 mm^3 voxel exactly
    assert fraction_inside(source, pet, [1]) == {1: 1.0}
    shifted = Image(source.array, source.affine + np.array([[0, 0, 0, 9.0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]))
    assert fraction_inside(shifted, pet, [1]) == {1: 0.0}


@settings(max_examples=60, deadline=None)
@given(shift=st.tuples(*[st.integers(-6, 6)] * 3), jitter=st.floats(-2e-4, 2e-4), flip=st.booleans())
def test_a_grid_shifted_by_whole_voxels_is_sliced_like_the_lookup_gives(shift, jitter, flip):
    """The slicing shortcut gives what the nearest-neighbour lookup gives (the shortcut off) on grids a
    whole number of voxels apart, with rounding-level jitter, and is not taken on a flipped grid."""
    from immunopet.voi import resample

    rng = np.random.default_rng(abs(hash(shift)) % 1000)
    source = Image(rng.integers(0, 5, size=(9, 7, 8)).astype(np.uint8), np.diag([2.0, 3.0, 4.0, 1.0]))
    affine = source.affine.copy()
    affine[:3, 3] = np.multiply(shift, [2.0, 3.0, 4.0]) + jitter
    if flip:
        affine[0, 0], affine[0, 3] = -2.0, affine[0, 3] + 12.0
    grid = Image(np.zeros((8, 9, 6), np.float32), affine)
    fast = resample_nearest(source, grid)
    original = resample._whole_voxel_shift
    try:
        resample._whole_voxel_shift = lambda matrix, shape: None
        slow = resample_nearest(source, grid)
    finally:
        resample._whole_voxel_shift = original
    assert fast.dtype == slow.dtype and np.array_equal(fast, slow)
    assert (resample._whole_voxel_shift(resample.source_to_grid_matrix(source, grid), grid.shape) is None) == flip
