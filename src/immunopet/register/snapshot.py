"""A coronal snapshot of one registration, for the report's checkerboard figure.

At registration time both images are in memory; the report should not read two CTs per scan again
to show how well they line up. So the registration job keeps one coronal plane of the measured
scan (fixed) and the same plane of the reference scan resampled onto it without (``before``) and with
(``after``) the transform, written as ``registration/<scan_id>.snapshot.npz`` next to the transform.
The plane is the coronal row of the fixed image with the most body voxels (through the trunk, not
an edge of the field of view), taken from the fixed image in patient orientation
(:func:`immunopet.projection.canonical_lps`). Arrays are ``(I, K)``: patient right to left, foot to head.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from immunopet.image import Image

if TYPE_CHECKING:
    import SimpleITK

#: Value of resampled pixels outside the reference image (shown as background).
OUTSIDE = np.nan


def snapshot_path(transform_path: str | os.PathLike[str]) -> Path:
    """``registration/P01_D2.snapshot.npz`` beside ``registration/P01_D2.tfm``."""
    path = Path(transform_path)
    return path.with_name(path.stem + ".snapshot.npz")


def _coronal_row(fixed: Image, modality: str) -> int:
    from immunopet.register.quality import body_mask

    body = body_mask(np.asarray(fixed.array), modality)
    counts = body.sum(axis=(0, 2))
    return int(np.argmax(counts)) if counts.any() else fixed.shape[1] // 2


def coronal_snapshot(fixed: Image, moving: Image, transform: SimpleITK.Transform, *, modality: str) -> dict[str, np.ndarray]:
    """``fixed``, ``before`` and ``after`` planes ``(I, K)`` and the plane's ``spacing_mm`` (I, K)."""
    import SimpleITK as sitk

    from immunopet.projection import canonical_lps

    fixed = canonical_lps(fixed)  # patient right at I = 0, feet at K = 0, whatever the scan's orientation
    row = _coronal_row(fixed, modality)
    plane = fixed.to_sitk()[:, row:row + 1, :]  # one coronal row, its physical position kept
    source = moving.with_array(np.asarray(moving.array, dtype=np.float32)).to_sitk()
    out = {"fixed": np.asarray(fixed.array, dtype=np.float32)[:, row, :]}
    for name, tx in (("before", sitk.Transform(3, sitk.sitkIdentity)), ("after", transform)):
        resampled = sitk.Resample(source, plane, tx, sitk.sitkLinear, float(OUTSIDE), sitk.sitkFloat32)
        out[name] = sitk.GetArrayFromImage(resampled)[:, 0, :].T  # (K, 1, I) -> (I, K)
    out["spacing_mm"] = np.asarray([fixed.spacing[0], fixed.spacing[2]], dtype=np.float64)
    return out


def write_snapshot(snapshot: dict[str, np.ndarray], path: str | os.PathLike[str]) -> Path:
    """Write the snapshot (float16 planes: display only) through a temporary name and a rename."""
    from immunopet.atomic import atomic_write

    arrays = {k: (v.astype(np.float16) if v.ndim == 2 else v) for k, v in snapshot.items()}
    return atomic_write(Path(path), lambda partial: np.savez_compressed(partial, **arrays), keep_suffix=True)


def read_snapshot(path: str | os.PathLike[str]) -> dict[str, np.ndarray] | None:
    """The snapshot at ``path`` as float32 planes, or None when it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            planes = {k: np.asarray(data[k], dtype=np.float32 if k != "spacing_mm" else np.float64)
                      for k in ("fixed", "before", "after", "spacing_mm")}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # a damaged or foreign file
        return None
    shapes = {planes[k].shape for k in ("fixed", "before", "after")}
    if len(shapes) != 1 or planes["fixed"].ndim != 2 or planes["spacing_mm"].shape != (2,):
        return None
    return planes
