"""Mapping a mask or label map on any grid onto the PET grid through patient coordinates.

Two ways, both evaluated only inside the bounding box (on the PET grid) of the source's non-zero
voxels, in slabs so that whole-body volumes stay within memory:

- nearest neighbour (default): a PET voxel takes the source value at the source voxel nearest to
  the PET voxel's centre (world position -> source index, rounded);
- partial volume (``fractional=True``): each PET voxel is divided into ``n x n x n`` equal
  sub-voxels (default n = 3); the fraction for label L is the share of sub-voxel centres whose
  nearest source voxel holds L. Fractions are multiples of 1/n^3.

Points that fall outside the source image count as background (0).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np

from immunopet.errors import VOIError
from immunopet.image import Image

log = logging.getLogger(__name__)

_SLAB_VOXELS = 2_000_000  # PET voxels (x sub-samples) evaluated per step


def check_frame_of_reference(source_uid: str | None, grid: Image, *, what: str, file: str | None = None) -> None:
    """Raise :class:`VOIError` when both frames of reference are known and differ."""
    grid_uid = grid.frame_of_reference_uid
    if source_uid and grid_uid and str(source_uid) != str(grid_uid):
        raise VOIError(
            f"{what} is in frame of reference {source_uid}, the PET in {grid_uid}: positions cannot be compared",
            file=file,
            attribute="FrameOfReferenceUID (0020,0052)",
            fix="use a VOI drawn on this PET/CT session, or register it to the PET first",
        )
    if not (source_uid and grid_uid):
        log.debug("%s: frame of reference not checked (UID missing on one side)", what)


def source_to_grid_matrix(source: Image, grid: Image) -> np.ndarray:
    """4x4 matrix from PET voxel index to (continuous) source voxel index."""
    return np.linalg.inv(source.affine) @ grid.affine


def bounding_box_on_grid(source: Image, grid: Image) -> tuple[np.ndarray, np.ndarray] | None:
    """Index box ``(lo, hi)`` (inclusive) on ``grid`` holding every non-zero source voxel, or None."""
    edges = _nonzero_box(source)
    if edges is None:
        return None
    corners = np.array(np.meshgrid(*zip(*edges), indexing="ij")).reshape(3, -1).T  # 8 outer corners
    world = source.index_to_world(corners)
    on_grid = grid.world_to_index(world)
    box_lo = np.maximum(np.floor(on_grid.min(axis=0)).astype(int) - 1, 0)
    box_hi = np.minimum(np.ceil(on_grid.max(axis=0)).astype(int) + 1, np.asarray(grid.shape) - 1)
    if np.any(box_hi < box_lo):
        return None
    return box_lo, box_hi


def _apply(matrix: np.ndarray, axes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``matrix`` (4x4) applied to the grid spanned by three 1-D index axes, by broadcasting.

    Returns the three output coordinates, each shaped like the grid (no (N, 3) temporaries).
    """
    i, j, k = (np.asarray(a, dtype=np.float64) for a in axes)
    i, j, k = i[:, None, None], j[None, :, None], k[None, None, :]
    return [matrix[c, 0] * i + matrix[c, 1] * j + matrix[c, 2] * k + matrix[c, 3] for c in range(3)]


def _inside_fov(coords: Sequence[np.ndarray], shape: Sequence[int]) -> np.ndarray:
    ok = np.ones(np.broadcast_shapes(*(c.shape for c in coords)), dtype=bool)
    for c, n in zip(coords, shape):
        ok &= (c >= -0.5) & (c <= n - 0.5)
    return ok


def fraction_inside(source: Image, grid: Image, labels: Sequence[int]) -> dict[int, float]:
    """Per label: the share of its source voxels whose centres fall inside the PET field of view.

    The field of view is the box spanned by the PET voxels' outer edges (index -0.5 .. n-0.5). When
    the box around all non-zero source voxels lies inside it, every share is 1 without a count.
    """
    box = _nonzero_box(source)
    if box is None:
        return {int(label): 0.0 for label in labels}
    m = np.linalg.inv(grid.affine) @ source.affine
    corners = _apply(m, [np.array([lo, hi]) for lo, hi in zip(*box)])
    if _inside_fov(corners, grid.shape).all():
        return {int(label): 1.0 for label in labels}
    size = max(int(max(labels, default=0)) + 1, 1)
    total = np.zeros(size, dtype=np.int64)
    inside = np.zeros(size, dtype=np.int64)
    lo, hi = (np.rint(box[0] + 0.5).astype(int), np.rint(box[1] - 0.5).astype(int))
    for k0 in range(lo[2], hi[2] + 1, 8):  # in slabs: whole-body CT label maps are large
        axes = [np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), np.arange(k0, min(k0 + 8, hi[2] + 1))]
        values = source.array[lo[0] : hi[0] + 1, lo[1] : hi[1] + 1, axes[2][0] : axes[2][-1] + 1].astype(np.int64)
        keep = (values > 0) & (values < size)
        ok = _inside_fov(_apply(m, axes), grid.shape)
        total += np.bincount(values[keep], minlength=size)
        inside += np.bincount(values[keep & ok], minlength=size)
    return {int(label): (inside[label] / total[label] if total[label] else 0.0) for label in labels}


def _nonzero_box(source: Image) -> tuple[np.ndarray, np.ndarray] | None:
    """Outer voxel-edge index bounds ``(lo - 0.5, hi + 0.5)`` of the non-zero source voxels."""
    nonzero = source.array != 0
    if not nonzero.any():
        return None
    lo, hi = [], []
    for ax in range(3):
        along = np.flatnonzero(nonzero.any(axis=tuple(a for a in range(3) if a != ax)))
        lo.append(along[0] - 0.5)
        hi.append(along[-1] + 0.5)
    return np.array(lo), np.array(hi)


def _lookup(source: Image, coords: Sequence[np.ndarray]) -> np.ndarray:
    """Source values at the voxels nearest to continuous source indices; 0 outside the source."""
    shape = source.shape
    idx = [np.rint(c).astype(np.int64) for c in coords]
    valid = np.ones(idx[0].shape, dtype=bool)
    for n_idx, n in zip(idx, shape):
        valid &= (n_idx >= 0) & (n_idx < n)
    # index the 3-D array itself: raveling a Fortran-ordered (NIfTI) source would copy it per slab
    values = source.array[tuple(np.clip(i, 0, n - 1) for i, n in zip(idx, shape))]
    values[~valid] = 0
    return values


def _slabs(lo: np.ndarray, hi: np.ndarray) -> Iterator[list[np.ndarray]]:
    """Index axes of the box ``lo..hi`` (inclusive), split along k into slabs of bounded size."""
    plane = int((hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1))
    step = max(1, _SLAB_VOXELS // max(plane, 1))
    for k0 in range(lo[2], hi[2] + 1, step):
        yield [np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), np.arange(k0, min(k0 + step, hi[2] + 1))]


def _region(axes: Sequence[np.ndarray]) -> tuple[slice, ...]:
    return tuple(slice(a[0], a[-1] + 1) for a in axes)


def _whole_voxel_shift(matrix: np.ndarray, shape: Sequence[int]) -> np.ndarray | None:
    """The integer index shift when ``matrix`` moves every voxel of a grid of ``shape`` by whole
    voxels (same axes and spacing, origins a whole number of voxels apart; to 1e-3 voxel), else None."""
    linear, shift = matrix[:3, :3] - np.eye(3), matrix[:3, 3]
    whole = np.rint(shift)
    worst = np.abs(linear) @ (np.asarray(shape, dtype=np.float64) - 1) + np.abs(shift - whole)
    return whole.astype(np.int64) if np.all(worst < 1e-3) else None


def _shifted(values: np.ndarray, shift: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``values[g + shift]`` on a grid of ``shape``, 0 where ``g + shift`` lies outside ``values``."""
    out = np.zeros(tuple(shape), dtype=values.dtype)
    low = [max(0, -int(s)) for s in shift]
    high = [min(int(n), int(m) - int(s)) for n, m, s in zip(shape, values.shape, shift)]
    if all(h > lo for lo, h in zip(low, high)):
        out[tuple(slice(lo, h) for lo, h in zip(low, high))] = values[
            tuple(slice(lo + int(s), h + int(s)) for lo, h, s in zip(low, high, shift))]
    return out


def resample_nearest(source: Image, grid: Image) -> np.ndarray:
    """Source values (labels, 0/1 or fractions) on ``grid`` by nearest neighbour; 0 elsewhere.

    A source on the grid itself, or on one shifted by whole voxels, is copied by slicing (the
    nearest voxel of every grid voxel is then the one at the same place).
    """
    m = source_to_grid_matrix(source, grid)
    shift = _whole_voxel_shift(m, grid.shape)
    if shift is not None:
        return _shifted(np.asarray(source.array), shift, grid.shape)
    out = np.zeros(grid.shape, dtype=source.array.dtype)
    box = bounding_box_on_grid(source, grid)
    if box is None:
        return out
    for axes in _slabs(*box):
        out[_region(axes)] = _lookup(source, _apply(m, axes))
    return out


def resample_fractions(
    source: Image, grid: Image, labels: Sequence[int], *, subdivisions: int = 3
) -> dict[int, np.ndarray]:
    """Partial-volume fractions (float32, 0..1) of each label on ``grid`` (see module docstring)."""
    if subdivisions < 1:
        raise VOIError(f"subdivisions must be >= 1, got {subdivisions}", attribute="subdivisions")
    counts = {int(label): np.zeros(grid.shape, dtype=np.uint16) for label in labels}
    box = bounding_box_on_grid(source, grid)
    m = source_to_grid_matrix(source, grid)
    sub = (np.arange(subdivisions) + 0.5) / subdivisions - 0.5
    offsets = np.stack(np.meshgrid(sub, sub, sub, indexing="ij"), axis=-1).reshape(-1, 3)
    for axes in _slabs(*box) if box is not None else ():
        region = _region(axes)
        for offset in offsets:  # loop over the n^3 sub-voxel positions, vectorised over voxels
            values = _lookup(source, _apply(m, [a + d for a, d in zip(axes, offset)]))
            for label, array in counts.items():
                array[region] += values == label
    return {label: (array / np.float32(len(offsets))).astype(np.float32) for label, array in counts.items()}
