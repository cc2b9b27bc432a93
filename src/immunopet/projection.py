"""Display geometry shared by the report and the viewer: volumes in patient orientation and their
maximum-intensity projections (MIPs), and the MIP file ``immunopet run`` keeps for each scan.

Report images follow the radiological convention: coronal and axial views show the patient's right
on the left of the picture; sagittal views show anterior on the left; the head is up. To get there
from any axis-aligned DICOM orientation, :func:`canonical_lps` permutes and flips the voxel axes (no
resampling) so that array axes 0, 1, 2 run along +x (to the patient's Left), +y (Posterior) and
+z (Superior). A slightly oblique volume is mapped to its nearest axes, which is fine for display
and never used for numbers.

The run projects each scan's SUV volume while it has it in memory and keeps the projections in
``results/projections/<scan_id>.npz`` with a key naming what they were made from (the PET files'
fingerprint, the SUV factor and the software version); the report draws a scan's MIPs from that
file when the key still matches the store, instead of reading the whole PET series again.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from immunopet.image import Image

log = logging.getLogger(__name__)

#: Folder of the kept projections, inside the study's results folder.
PROJECTIONS_DIR = "projections"


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


def projection_key(pet_hash: str, suv_factor: float | None, version: str) -> str:
    """What a kept projection was made from: the PET files' fingerprint, the SUV factor, the version."""
    return f"{pet_hash}|{float('nan') if suv_factor is None else float(suv_factor)!r}|{version}"


def save_projections(path: Path, proj: Projections, key: str) -> None:
    """Keep ``proj`` at ``path`` (``.npz``, written to a temporary name and renamed) with its ``key``."""
    from immunopet.atomic import atomic_write

    def write(partial: Path) -> None:
        with open(partial, "wb") as handle:
            np.savez_compressed(handle, coronal=proj.coronal, sagittal=proj.sagittal, spacing=proj.spacing,
                                origin=proj.origin, key=np.array(key))

    atomic_write(path, write)


def load_projections(path: Path, key: str) -> Projections | None:
    """The projections kept at ``path`` if they were made from ``key``; ``None`` otherwise.

    A missing, damaged or foreign file, or one made from other inputs, is ``None`` (the caller then
    projects the volume itself): the file is a cache, never a source of numbers.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            proj = Projections(coronal=data["coronal"], sagittal=data["sagittal"], spacing=data["spacing"],
                               origin=data["origin"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        if not isinstance(error, FileNotFoundError):
            log.debug("%s: kept projections not used (%s)", path, error)
        return None
    shapes_ok = (proj.coronal.ndim == 2 and proj.sagittal.ndim == 2 and proj.spacing.shape == (3,)
                 and proj.origin.shape == (3,) and proj.coronal.shape[1] == proj.sagittal.shape[1])
    return proj if shapes_ok else None
