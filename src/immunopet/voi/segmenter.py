"""Organ VOIs from an automatic segmenter's output folder (TotalSegmentator, MOOSE).

Such tools write one binary NIfTI per organ (``liver.nii.gz``, ``spleen.nii.gz``, ...), usually on
the CT grid. Each file becomes one VOI named after its stem, mapped onto the PET grid through
patient coordinates (nearest neighbour). Files that are empty, or whose organ lies outside the PET
field of view, are left out with a warning unless the organ was asked for in ``organs``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi.labelmap import label_image_to_masks
from immunopet.voi.nifti_masks import file_stem

log = logging.getLogger(__name__)


def organ_files(folder: str | Path) -> dict[str, Path]:
    """Organ name (file stem) -> NIfTI file, for every ``*.nii``/``*.nii.gz`` in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VOIError("segmenter output folder not found", file=folder,
                       fix="give the folder holding liver.nii.gz etc.")
    files = {file_stem(p): p for p in sorted(folder.iterdir()) if p.name.lower().endswith((".nii", ".nii.gz"))
             and p.is_file()}  # regular files only: a FIFO or device would block the read
    if not files:
        raise VOIError("no NIfTI files in the segmenter output folder", file=folder,
                       fix="point at the per-organ output")
    return files


def masks_from_segmenter(
    folder: str | Path,
    grid: Image,
    *,
    organs: Sequence[str] | None = None,
    fractional: bool = False,
) -> dict[str, np.ndarray]:
    """Masks on ``grid`` for the organs in a segmenter's output folder.

    Parameters
    ----------
    folder
        Folder with one binary NIfTI per organ.
    grid
        The PET grid.
    organs
        Organ names (file stems) to take; all files when None or empty.
    fractional
        Partial-volume fractions instead of booleans.
    """
    files = organ_files(folder)
    organs = list(organs) if organs else None  # None or empty: every organ file
    if organs is not None:
        unknown = [o for o in organs if o not in files]
        if unknown:
            raise VOIError(
                f"organ(s) {unknown} not in the segmenter folder (has: {', '.join(sorted(files))})",
                file=folder, attribute="organs",
            )
        files = {o: files[o] for o in organs}
    requested = organs is not None
    masks: dict[str, np.ndarray] = {}
    for name, path in files.items():
        source = Image.from_nifti(str(path), dtype=None)
        binary = Image((source.array > 0).astype(np.uint8), source.affine, "mask")
        if not binary.array.any():
            if requested:
                raise VOIError(f"organ mask {name!r} is empty", file=path)
            log.warning("%s: empty organ mask; left out", path)
            continue
        masks.update(
            label_image_to_masks(binary, grid, {1: name}, requested=requested, fractional=fractional, file=str(path))
        )
    return masks
