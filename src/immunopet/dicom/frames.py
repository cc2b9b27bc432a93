"""Turn a DICOM dataset into :class:`~immunopet.dicom.geometry.Frame` records.

Classic single-frame images carry their geometry and rescale at the top level; enhanced
(multi-frame) images carry them in the Shared and Per-frame Functional Groups Sequences, one item
per frame. Both end up as one :class:`Frame` per 2-D image with its own position and rescale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from immunopet.dicom.geometry import IOP, IPP, PIXEL_SPACING, Frame
from immunopet.dicom.header import date_time_of, float_of, floats_of, parse_dt
from immunopet.errors import DicomError


def _required(value: Any, file: str, attribute: str) -> Any:
    if value is None or (hasattr(value, "__len__") and len(value) == 0):
        raise DicomError(
            "image attribute missing or empty", file=file, attribute=attribute,
            fix="the file is not a complete image; remove it from the series folder",
        )
    return value


def _classic_frame(ds: Dataset, file: str) -> Frame:
    position = _required(floats_of(ds, "ImagePositionPatient"), file, IPP)
    orientation = _required(floats_of(ds, "ImageOrientationPatient"), file, IOP)
    spacing = _required(floats_of(ds, "PixelSpacing"), file, PIXEL_SPACING)
    slope = float_of(ds, "RescaleSlope")
    intercept = float_of(ds, "RescaleIntercept")
    return Frame(
        file=file, index=None, ds=ds,
        position=np.asarray(position, dtype=np.float64),
        orientation=np.asarray(orientation, dtype=np.float64),
        pixel_spacing=(spacing[0], spacing[1]),
        rows=int(_required(ds.get("Rows"), file, "Rows (0028,0010)")),
        columns=int(_required(ds.get("Columns"), file, "Columns (0028,0011)")),
        slope=1.0 if slope is None else slope,
        intercept=0.0 if intercept is None else intercept,
        acquisition=date_time_of(ds, "Acquisition"),
        duration_ms=float_of(ds, "ActualFrameDuration"),
        frame_reference_ms=float_of(ds, "FrameReferenceTime"),
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
    n = int(ds.get("NumberOfFrames", 1))
    if per_frame is None or len(per_frame) != n:
        raise DicomError(
            f"multi-frame image without one PerFrameFunctionalGroupsSequence item per frame ({n})",
            file=file, attribute="PerFrameFunctionalGroupsSequence (5200,9230)",
            fix="convert the file to classic single-frame images (e.g. with dcm2niix or emf2sf)",
        )
    frames = []
    for index, item in enumerate(per_frame):
        where = f"{file} (frame {index + 1})"
        plane = _group(item, shared, "PlanePositionSequence")
        orient = _group(item, shared, "PlaneOrientationSequence")
        measures = _group(item, shared, "PixelMeasuresSequence")
        transform = _group(item, shared, "PixelValueTransformationSequence") or _real_world(item, shared)
        content = _group(item, shared, "FrameContentSequence")
        position = _required(plane.get("ImagePositionPatient") if plane else None, where, IPP)
        orientation = _required(orient.get("ImageOrientationPatient") if orient else None, where, IOP)
        spacing = _required(measures.get("PixelSpacing") if measures else None, where, PIXEL_SPACING)
        slope = float_of(transform, "RescaleSlope") if transform else float_of(ds, "RescaleSlope")
        intercept = float_of(transform, "RescaleIntercept") if transform else float_of(ds, "RescaleIntercept")
        acquisition = parse_dt(content.get("FrameAcquisitionDateTime")) if content else None
        duration = float_of(content, "FrameAcquisitionDuration") if content else None
        frames.append(
            Frame(
                file=file, index=index, ds=ds,
                position=np.asarray([float(v) for v in position]),
                orientation=np.asarray([float(v) for v in orientation]),
                pixel_spacing=(float(spacing[0]), float(spacing[1])),
                rows=int(ds.Rows), columns=int(ds.Columns),
                slope=1.0 if slope is None else slope,
                intercept=0.0 if intercept is None else intercept,
                acquisition=acquisition or date_time_of(ds, "Acquisition"),
                duration_ms=duration if duration is not None else float_of(ds, "ActualFrameDuration"),
                frame_reference_ms=float_of(ds, "FrameReferenceTime"),
            )
        )
    return frames


def is_enhanced(ds: Dataset) -> bool:
    return "PerFrameFunctionalGroupsSequence" in ds or int(ds.get("NumberOfFrames", 1) or 1) > 1


def frames_of(ds: Dataset, file: str) -> list[Frame]:
    """All 2-D frames a dataset holds, with geometry, rescale and timing."""
    return _enhanced_frames(ds, file) if is_enhanced(ds) else [_classic_frame(ds, file)]
