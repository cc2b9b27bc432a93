"""A TotalSegmentator-shaped folder of organ masks for one simulated CT (one binary NIfTI per organ).

The masks are cut from the phantom's exact tissue labels on the scan's grid and patient frame, with
the file names TotalSegmentator uses (Wasserthal et al., Radiol Artif Intell 2023): ``aorta``,
``vertebrae_L1`` .. ``vertebrae_L5``, ``liver``, ``spleen``, ``kidney_left``, ``kidney_right``,
``lung_left``, ``lung_right``, ``brain``, ``iliopsoas_left``, ``iliopsoas_right``,
``gluteus_maximus_left``, ``gluteus_maximus_right``. How each is cut from the phantom:

- aorta: blood-pool voxels outside the heart (the phantom's heart ellipsoid grown by one voxel);
- vertebrae: bone and marrow of the spinal column between 37 % and 44.5 % of the height below the
  vertex (the lumbar segment of the phantom), split along z into five equal parts, L1 the highest;
- left and right by the sign of x (LPS: x > 0 is the patient's left);
- iliopsoas: muscle voxels in the psoas band (37-47 % of the height, behind the trunk's centre);
  gluteus maximus: muscle of the upper thigh (48.5-53 % of the height).
"""

from __future__ import annotations

from pathlib import Path

import nibabel
import numpy as np

from immunopet.image import Image
from immunopet.simulate.anatomy import LABELS

LUMBAR_TOP, LUMBAR_BOTTOM = 0.37, 0.445  # fractions of the height below the vertex (phantom's lumbar spine)


def _coordinates(shape: tuple[int, ...], affine: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phantom mm of every voxel centre, each (I, J, K) (the phantom grid is axis-aligned)."""
    axes = [affine[d, d] * np.arange(n) + affine[d, 3] for d, n in enumerate(shape)]
    return np.meshgrid(*axes, indexing="ij", sparse=True)  # type: ignore[return-value]


def organ_masks(phantom) -> dict[str, np.ndarray]:  # noqa: ANN001 - a simulate.phantom.Phantom
    """``file stem -> bool mask`` on the phantom grid."""
    labels, body = phantom.labels, phantom.body
    x, y, z = _coordinates(labels.shape, phantom.affine)
    a, b, s, H = body.a, body.b, body.s, body.height
    voxel = float(phantom.affine[0, 0])
    left = x > 0
    masks: dict[str, np.ndarray] = {}
    heart = (((x - 0.12 * a) / (52 * s + voxel)) ** 2 + ((y + 0.28 * b) / (43 * s + voxel)) ** 2
             + ((z + 0.29 * H) / (50 * s + voxel)) ** 2) <= 1.0
    masks["aorta"] = (labels == LABELS["blood_pool"]) & ~heart
    spine = (np.hypot(x / (22 * s + voxel), (y - 0.6 * b) / (20 * s + voxel)) <= 1.0) & np.isin(
        labels, [LABELS["bone"], LABELS["bone_marrow"]])
    edges = np.linspace(-LUMBAR_TOP * H, -LUMBAR_BOTTOM * H, 6)
    for n in range(5):
        masks[f"vertebrae_L{n + 1}"] = spine & (z <= edges[n]) & (z > edges[n + 1])
    masks["liver"] = labels == LABELS["liver"]
    masks["spleen"] = labels == LABELS["spleen"]
    kidneys, lungs, muscle = (labels == LABELS[k] for k in ("kidneys", "lungs", "muscle"))
    masks["kidney_left"], masks["kidney_right"] = kidneys & left, kidneys & ~left
    masks["lung_left"], masks["lung_right"] = lungs & left, lungs & ~left
    masks["brain"] = labels == LABELS["brain"]
    psoas = muscle & (z <= -0.37 * H) & (z >= -0.47 * H) & (y < 0.7 * b)
    gluteus = muscle & (z <= -0.485 * H) & (z >= -0.53 * H)
    masks["iliopsoas_left"], masks["iliopsoas_right"] = psoas & left, psoas & ~left
    masks["gluteus_maximus_left"], masks["gluteus_maximus_right"] = gluteus & left, gluteus & ~left
    return {name: np.broadcast_to(mask, labels.shape).copy() for name, mask in masks.items()}


def _cropped(mask: np.ndarray, affine: np.ndarray, margin: int = 2) -> Image:
    """The mask cut to its bounding box (plus ``margin`` voxels), with the affine moved to match."""
    nonzero = np.argwhere(mask)
    if nonzero.size == 0:
        return Image(mask.astype(np.uint8), affine, "mask")
    lo = np.maximum(nonzero.min(axis=0) - margin, 0)
    hi = np.minimum(nonzero.max(axis=0) + margin + 1, mask.shape)
    moved = affine.copy()
    moved[:3, 3] = affine[:3, :3] @ lo + affine[:3, 3]
    return Image(mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.uint8), moved, "mask")


def write_segmenter_output(folder: Path, phantom, scan_affine: np.ndarray, grid=None) -> list[Path]:  # noqa: ANN001
    """Write one ``<organ>.nii.gz`` (uint8 0/1) per organ in the scan's patient frame; returns the files.

    The organs are cut in the phantom frame and, when the scan has its own ``grid`` (the
    :class:`~immunopet.simulate.phantom.ScanPhantom` of a scan whose patient lay otherwise that day,
    :mod:`immunopet.simulate.pose`), resampled onto that grid through the lookup that made the scan's
    own labels (nearest neighbour through the pose). Each file covers its organ's bounding box on the
    scan's grid (same voxels and orientation, the origin moved), which keeps the folder small; readers
    map masks through patient coordinates.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    masks = organ_masks(phantom)
    if grid is not None:
        scan_affine = grid.affine
        masks = {name: grid.take(mask, False) for name, mask in masks.items()}
    for name, mask in masks.items():
        path = folder / f"{name}.nii.gz"
        nibabel.save(_cropped(mask, scan_affine).to_nifti(), path)
        written.append(path)
    return written
