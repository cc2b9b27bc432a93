"""Sphere VOIs: voxel-centre inclusion rule on anisotropic and oblique grids, volumes, FOV edges."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

from immunopet.errors import VOIError
from immunopet.voi import BLOOD_POOL_ML, BONE_MARROW_ML, sphere_mask
from immunopet.voi.spheres import diameter_from_volume


def test_diameter_from_volume_known_values():
    # 1 mL sphere: d = 2 (3000 / 4 pi)^(1/3) = 12.407 mm; 2.9 mL -> 17.693 mm; 8.6 mL -> 25.420 mm
    assert diameter_from_volume(1.0) == pytest.approx(12.4070, abs=1e-4)
    assert diameter_from_volume(BLOOD_POOL_ML) == pytest.approx(17.6929, abs=1e-3)
    assert diameter_from_volume(BONE_MARROW_ML) == pytest.approx(25.4195, abs=1e-3)


def test_sphere_matches_brute_force_on_anisotropic_grid(aniso_grid):
    grid = aniso_grid(shape=(16, 12, 10))
    centre = np.array([-13.3, -20.1, -21.7])
    mask = sphere_mask(grid, centre, diameter_mm=17.0)
    expected = np.zeros(grid.shape, bool)
    for i, j, k in itertools.product(*(range(n) for n in grid.shape)):  # brute force, test only
        x = grid.affine[:3, :3] @ [i, j, k] + grid.affine[:3, 3]
        expected[i, j, k] = np.sqrt(np.sum((x - centre) ** 2)) <= 8.5
    assert np.array_equal(mask, expected)


def test_sphere_on_oblique_flipped_grid_is_the_same_world_set(aniso_grid, rotation):
    direction = rotation(2, 30) @ np.diag([-1.0, 1.0, -1.0])
    grid = aniso_grid(shape=(40, 40, 40), spacing=(1.0, 1.0, 1.0), origin=(0, 0, 20), direction=direction)
    centre = grid.index_to_world(np.array([19.6, 20.2, 20.4]))
    mask = sphere_mask(grid, centre, volume_ml=BLOOD_POOL_ML)
    # 1 mm voxels: count approximates 2.9 mL = 2900 voxels within lattice error (~1 %)
    assert mask.sum() == pytest.approx(2900, rel=0.02)
    centres = grid.index_to_world(np.argwhere(mask))
    assert np.linalg.norm(centres - centre, axis=1).max() <= diameter_from_volume(BLOOD_POOL_ML) / 2


def test_sphere_outside_fov_raises(aniso_grid):
    grid = aniso_grid()
    with pytest.raises(VOIError, match="outside the image field of view"):
        sphere_mask(grid, [500.0, 0.0, 0.0], diameter_mm=10.0)
    with pytest.raises(VOIError, match="exactly one"):
        sphere_mask(grid, [0.0, 0.0, 0.0], diameter_mm=10.0, volume_ml=1.0)


def test_sphere_cut_by_fov_edge_warns_with_fraction(aniso_grid, caplog):
    grid = aniso_grid(shape=(30, 26, 20), spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0))
    # centre on the outer edge of the first voxel along i (x = -0.5): half the sphere is outside
    with caplog.at_level(logging.WARNING, logger="immunopet"):
        mask = sphere_mask(grid, [-0.5, 13.0, 10.0], diameter_mm=12.0)
    assert "50 % of its volume lies outside" in caplog.text
    assert mask[0].any() and mask.sum() == pytest.approx(4 / 3 * np.pi * 6**3 / 2, rel=0.05)
