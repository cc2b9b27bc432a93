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
    nonzero = source.array != 0
    if not nonzero.any():
        return None
    lo, hi = [], []
    for ax in range(3):
        along = np.flatnonzero(nonzero.any(axis=tuple(a for a in range(3) if a != ax)))
        lo.append(along[0] - 0.5)
        hi.append(along[-1] + 0.5)
    corners = np.array(np.meshgrid(*zip(lo, hi), indexing="ij")).reshape(3, -1).T  # 8 outer corners
    world = source.index_to_world(corners)
    on_grid = grid.world_to_index(world)
    box_lo = np.maximum(np.floor(on_grid.min(axis=0)).astype(int) - 1, 0)
    box_hi = np.minimum(np.ceil(on_grid.max(axis=0)).astype(int) + 1, np.asarray(grid.shape) - 1)
    if np.any(box_hi < box_lo):
        return None
    return box_lo, box_hi


def fraction_inside(source: Image, grid: Image, labels: Sequence[int]) -> dict[int, float]:
    """Per label: the share of its source voxels whose centres fall inside the PET field of view.

    The field of view is the box spanned by the PET voxels' outer edges (index -0.5 .. n-0.5).
    """
    flat = source.array.ravel()
    where = np.flatnonzero(flat)
    values = flat[where].astype(np.int64)
    ijk = np.stack(np.unravel_index(where, source.shape), axis=-1)
    on_grid = grid.world_to_index(source.index_to_world(ijk))
    inside = np.all((on_grid >= -0.5) & (on_grid <= np.asarray(grid.shape) - 0.5), axis=1)
    out = {}
    for label in labels:
        sel = values == label
        out[int(label)] = float(inside[sel].mean()) if sel.any() else 0.0
    return out


def _slabs(lo: np.ndarray, hi: np.ndarray, per_voxel: int) -> Iterator[tuple[int, int]]:
    plane = int((hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1)) * per_voxel
    step = max(1, _SLAB_VOXELS // max(plane, 1))
    for k0 in range(lo[2], hi[2] + 1, step):
        yield k0, min(k0 + step - 1, hi[2])


def _lookup(source: Image, src_index: np.ndarray) -> np.ndarray:
    """Source values at the voxels nearest to continuous indices ``(N, 3)``; 0 outside."""
    nearest = np.rint(src_index).astype(np.int64)
    valid = np.all((nearest >= 0) & (nearest < np.asarray(source.shape)), axis=1)
    out = np.zeros(len(nearest), dtype=source.array.dtype)
    n = nearest[valid]
    out[valid] = source.array[n[:, 0], n[:, 1], n[:, 2]]
    return out


def resample_nearest(source: Image, grid: Image) -> np.ndarray:
    """Source values (labels, 0/1 or fractions) on ``grid`` by nearest neighbour; 0 elsewhere."""
    out = np.zeros(grid.shape, dtype=source.array.dtype)
    box = bounding_box_on_grid(source, grid)
    if box is None:
        return out
    lo, hi = box
    m = source_to_grid_matrix(source, grid)
    for k0, k1 in _slabs(lo, hi, 1):
        axes = [np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), np.arange(k0, k1 + 1)]
        ijk = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(float)
        values = _lookup(source, ijk @ m[:3, :3].T + m[:3, 3])
        out[lo[0] : hi[0] + 1, lo[1] : hi[1] + 1, k0 : k1 + 1] = values.reshape(len(axes[0]), len(axes[1]), -1)
    return out


def resample_fractions(
    source: Image, grid: Image, labels: Sequence[int], *, subdivisions: int = 3
) -> dict[int, np.ndarray]:
    """Partial-volume fractions (float32, 0..1) of each label on ``grid`` (see module docstring)."""
    if subdivisions < 1:
        raise VOIError(f"subdivisions must be >= 1, got {subdivisions}", attribute="subdivisions")
    out = {int(label): np.zeros(grid.shape, dtype=np.float32) for label in labels}
    box = bounding_box_on_grid(source, grid)
    if box is None:
        return out
    lo, hi = box
    m = source_to_grid_matrix(source, grid)
    sub = (np.arange(subdivisions) + 0.5) / subdivisions - 0.5
    offsets = np.stack(np.meshgrid(sub, sub, sub, indexing="ij"), axis=-1).reshape(-1, 3)
    for k0, k1 in _slabs(lo, hi, len(offsets)):
        axes = [np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), np.arange(k0, k1 + 1)]
        ijk = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 1, 3).astype(float)
        points = (ijk + offsets).reshape(-1, 3)
        values = _lookup(source, points @ m[:3, :3].T + m[:3, 3]).reshape(-1, len(offsets))
        region = (slice(lo[0], hi[0] + 1), slice(lo[1], hi[1] + 1), slice(k0, k1 + 1))
        for label, array in out.items():
            frac = (values == label).mean(axis=1, dtype=np.float64).astype(np.float32)
            array[region] = frac.reshape(len(axes[0]), len(axes[1]), -1)
    return out
