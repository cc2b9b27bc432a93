"""SUVpeak: means over a sphere of 1 cm^3 (diameter 12.4 mm) around candidate voxels.

Definitions (IBSI reference manual, Zwanenburg et al. 2020, "local intensity" family; PERCIST,
Wahl et al. 2009):

- the sphere around a voxel holds every voxel whose centre lies within ``diameter / 2`` of the
  voxel's centre, distances in mm through the image affine (anisotropic spacing counts);
- the sphere mean uses every image voxel in the sphere, whether or not it belongs to the VOI (IBSI);
  sphere voxels beyond the image edge do not exist and are not counted: the mean is over the
  sphere voxels inside the image;
- **global intensity peak** (``suv_peak``, PERCIST/PMOD style): the highest sphere mean over all
  sphere centres that are voxels of the VOI;
- **local intensity peak** (``suv_peak_local``): the sphere mean centred on the VOI's hottest voxel;
  if several voxels share the maximum, the highest of their sphere means (IBSI).

Two vectorised ways to get the sphere means, with identical results: a gather over the kernel
offsets at the VOI voxels only (cheap for small VOIs), or one ``scipy.ndimage.correlate`` of the
image (and of a ones-image, for the in-image counts) over the bounding box of all VOIs plus the
sphere radius (cheap when VOIs fill the box). :func:`sphere_means` picks the cheaper.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Diameter (mm) of a 1 cm^3 sphere: 2 * (3000 / (4 pi))^(1/3) = 12.407 mm.
PEAK_DIAMETER_MM = 12.4


def sphere_offsets(affine: np.ndarray, diameter_mm: float = PEAK_DIAMETER_MM) -> np.ndarray:
    """Integer index offsets ``(n, 3)`` of the voxels whose centres lie within the sphere radius."""
    matrix = np.asarray(affine, dtype=float)[:3, :3]
    radius = diameter_mm / 2.0
    reach = np.ceil(radius * np.linalg.norm(np.linalg.inv(matrix), axis=1)).astype(int)
    axes = [np.arange(-r, r + 1) for r in reach]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    inside = np.linalg.norm(grid @ matrix.T, axis=1) <= radius + 1e-9
    return grid[inside]


def _means_by_gather(array: np.ndarray, offsets: np.ndarray, ijk: np.ndarray) -> np.ndarray:
    """Sphere means by gathering each kernel offset; voxels near the image edge get a bounds check."""
    shape = np.asarray(array.shape)
    flat = array.ravel()
    strides = np.array([shape[1] * shape[2], shape[2], 1])
    reach = np.abs(offsets).max(axis=0)
    base = ijk @ strides
    interior = np.all((ijk >= reach) & (ijk < shape - reach), axis=1)
    means = np.empty(len(ijk), dtype=np.float64)
    inner = base[interior]
    total = np.zeros(len(inner), dtype=np.float64)
    for step in offsets @ strides:  # loop over the kernel (tens of offsets), vectorised over voxels
        total += flat[inner + step]
    means[interior] = total / len(offsets)
    edge, edge_base = ijk[~interior], base[~interior]
    total = np.zeros(len(edge), dtype=np.float64)
    count = np.zeros(len(edge), dtype=np.int64)
    for off in offsets:
        moved = edge + off
        valid = np.all((moved >= 0) & (moved < shape), axis=1)
        total += np.where(valid, flat[np.where(valid, edge_base + off @ strides, 0)], 0.0)
        count += valid
    means[~interior] = total / count
    return means


def _means_by_correlation(array: np.ndarray, offsets: np.ndarray, ijk: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    reach = np.abs(offsets).max(axis=0)
    lo = np.maximum(ijk.min(axis=0) - reach, 0)
    hi = np.minimum(ijk.max(axis=0) + reach + 1, array.shape)
    crop = array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]].astype(np.float64)
    kernel = np.zeros(tuple(2 * reach + 1))
    kernel[tuple((offsets + reach).T)] = 1.0
    sums = ndimage.correlate(crop, kernel, mode="constant", cval=0.0)
    counts = ndimage.correlate(np.ones_like(crop), kernel, mode="constant", cval=0.0)
    local = tuple((ijk - lo).T)
    return sums[local] / counts[local]


def sphere_means(
    array: np.ndarray, affine: np.ndarray, ijk: np.ndarray, *, diameter_mm: float = PEAK_DIAMETER_MM,
    method: str = "auto",
) -> np.ndarray:
    """Mean of ``array`` over the sphere centred on each voxel ``ijk`` ``(n, 3)``.

    ``method``: ``"gather"``, ``"correlate"`` or ``"auto"`` (the cheaper by operation count).
    """
    ijk = np.asarray(ijk, dtype=np.int64).reshape(-1, 3)
    if len(ijk) == 0:
        return np.zeros(0)
    offsets = sphere_offsets(affine, diameter_mm)
    if method == "auto":
        reach = np.abs(offsets).max(axis=0)
        box = np.prod(np.minimum(ijk.max(axis=0) - ijk.min(axis=0) + 2 * reach + 1, array.shape))
        method = "gather" if 4 * len(ijk) * len(offsets) < box * np.prod(2 * reach + 1) else "correlate"
    if method == "gather":
        return _means_by_gather(array, offsets, ijk)
    return _means_by_correlation(array, offsets, ijk)


def peaks(
    array: np.ndarray, affine: np.ndarray, voxel_sets: Sequence[np.ndarray], *,
    diameter_mm: float = PEAK_DIAMETER_MM,
) -> list[tuple[float, float]]:
    """(global peak, local peak) for each VOI given as flat voxel indices, from one pass over all VOIs."""
    sets = [np.asarray(v, dtype=np.int64) for v in voxel_sets]
    if not sets or sum(len(v) for v in sets) == 0:
        return [(np.nan, np.nan)] * len(sets)
    every = np.concatenate(sets)  # overlapping VOIs repeat voxels: cheaper than sorting for a union
    means = sphere_means(array, affine, np.stack(np.unravel_index(every, array.shape), axis=-1),
                         diameter_mm=diameter_mm)
    flat = array.ravel()
    out = []
    start = 0
    for voxels in sets:
        if len(voxels) == 0:
            out.append((np.nan, np.nan))
            continue
        mine = means[start : start + len(voxels)]
        start += len(voxels)
        values = flat[voxels]
        hottest = values == values.max()
        out.append((float(mine.max()), float(mine[hottest].max())))
    return out
