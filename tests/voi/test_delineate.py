"""Threshold delineation: two-level spheres with known volumes; the connected-component rule."""

from __future__ import annotations

import numpy as np
import pytest

from immunopet.errors import VOIError
from immunopet.voi import delineate, sphere_mask
from immunopet.voi.delineate import shell_background


@pytest.fixture()
def two_level(aniso_grid):
    """Background SUV 1; hot sphere (d 24 mm, SUV 10); a second, separate warm sphere (d 16 mm, SUV 6)."""
    grid = aniso_grid(shape=(60, 40, 40), spacing=(2.0, 2.0, 2.5), origin=(0.0, 0.0, 0.0))
    hot = sphere_mask(grid, [40.0, 40.0, 50.0], diameter_mm=24.0)
    warm = sphere_mask(grid, [90.0, 40.0, 50.0], diameter_mm=16.0)
    array = np.ones(grid.shape, np.float32)
    array[hot], array[warm] = 10.0, 6.0
    return grid.with_array(array), hot, warm


def test_pct_max_recovers_hot_sphere_and_keeps_its_component(two_level):
    suv, hot, warm = two_level
    everything = np.ones(suv.shape, bool)
    # 41 % of 10 = 4.1: both spheres exceed it, but only the component holding the maximum is kept
    assert np.array_equal(delineate(suv, within=everything), hot)
    # a seed in the warm sphere keeps the warm component
    seeded = delineate(suv, within=everything, seed_lps=[90.0, 40.0, 50.0], method="fixed", threshold=3.0)
    assert np.array_equal(seeded, warm)


def test_fixed_threshold_and_seed_search_sphere(two_level):
    suv, hot, warm = two_level
    got = delineate(suv, seed_lps=[41.0, 39.0, 50.0], method="fixed", threshold=5.0)  # default 60 mm search sphere
    assert np.array_equal(got, hot)
    with pytest.raises(VOIError, match="no voxel reaches"):
        delineate(suv, seed_lps=[41.0, 39.0, 50.0], method="fixed", threshold=50.0)
    with pytest.raises(VOIError, match="needs threshold"):
        delineate(suv, within=hot, method="fixed")
    with pytest.raises(VOIError, match="unknown delineation"):
        delineate(suv, within=hot, method="otsu")


def test_a50p_threshold_with_given_and_shell_background(two_level, caplog):
    suv, hot, warm = two_level
    region = sphere_mask(suv, [40.0, 40.0, 50.0], diameter_mm=50.0)
    # peak 10 (the 12.4 mm sphere fits in the 24 mm hot sphere), background 1: threshold 5.5
    assert np.array_equal(delineate(suv, within=region, method="a50p", background=1.0), hot)
    background = np.zeros(suv.shape, bool)
    background[0:5, 0:5, 0:5] = True
    assert np.array_equal(delineate(suv, within=region, method="a50p", background=background), hot)
    assert shell_background(suv, hot) == 1.0
    with caplog.at_level("INFO", logger="immunopet"):
        assert np.array_equal(delineate(suv, within=region, method="a50p"), hot)
    assert "threshold 5.500" in caplog.text


def test_threshold_contour_on_blurred_sphere_tracks_volume(aniso_grid):
    from scipy import ndimage

    grid = aniso_grid(shape=(50, 50, 50), spacing=(2.0, 2.0, 2.0), origin=(0.0, 0.0, 0.0))
    ball = sphere_mask(grid, [50.0, 50.0, 50.0], diameter_mm=40.0)
    blurred = ndimage.gaussian_filter(np.where(ball, 8.0, 1.0), sigma=1.5)  # 7 mm FWHM
    suv = grid.with_array(blurred.astype(np.float32))
    # for a large sphere the background-corrected 50 % contour sits on the true edge (to ~1 voxel)
    got = delineate(suv, within=np.ones(suv.shape, bool), method="a50p", background=1.0)
    assert got.sum() == pytest.approx(ball.sum(), rel=0.08)
