"""VOIs from DICOM SEG objects (binary or fractional), read with highdicom.

The segment volume comes from ``Segmentation.get_volume`` (highdicom's own geometry: array plus an
affine to the frame of reference, LPS mm) and is mapped onto the PET grid through patient
coordinates by nearest neighbour. Binary segments give boolean masks; fractional segments keep
their fractions (float32 in 0..1, nearest neighbour of the stored fractions). Names are the
segments' labels (SegmentLabel); segments can be chosen by label or number.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi.labelmap import label_image_to_masks
from immunopet.voi.resample import check_frame_of_reference, fraction_inside, resample_nearest

log = logging.getLogger(__name__)

#: De-identification Method of a SEG written by ``immunopet export`` without identifiers (its UIDs,
#: frame of reference included, are replaced, so it does not lie on the original PET).
PSEUDONYMOUS_EXPORT = "immunopet export: pseudonymous"


def read_seg(path: str | Path):
    """The SEG as a ``highdicom.seg.Segmentation`` (raises :class:`VOIError` if not readable)."""
    import highdicom as hd

    from immunopet.dicom.files import require_regular_file

    require_regular_file(path, error=VOIError)
    try:
        return hd.seg.segread(str(path))
    except Exception as bad:
        raise VOIError(f"cannot read DICOM SEG ({bad})", file=path, fix="give a DICOM Segmentation object") from bad


def segment_names(seg) -> dict[int, str]:
    """Segment number -> segment label."""
    return {int(n): str(seg.get_segment_description(n).segment_label) for n in seg.segment_numbers}


def _choose(names: dict[int, str], segments: Sequence[int | str] | None, path: str | Path) -> dict[int, str]:
    if not segments:  # None or empty: every segment
        return names
    chosen = {}
    for s in segments:
        if isinstance(s, (int, np.integer)) or str(s).isdigit():
            number = int(s)
        else:
            found = [n for n, label in names.items() if label == s] or [
                n for n, label in names.items() if label.lower() == str(s).lower()]
            number = found[0] if found else -1
        if number not in names:
            raise VOIError(f"segment {s!r} not in the SEG (has: {names})", file=path,
                           attribute="SegmentLabel (0062,0005) / SegmentNumber (0062,0004)")
        chosen[number] = names[number]
    return chosen


def masks_from_seg(
    path: str | Path, grid: Image, *, segments: Sequence[int | str] | None = None
) -> dict[str, np.ndarray]:
    """Masks on ``grid`` for the segments of a DICOM SEG (all, or those given by number or label)."""
    seg = read_seg(path)
    try:
        check_frame_of_reference(getattr(seg, "FrameOfReferenceUID", None), grid, what="SEG", file=str(path))
    except VOIError as elsewhere:
        if str(seg.get("DeidentificationMethod", "")).startswith(PSEUDONYMOUS_EXPORT):
            raise VOIError("this SEG was exported with pseudonymous UIDs: it cannot be placed on the original PET",
                           file=path, attribute="FrameOfReferenceUID (0020,0052)",
                           fix="export again with `immunopet export --include-identifiers`") from elsewhere
        raise
    wanted = _choose(segment_names(seg), segments, path)
    fractional = str(seg.SegmentationType) == "FRACTIONAL"
    masks: dict[str, np.ndarray] = {}
    for number, name in wanted.items():
        try:
            volume = seg.get_volume(segment_numbers=[number], combine_segments=False, rescale_fractional=True)
        except Exception as bad:
            raise VOIError(f"segment {name!r}: frames do not form a regular volume ({bad})", file=path,
                           attribute="PerFrameFunctionalGroupsSequence") from bad
        array = np.asarray(volume.array)
        if array.ndim == 4:
            array = array[..., 0]
        source = Image(array, np.asarray(volume.affine), "mask")
        if not fractional:
            binary = Image((array > 0).astype(np.uint8), source.affine, "mask")
            masks.update(label_image_to_masks(binary, grid, {1: name}, requested=bool(segments), file=str(path)))
            continue
        values = resample_nearest(Image(array.astype(np.float32), source.affine), grid)
        inside = fraction_inside(Image((array > 0).astype(np.uint8), source.affine), grid, [1])[1]
        if not np.any(values > 0):
            raise VOIError(f"segment {name!r} covers no PET voxel (outside the field of view?)", file=path)
        if inside < 0.999:
            log.warning("%s: segment %r: %.1f %% of its voxels lie outside the PET field of view",
                        path, name, 100 * (1 - inside))
        masks[name] = values
    return masks
