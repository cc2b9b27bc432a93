"""Turn a label image on any grid into named masks on the PET grid, with field-of-view checks.

Shared by the NIfTI, SEG and segmenter-folder sources. Rules:

- a label whose source voxels all lie outside the PET field of view, or that covers no PET voxel
  after resampling, raises :class:`VOIError` when it was asked for by name or number, and is left
  out with a logged warning when it was only found in the file;
- a label partly outside the field of view is kept, with a warning giving the fraction lost.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi.resample import fraction_inside, resample_fractions, resample_nearest

log = logging.getLogger(__name__)


def label_image_to_masks(
    source: Image,
    grid: Image,
    names: Mapping[int, str],
    *,
    requested: bool,
    fractional: bool = False,
    file: str | None = None,
) -> dict[str, np.ndarray]:
    """Masks (bool, or float32 fractions when ``fractional``) on ``grid`` for each label in ``names``.

    Parameters
    ----------
    source
        Integer label image (0 = background) on its own grid.
    grid
        The PET grid.
    names
        Label value -> VOI name, for the labels wanted.
    requested
        Whether the user asked for these labels explicitly (errors) or they were found (warnings).
    fractional
        Partial-volume fractions instead of nearest-neighbour booleans.
    file
        The source file, for messages.
    """
    labels = sorted(int(v) for v in names)
    inside = fraction_inside(source, grid, labels)
    if fractional:
        resampled = resample_fractions(source, grid, labels)
    else:
        resampled = masks_of_labels(resample_nearest(source, grid), labels)
    masks: dict[str, np.ndarray] = {}
    for label in labels:
        name = names[label]
        problem = None
        if inside[label] == 0.0:
            problem = "lies entirely outside the PET field of view"
        elif not resampled[label].any():
            problem = "covers no PET voxel after resampling (smaller than a PET voxel?)"
        if problem:
            message = f"VOI {name!r} (label {label}) {problem}"
            if requested:
                raise VOIError(message, file=file, fix="check that the mask belongs to this PET scan")
            log.warning("%s: %s; left out", file or "mask", message)
            continue
        if inside[label] < 0.999:
            log.warning(
                "%s: VOI %r: %.1f %% of its voxels lie outside the PET field of view",
                file or "mask", name, 100 * (1 - inside[label]),
            )
        masks[name] = resampled[label]
    return masks


def masks_of_labels(label_map: np.ndarray, labels: list[int]) -> dict[int, np.ndarray]:
    """``{label: label_map == label}``, each compared only inside the label's bounding box.

    One pass finds every box (:func:`scipy.ndimage.find_objects`); a whole-body label map with
    tens of labels is then not compared once per label, and the untouched zero pages of each
    mask are never written (so not resident).
    """
    from scipy import ndimage

    boxes = ndimage.find_objects(label_map, max_label=max(labels, default=0))
    masks: dict[int, np.ndarray] = {}
    for label in labels:
        mask = np.zeros(label_map.shape, dtype=bool)
        box = boxes[label - 1] if 0 < label <= len(boxes) else None
        if box is not None:
            mask[box] = label_map[box] == label
        masks[label] = mask
    return masks


def present_labels(array: np.ndarray, *, file: str | None = None) -> list[int]:
    """Non-zero label values in an integer-valued array (raises for non-integer or negative values)."""
    if np.issubdtype(array.dtype, np.integer) and array.size and 0 <= array.min() and array.max() < 65536:
        counts = np.bincount(array.ravel(order="K").astype(np.intp, copy=False))  # faster than np.unique
        return [int(v) for v in np.flatnonzero(counts) if v != 0]
    values = np.unique(array)
    if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)) or np.any(values < 0):
        raise VOIError(
            "mask holds values that are not non-negative integers; expected a label map or 0/1 mask",
            file=file,
            fix="threshold or round the mask to integer labels before using it as a VOI",
        )
    return [int(v) for v in values if v != 0]
