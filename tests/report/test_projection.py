"""Display geometry: canonical orientation, MIPs and fusion slices land where the world says."""

from __future__ import annotations

import numpy as np

from immunopet.image import Image
from immunopet.projection import canonical_lps, projections
from immunopet.report.projection import fusion_slice


def test_canonical_keeps_world_positions(oblique_free_volume):
    image, hot_lps = oblique_free_volume
    canonical = canonical_lps(image)
    assert np.all(np.diag(canonical.affine[:3, :3]) > 0)
    index = np.round(canonical.world_to_index(hot_lps)).astype(int)
    assert canonical.array[tuple(index)] == 9.0


def test_canonical_handles_permuted_axes():
    array = np.zeros((5, 6, 7), dtype=np.float32)
    array[1, 2, 3] = 1.0
    # array axis 0 runs along z (superior), axis 1 along -x, axis 2 along y
    affine = np.array([[0, -2.0, 0, 10], [0, 0, 3.0, -5], [4.0, 0, 0, 7], [0, 0, 0, 1]])
    image = Image(array, affine)
    lps = image.index_to_world(np.array([1, 2, 3]))
    canonical = canonical_lps(image)
    assert canonical.shape == (6, 7, 5)
    assert np.allclose(canonical.spacing, [2.0, 3.0, 4.0])
    index = np.round(canonical.world_to_index(lps)).astype(int)
    assert canonical.array[tuple(index)] == 1.0


def test_mip_brightest_pixel_is_the_hot_voxel(oblique_free_volume):
    image, hot_lps = oblique_free_volume
    proj = projections(image)
    pixel = proj.pixel_of(hot_lps)
    for view in ("coronal", "sagittal"):
        data = getattr(proj, view)
        assert np.unravel_index(np.argmax(data), data.shape) == tuple(int(round(v)) for v in pixel[view])
    # extent spans the volume in mm: 40 x 4 mm wide coronal, 50 x 2.5 mm tall
    left, right, bottom, top = proj.extent("coronal")
    assert np.isclose(right - left, 160.0) and np.isclose(top - bottom, 125.0)
    assert np.isclose(bottom + 1.25, image.index_to_world(np.array([0, 0, 0]))[2])


def test_fusion_slice_cuts_through_hottest_lesion_voxel(oblique_free_volume):
    image, hot_lps = oblique_free_volume
    mask = image.array > 1.0
    ct = np.full(image.shape, 40.0, dtype=np.float32)
    cut = fusion_slice("L1", image, mask, ct, half_width_mm=30.0)
    assert np.isclose(cut.z_mm, hot_lps[2])
    assert cut.pet.max() == 9.0
    ix, iy = np.unravel_index(np.argmax(cut.pet), cut.pet.shape)
    assert np.isclose(cut.x_mm[ix], hot_lps[0]) and np.isclose(cut.y_mm[iy], hot_lps[1])
    assert cut.mask.sum() == 5 * 3  # the lesion's cross-section on that slice
    assert cut.ct.shape == cut.pet.shape == cut.mask.shape
    assert (np.diff(cut.x_mm) > 0).all() and (np.diff(cut.y_mm) > 0).all()
