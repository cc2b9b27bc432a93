"""Display geometry of the report's fusion figures: an axial PET/CT slice through each lesion.

The slice is cut from the volume in patient orientation (:func:`immunopet.projection.canonical_lps`):
the patient's right on the left of the picture, anterior up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from immunopet.image import Image
from immunopet.projection import Projections, canonical_lps, projections

#: The report's public display geometry (immunopet.report): the MIPs live one floor down, shared with the run.
__all__ = ["FusionSlice", "Projections", "canonical_lps", "fusion_slice", "projections"]


@dataclass(frozen=True)
class FusionSlice:
    """One axial PET/CT slice around a lesion, ready to draw.

    ``ct``, ``pet`` and ``mask`` have shape ``(nx, ny)`` on the PET grid; ``x_mm`` and ``y_mm`` are
    the voxel-centre coordinates along each axis.
    """

    label: str
    ct: np.ndarray | None
    pet: np.ndarray
    mask: np.ndarray
    x_mm: np.ndarray
    y_mm: np.ndarray
    z_mm: float


def fusion_slice(label: str, suv: Image, mask: np.ndarray, ct: np.ndarray | None = None, *,
                 half_width_mm: float = 70.0) -> FusionSlice:
    """Cut the axial slice through the hottest voxel of ``mask``, cropped around the lesion.

    Parameters
    ----------
    label
        Lesion id shown on the panel.
    suv
        SUV image (PET grid).
    mask
        Boolean VOI on the PET grid (same shape as ``suv``).
    ct
        CT in HU resampled onto the PET grid, or ``None`` for PET alone.
    half_width_mm
        Half the side of the square field of view around the lesion centroid.
    """
    canonical = canonical_lps(suv)
    transform = lambda a: canonical_lps(suv.with_array(a)).array  # noqa: E731 - same permutation
    voi = transform(np.asarray(mask, dtype=bool))
    ct_c = None if ct is None else transform(np.asarray(ct, dtype=np.float32))
    values = np.where(voi, np.nan_to_num(canonical.array), -np.inf)
    ix, iy, iz = np.unravel_index(int(np.argmax(values)), values.shape)
    cx, cy = (np.argwhere(voi[:, :, iz]).mean(axis=0) if voi[:, :, iz].any() else (ix, iy))
    half = half_width_mm / canonical.spacing[:2]
    xs = slice(max(int(cx - half[0]), 0), min(int(cx + half[0]) + 1, voi.shape[0]))
    ys = slice(max(int(cy - half[1]), 0), min(int(cy + half[1]) + 1, voi.shape[1]))
    x_mm = canonical.origin[0] + canonical.spacing[0] * np.arange(xs.start, xs.stop)
    y_mm = canonical.origin[1] + canonical.spacing[1] * np.arange(ys.start, ys.stop)
    return FusionSlice(
        label=label,
        ct=None if ct_c is None else ct_c[xs, ys, iz],
        pet=np.nan_to_num(canonical.array[xs, ys, iz]),
        mask=voi[xs, ys, iz],
        x_mm=x_mm,
        y_mm=y_mm,
        z_mm=float(canonical.origin[2] + canonical.spacing[2] * iz),
    )
