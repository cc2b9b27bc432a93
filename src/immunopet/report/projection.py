"""Display geometry: volumes in patient orientation, maximum-intensity projections, slices.

Report images follow the radiological convention: coronal and axial views show the patient's right
on the left of the picture; sagittal views show anterior on the left; the head is up. To get there
from any axis-aligned DICOM orientation, :func:`canonical_lps` permutes and flips the voxel axes (no
resampling) so that array axes 0, 1, 2 run along +x (to the patient's Left), +y (Posterior) and
+z (Superior). A slightly oblique volume is mapped to its nearest axes, which is fine for display
and never used for numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from immunopet.image import Image


def canonical_lps(image: Image) -> Image:
    """The same voxels with axes reordered and flipped to run along +L, +P, +S.

    Parameters
    ----------
    image
        Any image whose axes are (near) parallel to the patient axes.

    Returns
    -------
    Image
        A view of the voxels with a diagonal, positive direction; ``world_to_index`` still holds.
    """
    direction = image.direction
    axis_of_world = np.argmax(np.abs(direction), axis=1)  # world axis w -> array axis
    if sorted(axis_of_world.tolist()) != [0, 1, 2]:  # strongly oblique: fall back to the array order
        axis_of_world = np.arange(3)
    array = np.transpose(image.array, axis_of_world)
    affine = image.affine.copy()
    affine[:3, :3] = image.affine[:3, axis_of_world]
    for w in range(3):
        if affine[w, w] < 0:
            array = np.flip(array, axis=w)
            affine[:3, 3] += affine[:3, w] * (array.shape[w] - 1)
            affine[:3, w] *= -1
    return Image(array, affine, image.units, image.meta)


@dataclass(frozen=True)
class Projections:
    """Coronal and sagittal maximum-intensity projections of one volume, with their geometry.

    Attributes
    ----------
    coronal
        Maximum over y (anterior-posterior), shape ``(nx, nz)``.
    sagittal
        Maximum over x (right-left), shape ``(ny, nz)``.
    spacing
        Voxel size (mm) along x, y, z.
    origin
        LPS position (mm) of voxel ``(0, 0, 0)`` of the canonical volume.
    """

    coronal: np.ndarray
    sagittal: np.ndarray
    spacing: np.ndarray
    origin: np.ndarray

    def extent(self, view: str) -> tuple[float, float, float, float]:
        """``imshow`` extent (mm, voxel edges) of ``view`` shown transposed with ``origin="lower"``."""
        horizontal = 0 if view == "coronal" else 1
        shape = (self.coronal if view == "coronal" else self.sagittal).shape
        h0 = self.origin[horizontal] - self.spacing[horizontal] / 2
        z0 = self.origin[2] - self.spacing[2] / 2
        return (h0, h0 + shape[0] * self.spacing[horizontal], z0, z0 + shape[1] * self.spacing[2])

    def pixel_of(self, lps_mm: np.ndarray) -> dict[str, tuple[float, float]]:
        """Where an LPS point falls in each projection, as (array index 0, array index 1)."""
        index = (np.asarray(lps_mm, dtype=np.float64) - self.origin) / self.spacing
        return {"coronal": (index[0], index[2]), "sagittal": (index[1], index[2])}


def projections(image: Image) -> Projections:
    """Coronal and sagittal MIPs of ``image`` (any axis-aligned orientation).

    NaN voxels are ignored; a volume of NaNs projects to zeros.
    """
    canonical = canonical_lps(image)
    values = np.nan_to_num(np.asarray(canonical.array, dtype=np.float32), nan=0.0)
    return Projections(
        coronal=values.max(axis=1),
        sagittal=values.max(axis=0),
        spacing=canonical.spacing,
        origin=canonical.origin,
    )


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
