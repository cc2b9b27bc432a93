"""Turn a DICOM dataset into :class:`~immunopet.dicom.geometry.Frame` records.

Classic single-frame images carry their geometry and rescale at the top level; enhanced
(multi-frame) images carry them in the Shared and Per-frame Functional Groups Sequences, one item
per frame. Both end up as one :class:`Frame` per 2-D image with its own position and rescale.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from immunopet.dicom.geometry import IOP, IPP, PIXEL_SPACING, Frame
from immunopet.dicom.header import date_time_of, float_of, floats_of, label, parse_dt, raw_text
from immunopet.errors import DicomError
from immunopet.safe_text import safe_text


def _required(value: Any, file: str, attribute: str) -> Any:
    if value is None or (hasattr(value, "__len__") and len(value) == 0):
        raise DicomError(
            "image attribute missing or empty", file=file, attribute=attribute,
            fix="the file is not a complete image; remove it from the series folder",
        )
    return value


def _vector(values: Any, n: int, file: str, attribute: str, *, positive: bool = False) -> np.ndarray:
    """``values`` as ``n`` finite floats (all > 0 if ``positive``), else a DicomError naming it."""
    _required(values, file, attribute)
    try:
        vector = np.asarray([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        vector = np.full(0, np.nan)
    if vector.shape != (n,) or not np.isfinite(vector).all() or (positive and (vector <= 0).any()):
        shown = safe_text("\\".join(str(v) for v in values), max_length=80)
        raise DicomError(
            f"{attribute} must hold {n} finite{' positive' if positive else ''} numbers, not {shown!r}",
            file=file, attribute=attribute, fix="the header is damaged; remove the file or repair the attribute",
        )
    return vector


def _size(ds: Dataset, keyword: str, file: str, attribute: str) -> int:
    """Rows or Columns as a positive integer (an empty image cannot be assembled)."""
    value = _required(ds.get(keyword), file, attribute)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise DicomError(f"{attribute} is {safe_text(value, max_length=40)!r}: an image needs at least one",
                         file=file, attribute=attribute, fix="the header is damaged; remove the file")
    return number


def _rescale(source: Dataset | None, file: str) -> tuple[float | None, float]:
    """(RescaleSlope or ``None`` when absent, RescaleIntercept or 0); unreadable values are errors."""
    slope = _scalar(source, "RescaleSlope", file) if source is not None else None
    intercept = _scalar(source, "RescaleIntercept", file) if source is not None else None
    return slope, 0.0 if intercept is None else intercept


def _scalar(ds: Dataset, keyword: str, file: str) -> float | None:
    text = raw_text(ds, keyword)
    if text is None:
        return None
    value = float_of(ds, keyword)
    if value is None or not math.isfinite(value):
        raise DicomError(f"{label(keyword)} {safe_text(text, max_length=40)!r} is not a finite number",
                         file=file, attribute=label(keyword), fix="repair the attribute or remove the file")
    return value


#: Largest plausible frame duration / frame reference time (ms): 10 days, far beyond any PET frame.
MAX_TIMING_MS = 10 * 86400 * 1000.0


def _timing(ds: Dataset | None, keyword: str, file: str) -> float | None:
    """ActualFrameDuration / FrameReferenceTime in ms: ``None`` when absent, an error when unusable."""
    if ds is None:
        return None
    value = _scalar(ds, keyword, file)
    if value is not None and not 0.0 <= value <= MAX_TIMING_MS:
        raise DicomError(f"{label(keyword)} {value:g} ms is outside 0-{MAX_TIMING_MS:g} ms", file=file,
                         attribute=label(keyword), fix="repair the attribute or remove the file")
    return value


def frame_count(ds: Dataset, file: str) -> int:
    """NumberOfFrames (0028,0008) as a positive integer (1 when absent)."""
    text = raw_text(ds, "NumberOfFrames")
    if text is None:
        return 1
    try:
        number = int(float(text))
    except ValueError:
        number = 0
    if number < 1 or number != float(text):
        raise DicomError(f"NumberOfFrames {safe_text(text, max_length=40)!r} is not a positive integer", file=file,
                         attribute="NumberOfFrames (0028,0008)", fix="repair the attribute or remove the file")
    return number


def _classic_frame(ds: Dataset, file: str) -> Frame:
    position = _vector(floats_of(ds, "ImagePositionPatient") or raw_text(ds, "ImagePositionPatient"), 3, file, IPP)
    orientation = _vector(floats_of(ds, "ImageOrientationPatient") or raw_text(ds, "ImageOrientationPatient"),
                          6, file, IOP)
    spacing = _vector(floats_of(ds, "PixelSpacing") or raw_text(ds, "PixelSpacing"), 2, file, PIXEL_SPACING,
                      positive=True)
    slope, intercept = _rescale(ds, file)
    return Frame(
        file=file, index=None, ds=ds,
        position=position,
        orientation=orientation,
        pixel_spacing=(float(spacing[0]), float(spacing[1])),
        rows=_size(ds, "Rows", file, "Rows (0028,0010)"),
        columns=_size(ds, "Columns", file, "Columns (0028,0011)"),
        slope=slope,
        intercept=intercept,
        acquisition=date_time_of(ds, "Acquisition"),
        duration_ms=_timing(ds, "ActualFrameDuration", file),
        frame_reference_ms=_timing(ds, "FrameReferenceTime", file),
    )


def _group(item: Dataset | None, shared: Dataset | None, sequence: str) -> Dataset | None:
    """The first item of a functional-group macro, per-frame first, then shared."""
    for source in (item, shared):
        if source is not None and sequence in source and len(source[sequence].value):
            return source[sequence].value[0]
    return None


def _real_world(item: Dataset | None, shared: Dataset | None) -> Dataset | None:
    """A Real World Value Mapping item as a rescale (RealWorldValueSlope/Intercept), if any."""
    mapping = _group(item, shared, "RealWorldValueMappingSequence")
    if mapping is None or "RealWorldValueSlope" not in mapping:
        return None
    rescale = Dataset()
    rescale.RescaleSlope = mapping.RealWorldValueSlope
    rescale.RescaleIntercept = mapping.get("RealWorldValueIntercept", 0.0)
    return rescale


def _enhanced_frames(ds: Dataset, file: str) -> list[Frame]:
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    n = frame_count(ds, file)
    if per_frame is None or len(per_frame) != n:
        raise DicomError(
            f"multi-frame image without one PerFrameFunctionalGroupsSequence item per frame ({n})",
            file=file, attribute="PerFrameFunctionalGroupsSequence (5200,9230)",
            fix="convert the file to classic single-frame images (e.g. with dcm2niix or emf2sf)",
        )
    rows, columns = _size(ds, "Rows", file, "Rows (0028,0010)"), _size(ds, "Columns", file, "Columns (0028,0011)")
    frames = []
    for index, item in enumerate(per_frame):
        where = f"{file} (frame {index + 1})"
        plane = _group(item, shared, "PlanePositionSequence")
        orient = _group(item, shared, "PlaneOrientationSequence")
        measures = _group(item, shared, "PixelMeasuresSequence")
        transform = _group(item, shared, "PixelValueTransformationSequence") or _real_world(item, shared)
        content = _group(item, shared, "FrameContentSequence")
        position = _vector(plane.get("ImagePositionPatient") if plane else None, 3, where, IPP)
        orientation = _vector(orient.get("ImageOrientationPatient") if orient else None, 6, where, IOP)
        spacing = _vector(measures.get("PixelSpacing") if measures else None, 2, where, PIXEL_SPACING, positive=True)
        slope, intercept = _rescale(transform if transform else ds, where)
        acquisition = parse_dt(content.get("FrameAcquisitionDateTime")) if content else None
        duration = float_of(content, "FrameAcquisitionDuration") if content else None
        frames.append(
            Frame(
                file=file, index=index, ds=ds,
                position=position, orientation=orientation,
                pixel_spacing=(float(spacing[0]), float(spacing[1])),
                rows=rows, columns=columns, slope=slope, intercept=intercept,
                acquisition=acquisition or date_time_of(ds, "Acquisition"),
                duration_ms=duration if duration is not None else _timing(ds, "ActualFrameDuration", file),
                frame_reference_ms=_timing(ds, "FrameReferenceTime", file),
            )
        )
    return frames


def is_enhanced(ds: Dataset, file: str = "") -> bool:
    return "PerFrameFunctionalGroupsSequence" in ds or frame_count(ds, file) > 1


def frames_of(ds: Dataset, file: str) -> list[Frame]:
    """All 2-D frames a dataset holds, with geometry, rescale and timing."""
    return _enhanced_frames(ds, file) if is_enhanced(ds, file) else [_classic_frame(ds, file)]
