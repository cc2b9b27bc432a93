"""Delineation works on the box around the search region: the same masks as on the whole image."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi import delineate, sphere_mask
from immunopet.voi.delineate import SHELL_MM
from immunopet.voi.peak import PEAK_DIAMETER_MM, sphere_means


def _whole_image(suv, region, seed_lps, method, threshold):
    """The delineation rules of immunopet.voi.delineate computed on the whole image (no box)."""
    values = np.where(region, suv.array, -np.inf)
    hottest = np.unravel_index(int(np.argmax(values)), suv.shape)
    top = float(values[hottest])

    def component(above, start):
        labels, _ = ndimage.label(above)
        return labels == labels[start]

    if method == "pct_max":
        level = threshold * top
    else:  # a50p with the shell background
        ties = np.argwhere(values == top)
        peak = float(sphere_means(suv.array, suv.affine, ties, diameter_mm=PEAK_DIAMETER_MM).max())
        core = component(region & (suv.array >= 0.5 * peak), hottest)
        distance = ndimage.distance_transform_edt(~core, sampling=suv.spacing)
        shell = (distance > SHELL_MM[0]) & (distance <= SHELL_MM[1])
        if not shell.any():
            return None
        level = 0.5 * (peak + float(np.median(suv.array[shell])))
    above = region & (suv.array >= level)
    seed = tuple(np.rint(suv.world_to_index(np.asarray(seed_lps))).astype(int))
    start = seed if all(0 <= s < n for s, n in zip(seed, suv.shape)) and above[seed] else hottest
    return component(above, start)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), method=st.sampled_from(["pct_max", "a50p"]),
       centre=st.tuples(st.floats(10, 150), st.floats(10, 110), st.floats(10, 150)),
       search_mm=st.floats(20, 70), threshold=st.floats(0.3, 0.7))
def test_the_box_gives_the_whole_image_result(seed, method, centre, search_mm, threshold):
    rng = np.random.default_rng(seed)
    affine = np.diag([4.0, 4.0, 5.0, 1.0])
    affine[:3, 3] = (-2.0, 3.0, 1.0)
    grid = Image(np.zeros((40, 30, 32), np.float32), affine, "SUV")
    array = rng.gamma(2.0, 0.5, size=grid.shape).astype(np.float32)
    lesion = sphere_mask(grid, np.add(centre, rng.normal(0, 5, 3)), diameter_mm=float(rng.uniform(10, 30)))
    array[lesion] += float(rng.uniform(2, 10))
    suv = grid.with_array(ndimage.gaussian_filter(array, 1.0))
    region = sphere_mask(suv, centre, diameter_mm=search_mm)
    expected = _whole_image(suv, region, centre, method, threshold)
    if expected is None:  # no background shell inside the image: refused
        with pytest.raises(VOIError, match="shell"):
            delineate(suv, seed_lps=centre, method=method, search_mm=search_mm)
        return
    got = delineate(suv, seed_lps=centre, method=method, threshold=threshold if method == "pct_max" else None,
                    search_mm=search_mm)
    assert np.array_equal(got, expected)
