"""Spherical VOIs from a centre in patient coordinates (LPS, mm) and a diameter or a volume.

Voxel inclusion rule (used here and for the SUVpeak kernel in :mod:`immunopet.voi.peak`): a voxel
belongs to the sphere when the distance from its *centre* to the sphere centre, measured in mm with
the image's full affine (anisotropic and oblique spacing included), is at most the radius
(``<=``, so a voxel centre exactly on the surface is inside).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from immunopet.errors import VOIError
from immunopet.image import Image

log = logging.getLogger(__name__)

#: Fixed organ VOI volumes (mL) of 89Zr immunoPET studies (Jauw et al., Mol Imaging Biol 2018).
BLOOD_POOL_ML = 2.9
BONE_MARROW_ML = 8.6


def diameter_from_volume(volume_ml: float) -> float:
    """Diameter (mm) of a sphere of ``volume_ml`` millilitres: d = 2 * (3 V / (4 pi))^(1/3), V in mm^3."""
    if not volume_ml > 0:
        raise VOIError(f"sphere volume must be positive, got {volume_ml} mL", attribute="volume_ml")
    return float(2.0 * (3.0 * volume_ml * 1000.0 / (4.0 * np.pi)) ** (1.0 / 3.0))


def sphere_mask(
    grid: Image,
    center_lps: Sequence[float],
    *,
    diameter_mm: float | None = None,
    volume_ml: float | None = None,
    name: str = "sphere",
) -> np.ndarray:
    """Boolean mask of the voxels whose centres lie within a sphere.

    Parameters
    ----------
    grid
        The image whose grid the mask is made on (usually the PET).
    center_lps
        Sphere centre ``(x, y, z)`` in DICOM patient coordinates (LPS, mm).
    diameter_mm, volume_ml
        Exactly one: the diameter in mm, or the volume in mL (e.g. 2.9 mL for the blood pool).
    name
        Used in messages only.

    Returns
    -------
    numpy.ndarray
        ``bool`` array of the grid's shape. Raises :class:`VOIError` if no voxel centre is inside;
        logs a warning with the fraction of the sphere's volume lying outside the field of view.
    """
    if (diameter_mm is None) == (volume_ml is None):
        raise VOIError(f"sphere {name!r}: give exactly one of diameter_mm or volume_ml", attribute="diameter_mm")
    diameter = diameter_from_volume(volume_ml) if volume_ml is not None else float(diameter_mm)
    if not 0 < diameter < math.inf:  # NaN fails too; an infinite sphere would take the whole image
        raise VOIError(f"sphere {name!r}: diameter must be a positive finite number, got {diameter} mm",
                       attribute="diameter_mm")
    centre = np.asarray(center_lps, dtype=np.float64).reshape(3)
    if not np.isfinite(centre).all():
        raise VOIError(f"sphere {name!r}: centre {centre.tolist()} is not three finite numbers (LPS mm)",
                       attribute="center_lps", fix="give the centre in DICOM patient coordinates, LPS, millimetres")
    radius = diameter / 2.0
    lo, hi = _index_box(grid, centre, radius)
    mask = np.zeros(grid.shape, dtype=bool)
    inside_fov = _fraction_inside_fov(grid, centre, radius)
    box_lo = np.maximum(lo, 0)
    box_hi = np.minimum(hi, np.asarray(grid.shape) - 1)
    if np.any(box_hi < box_lo):
        raise VOIError(
            f"sphere {name!r} at {centre.tolist()} mm (LPS) lies outside the image field of view",
            fix="check the centre coordinates: DICOM patient coordinates, LPS, millimetres",
        )
    axes = [np.arange(a, b + 1) for a, b in zip(box_lo, box_hi)]
    ijk = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    distance = np.linalg.norm(grid.index_to_world(ijk) - centre, axis=-1)
    mask[tuple(slice(a, b + 1) for a, b in zip(box_lo, box_hi))] = distance <= radius
    if not mask.any():
        raise VOIError(
            f"sphere {name!r} (diameter {diameter:.2f} mm) contains no voxel centre of the image grid",
            fix="use a larger sphere or check the centre coordinates",
        )
    if inside_fov < 0.999:
        log.warning("sphere %r: %.0f %% of its volume lies outside the field of view", name, 100 * (1 - inside_fov))
    return mask


def _index_box(grid: Image, centre: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer index bounds of the voxels that can hold sphere points (may exceed the grid)."""
    inverse = np.linalg.inv(grid.affine[:3, :3])
    half_extent = radius * np.linalg.norm(inverse, axis=1)  # extent of a sphere along each index
    c = grid.world_to_index(centre)
    shape = np.asarray(grid.shape)  # clipped in float: a far-away centre must not overflow the int cast
    lo = np.clip(np.floor(c - half_extent) - 1, -1, shape)
    hi = np.clip(np.ceil(c + half_extent) + 1, -1, shape)
    return lo.astype(int), hi.astype(int)


def _fraction_inside_fov(grid: Image, centre: np.ndarray, radius: float, *, n: int = 24) -> float:
    """Fraction of the sphere's volume inside the field of view (voxel-edge box), by sub-sampling."""
    axis = (np.arange(n) + 0.5) / n * 2 - 1
    points = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    points = points[np.linalg.norm(points, axis=1) <= 1.0] * radius + centre
    ijk = grid.world_to_index(points)
    inside = np.all((ijk >= -0.5) & (ijk <= np.asarray(grid.shape) - 0.5), axis=1)
    return float(inside.mean())
