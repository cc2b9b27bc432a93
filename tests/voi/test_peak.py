"""SUVpeak: vectorised sphere means against a brute-force reference; IBSI local/global peaks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from immunopet.image import Image
from immunopet.voi.peak import peaks, sphere_means, sphere_offsets


def brute_sphere_mean(array, affine, centre_ijk, diameter):
    """Loop over every voxel of the image (tiny volumes only): mean of those within the radius."""
    total, count = 0.0, 0
    c = affine[:3, :3] @ np.asarray(centre_ijk, float)
    for i, j, k in itertools.product(*(range(n) for n in array.shape)):
        if np.linalg.norm(affine[:3, :3] @ [i, j, k] - c) <= diameter / 2:
            total += array[i, j, k]
            count += 1
    return total / count


@pytest.mark.parametrize("method", ["gather", "correlate"])
@pytest.mark.parametrize("spacing", [(2.0, 2.0, 2.0), (2.0, 3.0, 4.5), (4.0, 4.0, 2.0)])
def test_sphere_means_equal_brute_force_including_edges(method, spacing):
    rng = np.random.default_rng(1)
    array = rng.gamma(2.0, 1.0, size=(11, 9, 8))
    affine = np.diag([*spacing, 1.0])
    ijk = np.array([[0, 0, 0], [5, 4, 4], [10, 8, 7], [3, 0, 6], [10, 4, 0]])  # corners and faces included
    got = sphere_means(array, affine, ijk, diameter_mm=12.4, method=method)
    want = [brute_sphere_mean(array, affine, c, 12.4) for c in ijk]
    assert got == pytest.approx(want, rel=1e-12)


def test_sphere_offsets_oblique_affine_uses_world_distances():
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90 degrees: i runs along y
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag([1.0, 3.0, 1.0])
    offsets = sphere_offsets(affine, 6.4)  # radius 3.2 mm
    assert np.abs(offsets[:, 1]).max() == 1  # 3 mm steps along j
    assert np.abs(offsets[:, 0]).max() == 3 and np.abs(offsets[:, 2]).max() == 3


def test_global_and_local_peak_differ_as_defined():
    # background 1; a single hot voxel (10) isolated; a hot 5x5x5 block (value 6) elsewhere
    array = np.ones((40, 20, 20))
    array[5, 10, 10] = 10.0
    array[25:30, 8:13, 8:13] = 6.0
    affine = np.diag([2.0, 2.0, 2.0, 1.0])  # radius 6.2 mm = 3.1 voxels
    voi = np.zeros(array.shape, bool)
    voi[3:32, 5:16, 5:16] = True
    (global_peak, local_peak), = peaks(array, affine, [np.flatnonzero(voi)])
    n = len(sphere_offsets(affine, 12.4))
    # local peak: sphere on the hottest voxel: (10 + (n - 1) * 1) / n
    assert local_peak == pytest.approx((10 + (n - 1)) / n)
    # global peak: sphere centred in the block: offsets within +-2 voxels on each axis are 6
    offsets = sphere_offsets(affine, 12.4)
    inside = np.all(np.abs(offsets) <= 2, axis=1).sum()
    assert global_peak == pytest.approx((6 * inside + (n - inside)) / n)
    assert global_peak > local_peak


def test_local_peak_ties_take_highest_sphere():
    array = np.ones((30, 12, 12))
    array[5, 6, 6] = 9.0  # isolated max
    array[20, 6, 6] = 9.0  # same max, with warm neighbours
    array[19:22, 5:8, 5:8] = np.maximum(array[19:22, 5:8, 5:8], 4.0)
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    (g, local), = peaks(array, affine, [np.arange(array.size)])
    at_warm = sphere_means(array, affine, np.array([[20, 6, 6]]))[0]
    at_isolated = sphere_means(array, affine, np.array([[5, 6, 6]]))[0]
    assert at_warm > at_isolated
    assert local == pytest.approx(at_warm)


def test_uniform_image_peak_is_the_value_even_at_edges():
    image = Image(np.full((6, 7, 5), 3.5, dtype=np.float32), np.diag([4.0, 4.0, 3.0, 1.0]))
    (g, local), = peaks(image.array, image.affine, [np.array([0, 5, image.array.size - 1])])
    assert g == pytest.approx(3.5) and local == pytest.approx(3.5)


def test_auto_choice_gives_the_same_means_for_dense_and_sparse_voxel_sets():
    rng = np.random.default_rng(5)
    array = rng.random((40, 30, 30))
    affine = np.diag([2.0, 2.5, 3.0, 1.0])
    dense = np.argwhere(np.ones(array.shape, bool))  # whole image: correlation is cheaper
    sparse = dense[rng.choice(len(dense), 50, replace=False)]  # few voxels: gather is cheaper
    for ijk in (dense, sparse):
        auto = sphere_means(array, affine, ijk)
        assert np.allclose(auto, sphere_means(array, affine, ijk, method="gather"), rtol=1e-12, atol=0)
        assert np.allclose(auto, sphere_means(array, affine, ijk, method="correlate"), rtol=1e-12, atol=0)
