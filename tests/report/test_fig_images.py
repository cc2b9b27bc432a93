"""MIP grid and PET/CT fusion figures show the data they are given, where it belongs."""

from __future__ import annotations

import numpy as np
from matplotlib.contour import QuadContourSet
from matplotlib.image import AxesImage

from immunopet.report.fig_images import fusion_figure, mip_grid_figure
from immunopet.report.figio import save_figure
from immunopet.projection import projections
from immunopet.report.projection import fusion_slice


def test_mip_grid_one_scale_rows_days(oblique_free_volume, tmp_path):
    image, hot_lps = oblique_free_volume
    later = image.with_array(image.array * 0.5)
    rows = [("day 2", projections(image)), ("day 7", projections(later))]
    fig = mip_grid_figure("P01", rows, vmax=6.0)
    images = [a for ax in fig.axes for a in ax.get_images()]
    assert len(images) == 4
    assert {im.get_clim() for im in images} == {(0.0, 6.0)}
    # row 2 holds the later scan: its coronal panel is the transposed coronal MIP, origin lower
    coronal_day7 = fig.axes[2].get_images()[0]
    assert np.array_equal(np.asarray(coronal_day7.get_array()), rows[1][1].coronal.T)
    assert coronal_day7.origin == "lower"
    # the hot voxel is drawn at its world x/z (mm) in the coronal panel
    left, right, bottom, top = coronal_day7.get_extent()
    data = np.asarray(coronal_day7.get_array())
    row, col = np.unravel_index(np.argmax(data), data.shape)
    x_mm = left + (col + 0.5) * (right - left) / data.shape[1]
    z_mm = bottom + (row + 0.5) * (top - bottom) / data.shape[0]
    assert np.isclose(x_mm, hot_lps[0]) and np.isclose(z_mm, hot_lps[2])
    assert fig.axes[0].get_ylabel() == "day 2" and fig.axes[2].get_ylabel() == "day 7"
    saved = save_figure(fig, tmp_path, "mip_P01")
    assert saved.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in saved.svg.read_bytes()[:400]


def test_fusion_figure_outlines_the_voi(oblique_free_volume):
    image, hot_lps = oblique_free_volume
    mask = image.array > 1.0
    cut = fusion_slice("L1", image, mask, np.zeros(image.shape, np.float32))
    fig = fusion_figure("P01 day 7", [cut])
    ax = fig.axes[0]
    assert len([a for a in ax.get_images() if isinstance(a, AxesImage)]) == 2  # CT + PET
    contours = [c for c in ax.collections if isinstance(c, QuadContourSet)]
    assert len(contours) == 1
    vertices = np.concatenate([p.vertices for p in contours[0].get_paths()])
    # the outline encloses the 5 x 3 voxel cross-section (4 mm x 3 mm voxels) around the hot voxel
    lesion_x = cut.x_mm[cut.mask.any(axis=1)]
    lesion_y = cut.y_mm[cut.mask.any(axis=0)]
    assert lesion_x.min() - 4 <= vertices[:, 0].min() <= lesion_x.min()
    assert lesion_x.max() <= vertices[:, 0].max() <= lesion_x.max() + 4
    assert lesion_y.min() - 3 <= vertices[:, 1].min() <= lesion_y.min()
    assert ax.get_title().startswith("L1")
