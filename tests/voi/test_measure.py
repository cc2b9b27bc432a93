"""measure_masks on analytic phantoms: cubes, two-level objects, a sphere cut by the FOV edge."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from immunopet.errors import VOIError
from immunopet.voi import COLUMNS, measure_masks, sphere_mask


@pytest.fixture()
def phantom(aniso_grid):
    """SUV 1 background, a uniform cube SUV 4 (5x4x3 voxels), a blood-pool block SUV 2."""
    grid = aniso_grid(shape=(30, 26, 20), spacing=(2.0, 3.0, 4.0))
    array = np.ones(grid.shape, dtype=np.float32)
    cube = np.zeros(grid.shape, bool)
    cube[10:15, 10:14, 8:11] = True
    array[cube] = 4.0
    blood = np.zeros(grid.shape, bool)
    blood[20:28, 2:8, 2:8] = True
    array[blood] = 2.0
    return grid.with_array(array), cube, blood


def test_cube_all_columns(phantom):
    suv, cube, blood = phantom
    activity = suv.with_array(suv.array * 1250.0, units="BQML")  # 1 SUV = 1250 Bq/mL
    table = measure_masks(suv, {"cube": cube, "blood_pool": blood}, activity=activity, injected_bq=1e6)
    assert list(table.columns) == COLUMNS
    row = table.set_index("voi_id").loc["cube"]
    voxel_ml = 2 * 3 * 4 / 1000
    assert row.n_voxels == 60 and row.volume_ml == pytest.approx(60 * voxel_ml)
    assert (row.suv_max, row.suv_mean, row.suv_min, row.suv_median, row.suv_sd) == (4.0, 4.0, 4.0, 4.0, 0.0)
    assert row.tlu == pytest.approx(4.0 * 60 * voxel_ml)
    assert row.mean_bqml == pytest.approx(5000.0)
    assert row.pct_id == pytest.approx(100 * 5000.0 * 60 * voxel_ml / 1e6)
    assert (row.tbr_max, row.tbr_mean) == (pytest.approx(2.0), pytest.approx(2.0))
    # peak sphere (r 6.2 mm) on a cube 10x12x12 mm reaches outside it: mean below 4, above 1
    assert 1.0 < row.suv_peak < 4.0 and row.suv_peak == row.suv_peak_local
    assert row.tbr_peak == pytest.approx(row.suv_peak / 2.0)
    assert table.set_index("voi_id").loc["blood_pool", "tbr_mean"] == pytest.approx(1.0)


def test_two_level_sphere_peak_and_statistics(aniso_grid):
    grid = aniso_grid(shape=(40, 30, 24), spacing=(2.0, 2.0, 2.5), origin=(0, 0, 0))
    centre = np.array([40.0, 30.0, 30.0])
    outer = sphere_mask(grid, centre, diameter_mm=40.0)
    inner = sphere_mask(grid, centre, diameter_mm=20.0)
    array = np.where(inner, 8.0, np.where(outer, 2.0, 0.5)).astype(np.float32)
    row = measure_masks(grid.with_array(array), {"lesion": outer}).iloc[0]
    n_in, n_out = inner.sum(), outer.sum() - inner.sum()
    assert row.suv_mean == pytest.approx((8 * n_in + 2 * n_out) / (n_in + n_out))
    assert row.suv_sd == pytest.approx(np.sqrt(n_in * n_out) / (n_in + n_out) * 6.0)  # two-point population SD
    # the 12.4 mm peak sphere fits inside the 20 mm hot core: both peaks are exactly 8
    assert row.suv_peak == pytest.approx(8.0) and row.suv_peak_local == pytest.approx(8.0)
    assert np.isnan(row.tbr_max) and np.isnan(row.pct_id) and np.isnan(row.mean_bqml)


def test_sphere_cut_by_fov_edge(aniso_grid, caplog):
    grid = aniso_grid(shape=(20, 40, 40), spacing=(2.0, 2.0, 2.0), origin=(0, 0, 0))
    centre = np.array([-1.0, 40.0, 40.0])  # on the outer face of the first slab of voxels along i
    with caplog.at_level(logging.WARNING):
        ball = sphere_mask(grid, centre, diameter_mm=40.0)
    assert "outside the field of view" in caplog.text
    array = np.where(ball, 5.0, 1.0).astype(np.float32)
    row = measure_masks(grid.with_array(array), {"half": ball}).iloc[0]
    assert row.volume_ml == pytest.approx(0.5 * 4 / 3 * np.pi * 20**3 / 1000, rel=0.03)
    # sphere voxels beyond the image are not counted, so a peak sphere at the edge inside the
    # uniform ball averages only ball voxels: exactly 5 (zero-padding would give less)
    assert row.suv_peak == pytest.approx(5.0) and row.suv_mean == 5.0


def test_fractional_mask_weights(phantom):
    suv, cube, _ = phantom
    weights = cube.astype(np.float32)
    weights[10, 10:14, 8:11] = 0.5  # one face of 12 voxels at half weight
    row = measure_masks(suv, {"pv": weights}).iloc[0]
    voxel_ml = 0.024
    assert row.n_voxels == 60 and row.volume_ml == pytest.approx((48 + 6) * voxel_ml)
    assert row.suv_mean == pytest.approx(4.0)


def test_empty_mask_gives_nan_row_with_warning(phantom, caplog):
    suv, cube, _ = phantom
    with caplog.at_level(logging.WARNING):
        table = measure_masks(suv, {"cube": cube, "none": np.zeros(suv.shape, bool)})
    row = table.set_index("voi_id").loc["none"]
    assert row.n_voxels == 0 and np.isnan(row.suv_max) and np.isnan(row.suv_peak) and np.isnan(row.volume_ml)
    assert "'none' is empty" in caplog.text


def test_bad_masks_raise(phantom):
    suv, cube, _ = phantom
    with pytest.raises(VOIError, match="map it onto the PET grid"):
        measure_masks(suv, {"x": cube[:-1]})
    with pytest.raises(VOIError, match="outside 0..1"):
        measure_masks(suv, {"x": cube * 2.0})


def test_kind_and_site_columns(phantom):
    suv, cube, blood = phantom
    table = measure_masks(suv, {"L1": cube}, kinds={"L1": "lesion"}, sites={"L1": "liver"})
    assert list(table.columns[:3]) == ["voi_id", "kind", "site"] and table.loc[0, "site"] == "liver"


def test_flat_nonzero_bool_equals_numpy():
    from immunopet.voi.measure import flat_nonzero_bool

    rng = np.random.default_rng(0)
    for shape in [(7, 5, 3), (20, 16, 10), (1, 1, 1), (9, 8, 1)]:
        for p in (0.0, 0.01, 0.5):
            mask = rng.random(shape) < p
            assert np.array_equal(flat_nonzero_bool(mask), np.flatnonzero(mask))
    assert np.array_equal(flat_nonzero_bool(np.asfortranarray(mask)), np.flatnonzero(mask))


def test_masks_as_images_on_the_same_grid_only(phantom, aniso_grid):
    suv, cube, _ = phantom
    as_image = suv.with_array(cube, units="mask")
    assert measure_masks(suv, {"c": as_image}).loc[0, "n_voxels"] == 60
    other = aniso_grid(shape=suv.shape, spacing=(1.0, 1.0, 1.0)).with_array(cube)
    with pytest.raises(VOIError, match="another grid"):
        measure_masks(suv, {"c": other})
