"""Series discovery: walk a folder, read headers only, group files into series.

Files are found recursively with or without a ``.dcm`` suffix; no DICOMDIR is needed (a DICOMDIR
file itself is skipped). Only the attributes listed in :data:`HEADER_TAGS` are parsed and pixel data
are never read, so tens of thousands of files are listed quickly. A file that cannot be read is
recorded in :attr:`Discovery.unreadable` with the reason; it never stops the walk.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from immunopet.dicom.files import walk_files
from immunopet.dicom.frames import frames_of
from immunopet.dicom.geometry import build_grid
from immunopet.dicom.header import date_time_of, parse_da, tag_of
from immunopet.dicom.plain_header import read_plain_header
from immunopet.errors import ImmunoPETError

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

#: Attributes read during discovery (everything else, pixel data included, is skipped).
HEADER_TAGS = [
    "SpecificCharacterSet", "SOPClassUID", "Modality", "PatientID", "StudyInstanceUID",
    "SeriesInstanceUID", "StudyDate", "SeriesDate", "SeriesTime", "SeriesDescription",
    "FrameOfReferenceUID", "Rows", "Columns", "PixelSpacing", "ImagePositionPatient",
    "ImageOrientationPatient", "NumberOfFrames", "SliceThickness", "SpacingBetweenSlices",
    "RescaleSlope", "RescaleIntercept", "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence", "InstanceNumber", "Units",
]
IMAGE_MODALITIES = {"PT", "CT", "MR", "NM"}


@dataclass
class SeriesInfo:
    """What discovery knows about one series (header-only).

    ``shape`` is ``(I, J, K)`` (columns, rows, slices), ``spacing`` in mm along those axes,
    ``orientation`` the six ImageOrientationPatient cosines; all ``None`` for non-image objects
    (RTSTRUCT, SEG without plane geometry...). ``unreadable`` lists ``(file, reason)`` for files
    of this series that could not be used; ``geometry_problem`` says why the slices do not form a
    regular volume (``None`` if they do).
    """

    modality: str
    patient_id: str | None
    study_uid: str | None
    series_uid: str
    study_date: date | None
    series_datetime: datetime | None
    description: str
    n_instances: int
    files: list[Path]
    frame_of_reference_uid: str | None = None
    shape: tuple[int, int, int] | None = None
    spacing: tuple[float, float, float] | None = None
    orientation: tuple[float, ...] | None = None
    units: str | None = None
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    geometry_problem: str | None = None
    #: The complete header of each of ``files`` (same order) when scanned with ``full_headers=True``.
    headers: list[Dataset] = field(default_factory=list, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary (paths as strings, dates ISO 8601)."""
        return {
            "modality": self.modality, "patient_id": self.patient_id, "study_uid": self.study_uid,
            "series_uid": self.series_uid,
            "study_date": self.study_date.isoformat() if self.study_date else None,
            "series_datetime": self.series_datetime.isoformat() if self.series_datetime else None,
            "description": self.description, "n_instances": self.n_instances,
            "frame_of_reference_uid": self.frame_of_reference_uid,
            "shape": list(self.shape) if self.shape else None,
            "spacing": [round(s, 6) for s in self.spacing] if self.spacing else None,
            "orientation": [round(o, 6) for o in self.orientation] if self.orientation else None,
            "units": self.units, "unreadable": [list(u) for u in self.unreadable],
            "geometry_problem": self.geometry_problem,
            "folder": os.path.commonpath([str(f) for f in self.files]) if self.files else None,
        }


@dataclass
class Discovery:
    """Result of a folder walk: the series found and the files that could not be read."""

    series: list[SeriesInfo]
    unreadable: list[tuple[str, str]]


@lru_cache(maxsize=8)
def _wanted(tags: tuple[int, ...]) -> frozenset[int]:
    return frozenset(tags)


def read_header(file: Path, tags: list[str] | None = None, *, complete: bool = False) -> Dataset:
    """Header of one file (no pixel data); raises ``InvalidDicomError``/``OSError`` if unreadable.

    Only ``tags`` (default :data:`HEADER_TAGS`) are parsed, or every attribute if ``complete``.
    """
    # tag numbers, not keywords: pydicom would look each keyword up again for every file
    specific = None if complete else [tag_of(keyword) for keyword in tags or HEADER_TAGS]
    if specific is not None:  # a plain file is parsed in memory, as pydicom would parse it
        plain = read_plain_header(file, _wanted(tuple(specific)))
        if plain is not None:
            return plain
    try:
        return pydicom.dcmread(file, stop_before_pixels=True, specific_tags=specific)
    except InvalidDicomError:
        ds = pydicom.dcmread(file, stop_before_pixels=True, specific_tags=specific, force=True)
        if "SeriesInstanceUID" not in ds:
            raise
        return ds


def _read(file: Path, complete: bool = False) -> tuple[Path, Dataset | None, str | None]:
    try:
        ds = read_header(file, complete=complete)
    except InvalidDicomError:
        return file, None, "not a DICOM file"
    except Exception as error:  # noqa: BLE001 - any reader failure is reported, never fatal
        return file, None, f"cannot be read: {type(error).__name__}: {error}"
    if not ds.get("SeriesInstanceUID"):
        return file, None, "DICOM file without SeriesInstanceUID (0020,000E)"
    return file, ds, None


def _summarise(uid: str, items: list[tuple[Path, Dataset]], keep_headers: bool = False) -> SeriesInfo:
    first = items[0][1]
    info = SeriesInfo(
        modality=str(first.get("Modality", "") or "UNKNOWN"),
        patient_id=first.get("PatientID") or None,
        study_uid=first.get("StudyInstanceUID") or None,
        series_uid=uid,
        study_date=parse_da(first.get("StudyDate")),
        series_datetime=date_time_of(first, "Series"),
        description=str(first.get("SeriesDescription", "") or ""),
        n_instances=len(items),
        files=[f for f, _ in items],
        frame_of_reference_uid=first.get("FrameOfReferenceUID") or None,
        units=first.get("Units") or None,
        headers=[ds for _, ds in items] if keep_headers else [],
    )
    if "Rows" not in first or info.modality in {"RTSTRUCT", "SEG", "SR", "RTPLAN", "RTDOSE"}:
        return info
    frames = []
    for file, ds in items:
        try:
            frames.extend(frames_of(ds, str(file)))
        except ImmunoPETError as error:
            info.unreadable.append((str(file), error.message))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:  # damaged values
            info.unreadable.append((str(file), f"malformed header: {type(error).__name__}: {error}"))
    if not frames:
        return info
    info.orientation = tuple(float(v) for v in frames[0].orientation)
    try:
        grid = build_grid(frames)
    except ImmunoPETError as error:
        info.geometry_problem = str(error)
        first_frame = frames[0]
        info.shape = (first_frame.columns, first_frame.rows, len(frames))
        return info
    spacing = [float(v) for v in (abs(grid.affine[:3, :3]) ** 2).sum(axis=0) ** 0.5]
    info.shape, info.spacing = grid.shape, tuple(spacing)  # type: ignore[assignment]
    if grid.warnings:
        info.geometry_problem = "; ".join(grid.warnings)
    return info


def _summarise_safely(uid: str, items: list[tuple[Path, Dataset]], keep_headers: bool = False) -> SeriesInfo:
    """:func:`_summarise`, or a bare listing with the reason when a header value is damaged."""
    try:
        return _summarise(uid, items, keep_headers)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as error:
        info = SeriesInfo(modality="UNKNOWN", patient_id=None, study_uid=None, series_uid=uid, study_date=None,
                          series_datetime=None, description="", n_instances=len(items), files=[f for f, _ in items])
        info.geometry_problem = f"malformed header: {type(error).__name__}: {error}"
        return info


def read_all(read: Callable[[T], R], files: Sequence[T], *, workers: int = 1) -> Iterator[R]:
    """``read`` over ``files`` in order: in this thread, or in a thread pool when ``workers > 1``."""
    if workers <= 1:
        yield from map(read, files)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(read, files, chunksize=32)


def scan(path: str | os.PathLike[str], *, workers: int = 1, full_headers: bool = False) -> Discovery:
    """Walk ``path`` and group every DICOM file into series (header-only reads).

    With ``full_headers`` every attribute but the pixel data is parsed and each series keeps its
    files' headers in :attr:`SeriesInfo.headers` (``inspect`` reads the SUV inputs from them, so
    each file is opened once). Parsing holds the GIL, so threads (``workers > 1``) only pay on slow network file systems;
    on a local disk one thread is about twice as fast as four (``benchmarks/bench_dicom_load.py``).
    """
    if not Path(path).exists():
        raise ImmunoPETError("path does not exist", file=path, fix="give an existing folder or file")
    groups: dict[str, list[tuple[Path, Dataset]]] = defaultdict(list)
    files, unreadable = walk_files(path)
    read = partial(_read, complete=full_headers)
    for file, ds, problem in read_all(read, files, workers=workers):
        if ds is None:
            unreadable.append((str(file), problem or "unreadable"))
        else:
            groups[str(ds.SeriesInstanceUID)].append((file, ds))
    series = [_summarise_safely(uid, items, full_headers) for uid, items in groups.items()]
    series.sort(key=lambda s: (s.patient_id or "", s.series_datetime or datetime.min, s.modality, s.series_uid))
    for file, reason in unreadable:
        log.debug("skipped %s: %s", file, reason)
    return Discovery(series, unreadable)


def discover(path: str | os.PathLike[str]) -> list[SeriesInfo]:
    """Every series below ``path`` (PT, CT, RTSTRUCT, SEG, ...), from headers only.

    Unreadable files are logged; use :func:`scan` to get them listed.

    Examples
    --------
    >>> [s.modality for s in discover("../shared/data/tcia-sts-001-ge-fdg")]  # doctest: +SKIP
    ['PT', 'RTSTRUCT']
    """
    found = scan(path)
    if found.unreadable:
        log.debug("%d file(s) below %s are not readable DICOM (see `immunopet inspect`)", len(found.unreadable), path)
    return found.series
