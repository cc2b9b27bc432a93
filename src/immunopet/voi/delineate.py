"""Semi-automatic lesion delineation by thresholds, inside a VOI or around a seed point.

Methods (threshold ``T``; the lesion is the face-connected (6-neighbour) component of voxels with
SUV >= T in the search region that holds the seed voxel, or the hottest voxel when no seed is given
or the seed is below T):

- ``"fixed"``: T = ``threshold`` (an SUV, required);
- ``"pct_max"``: T = ``threshold`` x SUVmax of the search region (default 0.41, the EANM 41 %);
- ``"a50p"``: T = 0.5 x (SUVpeak + background) (Boellaard et al. 2015, A50%P), SUVpeak = the IBSI
  local intensity peak (12.4 mm sphere) on the search region's hottest voxel; ``background`` is an
  SUV, or a mask whose SUVmean is used, or (None) the median SUV of a shell 10-20 mm outside the
  uncorrected 50 %-of-peak contour.

Search region: ``within`` (a mask on the grid) when given, else a sphere of ``search_mm`` diameter
(default 60 mm) around ``seed_lps``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi.peak import PEAK_DIAMETER_MM, sphere_means
from immunopet.voi.spheres import sphere_mask

log = logging.getLogger(__name__)

METHODS = ("fixed", "pct_max", "a50p")
SHELL_MM = (10.0, 20.0)


def _component(above: np.ndarray, start: tuple[int, ...]) -> np.ndarray:
    labels, _ = ndimage.label(above)
    return labels == labels[start]


def shell_background(
    suv: Image, lesion: np.ndarray, *, inner_mm: float = SHELL_MM[0], outer_mm: float = SHELL_MM[1]
) -> float:
    """Median SUV of the voxels between ``inner_mm`` and ``outer_mm`` outside ``lesion`` (edge distance)."""
    distance = ndimage.distance_transform_edt(~lesion, sampling=suv.spacing)
    shell = (distance > inner_mm) & (distance <= outer_mm)
    if not shell.any():
        raise VOIError("background shell around the lesion is empty (lesion at the image edge?)",
                       fix="give background= as an SUV value or a background VOI")
    return float(np.median(suv.array[shell]))


def delineate(
    suv: Image,
    *,
    within: np.ndarray | None = None,
    seed_lps: Sequence[float] | None = None,
    method: str = "pct_max",
    threshold: float | None = None,
    background: float | np.ndarray | None = None,
    search_mm: float = 60.0,
) -> np.ndarray:
    """Boolean lesion mask on ``suv``'s grid (rules in the module docstring)."""
    if method not in METHODS:
        raise VOIError(f"unknown delineation method {method!r}", attribute="delineation", fix=f"use one of {METHODS}")
    if within is None and seed_lps is None:
        raise VOIError("delineation needs a VOI to search in (within=) or a seed point (seed_lps=)")
    if within is not None:
        region = within.astype(bool)
    else:
        region = sphere_mask(suv, seed_lps, diameter_mm=search_mm, name="seed")
    if region.shape != suv.shape:
        raise VOIError(f"search VOI shape {region.shape} differs from the image {suv.shape}")
    if not region.any():
        raise VOIError("search VOI for delineation is empty")
    if isinstance(background, np.ndarray):  # a background VOI may lie outside the search region
        if background.shape != suv.shape or not background.any():
            raise VOIError("background VOI is empty or not on the PET grid", attribute="background")
        background = float(suv.array[background.astype(bool)].mean())
    box = search_box(region, suv.spacing, margin_mm=SHELL_MM[1] + PEAK_DIAMETER_MM)
    inner = _in_box(suv, region[box], box, seed_lps=seed_lps, method=method, threshold=threshold,
                    background=background)
    lesion = np.zeros(suv.shape, dtype=bool)
    lesion[box] = inner
    return lesion


def search_box(region: np.ndarray, spacing: np.ndarray, *, margin_mm: float) -> tuple[slice, ...]:
    """Index slices of the box around ``region`` widened by ``margin_mm`` on each side (within the image).

    Every step of a delineation looks at the search region and, for A50%P, at the 12.4 mm peak sphere
    and the background shell up to 20 mm outside the lesion, all inside this box; working on it gives
    the whole image's result at a fraction of the cost.
    """
    (tight,) = ndimage.find_objects(region.astype(np.uint8))
    pads = [int(np.ceil(margin_mm / float(s))) + 1 for s in spacing]
    return tuple(slice(max(b.start - p, 0), min(b.stop + p, n)) for b, p, n in zip(tight, pads, region.shape))


def _in_box(suv: Image, region: np.ndarray, box: tuple[slice, ...], *, seed_lps: Sequence[float] | None,
            method: str, threshold: float | None, background: float | None) -> np.ndarray:
    """The delineation on the box ``box`` of ``suv`` (``region`` cropped to it)."""
    origin = suv.index_to_world(np.array([b.start for b in box], dtype=float))
    affine = suv.affine.copy()
    affine[:3, 3] = origin
    suv = Image(suv.array[box], affine, suv.units, suv.meta)
    values = np.where(region, suv.array, -np.inf)
    hottest = np.unravel_index(int(np.argmax(values)), suv.shape)
    suv_max = float(values[hottest])
    if method == "fixed":
        if threshold is None:
            raise VOIError("fixed-threshold delineation needs threshold= (an SUV)", attribute="threshold")
        level = float(threshold)
    elif method == "pct_max":
        level = (0.41 if threshold is None else float(threshold)) * suv_max
    else:
        ties = np.argwhere(values == suv_max)
        peak = float(sphere_means(suv.array, suv.affine, ties, diameter_mm=PEAK_DIAMETER_MM).max())
        if background is None:
            bg = shell_background(suv, _component(region & (suv.array >= 0.5 * peak), hottest))
        else:
            bg = float(background)
        level = 0.5 * (peak + bg)
        log.info("A50%%P: SUVpeak %.3f, background %.3f, threshold %.3f", peak, bg, level)
    above = region & (suv.array >= level)
    start = hottest
    if seed_lps is not None:
        seed = tuple(np.rint(suv.world_to_index(np.asarray(seed_lps, dtype=float))).astype(int))
        inside = all(0 <= s < n for s, n in zip(seed, suv.shape))
        if inside and above[seed]:
            start = seed
        else:
            log.warning("seed %s is below the threshold %.3f: kept the component of the hottest voxel",
                        list(seed_lps), level)
    if not above[start]:
        raise VOIError(f"no voxel reaches the threshold {level:.3f} (SUVmax in the region {suv_max:.3f})",
                       attribute="threshold", fix="lower the threshold")
    return _component(above, start)
